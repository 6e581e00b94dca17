"""The event kinds the hub sends by webhook: each named once, with the purpose its payloads are presented under.

A feature that raises events adds its kinds to `KINDS`, one entry each. A literal dict rather than a
`register()` each feature calls when it is imported: the registry is then the same in every process,
whatever that process happened to import. `aidgraph webhooks add` checks a client's purposes against
it without loading any feature, and a dispatcher audits a delivery under its kind's purpose however the
hub was started; with `register()` either would see only the kinds of the features imported so far.

The rules, in one place each:

- a kind that is not registered is never queued (`webhooks.queue.enqueue`);
- a client receives a kind only while it may declare the kind's purpose (`refused_purposes`): checked
  when it subscribes, when a feature looks for its changes, and before each send.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class EventKind:
    name: str  # the body's "type", e.g. `student.eligible`
    purpose: str  # the policy purpose its payloads are presented under; its receivers must be allowed it
    description: str


class UnknownEventKind(ValueError):
    """An event of a kind no feature registered: nothing of it is queued or sent."""


def _kind(name: str, *, purpose: str, description: str) -> tuple[str, EventKind]:
    return name, EventKind(name, purpose, description)


KINDS: Final[dict[str, EventKind]] = dict(
    [
        # The student-aid feature (resolvers/students/changes.py): being announced reveals why a student
        # qualifies, so only a client allowed the student-aid purpose is told.
        _kind("student.eligible", purpose="student-aid", description="a student newly qualifies for aid in a term"),
        _kind(
            "student.no_longer_eligible",
            purpose="student-aid",
            description="a student who qualified for aid in a term no longer does",
        ),
        # Early warning (casework/warnings/): an alert names a household at risk of returning to poverty
        # and why, which only a client working its cases may be told.
        _kind(
            "alert.raised",
            purpose="case-management",
            description="an early warning of return to poverty was raised for a household",
        ),
    ]
)


def event_kind(name: str) -> EventKind:
    try:
        return KINDS[name]
    except KeyError:
        known = ", ".join(KINDS)
        raise UnknownEventKind(f"event kind {name!r} is not registered (known: {known})") from None


def refused_purposes(allowed: Iterable[str], kinds: Iterable[str]) -> tuple[str, ...]:
    """The purposes of `kinds` that a client allowed the purposes `allowed` may not declare (in kind order).

    Empty: the client may receive every one of the kinds. A kind that is not registered raises.
    """
    permitted = set(allowed)
    refused = (event_kind(name).purpose for name in kinds)
    return tuple(dict.fromkeys(purpose for purpose in refused if purpose not in permitted))


def may_receive(allowed: Iterable[str], kind: str) -> bool:
    """Whether a client allowed the purposes `allowed` may be sent an event of `kind` (registered kinds only)."""
    return kind in KINDS and not refused_purposes(allowed, [kind])


def named_purposes(purposes: Iterable[str]) -> str:
    """`the purpose 'student-aid'`, `the purposes 'a', 'b'`: for messages that name what a client lacks."""
    listed = [repr(purpose) for purpose in purposes]
    return f"the purpose {listed[0]}" if len(listed) == 1 else f"the purposes {', '.join(listed)}"
