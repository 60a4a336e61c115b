"""What Telegram accepts as a message: its HTML subset (``parse_mode=HTML``) and its limits.

One parser for both sides: the fake Bot API of the tests refuses a message exactly where
Telegram would (:func:`parse_html` raises on the first problem, with Telegram's wording),
and ``kb check`` lists every problem of an answer before it goes live (:func:`problems`,
with a hint for the author). Entity offsets and lengths are in UTF-16 code units, as
Telegram counts them.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

TEXT_LIMIT = 4096  # characters of a message, after parsing
CAPTION_LIMIT = 1024  # characters of a media caption, after parsing
CALLBACK_DATA_LIMIT = 64  # bytes of a button's callback_data

# tag -> MessageEntity type
TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_ENTITY = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,7})|([A-Za-z][A-Za-z0-9]*));")
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTRIBUTE = re.compile(r"""([A-Za-z][A-Za-z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")
_PLAIN_RUN = re.compile(r"[^<&]+")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Problem:
    """Why Telegram refuses a text: its own wording, and a hint for whoever wrote it."""

    telegram: str  # as in "Bad Request: can't parse entities: ..."
    hint: str  # what to change, for `kb check`


class HTMLParseError(ValueError):
    """The HTML could not be parsed the way Telegram parses ``parse_mode=HTML``."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.telegram)
        self.problem = problem


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the plain text
    order: int
    language: str | None = None


class _Parser:
    """One pass over the text. Strict, it stops at the first problem as Telegram does;
    otherwise it notes the problem, skips what caused it and goes on, to name them all."""

    def __init__(self, text: str, strict: bool) -> None:
        self.text = text
        self.strict = strict
        self.problems: list[Problem] = []
        self.out: list[str] = []
        self.pos = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[tuple[int, dict[str, Any]]] = []
        self.opened = 0
        self.skipped: list[str] = []  # unsupported tags left open (lenient only)

    def at(self, index: int) -> int:
        """Telegram names places by byte offset in the UTF-8 text."""
        return len(self.text[:index].encode("utf-8"))

    def fail(self, telegram: str, hint: str) -> None:
        problem = Problem(telegram, hint)
        if self.strict:
            raise HTMLParseError(problem)
        self.problems.append(problem)

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        text, i, n = self.text, 0, len(self.text)
        while i < n:
            if text.startswith("</", i):
                i = self.end_tag(i)
            elif text[i] == "<":
                i = self.start_tag(i)
            elif text[i] == "&":
                i = self.entity(i)
            else:
                # a run of plain text at once, not char by char: most of a message is plain
                plain = _PLAIN_RUN.match(text, i)
                chunk = plain.group(0) if plain else text[i]
                self.add(chunk)
                i += len(chunk)
        if self.stack:
            name = self.stack[-1].name
            self.fail(f'Can\'t find end tag corresponding to start tag "{name}"', f"unclosed <{name}>")
        # Outer entities first when they start at the same place, as Telegram orders them.
        self.entities.sort(key=lambda item: (item[1]["offset"], -item[1]["length"], item[0]))
        return "".join(self.out), [entity for _, entity in self.entities]

    def add(self, chunk: str) -> None:
        self.out.append(chunk)
        self.pos += len(chunk) if chunk.isascii() else utf16_len(chunk)

    def end_tag(self, i: int) -> int:
        end = self.text.find(">", i)
        if end < 0:
            self.fail(f"Unclosed end tag at byte offset {self.at(i)}", "a raw '<' (write &lt;)")
            self.add("<")
            return i + 1
        name = self.text[i + 2 : end].strip().lower()
        if name not in TAGS and name in self.skipped:
            self.skipped.remove(name)  # the end of a tag already named as unsupported
            return end + 1
        if not self.stack:
            self.fail(f"Unexpected end tag at byte offset {self.at(i)}", f"</{name}> closes nothing open")
            return end + 1
        if name != self.stack[-1].name:
            expected = self.stack[-1].name
            self.fail(
                f'Unmatched end tag at byte offset {self.at(i)}, expected "</{expected}>", found "</{name}>"',
                f"</{name}> where </{expected}> was expected",
            )
            if all(tag.name != name for tag in self.stack):
                return end + 1
            while self.stack[-1].name != name:
                self.stack.pop()
        self.close(self.stack.pop())
        return end + 1

    def start_tag(self, i: int) -> int:
        match = _TAG_NAME.match(self.text, i + 1)
        name = match.group(0).lower() if match else ""
        if match is None:
            self.fail(f'Unsupported start tag "" at byte offset {self.at(i)}', "a raw '<' (write &lt;)")
            self.add("<")
            return i + 1
        if name not in TAGS:
            self.fail(
                f'Unsupported start tag "{name}" at byte offset {self.at(i)}',
                f"tag <{name}> is not Telegram HTML",
            )
            end = self.text.find(">", i)
            if end < 0:
                self.add("<")
                return i + 1
            self.skipped.append(name)
            return end + 1
        parsed = self.attributes(match.end(), name, i)
        if parsed is None:
            self.add("<")
            return i + 1
        attrs, after = parsed
        if name == "span" and attrs.get("class") != "tg-spoiler":
            self.fail(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.at(i)}',
                '<span> needs class="tg-spoiler"',
            )
        if name == "tg-emoji" and not attrs.get("emoji-id"):
            self.fail(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {self.at(i)}',
                "<tg-emoji> needs an emoji-id",
            )
        self.stack.append(_OpenTag(name, attrs, self.pos, self.opened))
        self.opened += 1
        return after

    def attributes(self, j: int, tag: str, start: int) -> tuple[dict[str, str], int] | None:
        text, n = self.text, len(self.text)
        attrs: dict[str, str] = {}
        while True:
            while j < n and text[j].isspace():
                j += 1
            if j >= n:
                self.fail(
                    f"Unclosed start tag at byte offset {self.at(start)}", f"<{tag} is never closed with '>'"
                )
                return None
            if text[j] == ">":
                return attrs, j + 1
            match = _ATTRIBUTE.match(text, j)
            if match is None:
                self.fail(
                    f'Invalid attribute declaration in tag "{tag}" at byte offset {self.at(start)}',
                    f"a malformed attribute in <{tag}>",
                )
                return None
            value = next((g for g in match.groups()[1:] if g is not None), "")
            attrs[match.group(1).lower()] = html.unescape(value)
            j = match.end()

    def entity(self, i: int) -> int:
        match = _ENTITY.match(self.text, i)
        decoded = _decode_entity(match) if match else None
        if match is None or decoded is None:
            hint = (
                f"{match.group(0)} is not Telegram HTML (only &lt; &gt; &amp; &quot; and &#NN;)"
                if match
                else "a raw '&' (write &amp;)"
            )
            self.fail(
                f"Unsupported HTML entity at byte offset {self.at(i)}; escape '&' as "
                "&amp; (only &lt; &gt; &amp; &quot; and &#NN; are allowed)",
                hint,
            )
            self.add("&")
            return i + 1
        self.add(decoded)
        return match.end()

    def close(self, tag: _OpenTag) -> None:
        length = self.pos - tag.start
        kind = TAGS[tag.name]
        language = tag.attrs.get("class", "")
        if (
            kind == "code"
            and self.stack
            and self.stack[-1].name == "pre"
            and language.startswith("language-")
        ):
            # Telegram folds <pre><code class="language-x"> into one pre entity with a language.
            self.stack[-1].language = language.removeprefix("language-")
            return
        if length <= 0:
            return
        entity: dict[str, Any] = {"type": kind, "offset": tag.start, "length": length}
        if kind == "text_link":
            href = tag.attrs.get("href", "")
            if not href:
                return
            entity["url"] = href
        elif kind == "pre" and tag.language:
            entity["language"] = tag.language
        elif kind == "blockquote" and "expandable" in tag.attrs:
            entity["type"] = "expandable_blockquote"
        elif kind == "custom_emoji":
            entity["custom_emoji_id"] = tag.attrs["emoji-id"]
        self.entities.append((tag.order, entity))


def _decode_entity(match: re.Match[str]) -> str | None:
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return NAMED_ENTITIES.get(name)
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """The plain text and the MessageEntity dicts Telegram makes of ``text``.

    Raises :class:`HTMLParseError` at the first problem, as Telegram refuses the message.
    """
    return _Parser(text, strict=True).run()


def problems(text: str) -> list[Problem]:
    """Every problem in ``text`` (empty when Telegram accepts it)."""
    parser = _Parser(text, strict=False)
    parser.run()
    return parser.problems
