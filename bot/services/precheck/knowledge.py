"""What the check knows: commodities and their HS headings, destinations and their forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge.loader import Country, KnowledgeError, Place, load_knowledge

OTHER = "other"  # a commodity the check has no headings for, a country outside the table


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
    # countries the forms table does not cover (Australia, Hong Kong, ...): an exporter
    # shipping there can still finish the check; its form is not checked
    places: dict[str, Place] = field(default_factory=dict)

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

    def find_destination(self, text: str) -> str | None:
        """A table country's ISO code; a known country outside the table (its ISO code
        too); OTHER for "another country"; None for a name the check does not know."""
        iso = self.find_country(text)
        if iso is not None:
            return iso
        key = " ".join(text.lower().split())
        if key in (OTHER, "other country", "lainnya", "lain", "negara lain", "negara lainnya"):
            return OTHER
        for p in self.places.values():
            if (
                key.upper() == p.iso
                or text.strip() in p.aliases_exact
                or key in p.aliases
                or key in p.aliases_cued
                or key in (n.lower() for n in p.name.values())
            ):
                return p.iso
        return None

    def destination_name(self, value: str) -> dict[str, str] | None:
        """The name (per language) of a stored destination, when the check knows it."""
        known = self.countries.get(value) or self.places.get(value)
        return known.name if known is not None else None

    def find_form(self, text: str) -> str | None:
        key = " ".join(text.lower().split())
        for form in self.forms():
            short = form.split(" (")[0].lower()
            if key in (form.lower(), short, short.removeprefix("form ")):
                return form
        return None


def load_precheck_kb(
    directory: Path, countries: dict[str, Country] | None = None, places: dict[str, Place] | None = None
) -> PrecheckKB:
    """hs_codes.yaml plus the destinations table (reused when already loaded)."""
    if countries is None:
        kb = load_knowledge(directory)
        countries, places = kb.countries, kb.places
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
    return PrecheckKB(countries, commodities, dict(raw.get("tropical_species") or {}), places or {})
