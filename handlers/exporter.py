"""Exporters' side: greeting, topics, language, FAQ answers and their buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.i18n import LANGS, t
from bot.services.answers import ESCALATE_TOPIC, MAX_MESSAGE_CHARS
from bot.services.feedback import alternatives
from bot.telegram import keyboards
from bot.telegram.buttons import Category, Destination, Feedback, Language, Topic
from bot.text import format_number
from handlers.common import (
    Context,
    escape,
    is_private,
    pressed,
    refuse_button,
    repeated_in_album,
    send,
    send_reply,
    set_keyboard,
)


async def start(update: Update, context: Context) -> None:
    """Greet, say what the bot does, offer the menu."""
    lang = context.lang
    if not is_private(update):
        await send(update, context, t("group_private_only", lang))
        return
    user = update.effective_user
    name = escape(user.first_name if user else "")
    office = escape(context.services.settings.office.name)
    await send(update, context, t("start", lang, name=name, office=office), keyboards.start_menu(lang))


async def topics(update: Update, context: Context) -> None:
    """Topic buttons, grouped by category."""
    lang = context.lang
    await send(
        update,
        context,
        t("topics_intro", lang),
        keyboards.categories(context.services.answers.categories(), lang),
    )


async def lang_command(update: Update, context: Context) -> None:
    """Offer the two languages; /lang id or /lang en switches at once."""
    arg = context.args[0].lower() if context.args else ""
    if arg in LANGS:
        await set_language(update, context, arg)
        return
    await send(update, context, t("lang_choose", context.lang), keyboards.languages())


async def set_language(update: Update, context: Context, lang: str) -> None:
    who = context.person
    context.services.users.set_language(who.id, lang)
    context.person = who.__class__(who.id, lang, who.role, True)
    await send(update, context, t("lang_set", lang))


async def answer_question(update: Update, context: Context, text: str, query_id: int | None = None) -> bool:
    """Answer a question from the FAQ; False when the exporter asked for a person instead
    (the router then opens a ticket). `query_id`: an id reserved for its log row."""
    lang = context.lang
    text = text.strip()
    if len(text) > MAX_MESSAGE_CHARS:
        # more than Telegram lets anyone send: not from a chat
        await send(update, context, t("too_long", lang, limit=format_number(MAX_MESSAGE_CHARS, lang, 0)))
        return True
    if not any(ch.isalnum() for ch in text):
        await send(update, context, t("please_type", lang))
        return True
    who = context.person
    svc = context.services
    # a language picked with /lang wins over detection only when the text gives no clue
    reply = await svc.db.run(svc.answers.ask, text, who.lang, user_id=who.id, query_id=query_id)
    if reply.topic_id == ESCALATE_TOPIC:
        # "I want to talk to a person" is not an FAQ answer
        return False
    await send_reply(update, context, reply)
    return True


async def not_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice, files: ask for a typed question."""
    if not repeated_in_album(update, context, "please_type"):
        await send(update, context, t("please_type", context.lang))


# -- buttons ------------------------------------------------------------------------------------


async def on_topic(update: Update, context: Context) -> None:
    """a:TOPIC: one FAQ answer."""
    query, pressed_ = pressed(update, Topic)
    answers = context.services.answers
    if pressed_ is None or not answers.has_topic(pressed_.topic_id):
        await refuse_button(update, context)
        return
    await query.answer()
    await send_reply(update, context, answers.topic_reply(pressed_.topic_id, context.lang))


async def on_destination(update: Update, context: Context) -> None:
    """d:ISO (or d:other): the answer for one destination country."""
    query, pressed_ = pressed(update, Destination)
    answers = context.services.answers
    lang = context.lang
    if pressed_ is not None and pressed_.code in answers.kb.countries:
        await query.answer()
        await send_reply(update, context, answers.destination_reply(pressed_.code, lang))
    elif pressed_ is not None and pressed_.code == Destination.OTHER:
        await query.answer()
        await send_reply(update, context, answers.other_destination_reply(lang))
    else:
        await refuse_button(update, context)


async def on_category(update: Update, context: Context) -> None:
    """c: the categories; c:NAME the topics of one."""
    query, pressed_ = pressed(update, Category)
    answers = context.services.answers
    lang = context.lang
    if pressed_ is not None and pressed_.category == "":
        await query.answer()
        await send(update, context, t("topics_intro", lang), keyboards.categories(answers.categories(), lang))
    elif pressed_ is not None and pressed_.category in answers.categories():
        name = pressed_.category
        await query.answer()
        await send(
            update,
            context,
            t("topics_in_category", lang, category=t(f"category_{name}", lang)),
            keyboards.category_topics(answers.topics_in(name, lang), lang),
        )
    else:
        await refuse_button(update, context)


async def on_language(update: Update, context: Context) -> None:
    """l: offers the languages; l:id / l:en switches."""
    query, pressed_ = pressed(update, Language)
    if pressed_ is not None and pressed_.lang == "":
        await query.answer()
        await send(update, context, t("lang_choose", context.lang), keyboards.languages())
    elif pressed_ is not None and pressed_.lang in LANGS:
        await query.answer()
        await set_language(update, context, pressed_.lang)
    else:
        await refuse_button(update, context)


async def on_feedback(update: Update, context: Context) -> None:
    """f:QUERY:1|0: was the answer helpful? 👎 offers the way on."""
    query, pressed_ = pressed(update, Feedback)
    if pressed_ is None:
        await refuse_button(update, context)
        return
    lang = context.lang
    stored = context.services.answers.record_feedback(pressed_.query_id, context.person.id, pressed_.helpful)
    key = (
        ("feedback_thanks_up" if pressed_.helpful else "feedback_thanks_down")
        if stored
        else "feedback_already"
    )
    await query.answer(t(key, lang))
    if stored:
        await set_keyboard(update, None)
    if stored and not pressed_.helpful:
        await offer_after_thumbs_down(update, context, pressed_.query_id)


async def offer_after_thumbs_down(update: Update, context: Context, query_id: int) -> None:
    """👎: the topics the question was also close to, and the way to an officer."""
    svc = context.services
    who = context.person
    others = await svc.db.run(alternatives, svc.db, svc.answers, query_id, who.id, who.lang)
    key = "feedback_down_offer" if others else "feedback_down_officer"
    await send(update, context, t(key, who.lang), keyboards.after_thumbs_down(others, who.lang, query_id))


def register(app: Application) -> None:
    """Exporter commands and the FAQ's buttons."""
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler(["topics", "topik"], topics))
    app.add_handler(CommandHandler(["lang", "bahasa"], lang_command))
    app.add_handler(CallbackQueryHandler(on_topic, pattern=Topic.pattern))
    app.add_handler(CallbackQueryHandler(on_destination, pattern=Destination.pattern))
    app.add_handler(CallbackQueryHandler(on_category, pattern=Category.pattern))
    app.add_handler(CallbackQueryHandler(on_language, pattern=Language.pattern))
    app.add_handler(CallbackQueryHandler(on_feedback, pattern=Feedback.pattern))


def register_fallbacks(app: Application) -> None:
    """Registered last, after every module's handlers: what nothing else took."""
    # anything not claimed before is refused politely
    app.add_handler(CallbackQueryHandler(refuse_button))
    private = filters.ChatType.PRIVATE
    app.add_handler(
        MessageHandler(
            private & ~filters.TEXT & ~filters.StatusUpdate.ALL & filters.UpdateType.MESSAGE, not_text
        )
    )
