"""Resident id numbers for the demo population: unique by construction, spelled as departments do."""

from __future__ import annotations

import datetime as dt
import random

from adapters.idnumber import check_char, to_legacy
from tools.demo.dates import LAST_DAY
from tools.demo.places import County

_FIRST_YEAR = 1900
_SPAN = LAST_DAY.year - _FIRST_YEAR + 1
# Coprime with 365, 366 and 326 (the days of 2026 up to LAST_DAY), so consecutive ids of one
# county and year walk through every day of the year before any day is used twice.
_STEP = 97
_SERIALS = 500  # the 3 sequence digits hold 500 numbers per gender
_YEAR_START = [dt.date(year, 1, 1).toordinal() for year in range(_FIRST_YEAR, LAST_DAY.year + 1)]
# Days on which someone born in each year can have been born (up to LAST_DAY in the current year).
_YEAR_DAYS = [
    min(dt.date(year, 12, 31), LAST_DAY).toordinal() - start + 1
    for year, start in zip(range(_FIRST_YEAR, LAST_DAY.year + 1), _YEAR_START, strict=True)
]


class IdIssuer:
    """Hands out 18-digit ids whose area code is the county, with the birth date and gender inside.

    Uniqueness needs no set of issued ids: the k-th id of a (county, birth year) gets day
    (k * 97 + offset) mod days-in-year and serial block k // days-in-year, so two ids of one county
    and year differ in the day or in the serial. Only one counter per county and year is kept.
    """

    def __init__(self, counties: int) -> None:
        self._issued = [0] * (counties * _SPAN)

    def issue(self, county: County, year: int, male: bool) -> tuple[str, dt.date]:
        offset = year - _FIRST_YEAR
        slot = county.index * _SPAN + offset
        k = self._issued[slot]
        self._issued[slot] = k + 1
        days = _YEAR_DAYS[offset]
        block = k // days
        if block >= _SERIALS:
            raise RuntimeError(f"more than {_SERIALS * days} persons born in {year} in county {county.code}")
        day = (k * _STEP + county.index * 37 + year) % days
        birth = dt.date.fromordinal(_YEAR_START[offset] + day)
        # Shifting the block by a function of the day keeps it injective per day and spreads serials.
        serial = (block + day * 13 + county.index * 29) % _SERIALS
        # %-formatting builds the string in one go: measurably faster than an f-string with five specs.
        first17 = "%s%04d%02d%02d%03d" % (county.code, year, birth.month, birth.day, serial * 2 + male)  # noqa: UP031
        return first17 + check_char(first17), birth


def spell(rng: random.Random, person_id: str, legacy: float = 0.0, lower: float = 0.35) -> str:
    """How one department row writes a canonical id: legacy 15 digits (born 19xx only) or lower-case x."""
    if legacy and rng.random() < legacy:
        old = to_legacy(person_id)
        if old is not None:
            return old
    if person_id[17] == "X" and rng.random() < lower:
        return person_id[:17] + "x"
    return person_id


def wrong_check(rng: random.Random, person_id: str) -> str:
    """The id with a check character that is not the right one (a typing error)."""
    right = person_id[17]
    return person_id[:17] + rng.choice([c for c in "0123456789X" if c != right])


def impossible_birth(rng: random.Random, person_id: str) -> str:
    """The id with an impossible birth date inside (month 13, day 32 or 30 February) and a valid check."""
    year = person_id[6:10]
    month_day = rng.choice(("1305", "0230", "0032", "1232", "0000"))
    first17 = person_id[:6] + year + month_day + person_id[14:17]
    return first17 + check_char(first17)
