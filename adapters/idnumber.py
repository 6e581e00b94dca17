"""Resident identity numbers (GB 11643): validation, the 15 -> 18 upgrade and lookup variants."""

from __future__ import annotations

import datetime as dt
import operator
import re

_DIGITS = re.compile(r"[0-9]+")  # str.isdigit would also accept full-width digits

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


class InvalidIdNumber(ValueError):
    """The text is not a valid 18-digit or legacy 15-digit resident id."""


def check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


_ZERO_WEIGHT = ord("0") * sum(_WEIGHTS)


def _checked_char(first17: str) -> str:
    """`check_char` of 17 ASCII digits already checked: one pass over their bytes, no int() per digit."""
    return _CHECK_CHARS[(sum(map(operator.mul, first17.encode(), _WEIGHTS)) - _ZERO_WEIGHT) % 11]


def _birth_date(text: str, digits: str) -> dt.date:
    try:
        return dt.date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise InvalidIdNumber(f"{text!r}: birth date {digits} inside the id is not a date") from None


def normalize(text: str) -> str:
    """Return the canonical 18-character id (upper-case X) or raise InvalidIdNumber.

    Accepts a lower-case check `x` and upgrades the legacy 15-digit form (born 19YYMMDD,
    no check digit) by inserting the century and computing the check character.
    """
    value = text.strip()
    if len(value) == 15:
        if not _DIGITS.fullmatch(value):
            raise InvalidIdNumber(f"{text!r}: a 15-digit id must be all digits")
        _birth_date(text, "19" + value[6:12])
        first17 = value[:6] + "19" + value[6:]
        return first17 + _checked_char(first17)
    if len(value) != 18:
        raise InvalidIdNumber(f"{text!r}: an id has 18 characters (or 15 in the legacy form), not {len(value)}")
    first17, last = value[:17], value[17].upper()
    if not _DIGITS.fullmatch(first17) or last not in "0123456789X":
        raise InvalidIdNumber(f"{text!r}: only digits, and X as the last character, are allowed")
    _birth_date(text, value[6:14])
    expected = _checked_char(first17)
    if last != expected:
        raise InvalidIdNumber(f"{text!r}: check character is {last}, expected {expected}")
    return first17 + last


def birth_date(id_number: str) -> dt.date:
    """Birth date encoded in a canonical 18-character id."""
    return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def to_legacy(id_number: str) -> str | None:
    """The 15-digit form of a canonical id, or None when it cannot have one (not born 19xx)."""
    if id_number[6:8] != "19":
        return None
    return id_number[:6] + id_number[8:17]


def variants(id_number: str) -> tuple[str, ...]:
    """Every spelling a department may store for a canonical id: as is, lower-case x, 15 digits."""
    spellings = [id_number]
    if id_number.endswith("X"):
        spellings.append(id_number[:17] + "x")
    legacy = to_legacy(id_number)
    if legacy is not None:
        spellings.append(legacy)
    return tuple(spellings)
