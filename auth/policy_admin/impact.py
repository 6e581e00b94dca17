"""Impact before publishing: the requests of the last days replayed against a draft, counted per client.

Each event of a read records the client's roles, the purpose and the fields it revealed, masked and
withheld (`Type.field`), so no query text or variables are needed: for each of those fields the replay
asks what the draft would do with it, for the same roles and purpose. A request is

- **broken** when a field it was shown (in full or masked) would be withheld,
- **widened** when a field withheld would be shown, or a masked one shown in full,
- **narrowed** when a field shown in full would be masked;

one request can be widened and narrowed at once. Events that record no field (refusals, counted
sign-in failures, policy changes, dry runs of drafts) are skipped and counted as such. The trail is
read through `auth.audit.events_in_window`, so a change of how events are stored does not break this.

Special values are decided value by value (a minor's id): a field recorded as withheld while its rule
showed it was withheld for such values. Where the event's own policy version gives the field the
outcome the draft gives it, the field is unchanged, whatever was recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

import sqlalchemy as sa

from auth.audit import AccessLogEntry, events_in_window
from auth.entry_points import is_entry_point
from auth.policy import CompiledPolicy, PolicyView
from auth.policy_admin.drafts import PolicyAdminError
from auth.policy_store import stored_policy

EXAMPLES: Final = 3
"""Fields named per client and kind of change: enough to see what a change does, short enough to read."""
NOT_REPLAYED: Final = frozenset({"dry-run"})
"""Outcomes that record fields but were not answered under a live version (a dry run's draft)."""
_RANK: Final = {"withheld": 0, "masked": 1, "revealed": 2}


@dataclass
class ClientImpact:
    """What the draft would have done to one client's requests."""

    client_id: str | None
    requests: int = 0
    broken: int = 0
    widened: int = 0
    narrowed: int = 0
    broken_fields: list[str] = field(default_factory=list)  # up to EXAMPLES each, first seen first
    widened_fields: list[str] = field(default_factory=list)
    narrowed_fields: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Impact:
    draft_version: int
    since: datetime
    until: datetime
    replayed: int  # events with fields, replayed against the draft
    skipped: int  # events with no fields, or not answered under a live version
    clients: tuple[ClientImpact, ...]  # by client id


def impact(engine: sa.Engine, draft_version: int, *, days: int = 7, now: datetime | None = None) -> Impact:
    """Replay the events of the `days` days before `now` against version `draft_version` (of any status)."""
    if days < 1:
        raise PolicyAdminError("--days must be at least 1")
    with engine.connect() as connection:
        stored = stored_policy(connection, draft_version)
    if stored is None:
        raise PolicyAdminError(f"no policy version {draft_version}")
    draft = CompiledPolicy(stored.policy, stored.version)
    until = now if now is not None else datetime.now(UTC)
    since = until - timedelta(days=days)
    replay = _Replay(engine, draft)
    for event in events_in_window(engine, since=since, until=until):
        replay.add(event)
    clients = tuple(replay.clients[key] for key in sorted(replay.clients, key=lambda key: key or ""))
    return Impact(
        draft_version=draft_version, since=since, until=until, replayed=replay.replayed, skipped=replay.skipped,
        clients=clients,
    )  # fmt: skip


class _Replay:
    def __init__(self, engine: sa.Engine, draft: CompiledPolicy) -> None:
        self._engine = engine
        self._draft = draft
        self._versions: dict[int, CompiledPolicy | None] = {}
        self.clients: dict[str | None, ClientImpact] = {}
        self.replayed = 0
        self.skipped = 0

    def add(self, event: AccessLogEntry) -> None:
        recorded = _recorded(event)
        if not recorded or event.purpose is None or event.outcome in NOT_REPLAYED:
            self.skipped += 1
            return
        self.replayed += 1
        roles = frozenset(event.roles)
        after = self._draft.view(roles, event.purpose)
        answered = self._version(event.policy_version)
        before = answered.view(roles, event.purpose) if answered is not None else None
        client = self.clients.setdefault(event.client_id, ClientImpact(event.client_id))
        client.requests += 1
        broken, widened, narrowed = [], [], []
        for target, was in recorded.items():
            will = outcome_under(after, target)
            if before is not None and outcome_under(before, target) == will:
                continue  # the draft decides this field as the version that answered did
            if _RANK[will] < _RANK[was] and will == "withheld":
                broken.append(target)
            elif _RANK[will] > _RANK[was]:
                widened.append(target)
            elif will == "masked" and was == "revealed":
                narrowed.append(target)
        for count, fields, examples in (
            ("broken", broken, client.broken_fields),
            ("widened", widened, client.widened_fields),
            ("narrowed", narrowed, client.narrowed_fields),
        ):
            if fields:
                setattr(client, count, getattr(client, count) + 1)
                _note(examples, fields)

    def _version(self, version: int | None) -> CompiledPolicy | None:
        if version is None:
            return None
        if version not in self._versions:
            with self._engine.connect() as connection:
                stored = stored_policy(connection, version)
            self._versions[version] = CompiledPolicy(stored.policy, version) if stored is not None else None
        return self._versions[version]


def outcome_under(view: PolicyView, target: str) -> str:
    """What a view does with `Type.field` (or an entry point recorded among the fields: being on a list)."""
    if is_entry_point(target):
        return "revealed" if target in view.entry_points else "withheld"
    type_name, _, field_name = target.partition(".")
    type_view = view.types.get(type_name)
    if type_view is None or field_name not in type_view.outcome:
        return "withheld"  # a field the schema no longer has is answered by no version
    return type_view.outcome[field_name]


def _recorded(event: AccessLogEntry) -> dict[str, str]:
    """Each field the event names, with the most revealing outcome it had (a field can have several)."""
    found: dict[str, str] = {}
    for outcome, fields in (("withheld", event.withheld), ("masked", event.masked), ("revealed", event.revealed)):
        for target in fields:
            found[target] = outcome
    return found


def _note(examples: list[str], fields: Iterable[str]) -> None:
    for target in fields:
        if len(examples) >= EXAMPLES:
            return
        if target not in examples:
            examples.append(target)
