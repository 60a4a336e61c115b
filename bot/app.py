"""The one place that wires everything: build_application()."""

from __future__ import annotations

import asyncio
import gc
import inspect
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram._utils.types import ODVInput
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    Defaults,
    ExtBot,
    JobQueue,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest, RequestData

from bot import logsafe
from bot.config import Settings
from bot.services import Services, build_services
from bot.services.answers import QueryLogRow, deferring_log
from bot.services.updates import UpdateLog, valid_id
from bot.startup import StartupError, retry_startup
from bot.telegram import keyboards
from bot.telegram.context import HelpDeskContext, services_of
from bot.telegram.request import PooledRequest
from bot.telegram.sender import OutboxSender, max_in_flight
from handlers import (
    broadcast,
    common,
    documents,
    exporter,
    knowledge_admin,
    menus,
    officer,
    precheck,
    reports,
    router,
    spikes,
    status,
    tickets_exporter,
    tickets_jobs,
    tickets_officer,
)

log = logging.getLogger(__name__)
OFFLINE_TOKEN = "123456:OFFLINE-CHAT"
PRUNE_INTERVAL = 3600
# FAQ entries approved in another process are answered with within this many seconds
LEARNED_INTERVAL = 30
# seconds between polling's start and what start-up left for later (finish_start_up, the menus)
SEND_FIRST = 0.05
# at most this long at shutdown for what the last updates queued (paced: 1 a second a chat)
FINAL_DRAIN_SECONDS = 3.0
# every message the bot sends is Telegram HTML, without link previews
DEFAULTS = Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True))
CONTEXT_TYPES = ContextTypes(context=HelpDeskContext)
# the exporters' commands (with their Indonesian names): in a group only the private-only
# message answers them; staff keep the two their own menu offers there (/lang, /help)
EXPORTER_COMMANDS = frozenset(
    {
        "start",
        "help",
        "link",
        "unlink",
        "status",
        "topics",
        "topik",
        "lang",
        "bahasa",
        "officer",
        "petugas",
        "upload",
        "unggah",
        "reminders",
        "pengingat",
        "cek",
        "check",
        "batal",
        "cancel",
    }
)


def command_menu(lang: str) -> list[BotCommand]:
    """The exporters' menu (what everyone sees outside the staff's chats)."""
    return menus.exporter_menu(lang)


async def send_outbox(context: HelpDeskContext) -> None:
    """Job, started once: the outbox sender runs until the Application stops (it sleeps
    while nothing is due and wakes when a row is committed)."""
    app = context.application
    await context.sender.run(context.bot, running=lambda: app.running)


class PerSenderUpdates(BaseUpdateProcessor):
    """`telegram.concurrent_updates` > 1: updates from different people are handled at the
    same time, one person's in the order they came. While one exporter's answer waits on
    Telegram or on PostgreSQL, the next exporter's question is already being matched; a
    person's second message never overtakes the first (a /cek answer, a ticket follow-up).

    The price: a crash may repeat the reply of every update that was in flight (answered
    but not yet recorded), up to that many duplicates instead of at most one; nothing is
    lost. On by default (64); see README "Running in production"."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._last: dict[int, asyncio.Future[None]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _sender(update)
        if key is None:
            await coroutine
            return
        before = self._last.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._last[key] = mine
        try:
            if before is not None:
                # shielded: a cancelled waiter must not cancel the turn of the one before
                await asyncio.shield(before)
        except BaseException:
            if inspect.iscoroutine(coroutine):
                coroutine.close()  # cancelled while waiting its turn: never started
            if before is not None and not before.done():
                # the next in line still waits for the one before this
                before.add_done_callback(lambda _: self._done(key, mine))
            else:
                self._done(key, mine)
            raise
        try:
            await coroutine
        finally:
            self._done(key, mine)

    def _done(self, key: int, mine: asyncio.Future[None]) -> None:
        if not mine.done():
            mine.set_result(None)
        if self._last.get(key) is mine:
            del self._last[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _sender(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    return update.effective_chat.id if update.effective_chat is not None else None


class HandledQueue(asyncio.Queue[object]):
    """The update queue. In webhook mode put() returns only once the update was handled.

    PTB's webhook handler answers Telegram 200 when put() returns. Returning on receipt
    would let a crash lose the updates received but not yet handled; waiting means
    Telegram delivers them again, and the duplicate filter handles each id once. Long
    polling feeds the queue without waiting (:class:`ConfirmWhenHandled` does the same job
    there), so the updater keeps the queue full for concurrent handling.
    """

    def __init__(self, wait_for_handling: bool = False) -> None:
        super().__init__()
        self.wait_for_handling = wait_for_handling
        self._waiting: dict[int, list[asyncio.Future[None]]] = {}

    async def put(self, item: object) -> None:
        if not self.wait_for_handling or not isinstance(item, Update):
            await super().put(item)
            return
        handled = asyncio.get_running_loop().create_future()
        # a redelivery can arrive while the first copy is handled: both wait for it
        self._waiting.setdefault(item.update_id, []).append(handled)
        try:
            await super().put(item)
            await handled
        finally:
            waiters = self._waiting.get(item.update_id)
            if waiters is not None and handled in waiters:
                waiters.remove(handled)
                if not waiters:
                    del self._waiting[item.update_id]

    def handled(self, update: Update, error: BaseException | None = None) -> None:
        """Release the webhook requests waiting for this update; an error fails them
        (Telegram then retries) instead of confirming an update that was not handled."""
        for waiter in self._waiting.pop(update.update_id, ()):
            if waiter.done():
                continue
            if error is None:
                waiter.set_result(None)
            elif isinstance(error, asyncio.CancelledError):
                waiter.cancel()
            else:
                waiter.set_exception(error)


class HelpDeskApplication(
    Application[
        ExtBot[None],
        HelpDeskContext,
        dict[Any, Any],
        dict[Any, Any],
        dict[Any, Any],
        JobQueue[HelpDeskContext],
    ]
):
    """Telegram may deliver an update twice (retries, a restart): handle it once.

    An update id is recorded after its handlers ran, and Telegram learns that an update
    arrived only once it was handled: getUpdates confirms a batch then
    (:class:`ConfirmWhenHandled`), a webhook request is answered then
    (:class:`HandledQueue`). After a crash Telegram delivers the unconfirmed updates
    again, the handled ones are skipped and the ones cut off are handled again: at most
    one duplicate per update in flight (`telegram.concurrent_updates` of them), never a
    loss.
    """

    startup_retry_seconds: float = 0.0
    _menus: asyncio.Task[None] | None = None

    async def initialize(self) -> None:
        # getMe: Telegram may be unreachable for a moment while the server boots
        await retry_startup("getMe", super().initialize, self.startup_retry_seconds)

    async def start(self) -> None:
        await super().start()
        svc: Services | None = self.bot_data.get("services")
        if svc is not None and svc.pending_matcher is not None:
            # `run`: updates are being fetched now; what start-up left is done beside them
            self.create_task(finish_start_up(svc), name="finish-start-up")
            self._menus = self.create_task(set_menus_later(self), name="command-menus")

    async def stop(self) -> None:
        # stop() waits for every create_task, and the menus may be retrying for minutes
        if self._menus is not None:
            self._menus.cancel()
        await super().stop()
        sender = self.bot_data.get("sender")
        if isinstance(sender, OutboxSender):
            # the sender stopped with `running`, before the last updates were handled:
            # what they queued (a reply behind its chat's backlog, a group at its pace)
            # leaves now rather than at the next start
            try:
                await sender.drain(self.bot, budget_seconds=FINAL_DRAIN_SECONDS)
            except Exception:
                log.exception("outbox: the last drain failed; the rows wait for the next start")

    async def process_update(self, update: object) -> None:
        try:
            await self._process_once(update)
        except BaseException as exc:  # cancelled at shutdown: Telegram must deliver again
            self._acknowledge(update, exc)
            raise
        self._acknowledge(update)

    def _acknowledge(self, update: object, error: BaseException | None = None) -> None:
        if isinstance(update, Update) and isinstance(self.update_queue, HandledQueue):
            self.update_queue.handled(update, error)

    async def _process_once(self, update: object) -> None:
        log_: UpdateLog | None = self.bot_data.get("update_log")
        if not isinstance(update, Update):
            await super().process_update(update)
            return
        if not valid_id(update.update_id):
            # only a forged webhook body has one; Telegram never sends it again
            log.warning("update with an invalid id %.40r ignored", update.update_id)
            return
        # The duplicate filter must not stop the bot: an exception leaving process_update
        # ends PTB's update fetcher for good. When the database fails the check, the update
        # is handled anyway (a possible duplicate, never a loss; its handlers report the
        # failure to the user themselves).
        try:
            seen = log_ is not None and log_.seen(update.update_id)
        except Exception:
            log.exception("duplicate check failed for update %d; handling it", update.update_id)
            seen = False
        if seen:
            log.info("update %d was delivered again; skipped", update.update_id)
            return
        with deferring_log() as deferred:
            await super().process_update(update)
        rows = deferred.rows
        if log_ is not None:
            # the question's log row (PostgreSQL) is written with the update id, one round trip
            if rows and log_.records_questions:
                question, rows = rows[0], rows[1:]
            else:
                question = None
            try:
                await log_.db.run(log_.first_time, update.update_id, question)
            except Exception:
                log.exception("update %d was handled but could not be recorded", update.update_id)
        await self._write_questions(rows)

    async def _write_questions(self, rows: list[QueryLogRow]) -> None:
        """Deferred question-log rows that did not go with the update id."""
        if not rows:
            return
        svc = services_of(self)
        try:
            await svc.db.run(svc.answers.write_log, rows)
        except Exception:
            log.exception("%d question(s) answered but not logged", len(rows))


class ConfirmWhenHandled(BaseRequest):
    """getUpdates with a new offset confirms the previous batch to Telegram: wait until
    that batch has been handled, so a crash cannot lose updates fetched but not handled
    (PTB asks for the next batch as soon as the last one is queued)."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner
        self.queue: asyncio.Queue[object] | None = None

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self.queue is not None and url.endswith("/getUpdates"):
            await self.queue.join()
        return await self.inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )


def settle_heap() -> None:
    """What start-up built (the knowledge base, the matcher, the modules: about 160,000
    objects) lives as long as the process: out of the garbage collector's sight.
    Otherwise each full collection, one every couple of thousand updates, walked all of
    it: on average a tenth of the CPU of an FAQ update. gc.freeze is a list splice, not a
    collection; post_shutdown hands the objects back (tests build many Applications in
    one process)."""
    gc.freeze()


async def finish_start_up(svc: Services) -> None:
    """What `run` leaves until updates are being fetched, done in a thread: the matcher,
    swapped in on the event loop (as a reload is) unless a reload came first, then the
    office calendar's national holidays."""
    pending = svc.pending_matcher
    assert pending is not None
    # the thread holds the interpreter while it builds: the first getUpdates goes out first
    # (a few milliseconds; started beside it, the thread delayed it by tens of them)
    await asyncio.sleep(SEND_FIRST)
    matcher = await asyncio.to_thread(pending.build)
    if svc.answers.matcher is pending:
        svc.answers.matcher = matcher
    svc.pending_matcher = None
    await asyncio.to_thread(getattr, svc.calendar, "national")
    settle_heap()


async def set_menus_later(app: HelpDeskApplication) -> None:
    """`run`'s command menus, set while updates are already being answered: three round
    trips to Telegram per scope (default, id, en), three more per officer and admin, and
    nobody needs a menu to be answered. Telegram unreachable is retried as at start-up;
    what still fails leaves the menus as they were, with a warning."""
    await asyncio.sleep(SEND_FIRST)  # the first getUpdates goes out first
    try:
        await menus.set_menus(app, app.startup_retry_seconds)
    except (StartupError, TelegramError) as exc:
        log.warning("command menus not set: %s", exc)


async def reload_learned(context: HelpDeskContext) -> None:
    """Job: entries an admin approved through another process sharing the database."""
    svc = context.services
    # the load runs in a thread; the swap on the event loop, between two updates
    kb = await asyncio.to_thread(svc.proposals.changed)
    if kb is not None:
        svc.proposals.on_reload(kb)


async def prune_updates(context: HelpDeskContext) -> None:
    """Job: forget update ids older than Telegram's redelivery window."""
    log_: UpdateLog = context.application.bot_data["update_log"]
    log_.prune()


async def post_init(app: Application) -> None:
    """Command menus by role, in both languages; Indonesian is the default."""
    svc = services_of(app)
    if svc.settings.officers_chat_id is None:
        officers = len(svc.settings.officer_ids)
        if officers:
            log.warning(
                "officers.chat_id is not set: ticket and document cards go to each of "
                "the %d officer(s) of officers.user_ids in private",
                officers,
            )
        else:
            log.warning(
                "officers.chat_id and officers.user_ids are not set: questions for "
                "officers are stored, and exporters are told no officer is connected"
            )
    recovered = svc.outbox.recover()
    if recovered:
        log.info("outbox: %d message(s) interrupted by the last stop will be sent again", recovered)
    if svc.pending_matcher is None:
        await menus.set_menus(app, getattr(app, "startup_retry_seconds", 0.0))
        settle_heap()
    # else `run`: both once updates are being fetched (HelpDeskApplication.start)


async def post_shutdown(app: Application) -> None:
    gc.unfreeze()
    svc: Services | None = app.bot_data.get("services")
    if svc is not None:
        svc.close()


def build_application(
    settings: Settings,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    services: Services | None = None,
    token: str | None = None,
    dedupe_updates: bool | None = None,
) -> Application:
    """The Application production runs; tests pass a fake Bot API as `request`.

    `dedupe_updates` defaults to on for real Telegram only: the in-process fake (terminal
    chat, flow tests) numbers its updates from 1 again in every session on the same DB.
    """
    token = token or (settings.telegram.token.value if settings.telegram.token else None)
    # before the first request: httpx logs URLs, and every Bot API URL carries the token
    webhook = settings.telegram.webhook
    logsafe.protect(token, webhook.secret_token.value if webhook else None)
    builder: ApplicationBuilder = (
        Application.builder().token(token or OFFLINE_TOKEN).defaults(DEFAULTS).context_types(CONTEXT_TYPES)
    )
    if settings.telegram.base_url:
        builder = builder.base_url(settings.telegram.base_url)
    if settings.telegram.base_file_url:
        builder = builder.base_file_url(settings.telegram.base_file_url)
    # one connection for each update handled at a time and each outbox call under way,
    # in small pools (bot/telegram/request.py); getUpdates on PTB's own client
    calls: BaseRequest
    if request is None:
        pooled = PooledRequest(
            settings.telegram.concurrent_updates + max_in_flight(settings.outbox.rate_per_second)
        )
        calls, updates = pooled, updates_request or pooled.updates_request()
    else:
        calls, updates = request, updates_request or request
    builder = builder.request(calls)
    confirm = ConfirmWhenHandled(updates)
    builder = builder.get_updates_request(confirm)
    builder = builder.application_class(HelpDeskApplication)
    builder = builder.update_queue(HandledQueue(wait_for_handling=webhook is not None))
    if settings.telegram.concurrent_updates > 1:
        builder = builder.concurrent_updates(PerSenderUpdates(settings.telegram.concurrent_updates))
    builder = builder.post_init(post_init).post_shutdown(post_shutdown)
    app = builder.build()
    assert isinstance(app, HelpDeskApplication)  # application_class above
    app.startup_retry_seconds = settings.telegram.startup_retry_seconds
    confirm.queue = app.update_queue
    svc = services or build_services(settings)
    app.bot_data["services"] = svc
    # the outbox's rows leave through the Bot API here; their keyboards are data until then
    app.bot_data["sender"] = OutboxSender(svc.outbox, keyboards.OUTBOX)
    svc.db.offload = settings.telegram.concurrent_updates > 1 and not svc.db.local
    if dedupe_updates if dedupe_updates is not None else request is None:
        # checked before any handler group: a second copy of an update changes nothing
        # (one indexed lookup; the flood throttle comes after it)
        app.bot_data["update_log"] = UpdateLog(svc.db)

    # groups -5..-1 run before every handler, in this order: drop what the bot must not act
    # on (channels, other groups, edits outside a private chat), the flood throttle (both
    # before any database work), who is talking, the one role check, then an exporter's
    # edit, open ticket (or pending ticket question) claims the message
    app.bot_data["throttle"] = common.Throttle(settings.throttle.messages, settings.throttle.window_seconds)
    app.add_handler(TypeHandler(Update, common.ignore_foreign), group=-5)
    app.add_handler(TypeHandler(Update, common.throttle), group=-4)
    app.add_handler(TypeHandler(Update, common.remember_user), group=-3)
    app.add_handler(TypeHandler(Update, common.role_guard), group=-2)
    # an edited private message: relayed to an open ticket, and every edit stops there
    app.add_handler(
        MessageHandler(
            filters.UpdateType.EDITED_MESSAGE & filters.ChatType.PRIVATE, tickets_exporter.on_edit
        ),
        group=-1,
    )
    # an admin's reply to an FAQ edit prompt, before the exporter router of the same group
    knowledge_admin.register_edit_replies(app, group=-1)
    # an open /cek check, ticket question, rating comment or ticket claims the message;
    # a private text none claims is answered from the FAQ there
    router.register_claims(app, group=-1)
    common.restrict(app, officer.OFFICER_COMMANDS, common.STAFF)
    common.private_only(app, EXPORTER_COMMANDS, staff_too=frozenset({"help", "lang", "bahasa"}))
    precheck.register(app)
    # before exporter.py: /start with a link code is caught here
    status.register(app)
    officer.register(app)
    reports.register(app)
    tickets_exporter.register(app)
    tickets_officer.register(app)
    knowledge_admin.register(app)
    # documents' file handler must precede the "please type" answer to files
    documents.register(app)
    broadcast.register(app)
    spikes.register(app)
    menus.register(app)
    exporter.register(app)
    # what is left of a private text is a question for the FAQ
    router.register_questions(app)
    # last: the refusal of unknown buttons, the answer to files and unknown commands
    exporter.register_fallbacks(app)
    router.register_fallbacks(app)
    app.add_error_handler(common.on_error)
    if app.job_queue is not None:
        schedule_jobs(app.job_queue, svc, with_prune="update_log" in app.bot_data)
    return app


def schedule_jobs(jobs: JobQueue[HelpDeskContext], svc: Services, with_prune: bool) -> None:
    """PTB keeps no jobs across restarts: every schedule is made here at start-up."""
    # the sender is a job that runs until the Application stops: APScheduler skips a one-off
    # job it reaches more than a second late (misfire_grace_time), which a start-up on a
    # loaded machine does, and the outbox would then never be sent by this process
    jobs.run_once(send_outbox, when=0, name="outbox", job_kwargs={"misfire_grace_time": None})
    documents.schedule_jobs(jobs, svc)
    broadcast.schedule_jobs(jobs)
    spikes.schedule_jobs(jobs)
    tickets_jobs.schedule_jobs(jobs)
    jobs.run_repeating(
        reload_learned,
        interval=LEARNED_INTERVAL,
        first=LEARNED_INTERVAL,
        name="learned-faq",
        job_kwargs={"max_instances": 1, "coalesce": True},
    )
    if with_prune:
        jobs.run_repeating(prune_updates, interval=PRUNE_INTERVAL, first=60, name="prune-updates")
