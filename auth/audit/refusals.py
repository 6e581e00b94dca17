"""Refusals of requests without a valid token, counted in memory per (claimed client, source address, minute).

A flood of bad tokens must neither fill the trail nor slow the hub down: each such refusal only adds
one to a count here, on the event loop, and the hub's `AuditWriter` writes one `unauthenticated` event
per key and minute once the minute is over (and the rest at shutdown). The claimed client id is the
token's own, unverified word, so it goes into the event's detail, never into `client_id`, which only
ever names a client that proved who it is. Memory is bounded: past `max_keys` keys, further sources
are counted together (`MANY_SOURCES`), and past `MAX_REASONS` reasons per key, together as well; a
reason can carry the token's own text (`header <name> not accepted`), so it is cut and made printable.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from auth.audit.event import AuditEvent, Caller, audit_event

UNAUTHENTICATED: Final = "unauthenticated"
MAX_KEYS: Final = 1_000
MAX_REASONS: Final = 8
MAX_REASON_LENGTH: Final = 80
MANY_SOURCES: Final = "*"
"""The address of the key that counts the sources beyond `max_keys`."""
OTHER_REASONS: Final = "other reasons"
_ADDRESS_LENGTH: Final = 64


@dataclass(frozen=True)
class RefusalKey:
    claimed_client_id: str | None
    address: str | None
    minute: datetime  # UTC, seconds cut off


Tally = dict[RefusalKey, Counter[str]]


class RefusalCounts:
    """The counts of one worker since they were last written. Used from the event loop only."""

    def __init__(self, *, max_keys: int = MAX_KEYS) -> None:
        self._max_keys = max_keys
        self._counts: Tally = {}

    def __len__(self) -> int:
        return len(self._counts)

    def count(self, *, claimed_client_id: str | None, address: str | None, reason: str, at: datetime) -> None:
        minute = at.astimezone(UTC).replace(second=0, microsecond=0)
        key = RefusalKey(claimed_client_id, address[:_ADDRESS_LENGTH] if address else None, minute)
        if key not in self._counts and len(self._counts) >= self._max_keys:
            key = RefusalKey(None, MANY_SOURCES, minute)
        reasons = self._counts.setdefault(key, Counter())
        reason = _printable(reason)
        if reason not in reasons and len(reasons) >= MAX_REASONS:
            reason = OTHER_REASONS
        reasons[reason] += 1

    def take(self, *, before: datetime | None) -> Tally:
        """Remove and return the counts of the minutes before `before` (all of them when None)."""
        taken = {key: reasons for key, reasons in self._counts.items() if before is None or key.minute < before}
        for key in taken:
            del self._counts[key]
        return taken

    def put_back(self, taken: Tally) -> None:
        """Return counts that could not be written, to be written with the next ones."""
        for key, reasons in taken.items():
            self._counts.setdefault(key, Counter()).update(reasons)


def refusal_event(key: RefusalKey, reasons: Counter[str]) -> AuditEvent:
    """One minute's refusals from one source: `N refusals: reason (n), ...; token claims client X; from A`."""
    listed = ", ".join(f"{reason} ({count})" for reason, count in sorted(reasons.items(), key=lambda i: (-i[1], i[0])))
    total = sum(reasons.values())
    detail = f"{total} refusal{'' if total == 1 else 's'}: {listed}"
    if key.claimed_client_id is not None:
        detail += f"; token claims client {key.claimed_client_id}"
    detail += f"; from {_source(key.address)}"
    return audit_event(
        UNAUTHENTICATED,
        caller=Caller(),  # nobody proved who they are
        actor=None,
        operation=None,
        document_hash=None,
        detail=detail,
        at=key.minute,
    )


def _printable(reason: str) -> str:
    shown = "".join(character if character.isprintable() else "?" for character in reason[: MAX_REASON_LENGTH + 1])
    return shown if len(shown) <= MAX_REASON_LENGTH else shown[: MAX_REASON_LENGTH - 1] + "…"


def _source(address: str | None) -> str:
    if address is None:
        return "an unknown address"
    if address == MANY_SOURCES:
        return "more sources than are counted apart"
    return address
