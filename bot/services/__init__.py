"""Services: plain Python over the database and the knowledge base, no Telegram."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from bot.config import Settings
from bot.db import Database
from bot.services.answers import AnswerService
from bot.services.applications import ApplicationService
from bot.services.broadcasts import BroadcastService
from bot.services.calendar import OfficeCalendar
from bot.services.conversations import ConversationLookup
from bot.services.countries import CountryNames
from bot.services.documents import DocumentCatalog, DocumentService
from bot.services.importer import Importer
from bot.services.linking import LinkService
from bot.services.outbox import Outbox, RateLimits
from bot.services.pending import PendingMatcher
from bot.services.precheck import PrecheckKB, load_precheck_kb
from bot.services.presenters import Presenter
from bot.services.proposals import ProposalService
from bot.services.reminders import REMINDER_KIND, ReminderService
from bot.services.reports import (
    CommodityGroup,
    CommodityNames,
    ReportService,
    published_totals,
)
from bot.services.spikes import SpikeService
from bot.services.tickets import TicketService
from bot.services.users import UserService
from knowledge.loader import load_knowledge
from knowledge.matcher import Matcher


@dataclass
class Services:
    settings: Settings
    db: Database
    answers: AnswerService
    users: UserService
    links: LinkService
    applications: ApplicationService
    importer: Importer
    presenter: Presenter
    outbox: Outbox
    calendar: OfficeCalendar
    tickets: TicketService
    proposals: ProposalService
    reports: ReportService
    documents: DocumentService
    reminders: ReminderService
    broadcasts: BroadcastService
    conversations: ConversationLookup
    spikes: SpikeService
    precheck: PrecheckKB  # knowledge/hs_codes.yaml with the destinations, for /cek
    # `run` only: the matcher still to be built (bot/services/pending.py)
    pending_matcher: PendingMatcher | None = None

    def close(self) -> None:
        self.db.dispose()


def commodity_groups(precheck: PrecheckKB) -> CommodityNames:
    """The commodities of knowledge/hs_codes.yaml, for what officers type in /report."""
    return CommodityNames(CommodityGroup(c.id, c.name, c.aliases) for c in precheck.commodities.values())


def build_services(settings: Settings, migrate: bool = True, matcher_later: bool = False) -> Services:
    """Load the knowledge base once, open the database and bring its schema up to date.

    `matcher_later`: the matcher is built on first use or by `PendingMatcher.build`
    (`run` builds it while its first getUpdates waits)."""
    db = Database(settings.database_url)
    if migrate:
        db.migrate()
    # approved FAQ additions live in the database (learned_faq), loaded with the curated files
    proposals = ProposalService(db, settings.knowledge_dir, lambda _kb: None)
    kb = proposals.load() if migrate else load_knowledge(settings.knowledge_dir)
    pending = PendingMatcher(kb) if matcher_later else None
    # the stand-in answers for the Matcher until it is built
    answers = AnswerService(kb, db, settings, cast(Matcher, pending))
    proposals.on_reload = answers.reload
    proposals.words = dict(kb.normalize.get("words") or {})
    proposals.detect = lambda text: answers.classify(text).lang
    countries = CountryNames(answers.country_name)
    presenter = Presenter(settings.timezone, countries)
    applications = ApplicationService(db, presenter.status_change)
    calendar = OfficeCalendar(settings.office, settings.timezone)
    precheck = load_precheck_kb(settings.knowledge_dir, kb.countries)
    documents = DocumentService(db, DocumentCatalog.load(settings.knowledge_dir))
    tickets = TicketService(db, settings, calendar, presenter, answers.title)
    outbox = Outbox(
        db,
        RateLimits(
            settings.outbox.rate_per_second,
            settings.outbox.per_chat_per_second,
            settings.outbox.group_per_minute,
        ),
    )
    outbox.listeners.append(tickets.undelivered_reply)
    # messages queued before the card they reply to (or edit) was posted find it when sent
    outbox.resolvers["card"] = tickets.card_message
    outbox.on_sent["card"] = tickets.card_posted
    outbox.on_sent["upload"] = documents.card_posted
    reminders = ReminderService(
        db, documents, calendar, settings.reminders, settings.timezone, tickets.officer_chats()
    )
    outbox.holds[REMINDER_KIND] = reminders.not_before
    return Services(
        settings=settings,
        db=db,
        answers=answers,
        users=UserService(db, settings),
        links=LinkService(db, dt.timedelta(days=settings.link_code_days)),
        applications=applications,
        importer=Importer(applications, kb.countries, settings.timezone, documents),
        presenter=presenter,
        outbox=outbox,
        calendar=calendar,
        tickets=tickets,
        proposals=proposals,
        reports=ReportService(
            db,
            settings.timezone,
            countries,
            published_totals(kb),
            answers.title,
            commodity_groups(precheck),
        ),
        documents=documents,
        reminders=reminders,
        broadcasts=BroadcastService(db),
        conversations=ConversationLookup(db),
        spikes=SpikeService(
            db,
            settings.spikes,
            settings.officer_ids | settings.admin_ids,
            tickets.officer_chats(),
            lambda text: answers.matcher.normalize(text).tokens,
            answers.title,
        ),
        precheck=precheck,
        pending_matcher=pending,
    )
