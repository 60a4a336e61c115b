"""The yardstick: a bare python-telegram-bot Application that answers every text with a
constant one. What the help desk costs is measured against it (bench/issue18.py).

    python bench/bare_bot.py BASE_URL        # long-polls BASE_URL until SIGINT/SIGTERM

In process, `bare_application(request)` is the same bot on any PTB request backend.
"""

from __future__ import annotations

import sys

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters
from telegram.request import BaseRequest

TOKEN = "424242:BARE-token"
ANSWER = "ok"


async def answer(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message is not None:
        await update.message.reply_text(ANSWER)


def bare_application(
    request: BaseRequest | None = None, base_url: str | None = None, concurrent_updates: int = 1
) -> Application:  # type: ignore[type-arg]
    builder = Application.builder().token(TOKEN).concurrent_updates(concurrent_updates)
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if base_url is not None:
        builder = builder.base_url(base_url)
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, answer))
    return app


if __name__ == "__main__":
    bare_application(base_url=sys.argv[1]).run_polling(allowed_updates=["message"])
