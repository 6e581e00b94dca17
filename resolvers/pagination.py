"""Page sizes and the region argument shared by every connection (cursors: resolvers.cursors)."""

from __future__ import annotations

from adapters import divisions
from resolvers.records import bad_input

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
    if not (2 <= len(region) <= 12 and region.isdigit()):
        raise bad_input(f"region: {region!r} is not a division code or prefix (2 to 12 digits, e.g. 350583)")
    return divisions.prefix_of(region)
