"""`run` (the bot, until stopped) and `chat` (the real bot in this terminal)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.cli.common import Subcommands, command
from bot.config import TOKEN_ENV, ConfigError, Settings

log = logging.getLogger("bot")
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


def register(sub: Subcommands) -> None:
    command(sub, "run", cmd_run, "run the bot (long polling; needs TELEGRAM_BOT_TOKEN)")
    p = command(sub, "chat", cmd_chat, "chat with the bot in this terminal (no token needed)")
    p.add_argument(
        "--as",
        dest="as_user",
        default="exporter",
        help="who is typing: exporter (default), officer, admin or a user id",
    )


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Long polling, or a webhook when telegram.webhook is set, until SIGINT/SIGTERM."""
    from telegram.error import InvalidToken, TelegramError

    from bot.app import build_application
    from bot.db import AlreadyRunning, single_process_lock
    from bot.services import build_services
    from bot.startup import StartupError

    settings.require_token()
    try:
        lock = single_process_lock(settings.database_url)
    except AlreadyRunning as exc:
        print(f"run: {exc}", file=sys.stderr)
        return 1
    # the matcher and the national holidays are built while the first getUpdates waits
    # (bot.app.finish_start_up)
    app = build_application(settings, services=build_services(settings, matcher_later=True))
    health = None
    if settings.health.port is not None:
        from bot.health import HealthServer  # here: an HTTP server only when one is configured

        try:
            health = HealthServer(
                app.bot_data["services"], settings.health.listen, settings.health.port
            ).start()
        except OSError as exc:
            raise ConfigError(
                f"health.port: cannot listen on {settings.health.listen}:"
                f"{settings.health.port} ({exc.strerror})"
            ) from None
    database = settings.database_url.split("://")[0]
    webhook = settings.telegram.webhook
    try:
        # both stop cleanly on SIGINT, SIGTERM and SIGABRT
        if webhook is not None:
            log.info(
                "starting webhook on %s:%d/%s (database %s)",
                webhook.listen,
                webhook.port,
                webhook.path,
                database,
            )
            # PTB registers the URL with Telegram and answers 403 to a request whose
            # X-Telegram-Bot-Api-Secret-Token header is missing or wrong
            try:
                app.run_webhook(
                    listen=webhook.listen,
                    port=webhook.port,
                    url_path=webhook.path,
                    webhook_url=webhook.url,
                    secret_token=webhook.secret_token.value,
                    allowed_updates=ALLOWED_UPDATES,
                    drop_pending_updates=False,
                    bootstrap_retries=3,
                )
            except InvalidToken:
                raise
            except TelegramError as exc:
                # e.g. Telegram refuses the URL (not https, no valid certificate)
                print(f"webhook: Telegram refused telegram.webhook.url: {exc}", file=sys.stderr)
                return 1
        else:
            log.info("starting long polling (database %s)", database)
            # getMe has answered by now (initialize retries it): deleteWebhook is retried
            # until it goes through, and getUpdates is retried by PTB for as long as it runs
            app.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False, bootstrap_retries=-1)
    except StartupError as exc:
        print(f"run: {exc}; check the network and telegram.base_url", file=sys.stderr)
        return 1
    except InvalidToken:
        # PTB's message quotes the token; say which setting is wrong, never its value
        raise ConfigError(
            f"telegram.token: Telegram rejected the bot token (revoked or mistyped); check {TOKEN_ENV}"
        ) from None
    finally:
        if health is not None:
            health.stop()
        lock.release()
    log.info("stopped")
    return 0


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    """Talk to the real bot in the terminal, without Telegram."""
    from bot.console import resolve_user, run_console

    try:
        resolve_user(settings, args.as_user)
    except ValueError as exc:
        print(f"chat: {exc}", file=sys.stderr)
        return 2
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger().setLevel(logging.WARNING)  # the terminal is the chat window
    return asyncio.run(run_console(settings, args.as_user))
