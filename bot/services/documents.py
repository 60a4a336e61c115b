"""Document checklists per application, exporters' uploads and the officers' decisions."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.i18n import LANGS, t
from bot.models import (
    ChecklistItem,
    Company,
    DocumentUpload,
    OutboxMessage,
    Reminder,
    SkaApplication,
    UploadIntent,
    User,
    utcnow,
)
from bot.models import as_utc as _aware
from bot.services.applications import by_ref
from bot.services.filetypes import ALLOWED, detect, safe_name
from bot.services.notemarks import marked_line
from bot.services.outbox import Keyboard, enqueue
from bot.services.users import ADMIN, OFFICER
from bot.text import escape as esc
from knowledge.loader import KnowledgeError

# (upload, checklist) -> the caption of a file's card for the officers
CardRenderer = Callable[["UploadView", "ChecklistView"], str]

MISSING, RECEIVED, ACCEPTED, REJECTED = "missing", "received", "accepted", "rejected"
ITEM_STATUSES = (MISSING, RECEIVED, ACCEPTED, REJECTED)
OUTSTANDING = (MISSING, REJECTED)
# what an officer may set with /doc; `received` only ever comes from an upload
OFFICER_STATUSES = (ACCEPTED, REJECTED, MISSING)
CHOOSING, DISCARDED = "choosing", "discarded"
# Telegram bots can download files up to 20 MB, so officers could not open larger ones
MAX_BYTES = 20 * 1024 * 1024
# decided from the content (bot/services/filetypes.py), never from the name or the client
MIME_TYPES = ALLOWED
INTENT_TTL = dt.timedelta(hours=24)
# the rejection reasons offered as buttons under a document in the officers' group
REJECT_REASONS = ("unreadable", "wrong", "mismatch", "incomplete")
_ID_RE = re.compile(r"^[a-z0-9-]{1,16}$")
# the buttons of queued messages, rendered by the Telegram layer (bot/telegram/keyboards.py)
UPLOAD_KEYBOARD, VERDICT_KEYBOARD = "document_upload", "document_verdict"
# the officers' chats read Indonesian
CARD_LANG = "id"


@dataclass(frozen=True)
class DocSpec:
    id: str
    name: dict[str, str]
    hint: dict[str, str]
    confirm: bool = False
    hs_chapters: tuple[str, ...] = ()
    forms: tuple[str, ...] = ()

    def applies(self, hs_code: str, form: str) -> bool:
        hs = re.sub(r"\D", "", hs_code or "")
        if self.hs_chapters and not any(hs.startswith(c) for c in self.hs_chapters):
            return False
        return not self.forms or (form or "").strip().lower() in self.forms


class DocumentCatalog:
    """knowledge/documents.yaml: the documents an application can need, in display order."""

    def __init__(self, specs: Iterable[DocSpec]) -> None:
        self.specs = {s.id: s for s in specs}

    @classmethod
    def load(cls, knowledge_dir: Path) -> DocumentCatalog:
        path = knowledge_dir / "documents.yaml"
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise KnowledgeError([f"documents.yaml: {exc}"]) from None
        problems: list[str] = []
        specs: list[DocSpec] = []
        for entry in raw.get("documents") or []:
            did = str(entry.get("id", ""))
            if not _ID_RE.match(did) or did in {s.id for s in specs}:
                problems.append(f"documents.yaml: id {did!r} is missing, invalid or repeated")
                continue
            texts = {k: entry.get(k) or {} for k in ("name", "hint")}
            if any(not str(texts[k].get(lang, "")).strip() for k in texts for lang in LANGS):
                problems.append(f"documents.yaml:{did}: name and hint need id and en")
                continue
            when = entry.get("when") or {}
            specs.append(
                DocSpec(
                    did,
                    {lang: str(texts["name"][lang]) for lang in LANGS},
                    {lang: str(texts["hint"][lang]) for lang in LANGS},
                    bool(entry.get("confirm")),
                    tuple(str(c) for c in when.get("hs_chapters") or ()),
                    tuple(str(f).strip().lower() for f in when.get("forms") or ()),
                )
            )
        if not specs:
            problems.append("documents.yaml: needs a non-empty 'documents' list")
        if problems:
            raise KnowledgeError(problems)
        return cls(specs)

    def required(self, hs_code: str, form: str) -> list[str]:
        return [s.id for s in self.specs.values() if s.applies(hs_code, form)]

    def parse_ids(self, text: str) -> list[str]:
        """'invoice; packing-list' -> ids; unknown ids are an error naming the known ones."""
        ids = [p.strip().lower() for p in (text or "").split(";") if p.strip()]
        unknown = [i for i in ids if i not in self.specs]
        if unknown:
            raise ValueError(f"unknown document id(s) {', '.join(unknown)} (known: {', '.join(self.specs)})")
        return list(dict.fromkeys(ids))

    def name(self, doc_id: str, lang: str) -> str:
        spec = self.specs.get(doc_id)
        return spec.name[lang] if spec else doc_id

    def order(self, doc_id: str) -> int:
        return list(self.specs).index(doc_id) if doc_id in self.specs else len(self.specs)


class DocError(Exception):
    """A refused request; `key`/`values` render the reason from the catalog (values escaped)."""

    def __init__(self, key: str, **values: str) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class ItemView:
    doc_id: str
    status: str
    reason: str
    changed_at: dt.datetime


@dataclass(frozen=True)
class ChecklistView:
    application_id: int
    ref: str
    company: str
    nib: str
    status: str
    items: tuple[ItemView, ...]

    @property
    def outstanding(self) -> tuple[ItemView, ...]:
        return tuple(i for i in self.items if i.status in OUTSTANDING)


@dataclass(frozen=True)
class FileInfo:
    file_id: str
    file_unique_id: str
    file_name: str
    mime_type: str
    file_size: int | None


@dataclass(frozen=True)
class UploadView:
    id: int
    doc_id: str | None
    file_id: str
    file_name: str
    mime_type: str
    file_size: int
    user_id: int
    uploader: str
    status: str
    reason: str
    group_message_id: int | None
    decided_at: dt.datetime | None


class DocumentService:
    def __init__(
        self, db: Database, catalog: DocumentCatalog, clock: Callable[[], dt.datetime] = utcnow
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.clock = clock

    # -- checklists ----------------------------------------------------------------------

    def create_checklist(
        self,
        s: Session,
        app: SkaApplication,
        missing: Iterable[str] = (),
        actor: str = "import",
        fresh: bool = False,
    ) -> int:
        """In the caller's transaction: the listed documents start missing, the rest accepted.

        Idempotent: documents already on the checklist keep their state. `fresh`: the
        application was created in this transaction, so it has none yet (an import of
        thousands saves a query each).
        """
        missing = list(missing)
        have = (
            set()
            if fresh
            else set(s.scalars(select(ChecklistItem.doc_id).where(ChecklistItem.application_id == app.id)))
        )
        wanted = dict.fromkeys([*self.catalog.required(app.hs_code, app.form), *missing])
        now = self.clock()
        added = 0
        for doc_id in wanted:
            if doc_id in have:
                continue
            s.add(
                ChecklistItem(
                    application_id=app.id,
                    doc_id=doc_id,
                    status=MISSING if doc_id in missing else ACCEPTED,
                    changed_by=actor,
                    changed_at=now,
                )
            )
            added += 1
        return added

    def has_checklist(self, s: Session, app_id: int) -> bool:
        return (
            s.scalar(select(ChecklistItem.id).where(ChecklistItem.application_id == app_id).limit(1))
            is not None
        )

    def _view(self, s: Session, app: SkaApplication) -> ChecklistView:
        company = s.get(Company, app.company_id)
        rows = s.scalars(select(ChecklistItem).where(ChecklistItem.application_id == app.id))
        items = sorted(
            (ItemView(r.doc_id, r.status, r.reason, r.changed_at) for r in rows),
            key=lambda i: self.catalog.order(i.doc_id),
        )
        return ChecklistView(
            app.id,
            app.ref,
            company.name if company else "",
            company.nib if company else "",
            app.status,
            tuple(items),
        )

    def checklist(self, ref: str) -> ChecklistView | None:
        with self.db.session() as s:
            app = by_ref(s, ref)
            return self._view(s, app) if app is not None else None

    def outstanding_for_company(self, company_id: int) -> dict[str, tuple[ItemView, ...]]:
        """ref -> documents still missing or rejected, for the exporter's /status."""
        with self.db.session() as s:
            rows = s.execute(
                select(SkaApplication.ref, ChecklistItem)
                .join(ChecklistItem, ChecklistItem.application_id == SkaApplication.id)
                .where(SkaApplication.company_id == company_id, ChecklistItem.status.in_(OUTSTANDING))
            )
            found: dict[str, list[ItemView]] = {}
            for ref, r in rows:
                found.setdefault(ref, []).append(ItemView(r.doc_id, r.status, r.reason, r.changed_at))
        return {
            ref: tuple(sorted(items, key=lambda i: self.catalog.order(i.doc_id)))
            for ref, items in found.items()
        }

    def card_lines(self, items: Iterable[ItemView], lang: str) -> list[tuple[str, str, str]]:
        """(name, status, reason) in `lang`, for the application card's document lines."""
        return [
            (self.catalog.name(i.doc_id, lang), i.status, self.reason_text(i.reason, lang)) for i in items
        ]

    def set_item(
        self, ref: str, doc_id: str, status: str, reason: str, officer_id: int
    ) -> tuple[ChecklistView, int]:
        """/doc: an officer sets one document's state; exporters hear of accept/reject."""
        doc_id = doc_id.strip().lower()
        if doc_id not in self.catalog.specs:
            raise DocError("doc_unknown", doc=doc_id[:32], known=", ".join(self.catalog.specs))
        if status not in OFFICER_STATUSES:
            raise DocError("doc_status_invalid", status=status[:32])
        reason = reason.strip()
        if status == REJECTED:
            # the reason goes to the exporter word for word, as a /setstatus note does
            if not any(ch.isalnum() for ch in reason):
                raise DocError("doc_reason_required", ref=ref[:64], doc=doc_id)
            if marked_line(reason) is not None:
                raise DocError("doc_reason_internal")
        with self.db.session() as s:
            app = by_ref(s, ref, lock=True)
            if app is None:
                raise DocError("doc_app_not_found", ref=ref[:64])
            if not self.has_checklist(s, app.id):
                self.create_checklist(s, app, actor=f"officer:{officer_id}")
                s.flush()
            item = self._item(s, app.id, doc_id)
            self._apply(s, item, status, reason if status == REJECTED else "", f"officer:{officer_id}")
            # an upload still waiting for this document is decided by the same words
            waiting = s.scalars(
                select(DocumentUpload).where(
                    DocumentUpload.application_id == app.id,
                    DocumentUpload.doc_id == doc_id,
                    DocumentUpload.status == RECEIVED,
                )
            )
            if status in (ACCEPTED, REJECTED):
                for upload in waiting:
                    upload.status, upload.reason = status, item.reason
                    upload.decided_by, upload.decided_at = officer_id, self.clock()
            notified = (
                self._notify(s, app, doc_id, status, item.reason) if status in (ACCEPTED, REJECTED) else 0
            )
            s.flush()
            return self._view(s, app), notified

    def _item(self, s: Session, app_id: int, doc_id: str) -> ChecklistItem:
        item = s.scalar(
            select(ChecklistItem).where(
                ChecklistItem.application_id == app_id, ChecklistItem.doc_id == doc_id
            )
        )
        if item is None:
            item = ChecklistItem(application_id=app_id, doc_id=doc_id, status=MISSING)
            s.add(item)
        return item

    def _apply(self, s: Session, item: ChecklistItem, status: str, reason: str, actor: str) -> None:
        item.status, item.reason = status, reason[:1000]
        item.changed_by, item.changed_at = actor, self.clock()

    def reason_text(self, reason: str, lang: str) -> str:
        """Stored reasons are either '@code' (a button's standard reason) or an officer's words."""
        if reason.startswith("@") and reason[1:] in REJECT_REASONS:
            return t(f"doc_reason_{reason[1:]}", lang)
        return reason

    def _notify(self, s: Session, app: SkaApplication, doc_id: str, status: str, reason: str) -> int:
        """The decision, to every linked exporter of the company, each in their language."""
        count = 0
        for user in s.scalars(select(User).where(User.company_id == app.company_id)):
            lang = user.language
            values = {"doc": esc(self.catalog.name(doc_id, lang)), "ref": esc(app.ref)}
            if status == ACCEPTED:
                text, markup = t("doc_notice_accepted", lang, **values), None
            else:
                why = self.reason_text(reason, lang)
                text = t(
                    "doc_notice_rejected",
                    lang,
                    **values,
                    reason=esc(why) if why else t("doc_no_reason", lang),
                )
                markup = upload_markup(app.id, lang)
            enqueue(s, user.id, text, kind="document", markup=markup)
            count += 1
        return count

    # -- uploads -------------------------------------------------------------------------

    def _company_app(
        self, s: Session, user_id: int, *, ref: str | None = None, app_id: int | None = None
    ) -> tuple[User, SkaApplication]:
        user = s.get(User, user_id)
        if user is None or user.company_id is None:
            raise DocError("not_linked")
        mine = SkaApplication.company_id == user.company_id
        if ref is None:
            app = s.scalar(select(SkaApplication).where(mine, SkaApplication.id == app_id))
            if app is None:
                # a button of another company's (or a deleted) application says no more
                raise DocError("doc_button_invalid")
            return user, app
        app = by_ref(s, ref, mine)
        if app is None:
            # the same words for another company's and an unknown ref: no existence leak
            raise DocError("doc_upload_not_found", ref=ref[:64])
        return user, app

    def start_upload(
        self, user_id: int, *, ref: str | None = None, app_id: int | None = None
    ) -> ChecklistView:
        """/upload REF or the reminder's button: the user's next file is for this application."""
        with self.db.session() as s:
            _, app = self._company_app(s, user_id, ref=ref, app_id=app_id)
            intent = s.get(UploadIntent, user_id)
            if intent is None:
                intent = UploadIntent(user_id=user_id)
                s.add(intent)
            intent.application_id = app.id
            intent.expires_at = self.clock() + INTENT_TTL
            return self._view(s, app)

    def check_upload(self, user_id: int, info: FileInfo, reply_to_message_id: int | None = None) -> None:
        """What can be refused before the file is fetched from Telegram: a stranger's or an
        oversized file is never downloaded. DocError when refused."""
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is None or user.company_id is None:
                raise DocError("doc_not_linked")
            if info.file_size is None or info.file_size > MAX_BYTES:
                raise DocError("doc_too_large", mb=str(MAX_BYTES // (1024 * 1024)))
            if self._target(s, user_id, reply_to_message_id) is None:
                raise DocError("doc_no_target")

    @staticmethod
    def identify(info: FileInfo, content: bytes) -> FileInfo:
        """The file as its bytes say it is: type, size and a name with the right extension.
        DocError doc_bad_type for anything that is not an allowed document."""
        found = detect(content)
        if found is None:
            raise DocError("doc_bad_type")
        if info.file_name == "photo.jpg" and found.mime_type == "image/jpeg":
            name = info.file_name  # Telegram's own re-encoded photo
        else:
            name = safe_name(info.file_name, found)
        return replace(info, file_name=name, mime_type=found.mime_type, file_size=len(content))

    def receive(
        self, user_id: int, info: FileInfo, reply_to_message_id: int | None = None
    ) -> tuple[int, ChecklistView]:
        """A file arrived: validate, then store it until the exporter says which document."""
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is None or user.company_id is None:
                raise DocError("doc_not_linked")
            if info.mime_type not in MIME_TYPES:
                raise DocError("doc_bad_type")
            if info.file_size is None or info.file_size > MAX_BYTES:
                raise DocError("doc_too_large", mb=str(MAX_BYTES // (1024 * 1024)))
            app_id = self._target(s, user_id, reply_to_message_id)
            if app_id is None:
                raise DocError("doc_no_target")
            _, app = self._company_app(s, user_id, app_id=app_id)
            if not self.has_checklist(s, app.id):
                self.create_checklist(s, app, actor="upload")
            upload = DocumentUpload(
                application_id=app.id,
                user_id=user_id,
                file_id=info.file_id[:256],
                file_unique_id=info.file_unique_id[:64],
                file_name=info.file_name[:255],
                mime_type=info.mime_type,
                file_size=info.file_size,
                status=CHOOSING,
                created_at=self.clock(),
            )
            s.add(upload)
            s.flush()
            return upload.id, self._view(s, app)

    def expects_file(self, user_id: int, reply_to_message_id: int | None) -> bool:
        """True when a file from this user is an upload (an open /upload or a reply to a
        reminder): it then goes to the checklist even while a ticket is open."""
        with self.db.session() as s:
            return self._target(s, user_id, reply_to_message_id) is not None

    def reminder_ref(self, user_id: int, reply_to: int) -> str | None:
        """The application ref of the user's own reminder message `reply_to`, if it is one."""
        with self.db.session() as s:
            return s.scalar(
                select(SkaApplication.ref)
                .join(Reminder, Reminder.application_id == SkaApplication.id)
                .join(OutboxMessage, OutboxMessage.id == Reminder.outbox_id)
                .where(OutboxMessage.chat_id == user_id, OutboxMessage.telegram_message_id == reply_to)
            )

    def _target(self, s: Session, user_id: int, reply_to: int | None) -> int | None:
        """The application a file is for: the reminder it replies to, else the open /upload."""
        if reply_to is not None:
            found = s.scalar(
                select(Reminder.application_id)
                .join(OutboxMessage, OutboxMessage.id == Reminder.outbox_id)
                .where(OutboxMessage.chat_id == user_id, OutboxMessage.telegram_message_id == reply_to)
            )
            if found is not None:
                return found
        intent = s.get(UploadIntent, user_id)
        if intent is None or _aware(intent.expires_at) < self.clock():
            return None
        return intent.application_id

    def _own_upload(self, s: Session, user_id: int, upload_id: int) -> DocumentUpload:
        upload = s.get(DocumentUpload, upload_id, with_for_update=True)
        if upload is None or upload.user_id != user_id or upload.status != CHOOSING:
            raise DocError("doc_button_invalid")
        return upload

    def choose(
        self,
        user_id: int,
        upload_id: int,
        doc_id: str,
        card: CardRenderer | None = None,
        officer_chats: list[int] | None = None,
    ) -> tuple[UploadView, ChecklistView]:
        """The exporter says which document the file is: it now waits for an officer.

        The file's card for the officers (`card` renders its caption; it carries the
        accept and reject buttons) is queued in the same transaction, so a stored upload
        always reaches them."""
        with self.db.session() as s:
            upload = self._own_upload(s, user_id, upload_id)
            user, app = self._company_app(s, user_id, app_id=upload.application_id)
            item = s.scalar(
                select(ChecklistItem).where(
                    ChecklistItem.application_id == app.id, ChecklistItem.doc_id == doc_id
                )
            )
            if item is None:
                raise DocError("doc_button_invalid")
            upload.doc_id, upload.status = doc_id, RECEIVED
            self._apply(s, item, RECEIVED, "", f"exporter:{user_id}")
            s.flush()
            views = _upload_view(upload, user), self._view(s, app)
            if card is not None:
                caption, markup = card(*views), verdict_keyboard(upload.id)
                photo = upload.file_name == "photo.jpg" and upload.mime_type == "image/jpeg"
                for chat_id in officer_chats or []:
                    enqueue(
                        s,
                        chat_id,
                        caption,
                        kind="document_card",
                        markup=markup,
                        method="sendPhoto" if photo else "sendDocument",
                        payload={"file_id": upload.file_id, "on_sent": ["upload", upload.id]},
                        ref=f"upload:{upload.id}",
                    )
            return views

    def card_posted(self, s: Session, row: OutboxMessage, upload_id: int, message_id: int) -> None:
        """Outbox hook: remember the card, so its buttons can be traced back."""
        upload = s.get(DocumentUpload, upload_id)
        if upload is not None and upload.group_message_id is None:
            upload.group_message_id = message_id

    def discard(self, user_id: int, upload_id: int) -> None:
        with self.db.session() as s:
            self._own_upload(s, user_id, upload_id).status = DISCARDED

    def posted(self, upload_id: int, message_id: int) -> None:
        """Remember the card in the officers' group, so its buttons can be traced back."""
        with self.db.session() as s:
            upload = s.get(DocumentUpload, upload_id)
            if upload is not None:
                upload.group_message_id = message_id

    def upload(self, upload_id: int) -> tuple[UploadView, ChecklistView] | None:
        with self.db.session() as s:
            upload = s.get(DocumentUpload, upload_id)
            if upload is None:
                return None
            app = s.get(SkaApplication, upload.application_id)
            if app is None:
                return None
            return _upload_view(upload, s.get(User, upload.user_id)), self._view(s, app)

    def decide(
        self, upload_id: int, verdict: str, reason_code: str | None, officer_id: int, role: str
    ) -> tuple[UploadView, ChecklistView]:
        """[Accept]/[Reject] under a document in the officers' group."""
        if role not in (OFFICER, ADMIN):
            raise DocError("officer_only")
        if verdict not in (ACCEPTED, REJECTED) or (verdict == REJECTED and reason_code not in REJECT_REASONS):
            raise DocError("doc_button_invalid")
        with self.db.session() as s:
            upload = s.get(DocumentUpload, upload_id, with_for_update=True)
            if upload is None or upload.doc_id is None:
                raise DocError("doc_button_invalid")
            if upload.status != RECEIVED:
                raise DocError("doc_already_decided")
            app = s.get(SkaApplication, upload.application_id)
            if app is None:
                raise DocError("doc_button_invalid")
            reason = f"@{reason_code}" if verdict == REJECTED else ""
            upload.status, upload.reason = verdict, reason
            upload.decided_by, upload.decided_at = officer_id, self.clock()
            self._apply(s, self._item(s, app.id, upload.doc_id), verdict, reason, f"officer:{officer_id}")
            self._notify(s, app, upload.doc_id, verdict, reason)
            s.flush()
            return _upload_view(upload, s.get(User, upload.user_id)), self._view(s, app)


def upload_markup(app_id: int, lang: str) -> Keyboard:
    """[Send a document] for this application (rejection notices, reminders)."""
    return Keyboard(UPLOAD_KEYBOARD, {"application": app_id, "lang": lang})


def verdict_keyboard(upload_id: int) -> Keyboard:
    """[Accept] [Reject] under a file's card for the officers."""
    return Keyboard(VERDICT_KEYBOARD, {"upload": upload_id, "lang": CARD_LANG})


def _upload_view(upload: DocumentUpload, user: User | None) -> UploadView:
    who = (user.first_name or (f"@{user.username}" if user.username else "")) if user else ""
    return UploadView(
        upload.id,
        upload.doc_id,
        upload.file_id,
        upload.file_name,
        upload.mime_type,
        upload.file_size,
        upload.user_id,
        who or "?",
        upload.status,
        upload.reason,
        upload.group_message_id,
        upload.decided_at,
    )


def parse_item_status(text: str) -> str | None:
    """'accepted' / 'diterima', 'rejected' / 'ditolak', 'missing' / 'kurang' -> the status."""
    wanted = text.strip().lower()
    if wanted in OFFICER_STATUSES:
        return wanted
    for status in OFFICER_STATUSES:
        if wanted in {t(f"doc_word_{status}", lang).lower() for lang in LANGS}:
            return status
    return None
