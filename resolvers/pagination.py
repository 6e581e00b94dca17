"""Page sizes and the region argument shared by every connection (cursors: resolvers.cursors)."""

from __future__ import annotations

from resolvers.records import bad_input
from resolvers.rules.regions import Region

DEFAULT_PAGE = 20
MAX_PAGE = 100


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if not 0 <= first <= MAX_PAGE:
        raise bad_input(f"first: {first} is outside 0-{MAX_PAGE}")
    return first


def region_prefix(region: str) -> str:
    """A division code or prefix, 2 (province) to 12 (village) digits; `350500` means all of `3505`."""
    try:
        return Region.parse(region).prefix
    except ValueError as error:
        raise bad_input(f"region: {error}") from None
