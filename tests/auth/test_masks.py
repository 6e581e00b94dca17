"""Masking formats (DESIGN §3): the examples, the awkward inputs, and that a mask never leaks its input."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest

from adapters.idnumber import check_char
from auth.masks import (
    COMPOUND_SURNAMES,
    MASKS,
    MINOR_MASKS,
    MaskError,
    apply_mask,
    mask_address,
    mask_birth_date,
    mask_diagnosis,
    mask_id_number,
    mask_minor_id_number,
    mask_name,
    mask_phone,
    pseudonym,
)

# A valid id in county 350583 (南安市), born 1987-01-02, whose check character is X.
NANAN = "35058319870102123X"
NANAN_LOWER = "35058319870102123x"
NANAN_LEGACY = "350583870102123"
OTHER = "350502199001011010"  # a different, valid id
KEY = b"client-a secret"
OTHER_KEY = b"client-b secret"


# --- the examples of DESIGN §3 --------------------------------------------------------------


@pytest.mark.parametrize(
    ("format_name", "value", "masked"),
    [
        ("id", NANAN, "350583********123X"),
        ("name", "张三", "张*"),
        ("name", "欧阳娜娜", "欧阳**"),
        ("phone", "13812345678", "138****5678"),
        ("address", "南安市溪美街道成功社区美林路12号", "南安市溪美街道***"),
        ("birth-year", dt.date(1987, 1, 2), "1987"),
        ("diagnosis-chapter", "B20", "B**"),
    ],
)
def test_design_examples(format_name: str, value: object, masked: str) -> None:
    # given a value of the kind the table shows, when masked by format name
    result = apply_mask(format_name, value)
    # then it reads exactly as the table's example
    assert result == masked


def test_pseudonym_has_the_design_form() -> None:
    # given a key, when an id is pseudonymised
    result = pseudonym(NANAN, key=KEY)
    # then it is p_ followed by 16 lower-case hex characters
    assert re.fullmatch(r"p_[0-9a-f]{16}", result)


# --- resident id ------------------------------------------------------------------------------


FULL_WIDTH_LEGACY = "３５０５８３８７０１０２１２３"  # as typed with a Chinese input method


@pytest.mark.parametrize("spelling", [NANAN, NANAN_LOWER, NANAN_LEGACY, f"  {NANAN}\n", FULL_WIDTH_LEGACY])
def test_every_spelling_of_an_id_masks_as_the_canonical_id(spelling: str) -> None:
    # given the 18-digit, lower-case x, legacy 15-digit, padded and full-width spellings
    # when masked
    result = mask_id_number(spelling)
    # then the mask is of the canonical 18-character id
    assert result == "350583********123X"


@pytest.mark.parametrize(
    "bad", ["", "   ", "35058319870102123", "350583198701021230", "35058319871302123X", "abc", "٣٥٠٥٨٣٨٧٠١٠٢١٢٣"]
)
def test_an_invalid_id_cannot_be_masked(bad: str) -> None:
    # given text that is not a valid id (wrong length, wrong check, month 13, letters, Arabic digits)
    # when masked, then MaskError
    with pytest.raises(MaskError):
        mask_id_number(bad)


@pytest.mark.parametrize("spelling", [NANAN, NANAN_LOWER, NANAN_LEGACY, FULL_WIDTH_LEGACY])
def test_a_minors_id_keeps_only_its_region(spelling: str) -> None:
    # given any spelling of an id, when masked as a minor's
    result = apply_mask("id", spelling, minor=True)
    # then only the 6-digit region stays: no sequence number, gender digit or check character
    assert result == mask_minor_id_number(spelling) == "350583" + "*" * 12


@pytest.mark.parametrize("bad", ["", "35058319870102123", "350583198701021230", "35058319871302123X"])
def test_an_invalid_id_cannot_be_masked_as_a_minors_either(bad: str) -> None:
    # given text that is not a valid id, when masked as a minor's, then MaskError (apply_mask: withheld)
    with pytest.raises(MaskError):
        mask_minor_id_number(bad)
    assert apply_mask("id", bad, minor=True) is None


@pytest.mark.parametrize(
    ("format_name", "value"), [("name", "欧阳娜娜"), ("phone", "13812345678"), ("birth-year", "2015-07-07")]
)
def test_a_format_without_a_minors_form_masks_a_minors_value_as_any_other(format_name: str, value: str) -> None:
    # given a format that has no stricter form for minors, when a minor's value is masked
    # then it is masked as anyone's
    assert format_name not in MINOR_MASKS
    assert apply_mask(format_name, value, minor=True) == apply_mask(format_name, value)


def test_mask_error_does_not_quote_the_value() -> None:
    # given an id with a wrong check character, when masking fails
    with pytest.raises(MaskError) as caught:
        mask_id_number("350583198701021230")
    # then neither the message nor the printed cause repeats the id (errors get logged)
    assert "350583198701021230" not in str(caught.value)
    assert caught.value.__suppress_context__


# --- name ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("李小龙", "李**"),
        ("王五", "王*"),  # one-character given name
        ("欧阳娜娜", "欧阳**"),
        ("司马光", "司马*"),
        ("诸葛孔明", "诸葛**"),
        ("上官婉", "上官*"),
        ("东方明", "东方*"),
        ("皇甫嵩", "皇甫*"),
        ("慕容复", "慕容*"),
        ("令狐冲", "令狐*"),
        ("尉迟恭", "尉迟*"),
        ("长孙晟", "长孙*"),
        ("宇文邕", "宇文*"),
        ("夏侯惇", "夏侯*"),
        ("司徒雷", "司徒*"),
        ("公孙胜", "公孙*"),
        ("轩辕明", "轩辕*"),
        ("端木赐", "端木*"),
        ("西门庆", "西门*"),
        ("南宫适", "南宫*"),
        ("欧阳", "欧*"),  # a lone compound surname keeps one character, so something is masked
        ("张", "*"),
        ("  李四 ", "李*"),
        ("阿依古丽·买买提", "阿***·***"),
        ("阿依古丽•买买提", "阿***•***"),  # the bullet look-alike is a separator too
        ("买买提·艾力·托合提", "买**·**·***"),
        ("阿·买买提", "阿·***"),
    ],
)
def test_name_keeps_only_the_surname(name: str, masked: str) -> None:
    # given a name, when masked
    result = mask_name(name)
    # then the surname (or the first character of a transliterated name) is all that remains
    assert result == masked


def test_compound_surnames_cover_the_common_ones_and_only_pairs() -> None:
    # given the surnames DESIGN and common usage name
    expected = {"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容", "令狐", "尉迟", "长孙", "宇文", "夏侯"}
    expected |= {"司徒", "公孙", "轩辕", "端木", "西门", "南宫"}
    # then all are in the set, and every entry is two characters
    assert expected <= COMPOUND_SURNAMES
    assert all(len(surname) == 2 for surname in COMPOUND_SURNAMES)


def test_a_single_surname_followed_by_a_compound_lookalike_keeps_one_character() -> None:
    # given 乐正 left out of the compound set (乐 + a given name starting 正 is far more common)
    # when masked, then only 乐 is kept
    assert mask_name("乐正华") == "乐**"


@pytest.mark.parametrize("bad", ["", "  ", "张*", "**", "张·", "·", None, 42])
def test_a_name_that_cannot_be_masked_raises(bad: object) -> None:
    # given empty text, an already-masked name, nothing after a separator or not text at all
    # when masked, then MaskError
    with pytest.raises(MaskError):
        mask_name(bad)  # type: ignore[arg-type]


# --- phone ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),  # the country code of a mobile is dropped
        ("0595-86123456", "059*******56"),  # landline with area code: 12 digits
        ("05958612345", "059******45"),  # 11 digits but not a mobile: the landline rule
        ("8612345", "861**45"),  # 7 digits, the shortest
        ("+44 20 7946 0958", "442*******58"),
        ("１３８１２３４５６７８", "138****5678"),  # full-width digits from a Chinese input method
    ],
)
def test_phone_keeps_the_first_three_and_the_last_few_digits(phone: str, masked: str) -> None:
    # given a mobile or landline in any of the usual spellings, when masked
    result = mask_phone(phone)
    # then 3 + 4 digits of a mobile remain, or 3 + 2 of anything else
    assert result == masked


@pytest.mark.parametrize(
    "bad", ["", "861234", "1234567890123456", "138.1234.5678", "(0595)86123456", "138 1234 567a", "1+3812345678", "+"]
)
def test_a_phone_that_cannot_be_masked_raises(bad: str) -> None:
    # given fewer than 7 or more than 15 digits, or characters other than digits, spaces and dashes
    # when masked, then MaskError
    with pytest.raises(MaskError):
        mask_phone(bad)


# --- address -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("南安市溪美街道成功社区美林路12号", "南安市溪美街道***"),
        ("福建省泉州市南安市溪美街道成功社区", "福建省泉州市南安市溪美街道***"),
        ("南安市洪濑镇东大村3组", "南安市洪濑镇***"),
        ("南安市向阳乡郭田村", "南安市向阳乡***"),
        ("内蒙古自治区鄂尔多斯市伊金霍洛旗乌兰木伦镇某嘎查", "内蒙古自治区鄂尔多斯市伊金霍洛旗乌兰木伦镇***"),
        ("四子王旗查干补力格苏木某嘎查", "四子王旗查干补力格苏木***"),
        ("福建省三明市宁化县治平畲族乡泥坑村", "福建省三明市宁化县治平畲族乡***"),
        ("江苏省镇江市京口区大市口街道中山东路1号", "江苏省镇江市京口区大市口街道***"),  # 镇 of 镇江 begins a name
        ("鼓楼区中山路街道中山路5号", "鼓楼区中山路街道***"),  # 街道 named after its road
        ("山西省临汾市乡宁县昌宁镇某村", "山西省临汾市乡宁县昌宁镇***"),  # 乡 of 乡宁 begins a name
        ("四川省甘孜藏族自治州乡城县香巴拉镇某村", "四川省甘孜藏族自治州乡城县香巴拉镇***"),
        ("溪美街道成功社区", "溪美街道***"),  # a township with no county before it
        ("福建省 泉州市 南安市 溪美街道 成功社区", "福建省泉州市南安市溪美街道***"),
    ],
)
def test_address_is_kept_up_to_the_township(address: str, masked: str) -> None:
    # given an address with a township-level unit, when masked
    result = mask_address(address)
    # then everything after the township is replaced by ***
    assert result == masked


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("南安市美林路12号", "南安市***"),  # no township at all
        ("福建省泉州市南安市成功社区阳光小区3栋", "福建省泉州市南安市***"),  # 社区 and 小区 are not units
        ("南安市美林路12号新镇花园", "南安市***"),  # a 镇 after a street number is not a township
        ("南安市美林路新镇花园", "南安市***"),  # nor one after a road name
        ("南安市中心超市旁", "南安市***"),  # 超市 is a shop, not a city
    ],
)
def test_address_without_a_trustworthy_township_is_kept_up_to_the_county(address: str, masked: str) -> None:
    # given an address whose only unit (that can be trusted) is county-level, when masked
    result = mask_address(address)
    # then it is cut after the county and never after a street-level word
    assert result == masked


@pytest.mark.parametrize(("address", "masked"), [("南安市", "南安市"), ("南安市溪美街道", "南安市溪美街道")])
def test_address_that_is_only_units_has_nothing_to_cut(address: str, masked: str) -> None:
    # given an address that ends at the county or the township, when masked
    # then nothing was cut, so no *** is appended
    assert mask_address(address) == masked


@pytest.mark.parametrize(
    "bad", ["", "福建省", "福建省美林路12号", "内蒙古自治区美林路", "成功社区阳光小区3栋", "美林路12号", 12]
)
def test_address_without_a_county_or_township_raises(bad: object) -> None:
    # given no county- or township-level suffix (a province alone is not kept), when masked, then MaskError
    with pytest.raises(MaskError):
        mask_address(bad)  # type: ignore[arg-type]


# --- birth date ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [dt.date(1987, 1, 2), dt.datetime(1987, 1, 2, 8, 30), "1987-01-02", " 1987-12-31 "])
def test_birth_date_keeps_the_year(value: dt.date | str) -> None:
    # given a birth date as a date or as YYYY-MM-DD, when masked, then only the year is left
    assert mask_birth_date(value) == "1987"


@pytest.mark.parametrize("bad", ["", "1987", "19870102", "1987-13-01", "1987-02-30", "1987-W01-1", 1987, None])
def test_birth_date_that_is_not_a_date_raises(bad: object) -> None:
    # given text that is not YYYY-MM-DD or not a real date, when masked, then MaskError
    with pytest.raises(MaskError):
        mask_birth_date(bad)  # type: ignore[arg-type]


# --- diagnosis -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "masked"),
    [("B20", "B**"), ("I63.9", "I**"), ("i63.9", "I**"), ("I639", "I**"), ("E11.900", "E**"), ("A01.000x001", "A**")],
)
def test_diagnosis_keeps_the_chapter_letter(code: str, masked: str) -> None:
    # given an ICD-10 code with or without decimals, in either case, when masked
    # then only the letter remains
    assert mask_diagnosis(code) == masked


@pytest.mark.parametrize("bad", ["", "B", "B2", "20", "BB20", "B20.", "I63.9†", "艾滋病", "B20 I63.9"])
def test_diagnosis_that_is_not_an_icd10_code_raises(bad: str) -> None:
    # given text that is not a single ICD-10 code, when masked, then MaskError
    with pytest.raises(MaskError):
        mask_diagnosis(bad)


# --- pseudonym -----------------------------------------------------------------------------


def test_pseudonym_is_stable_for_the_same_key() -> None:
    # given the same id and key twice, when pseudonymised, then the same pseudonym
    assert pseudonym(NANAN, key=KEY) == pseudonym(NANAN, key=KEY)


def test_pseudonym_differs_per_key_and_per_person() -> None:
    # given two clients' keys and two people
    # when pseudonymised, then no two pseudonyms coincide
    results = {pseudonym(id_number, key=key) for id_number in (NANAN, OTHER) for key in (KEY, OTHER_KEY)}
    assert len(results) == 4


@pytest.mark.parametrize("spelling", [NANAN_LOWER, NANAN_LEGACY, f" {NANAN} "])
def test_every_spelling_of_an_id_has_the_same_pseudonym(spelling: str) -> None:
    # given another spelling of the same id, when pseudonymised, then the canonical id's pseudonym
    assert pseudonym(spelling, key=KEY) == pseudonym(NANAN, key=KEY)


def test_pseudonym_is_the_documented_hmac() -> None:
    # given the definition: HMAC-SHA-256 of the canonical id, first 16 hex characters
    import hashlib
    import hmac

    expected = "p_" + hmac.new(KEY, NANAN.encode(), hashlib.sha256).hexdigest()[:16]
    # when pseudonymised from the legacy spelling, then that is the value
    assert pseudonym(NANAN_LEGACY, key=KEY) == expected


@pytest.mark.parametrize(("value", "key"), [(NANAN, b""), (NANAN, "text key"), ("350583198701021230", KEY), ("", KEY)])
def test_pseudonym_without_a_key_or_a_valid_id_raises(value: str, key: bytes) -> None:
    # given an empty or non-bytes key, or an invalid id, when pseudonymised, then MaskError
    with pytest.raises(MaskError):
        pseudonym(value, key=key)


# --- the registry and apply_mask -----------------------------------------------------------


def test_registry_names_the_policy_formats() -> None:
    # given the formats the policy can name, then each has a mask and nothing else is registered
    assert set(MASKS) == {"id", "name", "phone", "address", "birth-year", "diagnosis-chapter"}


@pytest.mark.parametrize(
    ("format_name", "value"),
    [
        ("id", "350583198701021230"),
        ("name", ""),
        ("phone", "12345"),
        ("address", "美林路12号"),
        ("birth-year", "yesterday"),
        ("diagnosis-chapter", "HIV"),
        ("name", None),
        ("id", 35058319870102123),
    ],
)
def test_apply_mask_withholds_what_it_cannot_mask(format_name: str, value: object) -> None:
    # given a value the format cannot mask, when applied, then None (withheld), never the value
    assert apply_mask(format_name, value) is None


@pytest.mark.parametrize("format_name", ["pseudonym", "ID", "", "none", "allow"])
def test_apply_mask_withholds_for_an_unknown_format(format_name: str) -> None:
    # given a format the registry does not know, when applied to a maskable value, then None
    assert apply_mask(format_name, "张三") is None


# --- a mask never leaks its input ----------------------------------------------------------

_CHINESE = [chr(code) for code in range(0x4E00, 0x9FA6)]
_SEPARATORS = "·•"


def _random_name(rng: random.Random) -> str:
    shape = rng.randrange(4)
    if shape == 0:  # compound surname, possibly alone
        return rng.choice(sorted(COMPOUND_SURNAMES)) + "".join(rng.choices(_CHINESE, k=rng.randrange(3)))
    if shape == 1:  # transliterated, parts of 1-5 characters
        parts = ["".join(rng.choices(_CHINESE, k=rng.randint(1, 5))) for _ in range(rng.randint(2, 3))]
        return rng.choice(_SEPARATORS).join(parts)
    if shape == 2:  # Latin letters and spaces
        letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ "
        return rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + "".join(rng.choices(letters, k=rng.randrange(10)))
    return "".join(rng.choices(_CHINESE, k=rng.randint(1, 5)))


def _random_phone(rng: random.Random) -> str:
    digits = "".join(rng.choices("0123456789", k=rng.randint(7, 15)))
    if rng.random() < 0.3:
        digits = "1" + "".join(rng.choices("0123456789", k=10))
    spaced = "".join(digit + rng.choice(["", "", " ", "-"]) for digit in digits).rstrip(" -")
    return ("+" if rng.random() < 0.2 else "") + spaced


def _random_id(rng: random.Random) -> str:
    born = dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange(45000))
    first17 = "".join(rng.choices("0123456789", k=6)) + born.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
    canonical = first17 + check_char(first17)
    if born.year < 2000 and rng.random() < 0.3:
        return canonical[:6] + canonical[8:17]
    return canonical.lower() if rng.random() < 0.5 else canonical


@pytest.mark.parametrize(
    ("format_name", "generate"),
    [("name", _random_name), ("phone", _random_phone), ("id", _random_id), ("minor-id", _random_id)],
)
def test_a_mask_never_returns_or_contains_its_input(format_name: str, generate: object) -> None:
    # given many generated names, phones and ids (seeded, so a failure can be replayed)
    rng = random.Random(f"masks-{format_name}")
    mask = MINOR_MASKS["id"] if format_name == "minor-id" else MASKS[format_name]
    for _ in range(2000):
        raw = generate(rng)  # type: ignore[operator]
        # when masked
        result = mask(raw)
        # then the result is neither the input nor contains it, in any case
        assert result != raw, raw
        assert raw.strip() not in result and raw.strip().upper() not in result, raw
        assert "*" in result, raw
