"""Find the FAQ entry a phone message asks about.

Everything derived from the knowledge base (normalised samples, vocabulary, weights,
country patterns) is prepared once in Matcher.__init__; a query costs one
normalisation, a token lookup and one rapidfuzz pass over the candidate samples.

Score of an entry = 0.3 fuzzy + 0.4 coverage + 0.3 cosine, where
  * fuzzy: best token_set_ratio between the query and one of the entry's samples,
  * coverage: the share of the query's information (IDF-weighted words) that the
    entry's vocabulary (samples, keywords, and at half weight the words only its
    answer uses) explains, each word counted by how strongly the entry uses it
    relative to the entry using it most (share_floor 0.6 .. 1.0); words the knowledge
    base has never seen count against it (1.0 x the rarest word's weight), which is
    what keeps out-of-scope messages out; a number it has never seen is neutral,
  * cosine: best IDF-weighted cosine between the query and one sample.
Misspelt words (5+ letters, same first letter) are first corrected towards the
knowledge base's words and the slang keys of normalize.yaml. A message with a word of
other business (normalize.yaml: `foreign` without an SKA word, `unrelated` always) is
never answered outright.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import replace
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

from knowledge.loader import Country, Knowledge, Place
from knowledge.phrases import PhraseRules
from knowledge.verdict import Candidate, Match, Normalized

COUNTRY_TOKEN = "negaratujuan"
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_WORD = re.compile(r"[a-z0-9_]+")
# the markup and placeholders of an answer, which are no words of it
_TAGS = re.compile(r"<[^>]+>|\{[a-z_]+\}")
_NUMBERISH = re.compile(r"\d+[a-z]{0,3}")
# "tolonggg", "lamaaa bangettt": a letter typed three times or more is one letter
_STRETCHED = re.compile(r"([a-z])\1{2,}")
# reduplication written "terbit2" or "aktif-aktif" means the word itself
_REDUPLICATED = re.compile(r"\b([a-z]{3,})(?:2|-\1)\b")
# Light affix stripping for words the knowledge base does not know ("diterbitkannya",
# "pengecekan", "uploaded"): a stem is accepted only when it is a known word, so an
# unknown word never turns into an unrelated one. Prefixes carry the initial consonant
# they swallow (meN-/peN- drop k/p/t/s: "mengirim" -> "kirim", "menerbitkan" -> "terbit").
_SUFFIXES = ("nya", "kan", "lah", "kah", "an", "in", "i", "s", "es", "ed", "ing", "ku", "mu", "ke", "e", "ne")
_PREFIXES = (
    ("meng", ("", "k")),
    ("meny", ("s",)),
    ("mem", ("", "p")),
    ("men", ("", "t")),
    ("me", ("",)),
    ("peng", ("", "k")),
    ("peny", ("s",)),
    ("pem", ("", "p")),
    ("pen", ("", "t")),
    ("pe", ("",)),
    ("per", ("",)),
    ("di", ("",)),
    ("ter", ("",)),
    ("ber", ("",)),
    ("ke", ("",)),
    ("nge", ("",)),
    ("ng", ("",)),
    # Banjar ba-/ma- ("badaftar", "maurus")
    ("ba", ("",)),
    ("ma", ("",)),
)


# Words after which a name is a destination: "ke", "tujuan", "to", "buyer dari" (and
# the Banjar "ka", the Javanese "menyang", "neng", "teng")
_CUES = (
    "ke|ka|kirim|tujuan|negara|to|for|into|di|dari|from|buyer|buyers|importir|"
    "importer|pembeli|pasar|market|ekspor|export|exporting|menyang|neng|teng|customer"
)


def _alternation(aliases: dict[str, str], before: str, after: str) -> re.Pattern[str] | None:
    """One regex for every alias, the longest first ("korea selatan" before "korea").

    The aliases are written as a tree of their shared beginnings ("korea(?: selatan)?"):
    Python's re tries the alternatives of a plain list one by one at every position of
    the text, which cost several times more than the rest of finding a country. Two
    aliases that match at the same place begin one with the other, and the tree, too,
    tries the longer first and falls back to the shorter, so every match is the same."""
    if not aliases:
        return None
    tree: dict[str, dict] = {}
    for alias in aliases:
        node = tree
        for ch in alias:
            node = node.setdefault(ch, {})
        node[""] = {}  # an alias ends here
    return re.compile(before + _tree_pattern(tree) + after)


def _tree_pattern(node: dict[str, dict]) -> str:
    branches = [re.escape(ch) + _tree_pattern(child) for ch, child in sorted(node.items()) if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


# groups of countries with a row of their own; a member named beside them is preferred
_REGIONS = frozenset({"ASEAN", "EU"})


def _country_token(m: re.Match[str]) -> str:
    """Replace only the name, not the destination word before it."""
    whole, start, end = m.group(0), m.start(1) - m.start(0), m.end(1) - m.start(0)
    return f"{whole[:start]} {COUNTRY_TOKEN} {whole[end:]}"


# how Indonesian voice keyboards write letters they hear spelled out ("es ka a", "er ve ce")
LETTER_NAMES = {
    "a": "a",
    "be": "b",
    "ce": "c",
    "de": "d",
    "e": "e",
    "ef": "f",
    "ge": "g",
    "ha": "h",
    "i": "i",
    "je": "j",
    "ka": "k",
    "el": "l",
    "em": "m",
    "en": "n",
    "o": "o",
    "pe": "p",
    "ki": "q",
    "er": "r",
    "es": "s",
    "te": "t",
    "u": "u",
    "ve": "v",
    "fe": "v",
    "we": "w",
    "eks": "x",
    "ye": "y",
    "zet": "z",
}
_LETTER_RUN = re.compile(
    r"(?<![a-z0-9])((?:" + "|".join(sorted(LETTER_NAMES, key=len, reverse=True)) + r")"
    r"(?:\s+(?:" + "|".join(sorted(LETTER_NAMES, key=len, reverse=True)) + r"))+)(?![a-z0-9])"
)


_LONGEST_SPELLED = 8


def join_spelled(text: str, known: frozenset[str]) -> str:
    """'er ve ce' -> 'rvc': a run of spelled letters becomes the abbreviation it spells,
    only where that is one the knowledge base uses (`spelled` in normalize.yaml); other
    runs ("ka a", "i e") stay as they are."""

    def join(m: re.Match[str]) -> str:
        names = m.group(1).split()
        out, i = [], 0
        while i < len(names):
            # the longest known abbreviation first, at most _LONGEST_SPELLED letters long
            for j in range(min(len(names), i + _LONGEST_SPELLED), i + 1, -1):
                word = "".join(LETTER_NAMES[n] for n in names[i:j])
                if word in known:
                    out.append(word)
                    i = j
                    break
            else:
                out.append(names[i])
                i += 1
        return " ".join(out)

    return _LETTER_RUN.sub(join, text)


# where a clause ends: sentence marks, line breaks, a comma before the next clause (not
# the point or comma inside a number: "12.500,75")
_CLAUSE_END = re.compile(r"((?<!\d)[.,;:](?!\d)|[?!\n]|\s-\s)")
# words (after the word map) that make a clause a question
QUESTION_WORDS = frozenset(
    (
        "apa",
        "bagaimana",
        "kenapa",
        "kapan",
        "berapa",
        "bisa",
        "boleh",
        "dimana",
        "kemana",
        "siapa",
        "cara",
        "harus",
        "mana",
        "gimana",
        # a request is a question too ("mohon informasi prosedur ...")
        "mohon",
        "tolong",
        "please",
        "kindly",
    )
)


class Normalizer:
    """Lower-case, protect domain phrases, expand slang, find the destination."""

    def __init__(self, kb: Knowledge) -> None:
        spec = kb.normalize
        self.phrases = PhraseRules((spec.get("phrases") or {}).items())
        self.words: dict[str, str] = {str(k): str(v) for k, v in (spec.get("words") or {}).items()}
        self.stopwords = frozenset(spec.get("stopwords") or ()) | frozenset(spec.get("filler") or ())
        self.greetings = frozenset(spec.get("greetings") or ())
        self.thanks = frozenset(spec.get("thanks") or ())
        self.addressees = frozenset(spec.get("addressees") or ())
        self.anchors = frozenset(spec.get("anchors") or ())
        self.foreign = frozenset(spec.get("foreign") or ())
        self.spelled = frozenset(str(w) for w in spec.get("spelled") or ())
        self.unrelated = frozenset(spec.get("unrelated") or ())
        markers = spec.get("language_markers") or {}
        self.markers = {lang: frozenset(markers.get(lang) or ()) for lang in ("id", "en")}
        # every place an exporter may name: the table's countries and the ones it does
        # not cover (kb.places), which are recognised so the answer can say so
        places: tuple[Country | Place, ...] = (*kb.countries.values(), *kb.places.values())
        alias_to_iso = {a: p.iso for p in places for a in p.aliases}
        cued = {a: p.iso for p in places for a in p.aliases_cued}
        self._alias_to_iso = {**alias_to_iso, **cued}
        # longest first so "korea selatan" wins over "korea"
        self._country_re = _alternation(alias_to_iso, r"(?<![a-z0-9])(", r")(?![a-z0-9])")
        # a name that is also a common word counts only after a destination word
        # ("ke inggris", "buyer dari inggris"; not "bahasa inggris")
        self._cued_re = _alternation(cued, rf"(?<![a-z0-9])(?:{_CUES})\s+(?:the\s+)?(", r")(?![a-z0-9])")
        # misspelt one-word names ("flipina", "jepangg") are found by spelling, but only
        # right after a destination word: a common word that looks like a place name
        # ("kucing" and Kuching) is never a destination by itself
        by_initial: dict[str, list[str]] = defaultdict(list)
        for alias in sorted(alias_to_iso, key=len, reverse=True):
            if " " not in alias and len(alias) >= 5 and alias.isalpha():
                by_initial[alias[0]].append(alias)
        self._fuzzy_aliases = {k: tuple(v) for k, v in by_initial.items()}
        self._cue_word_res = (
            re.compile(rf"(?<![a-z0-9])(?:{_CUES})\s+(?:the\s+)?([a-z]{{6,}})(?![a-z0-9])"),
            # or right before the form question ("flipina pake form apa")
            re.compile(r"(?<![a-z0-9])([a-z]{6,})\s+(?:pake|pakai|pk|form|formnya)(?![a-z0-9])"),
        )
        exact = {a: p.iso for p in places for a in p.aliases_exact}
        self._exact_to_iso = exact
        self._exact_re = (
            re.compile(r"(?<![A-Za-z0-9])(" + "|".join(re.escape(a) for a in exact) + r")(?![A-Za-z0-9])")
            if exact
            else None
        )

    def detect_language(self, raw_lower_words: list[str]) -> str | None:
        en = sum(1 for w in raw_lower_words if w in self.markers["en"])
        ind = sum(1 for w in raw_lower_words if w in self.markers["id"])
        if en > ind:
            return "en"
        if ind > en:
            return "id"
        return None

    def __call__(self, text: str) -> Normalized:
        text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
        country = None
        if self._exact_re is not None:
            m = self._exact_re.search(text)
            if m:
                country = self._exact_to_iso[m.group(1)]
                text = text[: m.start()] + f" {COUNTRY_TOKEN} " + text[m.end() :]
        low = _REDUPLICATED.sub(r"\1", _STRETCHED.sub(r"\1", text.lower()))
        if self.spelled:
            low = join_spelled(low, self.spelled)
        lang = self.detect_language(_WORD.findall(low.replace("'", "")))
        for pattern in (self._country_re, self._cued_re):
            if pattern is None:
                continue
            if country is None or country in _REGIONS:
                named = [self._alias_to_iso[m.group(1)] for m in pattern.finditer(low)]
                # a country named beside its region is the more precise answer ("form D
                # untuk negara asean kan, kalau ke vietnam?"); of several countries, the
                # last: a story names the usual market first and asks about the new one
                # ("biasanya kirim ke jepang, bulan depan order perdana ke Auckland")
                country = (
                    next((c for c in reversed(named) if c not in _REGIONS), None)
                    or country
                    or next(iter(named), None)
                )
            low = pattern.sub(_country_token, low)
        if country is None and self._fuzzy_aliases:
            country, low = self._fuzzy_country(low)
        low = self.phrases(f" {low} ")
        words = tuple(self.words.get(w, w) for w in _WORD.findall(low))
        tokens = tuple(w for w in words if w not in self.stopwords)
        return Normalized(tokens=tokens, words=words, country=country, lang=lang)

    def _fuzzy_country(self, low: str) -> tuple[str | None, str]:
        for m in (m for r in self._cue_word_res for m in r.finditer(low)):
            word = m.group(1)
            if word in self.words or word in self.stopwords or word == COUNTRY_TOKEN:
                continue
            hit = process.extractOne(
                word, self._fuzzy_aliases.get(word[0], ()), scorer=fuzz.ratio, score_cutoff=85.0
            )
            if hit:
                low = low[: m.start(1)] + f" {COUNTRY_TOKEN} " + low[m.end(1) :]
                return self._alias_to_iso[hit[0]], low
        return None, low

    def smalltalk(self, norm: Normalized) -> str | None:
        """'greeting' or 'thanks' when the message holds nothing but that."""
        words = [w for w in norm.words if w not in self.stopwords or w in self.greetings or w in self.thanks]
        if not words:
            return None
        # "selamat pagi, Bapak/Ibu petugas": whom a greeting is addressed to is part of it,
        # but an addressee alone ("petugas?") is not small talk
        if any(w in self.greetings or w in self.thanks for w in words):
            words = [w for w in words if w not in self.addressees]
        if all(w in self.thanks or w in self.greetings for w in words):
            if any(w in self.thanks and w not in self.greetings for w in words):
                return "thanks"
            return "greeting"
        return None


class Matcher:
    """Ranks knowledge entries for a query; built once per knowledge base."""

    def __init__(self, kb: Knowledge, normalizer: Normalizer | None = None) -> None:
        self.kb = kb
        self.normalize = normalizer or Normalizer(kb)
        self.opinion = kb.classifier
        self.sample_text: list[str] = []
        self.sample_entry: list[str] = []
        self.sample_tokens: list[frozenset[str]] = []
        self.sample_source: list[str] = []  # the text as written in the knowledge base
        self._build_cache: dict[str, tuple[str, ...]] = {}
        vocab_by_entry: dict[str, set[str]] = defaultdict(set)
        # how many of an entry's samples (and its keyword list) use a word
        uses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for entry in kb.entries.values():
            texts = list(entry.questions) + [entry.title["id"], entry.title["en"]]
            for text in texts:
                norm = self.normalize(text)
                if not norm.tokens:
                    continue
                self.sample_text.append(" ".join(norm.tokens))
                self.sample_source.append(text)
                self.sample_entry.append(entry.id)
                self.sample_tokens.append(frozenset(norm.tokens))
                vocab_by_entry[entry.id].update(norm.tokens)
                for token in set(norm.tokens):
                    uses[token][entry.id] += 1
            keyword_tokens: set[str] = set()
            for keyword in entry.keywords:
                keyword_tokens.update(self._tokens_of(keyword))
            vocab_by_entry[entry.id].update(keyword_tokens)
            for token in keyword_tokens:
                uses[token][entry.id] += 1
        # Words only an answer uses ("lengkap", "header", "timeout"): the people who ask
        # have read the same facts the answers state, so such a word is some evidence
        # for its entry, and above all no longer an unknown word counted against every
        # entry. Words the samples or keywords already use keep the samples' evidence.
        self._answer_only: set[str] = set()
        known = set(uses)
        for entry in kb.entries.values():
            answer_tokens: set[str] = set()
            for lang in ("id", "en"):
                answer_tokens.update(self._tokens_of(_TAGS.sub(" ", entry.answer.get(lang, ""))))
            answer_tokens -= known
            self._answer_only.update(answer_tokens)
            vocab_by_entry[entry.id].update(answer_tokens)
            for token in answer_tokens:
                uses[token][entry.id] += 1
        self.entry_vocab = {k: frozenset(v) for k, v in vocab_by_entry.items()}
        # share of a word's evidence an entry holds, relative to the entry using it most:
        # "verifikasi" in 5 activation samples and 1 processing-time sample points at
        # activation far more than at processing time.
        self._share: dict[str, dict[str, float]] = {}
        for token, counts in uses.items():
            top = max(counts.values())
            self._share[token] = {eid: c / top for eid, c in counts.items()}
        n = max(len(self.entry_vocab), 1)
        df: dict[str, int] = defaultdict(int)
        for vocab in self.entry_vocab.values():
            for token in vocab:
                df[token] += 1
        self.idf = {t: math.log(1 + n / c) for t, c in df.items()}
        # a word never seen in the knowledge base weighs like the rarest known word
        self.unknown_idf = math.log(1 + n)
        # words used by more than half of the entries tell no topic apart
        self.common_idf = math.log(1 + 2)
        self.vocab = tuple(sorted(self.idf))
        # the scoring of a query runs on arrays: entries are numbered in the order of
        # their ids (ties go to the smaller id, as a sort by id would), samples by row
        self._eids = sorted(self.entry_vocab)
        entry_no = {eid: n for n, eid in enumerate(self._eids)}
        self._row_entry = np.array([entry_no[e] for e in self.sample_entry], dtype=np.intp)
        self._row_text = np.array(self.sample_text, dtype=object)
        postings: dict[str, list[int]] = defaultdict(list)
        for i, tokens in enumerate(self.sample_tokens):
            for token in tokens:
                postings[token].append(i)
        self._postings = {t: np.array(rows, dtype=np.intp) for t, rows in postings.items()}
        # The bounds of _fuzzy_rows: per row, the length of its distinct words joined (the
        # string token_set_ratio compares) and how often each character occurs in it. They
        # hold when every word is one token of plain letters to rapidfuzz: a word of the
        # word map could otherwise bring a space or another alphabet.
        self._single_words = all(_WORD.fullmatch(w) for w in self.normalize.words.values())
        self._row_length = np.array(
            [sum(map(len, t)) + len(t) - 1 for t in self.sample_tokens], dtype=np.float64
        )
        alphabet = sorted({ch for t in self.sample_tokens for w in t for ch in w if ch < "\x80"} | {" "})
        # a character no row uses counts in a last column, which every row has 0 of
        self._char_column = np.full(256, len(alphabet), dtype=np.intp)
        self._char_column[[ord(ch) for ch in alphabet]] = np.arange(len(alphabet))
        self._alphabet = len(alphabet) + 1
        per_row = np.zeros((len(self.sample_tokens), self._alphabet), dtype=np.int32)
        for i, tokens in enumerate(self.sample_tokens):
            per_row[i] = self._chars_of(" ".join(tokens))
        self._row_chars = per_row.astype(np.min_scalar_type(per_row.max(initial=0)))
        self.weights = (0.3, 0.4, 0.3)
        self.typo_cutoff = 80.0
        self.fuzzy_scorer = fuzz.token_set_ratio
        self.unknown_factor = 1.0
        self.share_floor = 0.6
        # fuzzy and cosine are computed for the entries with the best coverage only
        self.shortlist = 40
        # a clause read on its own scores a little below the whole message, so a clause
        # wins only where it is clearly more about one topic
        self.clause_min_tokens = 6
        self.clear_score, self.clear_gap = 70.0, 10.0
        self.idf_power = 1.0
        # A named destination is strong evidence of "which form for this country": its
        # token is shared by a few entries, so plain IDF rated it below one form name
        # ("form b" took "ke saudi pakai form b?" to the SKA-types answer). 1.6-2.0 gave
        # the same rankings on the three question sets; 2.5 began answering out-of-scope
        # messages that name a country.
        self.country_weight = 1.8
        # the words of a question about forms; without one, the destination weighs
        # passing_country x its plain weight
        self.form_words = frozenset(
            {
                "form",
                "pakai",
                "preferensi",
                "nonpreferensi",
                "perjanjian",
                "jenis",
                "tujuan",
                "negara",
                "beamasuk",
                "skema",
                "ekspor",
                "kirim",
                "shipment",
            }
            | {a for a in self.normalize.anchors if a.startswith("form")}
        )
        self.passing_country = 0.6
        # a word only answers use weighs half its IDF: 0.3-1.0 gave about the same
        # rankings on the development sets, 1.0 let answer wording ("applies") outweigh
        # the samples
        self.answer_word_weight = 0.5
        self.prepare_weights()
        # typo correction: a misspelt word is mapped to a known word of the knowledge base
        # or to a slang/abbreviation key of normalize.yaml (then to its canonical word).
        # Words only the greeting/thanks entries use are left out: "semalam" is no "salam".
        talk_only = set()
        for eid in ("greeting", "thanks"):
            talk_only |= set(self.entry_vocab.get(eid, ()))
        for eid, vocab in self.entry_vocab.items():
            if eid not in ("greeting", "thanks"):
                talk_only -= vocab
        targets: dict[str, str] = {t: t for t in self.idf if t not in talk_only}
        for src, dst in self.normalize.words.items():
            if dst in targets and src not in targets and len(src) >= 4:
                targets[src] = dst
        self._targets = targets
        by_initial: dict[str, list[str]] = defaultdict(list)
        for word in sorted(targets):
            by_initial[word[0]].append(word)
        self._by_initial = {k: tuple(v) for k, v in by_initial.items()}
        self._correct = lru_cache(maxsize=65536)(self._correct_uncached)
        topic_words = set().union(
            *(v for e, v in self.entry_vocab.items() if e not in ("greeting", "thanks"))
        )
        self._courtesy = (self.normalize.greetings | self.normalize.thanks) - topic_words
        self._build_cache.clear()

    def _tokens_of(self, text: str) -> tuple[str, ...]:
        """Tokens of a keyword or an answer; entries often share them (and the long
        answers cost the most to normalise), so each text is normalised once."""
        tokens = self._build_cache.get(text)
        if tokens is None:
            tokens = self._build_cache[text] = self.normalize(text).tokens
        return tokens

    def prepare_weights(self) -> None:
        """Word weights (IDF ** power) and the samples' vector norms."""
        p = self.idf_power
        self.weight = {t: v**p for t, v in self.idf.items()}
        if COUNTRY_TOKEN in self.weight:
            self.weight[COUNTRY_TOKEN] *= self.country_weight
        for t in self._answer_only:
            self.weight[t] *= self.answer_word_weight
        self.unknown_weight = (self.unknown_idf**p) * self.unknown_factor
        self.sample_norm = [math.sqrt(sum(self.weight[t] ** 2 for t in toks)) for toks in self.sample_tokens]
        self._row_norm = np.array(self.sample_norm, dtype=np.float64)
        # per word: the entries using it and how much of a query's weight each covers
        floor = self.share_floor
        entry_no = {eid: n for n, eid in enumerate(self._eids)}
        self._coverage = {
            t: (
                np.array([entry_no[e] for e in shares], dtype=np.intp),
                np.array([floor + (1.0 - floor) * v for v in shares.values()]),
            )
            for t, shares in self._share.items()
        }

    def _correct_uncached(self, token: str) -> str:
        """Map a misspelt word to a known one ('registarsi' -> 'daftar', 'statsu' -> 'status').

        Only words of 5+ letters, only towards words with the same first letter (phone
        typos rarely hit the first letter), and only when the spelling is close."""
        if token in self.idf or len(token) < 4 or token.isdigit():
            return token
        stem = self._strip_affixes(token)
        if stem is not None:
            return stem
        if len(token) < 5:
            return token
        choices = self._by_initial.get(token[0])
        if not choices:
            return token
        # one wrong letter in a 5-letter word ("hujan"/"human") is another word, not a typo
        cutoff = 88.0 if len(token) == 5 else 82.0 if len(token) < 8 else self.typo_cutoff
        hit = process.extractOne(token, choices, scorer=fuzz.ratio, score_cutoff=cutoff)
        if hit is None:
            return token
        # a longer or shorter word is another word, not a typo ("keluarga" is no "keluar")
        short, long_ = sorted((token, hit[0]), key=len)
        if long_.startswith(short) and len(long_) - len(short) >= 2:
            return token
        return self._targets[hit[0]]

    def _strip_affixes(self, token: str) -> str | None:
        """The known stem of an affixed word, or None."""
        targets = self._targets
        stems = [token] + [token[: -len(s)] for s in _SUFFIXES if token.endswith(s)]
        for stem in stems:
            if len(stem) >= 4 and stem != token and stem in targets:
                return targets[stem]
        for stem in stems:
            for prefix, restore in _PREFIXES:
                if not stem.startswith(prefix):
                    continue
                for head in restore:
                    cand = head + stem[len(prefix) :]
                    if len(cand) >= 4 and cand in targets:
                        return targets[cand]
        return None

    def match(self, text: str, limit: int = 5, exclude: int | None = None) -> Match:
        """Rank entries for `text`; `exclude` leaves one sample row out (kb check uses it
        to ask whether a sample question would still find its own entry without itself).

        A long message is also read clause by clause: the story before a question ("buyer
        kami di Osaka minta CO. SKA itu apa?") pulls the whole message towards other
        topics, so each clause that asks is ranked on its own and an entry keeps its
        best score from the whole message or one of those clauses."""
        norm = self.normalize(text)
        match = self._match(text, norm, limit, exclude)
        if self.opinion is None or match.smalltalk is not None or not norm.tokens:
            return match
        return replace(match, opinion=self.opinion(self.words(norm), text))

    def words(self, norm: Normalized) -> tuple[str, ...]:
        """A normalised message's words as the matcher reads them (typos corrected)."""
        return tuple(self._correct(t) for t in norm.tokens)

    def _match(self, text: str, norm: Normalized, limit: int, exclude: int | None) -> Match:
        if len(norm.tokens) < self.clause_min_tokens:
            return self._match_one(norm, limit, exclude)
        asked, asking = None, None
        if COUNTRY_TOKEN in norm.tokens:
            # the destination is what is asked about only if an asking clause names it or
            # asks about forms: "Buyer di Osaka minta dokumen. SKA itu apa?" does not
            asking = self._asking_clauses(text)
            if asking:
                asked = any(
                    COUNTRY_TOKEN in c.tokens or not self.form_words.isdisjoint(c.tokens) for c in asking
                )
        whole = self._match_one(norm, limit, exclude, asked)
        if whole.smalltalk is not None or not whole.telling or self._clear(whole):
            return whole  # a clear leader needs no second reading
        if asking is None:
            asking = self._asking_clauses(text)
        if not asking:
            return whole
        clauses = tuple(self._match_one(c, limit, exclude) for c in asking)
        return replace(whole, clauses=clauses)

    def _clear(self, match: Match) -> bool:
        best = match.best
        return best is not None and best.score >= self.clear_score and match.gap >= self.clear_gap

    def _asking_clauses(self, text: str) -> list[Normalized]:
        """The clauses of a long message that ask something (at most the last four)."""
        parts = _CLAUSE_END.split(text)
        if len(parts) < 3:
            return []
        clauses = []
        for i in range(0, len(parts) - 1, 2):
            clause, end = parts[i].strip(), parts[i + 1]
            if not clause:
                continue
            # the word map alone tells whether it asks; only asking clauses are normalised
            words = {self.normalize.words.get(w, w) for w in _WORD.findall(clause.lower())}
            if ("?" in end or not words.isdisjoint(QUESTION_WORDS)) and len(words) >= 2:
                clauses.append(clause)
        return [self.normalize(c) for c in clauses[-4:]]

    def _match_one(
        self, norm: Normalized, limit: int, exclude: int | None, country_asked: bool | None = None
    ) -> Match:
        talk = self.normalize.smalltalk(norm)
        tokens = tuple(dict.fromkeys(self._correct(t) for t in norm.tokens))
        # a number the knowledge base does not use ("10 hari", "2x", "25rb", "8 bulan")
        # says nothing about the topic: neutral, not evidence against it
        tokens = tuple(t for t in tokens if t in self.idf or not _NUMBERISH.fullmatch(t))
        # a question that opens or closes politely ("selamat pagi ... terima kasih") is
        # about its question, not about thanking: the courtesy words leave the query
        content = tuple(t for t in tokens if t not in self._courtesy)
        if len(content) >= 2:
            tokens = content
        if talk is not None or not tokens:
            return Match(candidates=(), normalized=norm, smalltalk=talk)
        query = " ".join(tokens)
        weights = {t: self.weight.get(t, self.unknown_weight) for t in tokens}
        if COUNTRY_TOKEN in weights and (
            country_asked is False or (country_asked is None and self.form_words.isdisjoint(tokens))
        ):
            # a destination named in passing ("buyer kami di Osaka minta CO, SKA itu apa?")
            # is context, not the question "which form for this country"
            weights[COUNTRY_TOKEN] = self.idf.get(COUNTRY_TOKEN, 1.0) * self.passing_country
        total = sum(weights.values())
        # coverage first (cheap, per word): it also picks the entries worth a closer look
        n_entries = len(self._eids)
        covered = np.zeros(n_entries)
        for t, w in weights.items():
            hit = self._coverage.get(t)
            if hit is not None:
                covered[hit[0]] += w * hit[1]
        used = np.flatnonzero(covered)
        if not used.size:
            return Match(candidates=(), normalized=norm)
        # a stable sort keeps equal coverage in id order
        shortlist = used[np.argsort(-covered[used], kind="stable")[: self.shortlist]]
        in_shortlist = np.zeros(n_entries, dtype=bool)
        in_shortlist[shortlist] = True
        # the samples sharing a word with the query, from the postings, and the weight
        # they share with it (the cosine's numerator), and the length of the words they
        # share plus one (the fuzzy part's bounds, see _fuzzy_rows)
        shared = np.zeros(len(self.sample_text))
        common = np.zeros(len(self.sample_text))
        for t in tokens:
            posting = self._postings.get(t)
            if posting is not None:
                shared[posting] += weights[t] * weights[t]
                common[posting] += len(t) + 1
        rows = np.flatnonzero(shared)
        rows = rows[in_shortlist[self._row_entry[rows]]]
        if exclude is not None:
            rows = rows[rows != exclude]
        if not rows.size:
            return Match(candidates=(), normalized=norm)
        row_entry = self._row_entry[rows]
        qnorm = math.sqrt(sum(w * w for w in weights.values()))
        cosine = np.full(n_entries, -1.0)
        np.maximum.at(cosine, row_entry, shared[rows] / (qnorm * self._row_norm[rows]))
        wf, wc, wv = self.weights
        coverage = covered / total
        # the score without its fuzzy part, in the order of operations of the formula
        # (wf * fuzzy + wc * 100 * coverage + wv * 100 * cosine), so every score is the
        # same to the last bit as computed one entry at a time
        cover_part, cosine_part = wc * 100.0 * coverage, wv * 100.0 * cosine
        fuzzy = np.full(n_entries, -1.0)
        if self.fuzzy_scorer is fuzz.token_set_ratio and self._single_words and wf >= 0.0:
            todo = self._fuzzy_rows(
                rows,
                row_entry,
                common[rows],
                len(query),
                self._chars_of(query),
                fuzzy,
                limit,
                cover_part + cosine_part,
            )
        else:
            todo = np.ones(rows.size, dtype=bool)
        if todo.any():
            np.maximum.at(
                fuzzy,
                row_entry[todo],
                process.cdist(
                    [query], self._row_text[rows[todo]], scorer=self.fuzzy_scorer, dtype=np.float64, workers=1
                )[0],
            )
        ranked = np.flatnonzero(fuzzy >= 0.0)
        score = wf * fuzzy[ranked] + cover_part[ranked] + cosine_part[ranked]
        if 0 < limit < ranked.size:
            # only the first `limit` are kept: round and sort those that can be among them
            # (a score more than 0.02 below the limit-th one cannot round up to it)
            near = score >= np.partition(score, ranked.size - limit)[ranked.size - limit] - 0.02
            ranked, score = ranked[near], score[near]
        scored = [
            Candidate(self._eids[n], round(s, 2))
            for n, s in zip(ranked.tolist(), score.tolist(), strict=True)
        ]
        scored.sort(key=lambda c: (-c.score, c.id))
        anchors = self.normalize.anchors
        # a known word that tells topics apart: not the destination, not a word most
        # entries use ("apa", "tidak"); "cuaca di korea" and "what is the capital of
        # Australia" have none, and a place name alone is no question about forms
        telling = sum(
            1
            for t in tokens
            if t in anchors or (t in self.idf and t != COUNTRY_TOKEN and self.idf[t] > self.common_idf)
        )
        anchored = not anchors.isdisjoint(tokens)
        if not self.normalize.unrelated.isdisjoint(norm.words) or (
            not anchored and not self.normalize.foreign.isdisjoint(norm.words)
        ):
            telling = 0  # about another service's thing (normalize.yaml, foreign)
        return Match(candidates=tuple(scored[:limit]), normalized=norm, anchored=anchored, telling=telling)

    def _chars_of(self, text: str) -> np.ndarray:
        """How often each character occurs in a text of plain letters (see __init__)."""
        return np.bincount(
            self._char_column[np.frombuffer(text.encode(), dtype=np.uint8)], minlength=self._alphabet
        )

    def _fuzzy_rows(
        self,
        rows: np.ndarray,
        row_entry: np.ndarray,
        common: np.ndarray,
        query_length: int,
        query_chars: np.ndarray,
        fuzzy: np.ndarray,
        limit: int,
        rest: np.ndarray,
    ) -> np.ndarray:
        """The rows whose token_set_ratio must be computed; `fuzzy` gets 100 for the
        entries whose fuzzy part is 100 without it.

        token_set_ratio compares the words two texts share (S) and the rest of each (A,
        B), joined: 100 when A or B is empty, else the best of three ratios. Two of them
        follow from the lengths alone; the better one is the row's lower bound. With
        c = len(S) + 1 (`common`) and m = min(len(A), len(B)) = min(query, row) - c, it is
        100 (2c - 2) / (2c - 1 + m), exactly 100 when A or B is empty (m = -1). The third,
        100 - 100 indel(A, B) / (len(query) + len(row)), is at most 200 M / (len(query) +
        len(row)), where M is the number of characters the query and the row have in
        common counted with repeats (their longest common subsequence cannot be longer):
        the upper bound. Rapidfuzz is then asked only about rows that can decide a score
        that is shown: of the entries that can still be among the first `limit` (their
        best possible score reaches the limit-th worst possible one), the rows whose upper
        bound reaches their entry's best lower bound."""
        length = self._row_length[rows]
        shorter = np.minimum(length, query_length)
        twice = common + common - 1.0
        low = 100.0 * (twice - 1.0) / (twice + (shorter - common))
        in_common = np.minimum(self._row_chars[rows], query_chars).sum(axis=1)
        high = np.maximum(low, 200.0 * in_common / (length + query_length))
        n_entries = len(self._eids)
        lo, hi = np.full(n_entries, -1.0), np.full(n_entries, -1.0)
        np.maximum.at(lo, row_entry, low)
        np.maximum.at(hi, row_entry, high)
        wanted = lo >= 0.0
        present = np.flatnonzero(wanted)
        if 0 < limit < present.size:
            wf = self.weights[0]
            kth = np.partition(wf * lo[present] + rest[present], present.size - limit)[present.size - limit]
            # the margin covers the rounding to two decimals and the bounds' float error
            wanted &= wf * hi + rest >= kth - 0.05
        whole = lo == 100.0
        fuzzy[wanted & whole] = 100.0
        # a row below its entry's lower bound cannot be its entry's best
        needed = np.where(wanted & ~whole, lo - 1e-9, np.inf)
        return high >= needed[row_entry]
