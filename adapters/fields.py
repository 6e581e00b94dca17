"""Cell parsers for the departments' native formats: each turns one CSV/SQL cell into a hub value."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import Enum
from typing import Any

from adapters import idnumber
from resolvers.rules.terms import Term

Parser = Callable[[str], Any]

# [0-9], not \d: \d and str.isdigit also match full-width and other scripts' digits.
_YUAN = re.compile(r"-?[0-9]+(\.[0-9]{1,2})?")
_DIGITS = re.compile(r"[0-9]+")
_ASCII_DIGITS = _DIGITS
_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CENT = Decimal("0.01")  # money leaves the hub with two decimals, whichever source it came from

# Dates and amounts repeat across the rows of an export (birth dates, award amounts): their parsed values
# are immutable, so a bounded cache returns them without parsing again. Faults are not cached: they raise.
_repeated = functools.lru_cache(maxsize=1 << 16)


def id_number(text: str) -> str:
    """A resident id in any accepted spelling, returned canonical (18 chars, upper-case X)."""
    try:
        return idnumber.normalize(text)
    except idnumber.InvalidIdNumber as error:
        raise ValueError(str(error)) from None


@_repeated
def iso_date(text: str) -> dt.date:
    """YYYY-MM-DD, the date format of every department but medical (not ISO week dates like 2025-W10-1)."""
    if not _ISO_DATE.fullmatch(text):
        return _bad_date(text, "YYYY-MM-DD")
    try:
        return dt.date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        return _bad_date(text, "YYYY-MM-DD")


@_repeated
def compact_date(text: str) -> dt.date:
    """YYYYMMDD, medical's date format."""
    if not _ASCII_DIGITS.fullmatch(text) or len(text) != 8:
        return _bad_date(text, "YYYYMMDD")
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return _bad_date(text, "YYYYMMDD")


def _bad_date(text: str, form: str) -> dt.date:
    raise ValueError(f"{text!r} is not a date in the form {form}")


@_repeated
def yuan(text: str) -> Decimal:
    """Money in yuan with up to two decimals."""
    if not _YUAN.fullmatch(text):
        raise ValueError(f"{text!r} is not an amount in yuan (digits, up to 2 decimals)")
    return Decimal(text).quantize(_CENT)


@_repeated
def fen(text: str) -> Decimal:
    """Money in integer fen (medical), returned in yuan."""
    if not _DIGITS.fullmatch(text.lstrip("-")):
        raise ValueError(f"{text!r} is not an amount in integer fen")
    return (Decimal(int(text)) / 100).quantize(_CENT)


def integer(text: str) -> int:
    # int() would also take '1_0' and full-width digits; the formats have plain ASCII digits only.
    if not _INTEGER.fullmatch(text):
        raise ValueError(f"{text!r} is not a whole number")
    return int(text)


def decimal(text: str) -> Decimal:
    # Decimal() would also take 'NaN', 'Infinity' and exponents.
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"{text!r} is not a number")
    return Decimal(text)


def year(text: str) -> int:
    if not _ASCII_DIGITS.fullmatch(text) or len(text) != 4:
        raise ValueError(f"{text!r} is not a four-digit year")
    return int(text)


def text(value: str) -> str:
    return value


def digits(length: int, what: str) -> Parser:
    """A code of exactly `length` digits (household number, division code, ...)."""

    def parse(value: str) -> str:
        if len(value) != length or not _ASCII_DIGITS.fullmatch(value):
            raise ValueError(f"{value!r} is not a {length}-digit {what}")
        return value

    return parse


def code(table: Mapping[str, Enum]) -> Parser:
    """A department code translated to the hub's enum member name."""
    allowed = ", ".join(table)
    names = {native: member.name for native, member in table.items()}  # an enum's .name is a slow property

    def parse(value: str) -> str:
        name = names.get(value)
        if name is None:
            raise ValueError(f"unknown code {value!r} (expected one of {allowed})")
        return name

    return parse


def code_list(table: Mapping[str, Enum], separator: str = ";") -> Parser:
    """Several codes in one cell, stored as the `;`-joined enum member names."""
    one = code(table)

    def parse(value: str) -> str:
        return ";".join(one(part.strip()) for part in value.split(separator))

    return parse


_HOUSEHOLD_NUMBER = re.compile(r"[0-9A-Za-z-]{1,32}")
_ICD10 = re.compile(r"[A-Z]\d{2}(\.[0-9A-Z]{1,4})?")
_PHONE = re.compile(r"\+?\d{7,15}")


def household_number(value: str) -> str:
    if not _HOUSEHOLD_NUMBER.fullmatch(value):
        raise ValueError(f"{value!r} is not a household number (up to 32 letters, digits or -)")
    return value


def icd10(value: str) -> str:
    code_text = value.upper()
    if not _ICD10.fullmatch(code_text):
        raise ValueError(f"{value!r} is not an ICD-10 code")
    return code_text


def term(value: str) -> str:
    """A school term `YYYY-YYYY-1` (autumn) or `YYYY-YYYY-2` (spring)."""
    try:
        Term.parse(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a term of the form YYYY-YYYY-1 or YYYY-YYYY-2") from None
    return value


def phone(value: str) -> str:
    compact = value.replace(" ", "").replace("-", "")
    if not _PHONE.fullmatch(compact):
        raise ValueError(f"{value!r} is not a phone number")
    return compact


def flag(value: str) -> bool:
    """0 / 1 as a boolean."""
    if value not in ("0", "1"):
        raise ValueError(f"{value!r} is not 0 or 1")
    return value == "1"


def bounded(low: int, high: int, what: str) -> Parser:
    def parse(value: str) -> int:
        number = integer(value)
        if not low <= number <= high:
            raise ValueError(f"{what} {number} is outside {low}-{high}")
        return number

    return parse
