"""The phrase rules of normalize.yaml, applied in order but only where they can match.

Each rule is a regular expression run over the whole message in turn, and a later rule
sees what the earlier ones wrote ("es ka a" -> "ska", then "bikin ska" -> "ajukan ska").
Running ~170 of them on every message was a fifth of a match's time and grows with
every rule; one alternation of all of them is slower still in CPython's re (no
first-character dispatch behind the leading \\b), and it would change what a rule sees.
So every rule keeps its place, and a rule is tried only when the text holds one of the
few strings a match of it must begin with, read from the parsed pattern ("\\b(belum|blm)
\\s+..." must begin with "belum" or "blm"). Every rule starts at a word boundary, so
those strings are looked up among the 1-6 character beginnings of the message's words:
once per message, and again only after a rule has changed the text. The result is the
same as applying every rule in order (a test checks it on every sample and question
set); a rule whose beginning cannot be read is always tried.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from re import _constants as sre_c  # type: ignore[attr-defined]  # the parser's opcodes
from re import _parser as sre_parse  # type: ignore[attr-defined]  # no public pattern AST
from typing import Any

# beyond these many beginnings a rule is checked with shorter ones (fewer, looser)
_MAX_PREFIXES = 64
_PREFIX_LEN = 6
# a match begins at a word boundary: where a word starts
_WORD_START = re.compile(r"\b\w")
_STOP = ("stop", None)  # marks the end of what can be read after a repeat
# a character class wider than this is treated as "anything" (no gate from it)
_MAX_CLASS = 40


def _items(sub: Any) -> list[Any]:
    return list(sub.data) if hasattr(sub, "data") else list(sub)


def _class_chars(spec: list[tuple[Any, Any]]) -> set[str] | None:
    chars: set[str] = set()
    for op, arg in spec:
        if op is sre_c.LITERAL:
            chars.add(chr(arg))
        elif op is sre_c.RANGE and arg[1] - arg[0] <= _MAX_CLASS:
            chars.update(chr(c) for c in range(arg[0], arg[1] + 1))
        else:  # \\s, \\w, negated classes: too many characters to list
            return None
    return chars if len(chars) <= _MAX_CLASS else None


def _beginnings(items: list[Any], k: int) -> set[str]:
    """Strings of at most k characters one of which every match of `items` begins with.

    A shorter string is always a safe answer (the empty string: no gate)."""
    if k == 0 or not items:
        return {""}
    (op, arg), rest = items[0], items[1:]
    if (op, arg) == _STOP:
        return {""}
    if op in (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT):
        return _beginnings(rest, k)  # zero width: \\b, lookarounds
    if op is sre_c.LITERAL:
        return {chr(arg) + tail for tail in _beginnings(rest, k - 1)}
    if op is sre_c.IN:
        chars = _class_chars(arg)
        if chars is None:
            return {""}
        tails = _beginnings(rest, k - 1)
        return {c + tail for c in chars for tail in tails}
    if op is sre_c.SUBPATTERN:
        return _beginnings(_items(arg[-1]) + rest, k)
    if op is sre_c.ATOMIC_GROUP:
        return _beginnings(_items(arg) + rest, k)
    if op is sre_c.BRANCH:
        out: set[str] = set()
        for alternative in arg[1]:
            out |= _beginnings(_items(alternative) + rest, k)
        return out
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT):
        low, high, body = arg
        # "(di)?x": the body once, then what follows; more repeats: stop reading there
        out = _beginnings(_items(body) + (rest if high == 1 else [_STOP]), k)
        if low == 0:
            out |= _beginnings(rest, k)
        return out
    return {""}


def _at_word_start(items: list[Any]) -> bool:
    """Whether every match passes a \\b before its first character."""
    for i, (op, arg) in enumerate(items):
        if op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
            continue
        if op is sre_c.AT:
            return arg is sre_c.AT_BOUNDARY or _at_word_start(items[i + 1 :])
        if op is sre_c.BRANCH:
            return all(_at_word_start(_items(alt) + items[i + 1 :]) for alt in arg[1])
        if op is sre_c.SUBPATTERN:
            return _at_word_start(_items(arg[-1]) + items[i + 1 :])
        return False
    return False


def beginnings(pattern: str) -> frozenset[str] | None:
    """What a match of `pattern` must begin with, at the start of a word; None when that
    cannot be said (the rule is then always tried)."""
    try:
        parsed = sre_parse.parse(pattern)
    except Exception:  # noqa: BLE001 - an unreadable pattern is simply never gated
        return None
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return None  # letters of other cases or layout the reading below ignores
    items = _items(parsed)
    if not _at_word_start(items):
        return None
    for k in range(_PREFIX_LEN, 0, -1):
        found = _beginnings(items, k)
        if len(found) <= _MAX_PREFIXES:
            break
    else:
        return None
    if "" in found or not all(s[0].isalnum() or s[0] == "_" for s in found):
        return None  # a match that may begin with no word character
    # "ab" already covers "abc"
    return frozenset(s for s in found if not any(t != s and s.startswith(t) for t in found))


class PhraseRules:
    """Ordered (pattern, replacement) rules; calling it applies them all in order."""

    def __init__(self, rules: Iterable[tuple[str, str]]) -> None:
        self.rules: list[tuple[re.Pattern[str], str]] = []
        self._always: list[int] = []
        index: dict[str, list[int]] = defaultdict(list)
        for i, (pattern, repl) in enumerate(rules):
            self.rules.append((re.compile(pattern), repl))
            gate = beginnings(pattern)
            if gate is None:
                self._always.append(i)
            else:
                for s in gate:
                    index[s].append(i)
        self._index = dict(index)
        self._keys = frozenset(index)
        self._lengths = sorted({len(k) for k in index})

    def __len__(self) -> int:
        return len(self.rules)

    def _candidates(self, text: str, after: int) -> list[int]:
        starts = [m.start() for m in _WORD_START.finditer(text)]
        grams = {text[i : i + size] for size in self._lengths for i in starts}
        found = {i for i in self._always if i > after}
        for gram in self._keys.intersection(grams):
            found.update(i for i in self._index[gram] if i > after)
        return sorted(found)

    def __call__(self, text: str) -> str:
        todo, k = self._candidates(text, -1), 0
        while k < len(todo):
            rule = todo[k]
            pattern, repl = self.rules[rule]
            new = pattern.sub(repl, text)
            if new != text:
                # what the rule wrote may begin a later rule's match
                text, todo, k = new, self._candidates(new, rule), 0
            else:
                k += 1
        return text

    def sequential(self, text: str) -> str:
        """Every rule in order, ungated: what __call__ must always equal (tests)."""
        for pattern, repl in self.rules:
            text = pattern.sub(repl, text)
        return text
