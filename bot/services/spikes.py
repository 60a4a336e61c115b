"""Spikes: many exporters asking about the same trouble at once (an e-SKA outage, a login
failure). One pass a minute reads the recent questions once; when enough different
exporters asked about the same FAQ topic, or typed unanswered questions alike, the
officers' group gets one alert with the count, samples and a draft broadcast. While the
questions keep coming it is the same spike and nothing is repeated.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz
from sqlalchemy import select

from bot.config import SpikeSettings
from bot.db import Database
from bot.i18n import t
from bot.models import QueryLog, SpikeAlert, utcnow
from bot.services.outbox import Keyboard, enqueue
from bot.text import escape as esc

SAMPLES = 3
OUTAGE_WORDS = frozenset(
    {
        "eska",
        "gangguan",
        "error",
        "down",
        "login",
        "masuk",
        "server",
        "sistem",
        "offline",
        "lambat",
        "maintenance",
        "outage",
    }
)
ALERT_LANG = "id"  # the officers' group reads Indonesian
# the alert's [draft broadcast] button, rendered by the Telegram layer
DRAFT_KEYBOARD = "spike_draft"
Tokens = Callable[[str], tuple[str, ...]]


@dataclass
class Cluster:
    topic_id: str | None
    tokens: tuple[str, ...]
    people: set[int] = field(default_factory=set)
    samples: list[str] = field(default_factory=list)

    def add(self, user_id: int, text: str) -> None:
        if user_id not in self.people and len(self.samples) < SAMPLES:
            self.samples.append(text)
        self.people.add(user_id)


def _alike(a: Iterable[str], b: Iterable[str], similarity: float) -> bool:
    return fuzz.token_set_ratio(" ".join(a), " ".join(b)) >= similarity


def cluster(
    rows: Iterable[tuple[int, str, str | None, str]], tokens: Tokens, similarity: float
) -> list[Cluster]:
    """(user, text, answered topic, outcome) -> groups of the same question. Answered
    questions group by their topic; the others by how alike their words are."""
    groups: list[Cluster] = []
    for user_id, text, topic, outcome in rows:
        words = tokens(text)
        if outcome == "answer" and topic:
            found = next((g for g in groups if g.topic_id == topic), None)
        else:
            found = next((g for g in groups if words and _alike(words, g.tokens, similarity)), None)
        if found is None:
            found = Cluster(topic if outcome == "answer" else None, words)
            groups.append(found)
        found.add(user_id, text)
    return groups


@dataclass(frozen=True)
class Alert:
    id: int
    people: int
    samples: tuple[str, ...]
    topic_id: str | None


class SpikeService:
    def __init__(
        self,
        db: Database,
        settings: SpikeSettings,
        staff: frozenset[int],
        officer_chats: list[int],
        tokens: Tokens,
        title: Callable[[str, str], str],
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.db = db
        self.settings = settings
        self.staff = staff
        # the officers' group, or each officer in private when there is none
        self.officer_chats = officer_chats
        self.tokens = tokens
        self.title = title
        self.clock = clock

    def check(self) -> list[Alert]:
        """One pass: new spikes are recorded and their alert queued for the group."""
        now = self.clock()
        since = now - dt.timedelta(minutes=self.settings.window_minutes)
        quiet = now - dt.timedelta(minutes=self.settings.quiet_minutes)
        new: list[Alert] = []
        with self.db.session() as s:
            rows = [
                (u, text, topic, outcome)
                for u, text, topic, outcome in s.execute(
                    select(QueryLog.user_id, QueryLog.text, QueryLog.matched_id, QueryLog.outcome)
                    .where(QueryLog.created_at >= since, QueryLog.outcome != "smalltalk")
                    .order_by(QueryLog.id)
                )
                if u is not None and u not in self.staff
            ]
            groups = [
                g
                for g in cluster(rows, self.tokens, self.settings.similarity)
                if len(g.people) >= self.settings.people
            ]
            if not groups:
                return []
            active = list(
                s.scalars(select(SpikeAlert).where(SpikeAlert.last_seen_at >= quiet).with_for_update())
            )
            for g in groups:
                same = next((a for a in active if self._same(a, g)), None)
                if same is not None:
                    # the same spike goes on: remembered, not alerted again
                    same.last_seen_at = now
                    same.people = max(same.people, len(g.people))
                    continue
                alert = SpikeAlert(
                    topic_id=g.topic_id,
                    tokens=" ".join(g.tokens),
                    people=len(g.people),
                    samples=json.dumps(g.samples, ensure_ascii=False),
                    created_at=now,
                    last_seen_at=now,
                )
                s.add(alert)
                s.flush()
                active.append(alert)
                view = Alert(alert.id, alert.people, tuple(g.samples), g.topic_id)
                for chat_id in self.officer_chats:
                    # queued like the other notices to the officers (reminder alerts)
                    enqueue(
                        s,
                        chat_id,
                        self.render(view),
                        kind="spike_alert",
                        markup=self.keyboard(view),
                        dedupe_key=f"spike:{alert.id}:{chat_id}",
                    )
                new.append(view)
        return new

    def _same(self, alert: SpikeAlert, group: Cluster) -> bool:
        if alert.topic_id or group.topic_id:
            return alert.topic_id == group.topic_id
        return _alike(alert.tokens.split(), group.tokens, self.settings.similarity)

    def get(self, alert_id: int) -> Alert | None:
        with self.db.session() as s:
            row = s.get(SpikeAlert, alert_id)
            if row is None:
                return None
            return Alert(row.id, row.people, tuple(json.loads(row.samples or "[]")), row.topic_id)

    # -- text ----------------------------------------------------------------------------

    def about(self, alert: Alert, lang: str) -> str:
        if alert.topic_id:
            try:
                return self.title(alert.topic_id, lang)
            except KeyError:
                pass
        return alert.samples[0][:80] if alert.samples else "?"

    def render(self, alert: Alert) -> str:
        lang = ALERT_LANG
        samples = "\n".join(f"• <i>{esc(q[:200])}</i>" for q in alert.samples)
        return t(
            "spike_alert",
            lang,
            people=alert.people,
            minutes=f"{self.settings.window_minutes:g}",
            about=esc(self.about(alert, lang)),
            samples=samples,
            draft=esc(self.draft(alert)),
        )

    def draft(self, alert: Alert) -> str:
        """The broadcast an officer edits and sends, in both languages."""
        words: set[str] = set()
        for question in alert.samples:
            words |= set(self.tokens(question))
        outage = bool(words & OUTAGE_WORDS) or alert.topic_id in ("system-outage", "login-problems")
        key = "spike_draft_outage" if outage else "spike_draft_topic"
        return "\n\n".join(t(key, lang, about=self.about(alert, lang)) for lang in ("id", "en"))

    @staticmethod
    def keyboard(alert: Alert) -> Keyboard:
        return Keyboard(DRAFT_KEYBOARD, {"alert": alert.id, "lang": ALERT_LANG})
