"""`kb check`: everything that must hold before a knowledge base goes live."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.config import Settings
from bot.services.answers import AnswerService
from bot.telegram_html import problems as problems_in_html
from knowledge.loader import LEARNED_PREFIX, MODEL_FILE, Knowledge, KnowledgeError, load_knowledge
from knowledge.matcher import Matcher
from knowledge.opinion import fingerprint
from knowledge.training import curated_samples

MAX_ANSWER_CHARS = 1200
# how an answer says that the office must confirm a fact (shared/domain/ska-facts.md)
_CONFIRM = {"id": "konfirmasi ke petugas", "en": "confirm with the office"}


def confirm_problems(text: str, confirm: bool, lang: str) -> list[str]:
    """A confirm fact says so, and an answer that says so gets the officer button."""
    says = _CONFIRM[lang] in text.lower()
    if confirm and not says:
        return [f"marked confirm but does not say '{_CONFIRM[lang]}'"]
    if says and not confirm:
        return [f"says '{_CONFIRM[lang]}' but is not marked confirm (no officer button)"]
    return []


def spec_topics(kb_dir: Path) -> list[str]:
    spec = yaml.safe_load((kb_dir / "faq-topics.yaml").read_text(encoding="utf-8"))
    return [topic["id"] for topic in spec["topics"]]


def html_problems(text: str) -> list[str]:
    """Telegram rejects a whole message for one bad tag or a stray '&' or '<'."""
    return [problem.hint for problem in problems_in_html(text)]


def cross_matches(kb: Knowledge, matcher: Matcher) -> list[tuple[str, str, str]]:
    """Sample questions that, left out of their own entry, match another entry better:
    (question, own id, winner). Such a sample teaches the matcher the wrong thing."""
    pairs = []
    rows = {
        (eid, src): i
        for i, (eid, src) in enumerate(zip(matcher.sample_entry, matcher.sample_source, strict=True))
    }
    for entry in kb.entries.values():
        for question in entry.questions:
            row = rows.get((entry.id, question))
            if row is None:
                # only small talk ("good morning") is made of words the matcher drops
                talk = matcher.match(question).smalltalk
                if talk != entry.id:
                    pairs.append((question, entry.id, talk or "(nothing: no words it can use)"))
                continue
            match = matcher.match(question, exclude=row)
            winner = match.smalltalk or (match.best.id if match.best else "(nothing)")
            if winner != entry.id:
                pairs.append((question, entry.id, winner))
    return pairs


def _approved(settings: Settings) -> tuple[dict | None, str]:  # type: ignore[type-arg]
    """The admins' approved additions from the configured database, if it can be read."""
    from bot.db import Database
    from bot.services.proposals import learned_from_database

    url = settings.database_url
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).is_file():
        return None, ""  # no database yet, so nothing approved (and none is created)
    db = Database(url)
    try:
        return learned_from_database(db), ""
    except Exception as exc:  # noqa: BLE001 - any failure: check the files alone, say so
        return None, f" (approved entries in the database not checked: {type(exc).__name__})"
    finally:
        db.dispose()


def check_knowledge(settings: Settings, with_database: bool = True) -> tuple[list[str], str]:
    """All problems (empty when valid) and a one-line summary. The entries admins approved
    (in the database) are checked like the curated ones."""
    extra, note = _approved(settings) if with_database else (None, "")
    try:
        kb = load_knowledge(settings.knowledge_dir, extra=extra)
    except KnowledgeError as exc:
        return exc.problems, f"knowledge base not loadable: {len(exc.problems)} problem(s)"
    problems: list[str] = []
    wanted = spec_topics(settings.knowledge_dir)
    for tid in wanted:
        if tid not in kb.entries:
            problems.append(f"topic {tid}: in the spec but no entry")
    for eid in kb.entries:
        if eid not in wanted and not eid.startswith(LEARNED_PREFIX):
            problems.append(f"entry {eid}: not a topic of the spec")
    answers = AnswerService(kb, None, settings)
    for entry in kb.entries.values():
        for lang in ("id", "en"):
            where = f"{entry.source}:{entry.id}.answer.{lang}"
            try:
                text = answers.topic_text(entry.id, lang)
            except (KeyError, ValueError, IndexError) as exc:
                problems.append(f"{where}: placeholder cannot be filled ({exc})")
                continue
            if len(text) > MAX_ANSWER_CHARS:
                problems.append(f"{where}: {len(text)} characters, at most {MAX_ANSWER_CHARS}")
            problems += [f"{where}: {p}" for p in html_problems(text)]
            if not entry.id.startswith(LEARNED_PREFIX):
                # an officer's approved answer is the office's own word, in its own phrasing
                problems += [
                    f"{where}: {p}" for p in confirm_problems(text, answers.topic_confirm(entry.id), lang)
                ]
    for iso, country in kb.countries.items():
        for lang in ("id", "en"):
            text = answers.destination_text(iso, lang)
            problems += [
                f"destinations.yaml:{iso} ({lang}): {p}"
                for p in html_problems(text) + confirm_problems(text, country.confirm, lang)
            ]
    for question, own, winner in cross_matches(kb, answers.matcher):
        problems.append(f"sample question {question!r} of {own} matches {winner} better")
    samples = sum(len(e.questions) for e in kb.entries.values())
    learned = sum(1 for e in kb.entries if e.startswith(LEARNED_PREFIX))
    summary = (
        f"{len(kb.entries)} entries ({learned} approved by admins), {samples} sample "
        f"questions, {len(kb.countries)} destinations, {_opinion_note(kb)}: "
        + ("OK" if not problems else f"{len(problems)} problem(s)")
        + note
    )
    return problems, summary


def _opinion_note(kb: Knowledge) -> str:
    """Whether the second opinion was trained on today's sample questions. Not a problem:
    an older model still answers (the matcher alone decides for topics it does not know),
    but `kb train` (a developer's tool, with scikit-learn) should be run."""
    model = kb.classifier
    if model is None:
        return f"no second opinion ({MODEL_FILE} missing: python -m bot kb train)"
    if model.trained_on != fingerprint(curated_samples(kb)):
        return "second opinion trained on other sample questions (python -m bot kb train)"
    return "second opinion trained on these sample questions"
