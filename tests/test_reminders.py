"""Reminders: office calendar and time zone (injected clock), cadence, opt-out, dedupe."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from bot.cli import main
from bot.config import Settings
from bot.db import Database
from bot.models import Company, OutboxMessage, Reminder, SkaApplication, User, utcnow
from bot.services import Services
from bot.services.reminders import ReminderService
from bot.telegram import keyboards
from bot.telegram.sender import OutboxSender
from tests import samples
from tests.conftest import OFFICERS_CHAT, BotHarness, make_settings
from tests.test_documents import CSV, HEADER

WIB = dt.timezone(dt.timedelta(hours=7))
HOLIDAY = "2026-12-09"  # a Wednesday


class Clock:
    def __init__(self, local: str) -> None:
        self.set(local)

    def set(self, local: str) -> None:
        self.now = dt.datetime.fromisoformat(local).replace(tzinfo=WIB).astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(
        database_url,
        office={
            "hours": {
                "mon": "07:30-16:00",
                "tue": "07:30-16:00",
                "wed": "07:30-16:00",
                "thu": "07:30-16:00",
                "fri": "07:30-16:30",
            },
            "holidays": [HOLIDAY],
        },
        reminders={"time": "09:00", "first_after_hours": 24, "every_working_days": 2, "max_times": 3},
    )


def prepare(services: Services, clock: Clock, extra_users: dict[int, bool] | None = None) -> None:
    """SKA-001 misses invoice + packing list; exporter 1001 (and others) linked to its company."""
    services.documents.clock = services.reminders.clock = clock
    assert services.importer.import_text(CSV).errors == []
    with services.db.session() as s:
        company = s.scalar(select(Company).where(Company.nib == "1111111111111"))
        for uid, enabled in {1001: True, **(extra_users or {})}.items():
            s.add(
                User(
                    id=uid,
                    first_name="Eks",
                    company_id=company.id,
                    linked_at=utcnow(),
                    reminders_enabled=enabled,
                )
            )


def outbox(services: Services, kind: str | None = None) -> list[OutboxMessage]:
    with services.db.session() as s:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            query = query.where(OutboxMessage.kind == kind)
        return list(s.scalars(query))


def run_at(services: Services, clock: Clock, local: str, **kw: Any) -> tuple[int, int]:
    clock.set(local)
    report = services.reminders.run_pass(**kw)
    return report.queued, report.alerts


def test_cadence_follows_the_office_calendar(services: Services) -> None:
    clock = Clock("2026-12-07 08:00")  # Monday; SKA-001's documents become missing
    prepare(services, clock)
    assert run_at(services, clock, "2026-12-07 09:00") == (0, 0)  # not 24 hours yet
    assert run_at(services, clock, "2026-12-08 09:00") == (1, 0)  # Tuesday: first
    assert run_at(services, clock, "2026-12-08 15:00") == (0, 0)  # once a day
    assert not services.reminders.calendar.is_working_day(dt.date(2026, 12, 9))
    assert run_at(services, clock, "2026-12-09 09:00") == (0, 0)  # holiday
    assert run_at(services, clock, "2026-12-10 09:00") == (0, 0)  # 1 working day later
    assert run_at(services, clock, "2026-12-11 09:00") == (1, 0)  # 2 working days: second
    assert run_at(services, clock, "2026-12-12 09:00") == (0, 0)  # Saturday
    assert run_at(services, clock, "2026-12-14 09:00") == (0, 0)
    assert run_at(services, clock, "2026-12-15 09:00") == (1, 0)  # third and last
    assert run_at(services, clock, "2026-12-17 09:00") == (0, 1)  # officers alerted
    assert run_at(services, clock, "2026-12-21 09:00") == (0, 0)  # and only once
    rows = outbox(services, "reminder_exporter")
    assert [r.chat_id for r in rows] == [1001] * 3
    text = rows[0].text
    assert "SKA-001" in text and "Commercial invoice" in text and "Packing list" in text
    assert "Ditandatangani" in text  # the hint
    # stored as data, sent as the [Send a document] button of that application
    markup = OutboxSender(services.outbox, keyboards.OUTBOX).markup(rows[0])
    assert markup is not None and str(markup.inline_keyboard[0][0].callback_data).startswith("up:")
    alert = outbox(services, "reminder_alert")[0]
    assert alert.chat_id == OFFICERS_CHAT and "setelah 3 pengingat" in alert.text
    # a new rejection starts a new cycle: first reminder again after 24 hours
    services.documents.set_item("SKA-001", "invoice", "accepted", "", 9001)
    clock.set("2026-12-21 10:00")
    services.documents.set_item("SKA-001", "packing-list", "rejected", "buram", 9001)
    assert run_at(services, clock, "2026-12-22 09:00") == (0, 0)
    assert run_at(services, clock, "2026-12-22 10:30") == (1, 0)
    assert "buram" in outbox(services, "reminder_exporter")[-1].text
    assert "Commercial invoice" not in outbox(services, "reminder_exporter")[-1].text


def test_quiet_hours_and_now_flag(services: Services) -> None:
    clock = Clock("2026-12-07 21:30")
    prepare(services, clock)
    # --now: cadence ignored, but nothing is delivered before 07:00 WIB
    assert run_at(services, clock, "2026-12-07 21:30", force=True) == (1, 0)
    row = outbox(services, "reminder_exporter")[0]
    due = row.next_attempt_at.replace(tzinfo=row.next_attempt_at.tzinfo or dt.UTC)
    assert due.astimezone(WIB) == dt.datetime(2026, 12, 8, 7, 0, tzinfo=WIB)
    assert run_at(services, clock, "2026-12-08 06:10", force=True) == (1, 0)
    row = outbox(services, "reminder_exporter")[1]
    due = row.next_attempt_at.replace(tzinfo=row.next_attempt_at.tzinfo or dt.UTC)
    assert due.astimezone(WIB) == dt.datetime(2026, 12, 8, 7, 0, tzinfo=WIB)
    # a weekend pass without --now queues nothing at all
    clock.set("2026-12-12 09:00")
    report = services.reminders.run_pass()
    assert not report.working_day and report.queued == 0
    reminders = services.reminders
    clock.set("2026-12-12 12:00")
    assert reminders.not_before(clock()) is None
    assert not reminders.missed_today()
    clock.set("2026-12-14 10:00")
    assert reminders.missed_today()
    clock.set("2026-12-14 08:00")
    assert not reminders.missed_today()


def test_opt_out_is_respected_even_with_now(services: Services) -> None:
    clock = Clock("2026-12-07 10:00")
    prepare(services, clock, extra_users={1002: False})
    report = services.reminders.run_pass(force=True)
    assert (report.queued, report.opted_out) == (1, 1)
    services.reminders.set_enabled(1002, True)
    services.reminders.set_enabled(1001, False)
    clock.set("2026-12-08 10:00")
    report = services.reminders.run_pass(force=True)
    assert (report.queued, report.opted_out) == (1, 1)
    assert [r.chat_id for r in outbox(services, "reminder_exporter")] == [1001, 1002]


def test_no_duplicates_across_a_restart_and_a_racing_second_process(
    services: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock("2026-12-07 10:00")
    prepare(services, clock, extra_users={1002: True})
    # the second process read the database before the first one committed its reminders
    other_db = Database(settings.database_url)
    other = ReminderService(
        other_db,
        services.documents,
        services.reminders.calendar,
        settings.reminders,
        settings.timezone,
        OFFICERS_CHAT,
        clock,
    )
    stale = list(other._pages())
    assert services.reminders.run_pass(force=True).queued == 2
    # ... and its existence check passed too: only the unique constraint stops it
    monkeypatch.setattr(other, "_already_queued", lambda c, keys: set())
    monkeypatch.setattr(other, "_pages", lambda: iter(stale))
    report = other.run_pass(force=True)
    assert (report.queued, report.already) == (0, 2)
    monkeypatch.undo()
    # a restarted process (fresh service, same database, same day) queues nothing either
    restarted = ReminderService(
        other_db,
        services.documents,
        services.reminders.calendar,
        settings.reminders,
        settings.timezone,
        OFFICERS_CHAT,
        clock,
    )
    assert restarted.run_pass(force=True).queued == 0
    other_db.dispose()
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 2
        assert s.scalar(select(func.count()).select_from(Reminder)) == 2


def test_a_pass_reads_and_writes_a_page_at_a_time(services: Services) -> None:
    clock = Clock("2026-12-07 10:00")
    services.documents.clock = services.reminders.clock = clock
    # every third application has all its documents: pages skip over their ids
    rows = "".join(
        f"SKA-1{i:02d},1111111111111,PT Kayu Lapis Satu,Plywood,4412.31,JP,IJEPA,"
        f'submitted,,2026-11-20,"1,00","2,00",{"invoice" if i % 3 else ""}\n'
        for i in range(10)
    )
    assert services.importer.import_text(HEADER + rows).errors == []
    with services.db.session() as s:
        company = s.scalar(select(Company).where(Company.nib == "1111111111111"))
        for uid in (1001, 1002):
            s.add(User(id=uid, first_name="Eks", company_id=company.id, linked_at=utcnow()))
        s.add(
            User(id=1003, first_name="Eks", company_id=company.id, linked_at=utcnow(), blocked_at=utcnow())
        )  # blocked the bot: not reminded
    services.reminders.page_size = 2
    report = services.reminders.run_pass(force=True)
    due = [f"SKA-1{i:02d}" for i in range(10) if i % 3]
    assert report.lines == [f"exporter {ref} -> {uid}: invoice" for ref in due for uid in (1001, 1002)]
    again = services.reminders.run_pass(force=True)
    assert (again.queued, again.already) == (0, 2 * len(due))
    with services.db.session() as s:
        pairs = s.execute(
            select(Reminder.chat_id, SkaApplication.ref, OutboxMessage.chat_id, OutboxMessage.text)
            .join(SkaApplication, SkaApplication.id == Reminder.application_id)
            .join(OutboxMessage, OutboxMessage.id == Reminder.outbox_id)
        ).all()
    # each reminder row points at its own outbox message: a reply leads to its application
    assert sorted((ref, chat) for chat, ref, _, _ in pairs) == [
        (ref, uid) for ref in due for uid in (1001, 1002)
    ]
    assert all(chat == to and f" {ref} " in text for chat, ref, to, text in pairs)


def test_two_processes_at_the_same_moment(services: Services, settings: Settings) -> None:
    clock = Clock("2026-12-07 10:00")
    prepare(services, clock, extra_users={1000 + i: True for i in range(2, 30)})
    barrier = threading.Barrier(2)
    reports = []

    def process() -> None:
        db = Database(settings.database_url)
        svc = ReminderService(
            db,
            services.documents,
            services.reminders.calendar,
            settings.reminders,
            settings.timezone,
            OFFICERS_CHAT,
            clock,
        )
        barrier.wait()
        reports.append(svc.run_pass(force=True))
        db.dispose()

    threads = [threading.Thread(target=process) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert sum(r.queued for r in reports) == 29
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 29


def test_cli_run_now_prints_what_it_queued(
    services: Services, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    prepare(services, Clock("2026-12-07 10:00"))
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump({"database": {"url": settings.database_url}, "officers": {"chat_id": OFFICERS_CHAT}})
    )
    assert main(["--config", str(config), "reminders", "run", "--now"]) == 0
    out = capsys.readouterr().out
    assert "exporter SKA-001 -> 1001: invoice, packing-list" in out and "queued 1 reminder" in out
    assert main(["--config", str(config), "reminders", "run", "--now"]) == 0
    assert "queued 0 reminder" in capsys.readouterr().out


async def reminded(bot: BotHarness) -> Any:
    """Exporter 1001's reminder of SKA-001's missing documents, as Telegram took it."""
    clock = Clock("2026-12-07 10:00")
    prepare(bot.services, clock)
    bot.services.reminders.run_pass(force=True)
    bot.services.outbox.clock = clock
    await bot.sender.drain(bot.app.bot, budget_seconds=3)
    return bot.api.last(1001, "sendMessage")


async def test_reply_to_a_reminder_with_a_file(bot: BotHarness) -> None:
    reminder = await reminded(bot)
    assert "belum lengkap" in reminder.params["text"]
    sent = await bot.feed(
        bot.api.document(
            1001,
            "pl.pdf",
            "application/pdf",
            4000,
            content=samples.PDF,
            reply_to_message_id=reminder.result["message_id"],
        )
    )
    assert "SKA-001" in " ".join(str(c.params.get("text")) for c in sent)
    assert any(data.endswith(":packing-list") for _, data in bot.api.buttons(sent[-1]))
    # opting out by command
    sent = await bot.say("/reminders off")
    assert "dimatikan" in sent[-1].params["text"]
    with bot.services.db.session() as s:
        assert s.get(User, 1001).reminders_enabled is False
    # and in the exporter's own words
    sent = await bot.say("/pengingat nyalakan")
    assert "/pengingat" not in sent[-1].params["text"]
    with bot.services.db.session() as s:
        assert s.get(User, 1001).reminders_enabled is True
    sent = await bot.say("/pengingat matikan")
    assert "/pengingat nyala" in sent[-1].params["text"]  # the way back, in the same words
    with bot.services.db.session() as s:
        assert s.get(User, 1001).reminders_enabled is False
    sent = await bot.say("/pengingat kapan")
    assert "/pengingat mati" in sent[-1].params["text"]  # the usage, in the exporter's words
    assert bot.app.job_queue.get_jobs_by_name("reminders")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"time": "21:00"}, "reminders.time"),
        ({"time": "9"}, "reminders.time"),
        ({"max_times": 0}, "reminders.max_times"),
        ({"every_working_days": 1.5}, "whole number"),
        ({"first_after_hours": -1}, "reminders.first_after_hours"),
    ],
)
def test_reminder_settings_are_validated(raw: dict, message: str) -> None:
    from bot.config import ConfigError, parse_settings

    with pytest.raises(ConfigError, match=message):
        parse_settings({"reminders": raw}, env={})


async def test_a_reminder_delayed_into_the_night_waits_for_07_00(bot: BotHarness) -> None:
    """Queued in the day, but the outbox was backed up (or the bot was down) until 21:30:
    the reminder is held until 07:00, while other notifications still go out."""
    from bot.services.outbox import enqueue
    from bot.services.reminders import REMINDER_KIND

    sender, outbox = bot.sender, bot.services.outbox
    with bot.services.db.session() as s:
        enqueue(s, 1001, "Pengingat: packing list SKA-001 belum diunggah", kind=REMINDER_KIND)
        enqueue(s, 1002, "Status SKA-002: disetujui", kind="status")
    tomorrow = utcnow().date() + dt.timedelta(days=1)  # after the rows were queued
    night = dt.datetime.combine(tomorrow, dt.time(14, 30), tzinfo=dt.UTC)  # 21:30 WIB
    outbox.clock = lambda: night
    result = await sender.drain(bot.app.bot, budget_seconds=2)
    assert (result.held, result.sent) == (1, 1)
    assert bot.api.sent(1001) == [] and len(bot.api.sent(1002)) == 1
    outbox.clock = lambda: night + dt.timedelta(hours=9, minutes=29)  # 06:59 WIB
    assert (await sender.drain(bot.app.bot, budget_seconds=2)).sent == 0
    outbox.clock = lambda: night + dt.timedelta(hours=9, minutes=30)  # 07:00 WIB
    assert (await sender.drain(bot.app.bot, budget_seconds=2)).sent == 1
    assert "packing list" in bot.api.sent(1001)[-1].params["text"]


async def test_a_text_reply_to_a_reminder_reaches_the_officers(bot: BotHarness) -> None:
    reminder = await reminded(bot)
    sent = await bot.say(
        "packing list nya menyusul besok pak", reply_to_message_id=reminder.result["message_id"]
    )
    assert "tiket #1" in " ".join(str(c.params.get("text")) for c in sent)
    bot.services.outbox.clock = utcnow  # the card is queued now, in real time
    await bot.sender.drain(bot.app.bot, budget_seconds=3)
    card = "\n".join(bot.api.texts(OFFICERS_CHAT))
    assert "pengingat dokumen SKA-001" in card and "packing list nya menyusul besok pak" in card
    # a reply to any other message of the bot is still a question for the FAQ
    sent = await bot.say("berapa lama ska terbit?", reply_to_message_id=sent[-1].result["message_id"])
    assert "tiket #2" not in " ".join(str(c.params.get("text")) for c in sent)
