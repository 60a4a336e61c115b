"""Country names in the reader's language: the knowledge base first, then Babel (CLDR).

Applications and the export table record destinations in English ("Japan", "Republic of
Korea", "Netherlands", "United States"); an Indonesian reader must not see them in English.
The knowledge base names the countries the office talks about; CLDR names every other one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from babel import Locale

KnownName = Callable[[str, str], str]  # (stored name, lang) -> name, or the name itself


def stored_name(english: str) -> str:
    """What an application records for a country: its English name as a label, without
    the article a sentence needs ("the United States" -> "United States"; see
    `in_sentence` in knowledge/destinations.yaml). Readers get their own language from
    CountryNames."""
    return english.removeprefix("the ")


@lru_cache(maxsize=1)
def _iso_by_english() -> dict[str, str]:
    english = Locale("en").territories
    # only two-letter codes: CLDR also lists regions ("001", "150")
    table = {name.casefold(): code for code, name in english.items() if code.isalpha()}
    # the spellings of the office's own table that CLDR writes otherwise
    table.update({"usa": "US", "republic of korea": "KR", "korea": "KR", "uae": "AE"})
    return table


@lru_cache(maxsize=512)
def cldr_name(name: str, lang: str) -> str:
    """'Netherlands' -> 'Belanda' (id); unknown names are returned as they are."""
    code = _iso_by_english().get(name.strip().casefold())
    if code is None and len(name.strip()) == 2 and name.strip().isalpha():
        code = name.strip().upper()
    if code is None:
        return name
    return Locale(lang).territories.get(code, name)


class CountryNames:
    """name(stored, lang): the knowledge base's name, else CLDR's, else as stored."""

    def __init__(self, known: KnownName | None = None) -> None:
        self.known = known

    def __call__(self, name: str, lang: str) -> str:
        if not name:
            return name
        if self.known is not None:
            found = self.known(name, lang)
            if found != name:
                return found
        return cldr_name(name, lang)
