"""The officer queue: tickets from exporters, worked by officers, nothing lost.

Every message a ticket change causes leaves through the outbox in the same transaction
as the change: replies, closing and rating to the exporter; the card, its edits, the
exporter's follow-ups and the SLA notices to the officers (their group, or each officer
in private when no group is configured). A change is therefore never announced without
being stored, nor stored without being announced.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import String, cast, exists, func, select, update
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import Database
from bot.i18n import t
from bot.models import Company, OutboxMessage, SkaApplication, Ticket, TicketMessage, User, utcnow
from bot.models import as_utc as _aware
from bot.services.applications import OPEN_STATUSES, label
from bot.services.calendar import OfficeCalendar
from bot.services.notemarks import visible
from bot.services.outbox import (
    PENDING,
    SENDING,
    SENT,
    UNREACHABLE,
    Keyboard,
    enqueue,
    replace_pending,
)
from bot.services.presenters import Presenter, esc
from bot.textsplit import TEXT_LIMIT, fit_caption, split_html, utf16_len

OPEN, CLAIMED, WAITING, CLOSED = "open", "claimed", "waiting", "closed"
ACTIVE = (OPEN, CLAIMED, WAITING)
# what TicketService.open did with a question
OPENED, ADDED, ALREADY = "opened", "added", "already"
# longer than the opening handler's own attempts to post a card (three, with timeouts)
CARD_GRACE = dt.timedelta(seconds=30)
GROUP_LANG = "id"  # the officers' group works in Indonesian
SLA_WARN_SHARE = 0.75
# the card shows this much of the question; a longer one follows the card in full
CARD_QUESTION_CHARS = 1500
NOTE_PREFIXES = ("//", "/note")
# the buttons of queued messages, rendered by the Telegram layer (bot/telegram/keyboards.py)
CARD_KEYBOARD, BACK_KEYBOARD, RATING_KEYBOARD = "ticket_card", "ticket_back", "ticket_rating"


def internal_note(text: str) -> str | None:
    """The note of an officer's answer that starts with // or /note, else None."""
    # a zero-width character in front (pasted text) must not hide the mark
    stripped = visible(text).strip()
    for prefix in NOTE_PREFIXES:
        if stripped[: len(prefix)].lower() == prefix:
            rest = stripped[len(prefix) :]
            if prefix == "/note" and rest[:1] not in ("", " ", "\n", "@"):
                continue  # /notes..., some other command
            if prefix == "/note" and rest[:1] == "@":
                rest = rest.partition(" ")[2]
            return rest.strip()
    return None


class TicketError(Exception):
    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class HistoryEntry:
    """One message of a ticket as officers read it back."""

    direction: str  # in (the exporter) | out (an officer's reply) | note (internal)
    author: str
    text: str
    at: dt.datetime


@dataclass(frozen=True)
class Attachment:
    """A file an exporter sent to a ticket, as its checks found it: `kind` photo or
    document, `type` what its content is (PDF, ...), `file_name` a safe name, `caption`
    the sender's caption as plain text."""

    kind: str
    type: str = ""
    file_name: str = ""
    caption: str = ""


@dataclass(frozen=True)
class TicketView:
    id: int
    user_id: int
    exporter: str
    company: str | None
    question: str
    status: str
    claimed_by: int | None
    claimed_by_name: str | None
    card_message_id: int | None
    bot_tried: list[tuple[str, float]]
    # what the exporter was shown before asking: answer, suggest, no_match,
    # ask_destination, direct (asked an officer straight away); None for old tickets
    bot_outcome: str | None
    created_at: dt.datetime
    summary: str | None
    rating: int | None
    attached: bool
    open_apps: list[str]
    exporter_lang: str
    # how many messages an officer's reply became (a long one is split)
    reply_parts: int = 1


def back_keyboard(lang: str) -> Keyboard:
    """[Back to the questions] under an officer's reply."""
    return Keyboard(BACK_KEYBOARD, {"lang": lang})


def rating_keyboard(ticket_id: int) -> Keyboard:
    """One to five stars under the closing message."""
    return Keyboard(RATING_KEYBOARD, {"ticket": ticket_id})


def _no_comment_awaited(s: Session, user_id: int) -> None:
    """The exporter's next text is no rating comment any more ("" marks one awaited)."""
    awaited = (Ticket.user_id == user_id, Ticket.rating_comment == "")
    s.execute(update(Ticket).where(*awaited).values(rating_comment=None))


class TicketService:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        calendar: OfficeCalendar,
        presenter: Presenter,
        titles: Callable[[str, str], str],
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.db = db
        self.settings = settings
        self.calendar = calendar
        self.presenter = presenter
        self.titles = titles  # topic id, lang -> title, for "what the bot tried"
        self.clock = clock
        self.sla = dt.timedelta(minutes=settings.tickets_first_response_minutes)

    # -- reading -------------------------------------------------------------------------

    def _view(self, s: Session, ticket: Ticket) -> TicketView:
        stored = json.loads(ticket.bot_tried or "[]")
        if isinstance(stored, dict):
            outcome, shown = stored.get("outcome"), stored.get("shown", [])
        else:  # tickets opened before the outcome was kept
            outcome, shown = None, stored
        shown = [(tid, score) for tid, score in shown]
        user = s.get(User, ticket.user_id)
        company = s.get(Company, ticket.company_id) if ticket.company_id else None
        apps: list[str] = []
        if company is not None:
            rows = s.scalars(
                select(SkaApplication)
                .where(SkaApplication.company_id == company.id, SkaApplication.status.in_(OPEN_STATUSES))
                .order_by(SkaApplication.id.desc())
                .limit(5)
            )
            apps = [f"{a.ref} ({label(a.status, GROUP_LANG)})" for a in rows]
        name = (user.first_name if user else "") or "?"
        if user is not None and user.username:
            name += f" (@{user.username})"
        return TicketView(
            id=ticket.id,
            user_id=ticket.user_id,
            exporter=name,
            company=company.name if company else None,
            question=ticket.question,
            status=ticket.status,
            claimed_by=ticket.claimed_by,
            claimed_by_name=ticket.claimed_by_name,
            card_message_id=ticket.card_message_id,
            bot_tried=shown,
            bot_outcome=outcome,
            created_at=_aware(ticket.created_at),
            summary=ticket.summary,
            rating=ticket.rating,
            attached=ticket.exporter_attached,
            open_apps=apps,
            exporter_lang=user.language if user else "id",
        )

    def get(self, ticket_id: int) -> TicketView | None:
        with self.db.session() as s:
            ticket = s.get(Ticket, ticket_id)
            return self._view(s, ticket) if ticket else None

    def active_for(self, user_id: int, attached_only: bool = True) -> TicketView | None:
        with self.db.session() as s:
            query = select(Ticket).where(Ticket.user_id == user_id, Ticket.status.in_(ACTIVE))
            if attached_only:
                query = query.where(Ticket.exporter_attached.is_(True))
            ticket = s.scalars(query.order_by(Ticket.id.desc())).first()
            return self._view(s, ticket) if ticket else None

    def ticket_of_message(self, message_id: int, chat_id: int | None = None) -> int | None:
        """The ticket a message of the bot's in an officers' chat is about (the group, or an
        officer's private chat): its card, a relayed follow-up, any part of either, an SLA
        notice."""
        chat_id = self.settings.officers_chat_id if chat_id is None else chat_id
        with self.db.session() as s:
            ref = s.scalar(
                select(OutboxMessage.ref)
                .where(
                    OutboxMessage.chat_id == chat_id,
                    OutboxMessage.telegram_message_id == message_id,
                    OutboxMessage.ref.like("ticket:%"),
                )
                .limit(1)
            )
            if ref is not None:
                return int(ref.partition(":")[2])
            if chat_id != self.settings.officers_chat_id:
                return None
            # cards and copies recorded before every group message went through the outbox
            found = s.scalar(select(Ticket.id).where(Ticket.card_message_id == message_id))
            if found is None:
                found = s.scalar(
                    select(TicketMessage.ticket_id).where(TicketMessage.group_message_id == message_id)
                )
            return found

    def queue(self) -> list[TicketView]:
        """Open tickets, unclaimed first, oldest first within each group."""
        with self.db.session() as s:
            rows = s.scalars(select(Ticket).where(Ticket.status.in_(ACTIVE)).order_by(Ticket.id))
            views = [self._view(s, r) for r in rows]
        return sorted(views, key=lambda v: (v.claimed_by is not None, v.id))

    def mine(self, officer_id: int) -> list[TicketView]:
        with self.db.session() as s:
            rows = s.scalars(
                select(Ticket)
                .where(Ticket.status.in_(ACTIVE), Ticket.claimed_by == officer_id)
                .order_by(Ticket.id)
            )
            return [self._view(s, r) for r in rows]

    def age(self, view: TicketView) -> str:
        minutes = int((self.clock() - view.created_at).total_seconds() // 60)
        return f"{minutes // 60}j{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"

    # -- rendering for the officers' group --------------------------------------------------

    def card_text(self, v: TicketView) -> str:
        lang = GROUP_LANG
        lines = [t("tk_card_title", lang, id=v.id, status=self.status_line(v))]
        who = esc(v.exporter) + (f" · {esc(v.company)}" if v.company else " · " + t("tk_card_unlinked", lang))
        lines.append(t("tk_card_exporter", lang, who=who))
        question = v.question
        if len(question) > CARD_QUESTION_CHARS:
            question = question[:CARD_QUESTION_CHARS].rstrip() + "…"
        lines.append(t("tk_card_question", lang, question=esc(question)))
        titles = ", ".join(f"«{esc(self.titles(tid, lang))}»" for tid, _ in v.bot_tried[:3])
        if v.bot_outcome in ("answer", "suggest") and titles:
            lines.append(t(f"tk_card_shown_{v.bot_outcome}", lang, titles=titles))
        elif v.bot_outcome in ("no_match", "ask_destination", "direct"):
            lines.append(t(f"tk_card_shown_{v.bot_outcome}", lang))
        else:
            lines.append(t("tk_card_tried", lang, tried=titles or "-"))
        if v.open_apps:
            lines.append(t("tk_card_apps", lang, apps=esc(", ".join(v.open_apps))))
        lines.append(t("tk_card_opened", lang, when=self.presenter.when(v.created_at)))
        if v.summary:
            lines.append(t("tk_card_summary", lang, summary=esc(v.summary)))
        if v.status != CLOSED:
            lines.append(t("tk_card_howto", lang, id=v.id))
        return "\n".join(lines)

    def status_line(self, v: TicketView) -> str:
        lang = GROUP_LANG
        if v.status == CLAIMED:
            return t("tk_state_claimed", lang, name=esc(v.claimed_by_name or "?"))
        if v.status == WAITING:
            return t("tk_state_waiting", lang, name=esc(v.claimed_by_name or "?"))
        if v.status == CLOSED:
            stars = f" ⭐{v.rating}" if v.rating else ""
            return t("tk_state_closed", lang) + stars
        return t("tk_state_open", lang)

    def card_keyboard(self, v: TicketView) -> Keyboard:
        """Claim and close; reopen and turn into an FAQ entry once closed."""
        return Keyboard(
            CARD_KEYBOARD,
            {
                "ticket": v.id,
                "closed": v.status == CLOSED,
                "claimed": v.claimed_by is not None,
                "lang": GROUP_LANG,
            },
        )

    # -- the exporter's side ---------------------------------------------------------------

    def open(
        self,
        user_id: int,
        question: str,
        bot_tried: list[tuple[str, float]],
        outcome: str = "direct",
        also: str | None = None,
    ) -> tuple[TicketView, str]:
        """A new ticket (OPENED), or the exporter's active one with the question added to
        it (ADDED); `also`: the exporter's words beside the question ("I want an officer,
        and ..."), added after it. What the active ticket already holds is not posted
        again: nothing new is ALREADY."""
        with self.db.session() as s:
            if not self.db.local:
                # two processes handling one exporter's two presses at once: the second
                # waits for the first one's ticket rather than opening another
                s.execute(select(func.pg_advisory_xact_lock(user_id)))
            # a rating comment still awaited would take the ticket's next text
            _no_comment_awaited(s, user_id)
            ticket = s.scalars(
                select(Ticket)
                .where(Ticket.user_id == user_id, Ticket.status.in_(ACTIVE))
                .order_by(Ticket.id.desc())
            ).first()
            texts = [question] + ([also] if also and also != question else [])
            if ticket is not None:
                ticket.exporter_attached = True
                held = set(
                    s.scalars(
                        select(TicketMessage.text).where(
                            TicketMessage.ticket_id == ticket.id,
                            TicketMessage.direction == "in",
                            TicketMessage.text.in_(texts),
                        )
                    )
                )
                new = [text for text in texts if text not in held]
                if not new:
                    return self._view(s, ticket), ALREADY
                before = ticket.status
                self._resume(ticket)
                view = self._view(s, ticket)
                for text in new:
                    s.add(TicketMessage(ticket_id=ticket.id, direction="in", author_id=user_id, text=text))
                    self._relay(s, view, text)
                if ticket.status != before:
                    self._queue_card(s, view)
                return view, ADDED
            user = s.get(User, user_id)
            ticket = Ticket(
                user_id=user_id,
                company_id=user.company_id if user else None,
                question=question,
                created_at=self.clock(),
                bot_tried=json.dumps(
                    {"outcome": outcome, "shown": [[tid, round(sc, 1)] for tid, sc in bot_tried]}
                ),
            )
            s.add(ticket)
            s.flush()
            for text in texts:
                s.add(
                    TicketMessage(
                        ticket_id=ticket.id,
                        direction="in",
                        author_id=user_id,
                        text=text,
                        created_at=self.clock(),
                    )
                )
            view = self._view(s, ticket)
            self._queue_card(s, view)
            if len(question) > CARD_QUESTION_CHARS:
                self._relay(s, view, question)
            for text in texts[1:]:
                self._relay(s, view, text)
            return view, OPENED

    def expectation(self, lang: str) -> str:
        """Honest: soon inside office hours, else the next opening time."""
        now = self.clock()
        if self.calendar.is_open(now):
            return t("tk_expect_open", lang)
        return t("tk_expect_closed", lang, when=self.presenter.when(self.calendar.next_opening(now)))

    def _resume(self, ticket: Ticket) -> None:
        """The exporter wrote again: a waiting ticket's clock runs again."""
        if ticket.status == WAITING and ticket.waiting_since is not None:
            ticket.paused_seconds = (ticket.paused_seconds or 0.0) + self.calendar.business_seconds_between(
                _aware(ticket.waiting_since), self.clock()
            )
            ticket.waiting_since = None
            ticket.status = CLAIMED if ticket.claimed_by else OPEN

    def add_exporter_message(
        self,
        ticket_id: int,
        user_id: int,
        text: str,
        media: tuple[int, int] | None = None,
        attachment: Attachment | None = None,
    ) -> TicketView:
        """A follow-up: stored, and queued for the officers in the same transaction (a
        text re-rendered and escaped; media, given as (chat id, message id), copied under
        our own caption, described by `attachment`)."""
        with self.db.session() as s:
            ticket = s.get(Ticket, ticket_id)
            if ticket is None or ticket.user_id != user_id or ticket.status == CLOSED:
                raise TicketError("tk_not_yours")
            before = ticket.status
            self._resume(ticket)
            s.add(
                TicketMessage(
                    ticket_id=ticket.id, direction="in", author_id=user_id, text=text, created_at=self.clock()
                )
            )
            view = self._view(s, ticket)
            self._relay(s, view, text, media, attachment)
            if ticket.status != before:  # the card shows the status, not the messages
                self._queue_card(s, view)
            return view

    # -- messages to the officers ------------------------------------------------------------

    def officer_chats(self) -> list[int]:
        """Where officers see tickets: their group, or each officer in private."""
        if self.settings.officers_chat_id is not None:
            return [self.settings.officers_chat_id]
        return sorted(self.settings.officer_ids)

    def _card_key(self, ticket_id: int, chat_id: int) -> str:
        return f"card:{ticket_id}:{chat_id}"

    def _queue_card(self, s: Session, view: TicketView) -> None:
        """The card shows the ticket as it is now: posted once, then edited; edits still
        waiting in the outbox are replaced, so a busy ticket costs one edit, not ten."""
        text, markup = self.card_text(view), self.card_keyboard(view)
        ref = f"ticket:{view.id}"
        for chat_id in self.officer_chats():
            key = self._card_key(view.id, chat_id)
            if replace_pending(s, key, text, markup) is not None:
                continue  # the post or the edit still waiting carries it
            posted = s.scalar(
                select(
                    exists().where(
                        OutboxMessage.coalesce_key == key,
                        OutboxMessage.method == "sendMessage",
                        OutboxMessage.status.in_((SENDING, SENT)),
                    )
                )
            )
            if posted and self._card_shows(s, key, text, markup):
                # an edit to the same text is refused by Telegram ("not modified") and
                # still spends one of the group's 20 messages a minute
                continue
            if posted:
                enqueue(
                    s,
                    chat_id,
                    text,
                    kind="card",
                    markup=markup,
                    method="editMessageText",
                    payload={"edit": {"card": view.id}},
                    coalesce_key=key,
                    ref=ref,
                )
            else:
                enqueue(
                    s,
                    chat_id,
                    text,
                    kind="card",
                    markup=markup,
                    payload={"on_sent": ["card", view.id]},
                    coalesce_key=key,
                    ref=ref,
                )

    @staticmethod
    def _card_shows(s: Session, key: str, text: str, markup: Keyboard | None) -> bool:
        """Whether the card as last sent (posted or edited) shows this text and buttons."""
        last = s.execute(
            select(OutboxMessage.text, OutboxMessage.reply_markup)
            .where(OutboxMessage.coalesce_key == key, OutboxMessage.status == SENT)
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        ).first()
        stored = markup.to_json() if markup is not None else None
        return last is not None and last.text == split_html(text)[0] and last.reply_markup == stored

    def _relay(
        self,
        s: Session,
        view: TicketView,
        text: str | None,
        media: tuple[int, int] | None = None,
        attachment: Attachment | None = None,
    ) -> None:
        ref = f"ticket:{view.id}"
        for chat_id in self.officer_chats():
            if media is not None:
                # a copy keeps the sender's caption and its formatting, shown as the bot's
                # own words: the copy carries our caption, saying whose file it is
                caption, rest = fit_caption(self._file_caption(view, attachment))
                enqueue(
                    s,
                    chat_id,
                    caption,
                    kind="relay",
                    method="copyMessage",
                    ref=ref,
                    payload={"from_chat_id": media[0], "message_id": media[1], "reply_to": {"card": view.id}},
                )
                for part in rest:
                    enqueue(s, chat_id, part, kind="relay", ref=ref, payload={"reply_to": {"card": view.id}})
            elif text is not None:
                line = t(
                    "tk_followup_in_group", GROUP_LANG, id=view.id, name=esc(view.exporter), text=esc(text)
                )
                if not self._join_waiting_relay(s, chat_id, ref, line):
                    enqueue(s, chat_id, line, kind="relay", ref=ref, payload={"reply_to": {"card": view.id}})

    @staticmethod
    def _join_waiting_relay(s: Session, chat_id: int, ref: str, line: str) -> bool:
        """Add a follow-up to the ticket's last relayed text when that one still waits in
        the outbox (the group is at its 20 a minute): a burst of short messages becomes
        one message, not twenty of the group's minute. Only the last row of the ticket's
        line, still pending and with room for it, takes it; the order stays as it was."""
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.ref == ref,
                OutboxMessage.status.in_((PENDING, SENDING)),
            )
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        if s.get_bind().dialect.name == "postgresql":
            # a claim that comes meanwhile waits for this transaction and sends the joined
            # text; one that came first left the row `sending`, which is not joined
            query = query.with_for_update()
        last = s.scalars(query).first()
        if (
            last is None
            or last.status != PENDING
            or last.kind != "relay"
            or last.method != "sendMessage"
            or last.attempts
            or utf16_len(last.text) + 1 + utf16_len(line) > TEXT_LIMIT
        ):
            return False
        last.text = f"{last.text}\n{line}"
        return True

    @staticmethod
    def _file_caption(view: TicketView, attachment: Attachment | None) -> str:
        caption = attachment.caption if attachment is not None else ""
        if attachment is None or attachment.kind == "photo":
            what = t("gd_what_photo", GROUP_LANG)
        else:
            what = t(
                "gd_what_document", GROUP_LANG, type=esc(attachment.type), file=esc(attachment.file_name)
            )
        values = {"id": view.id, "name": esc(view.exporter), "what": what}
        if not caption:
            return t("gd_file_in_group", GROUP_LANG, **values)
        return t("gd_file_in_group_caption", GROUP_LANG, text=esc(caption), **values)

    def tell_officers(self, s: Session, view: TicketView, text: str, kind: str) -> None:
        for chat_id in self.officer_chats():
            enqueue(
                s, chat_id, text, kind=kind, ref=f"ticket:{view.id}", payload={"reply_to": {"card": view.id}}
            )

    def card_message(self, s: Session, row: OutboxMessage, ticket_id: int) -> int | None:
        """Outbox resolver: the card of this ticket in the row's chat, once posted."""
        found = s.scalar(
            select(OutboxMessage.telegram_message_id)
            .where(
                OutboxMessage.coalesce_key == self._card_key(ticket_id, row.chat_id),
                OutboxMessage.method == "sendMessage",
                OutboxMessage.status == SENT,
            )
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        if found is None and row.chat_id == self.settings.officers_chat_id:
            found = s.scalar(select(Ticket.card_message_id).where(Ticket.id == ticket_id))
        return found

    def card_posted(self, s: Session, row: OutboxMessage, ticket_id: int, message_id: int) -> None:
        """Outbox hook: the first card posted is the ticket's card."""
        ticket = s.get(Ticket, ticket_id)
        if ticket is not None and (
            ticket.card_message_id is None or row.chat_id == self.settings.officers_chat_id
        ):
            ticket.card_message_id = message_id

    def detach(self, user_id: int) -> bool:
        with self.db.session() as s:
            tickets = list(
                s.scalars(select(Ticket).where(Ticket.user_id == user_id, Ticket.status.in_(ACTIVE)))
            )
            for ticket in tickets:
                ticket.exporter_attached = False
            return bool(tickets)

    def rate(self, ticket_id: int, user_id: int, stars: int) -> bool:
        with self.db.session() as s:
            ticket = s.get(Ticket, ticket_id)
            if (
                ticket is None
                or ticket.user_id != user_id
                or ticket.status != CLOSED
                or not 1 <= stars <= 5
                or ticket.rating is not None
            ):
                return False
            ticket.rating = stars
            self._changed(s, ticket)
            return True

    def rated(self, ticket_id: int, user_id: int) -> bool:
        """Whether the user's own ticket has its rating already."""
        with self.db.session() as s:
            ticket = s.get(Ticket, ticket_id)
            return ticket is not None and ticket.user_id == user_id and ticket.rating is not None

    def start_comment(self, ticket_id: int, user_id: int) -> bool:
        with self.db.session() as s:
            ticket = s.get(Ticket, ticket_id)
            if ticket is None or ticket.user_id != user_id or ticket.rating is None or ticket.rating_comment:
                return False
            ticket.rating_comment = ""  # empty: the next text is the comment
            return True

    def drop_comment(self, user_id: int) -> None:
        """The comment the exporter was asked for is not coming: no text waits for it."""
        with self.db.session() as s:
            _no_comment_awaited(s, user_id)

    def take_comment(self, user_id: int, text: str) -> bool:
        """Store text as the comment of a ticket waiting for one; False if none waits."""
        with self.db.session() as s:
            ticket = s.scalars(
                select(Ticket).where(Ticket.user_id == user_id, Ticket.rating_comment == "")
            ).first()
            if ticket is None:
                return False
            ticket.rating_comment = text[:2000]
            return True

    # -- the officers' side ----------------------------------------------------------------

    def _changed(self, s: Session, ticket: Ticket) -> TicketView:
        s.flush()
        view = self._view(s, ticket)
        self._queue_card(s, view)
        return view

    def _get_active(self, s: Session, ticket_id: int) -> Ticket:
        ticket = s.get(Ticket, ticket_id, with_for_update=True)
        if ticket is None:
            raise TicketError("tk_unknown", id=ticket_id)
        if ticket.status == CLOSED:
            raise TicketError("tk_already_closed", id=ticket_id)
        return ticket

    def claim(self, ticket_id: int, officer_id: int, name: str) -> TicketView:
        with self.db.session() as s:
            ticket = self._get_active(s, ticket_id)
            if ticket.claimed_by is not None and ticket.claimed_by != officer_id:
                raise TicketError("tk_claimed_by_other", id=ticket_id, name=ticket.claimed_by_name or "?")
            ticket.claimed_by, ticket.claimed_by_name = officer_id, name[:128]
            if ticket.status == OPEN:
                ticket.status = CLAIMED
            return self._changed(s, ticket)

    def reply(self, ticket_id: int, officer_id: int, name: str, text: str) -> TicketView:
        """Relay an officer's answer, signed by role, through the outbox."""
        now = self.clock()
        with self.db.session() as s:
            ticket = self._get_active(s, ticket_id)
            if ticket.claimed_by is None:
                ticket.claimed_by, ticket.claimed_by_name = officer_id, name[:128]
            user = s.get(User, ticket.user_id)
            lang = user.language if user else "id"
            body = t("tk_relay", lang, id=ticket.id, text=esc(text))
            parts = len(split_html(body))
            row = enqueue(s, ticket.user_id, body, kind="ticket_reply", markup=back_keyboard(lang))
            s.flush()
            s.add(
                TicketMessage(
                    ticket_id=ticket.id,
                    direction="out",
                    author_id=officer_id,
                    text=text,
                    outbox_id=row.id if row else None,
                    created_at=now,
                )
            )
            if ticket.first_response_at is None:
                ticket.first_response_at = now
                ticket.first_response_seconds = self.calendar.business_seconds_between(
                    _aware(ticket.created_at), now
                )
            ticket.status = WAITING
            ticket.waiting_since = now
            ticket.exporter_attached = True
            return replace(self._changed(s, ticket), reply_parts=parts)

    def note(self, ticket_id: int, officer_id: int, text: str) -> TicketView:
        with self.db.session() as s:
            ticket = s.get(Ticket, ticket_id)
            if ticket is None:
                raise TicketError("tk_unknown", id=ticket_id)
            s.add(
                TicketMessage(
                    ticket_id=ticket.id,
                    direction="note",
                    author_id=officer_id,
                    text=text,
                    created_at=self.clock(),
                )
            )
            return self._view(s, ticket)

    def close(self, ticket_id: int, officer_id: int, summary: str) -> TicketView:
        now = self.clock()
        with self.db.session() as s:
            ticket = self._get_active(s, ticket_id)
            self._resume(ticket)
            ticket.status = CLOSED
            ticket.closed_at, ticket.closed_by = now, officer_id
            ticket.summary = summary[:1000] or None
            ticket.resolution_seconds = max(
                0.0,
                self.calendar.business_seconds_between(_aware(ticket.created_at), now)
                - (ticket.paused_seconds or 0.0),
            )
            user = s.get(User, ticket.user_id)
            lang = user.language if user else "id"
            enqueue(
                s,
                ticket.user_id,
                t("tk_closed_exporter", lang, id=ticket.id),
                kind="ticket_closed",
                markup=rating_keyboard(ticket.id),
            )
            return self._changed(s, ticket)

    def reopen(self, ticket_id: int, officer_id: int) -> TicketView:
        with self.db.session() as s:
            ticket = s.get(Ticket, ticket_id, with_for_update=True)
            if ticket is None:
                raise TicketError("tk_unknown", id=ticket_id)
            if ticket.status != CLOSED:
                raise TicketError("tk_not_closed", id=ticket_id)
            ticket.status = CLAIMED if ticket.claimed_by else OPEN
            ticket.closed_at = ticket.closed_by = None
            ticket.exporter_attached = True
            # a rating comment still awaited would take the text meant for the ticket
            _no_comment_awaited(s, ticket.user_id)
            # the exporter's next messages go to it again: they must know, and the stars
            # of the closing message no longer apply
            user = s.get(User, ticket.user_id)
            lang = user.language if user else "id"
            enqueue(
                s,
                ticket.user_id,
                t("tk_reopened_exporter", lang, id=ticket.id),
                kind="ticket_reopened",
                markup=back_keyboard(lang),
            )
            return self._changed(s, ticket)

    def history(self, ticket_id: int) -> tuple[TicketView, list[HistoryEntry]] | None:
        """A ticket's whole conversation in order, internal notes included (for officers:
        without a group, a colleague's replies and notes reached only their own chat)."""
        with self.db.session() as s:
            ticket = s.get(Ticket, ticket_id)
            if ticket is None:
                return None
            rows = s.execute(
                select(
                    TicketMessage.direction,
                    TicketMessage.author_id,
                    TicketMessage.text,
                    TicketMessage.created_at,
                )
                .where(TicketMessage.ticket_id == ticket_id)
                .order_by(TicketMessage.id)
            ).all()
            authors = {row.author_id for row in rows}
            found = s.execute(select(User.id, User.first_name).where(User.id.in_(authors))).tuples()
            names = dict(found.all())
            entries = [
                HistoryEntry(row.direction, names.get(row.author_id) or "?", row.text, _aware(row.created_at))
                for row in rows
            ]
            return self._view(s, ticket), entries

    def last_officer_answer(self, ticket_id: int) -> str:
        with self.db.session() as s:
            last = s.scalars(
                select(TicketMessage.text)
                .where(TicketMessage.ticket_id == ticket_id, TicketMessage.direction == "out")
                .order_by(TicketMessage.id.desc())
            ).first()
            return last or ""

    # -- jobs ------------------------------------------------------------------------------

    def sla_pass(self) -> list[tuple[TicketView, str]]:
        """Tickets that just reached 75 % of the first-response target ('warn') or passed
        it ('breach'); each is reported once."""
        now = self.clock()
        target = self.sla.total_seconds()
        out: list[tuple[TicketView, str]] = []
        with self.db.session() as s:
            rows = s.scalars(
                select(Ticket).where(
                    Ticket.status.in_(ACTIVE),
                    Ticket.first_response_at.is_(None),
                    Ticket.sla_breached_at.is_(None),
                )
            )
            for ticket in rows:
                elapsed = self.calendar.business_seconds_between(_aware(ticket.created_at), now)
                if elapsed >= target:
                    ticket.sla_breached_at = now
                    out.append((self._view(s, ticket), "breach"))
                elif elapsed >= SLA_WARN_SHARE * target and ticket.sla_warned_at is None:
                    ticket.sla_warned_at = now
                    out.append((self._view(s, ticket), "warn"))
            minutes = f"{self.settings.tickets_first_response_minutes:g}"
            for view, kind in out:
                key = "tk_sla_warn" if kind == "warn" else "tk_sla_breach"
                self.tell_officers(s, view, t(key, GROUP_LANG, id=view.id, minutes=minutes), kind="sla")
        return out

    def repost_missing_cards(self, settled: dt.timedelta = CARD_GRACE) -> list[int]:
        """Tickets of any status whose card is neither posted nor on its way (Telegram
        refused it for good, or the ticket predates the card's outbox row) get a new
        card queued; returns their ids."""
        with self.db.session() as s:
            on_the_way = exists().where(
                OutboxMessage.ref == "ticket:" + cast(Ticket.id, String),
                OutboxMessage.kind == "card",
                OutboxMessage.status.in_((PENDING, SENDING)),
            )
            rows = list(
                s.scalars(
                    select(Ticket)
                    .where(
                        Ticket.card_message_id.is_(None),
                        Ticket.created_at < self.clock() - settled,
                        ~on_the_way,
                    )
                    .order_by(Ticket.id)
                    .limit(100)
                )
            )
            for ticket in rows:
                self._queue_card(s, self._view(s, ticket))
            return [r.id for r in rows]

    def undelivered_reply(self, s: Session, row: OutboxMessage, status: str) -> None:
        """Outbox listener: tell the group when an officer's reply cannot be delivered."""
        if status != UNREACHABLE or row.kind != "ticket_reply":
            return
        ticket_id = s.scalar(select(TicketMessage.ticket_id).where(TicketMessage.outbox_id == row.id))
        ticket = s.get(Ticket, ticket_id) if ticket_id is not None else None
        if ticket is not None:
            self.tell_officers(
                s, self._view(s, ticket), t("tk_undelivered", GROUP_LANG, id=ticket.id), kind="group_notice"
            )
