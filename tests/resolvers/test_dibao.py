"""Dibao coverage says what docs/domain.md says: whom an award covers, and through its gradual exit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from resolvers.rules import dibao

HOUSEHOLD, OTHER_HOUSEHOLD = "350583000001", "350583000002"
CHILD, GRANDMOTHER = "350583201501010011", "350583194501010022"


def _award(coverage: str, household: str, named: str | None, **dates: dt.date | None) -> dict[str, Any]:
    start = dates.get("start", dt.date(2025, 1, 1))
    return {
        "record_key": f"{household}|{coverage}|{named or ''}|{start}",
        "household_number": household,
        "coverage": coverage,
        "id_number": named,
        "start_date": start,
        "end_date": dates.get("end"),
        "gradual_exit_until": dates.get("exit_until"),
    }


def test_a_person_is_covered_by_the_household_s_awards_and_the_single_ones_naming_them() -> None:
    # given the child's household award, the child's own award filed under the household, the
    # grandmother's own award, and a whole-household award elsewhere that happens to name the child
    household_award = _award("WHOLE_HOUSEHOLD", HOUSEHOLD, None)
    own = _award("SINGLE_PERSON", HOUSEHOLD, CHILD)
    grandmother = _award("SINGLE_PERSON", HOUSEHOLD, GRANDMOTHER)
    elsewhere = _award("WHOLE_HOUSEHOLD", OTHER_HOUSEHOLD, CHILD)
    # when the child's awards are looked up by household and by id (the own award is found both ways)
    of_household, named = [own, household_award, grandmother], [own, elsewhere]
    covering = dibao.covering([*of_household, *named], id_number=CHILD, household_number=HOUSEHOLD)
    # then the household's award comes first, then the child's own, once; no one else's
    assert covering == [household_award, own]


@pytest.mark.parametrize(
    ("end", "exit_until", "in_force"),
    [
        (None, None, True),
        (dt.date(2026, 9, 1), None, True),  # ends on the day
        (dt.date(2026, 8, 31), None, False),
        (dt.date(2026, 8, 31), dt.date(2026, 9, 1), True),  # its gradual exit ends on the day
        (dt.date(2026, 8, 31), dt.date(2026, 8, 31), False),
    ],
)
def test_an_award_is_in_force_through_its_gradual_exit(
    end: dt.date | None, exit_until: dt.date | None, in_force: bool
) -> None:
    award = _award("WHOLE_HOUSEHOLD", HOUSEHOLD, None, end=end, exit_until=exit_until)
    assert dibao.covered_on(award, id_number=CHILD, household_number=HOUSEHOLD, day=dt.date(2026, 9, 1)) is in_force
    # and nothing is in force before it starts
    assert dibao.in_force(award, day=dt.date(2024, 12, 31)) is False
