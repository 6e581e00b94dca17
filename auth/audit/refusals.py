"""Refusals of callers who proved nothing, counted in memory per (what, claimed name, source address, minute).

Two kinds are counted: requests without a valid token (`unauthenticated`), and failed sign-ins to the
console (`console-sign-in-failed`: a wrong name, password or code). A flood of either must neither
fill the trail nor slow the hub down: each such refusal only adds one to a count here, and the hub's
`AuditWriter` writes one event per key and minute once the minute is over (and the rest at shutdown).
The claimed client id (the token's own, unverified word) or the claimed person's name goes into the
event's detail, never into `client_id` or `actor`, which only ever name someone who proved who they
are. Memory is bounded: past `max_keys` keys, further sources are counted together (`MANY_SOURCES`),
and past `MAX_REASONS` reasons per key, together as well; a reason can carry the token's own text
(`header <name> not accepted`), so it is cut and made printable. Counting is thread-safe: a sign-in
is checked in a worker thread (scrypt), a token on the event loop.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from auth.audit.event import AuditEvent, Caller, audit_event

UNAUTHENTICATED: Final = "unauthenticated"
CONSOLE_SIGN_IN_FAILED: Final = "console-sign-in-failed"
MAX_KEYS: Final = 1_000
MAX_REASONS: Final = 8
MAX_REASON_LENGTH: Final = 80
MANY_SOURCES: Final = "*"
"""The address of the key that counts the sources beyond `max_keys`."""
OTHER_REASONS: Final = "other reasons"
_ADDRESS_LENGTH: Final = 64


@dataclass(frozen=True)
class _Words:
    noun: str  # of one refusal
    claims: str  # before the claimed name
    client_id: str | None  # the event's client: the surface refused on, never the claimed name


_WORDS: Final = {
    UNAUTHENTICATED: _Words("refusal", "token claims client", None),
    CONSOLE_SIGN_IN_FAILED: _Words("failed sign-in", "name", "console"),
}


@dataclass(frozen=True)
class RefusalKey:
    outcome: str  # what is counted: UNAUTHENTICATED or CONSOLE_SIGN_IN_FAILED
    claimed: str | None  # the client id a token claims, or the registered name a sign-in gave
    address: str | None
    minute: datetime  # UTC, seconds cut off


Tally = dict[RefusalKey, Counter[str]]


class RefusalCounts:
    """The counts of one worker since they were last written."""

    def __init__(self, *, max_keys: int = MAX_KEYS) -> None:
        self._max_keys = max_keys
        self._counts: Tally = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._counts)

    def count(
        self,
        *,
        outcome: str = UNAUTHENTICATED,
        claimed: str | None,
        address: str | None,
        reason: str,
        at: datetime,
    ) -> None:
        if outcome not in _WORDS:
            raise ValueError(f"refusals of kind {outcome!r} are not counted")
        minute = at.astimezone(UTC).replace(second=0, microsecond=0)
        key = RefusalKey(outcome, claimed, address[:_ADDRESS_LENGTH] if address else None, minute)
        reason = _printable(reason)
        with self._lock:
            if key not in self._counts and len(self._counts) >= self._max_keys:
                key = RefusalKey(outcome, None, MANY_SOURCES, minute)
            reasons = self._counts.setdefault(key, Counter())
            if reason not in reasons and len(reasons) >= MAX_REASONS:
                reason = OTHER_REASONS
            reasons[reason] += 1

    def take(self, *, before: datetime | None) -> Tally:
        """Remove and return the counts of the minutes before `before` (all of them when None)."""
        with self._lock:
            taken = {key: reasons for key, reasons in self._counts.items() if before is None or key.minute < before}
            for key in taken:
                del self._counts[key]
        return taken

    def put_back(self, taken: Tally) -> None:
        """Return counts that could not be written, to be written with the next ones."""
        with self._lock:
            for key, reasons in taken.items():
                self._counts.setdefault(key, Counter()).update(reasons)


def refusal_event(key: RefusalKey, reasons: Counter[str]) -> AuditEvent:
    """One minute's refusals from one source: `N refusals: reason (n), ...; token claims client X; from A`
    (`N failed sign-ins: ...; name X; from A` for the console)."""
    words = _WORDS[key.outcome]
    listed = ", ".join(f"{reason} ({count})" for reason, count in sorted(reasons.items(), key=lambda i: (-i[1], i[0])))
    total = sum(reasons.values())
    detail = f"{total} {words.noun}{'' if total == 1 else 's'}: {listed}"
    if key.claimed is not None:
        detail += f"; {words.claims} {key.claimed}"
    detail += f"; from {_source(key.address)}"
    return audit_event(
        UNAUTHENTICATED if key.outcome == UNAUTHENTICATED else CONSOLE_SIGN_IN_FAILED,
        caller=Caller(client_id=words.client_id),  # nobody proved who they are
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
