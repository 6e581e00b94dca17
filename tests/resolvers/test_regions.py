"""Regions as the access model uses them: a division code as asked, the prefix it stands for, what it holds."""

from __future__ import annotations

import pytest

from resolvers.rules.regions import EVERYWHERE, Region


@pytest.mark.parametrize(
    ("text", "prefix"),
    [
        ("35", "35"),
        ("350", "350"),
        ("350000", "35"),
        ("350500", "3505"),
        ("350583", "350583"),
        ("350000000000", "35"),
        ("350583000000", "350583"),
        ("350583101000", "350583101"),
    ],
)
def test_a_region_as_asked_stands_for_its_prefix(text: str, prefix: str) -> None:
    assert Region.parse(text) == Region(prefix)


@pytest.mark.parametrize("text", ["3", "3505830000001", "35%", "３５", "35 05", ""])
def test_a_region_that_is_no_division_code_is_refused_with_a_message(text: str) -> None:
    with pytest.raises(ValueError, match="is not a division code or prefix \\(2 to 12 digits, e.g. 350583\\)"):
        Region.parse(text)


def test_regions_hold_intersect_and_split() -> None:
    quanzhou, nanan, anxi = Region("3505"), Region("350583"), Region("350524")
    assert nanan.covers("350583101201") and not nanan.covers("350524101201") and EVERYWHERE.covers("1")
    assert quanzhou.intersection(nanan) == nanan == nanan.intersection(quanzhou)
    assert nanan.intersection(anxi) is None
    assert quanzhou.within([anxi, nanan, Region("3601")]) == [anxi, nanan]
    assert nanan.within([quanzhou]) == [nanan]
    with pytest.raises(ValueError, match="division-code prefix"):
        Region("35_")
