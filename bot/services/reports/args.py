"""What an officer types after /report and /stats, read into a period and a commodity.

Officers write the way they talk: `/report 2025 Kayu lapis`, `/report kemarin`,
`/report bulan lalu veneer`, `/report 2025-Q1`, `/report maret 2025`. Every word must be
understood as part of a period or a commodity; a word that is neither is named back to
the officer ("I don't understand X") instead of being taken as a commodity and giving an
empty report.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.text import month_numbers

ONE_DAY = dt.timedelta(days=1)
# joins two periods into one range: "2025-01 sampai 2025-06", "jan - jun 2025"; the em
# dash is what phones make of "--"
RANGE_WORDS = frozenset(
    {"-", "–", "—", "s.d.", "s.d", "sd", "s/d", "sampai", "hingga", "to", "until", "till", "ke"}
)
# the dashes of RANGE_WORDS, also written between two periods without spaces: "jan-mar"
_DASHES = frozenset("-–—")
# words that say nothing: "/report untuk bulan lalu", "/report for plywood"
FILLER = frozenset(
    {"untuk", "for", "periode", "period", "komoditas", "commodity", "di", "in", "pada", "of", "the"}
)
_QUARTER_RE = re.compile(r"^(?:(\d{4})[-/ ]?(?:q|tw|k)([1-4])|(?:q|tw|k)([1-4])[-/ ]?(\d{4})?)$")
_ISO_RE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")
_DMY_RE = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
_RELATIVE: dict[tuple[str, ...], str] = {
    ("hari", "ini"): "today",
    ("today",): "today",
    ("kemarin",): "yesterday",
    ("yesterday",): "yesterday",
    ("minggu", "ini"): "this_week",
    ("pekan", "ini"): "this_week",
    ("this", "week"): "this_week",
    ("minggu", "lalu"): "last_week",
    ("pekan", "lalu"): "last_week",
    ("last", "week"): "last_week",
    ("bulan", "ini"): "this_month",
    ("this", "month"): "this_month",
    ("bulan", "lalu"): "last_month",
    ("last", "month"): "last_month",
    ("kuartal", "ini"): "this_quarter",
    ("triwulan", "ini"): "this_quarter",
    ("this", "quarter"): "this_quarter",
    ("kuartal", "lalu"): "last_quarter",
    ("triwulan", "lalu"): "last_quarter",
    ("last", "quarter"): "last_quarter",
    ("tahun", "ini"): "this_year",
    ("this", "year"): "this_year",
    ("tahun", "lalu"): "last_year",
    ("last", "year"): "last_year",
}
_QUARTER_WORDS = ("kuartal", "triwulan", "quarter", "q", "tw")


class ArgsError(ValueError):
    """Words that could not be read; `word` is the first of them (as typed)."""

    def __init__(self, key: str, word: str = "") -> None:
        super().__init__(key)
        self.key = key
        self.word = word


@dataclass(frozen=True)
class Span:
    start: dt.date
    end: dt.date  # inclusive


def _month_end(day: dt.date) -> dt.date:
    nxt = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return nxt - ONE_DAY


def _month(year: int, month: int) -> Span:
    first = dt.date(year, month, 1)
    return Span(first, _month_end(first))


def _quarter(year: int, q: int) -> Span:
    first = dt.date(year, 3 * (q - 1) + 1, 1)
    return Span(first, _month_end(dt.date(year, 3 * q, 1)))


def _relative(kind: str, today: dt.date) -> Span:
    if kind == "today":
        return Span(today, today)
    if kind == "yesterday":
        return Span(today - ONE_DAY, today - ONE_DAY)
    if kind in ("this_week", "last_week"):
        monday = today - dt.timedelta(days=today.weekday())
        if kind == "last_week":
            monday -= dt.timedelta(days=7)
        return Span(monday, monday + dt.timedelta(days=6))
    if kind == "this_month":
        return _month(today.year, today.month)
    if kind == "last_month":
        last = today.replace(day=1) - ONE_DAY
        return _month(last.year, last.month)
    q = (today.month - 1) // 3 + 1
    if kind == "this_quarter":
        return _quarter(today.year, q)
    if kind == "last_quarter":
        return _quarter(today.year - 1, 4) if q == 1 else _quarter(today.year, q - 1)
    if kind == "this_year":
        return Span(dt.date(today.year, 1, 1), dt.date(today.year, 12, 31))
    return Span(dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31))


def _iso(token: str) -> Span | None:
    m = _ISO_RE.match(token)
    if m is None:
        return None
    year, month, day = int(m[1]), m[2], m[3]
    if not 1900 <= year <= 2999:
        return None
    try:
        if month is None:
            return Span(dt.date(year, 1, 1), dt.date(year, 12, 31))
        first = dt.date(year, int(month), int(day or 1))
    except ValueError:
        return None
    return Span(first, first) if day else _month(first.year, first.month)


def _dmy(token: str) -> Span | None:
    m = _DMY_RE.match(token)
    if m is None:
        return None
    try:
        day = dt.date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        return None
    return Span(day, day)


def _year(token: str) -> int | None:
    return int(token) if token.isdecimal() and len(token) == 4 and 1900 <= int(token) <= 2999 else None


def _recent_month(month: int, today: dt.date) -> Span:
    """'maret' alone: the most recent March that has begun."""
    year = today.year if month <= today.month else today.year - 1
    return _month(year, month)


def period_at(words: Sequence[str], i: int, today: dt.date) -> tuple[Span, int] | None:
    """The period that starts at words[i] and how many words it takes, or None."""
    w = words[i]
    nxt = words[i + 1] if i + 1 < len(words) else ""
    third = words[i + 2] if i + 2 < len(words) else ""
    if (w, nxt) in _RELATIVE:
        return _relative(_RELATIVE[(w, nxt)], today), 2
    if (w,) in _RELATIVE:
        return _relative(_RELATIVE[(w,)], today), 1
    # "7 hari", "30 days": the last N days up to today
    if w.isdecimal() and nxt in ("hari", "days", "day") and 1 <= int(w) <= 3660:
        return Span(today - dt.timedelta(days=int(w) - 1), today), 2
    # "kuartal 1 2025", "q1 2025", "2025-q1", "q1"
    if w in _QUARTER_WORDS and nxt in ("1", "2", "3", "4"):
        year = _year(third)
        return _quarter(year or today.year, int(nxt)), 3 if year else 2
    m = _QUARTER_RE.match(w)
    if m is not None:
        if m[1]:
            return _quarter(int(m[1]), int(m[2])), 1
        year = _year(nxt) if m[4] is None else int(m[4])
        taken = 2 if m[4] is None and year else 1
        return _quarter(year or today.year, int(m[3])), taken
    months = month_numbers()
    # "7 maret 2025"
    if w.isdecimal() and nxt in months and _year(third):
        try:
            day = dt.date(int(third), months[nxt], int(w))
        except ValueError:
            return None
        return Span(day, day), 3
    if w in months:
        year = _year(nxt)
        if year:
            return _month(year, months[w]), 2
        return _recent_month(months[w], today), 1
    span = _iso(w) or _dmy(w)
    if span is not None:
        return span, 1
    return None


def _one_period(word: str, today: dt.date) -> list[str] | None:
    """A word that is one period: as it stands (2026-01-15, 2026-03, 2025-q1), or a month
    and its year joined by a dash; None otherwise."""
    if period_at([word], 0, today) is not None:
        return [word]
    # "mar-2026" is a month of a year as spreadsheets write it, not March to the end of
    # 2026; "2026-mar" stays a range, the second half of "jan 2025-mar 2026"
    for dash in _DASHES:
        month, cut, year = word.partition(dash)
        if cut and month in month_numbers() and _year(year):
            return [month, year]
    return None


def _joined(word: str, today: dt.date) -> list[str] | None:
    """One word as the words of a period or of a range written without spaces, or None.

    Offices write ranges as one word: "januari-maret", "jan–mar", "2025-01-2025-06". A word
    that is a period as it stands is never cut; otherwise it is cut at the dash whose two
    sides are periods (or at a dash at one end: "januari- maret").
    """
    if word in RANGE_WORDS:
        return [word]
    whole = _one_period(word, today)
    if whole is not None:
        return whole
    for at, ch in enumerate(word):
        if ch not in _DASHES:
            continue
        left, right = word[:at], word[at + 1 :]
        a = _one_period(left, today) if left else []
        b = _one_period(right, today) if right else []
        if a is not None and b is not None:
            return [*a, "-", *b]
    return None


def _ranges(words: list[str], today: dt.date) -> list[str]:
    """The words with ranges written as one word ("januari-maret") spelled out."""
    out: list[str] = []
    for word in words:
        out.extend(_joined(word, today) or [word])
    return out


def _tokens(args: Iterable[str]) -> list[str]:
    words: list[str] = []
    for arg in args:
        for word in arg.split():
            word = word.casefold().strip(",;")
            if word:
                words.append(word)
    return words


@dataclass(frozen=True)
class Reading:
    span: Span | None  # None: the command's default
    rest: tuple[str, ...]  # the words that are not a period, as typed (lowercased)


def read_period(args: Sequence[str], today: dt.date) -> Reading:
    """Find one period (or a range of two) anywhere among the words; the rest is returned.

    A range "A sampai B" (or two periods side by side) runs from the start of A to the end
    of B; "jan - jun 2025" (or "jan-jun 2025") takes the year of B for A too.
    """
    words = _ranges(_tokens(args), today)
    spans: list[tuple[Span, int, int]] = []  # span, first word, words taken
    rest: list[str] = []
    i = 0
    while i < len(words):
        if words[i] in RANGE_WORDS and spans and spans[-1][1] + spans[-1][2] == i:
            i += 1
            continue
        if words[i] in FILLER:
            i += 1
            continue
        found = period_at(words, i, today)
        if found is None:
            rest.append(words[i])
            i += 1
            continue
        span, taken = found
        spans.append((span, i, taken))
        i += taken
    if len(spans) > 2:
        raise ArgsError("args_too_many_periods", " ".join(words))
    if not spans:
        return Reading(None, tuple(rest))
    if len(spans) == 1:
        return Reading(spans[0][0], tuple(rest))
    (a, ai, at), (b, _, _) = spans
    start = a.start
    # "januari - juni 2025": the first month written without a year takes the second's
    month_only = words[ai] in month_numbers() and at == 1
    if month_only and b.start.year != a.start.year:
        start = a.start.replace(year=b.start.year)
    if b.end < start:
        raise ArgsError("rep_bad_period")
    return Reading(Span(start, b.end), tuple(rest))


# -- commodities ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CommodityGroup:
    """One commodity of the office's list: its names in both languages and spellings."""

    id: str
    names: dict[str, str]
    aliases: tuple[str, ...]


def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[\w-]+", text.casefold()))


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


class CommodityNames:
    """Turns what an officer typed into the commodity names recorded in the applications."""

    def __init__(self, groups: Iterable[CommodityGroup]) -> None:
        self.groups = tuple(groups)

    def _group_of(self, phrase: str) -> CommodityGroup | None:
        for g in self.groups:
            spellings = {
                g.id.casefold(),
                *(a.casefold() for a in g.aliases),
                *(n.casefold() for n in g.names.values()),
            }
            if phrase in spellings:
                return g
        return None

    def members(self, group: CommodityGroup, recorded: Iterable[str]) -> list[str]:
        """Recorded names of that commodity: 'Veneer Keruing' is a veneer."""
        spellings = [_words(a) for a in (*group.aliases, *group.names.values())]
        return [name for name in recorded if any(_contains(_words(name), s) for s in spellings if s)]

    def resolve(self, phrase: str, recorded: Sequence[str]) -> tuple[str, tuple[str, ...]] | None:
        """(label, recorded names) for a phrase, or None when it names no commodity.

        The label is what the report shows: the recorded name when one matches exactly,
        else the commodity's name."""
        phrase = " ".join(phrase.casefold().split())
        if not phrase:
            return None
        exact = [name for name in recorded if name.casefold() == phrase]
        if exact:
            return exact[0], tuple(exact)
        group = self._group_of(phrase)
        if group is not None:
            members = self.members(group, recorded)
            label = members[0] if len(members) == 1 else group.names.get("en", group.id)
            return label, tuple(members)
        # a recorded name that contains the phrase: "keruing" -> "Veneer Keruing"
        partial = [name for name in recorded if _contains(_words(name), _words(phrase))]
        if partial:
            return (partial[0] if len(partial) == 1 else phrase), tuple(partial)
        # a typo: "plywod", "venner"
        choices = {name.casefold(): name for name in recorded}
        for g in self.groups:
            for alias in g.aliases:
                choices.setdefault(alias.casefold(), alias)
        best = process.extractOne(phrase, list(choices), scorer=fuzz.ratio, score_cutoff=85)
        if best is not None:
            return self.resolve(choices[best[0]], recorded) if best[0] != phrase else None
        return None

    def examples(self, lang: str, recorded: Sequence[str] = ()) -> list[str]:
        names = [g.names.get(lang, g.id) for g in self.groups]
        for name in recorded:
            if self._group_of(name.casefold()) is None and not any(
                self.members(g, [name]) for g in self.groups
            ):
                names.append(name)
        return names


# -- the two commands -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportQuery:
    span: Span | None  # None: this year
    commodity: str | None  # what the report calls it
    names: tuple[str, ...] | None  # the recorded names it stands for


def read_report(
    args: Sequence[str], today: dt.date, commodities: CommodityNames, recorded: Sequence[str]
) -> ReportQuery:
    """`/report [period] [commodity]` in any order; ArgsError names what was not understood."""
    reading = read_period(args, today)
    rest = list(reading.rest)
    if not rest:
        return ReportQuery(reading.span, None, None)
    if reading.span is None and rest[0][:1].isdigit():
        raise ArgsError("rep_bad_period", rest[0])
    # the longest start of the words that names a commodity; what follows is not understood
    for k in range(len(rest), 0, -1):
        found = commodities.resolve(" ".join(rest[:k]), recorded)
        if found is not None:
            if k < len(rest):
                raise ArgsError("args_not_understood", " ".join(rest[k:]))
            return ReportQuery(reading.span, found[0], found[1])
    raise ArgsError("rep_bad_period" if rest[0][:1].isdigit() else "args_not_understood", " ".join(rest))


CHART_WORDS = frozenset({"chart", "grafik", "png", "gambar"})
EXCEL_WORDS = frozenset({"excel", "xlsx"})


@dataclass(frozen=True)
class StatsQuery:
    days: int
    span: Span | None  # a named period instead of the last `days`
    chart: bool
    workbook: bool


def read_stats(args: Sequence[str], today: dt.date, default_days: int, max_days: int) -> StatsQuery:
    """`/stats [days | period] [grafik|excel]`."""
    days: int | None = None
    chart = workbook = False
    words: list[str] = []
    tokens = _tokens(args)
    for i, word in enumerate(tokens):
        if word in CHART_WORDS:
            chart = True
        elif word in EXCEL_WORDS:
            workbook = True
        elif word in ("hari", "days", "day") and i > 0 and tokens[i - 1].isdecimal() and days is not None:
            continue  # "/stats 7 hari"
        elif word.isdecimal() and _year(word) is None and not words and days is None:
            if not 1 <= int(word) <= max_days:
                raise ArgsError("stats_bad_days", word)
            days = int(word)
        else:
            words.append(word)
    reading = read_period(words, today)
    if reading.rest:
        raise ArgsError("args_not_understood", " ".join(reading.rest))
    if reading.span is not None and days is not None:
        raise ArgsError("args_not_understood", str(days))
    return StatsQuery(days or default_days, reading.span, chart, workbook)
