"""A proposal's draft: the ticket's question and the officer's answer made fit for an FAQ.

A ticket is one conversation: "Selamat pagi pak, PT Korindo mau tanya ..." and "Baik Bu
Sari, ...". An FAQ entry answers everyone, so greetings, "pak/bu" with the name after
them, and the names of companies and people are taken out; so are the details that
identify a company or a person (NIB and NPWP numbers, phone numbers, e-mail addresses,
application refs), each replaced by a neutral word in brackets. Each removal is listed
(flagged) for the admin, who reviews the draft before anything is approved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

GREETING = "greeting"
HONORIFIC = "honorific"
COMPANY = "company"
PERSON = "person"
TAX_ID = "tax_id"
PHONE = "phone"
EMAIL = "email"
REF = "ref"

_OPENINGS = re.compile(
    r"^\s*(?:(?:selamat\s+(?:pagi|siang|sore|malam)|assalamu['’]?\s*alaikum(?:\s+wr\.?\s*wb\.?)?"
    r"|salam(?:\s+sejahtera)?|halo+|hallo+|hai+|hi+|hello|hey|permisi|punten|dear|"
    r"good\s+(?:morning|afternoon|evening)|mohon\s+maaf|maaf|min|kak|gan)\b[\s,.!:;-]*)+",
    re.IGNORECASE,
)
_CLOSINGS = re.compile(
    r"[\s,.!;-]*\b(?:(?:terima\s*kasih|makasih|trims|thanks?(?:\s+you)?|thx|tq|ty|"
    r"mohon\s+(?:bantuan|info|pencerahan)(?:nya)?|salam|regards|wassalam\w*)"
    r"(?:\s+(?:banyak|ya|yah|pak|bu|kak|min|gan|sebelumnya|before))*[\s,.!;-]*)+$",
    re.IGNORECASE,
)
# "pak", "bu", "bapak", "ibu", ... and a capitalised name right after it
_HONORIFIC = re.compile(
    r"\b(?:pak|bu|bpk|bapak|ibu|mas|mbak|mba|kak|sdr|sdri|saudara|saudari|mr|mrs|ms|sir|"
    r"madam)\b\.?(?:\s+[A-Z][a-z]+)?",
    re.IGNORECASE,
)
_COMPANY = re.compile(
    r"\b(?:PT|CV|UD|PD|Koperasi|Kop)\.?\s+(?:[A-Z0-9][\w&'-]*)(?:\s+[A-Z0-9][\w&'-]*)*"
    r"(?:,?\s+Tbk\.?)?"
)
# personal and company details, in the order they are taken out (an address's digits
# or an NPWP's are never read as a phone number), each with its neutral word
_DETAILS = (
    (EMAIL, re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    # NPWP: 15 digits written 01.234.567.8-901.000 (16 since 2024), with or without its label
    (
        TAX_ID,
        re.compile(
            r"(?:\bNPWP\b\s*[:.]?\s*)?\b\d{2}\.\d{3}\.\d{3}\.\d-\d{3}\.\d{3}\b"
            r"|\b(?:NPWP|NIB)\b\s*[:.]?\s*(?:no\.?\s*)?\d[\d.\s-]{8,22}\d",
            re.IGNORECASE,
        ),
        "[NIB/NPWP]",
    ),
    # Indonesian phone numbers: 08.., +62 8.., 62.., or an area code (0536 ...); spaces
    # or dashes between the groups, not dots (HS codes use those)
    (
        PHONE,
        re.compile(r"(?<![\w+(])\(?(?:\+62[\s-]?|62|0)\d{2,4}\)?(?:[\s-]?\d){6,10}(?![\w-])"),
        "[telepon]",
    ),
    # a mobile number in dotted groups of three or four (0812.3456.7890): an HS code's
    # groups after the first have two digits (0901.11.00)
    (
        PHONE,
        re.compile(r"(?<![\w+(.])(?:\+62[.\s-]?|62|0)8\d{1,2}(?:\.\d{3,4}){2,3}(?![\w.-])"),
        "[telepon]",
    ),
    # a NIB without its label: 13 digits
    (TAX_ID, re.compile(r"(?<![\w.-])\d{13}(?![\w.-])"), "[NIB/NPWP]"),
    # e-SKA application refs: SKA-002, DEMO-OPEN-0001, 0012/SKA/KT/2025
    (
        REF,
        # in any case: refs are typed as they come ("ska-002")
        re.compile(r"\b[A-Z]{2,}(?:-[A-Z]+)*-\d{3,}\b|\b\d{2,}/[A-Z]{2,}(?:/[A-Z0-9.-]+)+", re.IGNORECASE),
        "[nomor pengajuan]",
    ),
)
_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_PUNCT = re.compile(r"\s+([,.!?;:])")


@dataclass
class Cleaned:
    text: str
    flags: list[tuple[str, str]] = field(default_factory=list)  # (kind, what was removed)


def _note(flags: list[tuple[str, str]], kind: str, text: str) -> None:
    text = " ".join(text.split()).strip(" ,.!")
    if text and (kind, text) not in flags:
        flags.append((kind, text))


def clean(
    text: str, companies: Iterable[str] = (), people: Iterable[str] = (), replacement: str = "perusahaan"
) -> Cleaned:
    """Remove greetings, honorifics with names, company and people's names, and replace
    NIB/NPWP numbers, phone numbers, e-mail addresses and application refs; list them."""
    flags: list[tuple[str, str]] = []
    out = text.strip()
    m = _OPENINGS.match(out)
    if m and m.end() < len(out):
        _note(flags, GREETING, m.group(0))
        out = out[m.end() :]
    m = _CLOSINGS.search(out)
    if m and m.start() > 0:
        _note(flags, GREETING, m.group(0))
        out = out[: m.start()]
    # known names first: "PT Korindo Aria Bima Sari" before the generic pattern takes a part
    for name in sorted({n.strip() for n in companies if n and n.strip()}, key=len, reverse=True):
        core = re.sub(r"^(?:PT|CV|UD|PD)\.?\s+", "", name, flags=re.IGNORECASE)
        # "Korindo" alone names "PT. Korindo Aria Bima Sari" too; short words are too common
        first = core.split()[0] if core.split() and len(core.split()[0]) >= 6 else ""
        for variant in sorted({name, core, first} - {""}, key=len, reverse=True):
            if len(variant) < 3:
                continue
            pattern = re.compile(rf"(?:\b(?:PT|CV|UD|PD)\.?\s+)?\b{re.escape(variant)}\b", re.IGNORECASE)
            if pattern.search(out):
                _note(flags, COMPANY, pattern.search(out).group(0))  # type: ignore[union-attr]
                out = pattern.sub(replacement, out)
    for m in list(_COMPANY.finditer(out)):
        _note(flags, COMPANY, m.group(0))
    out = _COMPANY.sub(replacement, out)
    for kind, pattern, word in _DETAILS:
        for m in list(pattern.finditer(out)):
            _note(flags, kind, m.group(0))
        out = pattern.sub(word, out)
    for m in list(_HONORIFIC.finditer(out)):
        _note(flags, HONORIFIC, m.group(0))
    out = _HONORIFIC.sub("", out)
    for name in {n.strip() for n in people if n and len(n.strip()) >= 3}:
        pattern = re.compile(rf"\b{re.escape(name)}\b", re.IGNORECASE)
        if pattern.search(out):
            _note(flags, PERSON, name)
            out = pattern.sub("", out)
    out = _SPACE_PUNCT.sub(r"\1", _SPACES.sub(" ", out))
    out = re.sub(r"^[\s,.;:!-]+", "", out).strip()
    return Cleaned(out, flags)


_SPELLING = {
    "ska": "SKA",
    "eska": "e-SKA",
    "e-ska": "e-SKA",
    "ipska": "IPSKA",
    "nib": "NIB",
    "peb": "PEB",
    "hs": "HS",
    "coo": "CoO",
    "npwp": "NPWP",
    "oss": "OSS",
}


def draft_title(
    question: str, words: Mapping[str, str] | None = None, lang: str = "id", limit: int = 80
) -> str:
    """A readable title from a cleaned question: phone abbreviations written out (for an
    Indonesian question), the service's names spelled properly, a capital and a '?'."""
    # the first question of the message (or its first sentence) makes the title
    sentences = re.findall(r"[^.?!]+[.?!]?", question)
    asked = [x for x in sentences if x.strip().endswith("?")]
    question = (asked or sentences or [question])[0]
    tokens = re.findall(r"\w[\w'-]*|[^\w\s]", question)
    out: list[str] = []
    for token in tokens:
        low = token.lower()
        if (
            lang == "id"
            and words
            and low in words
            and len(low) <= 5
            and not words[low].startswith(("ska", "eska"))
        ):
            token = words[low]
        out.append(_SPELLING.get(token.lower(), token))
    text = " ".join(out)
    text = re.sub(r"\s+([,.!?;:)])", r"\1", text).strip(" ,.;:")
    text = text.rstrip("?").strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    if len(text) > limit - 1:
        text = text[: limit - 2].rsplit(" ", 1)[0] + "…"
    return text + "?"
