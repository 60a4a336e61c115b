"""What the check knows: commodities and their HS headings, destinations and their forms."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.loader import Country, KnowledgeError, load_knowledge

OTHER = "other"  # a commodity the check has no headings for


@dataclass(frozen=True)
class Commodity:
    id: str
    name: dict[str, str]
    aliases: tuple[str, ...]
    headings: tuple[str, ...]
    tropical: dict[str, str] | None = None
    note: dict[str, str] | None = None


@dataclass(frozen=True)
class PrecheckKB:
    countries: dict[str, Country]
    commodities: dict[str, Commodity]
    tropical_species: dict[str, str]

    def forms(self) -> tuple[str, ...]:
        """Every form the destinations table names, Form B first."""
        seen: dict[str, None] = {}
        for c in self.countries.values():
            seen.setdefault(c.non_preferential)
        for c in self.countries.values():
            for form in c.preferential:
                seen.setdefault(form)
        return tuple(seen)

    def find_commodity(self, text: str) -> str | None:
        key = text.strip().lower()
        if key in (OTHER, "lainnya", "lain"):
            return OTHER
        for c in self.commodities.values():
            if key == c.id or key in c.aliases or key in (n.lower() for n in c.name.values()):
                return c.id
        return None

    def find_country(self, text: str) -> str | None:
        key = text.strip()
        for c in self.countries.values():
            if (
                key.upper() == c.iso
                or key in c.aliases_exact
                or key.lower() in c.aliases
                or key.lower() in (n.lower() for n in c.name.values())
            ):
                return c.iso
        return None

    def find_form(self, text: str) -> str | None:
        key = " ".join(text.lower().split())
        for form in self.forms():
            short = form.split(" (")[0].lower()
            if key in (form.lower(), short, short.removeprefix("form ")):
                return form
        return None


def load_precheck_kb(directory: Path, countries: dict[str, Country] | None = None) -> PrecheckKB:
    """hs_codes.yaml plus the destinations table (reused when already loaded)."""
    if countries is None:
        countries = load_knowledge(directory).countries
    path = directory / "hs_codes.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError([f"hs_codes.yaml: cannot be read ({type(exc).__name__})"]) from None
    problems: list[str] = []
    commodities: dict[str, Commodity] = {}
    for item in raw.get("commodities") or []:
        cid = item.get("id") if isinstance(item, dict) else None
        headings = tuple(str(h) for h in item.get("headings") or []) if cid else ()
        if not cid or not headings or not all(h.isdigit() for h in headings):
            problems.append(f"hs_codes.yaml: {cid or 'an entry'}: needs an id and digit headings")
            continue
        commodities[cid] = Commodity(
            cid,
            dict(item["name"]),
            tuple(item.get("aliases") or []),
            headings,
            item.get("tropical"),
            item.get("note"),
        )
    if not commodities:
        problems.append("hs_codes.yaml: no commodities")
    if problems:
        raise KnowledgeError(problems)
    return PrecheckKB(countries, commodities, dict(raw.get("tropical_species") or {}))
