"""What the trail records of one request or change: `AuditEvent`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


class AuditUnavailable(Exception):
    """The event could not be written; the request it describes must fail."""


@dataclass(frozen=True, kw_only=True)
class AuditEvent:
    """What one request did, as its caller knows it.

    `subjects` are the resident ids the answer returned (any spelling); they are stored only as
    pseudonyms. `revealed`, `masked` and `withheld` name fields as `Type.field`. `outcome` is a short
    word such as `ok`, `partial` (some fields withheld or sources failed) or `refused`; `detail` says
    why, in words (a refusal's reason). `actor` is the person who acted, when one did (a command's
    `--by`), beside the client the request came from. Lists are stored sorted and without repeats;
    text longer than its column is cut, marked with `…`.
    """

    at: datetime
    client_id: str | None
    outcome: str
    actor: str | None = None
    roles: Sequence[str] = ()
    purpose: str | None = None
    case_id: str | None = None
    operation: str | None = None
    document_hash: str | None = None
    subjects: Sequence[str] = ()
    revealed: Sequence[str] = ()
    masked: Sequence[str] = ()
    withheld: Sequence[str] = ()
    detail: str | None = None
    policy_version: int | None = None
