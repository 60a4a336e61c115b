"""`ask`: questions answered offline, as the bot would answer them."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.common import Subcommands, command
from bot.config import Settings


def register(sub: Subcommands) -> None:
    p = command(sub, "ask", cmd_ask, "answer a question offline")
    p.add_argument("--lang", choices=["id", "en"], help="language when the text gives no clue")
    p.add_argument("--json", action="store_true", help="one JSON object per question")
    p.add_argument("question", nargs="+", help="the question, or - to read one per line")


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
            print(
                json.dumps(
                    {
                        "id": reply.topic_id if confident else None,
                        "score": round(reply.score, 2),
                        "lang": reply.lang,
                        "answer": reply.text if confident else None,
                        "confirm": reply.confirm,
                        "officer_button": reply.confirm or reply.offer_officer,
                        "suggestions": [tid for tid, _ in reply.suggestions]
                        or [tid for tid, _ in reply.candidates if not confident],
                    },
                    ensure_ascii=False,
                ),
                flush=True,
            )
        else:
            print(f"[{reply.outcome} {reply.topic_id or '-'} {reply.score:.1f} {reply.lang}]")
            print(reply.text)
            if reply.confirm:  # as the bot adds it under the answer
                print("\n" + t("confirm_note", reply.lang))
            for tid, title in reply.suggestions:
                print(f"  ? {tid}: {title}")
            print(flush=True)
    return 0
