"""What the /cek flow keeps and asks beyond its rules: the store that holds the question a
check waits on (a step's follow-up with it), and the FAQ's answer to a question typed
where a step expected its answer."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.models import PrecheckSession, QueryLog
from bot.services import Services
from bot.services.precheck import OTHER_COUNTRY, waiting_step

USER = 1001
NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


def test_a_follow_up_lives_and_ends_with_its_step(services: Services) -> None:
    store = services.precheck_store
    store.save(USER, "destination", {"commodity": "plywood"}, follow_up=OTHER_COUNTRY)
    state = store.get(USER)
    assert state is not None and (state.step, state.follow_up) == ("destination", OTHER_COUNTRY)
    assert state.answers == {"commodity": "plywood"}
    # any save without it ends it: the same step asked again (a resumed check), the next
    # step, a new check
    for step, answers in (("destination", {}), ("form", {"destination": "JP"}), ("commodity", {})):
        store.save(USER, "destination", {}, follow_up=OTHER_COUNTRY)
        store.save(USER, step, answers)
        state = store.get(USER)
        assert state is not None and state.step == step and state.follow_up is None
    # cancelled: nothing is left of it
    store.save(USER, "destination", {}, follow_up=OTHER_COUNTRY)
    assert store.delete(USER) and store.get(USER) is None


def test_an_idle_or_paused_check_has_no_follow_up(services: Services) -> None:
    store = services.precheck_store
    store.save(USER, "destination", {}, follow_up=OTHER_COUNTRY)
    assert store.pause(USER)
    state = store.get(USER)
    assert state is not None and state.step == "destination" and state.follow_up is None
    store.save(USER, "destination", {}, follow_up=OTHER_COUNTRY)
    with services.db.session() as s:
        row = s.get(PrecheckSession, USER)
        assert row is not None
        row.updated_at = row.updated_at - dt.timedelta(hours=25)
    state = store.get(USER)
    assert state is not None and state.step == "destination" and state.follow_up is None


def test_the_conversation_lookup_sees_the_step_not_its_follow_up(services: Services) -> None:
    assert waiting_step("destination:other_country", NOW, NOW) == "destination"
    assert waiting_step("destination:other_country", NOW - dt.timedelta(hours=25), NOW) is None
    services.precheck_store.save(USER, "destination", {}, follow_up=OTHER_COUNTRY)
    assert services.conversations.of(USER).check_step == "destination"


@pytest.mark.parametrize(
    "text",
    [
        "eh bentar, brp lama ska terbit ya?",
        "gmn cara daftar akun eska",  # a question word, no question mark
        "how long does issuance take?",
    ],
)
def test_texts_put_as_questions(services: Services, text: str) -> None:
    assert services.answers.asks(text)


@pytest.mark.parametrize(
    "text",
    [
        "kucing?",  # a question mark alone
        "2025?",
        "30-02-2025",  # the matcher alone answers it (the export figures of 2025)
        "senin",  # and this one (processing time)
        "ekspor 2025",
        "tiga ribu kilo",
    ],
)
def test_texts_that_do_not_ask(services: Services, text: str) -> None:
    assert not services.answers.asks(text)


def logged(services: Services) -> list[tuple[str, str | None, str]]:
    with services.db.session() as s:
        return [(r.text, r.matched_id, r.outcome) for r in s.scalars(select(QueryLog))]


def test_an_answer_if_asked_is_confident_and_logged(services: Services) -> None:
    services.users.touch(USER, "Budi")
    answers = services.answers
    reply = answers.answer_if_asked("eh bentar, brp lama ska terbit ya?", "id", USER)
    assert reply is not None and reply.outcome == "answer" and reply.topic_id == "processing-time"
    assert reply.query_id is not None
    assert logged(services) == [("eh bentar, brp lama ska terbit ya?", "processing-time", "answer")]
    # the forms topic asking for the destination is a confident answer too
    reply = answers.answer_if_asked("form apa yang harus saya pakai?", "id", USER)
    assert reply is not None and reply.outcome == "ask_destination"


def test_no_answer_if_not_asked_or_not_confident_and_nothing_logged(services: Services) -> None:
    services.users.touch(USER, "Budi")
    answers = services.answers
    assert answers.answer_if_asked("30-02-2025", "id", USER) is None  # does not ask
    assert answers.answer_if_asked("syarat dokumen apa saja?", "id", USER) is None  # "did you mean"
    assert answers.answer_if_asked("kucing apa yang lucu?", "id", USER) is None  # no match
    assert logged(services) == []
