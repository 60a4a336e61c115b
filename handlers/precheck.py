"""/cek (/check): the pre-submission check, one question at a time, resumable, cancellable."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.i18n import t
from bot.services.answers import ESCALATE_TOPIC
from bot.services.calendar import OfficeCalendar
from bot.services.precheck import (
    OTHER,
    OTHER_COUNTRY,
    STEPS,
    SUMMARY,
    CheckState,
    Msg,
    PrecheckKB,
    PrecheckStore,
    accept,
    answer_display,
    named_country,
    next_step,
    render_summary,
    render_value,
    run_precheck,
)
from bot.services.tickets import GROUP_LANG
from bot.telegram import keyboards
from bot.telegram.buttons import PrecheckAnswer, PrecheckEdit
from bot.telegram.context import services_of
from handlers.common import Context, is_private, pressed, refuse_button, repeated_in_album, send, send_reply


@dataclass(frozen=True)
class Precheck:
    """What the flow needs, built once when the handlers are registered."""

    store: PrecheckStore
    kb: PrecheckKB
    calendar: OfficeCalendar

    def today(self) -> dt.date:
        return dt.datetime.now(self.calendar.tz).date()


def _pc(context: Context) -> Precheck:
    found: Precheck = context.bot_data["precheck"]
    return found


def answers_for_officer(context: Context, user_id: int) -> str | None:
    """The exporter's check answers as plain lines, so an officer sees what was entered."""
    pc = _pc(context)
    state = pc.store.get(user_id)
    if state is None or not state.answers:
        return None
    lines = [t("pc_for_officer", GROUP_LANG)]
    for step in STEPS:
        if step in state.answers:
            value = html.unescape(answer_display(step, state.answers[step], pc.kb, GROUP_LANG))
            lines.append(f"{html.unescape(t(f'pc_label_{step}', GROUP_LANG))}: {value}")
    return "\n".join(lines)


async def ask(
    update: Update,
    context: Context,
    step: str,
    answers: dict[str, str],
    prefix: str = "",
    follow_up: str | None = None,
) -> None:
    """Send one question (with its current answer when the exporter is changing it, and
    the follow-up question the check waits on)."""
    pc = _pc(context)
    lang = context.lang
    text = f"{t('pc_progress', lang, n=STEPS.index(step) + 1, count=len(STEPS))} {t(f'pc_q_{step}', lang)}"
    if follow_up == OTHER_COUNTRY:
        text += "\n" + t("pc_type_country", lang)
    if answers.get(step):
        text += "\n" + t("pc_current", lang, value=answer_display(step, answers[step], pc.kb, lang))
    await send(
        update,
        context,
        f"{prefix}\n\n{text}" if prefix else text,
        keyboards.precheck_question(step, pc.kb, lang),
    )


async def show_summary(update: Update, context: Context, answers: dict[str, str]) -> None:
    pc = _pc(context)
    lang = context.lang
    findings = run_precheck(answers, pc.calendar, pc.kb, today=pc.today())
    await send(
        update, context, render_summary(answers, findings, pc.kb, lang), keyboards.precheck_summary(lang)
    )


async def start_check(update: Update, context: Context) -> None:
    """Start a check, or resume the one still open."""
    lang = context.lang
    if not is_private(update):
        await send(update, context, t("group_private_only", lang))
        return
    pc = _pc(context)
    user_id = context.person.id
    state = pc.store.get(user_id)
    if state is not None and state.step != SUMMARY:
        # saving again restarts the idle clock, so typed answers go to the check again
        pc.store.save(user_id, state.step, state.answers)
        n = STEPS.index(state.step) + 1
        await ask(update, context, state.step, state.answers, t("pc_resume", lang, n=n, count=len(STEPS)))
        return
    pc.store.save(user_id, STEPS[0], {})
    await ask(update, context, STEPS[0], {}, t("pc_intro", lang, count=len(STEPS)))


async def cancel(update: Update, context: Context) -> None:
    """/batal, /cancel: drop the open check."""
    removed = _pc(context).store.delete(context.person.id)
    await send(update, context, t("pc_cancelled" if removed else "pc_nothing_to_cancel", context.lang))


async def take_answer(
    update: Update, context: Context, state: CheckState, text: str, query_id: int | None = None
) -> None:
    """Store a valid answer and move on; a bad one is explained and asked again, unless
    it is a question the FAQ answers. `query_id`: an id reserved for its log row."""
    pc = _pc(context)
    result = accept(state.step, text, pc.kb, pc.today())
    if state.step == "destination" and result == OTHER:
        # which country is what the officer needs: the next text names it, for as long
        # as the check waits on this step (the store keeps the follow-up with the step)
        pc.store.save(context.person.id, state.step, state.answers, follow_up=OTHER_COUNTRY)
        await ask(update, context, state.step, state.answers, follow_up=OTHER_COUNTRY)
        return
    if isinstance(result, Msg):
        if await answer_question(update, context, state, text, query_id):
            return
        if state.follow_up == OTHER_COUNTRY:
            result = named_country(text) or result
    if isinstance(result, Msg):
        prefix = render_value(result, context.lang)
        await ask(update, context, state.step, state.answers, prefix, state.follow_up)
        return
    answers = {**state.answers, state.step: result}
    step = next_step(answers)
    pc.store.save(context.person.id, step, answers)
    if step == SUMMARY:
        await show_summary(update, context, answers)
    else:
        await ask(update, context, step, answers)


async def answer_question(
    update: Update, context: Context, state: CheckState, text: str, query_id: int | None
) -> bool:
    """A text the step refused that asks what the FAQ answers ("brp lama ska terbit
    ya?") gets that answer, then the step's question again: the check waits where it
    was. False for anything else, which the step refuses as before."""
    svc = context.services
    who = context.person
    reply = await svc.db.run(svc.answers.answer_if_asked, text, who.lang, who.id, query_id)
    if reply is None:
        return False
    if reply.topic_id == ESCALATE_TOPIC:
        # asking for a person: /petugas with the question opens the ticket and pauses
        # the check; the topic's own text would say the question is being forwarded
        await send(update, context, t("pc_officer_in_check", context.lang))
    else:
        await send_reply(update, context, reply)
    await ask(update, context, state.step, state.answers, follow_up=state.follow_up)
    return True


async def on_text(update: Update, context: Context, query_id: int | None = None) -> None:
    """A message while a check waits on an answer. `query_id`: the question-log id the
    conversation lookup reserved, should the message be a question for the FAQ."""
    state = _pc(context).store.get(context.person.id)
    if state is None or state.step == SUMMARY:
        return
    message = update.effective_message
    if message is None or message.text is None:
        if not repeated_in_album(update, context, "pc_bad_not_text"):
            await ask(update, context, state.step, state.answers, t("pc_bad_not_text", context.lang))
        return
    await take_answer(update, context, state, message.text, query_id)


async def on_answer_button(update: Update, context: Context) -> None:
    """pc:a:STEP:VALUE answers a choice."""
    query, button = pressed(update, PrecheckAnswer)
    state = _pc(context).store.get(context.person.id)
    if button is None or state is None or state.step != button.step:
        # an old button: the check was cancelled or has moved on
        await refuse_button(update, context)
        return
    await query.answer()
    await take_answer(update, context, state, button.value)


async def on_edit_button(update: Update, context: Context) -> None:
    """pc:e:STEP under the summary asks that step again."""
    query, button = pressed(update, PrecheckEdit)
    pc = _pc(context)
    user_id = context.person.id
    state = pc.store.get(user_id)
    if button is None or state is None or button.step not in STEPS:
        await refuse_button(update, context)
        return
    await query.answer()
    pc.store.save(user_id, button.step, state.answers)
    await ask(update, context, button.step, state.answers)


def register(app: Application) -> None:
    """An open check claims the user's next message through the exporter router
    (handlers.router), which reads the check's state together with the user's tickets in
    one query."""
    svc = services_of(app)
    app.bot_data["precheck"] = Precheck(store=svc.precheck_store, kb=svc.precheck, calendar=svc.calendar)
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler(["cek", "check"], start_check))
    app.add_handler(CommandHandler(["batal", "cancel"], cancel, filters=private))
    app.add_handler(CallbackQueryHandler(on_answer_button, pattern=PrecheckAnswer.pattern))
    app.add_handler(CallbackQueryHandler(on_edit_button, pattern=PrecheckEdit.pattern))
