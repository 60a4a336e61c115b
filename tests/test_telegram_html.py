"""The one Telegram-HTML parser: the fake Bot API refuses what it refuses, `kb check`
names every problem of a text with a hint."""

from __future__ import annotations

import pytest

from bot.telegram_html import HTMLParseError, parse_html, problems


def hints(text: str) -> list[str]:
    return [problem.hint for problem in problems(text)]


@pytest.mark.parametrize(
    "text",
    [
        "<b>SKA</b> &amp; <i>e-SKA</i> a > b",
        '<a href="https://e-ska.kemendag.go.id?a=1&amp;b=2">e-SKA</a>',
        '<pre><code class="language-python">x</code></pre> <tg-spoiler>s</tg-spoiler>',
        '<blockquote expandable>q</blockquote> <span class="tg-spoiler">s</span> &#128512;',
    ],
)
def test_what_telegram_accepts_has_no_problems(text: str) -> None:
    parse_html(text)
    assert problems(text) == []


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("<b>open", "unclosed <b>"),
        ("PT & CV", "a raw '&' (write &amp;)"),
        ("a < b", "a raw '<' (write &lt;)"),
        ("<div>x</div>", "tag <div> is not Telegram HTML"),
        ("x</b>", "</b> closes nothing open"),
        ("&nbsp;", "&nbsp; is not Telegram HTML (only &lt; &gt; &amp; &quot; and &#NN;)"),
        ('<span class="x">s</span>', '<span> needs class="tg-spoiler"'),
    ],
)
def test_each_problem_is_named_and_refused_like_telegram(text: str, hint: str) -> None:
    assert hints(text) == [hint]
    with pytest.raises(HTMLParseError) as refused:
        parse_html(text)
    assert refused.value.problem == problems(text)[0]


def test_every_problem_of_a_text_is_listed_in_order() -> None:
    text = "<b>Q&A</b> <br> <i>x</b></i> &foo; <u>end"
    assert hints(text) == [
        "a raw '&' (write &amp;)",
        "tag <br> is not Telegram HTML",
        "</b> where </i> was expected",
        "&foo; is not Telegram HTML (only &lt; &gt; &amp; &quot; and &#NN;)",
        "unclosed <u>",
    ]


def test_offsets_are_utf16_and_telegram_names_byte_offsets() -> None:
    plain, entities = parse_html("😀 <b>ok</b>")
    assert plain == "😀 ok"
    assert entities == [{"type": "bold", "offset": 3, "length": 2}]
    with pytest.raises(HTMLParseError, match="byte offset 5"):
        parse_html("😀 <x>")
