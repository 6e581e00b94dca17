"""The special categories of seed 003, minors under 14 and HIV diagnoses: one definition, as Python and as SQL.

A minor's identity and an HIV diagnosis are `special` (DESIGN §3): the policy shows them only where the
`special` label is granted. Both tests are written here once, from the same constants, as a predicate
on one value (the policy applies it object by object) and as a SQLAlchemy condition on a column (for
set-based work over a region, which must single out exactly the same people).

- **Minor**: under `MINOR_AGE` on the day asked, by the birth date inside the resident id (digits 7-14).
  The store holds canonical 18-character ids only; the Python test counts an id whose birth date
  cannot be read as a minor, the stricter case.
- **HIV**: an ICD-10 code of HIV disease (B20-B24), asymptomatic HIV infection status (Z21),
  laboratory evidence of HIV (R75) or HIV disease complicating pregnancy, childbirth and the
  puerperium (O98.7), with any sub-code or national extension (B20.1, O98.700x001), the dot
  written or not, in either case. O98.1 (syphilis in pregnancy) is not HIV.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import sqlalchemy as sa

MINOR_AGE: Final = 14
HIV_CODES: Final = ("B20", "B21", "B22", "B23", "B24", "Z21", "R75", "O98.7")

# Every way a code of the list begins once written out: a sub-code after a dot (O98.7) may also be
# written without it (O987); the three-character categories cover their sub-codes as they are.
_HIV_PREFIXES: Final = tuple(dict.fromkeys(form for code in HIV_CODES for form in (code, code.replace(".", ""))))


def is_hiv(code: str | None) -> bool:
    """Whether a diagnosis code is one of HIV_CODES or below one (B20.1 yes, O98.7 yes, O98.1 no)."""
    if code is None:
        return False
    # strip(" ") and upper() do what SQL's trim() and upper() do to the ASCII an ICD-10 code is made of.
    return code.strip(" ").upper().startswith(_HIV_PREFIXES)


def hiv_condition(column: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """`column` holds an HIV code: is_hiv as SQL (false, never NULL, for a NULL column)."""
    code = sa.func.upper(sa.func.trim(column))
    return sa.and_(column.is_not(None), sa.or_(*(code.like(f"{prefix}%") for prefix in _HIV_PREFIXES)))


def _latest_minor_birth(today: dt.date) -> str:
    # Under MINOR_AGE exactly when born after this day (YYYYMMDD): the birthday falls on it at the
    # latest. Compared as text, so 29 February needs no date arithmetic.
    return f"{today.year - MINOR_AGE:04d}{today.month:02d}{today.day:02d}"


def is_minor(id_number: str, today: dt.date) -> bool:
    """Whether the holder of a canonical 18-character id is under MINOR_AGE on `today`."""
    born = id_number[6:14]
    if len(id_number) != 18 or not (born.isascii() and born.isdigit()):
        return True
    try:
        dt.date(int(born[:4]), int(born[4:6]), int(born[6:]))
    except ValueError:
        return True
    return born > _latest_minor_birth(today)


def minor_condition(id_column: sa.ColumnElement[str], today: dt.date) -> sa.ColumnElement[bool]:
    """`id_column` holds the canonical id of a minor on `today`: is_minor as SQL (false for a NULL column)."""
    return sa.and_(id_column.is_not(None), sa.func.substr(id_column, 7, 8) > _latest_minor_birth(today))
