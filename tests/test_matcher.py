"""Unit tests of normalisation and matching over the real knowledge base."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.loader import load_knowledge
from knowledge.matcher import Matcher
from knowledge.verdict import Candidate, Match, Normalized, Thresholds, classify
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_knowledge(ROOT / "knowledge"))


def test_domain_phrases_are_protected_from_slang(matcher: Matcher) -> None:
    norm = matcher.normalize("Gmn cara ajukan SKA di e-SKA, perlu B/L dan V-Legal?")
    assert "ska" in norm.tokens and "eska" in norm.tokens
    assert "suka" not in norm.tokens
    assert "billoflading" in norm.tokens and "vlegal" in norm.tokens
    assert "bagaimana" in norm.words


@pytest.mark.parametrize(
    "text, iso",
    [
        ("ekspor ke jepang pakai form apa", "JP"),
        ("which form for South Korea", "KR"),
        ("tujuan Korea Selatan", "KR"),
        ("buyer di Dubai minta form apa", "AE"),
        ("kirim ke Belanda", "NL"),
        ("export to the US", "US"),
        ("ke tiongkok", "CN"),
        ("ke Malaysia", "MY"),
    ],
)
def test_destination_is_recognised(matcher: Matcher, text: str, iso: str) -> None:
    assert matcher.normalize(text).country == iso


def test_ordinary_words_are_not_countries(matcher: Matcher) -> None:
    assert matcher.normalize("can you help us, as soon as possible").country is None


@pytest.mark.parametrize(
    "text",
    [
        "kirim foto kucing dong",  # kucing is no Kuching
        "deskripsi barang harus bahasa inggris?",  # the language, not the UK
        "ska dalam bahasa inggris bisa?",
        "selesai dalam 1 hk kan?",  # hari kerja
    ],
)
def test_common_words_that_look_like_places_are_not_destinations(matcher: Matcher, text: str) -> None:
    assert matcher.normalize(text).country is None


@pytest.mark.parametrize(
    "text, iso",
    [
        ("ska ke inggris", "GB"),  # outside the table, still a place
        ("buyer UK minta CO", "GB"),
        ("buyer hk minta CO, form apa", "HK"),  # lower case only after a destination word
        ("kirim ke tirai bambu form apa", "CN"),
        ("ke negeri kincir angin formnya apa", "NL"),
        ("our furniture company in Manchester", "GB"),
        ("ke australia form apa", "AU"),
        ("turki pake form apa?", "TR"),
        ("ke prancis pakai form apa", "FR"),  # an EU member: itself (the EU facts)
        ("Our client is in Milan, which CO form?", "IT"),
        ("ekspor ke uni eropa form apa", "EU"),
        ("flipina pake form apa", "PH"),  # misspelt right before the form question
        ("ekspor ke filipinna", "PH"),  # misspelt after a destination word
    ],
)
def test_places_are_recognised_from_place_words(matcher: Matcher, text: str, iso: str) -> None:
    assert matcher.normalize(text).country == iso


@pytest.mark.parametrize(
    "text, topic",
    [
        ("sdh submit tp blm ada kabar", "check-status"),
        ("kak ska ku blm terbit2 udh 3 hari", "check-status"),
        ("still waiting for our CO, no news since Monday", "check-status"),
        ("ulun handak maulah ska, kayapa caranya", "apply-steps"),
        ("piye carane ndaftar akun e es ka a", "register-account"),
        ("legal reference for SKA issuing procedure pls", "legal-basis"),
        ("es ka a itu apa ya", "what-is-ska"),
        ("berapa lamaaa ska terbittt", "processing-time"),
        ("tks bu", "thanks"),
        ("matur nuwun mas", "thanks"),
        ("slmt pagi bu", "greeting"),
        ("sugeng enjing", "greeting"),
        (
            "selamat sore, mau nanya pengajuan ska PT kami yg dikirim senin kemarin udah sampe tahap mana ya",
            "check-status",
        ),
    ],
)
def test_regional_voice_and_courtesy_forms(matcher: Matcher, text: str, topic: str) -> None:
    verdict = classify(matcher.match(text), Thresholds())
    assert (verdict.outcome in ("answer", "smalltalk"), verdict.id) == (True, topic)


def test_a_place_name_alone_is_not_answered(matcher: Matcher) -> None:
    for text in ("what is the capital of Australia", "cuaca di korea hari ini"):
        assert classify(matcher.match(text), Thresholds()).outcome != "answer", text


@pytest.mark.parametrize(
    "text",
    [
        "lupa password gmail gmn",  # another service's account
        "jam buka kantor samsat",  # another office
        "data ekspor batubara kalteng 2025",  # another trade
        "cara daftar umroh lewat mana",  # other public services in the words of registering
        "mau perpanjang sim c dimana",
        "shipping line mana yg paling murah ke shanghai",  # the shipping trade
        "please send a freight quote for 3 containers of plywood to Osaka",
        "asuransi kargo untuk kiriman plywood ke jepang berapa",
    ],
)
def test_other_services_borrowing_our_words_are_not_answered(matcher: Matcher, text: str) -> None:
    assert classify(matcher.match(text), Thresholds()).outcome != "answer"


def test_a_foreign_word_does_not_silence_an_ska_question(matcher: Matcher) -> None:
    verdict = classify(matcher.match("ekspor batubara juga perlu ska ga? ska itu apa"), Thresholds())
    assert (verdict.outcome, verdict.id) == ("answer", "what-is-ska")


def test_the_asking_clause_of_a_long_message_decides(matcher: Matcher) -> None:
    text = (
        "Selamat siang Bu. Saya staf baru di bagian ekspor, pabrik kami di Sampit. Buyer di "
        "Osaka minta dokumen dari kami. SKA itu sebenarnya dokumen apa ya?"
    )
    verdict = classify(matcher.match(text), Thresholds())
    assert (verdict.outcome, verdict.id) == ("answer", "what-is-ska")


@pytest.mark.parametrize(
    "text, lang",
    [
        ("How long does issuance take?", "en"),
        ("berapa lama ska terbit", "id"),
        ("gmn cara daftar akun eska", "id"),
        ("what documents do I need", "en"),
        # "status" is as Indonesian as it is English; "cek" and "tiket" are Indonesian
        ("cek status ska", "id"),
        ("status ditolak, alasannya liat dmn", None),
        ("what is the status of my application", "en"),
    ],
)
def test_language_of_the_question(matcher: Matcher, text: str, lang: str | None) -> None:
    assert matcher.normalize(text).lang == lang


@pytest.mark.parametrize(
    "text, topic",
    [
        ("gmn cara daftar akun eska", "register-account"),
        ("dokumen apa aja utk ajukan ska", "application-documents"),
        ("ekspor plywood ke jepang pakai form apa?", "form-by-destination"),
        ("How long does issuance take?", "processing-time"),
        ("lupa pasword eska gmn", "login-problems"),
        ("sdh daftar tp akun blm aktif", "account-activation"),
        ("vlegal wajib gak utk plywood", "timber-legality"),
    ],
)
def test_issue_examples_are_answered(matcher: Matcher, text: str, topic: str) -> None:
    verdict = classify(matcher.match(text), Thresholds())
    assert (verdict.outcome, verdict.id) == ("answer", topic)


def test_typos_are_corrected_to_known_words(matcher: Matcher) -> None:
    verdict = classify(matcher.match("brp lama proses penerbitn ska"), Thresholds())
    assert verdict.id == "processing-time"


def test_greetings_and_thanks_are_small_talk(matcher: Matcher) -> None:
    assert matcher.match("selamat pagi pak").smalltalk == "greeting"
    assert matcher.match("ok makasih banyak min").smalltalk == "thanks"
    # a greeting in front of a real question is still a question
    assert matcher.match("pagi pak, gmn cara daftar akun eska").smalltalk is None
    # whom it is addressed to is part of the greeting, but alone it is no small talk
    assert matcher.match("Selamat pagi, Bapak/Ibu petugas.").smalltalk == "greeting"
    assert matcher.match("petugas?").smalltalk is None
    assert matcher.match("shukran jazeelan").smalltalk == "thanks"
    assert matcher.match("arigatou gozaimasu").smalltalk == "thanks"


@pytest.mark.parametrize(
    "text, iso",
    [
        ("form D untuk negara asean kan, kalau ke vietnam pakai form D juga?", "VN"),
        ("ke belanda atau negara eropa lain sama saja?", "NL"),
        ("ekspor ke asia tenggara form apa", "ASEAN"),
        # the usual market first, then the new one the question is about
        ("biasanya kirim ke jepang, bulan depan order perdana ke Auckland, formnya apa", "NZ"),
    ],
)
def test_a_country_beside_its_region_and_the_last_of_several_wins(
    matcher: Matcher, text: str, iso: str
) -> None:
    assert matcher.normalize(text).country == iso


def test_empty_and_symbol_only_text_has_no_candidates(matcher: Matcher) -> None:
    assert matcher.match("").candidates == ()
    assert classify(matcher.match("?!?! ..."), Thresholds()).outcome == "no_match"


def _match(*scores: float) -> Match:
    cands = tuple(Candidate(f"t{i}", s) for i, s in enumerate(scores))
    return Match(candidates=cands, normalized=Normalized((), (), None, None))


def test_bands() -> None:
    limits = Thresholds(answer=60, suggest=40, min_gap=5)
    assert classify(_match(80, 50), limits).outcome == "answer"
    close = classify(_match(80, 78, 70, 30), limits)
    assert close.outcome == "suggest" and [c.id for c in close.suggestions] == ["t0", "t1", "t2"]
    assert classify(_match(50, 20), limits).outcome == "suggest"
    assert classify(_match(39, 20), limits).outcome == "no_match"
    assert classify(_match(), limits).outcome == "no_match"


def test_an_answer_needs_a_clear_lead_whatever_the_configured_gap() -> None:
    # neighbouring topics (registering / activating an account) tie often: a near tie
    # offers both instead of guessing, even where the configuration asks a gap of 1
    limits = Thresholds(answer=58.5, suggest=42, min_gap=1)
    near = classify(_match(60, 56), limits)
    assert near.outcome == "suggest" and [c.id for c in near.suggestions] == ["t0", "t1"]
    assert classify(_match(60, 55), limits).outcome == "answer"
    assert classify(_match(60, 56), Thresholds(min_gap=1, min_lead=1)).outcome == "answer"


def test_a_chatty_question_naming_the_ska_is_answered_below_the_answer_threshold(matcher: Matcher) -> None:
    # the matcher's own rule, without the second opinion (tests/test_opinion.py)
    match = replace(
        matcher.match("Apakah kode HS di SKA harus sama dengan yang tercantum di PEB?"), opinion=None
    )
    assert match.anchored and match.best is not None and match.best.id == "hs-code"
    assert match.best.score < Thresholds.answer  # the plain band would not answer it
    assert classify(match, Thresholds()).outcome == "answer"
    # without the anchor rule the same match is only a did-you-mean
    plain = Thresholds(anchored=Thresholds.answer)
    assert classify(match, plain).outcome == "suggest"


@pytest.mark.parametrize(
    "text",
    [
        "harga plywood hari ini berapa",
        "cara reset password wifi indihome",
        "ongkir kontainer ke jepang berapa",
        "lowongan kerja di pabrik veneer",
    ],
)
def test_out_of_scope_messages_borrowing_domain_words_name_no_anchor(matcher: Matcher, text: str) -> None:
    match = matcher.match(text)
    assert not match.anchored
    assert classify(match, Thresholds()).outcome != "answer" or match.best.score >= 58.5


def test_a_named_destination_outweighs_a_form_name(matcher: Matcher) -> None:
    # "form b" alone points at the SKA-types answer; with a destination the question is
    # which form that country takes
    verdict = classify(matcher.match("ke saudi arabia pake form b ya pak?"), Thresholds())
    assert (verdict.outcome, verdict.id, verdict.country) == ("answer", "form-by-destination", "SA")


def test_courtesy_around_a_question_does_not_make_it_thanks(matcher: Matcher) -> None:
    text = (
        "Pengajuan SKA kami sudah dikirim tadi pagi dan dokumen sudah lengkap. "
        "Biasanya berapa lama sampai SKA terbit? terima kasih"
    )
    assert matcher.match(text).best.id == "processing-time"
    assert classify(matcher.match("terima kasih banyak pak"), Thresholds()).outcome == "smalltalk"
    assert classify(matcher.match("halo, apa kabar hari ini?"), Thresholds()).id == "greeting"


def test_matcher_is_built_once_and_reused(matcher: Matcher) -> None:
    # the prepared samples are what queries run against; nothing is rebuilt per query
    before = list(matcher.sample_text)
    matcher.match("berapa biaya ska")
    assert matcher.sample_text == before and len(before) > 240


def test_loads_knowledge_from_a_path(tmp_path: Path) -> None:
    assert len(load_knowledge(ROOT / "knowledge").entries) == 30


@pytest.mark.parametrize(
    "text, topic",
    [
        ("kapal berangkat lusa, ska bisa jadi hari ini?", "processing-time"),
        ("kapalnya berangkat besok pak, ska bisa selesai hari ini ga", "processing-time"),
        ("kapal sudah berangkat, ska masih bisa diajukan?", "retroactive"),
    ],
)
def test_a_ship_leaving_soon_is_a_deadline_not_a_late_application(
    matcher: Matcher, text: str, topic: str
) -> None:
    assert classify(matcher.match(text), Thresholds()).id == topic


@pytest.mark.parametrize(
    "text, outcome, topic",
    [
        ("bot ini bisa bantu apa saja?", "smalltalk", "greeting"),
        ("what can you do", "smalltalk", "greeting"),
        ("bisa bantu apa saja untuk pengajuan ska?", "answer", "apply-steps"),
    ],
)
def test_asking_what_the_bot_can_do_gets_its_introduction(
    matcher: Matcher, text: str, outcome: str, topic: str
) -> None:
    verdict = classify(matcher.match(text), Thresholds())
    assert (verdict.outcome, verdict.id) == (outcome, topic)


@pytest.mark.parametrize(
    "text, topic",
    [
        ("isi header, data barang, struktur biaya... abis itu apa lg min?", "apply-steps"),
        ("halo bot", "greeting"),
        ("what is an SKA?", "what-is-ska"),
        ("jumat buka sampe jam brp", "office-contact"),
    ],
)
def test_everyday_phrasings(matcher: Matcher, text: str, topic: str) -> None:
    match = matcher.match(text)
    assert (match.smalltalk or (match.best.id if match.best else None)) == topic


def test_gated_phrase_rules_equal_every_rule_in_order(matcher: Matcher) -> None:
    # the phrase rules are tried only where a match can begin (knowledge/phrases.py);
    # on every sample question and every message of the question sets that must give
    # exactly what running all of them in order gives
    import yaml

    rules = matcher.normalize.phrases
    texts = list(matcher.sample_source)
    for path in sorted((ROOT / "tests" / "data").glob("questions*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts += [q["q"] for q in data["questions"]] + list(data["out_of_scope"])
    gated = 0
    for text in texts:
        low = f" {text.lower()} "
        assert rules(low) == rules.sequential(low), text
        gated += 1
    assert gated > 2000 and len(rules) > 50


@pytest.mark.parametrize(
    "pattern, must_begin",
    [
        (r"\b(belum|blm)\s+terbit\b", {"belum", "blm"}),
        (r"\bform\s+(be|bi)\b", {"form"}),
        (r"(?<!&\s)\bco\b", {"co"}),
        (r"\bhs\b", {"hs"}),
        (r"\b(di)?approve", {"diappr", "approv"}),
        (r"\s+x", None),  # not at a word's start: always tried
        (r"\b\s+x", None),  # begins with no word character: always tried
        (r"\b(a|b?)c", {"ac", "bc", "c"}),
        (r"\b(?=x)", None),  # an empty match: always tried
    ],
)
def test_phrase_rule_beginnings(pattern: str, must_begin: set[str] | None) -> None:
    from knowledge.phrases import beginnings

    found = beginnings(pattern)
    assert (None if found is None else set(found)) == must_begin


@pytest.mark.parametrize(
    "spoken, written",
    [
        ("bu kalau pakai er ve ce itu persen berapa", "rvc"),
        ("harus isi nilai ef o be kah", "fob"),
        ("akun e es ka a saya", "eska"),
        ("pe e be dan en pe e", "peb"),
    ],
)
def test_spelled_out_abbreviations_are_read_as_written(matcher: Matcher, spoken: str, written: str) -> None:
    assert written in matcher.normalize(spoken).tokens


def test_letter_names_that_spell_nothing_known_stay_words(matcher: Matcher) -> None:
    # the Banjar "ka" (to) is no letter K
    assert "ka" in matcher.normalize("ulun ka kantor ka a").words


@pytest.mark.parametrize(
    "text",
    [
        "lowongan jadi verifikator SKA ada gak?",  # a job, though it names the SKA
        "HS code untuk impor mesin genset apa?",  # an HS code for an import
        "harga plywood 18mm per lembar brp",  # the price of the goods
        "tarif bea masuk china untuk wood pellet berapa",  # a duty rate
        "butuh supplier veneer meranti, ada kontak?",  # finding a supplier
    ],
)
def test_other_business_is_not_answered(matcher: Matcher, text: str) -> None:
    assert classify(matcher.match(text), Thresholds()).outcome != "answer"
