"""Resident ids: check characters, lower-case x, the legacy 15-digit upgrade, impossible birth dates."""

from __future__ import annotations

import pytest

from adapters import idnumber

VALID_X = "35050219900101123X"  # from spec/departments.md
CHILD = "35050220150612108X"


def test_valid_id_is_returned_unchanged() -> None:
    assert idnumber.normalize(VALID_X) == VALID_X


def test_lower_case_x_is_accepted_and_upper_cased() -> None:
    assert idnumber.normalize("35050220150612108x") == CHILD


@pytest.mark.parametrize("wrong", ["350502199001011230", "350502199001011231", "350502201506121089"])
def test_wrong_check_character_is_refused_with_the_expected_one(wrong: str) -> None:
    with pytest.raises(idnumber.InvalidIdNumber, match="expected"):
        idnumber.normalize(wrong)


def test_check_char_matches_the_iso_7064_definition() -> None:
    # given the first 17 digits, the check is (12 - sum(w*d) mod 11) mod 11 with 10 written X
    first17 = "11010519491231002"
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    assert idnumber.check_char(first17) == ("X" if value == 10 else str(value))


def test_legacy_15_digit_id_is_upgraded_to_18() -> None:
    # given the 15-digit form of 350502 19900101 123 (born 1990), when upgraded
    upgraded = idnumber.normalize("350502900101123")
    # then the century is inserted and the check character computed
    assert upgraded == VALID_X
    assert idnumber.to_legacy(upgraded) == "350502900101123"


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("350502901301123", "not a date"),  # month 13 inside a 15-digit id
        ("350502900230123", "not a date"),  # 30 February
        ("35050219901301" + "1234", "not a date"),
        ("3505021990010112", "18 characters"),
        ("35050219900101123Y", "only digits"),
        ("35050290010112a", "all digits"),
    ],
)
def test_impossible_ids_are_refused_saying_why(text: str, fault: str) -> None:
    with pytest.raises(idnumber.InvalidIdNumber, match=fault):
        idnumber.normalize(text)


def test_bad_date_with_a_correct_check_character_is_still_refused() -> None:
    first17 = "35050219901301123"
    with pytest.raises(idnumber.InvalidIdNumber, match="not a date"):
        idnumber.normalize(first17 + idnumber.check_char(first17))


def test_variants_cover_every_spelling_a_department_may_store() -> None:
    assert idnumber.variants(VALID_X) == (VALID_X, "35050219900101123x", "350502900101123")
    # born after 1999: no legacy form exists
    assert idnumber.variants(CHILD) == (CHILD, "35050220150612108x")
