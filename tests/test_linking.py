"""LinkService: how a code is read, and moving a linked account to another company."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from bot.models import Company, LinkCode, User
from bot.services import Services
from bot.services.linking import (
    ALPHABET,
    CODE_LENGTH,
    hash_code,
    looks_like_code,
    new_code,
    normalize_code,
)

CSV = """ref,company_nib,company_name,commodity,hs_code,destination,form,status,note,submitted_at,volume_tonnes,value_usd
SKA-001,1111111111111,PT Satu,Plywood,4412.31,JP,IJEPA,submitted,,2026-11-20,1,1
SKA-900,2222222222222,PT Dua,Moulding,4409.29,Polandia,Form B,in_review,,2026-11-23,1,1
"""
EXPORTER, OTHER = 1001, 1002

# -- reading a code (pure) -----------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "88V3FAMCNV",
        "88v3famcnv",
        "88V3F AMCNV",
        " 88V3F  AMCNV\n",
        "88V3F-AMCNV",
        "88V3FAMCNV.",
        "88V3FAMCNV-",
        "88v3f.amcnv",
        "88V3F\u2014AMCNV",  # the long dash a phone keyboard makes of "--"
        "88V3F\u00a0AMCNV",  # a no-break space from a copy
        "88V3F\u200bAMCNV",  # a zero-width space from a copy
    ],
)
def test_near_miss_forms_read_as_the_issued_code(typed: str) -> None:
    assert normalize_code(typed) == "88V3FAMCNV"
    assert hash_code(typed) == hash_code("88V3FAMCNV")


def test_every_new_code_is_of_the_alphabet_with_a_digit_and_a_letter() -> None:
    for _ in range(2000):
        code = new_code()
        assert len(code) == CODE_LENGTH and set(code) <= set(ALPHABET)
        assert any(c.isdigit() for c in code) and any(c.isalpha() for c in code)
        assert looks_like_code(code)


@pytest.mark.parametrize("text", ["88V3FAMCNV", "88V3F AMCNV", "88v3famcnv", "88V3F-AMCNV."])
def test_a_bare_code_looks_like_one(text: str) -> None:
    assert looks_like_code(text)


@pytest.mark.parametrize(
    "text",
    [
        "PEMBAYARAN",  # ten capitals of the alphabet, but a word: no digit
        "pembayaran",
        "2345678923",  # a number: no letter
        "88V3FAMCN",  # one short
        "88V3FAMCNVX",  # one long
        "88V3FAMCN0",  # 0 is no code character
        "kode 88V3FAMCNV",  # a sentence with a code is a question for the FAQ
        "/link 88V3FAMCNV",
        "",
        "   ",
    ],
)
def test_other_texts_do_not(text: str) -> None:
    assert not looks_like_code(text)


# -- the service over a database -------------------------------------------------------------


def _company_id(services: Services, nib: str) -> int:
    with services.db.session() as s:
        found = s.scalar(select(Company.id).where(Company.nib == nib))
        assert found is not None
        return found


def _linked_to(services: Services, user_id: int) -> int | None:
    with services.db.session() as s:
        user = s.get(User, user_id)
        return user.company_id if user else None


def _code_row(services: Services, code_id: int) -> LinkCode:
    with services.db.session() as s:
        row = s.get(LinkCode, code_id)
        assert row is not None
        s.expunge(row)
        return row


@pytest.fixture
def linked(services: Services) -> Services:
    """EXPORTER linked to PT Satu; PT Dua exists too."""
    assert services.importer.import_text(CSV).errors == []
    made = services.links.create_code("1111111111111", None)
    assert made is not None
    assert services.links.redeem(EXPORTER, made[0]).outcome == "linked"
    return services


def _dua_code(services: Services) -> str:
    made = services.links.create_code("2222222222222", None)
    assert made is not None
    return made[0]


def test_a_code_of_another_company_asks_before_moving(linked: Services) -> None:
    links = linked.links
    satu, dua = _company_id(linked, "1111111111111"), _company_id(linked, "2222222222222")
    asked = links.redeem(EXPORTER, _dua_code(linked))
    assert (asked.outcome, asked.company, asked.previous) == ("confirm", "PT Dua", "PT Satu")
    assert asked.code_id is not None
    # nothing moved and the code is not spent until the exporter says so
    assert _linked_to(linked, EXPORTER) == satu
    row = _code_row(linked, asked.code_id)
    assert row.used_at is None and row.offered_to == EXPORTER
    # another account pressing a forged button with the id changes nothing
    assert links.confirm_move(OTHER, asked.code_id).outcome == "invalid"
    assert links.cancel_move(OTHER, asked.code_id).outcome == "invalid"
    assert _linked_to(linked, OTHER) is None
    moved = links.confirm_move(EXPORTER, asked.code_id)
    assert (moved.outcome, moved.company, moved.previous) == ("moved", "PT Dua", "PT Satu")
    assert _linked_to(linked, EXPORTER) == dua
    # the record of the link keeps the company the account left
    row = _code_row(linked, asked.code_id)
    assert (row.used_by, row.replaced_company_id) == (EXPORTER, satu) and row.used_at is not None
    # pressed again (the first answer lost on a weak connection): the same answer
    again = links.confirm_move(EXPORTER, asked.code_id)
    assert (again.outcome, again.company, again.previous) == ("moved", "PT Dua", "PT Satu")
    # "don't move" pressed after "move" says what happened, and undoes nothing
    assert links.cancel_move(EXPORTER, asked.code_id).outcome == "moved"
    assert _linked_to(linked, EXPORTER) == dua


def test_declining_keeps_the_company_and_the_code_unused(linked: Services) -> None:
    links = linked.links
    code = _dua_code(linked)
    asked = links.redeem(EXPORTER, code)
    assert asked.code_id is not None
    kept = links.cancel_move(EXPORTER, asked.code_id)
    assert (kept.outcome, kept.previous) == ("kept", "PT Satu")
    assert _linked_to(linked, EXPORTER) == _company_id(linked, "1111111111111")
    # the move button of that question no longer works
    assert links.confirm_move(EXPORTER, asked.code_id).outcome == "invalid"
    # the code is still good, for whoever the office meant it for
    assert links.redeem(OTHER, code).outcome == "linked"
    assert _linked_to(linked, OTHER) == _company_id(linked, "2222222222222")


def test_a_code_expired_while_asked_does_not_move(linked: Services) -> None:
    links = linked.links
    asked = links.redeem(EXPORTER, _dua_code(linked))
    assert asked.code_id is not None
    with linked.db.session() as s:
        s.execute(update(LinkCode).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)))
    assert links.confirm_move(EXPORTER, asked.code_id).outcome == "expired"
    assert _linked_to(linked, EXPORTER) == _company_id(linked, "1111111111111")


def test_a_first_link_and_the_same_company_record_no_company_left(linked: Services) -> None:
    made = linked.links.create_code("1111111111111", None)
    assert made is not None
    # a new code of the company it already has: linked at once, nothing asked
    assert linked.links.redeem(EXPORTER, made[0]).outcome == "linked"
    with linked.db.session() as s:
        assert s.scalars(select(LinkCode.replaced_company_id)).all() == [None, None]


def test_near_miss_forms_link_and_wrong_ones_still_count(services: Services) -> None:
    assert services.importer.import_text(CSV).errors == []
    made = services.links.create_code("1111111111111", None)
    assert made is not None
    code = made[0]
    spaced = f"{code[:5].lower()} {code[5:]}."
    assert services.links.redeem(EXPORTER, spaced).outcome == "linked"
    # a wrong code, in whatever form, is a failed attempt as before: five lock out
    wrong = "22222 22222" if code != "2222222222" else "33333 33333"
    for _ in range(4):
        assert services.links.redeem(OTHER, wrong).outcome == "invalid"
    fifth = services.links.redeem(OTHER, wrong.replace(" ", "-"))
    assert fifth.outcome == "invalid" and fifth.locked_until is not None
    assert services.links.redeem(OTHER, "anything").outcome == "locked"
