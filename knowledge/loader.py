"""Read the knowledge YAML into typed objects, collecting every problem found."""

from __future__ import annotations

import csv
import re
import threading
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from knowledge.opinion import TextClassifier


LANGS = ("id", "en")
CATEGORIES = ("basics", "account", "application", "forms", "after", "help")
MIN_QUESTIONS = 8
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# placeholders each dynamic entry may use; any other brace in an answer is a typo
ALLOWED_PLACEHOLDERS = {
    "office-contact": {"office_name", "office_contact", "office_hours"},
    "export-statistics": {
        "year",
        "total_tonnes",
        "total_value",
        "published_value",
        "value_gap",
        "by_commodity",
        "largest_commodity",
    },
}


class KnowledgeError(Exception):
    """The knowledge base cannot be loaded; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Entry:
    id: str
    category: str
    title: dict[str, str]
    answer: dict[str, str]
    questions: tuple[str, ...]
    keywords: tuple[str, ...]
    confirm: bool
    source: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Country:
    iso: str
    name: dict[str, str]
    aliases: tuple[str, ...]
    aliases_exact: tuple[str, ...]
    preferential: tuple[str, ...]
    non_preferential: str
    eu: bool = False
    asean: bool = False
    note: dict[str, str] | None = None
    confirm: bool = False
    # the name inside a sentence where it differs ("exports to the Netherlands")
    in_sentence: dict[str, str] = field(default_factory=dict)
    # names that are also common words ("inggris" is the English language): a place only
    # right after a destination word ("ke inggris", "buyer dari inggris")
    aliases_cued: tuple[str, ...] = ()

    def name_in_sentence(self, lang: str) -> str:
        return self.in_sentence.get(lang, self.name[lang])


@dataclass(frozen=True)
class Place:
    """A country the office's forms table does not cover: recognised, never given forms."""

    iso: str
    name: dict[str, str]
    aliases: tuple[str, ...]
    aliases_exact: tuple[str, ...] = ()
    aliases_cued: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExportRow:
    exporter: str
    commodity: str
    volume_tonnes: Decimal
    value_usd: Decimal
    destinations: tuple[str, ...]


# the second opinion's model (knowledge/opinion.py), trained by `python -m bot kb train`
MODEL_FILE = "opinion.npz"


class StoredModel:
    """The second opinion's model file, read on first use.

    Reading it imports numpy; `run` does that in the thread that builds the matcher,
    after its first getUpdates, instead of before it (bot/services/pending.py)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._model: TextClassifier | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "model": self._model}  # a lock does not pickle

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path, self._model = state["path"], state["model"]
        self._lock = threading.Lock()

    def load(self) -> TextClassifier:
        with self._lock:
            if self._model is None:
                from knowledge.opinion import TextClassifier  # numpy: see the class

                self._model = TextClassifier.load(self.path)
            return self._model


@dataclass(frozen=True)
class Knowledge:
    entries: dict[str, Entry]
    countries: dict[str, Country]
    ask_buttons: tuple[str, ...]
    normalize: dict[str, Any]
    exports: tuple[ExportRow, ...]
    places: dict[str, Place] = field(default_factory=dict)
    # the second opinion (knowledge/opinion.py): a model, or its file until first used
    opinion: TextClassifier | StoredModel | None = None

    @property
    def classifier(self) -> TextClassifier | None:
        """The second opinion's model (read from its file now if not yet)."""
        return self.opinion.load() if isinstance(self.opinion, StoredModel) else self.opinion


# libyaml's parser where PyYAML was built with it: the knowledge files load in a tenth of
# the time (start-up); the constructor, and so the check below, stays the Python one
if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeLoader):
    """YAML keeps the last of two equal keys without a word; in a word map that silently
    drops a mapping someone added, so here a repeated key is an error."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml(path: Path, problems: list[str]) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506
    except (OSError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        detail = getattr(exc, "problem", None)
        reason = (
            detail
            if isinstance(exc, yaml.constructor.ConstructorError) and detail
            else f"cannot be read as YAML ({type(exc).__name__})"
        )
        problems.append(f"{path.name}{where}: {reason}")
        return None


def _bilingual(value: Any, where: str, problems: list[str]) -> dict[str, str]:
    if not isinstance(value, dict):
        problems.append(f"{where}: must have 'id' and 'en' texts")
        return {}
    out = {}
    for lang in LANGS:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{where}.{lang}: missing or empty")
        else:
            out[lang] = text.strip()
    return out


def _entry(raw: Any, source: str, problems: list[str], min_questions: int = MIN_QUESTIONS) -> Entry | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        problems.append(f"{source}: an entry without an 'id'")
        return None
    eid = raw["id"]
    where = f"{source}:{eid}"
    before = len(problems)
    category = raw.get("category")
    if category not in CATEGORIES:
        problems.append(f"{where}.category: {category!r} is not one of {', '.join(CATEGORIES)}")
    title = _bilingual(raw.get("title"), f"{where}.title", problems)
    answer = _bilingual(raw.get("answer"), f"{where}.answer", problems)
    allowed = ALLOWED_PLACEHOLDERS.get(eid, set())
    for lang, text in answer.items():
        unknown = set(_PLACEHOLDER.findall(text)) - allowed
        if unknown:
            problems.append(f"{where}.answer.{lang}: unknown placeholders {sorted(unknown)}")
    questions = raw.get("questions")
    if not isinstance(questions, list) or not all(isinstance(q, str) and q.strip() for q in questions):
        problems.append(f"{where}.questions: must be a list of texts")
        questions = []
    elif len(questions) < min_questions:
        problems.append(
            f"{where}.questions: {len(questions)} sample questions, at least {min_questions} needed"
        )
    keywords = raw.get("keywords") or []
    if not isinstance(keywords, list):
        problems.append(f"{where}.keywords: must be a list")
        keywords = []
    confirm = raw.get("confirm", False)
    if not isinstance(confirm, bool):
        problems.append(f"{where}.confirm: must be true or false")
    if len(problems) > before:
        return None
    return Entry(
        id=eid,
        category=str(category),
        title=title,
        answer=answer,
        questions=tuple(q.strip() for q in questions),
        keywords=tuple(str(k).strip() for k in keywords if str(k).strip()),
        confirm=bool(confirm),
        source=source,
        data=raw.get("data") or {},
    )


def _countries(raw: Any, problems: list[str]) -> tuple[dict[str, Country], tuple[str, ...]]:
    if not isinstance(raw, dict) or not isinstance(raw.get("countries"), list):
        problems.append("destinations.yaml: needs a 'countries' list")
        return {}, ()
    default_np = (raw.get("defaults") or {}).get("non_preferential", "Form B")
    countries: dict[str, Country] = {}
    for item in raw["countries"]:
        iso = item.get("iso") if isinstance(item, dict) else None
        if not isinstance(iso, str):
            problems.append("destinations.yaml: a country without 'iso'")
            continue
        where = f"destinations.yaml:{iso}"
        name = _bilingual(item.get("name"), f"{where}.name", problems)
        aliases = item.get("aliases") or []
        if not aliases:
            problems.append(f"{where}.aliases: at least one alias needed")
        if iso in countries:
            problems.append(f"{where}: duplicate iso code")
        note = item.get("note")
        in_sentence = item.get("in_sentence") or {}
        if not (
            isinstance(in_sentence, dict)
            and set(in_sentence) <= set(LANGS)
            and all(isinstance(v, str) and v.strip() for v in in_sentence.values())
        ):
            problems.append(f"{where}.in_sentence: must map id/en to a name")
            in_sentence = {}
        countries[iso] = Country(
            iso=iso,
            name=name,
            aliases=tuple(str(a).lower() for a in aliases),
            aliases_exact=tuple(str(a) for a in item.get("aliases_exact") or []),
            preferential=tuple(item.get("preferential") or []),
            non_preferential=item.get("non_preferential", default_np),
            eu=bool(item.get("eu")),
            asean=bool(item.get("asean")),
            note=_bilingual(note, f"{where}.note", problems) if note else None,
            confirm=bool(item.get("confirm")),
            in_sentence={k: v.strip() for k, v in in_sentence.items()},
            aliases_cued=tuple(str(a).lower() for a in item.get("aliases_cued") or []),
        )
    seen: dict[str, str] = {}
    for c in countries.values():
        for alias in (*c.aliases, *c.aliases_cued):
            if alias in seen and seen[alias] != c.iso:
                problems.append(f"destinations.yaml: alias {alias!r} used by {seen[alias]} and {c.iso}")
            seen[alias] = c.iso
    buttons = tuple(raw.get("ask_buttons") or [])
    for iso in buttons:
        if iso not in countries:
            problems.append(f"destinations.yaml.ask_buttons: unknown country {iso}")
    return countries, buttons


def _places(raw: Any, countries: dict[str, Country], problems: list[str]) -> dict[str, Place]:
    """`not_in_table`: countries exporters name that the forms table does not cover."""
    places: dict[str, Place] = {}
    items = raw.get("not_in_table") if isinstance(raw, dict) else None
    seen = {a: c.iso for c in countries.values() for a in (*c.aliases, *c.aliases_cued)}
    for item in items or []:
        iso = item.get("iso") if isinstance(item, dict) else None
        if not isinstance(iso, str) or iso in countries or iso in places:
            problems.append(
                f"destinations.yaml.not_in_table: {iso!r} is missing, repeated or also in the table"
            )
            continue
        where = f"destinations.yaml.not_in_table:{iso}"
        place = Place(
            iso=iso,
            name=_bilingual(item.get("name"), f"{where}.name", problems),
            aliases=tuple(str(a).lower() for a in item.get("aliases") or []),
            aliases_exact=tuple(str(a) for a in item.get("aliases_exact") or []),
            aliases_cued=tuple(str(a).lower() for a in item.get("aliases_cued") or []),
        )
        if not place.aliases and not place.aliases_cued:
            problems.append(f"{where}.aliases: at least one alias needed")
        for alias in (*place.aliases, *place.aliases_cued):
            if alias in seen and seen[alias] != iso:
                problems.append(f"destinations.yaml: alias {alias!r} used by {seen[alias]} and {iso}")
            seen[alias] = iso
        places[iso] = place
    return places


def _decimal(text: str, where: str, problems: list[str]) -> Decimal:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        problems.append(f"{where}: {text!r} is not a number")
        return Decimal(0)


def read_exports(path: Path, problems: list[str]) -> tuple[ExportRow, ...]:
    """The office's export realisation table (one row per exporter and commodity)."""
    rows = []
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            for n, rec in enumerate(csv.DictReader(fh), start=2):
                where = f"{path.name} line {n}"
                rows.append(
                    ExportRow(
                        exporter=rec["exporter"].strip(),
                        commodity=rec["commodity"].strip(),
                        volume_tonnes=_decimal(rec["volume_tonnes"], where, problems),
                        value_usd=_decimal(rec["value_usd"], where, problems),
                        destinations=tuple(d.strip() for d in rec["destinations"].split(";") if d.strip()),
                    )
                )
    except (OSError, KeyError) as exc:
        problems.append(f"{path.name}: cannot be read ({exc})")
    return tuple(rows)


LEARNED_FILE = "learned.yaml"
LEARNED_PREFIX = "learned-"


def _learned(path: Path, entries: dict[str, Entry], problems: list[str]) -> None:
    """Officers' answers approved by an admin: extra samples and small new entries."""
    raw = _yaml(path, problems) if path.is_file() else None
    if raw is not None:
        _learned_data(raw, path.name, entries, problems)


def _learned_data(raw: Any, name: str, entries: dict[str, Entry], problems: list[str]) -> None:
    """The same shape from a file or from the database (`learned_faq`, see bot.services)."""
    if not isinstance(raw, dict):
        problems.append(f"{name}: must be a mapping with 'samples' and 'entries'")
        return
    for item in raw.get("entries") or []:
        entry = _entry(item, name, problems, min_questions=1)
        if entry is None:
            continue
        if not entry.id.startswith(LEARNED_PREFIX) or entry.id in entries:
            problems.append(f"{name}:{entry.id}: learned ids start with '{LEARNED_PREFIX}' and are unique")
            continue
        entries[entry.id] = entry
    for item in raw.get("samples") or []:
        target = item.get("id") if isinstance(item, dict) else None
        question = item.get("question") if isinstance(item, dict) else None
        if target not in entries or not isinstance(question, str) or not question.strip():
            problems.append(f"{name}: sample {item!r} needs a known 'id' and a 'question'")
            continue
        old = entries[target]
        entries[target] = replace(old, questions=(*old.questions, question.strip()))


def load_knowledge(
    directory: Path, learned: Path | None = None, extra: dict[str, Any] | None = None
) -> Knowledge:
    """Load every file; raise KnowledgeError listing all problems if any.

    `extra`: approved additions from the database, {"entries": [...], "samples": [...]}
    in the shape of learned.yaml, validated like the curated entries."""
    problems: list[str] = []
    entries: dict[str, Entry] = {}
    faq_files = sorted((directory / "faq").glob("*.yaml"))
    if not faq_files:
        problems.append(f"{directory / 'faq'}: no *.yaml entry files")
    for path in faq_files:
        raw = _yaml(path, problems)
        if raw is None:
            continue
        if not isinstance(raw, dict) or not isinstance(raw.get("entries"), list):
            problems.append(f"{path.name}: needs a top-level 'entries' list")
            continue
        for item in raw["entries"]:
            entry = _entry(item, path.name, problems)
            if entry is None:
                continue
            if entry.id in entries:
                problems.append(f"{path.name}:{entry.id}: duplicate id (also in {entries[entry.id].source})")
                continue
            entries[entry.id] = entry
    _learned(learned or directory / LEARNED_FILE, entries, problems)
    if extra is not None:
        _learned_data(extra, "database", entries, problems)
    destinations = _yaml(directory / "destinations.yaml", problems)
    countries, buttons = _countries(destinations, problems)
    places = _places(destinations, countries, problems)
    normalize = _yaml(directory / "normalize.yaml", problems) or {}
    if not isinstance(normalize, dict):
        problems.append("normalize.yaml: must be a mapping")
        normalize = {}
    exports: tuple[ExportRow, ...] = ()
    stats = entries.get("export-statistics")
    if stats is not None:
        csv_name = stats.data.get("csv")
        if not csv_name:
            problems.append("export-statistics.data.csv: the data file is not named")
        else:
            exports = read_exports(directory / csv_name, problems)
    if problems:
        raise KnowledgeError(problems)
    model = directory / MODEL_FILE
    return Knowledge(
        entries=entries,
        countries=countries,
        ask_buttons=buttons,
        normalize=normalize,
        exports=exports,
        places=places,
        opinion=StoredModel(model) if model.exists() else None,
    )
