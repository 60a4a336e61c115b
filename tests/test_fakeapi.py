"""Tests for the fake Telegram Bot API, driven through a real python-telegram-bot stack."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import threading
import urllib.request
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.telegram_html import parse_html
from bot.testing import FakeBotAPI, FakeRequest, FakeTelegramServer, serve_http
from tests.processes import wait_for

TOKEN = "123:TEST"
USER = 4242


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(update.effective_message.text or "")


def build_app(api: FakeBotAPI) -> Application:  # type: ignore[type-arg]
    app = (
        Application.builder()
        .token(TOKEN)
        .request(FakeRequest(api))
        .get_updates_request(FakeRequest(api))
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return app


@pytest.fixture
def api() -> FakeBotAPI:
    return FakeBotAPI()


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, request=FakeRequest(api), get_updates_request=FakeRequest(api)) as b:
        yield b


@pytest.fixture
def server(api: FakeBotAPI) -> Iterator[tuple[FakeTelegramServer, str]]:
    srv, base_url = serve_http(api)
    yield srv, base_url
    srv.stop()


def retry_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def test_echo_handler_in_process(api: FakeBotAPI) -> None:
    app = build_app(api)
    async with app:
        await app.process_update(Update.de_json(api.message(USER, "halo <b>"), app.bot))
    assert api.calls[0].method == "getMe"
    assert api.texts(USER) == ["halo <b>"]
    call = api.last(USER)
    assert call.method == "sendMessage"
    assert call.params["chat_id"] == USER
    assert call.result["chat"] == {"id": USER, "type": "private", "first_name": "Budi"}
    assert call.result["from"]["is_bot"] is True
    assert call.result["message_id"] == 2  # the user's message was 1 in the same chat


async def test_command_entity_and_args(api: FakeBotAPI) -> None:
    seen: list[list[str]] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(list(context.args or []))

    app = build_app(api)
    app.add_handler(CommandHandler("start", start))
    update = api.message(USER, "/start@ska_helpdesk_bot kode123")
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 23}]
    async with app:
        await app.process_update(Update.de_json(update, app.bot))
    assert seen == [["kode123"]]


async def test_group_message_and_builders_parse(api: FakeBotAPI, bot: Bot) -> None:
    group = api.message(USER, "hai", chat_id=-1001, reply_to_message_id=None)
    parsed = Update.de_json(group, bot)
    assert parsed.effective_chat is not None and parsed.effective_chat.type == "supergroup"
    assert parsed.effective_user is not None and parsed.effective_user.id == USER
    for data in (
        api.sticker(USER),
        api.photo(USER, caption="foto"),
        api.document(USER, "ska.pdf", "application/pdf", 2048),
        api.voice(USER),
        api.edited_message(USER, "baru", message_id=1),
        api.callback(USER, "faq:1", message_id=7, message_text="Pilih"),
    ):
        assert Update.de_json(data, bot).update_id == data["update_id"]
    photo_update = Update.de_json(api.photo(USER), bot)
    assert photo_update.message is not None and len(photo_update.message.photo) == 2


async def test_blocked_chat_raises_forbidden(api: FakeBotAPI, bot: Bot) -> None:
    api.blocked.add(USER)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(USER, "halo")
    assert api.sent(USER) == []
    assert api.sent(USER, include_failed=True)[0].status == 403


# RetryAfter.__init__ itself reads the deprecated int-valued retry_after in PTB 22.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_queued_429_raises_retry_after(api: FakeBotAPI, bot: Bot) -> None:
    api.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as excinfo:
        await bot.send_message(USER, "halo")
    assert retry_seconds(excinfo.value) == 7
    await bot.send_message(USER, "lagi")  # only one failure was queued
    assert api.texts(USER) == ["lagi"]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_random_failures_and_timeouts(api: FakeBotAPI, bot: Bot) -> None:
    api.failure_rate = 1.0
    with pytest.raises((RetryAfter, NetworkError)):
        await bot.send_message(USER, "x")
    api.failure_rate = 0.0
    api.timeout_next()
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "x")
    api.timeout_next(delivered=True)
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "terkirim")
    assert api.texts(USER) == ["terkirim"]


async def test_text_length_validation(api: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(USER, "a" * 4097)
    with pytest.raises(BadRequest, match="(?i)text is empty"):
        await bot.send_message(USER, "   ")
    await bot.send_message(USER, "a" * 4096)
    # Tags do not count towards the limit; Telegram measures the parsed text.
    await bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode=ParseMode.HTML)


@pytest.mark.parametrize(
    "bad",
    [
        "<b>tebal",
        "<b><i>x</b></i>",
        "a < b",
        "Q&A",
        "baris<br>baru",
        "&nbsp;",
        '<span class="x">s</span>',
        "</b>",
    ],
)
async def test_bad_html_rejected(api: FakeBotAPI, bot: Bot, bad: str) -> None:
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(USER, bad, parse_mode=ParseMode.HTML)


async def test_good_html_gives_entities(api: FakeBotAPI, bot: Bot) -> None:
    text = (
        '<b>SKA</b> &amp; <a href="https://e-ska.kemendag.go.id">e-SKA</a> '
        '<pre><code class="language-python">x</code></pre> <tg-spoiler>s</tg-spoiler> 😀<i>i</i>'
    )
    message = await bot.send_message(USER, text, parse_mode="HTML")
    assert message.text == "SKA & e-SKA x s 😀i"
    kinds = [(e.type, e.offset, e.length) for e in message.entities]
    assert kinds == [
        ("bold", 0, 3),
        ("text_link", 6, 5),
        ("pre", 12, 1),
        ("spoiler", 14, 1),
        ("italic", 18, 1),  # the emoji is two UTF-16 code units
    ]
    assert message.entities[2].language == "python"
    assert parse_html("&#128512;&lt;") == ("😀<", [])


async def test_callback_data_limit(api: FakeBotAPI, bot: Bot) -> None:
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="x" * 64)]])
    await bot.send_message(USER, "pilih", reply_markup=ok)
    # 22 three-byte characters = 66 bytes although only 22 characters.
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("no", callback_data="€" * 22)]])
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(USER, "pilih", reply_markup=too_long)


async def test_callback_edit_flow(api: FakeBotAPI) -> None:
    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"Jawaban untuk {query.data}")

    app = build_app(api)
    app.add_handler(CallbackQueryHandler(on_button))
    async with app:
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("FAQ 1", callback_data="faq:1")],
                [InlineKeyboardButton("Situs", url="https://e-ska.kemendag.go.id")],
            ]
        )
        sent = await app.bot.send_message(USER, "Pilih topik", reply_markup=keyboard)
        assert api.buttons(api.last(USER)) == [
            ("FAQ 1", "faq:1"),
            ("Situs", "https://e-ska.kemendag.go.id"),
        ]
        update = api.callback(USER, "faq:1", message_id=sent.message_id)
        assert update["callback_query"]["message"]["text"] == "Pilih topik"
        await app.process_update(Update.de_json(update, app.bot))
        edited = api.last(USER, "editMessageText")
        assert "reply_markup" not in edited.result  # editing without markup drops it
        with pytest.raises(BadRequest, match="(?i)not modified"):
            await app.bot.edit_message_text("Jawaban untuk faq:1", USER, sent.message_id)
    assert api.texts(USER) == ["Pilih topik", "Jawaban untuk faq:1"]
    assert [c.method for c in api.calls].count("answerCallbackQuery") == 1


async def test_get_updates_offset_semantics(api: FakeBotAPI, bot: Bot) -> None:
    ids = [api.push_update(api.message(USER, f"m{i}")) for i in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert [u.update_id for u in await bot.get_updates()] == ids
    assert [u.update_id for u in await bot.get_updates()] == ids  # not confirmed yet
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await bot.get_updates(limit=1)] == ids[1:2]
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == ids[2:]
    assert await bot.get_updates(offset=ids[2] + 1) == ()
    assert api.pending_updates == 0


async def test_get_updates_long_poll_in_process(api: FakeBotAPI, bot: Bot) -> None:
    async def push_later() -> None:
        await asyncio.sleep(0.1)
        api.push_update(api.message(USER, "telat"))

    task = asyncio.create_task(push_later())
    loop = asyncio.get_running_loop()
    started = loop.time()
    updates = await bot.get_updates(timeout=5)
    await task
    assert loop.time() - started < 2
    assert [u.message.text for u in updates if u.message] == ["telat"]
    started = loop.time()
    short = dtm.timedelta(milliseconds=300)
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=short) == ()
    assert loop.time() - started >= 0.25


async def test_commands_files_and_misc(api: FakeBotAPI, bot: Bot) -> None:
    await bot.set_my_commands([("start", "Mulai"), ("bantuan", "Bantuan")])
    assert [c["command"] for c in api.commands['{"type": "default"}|']] == ["start", "bantuan"]
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([("Start", "Mulai")])
    doc = await bot.send_document(USER, document=b"%PDF-1.4", filename="form.pdf")
    assert doc.document is not None and doc.document.file_name == "form.pdf"
    assert api.last(USER).params["document"]["size"] == 8
    incoming = Update.de_json(api.document(USER, "sertifikat.pdf", content=b"isi"), bot)
    assert incoming.message is not None and incoming.message.document is not None
    file = await bot.get_file(incoming.message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"isi"
    big = Update.de_json(api.document(USER, "besar.zip", "application/zip", 30_000_000), bot)
    assert big.message is not None and big.message.document is not None
    with pytest.raises(BadRequest, match="(?i)file is too big"):
        await bot.get_file(big.message.document.file_id)
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")


async def test_in_process_polling_with_push_from_thread(api: FakeBotAPI) -> None:
    app = build_app(api)
    async with app:
        await app.updater.start_polling(timeout=dtm.timedelta(seconds=5))  # type: ignore[union-attr]
        await app.start()
        await asyncio.sleep(0.05)
        # The terminal chat mode pushes from its input thread, not from the event loop.
        thread = threading.Thread(target=api.push_update, args=(api.message(USER, "dari konsol"),))
        thread.start()
        await api.await_sent(USER, timeout=3)
        thread.join()
        await app.updater.stop()  # type: ignore[union-attr]
        await app.stop()
    assert api.texts(USER) == ["dari konsol"]
    assert api.pending_updates == 0


async def test_http_get_me_and_send(api: FakeBotAPI, server: tuple[FakeTelegramServer, str]) -> None:
    srv, base_url = server
    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/bot")
    app = Application.builder().token(TOKEN).base_url(base_url).base_file_url(srv.base_file_url).build()
    async with app:
        me = await app.bot.get_me()
        assert me.username == "ska_helpdesk_bot"
        incoming = Update.de_json(api.document(USER, "form.pdf", content=b"%PDF"), app.bot)
        assert incoming.message is not None and incoming.message.document is not None
        file = await incoming.message.document.get_file()
        assert bytes(await file.download_as_bytearray()) == b"%PDF"
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ya", callback_data="ya")]])
        message = await app.bot.send_message(USER, "<b>123</b>", parse_mode="HTML", reply_markup=keyboard)
        assert message.text == "123"
        await app.bot.send_document(USER, document=b"abcde", filename="a.txt")
        photo = await app.bot.send_photo(USER, b"img1", caption="<i>1</i>", parse_mode="HTML")
        assert photo.caption == "1" and photo.caption_entities[0].type == "italic"
        with pytest.raises(BadRequest, match="(?i)can't parse entities"):
            await app.bot.send_message(USER, "<b>", parse_mode="HTML")
        api.timeout_next()
        with pytest.raises(NetworkError):  # dropped connection, not a read timeout
            await app.bot.send_message(USER, "x")
        api.blocked.add(USER)
        with pytest.raises(Forbidden):
            await app.bot.send_message(USER, "x")
    with urllib.request.urlopen(f"{base_url}{TOKEN}/getMe?x=1") as response:
        assert json.load(response)["result"]["username"] == "ska_helpdesk_bot"
    request = urllib.request.Request(
        f"{base_url}{TOKEN}/sendMessage",
        data=json.dumps({"chat_id": "-100", "text": "123"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        assert json.load(response)["result"]["text"] == "123"  # text stays a string
    assert api.last(-100).params["chat_id"] == -100
    call = api.sent(USER, "sendMessage")[0]
    assert call.params["chat_id"] == USER  # form-encoded "4242" decoded to int
    assert call.params["text"] == "<b>123</b>"
    assert api.buttons(call) == [("Ya", "ya")]
    upload = api.last(USER, "sendDocument").params["document"]
    assert (upload["file_name"], upload["size"]) == ("a.txt", 5)


async def test_http_long_polling_echo(api: FakeBotAPI, server: tuple[FakeTelegramServer, str]) -> None:
    _, base_url = server
    app = Application.builder().token(TOKEN).base_url(base_url).build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with app:
        await app.updater.start_polling(timeout=dtm.timedelta(seconds=2))  # type: ignore[union-attr]
        await app.start()
        await asyncio.sleep(0.2)  # let the first long poll start waiting
        api.push_update(api.message(USER, "apa itu SKA?"))
        await api.await_sent(USER, timeout=5)
        await app.updater.stop()  # type: ignore[union-attr]
        await app.stop()
    assert api.texts(USER) == ["apa itu SKA?"]
    assert api.pending_updates == 0  # the cleanup getUpdates confirmed it


def test_webhook_delivery_retries_until_answered_200(api: FakeBotAPI) -> None:
    received: list[tuple[int, str | None]] = []
    answers = iter([500, 200, 200])

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((body["update_id"], self.headers.get("X-Telegram-Bot-Api-Secret-Token")))
            self.send_response(next(answers))
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api.webhook_url = "https://bot.example.org/hook"
    first = api.push_update(api.message(1, "a"))
    second = api.push_update(api.message(1, "b"))
    stop = api.deliver_to_webhook(f"http://127.0.0.1:{server.server_port}/", "s3cret", retry_delay=0.01)
    try:
        wait_for(lambda: api.pending_updates == 0, timeout=5)
    finally:
        stop()
        server.shutdown()
    # refused once, so delivered again; in order; confirmed only when answered 200
    assert received == [(first, "s3cret"), (first, "s3cret"), (second, "s3cret")]
    assert api.pending_updates == 0


def test_the_server_takes_many_connections_opened_at_once() -> None:
    # a bot answering many exporters at once opens a connection per reply under way;
    # Telegram takes them all, and so must the fake (a backlog of 5 reset some of them)
    api = FakeBotAPI()
    server, base_url = serve_http(api)
    start = threading.Barrier(64)
    answers: list[bool] = []

    def call(i: int) -> None:
        body = json.dumps({"chat_id": 1000 + i, "text": f"halo {i}"}).encode()
        request = urllib.request.Request(
            f"{base_url}424242:token/sendMessage", body, {"Content-Type": "application/json"}
        )
        start.wait()
        with urllib.request.urlopen(request, timeout=30) as response:
            answers.append(json.loads(response.read())["ok"])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(64)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        server.stop()
    assert answers == [True] * 64
    assert sorted(c.params["chat_id"] for c in api.calls) == list(range(1000, 1064))
