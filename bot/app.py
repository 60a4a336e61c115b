"""The one place that wires everything: build_application()."""

from __future__ import annotations

import logging

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackContext,
    TypeHandler,
)
from telegram.request import BaseRequest

from bot import logsafe
from bot.config import Settings
from bot.i18n import t
from bot.services import Services, build_services
from bot.services.leases import once_per_period
from bot.services.updates import UpdateLog
from handlers import (
    broadcast,
    common,
    documents,
    exporter,
    officer,
    precheck,
    reports,
    status,
    tickets,
)

log = logging.getLogger(__name__)
OFFLINE_TOKEN = "123456:OFFLINE-CHAT"
MENU = ("start", "status", "topics", "officer", "cek", "link", "lang", "help")
OUTBOX_INTERVAL = 1.0
SLA_INTERVAL = 60
PRUNE_INTERVAL = 3600


def command_menu(lang: str) -> list[BotCommand]:
    return [BotCommand(name, t(f"cmd_{name}", lang)) for name in MENU]


async def send_outbox(context: CallbackContext) -> None:
    """Job: drain due notifications at the configured rate."""
    svc: Services = context.application.bot_data["services"]
    await svc.sender.drain(context.bot, budget_seconds=OUTBOX_INTERVAL * 0.9)


async def skip_duplicate(update: Update, context: CallbackContext) -> None:
    """Telegram may deliver an update twice (retries, a restart): handle it once."""
    log_: UpdateLog = context.application.bot_data["update_log"]
    if not log_.first_time(update.update_id):
        log.info("update %d was delivered again; skipped", update.update_id)
        raise ApplicationHandlerStop


async def prune_updates(context: CallbackContext) -> None:
    """Job: forget update ids older than Telegram's redelivery window."""
    log_: UpdateLog = context.application.bot_data["update_log"]
    log_.prune()


async def post_init(app: Application) -> None:
    """Command menus in both languages; Indonesian is the default for everyone else."""
    svc: Services = app.bot_data["services"]
    recovered = svc.sender.recover()
    if recovered:
        log.info("outbox: %d message(s) interrupted by the last stop will be sent again",
                 recovered)
    await app.bot.set_my_commands(command_menu("id"))
    await app.bot.set_my_commands(command_menu("id"), language_code="id")
    await app.bot.set_my_commands(command_menu("en"), language_code="en")


async def post_shutdown(app: Application) -> None:
    svc: Services | None = app.bot_data.get("services")
    if svc is not None:
        svc.close()


def build_application(settings: Settings, request: BaseRequest | None = None,
                      updates_request: BaseRequest | None = None,
                      services: Services | None = None, token: str | None = None,
                      dedupe_updates: bool | None = None) -> Application:
    """The Application production runs; tests pass a fake Bot API as `request`.

    `dedupe_updates` defaults to on for real Telegram only: the in-process fake (terminal
    chat, flow tests) numbers its updates from 1 again in every session on the same DB.
    """
    token = token or (settings.telegram.token.value if settings.telegram.token else None)
    # before the first request: httpx logs URLs, and every Bot API URL carries the token
    webhook = settings.telegram.webhook
    logsafe.protect(token, webhook.secret_token.value if webhook else None)
    builder: ApplicationBuilder = Application.builder().token(token or OFFLINE_TOKEN)
    if settings.telegram.base_url:
        builder = builder.base_url(settings.telegram.base_url)
    if settings.telegram.base_file_url:
        builder = builder.base_file_url(settings.telegram.base_file_url)
    if request is not None:
        builder = builder.request(request)
        builder = builder.get_updates_request(updates_request or request)
    builder = builder.post_init(post_init).post_shutdown(post_shutdown)
    app = builder.build()
    app.bot_data["services"] = services or build_services(settings)
    if dedupe_updates if dedupe_updates is not None else request is None:
        app.bot_data["update_log"] = UpdateLog(app.bot_data["services"].db)
        # the earliest group, before anything that counts or remembers: a second copy of an
        # update changes nothing (one indexed insert; the flood throttle comes after it)
        app.add_handler(TypeHandler(Update, skip_duplicate), group=-6)

    # groups -5..-1 run before every handler, in this order: drop what the bot must not act
    # on (channels, other groups, edits), the flood throttle (both before any database
    # work), who is talking, the one role check, then an exporter's open ticket (or pending
    # ticket question) claims the message
    app.bot_data["throttle"] = common.Throttle(settings.throttle.messages,
                                               settings.throttle.window_seconds)
    app.add_handler(TypeHandler(Update, common.ignore_foreign), group=-5)
    app.add_handler(TypeHandler(Update, common.throttle), group=-4)
    app.add_handler(TypeHandler(Update, common.remember_user), group=-3)
    app.add_handler(TypeHandler(Update, common.role_guard), group=-2)
    tickets.register_router(app, group=-1)
    common.restrict(app, officer.OFFICER_COMMANDS, common.STAFF)
    # the /cek flow claims a user's text while a check is open, before FAQ matching
    precheck.register(app)
    # before exporter.py: /start with a link code is caught here
    status.register(app)
    officer.register(app)
    reports.register(app)
    tickets.register(app)
    # documents' file handler and buttons must precede exporter.py's catch-alls
    documents.register(app)
    broadcast.register(app)
    exporter.register(app)
    # unknown commands last, so every module's commands are tried first
    exporter.register_fallbacks(app)
    app.add_error_handler(common.on_error)
    if app.job_queue is not None:
        app.job_queue.run_repeating(send_outbox, interval=OUTBOX_INTERVAL, first=OUTBOX_INTERVAL,
                                    name="outbox", job_kwargs={"max_instances": 1,
                                                               "coalesce": True})
        documents.schedule_jobs(app)
        broadcast.schedule_jobs(app)
        # with several processes on one database, only the lease holder runs the pass
        app.job_queue.run_repeating(once_per_period("ticket-sla", SLA_INTERVAL - 5)(tickets.sla_job),
                                    interval=SLA_INTERVAL, first=5, name="ticket-sla",
                                    job_kwargs={"max_instances": 1, "coalesce": True})
        if "update_log" in app.bot_data:
            app.job_queue.run_repeating(prune_updates, interval=PRUNE_INTERVAL, first=60,
                                        name="prune-updates")
    return app
