"""Answers: from a question to a rendered reply, logged for the gap report."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from rapidfuzz import fuzz
from sqlalchemy import CursorResult, bindparam, exists, insert, or_, select, update

from bot.config import Settings
from bot.db import Database
from bot.i18n import t
from bot.models import QueryLog, TicketMessage, utcnow
from bot.services.pending import build_matcher
from bot.text import escape, format_number
from knowledge.loader import CATEGORIES, Country, Knowledge
from knowledge.verdict import Verdict, classify

if TYPE_CHECKING:
    from knowledge.matcher import Matcher

# the longest part of a message the matcher reads; a longer message is answered from
# its sentences that ask, and kept whole for the log and an officer
MAX_QUESTION_CHARS = 1000
# Telegram's own limit on a text: nothing longer comes from a chat
MAX_MESSAGE_CHARS = 4096
FORM_TOPIC = "form-by-destination"
OFFICE_TOPIC = "office-contact"
ESCALATE_TOPIC = "talk-to-officer"
SMALLTALK = ("greeting", "thanks")
ASKED = ("answer", "suggest", "no_match", "ask_destination")
# the replies to a confident match (the verdict "answer"): a topic's answer, or the
# forms topic asking for the destination
CONFIDENT = ("answer", "ask_destination")
# words that add nothing to a request for an officer ("petugas saja", "sekarang juga"):
# with any other word beyond the request's own, the message says what it is about
REQUEST_FILLERS = frozenset(("saja", "sekarang", "segera", "langsung", "juga", "just", "now", "only"))
_SENTENCE_END = re.compile(r"(?<=[.?!\n])\s+")
_WORDS = re.compile(r"[a-z0-9_]+")
# (text, outcome, what the exporter was shown): a logged question as a ticket needs it
Asked = tuple[str, str, list[tuple[str, float]]]


@dataclass(frozen=True)
class Reply:
    """What the bot says to a question, with what its buttons need."""

    outcome: str  # answer | suggest | no_match | smalltalk | ask_destination
    topic_id: str | None
    score: float
    lang: str
    text: str  # Telegram HTML
    suggestions: tuple[tuple[str, str], ...] = ()  # (topic id, title) for "did you mean"
    confirm: bool = False  # the answer holds a fact the office must confirm
    offer_officer: bool = False  # the answer sends the reader to an officer (button)
    query_id: int | None = None  # query_log row, for the helpful? buttons
    country: str | None = None
    candidates: tuple[tuple[str, float], ...] = field(default=())


_LOG_COLUMNS = ("user_id", "text", "language", "matched_id", "score", "outcome", "feedback", "created_at")
QueryLogRow = dict[str, Any]  # the values of one query_log row, its id included


class DeferredLog:
    """The question-log rows of the update being handled, to be written after it together
    with its update id (bot.app.HelpDeskApplication, UpdateLog.first_time): on PostgreSQL
    one round trip instead of two. Only a row whose id was reserved beforehand (by
    ConversationLookup, in the read it makes anyway) waits here; its 👍/👎 buttons can
    name it before it is written, and the sender's next update, which is the earliest
    that could press them, is handled only after this one."""

    def __init__(self) -> None:
        self.rows: list[QueryLogRow] = []


_DEFERRED: ContextVar[DeferredLog | None] = ContextVar("deferred_query_log", default=None)


@contextmanager
def deferring_log() -> Iterator[DeferredLog]:
    """Within it (one update's handling), a question with a reserved id is not written
    at once but kept in the DeferredLog yielded."""
    deferred = DeferredLog()
    token = _DEFERRED.set(deferred)
    try:
        yield deferred
    finally:
        _DEFERRED.reset(token)


class AnswerService:
    def __init__(
        self, kb: Knowledge, db: Database | None, settings: Settings, matcher: Matcher | None = None
    ) -> None:
        self.kb = kb
        self.db = db
        # compiled once: every question is logged
        self._insert_log = (
            db.prepare(
                insert(QueryLog).values(**{c: bindparam(c) for c in _LOG_COLUMNS}).returning(QueryLog.id)
            )
            if db is not None
            else None
        )
        # a deferred row comes with its id (only PostgreSQL reserves ids: a sequence)
        self._insert_log_row = (
            db.prepare(insert(QueryLog).values(**{c: bindparam(c) for c in ("id", *_LOG_COLUMNS)}))
            if db is not None and not db.local
            else None
        )
        self.settings = settings
        self.matcher = matcher or build_matcher(kb)
        self.limits = settings.matcher.thresholds()
        self._country_by_name = _countries_by_name(kb)
        self._rendered: dict[tuple[str, str], str] = {}
        self._officer_words: frozenset[str] | None = None
        self._officer_cues: frozenset[str] | None = None

    def reload(self, kb: Knowledge) -> None:
        """Swap in an updated knowledge base (approved FAQ proposals) without a restart."""
        self.kb = kb
        self.matcher = build_matcher(kb)
        self._country_by_name = _countries_by_name(kb)
        self._rendered = {}
        self._officer_words = None
        self._officer_cues = None

    # -- questions -----------------------------------------------------------------------

    def classify(self, text: str) -> Verdict:
        return classify(self.matcher.match(text), self.limits)

    def ask(
        self,
        text: str,
        preferred_lang: str,
        user_id: int | None = None,
        log: bool = True,
        query_id: int | None = None,
    ) -> Reply:
        """Answer one question; every question is logged with its outcome (with the id
        `query_id` when one was reserved for it)."""
        long = len(text) > MAX_QUESTION_CHARS
        verdict = self._officer_request_in(text) if long else None
        if verdict is None:
            verdict = classify(self.matcher.match(self.asking_part(text) if long else text), self.limits)
        lang = verdict.lang or preferred_lang
        reply = self._reply(verdict, lang)
        if long and reply.topic_id != ESCALATE_TOPIC:
            # only part of it was read: the whole message can still go to an officer
            text_ = f"{reply.text}\n\n{t('long_question_note', lang)}"
            reply = replace(reply, text=text_, offer_officer=True)
        if log:
            reply = self._log(reply, text, user_id, query_id)
        return reply

    def answer_if_asked(
        self, text: str, preferred_lang: str, user_id: int | None = None, query_id: int | None = None
    ) -> Reply | None:
        """The answer to a text another conversation could not take (a /cek answer that
        does not fit its question), when the text is put as a question and the matcher
        answers it confidently; None otherwise. Only an answer is logged: a mistyped
        answer to the check is no question for the gap report."""
        if not self.asks(text):
            return None
        reply = self.ask(text, preferred_lang, log=False)
        if reply.outcome not in CONFIDENT:
            return None
        return self._log(reply, text, user_id, query_id)

    def asks(self, text: str) -> bool:
        """Whether a text is put as a question: a question mark or a question word (after
        the word map, as the matcher tells a long message's asking clauses), and at
        least two words that are not figures. The matcher answers some answers
        confidently too ("senin", "30-02-2025" for the export figures of a year); these
        do not ask, and "2025?" is no question either."""
        from knowledge.matcher import QUESTION_WORDS  # brings numpy: not at start-up

        words = _WORDS.findall(text.lower())
        if sum(1 for w in words if not w.isdigit()) < 2:
            return False
        mapped = self.matcher.normalize.words
        return "?" in text or not QUESTION_WORDS.isdisjoint(mapped.get(w, w) for w in words)

    def _reply(self, v: Verdict, lang: str) -> Reply:
        cands = tuple((c.id, c.score) for c in v.suggestions)
        if v.outcome == "smalltalk" and v.id is not None:
            return Reply("smalltalk", v.id, v.score, lang, self.topic_text(v.id, lang))
        if v.outcome == "answer" and v.id == FORM_TOPIC:
            if v.country is not None and v.country not in self.kb.countries:
                # a country the table does not cover: say so, never the general table
                # (its "Form B: every country" would cost an exporter a preference)
                return Reply(
                    "answer",
                    FORM_TOPIC,
                    v.score,
                    lang,
                    self.unknown_destination_text(v.country, lang),
                    country=v.country,
                    confirm=True,
                    candidates=cands,
                )
            if v.country is not None:
                return Reply(
                    "answer",
                    FORM_TOPIC,
                    v.score,
                    lang,
                    self.destination_text(v.country, lang),
                    country=v.country,
                    confirm=self.kb.countries[v.country].confirm,
                    candidates=cands,
                )
            return Reply(
                "ask_destination",
                FORM_TOPIC,
                v.score,
                lang,
                self.topic_text(FORM_TOPIC, lang),
                candidates=cands,
            )
        if v.outcome == "answer" and v.id is not None:
            return Reply(
                "answer",
                v.id,
                v.score,
                lang,
                self.topic_text(v.id, lang),
                confirm=self.topic_confirm(v.id),
                offer_officer=self.topic_offers_officer(v.id),
                candidates=cands,
            )
        if v.outcome == "suggest":
            sugg = tuple((c.id, self.kb.entries[c.id].title[lang]) for c in v.suggestions)
            return Reply(
                "suggest",
                None,
                v.score,
                lang,
                t("did_you_mean", lang),
                suggestions=sugg,
                country=v.country,
                candidates=cands,
            )
        return Reply("no_match", None, v.score, lang, t("no_match", lang), candidates=cands)

    def _log(self, reply: Reply, text: str, user_id: int | None, query_id: int | None) -> Reply:
        if self._insert_log is None:
            return reply
        values = {
            "user_id": user_id,
            "text": text[:MAX_MESSAGE_CHARS],
            "language": reply.lang,
            "matched_id": reply.topic_id,
            "score": reply.score,
            "outcome": reply.outcome,
            "feedback": None,
            "created_at": utcnow(),
        }
        deferred = _DEFERRED.get()
        if query_id is not None and deferred is not None and self._insert_log_row is not None:
            deferred.rows.append({"id": query_id, **values})
            return replace(reply, query_id=query_id)
        # one statement on its own: every question pays for this write
        row = self._insert_log.one(**values)
        assert row is not None  # INSERT ... RETURNING gives the new row's id
        return replace(reply, query_id=row[0])

    def write_log(self, rows: Sequence[QueryLogRow]) -> None:
        """Write deferred question-log rows (each with its reserved id)."""
        if self._insert_log_row is None:
            return
        for row in rows:
            self._insert_log_row.one(**row)

    def record_feedback(self, query_id: int, user_id: int, helpful: bool) -> bool:
        """Store 👍/👎 on the user's own query once; False if not theirs or already rated."""
        assert self.db is not None, "feedback needs a database"
        with self.db.session() as s:
            result = cast(
                CursorResult[Any],
                s.execute(
                    update(QueryLog)
                    .where(QueryLog.id == query_id, QueryLog.user_id == user_id, QueryLog.feedback.is_(None))
                    .values(feedback=1 if helpful else -1)
                ),
            )
            return result.rowcount == 1

    def asking_part(self, text: str) -> str:
        """At most MAX_QUESTION_CHARS of a long message for the matcher: its last
        sentences that ask (a question mark or a question word), else its end."""
        from knowledge.matcher import QUESTION_WORDS  # brings numpy: not at start-up

        sentences = [p for p in _SENTENCE_END.split(text) if p.strip()]
        words = self.matcher.normalize.words
        asking = [
            p
            for p in sentences
            if "?" in p or not QUESTION_WORDS.isdisjoint(words.get(w, w) for w in _WORDS.findall(p.lower()))
        ]
        picked: list[str] = []
        size = 0
        for part in reversed(asking):
            if size + len(part) > MAX_QUESTION_CHARS:
                break
            picked.append(part)
            size += len(part) + 1
        return " ".join(reversed(picked)) or text[-MAX_QUESTION_CHARS:]

    def _officer_request_in(self, text: str) -> Verdict | None:
        """The verdict of a sentence of a long message that asks for an officer, if one
        does: "Selamat pagi, saya mau bicara dengan petugas. (two thousand characters of
        the case)" is a request for a person, wherever it stands. Only sentences with
        one of the topic's own keywords are read: most long messages have none."""
        if self._officer_cues is None:
            entry = self.kb.entries.get(ESCALATE_TOPIC)
            keywords = entry.keywords if entry is not None else []
            self._officer_cues = frozenset(w for k in keywords for w in self._words(k))
        cues = self._officer_cues
        if not cues:
            return None
        for sentence in _SENTENCE_END.split(text):
            if len(sentence) > MAX_QUESTION_CHARS or cues.isdisjoint(self._words(sentence)):
                continue
            verdict = classify(self.matcher.match(sentence), self.limits)
            if verdict.outcome == "answer" and verdict.id == ESCALATE_TOPIC:
                return verdict
        return None

    def asks_only_for_officer(self, text: str) -> bool:
        """Whether a message the matcher read as "let me talk to an officer" says little
        else ("mau bicara dengan petugas"), unlike "... about my ulin shipment to Korea"."""
        if self._officer_words is None:
            entry = self.kb.entries.get(ESCALATE_TOPIC)
            samples = [*entry.questions, *entry.keywords] if entry is not None else []
            self._officer_words = frozenset(w for q in samples for w in self._words(q))
        extra = set(self._words(text[:MAX_QUESTION_CHARS])) - self._officer_words - REQUEST_FILLERS
        return not extra

    def _words(self, text: str) -> tuple[str, ...]:
        return self.matcher.words(self.matcher.normalize(text))

    def question_of(self, query_id: int, user_id: int) -> Asked | None:
        """The user's own logged question `query_id` (None for someone else's: a forged
        button must not hand another exporter's words to an officer)."""
        assert self.db is not None
        with self.db.session() as s:
            row = s.scalars(
                select(QueryLog).where(QueryLog.id == query_id, QueryLog.user_id == user_id)
            ).first()
            if row is None:
                return None
            fields = _asked_fields(row)
        return self._asked(*fields)

    def last_question(self, user_id: int, minutes: int) -> Asked | None:
        """The user's latest real question of the last minutes: its text, the outcome
        and what the exporter was shown (the answer's topic, or each suggestion). None
        when that question already went to a ticket: it is not sent twice."""
        assert self.db is not None
        since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
        with self.db.session() as s:
            row = s.scalars(
                select(QueryLog)
                .where(
                    QueryLog.user_id == user_id,
                    QueryLog.created_at >= since,
                    QueryLog.outcome.in_(ASKED),
                    or_(QueryLog.matched_id.is_(None), QueryLog.matched_id != ESCALATE_TOPIC),
                )
                .order_by(QueryLog.id.desc())
            ).first()
            if row is None:
                return None
            handed = s.scalar(
                select(
                    exists().where(
                        TicketMessage.author_id == user_id,
                        TicketMessage.direction == "in",
                        TicketMessage.text == row.text,
                        TicketMessage.created_at >= row.created_at,
                    )
                )
            )
            if handed:
                return None
            fields = _asked_fields(row)
        return self._asked(*fields)

    def _asked(self, text: str, lang: str, outcome: str, matched: str | None, score: float) -> Asked:
        if outcome == "answer" and matched:
            return text, outcome, [(matched, score)]
        if outcome == "suggest":
            # the suggestions were not stored: the same question gives the same buttons
            reply = self.ask(text, lang, log=False)
            scores = dict(reply.candidates)
            return text, outcome, [(tid, scores.get(tid, 0.0)) for tid, _ in reply.suggestions]
        if outcome not in ASKED:
            # smalltalk (a long one offers 🙋 too): the bot showed no answer to it
            return text, "no_match", []
        return text, outcome, []

    def gaps(self, days: int, limit: int = 50) -> list[tuple[str, int]]:
        """Unanswered and low-confidence questions, grouped by similarity, most frequent first."""
        assert self.db is not None
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        with self.db.session() as s:
            texts = list(
                s.scalars(
                    select(QueryLog.text)
                    .where(QueryLog.created_at >= since, QueryLog.outcome.in_(("no_match", "suggest")))
                    .order_by(QueryLog.id)
                )
            )
        groups: list[tuple[str, str, int]] = []  # (first text, normalised, count)
        for text in texts:
            key = " ".join(self.matcher.normalize(text).tokens) or text.lower()
            for i, (first, norm, count) in enumerate(groups):
                if fuzz.token_set_ratio(key, norm) >= 80:
                    groups[i] = (first, norm, count + 1)
                    break
            else:
                groups.append((text, key, 1))
        groups.sort(key=lambda g: -g[2])
        return [(first, count) for first, _, count in groups[:limit]]

    # -- rendering -----------------------------------------------------------------------

    def has_topic(self, topic_id: str) -> bool:
        return topic_id in self.kb.entries

    def title(self, topic_id: str, lang: str) -> str:
        entry = self.kb.entries.get(topic_id)
        return entry.title[lang] if entry else topic_id

    def topic_text(self, topic_id: str, lang: str) -> str:
        """The answer of one entry with its run-time placeholders filled."""
        key = (topic_id, lang)
        if key not in self._rendered:
            text = self.kb.entries[topic_id].answer[lang]
            if topic_id == OFFICE_TOPIC:
                text = text.format(**self.office_values(lang))
            elif topic_id == "export-statistics":
                text = text.format(**self.export_values(lang))
            self._rendered[key] = text
        return self._rendered[key]

    def topic_confirm(self, topic_id: str) -> bool:
        """Whether the answer holds a fact the office must confirm (note and officer button)."""
        if topic_id == OFFICE_TOPIC:
            # the counter hours are a confirm fact until the office sets its own
            return self.kb.entries[topic_id].confirm or not self.settings.office.hours_set
        return self.kb.entries[topic_id].confirm

    def topic_offers_officer(self, topic_id: str) -> bool:
        """An answer that has to say "ask an officer" gets the button to do it."""
        office = self.settings.office
        return topic_id == OFFICE_TOPIC and not (office.address and office.phone)

    def office_values(self, lang: str) -> dict[str, str]:
        """The office-contact lines from the settings; what is not set is said so plainly."""
        office = self.settings.office
        lines = []
        if office.address:
            lines.append(t("office_address_line", lang, address=escape(office.address)))
        if office.phone:
            lines.append(t("office_phone_line", lang, phone=escape(office.phone)))
        missing = ("address" if not office.address else "") + ("phone" if not office.phone else "")
        if missing:
            lines.append(t(f"office_missing_{missing}", lang))
        hours = (
            t("office_hours_line", lang, hours=self.office_hours(lang))
            if office.hours_set
            else t("office_hours_unset", lang)
        )
        return {"office_name": escape(office.name), "office_contact": "\n".join(lines), "office_hours": hours}

    def office_hours(self, lang: str) -> str:
        """'Senin-Kamis 07:30-16:00, Jumat 07:30-16:30 WIB' from the configured week."""
        hours = self.settings.office.hours
        groups: list[tuple[int, int, str]] = []
        for day in range(7):
            if day not in hours:
                continue
            span = f"{hours[day][0]:%H:%M}-{hours[day][1]:%H:%M}"
            if groups and groups[-1][2] == span and groups[-1][1] == day - 1:
                groups[-1] = (groups[-1][0], day, span)
            else:
                groups.append((day, day, span))
        if not groups:
            return t("office_hours_closed", lang)
        parts = []
        for first, last, span in groups:
            days = t(f"weekday_{first}", lang)
            if last != first:
                days += "-" + t(f"weekday_{last}", lang)
            parts.append(f"{days} {span}")
        return ", ".join(parts) + f" {self.zone_label()}"

    def zone_label(self) -> str:
        key = self.settings.timezone.key
        if key in ("Asia/Jakarta", "Asia/Pontianak"):
            return "WIB"
        return dt.datetime.now(self.settings.timezone).tzname() or key

    def export_values(self, lang: str) -> dict[str, str]:
        """Figures of the export-statistics answer, computed from the data rows.

        The rows give volume and value per exporter and commodity, and only a list of
        destinations: the answer names destinations per commodity and never ranks them.
        """
        entry = self.kb.entries["export-statistics"]
        rows = self.kb.exports
        tonnes = sum((r.volume_tonnes for r in rows), Decimal(0))
        value = sum((r.value_usd for r in rows), Decimal(0))
        published = Decimal(str(entry.data["published"]["value_usd"]))
        per_commodity: dict[str, tuple[Decimal, Decimal, dict[str, None]]] = {}
        for r in rows:
            vt, vv, dest = per_commodity.get(r.commodity, (Decimal(0), Decimal(0), {}))
            per_commodity[r.commodity] = (
                vt + r.volume_tonnes,
                vv + r.value_usd,
                dest | dict.fromkeys(r.destinations),
            )
        ranked = sorted(per_commodity.items(), key=lambda kv: -kv[1][1])
        lines = [
            t(
                "export_commodity_line",
                lang,
                commodity=name,
                tonnes=format_number(vt, lang),
                value=format_number(vv, lang),
                destinations=", ".join(self.country_name(d, lang) for d in dest),
            )
            for name, (vt, vv, dest) in ranked
        ]
        return {
            "year": str(entry.data.get("year", "")),
            "total_tonnes": format_number(tonnes, lang),
            "total_value": format_number(value, lang),
            "published_value": format_number(published, lang),
            "value_gap": format_number(abs(published - value), lang),
            "by_commodity": "\n".join(lines),
            "largest_commodity": ranked[0][0] if ranked else "-",
        }

    def country_name(self, name: str, lang: str) -> str:
        """A stored or tabled destination in `lang`, as it reads in a sentence."""
        country = self._country_by_name.get(name.strip().lower())
        return country.name_in_sentence(lang) if country else name

    def destination_text(self, iso: str, lang: str) -> str:
        """The forms for one destination, not a list of every form."""
        c = self.kb.countries[iso]
        lines = [t("destination_title", lang, country=c.name_in_sentence(lang))]
        if c.preferential:
            lines.append(t("destination_preferential", lang, forms=", ".join(c.preferential)))
        else:
            lines.append(t("destination_no_preferential", lang))
        lines.append(t("destination_non_preferential", lang, form=c.non_preferential))
        if c.note:
            lines.append("• " + c.note[lang])
        if c.eu:
            lines.append(t("destination_eu", lang))
        lines.append(t("destination_rule", lang))
        return "\n".join(lines)

    def unknown_destination_text(self, iso: str | None, lang: str) -> str:
        """What to check for a country outside the table (None: the "other country" button)."""
        place = self.kb.places.get(iso or "")
        if place is not None:
            lines = [t("destination_title", lang, country=place.name[lang]), t("destination_unknown", lang)]
        else:
            lines = [f"<b>{t('other_country', lang)}</b>", t("destination_other_intro", lang)]
        lines.append(t("destination_unknown_check", lang))
        return "\n".join(lines)

    def other_destination_reply(self, lang: str) -> Reply:
        return Reply(
            "answer", FORM_TOPIC, 100.0, lang, self.unknown_destination_text(None, lang), confirm=True
        )

    def destination_reply(self, iso: str, lang: str) -> Reply:
        c = self.kb.countries[iso]
        return Reply(
            "answer",
            FORM_TOPIC,
            100.0,
            lang,
            self.destination_text(iso, lang),
            confirm=c.confirm,
            country=iso,
        )

    def topic_reply(self, topic_id: str, lang: str) -> Reply:
        """A topic chosen from a button: no matching, the entry as it is."""
        if topic_id == FORM_TOPIC:
            return Reply("ask_destination", FORM_TOPIC, 100.0, lang, self.topic_text(FORM_TOPIC, lang))
        return Reply(
            "answer",
            topic_id,
            100.0,
            lang,
            self.topic_text(topic_id, lang),
            confirm=self.topic_confirm(topic_id),
            offer_officer=self.topic_offers_officer(topic_id),
        )

    def categories(self) -> list[str]:
        used = {e.category for e in self.kb.entries.values() if e.id not in SMALLTALK}
        return [c for c in CATEGORIES if c in used]

    def topics_in(self, category: str, lang: str) -> list[tuple[str, str]]:
        return [
            (e.id, e.title[lang])
            for e in self.kb.entries.values()
            if e.category == category and e.id not in SMALLTALK
        ]


def _asked_fields(row: QueryLog) -> tuple[str, str, str, str | None, float]:
    """What AnswerService._asked needs of a logged question, read inside its session."""
    return row.text, row.language, row.outcome, row.matched_id, row.score


def _countries_by_name(kb: Knowledge) -> dict[str, Country]:
    """Every way a destination is recorded -> its country: the aliases (the export table
    writes "USA"), and the country's own names, its ISO code, its names in both
    languages, in a sentence and without "the". Applications imported before the label
    was stored say "the United States"; they read in the reader's language too."""
    table = {alias: c for c in kb.countries.values() for alias in c.aliases}
    for c in kb.countries.values():
        for name in (c.iso, *c.name.values(), *c.in_sentence.values()):
            for form in (name, name.removeprefix("the ")):
                table.setdefault(form.lower(), c)
    return table
