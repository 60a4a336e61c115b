"""Command line: python -m bot <command> (also installed as `ska-helpdesk`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable

from bot.config import ConfigError, Settings, load_settings
from knowledge.loader import KnowledgeError

log = logging.getLogger("bot")


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL, and Bot API URLs carry the token
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Long polling until SIGINT/SIGTERM."""
    from bot.app import build_application

    settings.require_token()
    app = build_application(settings)
    log.info("starting long polling (database %s)", settings.database_url.split("://")[0])
    # run_polling stops cleanly on SIGINT, SIGTERM and SIGABRT
    app.run_polling(allowed_updates=["message", "edited_message", "callback_query"],
                    drop_pending_updates=False)
    log.info("stopped")
    return 0


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    """Answer questions offline, as the bot would (nothing is logged to the database)."""
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
                "suggestions": [tid for tid, _ in reply.suggestions]
                or [tid for tid, _ in reply.candidates if not confident],
            }, ensure_ascii=False), flush=True)
        else:
            print(f"[{reply.outcome} {reply.topic_id or '-'} {reply.score:.1f} {reply.lang}]")
            print(reply.text)
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
    from bot.console import run_console

    return asyncio.run(run_console(settings, args.as_user))


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

    kb = sub.add_parser("kb", help="knowledge base tools")
    kbsub = kb.add_subparsers(dest="kb_command", required=True)
    p = kbsub.add_parser("check", help="validate the knowledge base")
    p.set_defaults(func=cmd_kb_check)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup_logging()
    func: Callable[[Settings, argparse.Namespace], int] = args.func
    try:
        settings = load_settings(args.config)
        return func(settings, args)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except KnowledgeError as exc:
        print(f"knowledge base error: {len(exc.problems)} problem(s); "
              "run `python -m bot kb check`", file=sys.stderr)
        for line in exc.problems[:20]:
            print(f"  {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
