"""SQLAlchemy 2 typed models. Times are stored in UTC."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import overload

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@overload
def as_utc(moment: dt.datetime) -> dt.datetime: ...
@overload
def as_utc(moment: None) -> None: ...
@overload
def as_utc(moment: dt.datetime | None) -> dt.datetime | None: ...
def as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """Aware UTC, whatever the driver returned (SQLite hands back naive UTC)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """TIMESTAMP WITH TIME ZONE that always comes back aware, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return as_utc(value)


class Base(DeclarativeBase):
    pass


class User(Base):
    """A Telegram account that has talked to the bot."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2), default="id")
    # True once the user picked a language with /lang: then it beats detection
    language_chosen: Mapped[bool] = mapped_column(default=False)
    role: Mapped[str] = mapped_column(String(16), default="exporter")
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL"), index=True
    )
    linked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # set when Telegram says the user blocked the bot; cleared when they write again
    blocked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reminders_enabled: Mapped[bool] = mapped_column(default=True)  # /reminders off|on
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class QueryLog(Base):
    """Every question asked, with what the matcher decided and the user's feedback."""

    __tablename__ = "query_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2))
    # no index on matched_id or outcome: no query looks rows up by them, and every
    # question pays for each index of this table (migration 0012)
    matched_id: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    outcome: Mapped[str] = mapped_column(String(16))
    feedback: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class Company(Base):
    """An exporting company, identified by its NIB (business identification number)."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nib: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    npwp: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LinkCode(Base):
    """A one-time code that links a Telegram account to a company; only its hash is kept."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    used_by: Mapped[int | None] = mapped_column(BigInteger)
    # the account asked whether to move from its company to this code's: only its press
    # of the button (which carries this row's id) can spend the code that way
    offered_to: Mapped[int | None] = mapped_column(BigInteger)
    # the company the account left when it used this code (NULL: it had none, or the same)
    replaced_company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"))


class LinkAttempt(Base):
    """Failed link attempts, for the lock-out after five within an hour."""

    __tablename__ = "link_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SkaApplication(Base):
    """An SKA application as the office knows it (mirrors e-SKA; fed by officers/imports)."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    commodity: Mapped[str] = mapped_column(String(120), default="")
    hs_code: Mapped[str] = mapped_column(String(16), default="")
    destination: Mapped[str] = mapped_column(String(64), default="")
    form: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    volume_tonnes: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    value_usd: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    shipment_date: Mapped[dt.date | None] = mapped_column(Date)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # when an issued SKA counts as issued: its last 'issued' status event, or its last
    # change when it has none; NULL unless the status is 'issued'. Written by the database
    # only (triggers of migration 0013), never from Python: after a write, an object in
    # the session may hold the old value. A migration that rebuilds this table or
    # status_events on SQLite (batch mode) must create the triggers again.
    issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    # what /report reads of an issued SKA, on SQLite only (see migration 0013)
    __table_args__ = (
        Index(
            "ix_applications_issued",
            "status",
            "issued_at",
            "company_id",
            "commodity",
            "destination",
            "volume_tonnes",
            "value_usd",
        ).ddl_if(dialect="sqlite"),
    )


class StatusEvent(Base):
    """One status change of an application: the history exporters see."""

    __tablename__ = "status_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxMessage(Base):
    """A message waiting to leave (or that left): every notification goes through here."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    text: Mapped[str] = mapped_column(Text)
    reply_markup: Mapped[str | None] = mapped_column(Text)  # JSON of an inline keyboard
    kind: Mapped[str] = mapped_column(String(32), default="notice")
    # 0 first; 1 for bulk (broadcasts, reminders), so a large broadcast does not hold up
    # the status changes and officers' replies queued after it
    priority: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    # unique when set: the same notice (e.g. one reminder per application per day) once
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    # the Bot API method (sendMessage, sendDocument, sendPhoto, copyMessage,
    # editMessageText) and its other arguments as JSON
    method: Mapped[str] = mapped_column(String(32), default="sendMessage", server_default="sendMessage")
    payload: Mapped[str | None] = mapped_column(Text)
    # rows with one key that are still pending are one message: a newer one replaces the
    # text of the older (the card of a ticket edited three times is edited once)
    coalesce_key: Mapped[str | None] = mapped_column(String(64), index=True)
    # what the message is about ("ticket:12"): an officer's reply to any message about a
    # ticket answers that ticket
    ref: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_outbox_chat_message", "chat_id", "telegram_message_id"),)


class PrecheckSession(Base):
    """An exporter's open /cek check: the question it waits on and the answers so far."""

    __tablename__ = "precheck_sessions"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # a step, or a step and its follow-up question ("destination:other_country"; see
    # bot/services/precheck/store.py)
    step: Mapped[str] = mapped_column(String(32))
    answers: Mapped[str] = mapped_column(Text, default="{}")  # JSON object
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Ticket(Base):
    """A question for an officer: opened by an exporter, worked in the officers' group."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"))
    question: Mapped[str] = mapped_column(Text)
    # open -> claimed -> waiting (for the exporter) -> closed; reopen goes back to claimed/open
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    claimed_by: Mapped[int | None] = mapped_column(BigInteger)
    claimed_by_name: Mapped[str | None] = mapped_column(String(128))
    card_message_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # False after "Back to the bot": the exporter's messages go to the FAQ again
    exporter_attached: Mapped[bool] = mapped_column(default=True)
    bot_tried: Mapped[str] = mapped_column(Text, default="[]")  # JSON [[topic id, score]]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    first_response_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[int | None] = mapped_column(BigInteger)
    summary: Mapped[str | None] = mapped_column(Text)
    # the SLA clock pauses while the ticket waits for the exporter
    waiting_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    paused_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    sla_warned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sla_breached_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    first_response_seconds: Mapped[float | None] = mapped_column(Float)  # business hours
    resolution_seconds: Mapped[float | None] = mapped_column(Float)  # business hours
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)


class TicketMessage(Base):
    """One message of a ticket's conversation: exporter in, officer out, or internal note."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # in | out | note
    author_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    # the copy in the officers' group (replies to it thread back to the ticket)
    group_message_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    outbox_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FaqProposal(Base):
    """An officer's answer proposed for the knowledge base; changes nothing until approved."""

    __tablename__ = "faq_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(8))  # new | sample
    target_id: Mapped[str | None] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text, default="")
    proposed_by: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # the draft the admin reviews: cleaned of names and greetings, edited in chat
    draft_question: Mapped[str | None] = mapped_column(Text)
    title_id: Mapped[str | None] = mapped_column(Text)
    title_en: Mapped[str | None] = mapped_column(Text)
    answer_id: Mapped[str | None] = mapped_column(Text)
    answer_en: Mapped[str | None] = mapped_column(Text)
    id_only: Mapped[bool] = mapped_column(Boolean, default=False)
    flags: Mapped[str] = mapped_column(Text, default="")  # JSON list of [kind, text]
    edit_field: Mapped[str | None] = mapped_column(String(16))
    edit_message_id: Mapped[int | None] = mapped_column(BigInteger)
    edit_chat_id: Mapped[int | None] = mapped_column(BigInteger)


class LearnedFaq(Base):
    """An approved FAQ addition: a new entry or a sample question for an existing one.

    Kept in the database, not in the code checkout, so every process sharing the database
    answers with it (each reloads within a minute of a change)."""

    __tablename__ = "learned_faq"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # entry | sample
    entry_id: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(16), default="help")
    question: Mapped[str] = mapped_column(Text)
    title_id: Mapped[str] = mapped_column(Text, default="")
    title_en: Mapped[str] = mapped_column(Text, default="")
    answer_id: Mapped[str] = mapped_column(Text, default="")
    answer_en: Mapped[str] = mapped_column(Text, default="")
    id_only: Mapped[bool] = mapped_column(Boolean, default=False)
    proposal_id: Mapped[int | None] = mapped_column(
        ForeignKey("faq_proposals.id", name="fk_learned_faq_proposal", ondelete="SET NULL")
    )
    approved_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SpikeAlert(Base):
    """One alert to the officers' group: many exporters asked about the same thing at once."""

    __tablename__ = "spike_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[str | None] = mapped_column(String(64))
    tokens: Mapped[str] = mapped_column(Text, default="")  # the questions' words
    people: Mapped[int] = mapped_column(Integer)
    samples: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of questions
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ChecklistItem(Base):
    """One document an application needs, and where it stands with the office."""

    __tablename__ = "application_documents"
    __table_args__ = (UniqueConstraint("application_id", "doc_id", name="uq_application_documents_app_doc"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    doc_id: Mapped[str] = mapped_column(String(32))  # an id of knowledge/documents.yaml
    # missing | received (awaiting the officer's check) | accepted | rejected
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by: Mapped[str] = mapped_column(String(64), default="")
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DocumentUpload(Base):
    """A file an exporter sent for an application; the bytes stay on Telegram's servers."""

    __tablename__ = "document_uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    doc_id: Mapped[str | None] = mapped_column(String(32))  # None until the exporter picks
    file_id: Mapped[str] = mapped_column(String(256))
    file_unique_id: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255), default="")
    mime_type: Mapped[str] = mapped_column(String(128))
    file_size: Mapped[int] = mapped_column(BigInteger)
    # choosing -> received -> accepted | rejected; discarded when the exporter cancels
    status: Mapped[str] = mapped_column(String(16), default="choosing", index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    group_message_id: Mapped[int | None] = mapped_column(BigInteger)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UploadIntent(Base):
    """After /upload REF (or the reminder's button): the next file is for that application."""

    __tablename__ = "upload_intents"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Reminder(Base):
    """A missing-document reminder queued for one chat (exporter, or `alert` to officers)."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("application_id", "chat_id", "local_date", name="uq_reminders_app_chat_day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16), default="exporter")  # exporter | alert
    local_date: Mapped[dt.date] = mapped_column(Date)  # office calendar day
    outbox_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Broadcast(Base):
    """An officer's announcement: drafted, previewed, then queued to its audience."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)  # the preview and the summary
    text: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(16), default="all")  # all | open | commodity
    commodity: Mapped[str | None] = mapped_column(String(120))
    commodities: Mapped[str] = mapped_column(Text, default="[]")  # JSON: the preview's buttons
    # draft -> queued -> done; or draft -> cancelled
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    skipped_blocked: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    queued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class JobLease(Base):
    """Who runs a periodic job (SLA pass, daily reminders) until when, across processes."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ProcessedUpdate(Base):
    """Telegram update ids already handled: Telegram delivers at least once."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
