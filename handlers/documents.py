"""Document checklists (/docs, /doc), exporters' uploads, reminder settings and jobs."""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    JobQueue,
    MessageHandler,
    filters,
)

from bot.i18n import t
from bot.services import Services
from bot.services.documents import (
    ACCEPTED,
    MAX_BYTES,
    OUTSTANDING,
    REJECTED,
    CardRenderer,
    ChecklistView,
    DocError,
    FileInfo,
    UploadView,
    parse_item_status,
)
from bot.telegram import keyboards
from bot.telegram.buttons import DocVerdict, UploadChoice, UploadStart
from bot.telegram.context import HelpDeskContext
from bot.telegram.jobs import once_per_period
from bot.textsplit import CAPTION_LIMIT, split_html, utf16_len
from handlers.common import (
    STAFF,
    Context,
    escape,
    flush_officers,
    message_of,
    pressed,
    repeated_in_album,
    restrict,
    send,
    set_keyboard,
    text_after,
)

log = logging.getLogger(__name__)
STAFF_COMMANDS = frozenset({"docs", "doc"})
REMINDER_LEASE_SECONDS = 120.0  # a pass takes seconds; a crashed holder's lease lapses soon
_MB = str(MAX_BYTES // (1024 * 1024))


async def _refuse(update: Update, context: Context, exc: DocError) -> None:
    lang = context.lang
    values = {k: escape(v) for k, v in exc.values.items()}
    if update.callback_query is not None:
        await update.callback_query.answer(t(exc.key, lang, **values), show_alert=True)
    elif not repeated_in_album(update, context, exc.key):
        await send(update, context, t(exc.key, lang, **values))


def _checklist_text(context: Context, view: ChecklistView, lang: str) -> str:
    svc = context.services
    lines = [
        t(
            "doc_checklist_header",
            lang,
            ref=escape(view.ref),
            company=escape(view.company),
            nib=escape(view.nib),
        )
    ]
    if not view.items:
        lines.append(t("doc_checklist_empty", lang))
    for item in view.items:
        why = svc.documents.reason_text(item.reason, lang)
        name = escape(svc.documents.catalog.name(item.doc_id, lang))
        lines.append(
            f"{keyboards.STATUS_ICONS[item.status]} {name}"
            f" <code>{item.doc_id}</code> - {t(f'doc_status_{item.status}', lang)}"
            + (f": {escape(why)}" if why else "")
            + f" · {svc.presenter.when(item.changed_at)}"
        )
    return "\n".join(lines)


async def docs_command(update: Update, context: Context) -> None:
    """/docs REF: the checklist of one application (officers)."""
    lang = context.lang
    if not context.args:
        await send(update, context, t("doc_docs_usage", lang))
        return
    ref = " ".join(context.args)[:64]
    view = context.services.documents.checklist(ref)
    if view is None:
        await send(update, context, t("doc_app_not_found", lang, ref=escape(ref)))
        return
    await send(update, context, _checklist_text(context, view, lang))


async def doc_command(update: Update, context: Context) -> None:
    """/doc REF DOC accepted|rejected|missing [reason] (officers)."""
    svc = context.services
    lang = context.lang
    args = context.args or []
    status = parse_item_status(args[2]) if len(args) >= 3 else None
    if status is None:
        await send(update, context, t("doc_doc_usage", lang, docs=", ".join(svc.documents.catalog.specs)))
        return
    try:
        view, count = svc.documents.set_item(
            args[0][:64], args[1][:32], status, text_after(update, 4)[:1000], context.person.id
        )
    except DocError as exc:
        await _refuse(update, context, exc)
        return
    await send(
        update,
        context,
        t(
            "doc_set_ok",
            lang,
            ref=escape(view.ref),
            doc=escape(args[1]),
            status=t(f"doc_status_{status}", lang),
            count=count,
        )
        + "\n\n"
        + _checklist_text(context, view, lang),
    )


async def _ready(update: Update, context: Context, view: ChecklistView) -> None:
    lang = context.lang
    text = t("doc_upload_ready", lang, ref=escape(view.ref), mb=_MB)
    names = [escape(context.services.documents.catalog.name(i.doc_id, lang)) for i in view.outstanding]
    if names:
        text += "\n" + t("doc_outstanding", lang) + "\n" + "\n".join(f"• {n}" for n in names)
    await send(update, context, text)


async def upload_command(update: Update, context: Context) -> None:
    """/upload REF: the next file the exporter sends is for this application."""
    lang = context.lang
    if not context.args:
        await send(update, context, t("doc_upload_usage", lang))
        return
    try:
        view = context.services.documents.start_upload(context.person.id, ref=" ".join(context.args)[:64])
    except DocError as exc:
        await _refuse(update, context, exc)
        return
    await _ready(update, context, view)


async def upload_button(update: Update, context: Context) -> None:
    """The reminder's [Send a document] button: up:<application id>."""
    query, button = pressed(update, UploadStart)
    if button is None:
        await _refuse(update, context, DocError("doc_button_invalid"))
        return
    try:
        view = context.services.documents.start_upload(context.person.id, app_id=button.application)
    except DocError as exc:
        await _refuse(update, context, exc)
        return
    await query.answer()
    await _ready(update, context, view)


def _file_info(message: Message) -> FileInfo:
    if message.photo:
        # Telegram re-encodes photos as JPEG; the last size is the largest
        photo = message.photo[-1]
        return FileInfo(photo.file_id, photo.file_unique_id, "photo.jpg", "image/jpeg", photo.file_size)
    doc = message.document
    if doc is None:
        raise DocError("please_type")
    # the declared name and type are the client's word only: the content decides later
    return FileInfo(doc.file_id, doc.file_unique_id, doc.file_name or "", doc.mime_type or "", doc.file_size)


async def _content(context: Context, file_id: str) -> bytes:
    """The file's bytes from Telegram (at most MAX_BYTES: checked before)."""
    try:
        file = await context.bot.get_file(file_id)
        return bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("could not fetch an uploaded file: %s", exc)
        raise DocError("doc_fetch_failed") from None


async def on_file(update: Update, context: Context) -> None:
    """A document or photo from an exporter: checked, its type read from its content,
    stored, then the exporter says which document it is."""
    message = message_of(update)
    lang = context.lang
    svc = context.services
    reply = message.reply_to_message
    reply_to = (
        reply.message_id
        if reply is not None and reply.from_user is not None and reply.from_user.id == context.bot.id
        else None
    )
    who = context.person.id
    try:
        declared = _file_info(message)
        svc.documents.check_upload(who, declared, reply_to)
        info = svc.documents.identify(declared, await _content(context, declared.file_id))
        upload_id, view = svc.documents.receive(who, info, reply_to)
    except DocError as exc:
        await _refuse(update, context, exc)
        return
    # what is still needed first, then the rest (a replacement for an accepted copy)
    items = sorted(view.items, key=lambda i: i.status not in OUTSTANDING)
    await send(
        update,
        context,
        t("doc_choose", lang, ref=escape(view.ref)),
        keyboards.document_choice(
            upload_id, items, lambda doc_id: svc.documents.catalog.name(doc_id, lang), lang
        ),
    )


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(n // 1024, 1)} KB"


def _officer_card(context: Context) -> CardRenderer:
    """Renders the caption of the file's card for the officers (in the office's language)."""
    svc = context.services

    def render(upload: UploadView, view: ChecklistView) -> str:
        return t(
            "doc_group_card",
            "id",
            doc=escape(svc.documents.catalog.name(upload.doc_id or "", "id")),
            ref=escape(view.ref),
            company=escape(view.company),
            nib=escape(view.nib),
            who=escape(upload.uploader),
            file=escape(upload.file_name or "-"),
            size=_size(upload.file_size),
        )

    return render


async def choose_button(update: Update, context: Context) -> None:
    """dk:<upload id>:<doc id> (or '-' to cancel): which document the file is."""
    query, button = pressed(update, UploadChoice)
    lang = context.lang
    svc = context.services
    if button is None:
        await _refuse(update, context, DocError("doc_button_invalid"))
        return
    who = context.person.id
    doc_id = button.doc_id
    try:
        if doc_id is None:
            svc.documents.discard(who, button.upload)
            await query.answer()
            await set_keyboard(update, None)
            await send(update, context, t("doc_discarded", lang))
            return
        # the card for the officers is queued with the choice, then tried at once
        officers = svc.tickets.officer_chats()
        upload, view = svc.documents.choose(who, button.upload, doc_id, _officer_card(context), officers)
    except DocError as exc:
        await _refuse(update, context, exc)
        return
    await query.answer()
    await set_keyboard(update, None)
    await flush_officers(context)
    # never "sent to the officers" when no officer can see it
    key = "doc_sent_to_office" if officers else "doc_stored_no_officers"
    await send(
        update,
        context,
        t(key, lang, ref=escape(view.ref), doc=escape(svc.documents.catalog.name(doc_id, lang))),
    )


async def verdict_button(update: Update, context: Context) -> None:
    """dv:<upload id>:a | r | r:<reason> | b under a document in the officers' group."""
    query, button = pressed(update, DocVerdict)
    lang = context.lang
    svc = context.services
    if button is None:
        await _refuse(update, context, DocError("doc_button_invalid"))
        return
    upload_id = button.upload
    who = context.person
    if who.role not in STAFF:
        # not even the keyboard changes for someone else in the group
        await query.answer(t("officer_only", who.lang), show_alert=True)
        return
    if button.step in (DocVerdict.REASONS, DocVerdict.BACK) and button.reason is None:
        # only the keyboard changes: the reasons, or back to [Accept] [Reject]
        await query.answer()
        await set_keyboard(
            update,
            keyboards.reject_reasons(upload_id)
            if button.step == DocVerdict.REASONS
            else keyboards.verdict(upload_id),
        )
        return
    verdict = ACCEPTED if button.step == DocVerdict.ACCEPT else REJECTED
    try:
        upload, _ = svc.documents.decide(upload_id, verdict, button.reason, who.id, who.role)
    except DocError as exc:
        await _refuse(update, context, exc)
        return
    await query.answer(t("doc_decided", lang))
    name = escape(update.effective_user.first_name if update.effective_user else "?")
    when = svc.presenter.when(upload.decided_at) if upload.decided_at else ""
    line = (
        t("doc_group_accepted", "id", who=name, when=when)
        if verdict == ACCEPTED
        else t(
            "doc_group_rejected",
            "id",
            who=name,
            when=when,
            reason=escape(svc.documents.reason_text(upload.reason, "id")),
        )
    )
    message = query.message
    try:
        if isinstance(message, Message) and message.caption is not None:
            # the decision must show: the old caption gives way if both do not fit
            room = CAPTION_LIMIT - utf16_len(line) - 2
            kept = split_html(message.caption_html, max(room, 1))
            caption = kept[0] + ("…" if len(kept) > 1 else "")
            await query.edit_message_caption(caption=f"{caption}\n{line}", reply_markup=None)
        else:
            await set_keyboard(update, None)
            await send(update, context, line)
    except TelegramError as exc:
        log.warning("could not update the document card: %s", exc)


# the words exporters type for off and on, in both languages
REMINDER_SWITCH = {
    **dict.fromkeys(("off", "stop", "mati", "matikan", "nonaktif", "nonaktifkan", "berhenti"), False),
    **dict.fromkeys(("on", "start", "nyala", "nyalakan", "hidupkan", "aktif", "aktifkan"), True),
}


async def reminders_command(update: Update, context: Context) -> None:
    """/reminders off|on: this person's missing-document reminders."""
    lang = context.lang
    arg = (context.args or [""])[0].lower() if context.args else ""
    choice = REMINDER_SWITCH.get(arg)
    if choice is None:
        await send(update, context, t("rem_usage", lang))
        return
    context.services.reminders.set_enabled(context.person.id, choice)
    await send(update, context, t("rem_on" if choice else "rem_off", lang))


async def remind_daily(context: Context) -> None:
    """Job at reminders.time: today's pass (the service skips non-working days)."""
    svc = context.services
    # thousands of applications take a few seconds of DB work: keep the event loop free
    report = await asyncio.to_thread(svc.reminders.run_pass)
    log.info("reminders: %s", report.summary())


async def remind_catch_up(context: Context) -> None:
    """At start-up: a process that was down at reminders.time runs today's pass now."""
    if context.services.reminders.missed_today():
        await remind_daily(context)


def schedule_jobs(jobs: JobQueue[HelpDeskContext], svc: Services) -> None:
    """PTB keeps no jobs across restarts: the schedule comes from config, the state from the DB."""
    when = svc.settings.reminders.time.replace(tzinfo=svc.settings.timezone)
    # one process per pass when several share a database; the lease outlasts the pass only
    leased = once_per_period("reminders", REMINDER_LEASE_SECONDS)
    jobs.run_daily(
        leased(remind_daily), time=when, name="reminders", job_kwargs={"max_instances": 1, "coalesce": True}
    )
    # however late the scheduler gets to it (a busy start-up): skipped, it would not come back
    jobs.run_once(
        leased(remind_catch_up),
        when=10,
        name="reminders-catch-up",
        job_kwargs={"misfire_grace_time": None},
    )


def register(app: Application) -> None:
    restrict(app, STAFF_COMMANDS, STAFF)
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("docs", docs_command))
    app.add_handler(CommandHandler("doc", doc_command))
    app.add_handler(CommandHandler(["upload", "unggah"], upload_command, filters=private))
    app.add_handler(CommandHandler(["reminders", "pengingat"], reminders_command, filters=private))
    # malformed data gets the documents' own refusal
    app.add_handler(CallbackQueryHandler(upload_button, pattern=UploadStart.prefix_pattern()))
    app.add_handler(CallbackQueryHandler(choose_button, pattern=UploadChoice.prefix_pattern()))
    app.add_handler(CallbackQueryHandler(verdict_button, pattern=DocVerdict.prefix_pattern()))
    # before exporter.py, whose catch-all answers files with "please type"
    app.add_handler(
        MessageHandler(private & filters.UpdateType.MESSAGE & (filters.Document.ALL | filters.PHOTO), on_file)
    )
