"""Exporters' side: greeting, help, topics, language, questions and their buttons."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.i18n import LANGS, t
from bot.services.answers import ESCALATE_TOPIC, MAX_QUESTION_CHARS
from bot.services.feedback import alternatives
from handlers.common import (
    OTHER_COUNTRY,
    Context,
    button,
    escape,
    is_private,
    lang_of,
    person,
    rows,
    send,
    send_reply,
    services,
    set_keyboard,
)
from handlers.menus import help_command
from handlers.tickets import escalate


async def start(update: Update, context: Context) -> None:
    """Greet, say what the bot does, offer the menu."""
    if not is_private(update):
        await send(update, context, t("group_private_only", lang_of(update, context)))
        return
    lang = lang_of(update, context)
    user = update.effective_user
    svc = services(context)
    name = escape(user.first_name if user else "")
    keyboard = InlineKeyboardMarkup([[button(t("cmd_topics", lang), "c:"),
                                      button(t("cmd_lang", lang), "l:")]])
    await send(update, context, t("start", lang, name=name, office=escape(svc.settings.office.name)),
               keyboard)


def category_keyboard(context: Context, lang: str) -> InlineKeyboardMarkup:
    cats = services(context).answers.categories()
    return InlineKeyboardMarkup(rows([button(t(f"category_{c}", lang), f"c:{c}") for c in cats], 2))


async def topics(update: Update, context: Context) -> None:
    """Topic buttons, grouped by category."""
    lang = lang_of(update, context)
    await send(update, context, t("topics_intro", lang), category_keyboard(context, lang))


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button("🇮🇩 Bahasa Indonesia", "l:id"),
                                  button("🇬🇧 English", "l:en")]])


async def lang_command(update: Update, context: Context) -> None:
    """Offer the two languages; /lang id or /lang en switches at once."""
    lang = lang_of(update, context)
    arg = (context.args or [""])[0].lower() if context.args else ""
    if arg in LANGS:
        await set_language(update, context, arg)
        return
    await send(update, context, t("lang_choose", lang), language_keyboard())


async def set_language(update: Update, context: Context, lang: str) -> None:
    who = person(update, context)
    svc = services(context)
    svc.users.set_language(who.id, lang)
    context.user_data["person"] = who.__class__(who.id, lang, who.role, True)
    await send(update, context, t("lang_set", lang))


async def question(update: Update, context: Context) -> None:
    """Any text in a private chat is a question for the FAQ."""
    message = update.effective_message
    lang = lang_of(update, context)
    text = (message.text or "").strip()
    if len(text) > MAX_QUESTION_CHARS:
        await send(update, context, t("too_long", lang, limit=MAX_QUESTION_CHARS))
        return
    if not any(ch.isalnum() for ch in text):
        await send(update, context, t("please_type", lang))
        return
    who = person(update, context)
    svc = services(context)
    # a language picked with /lang wins over detection only when the text gives no clue
    reply = await svc.db.run(svc.answers.ask, text, who.lang, user_id=who.id)
    if reply.topic_id == ESCALATE_TOPIC:
        # "I want to talk to a person" is not an FAQ answer: it opens a ticket
        await escalate(update, context)
        return
    await send_reply(update, context, reply)


async def not_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice, files: ask for a typed question."""
    await send(update, context, t("please_type", lang_of(update, context)))


async def unknown_command(update: Update, context: Context) -> None:
    """A command nobody registered."""
    await send(update, context, t("unknown_command", lang_of(update, context)))


async def on_button(update: Update, context: Context) -> None:
    """Every inline button of the exporters' side; data not ours gets a polite refusal."""
    query = update.callback_query
    data = query.data or ""
    kind, _, arg = data.partition(":")
    svc = services(context)
    lang = lang_of(update, context)
    if kind == "a" and svc.answers.has_topic(arg):
        await query.answer()
        await send_reply(update, context, svc.answers.topic_reply(arg, lang))
    elif kind == "d" and arg in svc.answers.kb.countries:
        await query.answer()
        await send_reply(update, context, svc.answers.destination_reply(arg, lang))
    elif kind == "d" and arg == OTHER_COUNTRY:
        await query.answer()
        await send_reply(update, context, svc.answers.other_destination_reply(lang))
    elif kind == "c" and arg == "":
        await query.answer()
        await send(update, context, t("topics_intro", lang), category_keyboard(context, lang))
    elif kind == "c" and arg in svc.answers.categories():
        await query.answer()
        buttons = [[button(title, f"a:{tid}")] for tid, title in svc.answers.topics_in(arg, lang)]
        buttons.append([button(t("back", lang), "c:")])
        await send(update, context, t("topics_in_category", lang, category=t(f"category_{arg}", lang)),
                   InlineKeyboardMarkup(buttons))
    elif kind == "l" and arg == "":
        await query.answer()
        await send(update, context, t("lang_choose", lang), language_keyboard())
    elif kind == "l" and arg in LANGS:
        await query.answer()
        await set_language(update, context, arg)
    elif kind == "f" and _feedback(arg) is not None:
        query_id, helpful = _feedback(arg)  # type: ignore[misc]
        stored = svc.answers.record_feedback(query_id, person(update, context).id, helpful)
        key = ("feedback_thanks_up" if helpful else "feedback_thanks_down") if stored \
            else "feedback_already"
        await query.answer(t(key, lang))
        if stored:
            await set_keyboard(update, None)
        if stored and not helpful:
            await offer_after_thumbs_down(update, context, query_id)
    else:
        await query.answer(t("button_invalid", lang), show_alert=True)


async def offer_after_thumbs_down(update: Update, context: Context, query_id: int) -> None:
    """👎: the topics the question was also close to, and the way to an officer."""
    svc = services(context)
    who = person(update, context)
    others = await svc.db.run(alternatives, svc.db, svc.answers, query_id, who.id, who.lang)
    lines = [[button(title, f"a:{tid}")] for tid, title in others]
    lines.append([button(t("tk_ask_officer", who.lang), "o:ask")])
    key = "feedback_down_offer" if others else "feedback_down_officer"
    await send(update, context, t(key, who.lang), InlineKeyboardMarkup(lines))


def _feedback(arg: str) -> tuple[int, bool] | None:
    qid, _, value = arg.partition(":")
    # query ids are 32-bit integers: ten digits could overflow PostgreSQL's integer
    if not qid.isdecimal() or value not in ("0", "1") or len(qid) > 9:
        return None
    return int(qid), value == "1"


def register(app: Application) -> None:
    """Exporter handlers, in the order they must be tried."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("start", start))
    # by role: officers and admins get their own commands (handlers/menus.py)
    app.add_handler(CommandHandler("help", help_command))
    app.add_handler(CommandHandler(["topics", "topik"], topics))
    app.add_handler(CommandHandler(["lang", "bahasa"], lang_command))
    # last among the callback handlers: anything not claimed before is refused politely
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(private & filters.UpdateType.MESSAGE & filters.TEXT
                                   & ~filters.COMMAND, question))
    # after every CommandHandler of every module: see bot/app.py
    app.add_handler(MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL
                                   & filters.UpdateType.MESSAGE, not_text))


def register_fallbacks(app: Application) -> None:
    """Registered last: unknown commands in private chats."""
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.COMMAND, unknown_command))
