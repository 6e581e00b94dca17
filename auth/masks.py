"""Server-side masking formats of DESIGN §3: pure functions that mask a value or raise MaskError.

A mask must not re-identify: what it keeps, with everything else a role is shown of the same person,
must fit at least 100 resident ids (DESIGN §3). The id mask of the table keeps the region and the last 4
characters, the sequence number, gender digit and check character; the birth date is what it hides.
For a minor that is not enough, since a minor's birth year or age is shown beside the id: a birth year
leaves the 365 birth dates, of which about one in 11 fits the kept check character, some 30 ids, and a
year and an age that overlap by a month leave 3. So a minor's id, wherever it is masked, keeps only its
6-digit region (`350583************`, MINOR_MASKS): beside a full birth date and the gender that still
leaves 500 ids, and beside a birth year and the gender some 180 000. A minor's age and birth date are
special as well (`auth.labels.SPECIAL`): with `special: mask` the age is withheld and the birth date
kept to the year. The township of a masked address is no part of an id. A certificate number or record
key that carries a minor's id has no mask: it is shown whole only with `special: allow`, else withheld.
`tests/auth/test_reidentification.py` counts the ids that fit what each demo role sees of a minor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any, Final

from adapters import idnumber


class MaskError(ValueError):
    """The value cannot be masked; the caller withholds it.

    Messages never quote the value: they may end up in logs that the value must not reach.
    """


# Surnames written with two characters. A wrong hit reveals one given-name character, so pairs that
# are far more often a common single surname plus a given name (乐正, 宗政, 单于) are left out.
COMPOUND_SURNAMES: Final = frozenset(
    {
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容", "令狐", "尉迟", "长孙", "宇文", "夏侯",
        "司徒", "公孙", "轩辕", "端木", "西门", "南宫", "独孤", "呼延", "申屠", "澹台", "公冶", "太叔",
        "闻人", "赫连", "钟离", "濮阳", "淳于", "太史", "公羊", "仲孙", "鲜于", "闾丘", "司空", "亓官",
        "司寇", "颛孙", "壤驷", "漆雕", "谷梁", "拓跋", "段干", "东郭", "羊舌", "梁丘", "左丘", "百里",
        "第五", "万俟", "巫马", "南门", "东门",
    }
)  # fmt: skip

# Transliterated names (阿依古丽·买买提) are written with U+00B7; the look-alikes come from data entry.
_NAME_SEPARATORS: Final = frozenset("·•・‧")

_PHONE_MOBILE_DIGITS: Final = 11
_PSEUDONYM_HEX_CHARS: Final = 16  # 64 bits: collisions stay unlikely across a country's residents

# Units above the county end a name but are not kept on their own: a province says too little to
# be worth showing, and without it 镇 in 江苏省镇江市 would look like the end of a township.
_UNIT_SUFFIX: Final = re.compile(
    r"(?P<province>特别行政区|自治区|自治州|省)"
    r"|(?P<township>街道|民族乡|镇|乡|苏木)"
    # 区 and 市 also end everyday words (小区 = housing estate, 超市 = supermarket); keeping up to one
    # of those would reveal the street-level part the mask exists to hide.
    r"|(?P<county>(?<![小社园景校厂片街院营库])区|(?<![超门集夜菜街])市|县|旗)"
)
# Administrative names are ideographs only; a digit or a building word means the cut would fall
# inside a street address, so the parse stops before it.
_PLACE_NAME: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{1,16}")
_NOT_IN_PLACE_NAMES: Final = frozenset("号弄栋幢室巷村组")
_STREET_WORDS: Final = frozenset("路街")  # allowed only before 街道, whose names often are a road's

_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
# ICD-10 with the national clinical extensions (I63.900, A01.000x001), dot optional.
_ICD10: Final = re.compile(r"([A-Z])\d{2}(?:\.?[0-9A-Z]{1,7})?", re.ASCII)


def _text(value: object, *, what: str) -> str:
    if not isinstance(value, str):
        raise MaskError(f"a {what} must be text, not {type(value).__name__}")
    text = value.strip()
    if not text:
        raise MaskError(f"the {what} is empty")
    return text


def _canonical_id(value: object) -> str:
    # NFKC turns full-width digits from Chinese input methods into ASCII, so they name the same person.
    text = unicodedata.normalize("NFKC", _text(value, what="resident id"))
    try:
        canonical = idnumber.normalize(text)
    except idnumber.InvalidIdNumber:
        raise MaskError("not a valid resident id") from None  # its message quotes the id
    if not canonical.isascii():  # str.isdigit also accepts Arabic-Indic and other digits
        raise MaskError("not a valid resident id")
    return canonical


def mask_id_number(value: str) -> str:
    """`350583********123X`: the first 6 and last 4 characters of the canonical 18-character id."""
    canonical = _canonical_id(value)
    return canonical[:6] + "*" * 8 + canonical[-4:]


def mask_minor_id_number(value: str) -> str:
    """`350583************`: only the 6-digit region of a minor's canonical id (see the module docstring)."""
    return _canonical_id(value)[:6] + "*" * 12


def mask_name(value: str) -> str:
    """`张*`, `欧阳**`, `阿***·***`: the surname stays, every other character becomes `*`."""
    name = _text(value, what="name")
    if "*" in name:  # already masked, or not a name: masking it again could return it unchanged
        raise MaskError("the name contains '*'")
    if any(char in _NAME_SEPARATORS for char in name):
        # Transliterated names (阿依古丽·买买提) have no surname: keeping the first part whole would
        # reveal a given name. Its first character and the separators say about as much as a kept
        # Chinese surname; the length of each part, like the length of any masked name, shows.
        masked = "".join(char if char in _NAME_SEPARATORS else "*" for char in name)
        masked = name[0] + masked[1:] if name[0] not in _NAME_SEPARATORS else masked
    else:
        # A name that is only a compound surname (欧阳) keeps one character, so something is masked.
        kept = 2 if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else 1
        masked = name[:kept] + "*" * (len(name) - kept) if len(name) > 1 else "*"
    if "*" not in masked:  # e.g. `张·`: nothing but the kept character and separators
        raise MaskError("the name has nothing to mask")
    return masked


def mask_phone(value: str) -> str:
    """`138****5678` for an 11-digit mobile; first 3 and last 2 of any other 7-15 digit number."""
    text = unicodedata.normalize("NFKC", _text(value, what="phone number"))
    international = text.startswith("+")
    digits = text.removeprefix("+").replace(" ", "").replace("-", "")
    if not (digits.isascii() and digits.isdigit()):
        raise MaskError("a phone number has only digits, spaces, dashes and a leading +")
    if international and len(digits) == 2 + _PHONE_MOBILE_DIGITS and digits.startswith("861"):
        digits = digits[2:]  # +86 mobile: shown like the domestic number it is
    if not 7 <= len(digits) <= 15:
        raise MaskError("a phone number has 7 to 15 digits")
    if len(digits) == _PHONE_MOBILE_DIGITS and digits.startswith("1"):
        return digits[:3] + "*" * 4 + digits[-4:]
    return digits[:3] + "*" * (len(digits) - 5) + digits[-2:]


def mask_address(value: str) -> str:
    """`南安市溪美街道***`: kept up to the township, else up to the county; `***` marks the cut."""
    address = "".join(_text(value, what="address").split())
    start = 0  # where the name of the next administrative unit begins
    kept = 0
    for suffix in _UNIT_SUFFIX.finditer(address):
        place = address[start : suffix.start()]
        if not place:
            continue  # the suffix character begins a name (镇江市, 乡宁县), it does not end one
        if not _is_place_name(place, township_office=suffix.group() == "街道"):
            break
        start = suffix.end()
        if suffix.lastgroup != "province":
            kept = suffix.end()
        if suffix.lastgroup == "township":
            break
    if not kept:
        raise MaskError("no county- or township-level unit in the address")
    return address[:kept] + ("***" if kept < len(address) else "")


def _is_place_name(text: str, *, township_office: bool) -> bool:
    forbidden = _NOT_IN_PLACE_NAMES if township_office else _NOT_IN_PLACE_NAMES | _STREET_WORDS
    return _PLACE_NAME.fullmatch(text) is not None and not forbidden.intersection(text)


def mask_birth_date(value: dt.date | str) -> str:
    """`1987`: the year of a date or of a `YYYY-MM-DD` string."""
    if isinstance(value, dt.date):  # datetime included: it is a date
        return f"{value.year:04d}"
    text = _text(value, what="birth date")
    if _ISO_DATE.fullmatch(text) is None:  # fromisoformat alone also takes 20240101 and 2024-W01
        raise MaskError("a birth date is written YYYY-MM-DD")
    try:
        return f"{dt.date.fromisoformat(text).year:04d}"
    except ValueError:
        raise MaskError("the birth date is not a date") from None


def mask_diagnosis(value: str) -> str:
    """`B**`: the ICD-10 chapter letter of a code such as `B18.1` or `I63.9`, the same for every code."""
    match = _ICD10.fullmatch(_text(value, what="diagnosis code").upper())
    if match is None:
        raise MaskError("not an ICD-10 code")
    return match.group(1) + "**"


def pseudonym(value: str, *, key: bytes) -> str:
    """`p_` + the first 16 hex characters of HMAC-SHA-256(key, canonical id): stable per key."""
    if not isinstance(key, bytes | bytearray) or not key:
        raise MaskError("a pseudonym needs a non-empty key")
    # Canonical first, so the 15-digit, lower-case-x and 18-digit spellings are one person.
    digest = hmac.new(bytes(key), _canonical_id(value).encode("ascii"), hashlib.sha256).hexdigest()
    return "p_" + digest[:_PSEUDONYM_HEX_CHARS]


# Looked up by the policy engine's `mask:<format>`; pseudonym is not here because it needs a key.
MASKS: Final[Mapping[str, Callable[[Any], str]]] = {
    "id": mask_id_number,
    "name": mask_name,
    "phone": mask_phone,
    "address": mask_address,
    "birth-year": mask_birth_date,
    "diagnosis-chapter": mask_diagnosis,
}


# A minor's value gets the stricter form of its field's mask, where there is one.
MINOR_MASKS: Final[Mapping[str, Callable[[Any], str]]] = {"id": mask_minor_id_number}


def apply_mask(format_name: str, value: object, *, minor: bool = False) -> str | None:
    """The masked value, or None (withheld) when the format is unknown or the value cannot be masked."""
    mask = (MINOR_MASKS.get(format_name) if minor else None) or MASKS.get(format_name)
    if mask is None:
        return None
    try:
        return mask(value)
    except MaskError:
        return None
