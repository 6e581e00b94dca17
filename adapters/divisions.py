"""Names of administrative divisions (GB/T 2260) the hub reports by; the demo city's counties."""

from __future__ import annotations

from resolvers.rules.regions import Region

COUNTY_NAMES: dict[str, str] = {
    "350502": "鲤城区",
    "350503": "丰泽区",
    "350504": "洛江区",
    "350505": "泉港区",
    "350521": "惠安县",
    "350524": "安溪县",
    "350525": "永春县",
    "350526": "德化县",
    "350581": "石狮市",
    "350582": "晋江市",
    "350583": "南安市",
}


def counties_under(region: str) -> list[str]:
    """Known counties that overlap a division-code prefix (`35`, `3505`, `350583`, `350583101`, ...)."""
    asked = Region.of(region)
    return sorted(code for code in COUNTY_NAMES if asked.overlaps(Region(code)))
