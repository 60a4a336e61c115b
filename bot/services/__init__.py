"""Services: plain Python over the database and the knowledge base, no Telegram."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, cast

from bot.config import Settings
from bot.db import Database
from bot.services.answers import AnswerService
from bot.services.applications import ApplicationService
from bot.services.broadcasts import BroadcastService
from bot.services.calendar import OfficeCalendar
from bot.services.conversations import ConversationLookup
from bot.services.countries import CountryNames
from bot.services.documents import DocumentCatalog, DocumentService
from bot.services.intake import TicketIntake
from bot.services.linking import LinkService
from bot.services.outbox import Outbox, RateLimits
from bot.services.pending import PendingMatcher
from bot.services.precheck import PrecheckKB, PrecheckStore, load_precheck_kb
from bot.services.presenters import Presenter
from bot.services.proposals import ProposalService
from bot.services.reminders import REMINDER_KIND, ReminderService
from bot.services.spikes import SpikeService
from bot.services.tickets import TicketService
from bot.services.users import UserService
from knowledge.loader import load_knowledge

if TYPE_CHECKING:
    from bot.services.importer import Importer
    from bot.services.reports import CommodityNames, ReportService
    from knowledge.matcher import Matcher


@dataclass
class Services:
    settings: Settings
    db: Database
    answers: AnswerService
    users: UserService
    links: LinkService
    applications: ApplicationService
    presenter: Presenter
    outbox: Outbox
    calendar: OfficeCalendar
    tickets: TicketService
    proposals: ProposalService
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

    @cached_property
    def precheck_store(self) -> PrecheckStore:
        """The open /cek checks (one per exporter); tickets pause one when they open."""
        return PrecheckStore(self.db)

    @cached_property
    def intake(self) -> TicketIntake:
        """What an exporter hands to the officers: a ticket's question, its files."""
        return TicketIntake(self.answers, self.tickets)

    @cached_property
    def importer(self) -> Importer:
        """Applications from CSV and .xlsx files (`applications import`), built on first use."""
        from bot.services.importer import Importer  # here: `run` never imports a file

        kb = self.answers.kb
        tz = self.settings.timezone
        return Importer(self.applications, kb.countries, tz, self.documents, places=kb.places)

    @cached_property
    def reports(self) -> ReportService:
        """/report, /stats and the `report` commands, built on first use."""
        from bot.services.reports import ReportService, published_totals  # here: rare, and not small

        return ReportService(
            self.db,
            self.settings.timezone,
            self.presenter.country,
            published_totals(self.answers.kb),
            self.answers.title,
            commodity_groups(self.precheck),
        )


def commodity_groups(precheck: PrecheckKB) -> CommodityNames:
    """The commodities of knowledge/hs_codes.yaml, for what officers type in /report."""
    from bot.services.reports import CommodityGroup, CommodityNames  # here: see Services.reports

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
    answers = AnswerService(kb, db, settings, cast("Matcher", pending))
    proposals.on_reload = answers.reload
    proposals.words = dict(kb.normalize.get("words") or {})
    proposals.detect = lambda text: answers.classify(text).lang
    countries = CountryNames(answers.country_name)
    presenter = Presenter(settings.timezone, countries)
    applications = ApplicationService(db, presenter.status_change)
    calendar = OfficeCalendar(settings.office, settings.timezone)
    precheck = load_precheck_kb(settings.knowledge_dir, kb.countries, kb.places)
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
        presenter=presenter,
        outbox=outbox,
        calendar=calendar,
        tickets=tickets,
        proposals=proposals,
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
