"""Officers' operations: a long broadcast's preview in the group, application imports."""

from __future__ import annotations

import pytest

from tests.conftest import OFFICER_ID, OFFICERS_CHAT, BotHarness, buttons_of, text_of
from tests.test_broadcast import people

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


async def test_long_broadcast_preview_is_posted_once_and_presses_edit_only_its_status(
    bot: BotHarness,
) -> None:
    """A text that needs several messages is shown once; the buttons sit under a short
    status, and pressing them (the chosen option again, another audience, Send) edits
    that status only: the group gets no copy of the long text."""
    people(bot)
    text = "Pengumuman: e-SKA <b>gangguan</b> & antrean " + "A&B<C> " * 490
    sent = await bot.say(f"/broadcast {text}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    assert [c.method for c in sent] == ["sendMessage"] * 4
    *body, status = sent
    assert "&lt;b&gt;gangguan&lt;/b&gt; &amp; antrean" in text_of(body)
    assert all(buttons_of([c]) == [] for c in body)
    assert len(text_of([status])) < 400
    assert "3 pesan" in text_of([status]) and "10 eksportir" in text_of([status])
    labels = dict(buttons_of([status]))
    status_id = status.result["message_id"]

    def press(label: str) -> object:
        return bot.press(labels[label], user_id=OFFICER_ID, chat_id=OFFICERS_CHAT, message_id=status_id)

    assert await press("• Semua") == []  # already chosen: nothing changes
    edited = await press("Pengajuan terbuka")
    assert [(c.method, c.params["message_id"]) for c in edited] == [("editMessageText", status_id)]
    assert "pengajuan terbuka" in text_of(edited) and "8 eksportir" in text_of(edited)
    assert "A&amp;B" not in text_of(edited)
    edited = await press("📤 Kirim")
    assert [(c.method, c.params["message_id"]) for c in edited] == [("editMessageText", status_id)]
    assert "antrean untuk 8 eksportir" in text_of(edited) and "A&amp;B" not in text_of(edited)
    assert buttons_of(edited) == []
    assert len(bot.api.sent(OFFICERS_CHAT, "sendMessage")) == 4
