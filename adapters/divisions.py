"""Names of administrative divisions (GB/T 2260) the hub reports by; the demo city's counties."""

from __future__ import annotations

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
    """Known counties inside a division-code prefix (`35`, `3505`, `350583`, ...)."""
    prefix = prefix_of(region)[:6]
    return sorted(code for code in COUNTY_NAMES if code.startswith(prefix))


def prefix_of(code: str) -> str:
    """The prefix a division code stands for: trailing zero levels name the level above.

    `350000` (Fujian) -> `35`, `350500` (Quanzhou) -> `3505`, `350583101000` (a township) -> `350583101`.
    Prefixes given as such (`3505`) are returned unchanged.
    """
    if len(code) == 12:
        for cut in (9, 6):
            if code[cut:] == "0" * (12 - cut):
                code = code[:cut]
    if len(code) == 6:
        for cut in (4, 2):
            if code[cut:] == "0" * (6 - cut):
                code = code[:cut]
    return code
