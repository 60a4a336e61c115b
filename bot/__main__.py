"""Command line: python -m bot <command> (also installed as `ska-helpdesk`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from bot.clierrors import database_problem, unexpected
from bot.config import TOKEN_ENV, ConfigError, Settings, load_settings
from bot.logsafe import redact
from knowledge.loader import KnowledgeError

log = logging.getLogger("bot")
# DEBUG shows the traceback behind a one-line failure
LOG_LEVEL_ENV = "SKA_LOG_LEVEL"


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL, and Bot API URLs carry the token
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # APScheduler logs every run of every job at INFO: two lines a second at idle
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Long polling, or a webhook when telegram.webhook is set, until SIGINT/SIGTERM."""
    from telegram.error import InvalidToken, TelegramError

    from bot.app import build_application
    from bot.db import AlreadyRunning, single_process_lock
    from bot.health import HealthServer
    from bot.startup import StartupError

    settings.require_token()
    try:
        lock = single_process_lock(settings.database_url)
    except AlreadyRunning as exc:
        print(f"run: {exc}", file=sys.stderr)
        return 1
    app = build_application(settings)
    allowed = ["message", "edited_message", "callback_query"]
    health = None
    if settings.health.port is not None:
        try:
            health = HealthServer(app.bot_data["services"], settings.health.listen,
                                  settings.health.port).start()
        except OSError as exc:
            raise ConfigError(f"health.port: cannot listen on {settings.health.listen}:"
                              f"{settings.health.port} ({exc.strerror})") from None
    database = settings.database_url.split("://")[0]
    webhook = settings.telegram.webhook
    try:
        # both stop cleanly on SIGINT, SIGTERM and SIGABRT
        if webhook is not None:
            log.info("starting webhook on %s:%d/%s (database %s)", webhook.listen, webhook.port,
                     webhook.path, database)
            # PTB registers the URL with Telegram and answers 403 to a request whose
            # X-Telegram-Bot-Api-Secret-Token header is missing or wrong
            try:
                app.run_webhook(listen=webhook.listen, port=webhook.port, url_path=webhook.path,
                                webhook_url=webhook.url, secret_token=webhook.secret_token.value,
                                allowed_updates=allowed, drop_pending_updates=False,
                                bootstrap_retries=3)
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
            app.run_polling(allowed_updates=allowed, drop_pending_updates=False,
                            bootstrap_retries=-1)
    except StartupError as exc:
        print(f"run: {exc}; check the network and telegram.base_url", file=sys.stderr)
        return 1
    except InvalidToken:
        # PTB's message quotes the token; say which setting is wrong, never its value
        raise ConfigError(f"telegram.token: Telegram rejected the bot token (revoked or "
                          f"mistyped); check {TOKEN_ENV}") from None
    finally:
        if health is not None:
            health.stop()
        lock.release()
    log.info("stopped")
    return 0


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    """Answer questions offline, as the bot would (nothing is logged to the database)."""
    from bot.i18n import t
    from bot.services.answers import AnswerService
    from knowledge.loader import load_knowledge

    answers = AnswerService(load_knowledge(settings.knowledge_dir), None, settings)
    lang = args.lang or "id"
    questions = sys.stdin if args.question == ["-"] else [" ".join(args.question)]
    for line in questions:
        text = line.strip()
        reply = answers.ask(text, lang, log=False)
        confident = reply.outcome in ("answer", "ask_destination", "smalltalk")
        if args.json:
            print(json.dumps({
                "id": reply.topic_id if confident else None,
                "score": round(reply.score, 2),
                "lang": reply.lang,
                "answer": reply.text if confident else None,
                "confirm": reply.confirm,
                "officer_button": reply.confirm or reply.offer_officer,
                "suggestions": [tid for tid, _ in reply.suggestions]
                or [tid for tid, _ in reply.candidates if not confident],
            }, ensure_ascii=False), flush=True)
        else:
            print(f"[{reply.outcome} {reply.topic_id or '-'} {reply.score:.1f} {reply.lang}]")
            print(reply.text)
            if reply.confirm:          # as the bot adds it under the answer
                print("\n" + t("confirm_note", reply.lang))
            for tid, title in reply.suggestions:
                print(f"  ? {tid}: {title}")
            print(flush=True)
    return 0


def cmd_kb_check(settings: Settings, args: argparse.Namespace) -> int:
    """Validate the knowledge base; non-zero exit with one line per problem."""
    from bot.services.kbcheck import check_knowledge

    problems, summary = check_knowledge(settings)
    for line in problems:
        print(f"ERROR {line}")
    print(summary)
    return 1 if problems else 0


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    """Talk to the real bot in the terminal, without Telegram."""
    from bot.console import resolve_user, run_console

    try:
        resolve_user(settings, args.as_user)
    except ValueError as exc:
        print(f"chat: {exc}", file=sys.stderr)
        return 2
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger().setLevel(logging.WARNING)     # the terminal is the chat window
    return asyncio.run(run_console(settings, args.as_user))


def _bot_username(settings: Settings) -> str | None:
    """From config, else asked from Telegram when a token is there."""
    if settings.telegram.bot_username:
        return settings.telegram.bot_username
    if settings.telegram.token is None:
        return None
    from telegram import Bot

    async def ask() -> str | None:
        kwargs = {"base_url": settings.telegram.base_url} if settings.telegram.base_url else {}
        async with Bot(settings.telegram.token.value, **kwargs) as bot:  # type: ignore[union-attr]
            return bot.username

    try:
        return asyncio.run(ask())
    except Exception as exc:  # noqa: BLE001 - any failure just means "no URL"
        log.warning("could not ask Telegram for the bot's username: %s", type(exc).__name__)
        return None


def cmd_link_code(settings: Settings, args: argparse.Namespace) -> int:
    """A one-time code (and deep link) that links an exporter's account to a company."""
    from bot.services import build_services

    svc = build_services(settings)
    try:
        made = svc.links.create_code(args.nib, created_by=None)
    finally:
        svc.close()
    if made is None:
        print(f"no company with NIB {args.nib}; import its applications first", file=sys.stderr)
        return 1
    code, company = made
    username = _bot_username(settings)
    url = f"https://t.me/{username}?start={code}" if username else None
    print(f"company: {company.name} (NIB {company.nib})")
    print(f"code:    {code}  (single use, valid {settings.link_code_days:g} days)")
    print(f"link:    {url or '(set telegram.bot_username to get the link)'}")
    if args.json:
        print(json.dumps({"code": code, "url": url}))
    return 0


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    """Create or update applications from a CSV or .xlsx file; status changes notify
    exporters. --check reports the same and writes nothing."""
    from pathlib import Path

    from bot.services import build_services

    if not Path(args.file).is_file():
        print(f"cannot read {args.file}: no such file", file=sys.stderr)
        return 2
    svc = build_services(settings)
    try:
        report = svc.importer.import_file(args.file, check=args.check)
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    finally:
        svc.close()
    for line in report.lines():
        print(line)
    return 1 if report.errors else 0


def cmd_demo_load(settings: Settings, args: argparse.Namespace) -> int:
    """Demo companies and applications, so a newcomer can link and try /status."""
    from bot.services import build_services
    from bot.services.demo import demo_nib, load_demo

    svc = build_services(settings)
    try:
        created = load_demo(svc.db, svc.answers.kb.exports)
    finally:
        svc.close()
    print(f"demo data: {created['companies']} companies, {created['applications']} applications "
          "created (existing ones kept)")
    print(f"try: python -m bot link-code {demo_nib(1)}   then /link CODE in chat")
    return 0


def cmd_report_export(settings: Settings, args: argparse.Namespace) -> int:
    """Export realisation by SKA issuance: the office's table, totals from the rows."""
    from bot.services.reports_cli import export_main

    return export_main(settings, year=args.year, start=args.start, end=args.end,
                       commodity=args.commodity, lang=args.lang, out=args.out, chart=args.chart)


def cmd_report_check(settings: Settings, args: argparse.Namespace) -> int:
    """Compare a published export table's totals with its rows (exit 1 on a difference)."""
    from bot.services.reports_cli import check_main

    return check_main(settings, file=args.file, published_value=args.published_value,
                      published_volume=args.published_volume, year=args.year)


def cmd_report_stats(settings: Settings, args: argparse.Namespace) -> int:
    """Help-desk figures of the last days."""
    from bot.services.reports_cli import stats_main

    return stats_main(settings, days=args.days, lang=args.lang, out=args.out, chart=args.chart)


def cmd_precheck(settings: Settings, args: argparse.Namespace) -> int:
    """Run the /cek pre-submission check on a YAML or JSON file of answers."""
    from bot.services.precheck import cli_main

    return cli_main(settings, args.file, lang=args.lang)


def cmd_kb_gaps(settings: Settings, args: argparse.Namespace) -> int:
    """Unanswered and low-confidence questions, grouped, most frequent first."""
    from bot.services import build_services

    svc = build_services(settings)
    try:
        groups = svc.answers.gaps(args.days)
    finally:
        svc.close()
    if not groups:
        print(f"no unanswered questions in the last {args.days} days")
    for text, count in groups:
        print(f"{count:5d}  {text}")
    return 0


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    """SQLite: a consistent snapshot while the bot runs; PostgreSQL: the pg_dump command."""
    from bot.backup import BackupError, backup

    try:
        path = backup(settings.database_url, args.file)
    except BackupError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"backup written to {path} ({path.stat().st_size // 1024} KiB)")
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    """SQLite: replace the database by a backup (stop the bot first)."""
    from bot.backup import BackupError, restore

    try:
        path = restore(settings.database_url, args.file)
    except BackupError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"restored {args.file} into {path}; start the bot again")
    return 0


def cmd_reminders_run(settings: Settings, args: argparse.Namespace) -> int:
    """One reminder pass now (for cron and tests); the bot's sender delivers what it queues."""
    from bot.services import build_services

    svc = build_services(settings)
    try:
        report = svc.reminders.run_pass(force=args.now)
    finally:
        svc.close()
    for line in report.lines:
        print(line)
    print(report.summary())
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="ska-helpdesk", description="SKA help desk bot")
    ap.add_argument("--config", help="path to config.yaml (default: ./config.yaml if present)")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run the bot (long polling; needs TELEGRAM_BOT_TOKEN)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("chat", help="chat with the bot in this terminal (no token needed)")
    p.add_argument("--as", dest="as_user", default="exporter",
                   help="who is typing: exporter (default), officer, admin or a user id")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("ask", help="answer a question offline")
    p.add_argument("--lang", choices=["id", "en"], help="language when the text gives no clue")
    p.add_argument("--json", action="store_true", help="one JSON object per question")
    p.add_argument("question", nargs="+", help="the question, or - to read one per line")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("link-code", help="make a one-time code linking an exporter to a company")
    p.add_argument("nib", help="the company's NIB")
    p.add_argument("--json", action="store_true", help='end with {"code": ..., "url": ...}')
    p.set_defaults(func=cmd_link_code)

    apps = sub.add_parser("applications", help="application data")
    appsub = apps.add_subparsers(dest="apps_command", required=True)
    p = appsub.add_parser("import", help="import applications from CSV or .xlsx (see README)")
    p.add_argument("file", help="a .csv (UTF-8) or .xlsx file with the columns of the README")
    p.add_argument("--check", action="store_true",
                   help="validate every row and print the report; write nothing")
    p.set_defaults(func=cmd_import)

    demo = sub.add_parser("demo", help="demo data")
    demosub = demo.add_subparsers(dest="demo_command", required=True)
    p = demosub.add_parser("load", help="load the demo companies and applications")
    p.set_defaults(func=cmd_demo_load)

    rep = sub.add_parser("report", help="office reports (export realisation, help-desk figures)")
    repsub = rep.add_subparsers(dest="report_command", required=True)
    p = repsub.add_parser("export", help="export realisation by SKA issuance")
    p.add_argument("--year", type=int, help="calendar year (default: this year)")
    p.add_argument("--from", dest="start", help="start: YYYY, YYYY-MM or YYYY-MM-DD")
    p.add_argument("--to", dest="end", help="end: YYYY, YYYY-MM or YYYY-MM-DD")
    p.add_argument("--commodity", help="only this commodity, e.g. Plywood")
    p.add_argument("--lang", choices=["id", "en"], default="id")
    p.add_argument("--out", help="write the Excel workbook to this .xlsx file")
    p.add_argument("--chart", help="write the chart to this .png file")
    p.set_defaults(func=cmd_report_export)
    p = repsub.add_parser("check", help="check a published table's totals against its rows")
    p.add_argument("file", help="CSV: no,exporter,commodity,volume_tonnes,value_usd,destinations")
    p.add_argument("--published-value", help="printed USD total (default: the knowledge base's)")
    p.add_argument("--published-volume",
                   help="printed tonnes total (default: the knowledge base's)")
    p.add_argument("--year", type=int, help="also compare each row with the SKAs issued that year")
    p.set_defaults(func=cmd_report_check)
    p = repsub.add_parser("stats", help="help-desk figures")
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--lang", choices=["id", "en"], default="id")
    p.add_argument("--out", help="write the Excel workbook to this .xlsx file")
    p.add_argument("--chart", help="write the chart to this .png file")
    p.set_defaults(func=cmd_report_stats)

    p = sub.add_parser("backup", help="back up the SQLite database to FILE (online)")
    p.add_argument("file", help="new file for the backup")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="replace the SQLite database by the backup FILE "
                                       "(stop the bot first)")
    p.add_argument("file", help="a file written by `backup`")
    p.set_defaults(func=cmd_restore)

    rem = sub.add_parser("reminders", help="missing-document reminders")
    remsub = rem.add_subparsers(dest="reminders_command", required=True)
    p = remsub.add_parser("run", help="queue today's due reminders now (one pass)")
    p.add_argument("--now", action="store_true",
                   help="every application with missing documents is due (opt-outs respected)")
    p.set_defaults(func=cmd_reminders_run)

    kb = sub.add_parser("kb", help="knowledge base tools")
    kbsub = kb.add_subparsers(dest="kb_command", required=True)
    p = kbsub.add_parser("check", help="validate the knowledge base")
    p.set_defaults(func=cmd_kb_check)
    p = kbsub.add_parser("gaps", help="unanswered questions, grouped by similarity")
    p.add_argument("--days", type=int, default=30)
    p.set_defaults(func=cmd_kb_gaps)

    p = sub.add_parser("precheck", help="run the /cek check on a YAML or JSON file of answers")
    p.add_argument("--lang", choices=["id", "en"], default="id")
    p.add_argument("file")
    p.set_defaults(func=cmd_precheck)
    return ap


def hoist_config(argv: list[str]) -> list[str]:
    """`--config PATH` works before or after the sub-command (`run --config x.yaml`)."""
    rest: list[str] = []
    front: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--config" and i + 1 < len(argv):
            front = [arg, argv[i + 1]]
            i += 2
            continue
        if arg.startswith("--config="):
            front = [arg]
        else:
            rest.append(arg)
        i += 1
    return front + rest


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(hoist_config(sys.argv[1:] if argv is None else argv))
    level = os.environ.get(LOG_LEVEL_ENV, "INFO").upper()
    setup_logging(level if level in ("DEBUG", "INFO", "WARNING", "ERROR") else "INFO")
    func: Callable[[Settings, argparse.Namespace], int] = args.func
    settings: Settings | None = None
    try:
        settings = load_settings(args.config)
        return func(settings, args)
    except ConfigError as exc:
        for problem in exc.problems or [str(exc)]:
            print(f"config error: {problem}", file=sys.stderr)
        return 2
    except KnowledgeError as exc:
        print(f"knowledge base error: {len(exc.problems)} problem(s); "
              "run `python -m bot kb check`", file=sys.stderr)
        for line in exc.problems[:20]:
            print(f"  {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except SQLAlchemyError as exc:
        # unreachable or refusing server, unwritable SQLite file: one line, no password
        log.debug("database failure", exc_info=exc)
        url = settings.database_url if settings is not None else "?"
        print(database_problem(exc, url), file=sys.stderr)
        return 2
    except OSError as exc:
        log.debug("file failure", exc_info=exc)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or type(exc).__name__}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a command's last word is one line, not a trace
        print(redact(unexpected(exc, args.command)), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
