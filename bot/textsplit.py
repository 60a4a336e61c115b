"""The one helper that fits a text to Telegram's limits: split_html().

Every outgoing text, on every path, goes through it: Telegram refuses a whole message
over 4,096 characters (a caption over 1,024), and refuses a part whose HTML is broken,
so a cut must never fall inside a tag or an entity (`&amp;`), and a tag open at a cut is
closed at the end of its part and opened again at the start of the next.

Lengths are counted on the raw HTML in UTF-16 code units. Telegram counts the text
after parsing, which is never longer, so a part that fits here fits there too.
"""

from __future__ import annotations

import re

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
# a tag, an entity, or one character: the units a cut may fall between
_TOKEN = re.compile(r"<[^<>]*>|&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});|.", re.DOTALL)
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z][\w-]*)")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_html(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Parts of at most `limit` UTF-16 units, each valid HTML on its own.

    A cut prefers a blank line, then a line break, then a space, in the later half of a
    part, else the latest of them past a quarter; only a run with none of them is cut
    between two characters (tokens: a tag or an entity is never cut).
    """
    if utf16_len(text) <= limit:
        return [text]
    parts: list[str] = []
    stack: list[tuple[str, str]] = []  # (name, opening tag) of the tags open here
    current: list[str] = []
    size = 0
    # the latest break of each rank in `current`: rank -> (index after it, stack, size)
    breaks: dict[int, tuple[int, list[tuple[str, str]], int]] = {}

    def cut(at: int, tags: list[tuple[str, str]]) -> None:
        nonlocal current, size
        body = "".join(current[:at]).rstrip("\n ")
        if _visible(body).strip():
            parts.append(body + _closing(tags))
        current = [opening for _, opening in tags] + _lstrip(current[at:])
        size = sum(utf16_len(tok) for tok in current)
        breaks.clear()

    for token in _TOKEN.findall(text):
        is_tag = len(token) > 1 and token[0] == "<"
        new_stack = _apply_tag(stack, token) if is_tag else stack
        tok_size = utf16_len(token)
        while size + tok_size + utf16_len(_closing(new_stack)) > limit:
            floor = sum(utf16_len(opening) for _, opening in stack)
            if size <= floor:
                break  # nothing but reopened tags: the token goes in as it is
            late = [r for r, (_, _, at_size) in breaks.items() if at_size * 2 >= limit]
            fair = [b for b in breaks.values() if b[2] * 4 >= limit]
            if late:
                at, tags, _ = breaks[max(late)]
            elif fair:
                at, tags, _ = max(fair, key=lambda b: b[2])
            else:  # a break this early would leave a stub: cut the run instead
                at, tags = len(current), stack
            cut(at, tags)
        current.append(token)
        size += tok_size
        stack = new_stack
        if token in ("\n", " "):
            rank = 0 if token == " " else (2 if len(current) > 1 and current[-2] == "\n" else 1)
            breaks[rank] = (len(current), list(stack), size)
    body = "".join(current)
    if _visible(body).strip():
        parts.append(body + _closing(stack))
    return parts or [""]


def _closing(tags: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(tags))


def _visible(html_text: str) -> str:
    return re.sub(r"<[^<>]*>", "", html_text)


def _lstrip(tokens: list[str]) -> list[str]:
    i = 0
    while i < len(tokens) and tokens[i] in ("\n", " "):
        i += 1
    return tokens[i:]


def _apply_tag(stack: list[tuple[str, str]], tag: str) -> list[tuple[str, str]]:
    match = _TAG_NAME.match(tag)
    if match is None:
        return stack
    name = match.group(1).lower()
    if tag.startswith("</"):
        for i in range(len(stack) - 1, -1, -1):
            if stack[i][0] == name:
                return stack[:i]
        return stack
    if tag.endswith("/>"):
        return stack
    return stack + [(name, tag)]


def fit_caption(text: str, limit: int = CAPTION_LIMIT) -> tuple[str, list[str]]:
    """A caption within the limit, and the rest as message texts to send after it."""
    parts = split_html(text, limit)
    caption = parts[0]
    rest = "".join(parts[1:])
    return caption, split_html(rest) if rest else []
