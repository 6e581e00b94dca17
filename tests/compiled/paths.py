"""Two hubs over one demo store, one answering registered operations by their compiled plans and one by
graphql-core's executor, and the comparison of what each answered and recorded for the same request.

What is compared is everything the caller and the trail get: the status, the media type and the parsed
JSON body (data, errors, extensions), and every audit event the request wrote, column by column but
for those that differ between any two requests (the sequence number, the time, the chain's hashes),
with the event's subject rows. Which path each hub took is read from `aidgraph_execution_paths`, so a
comparison cannot pass by both hubs running the executor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
import sqlalchemy as sa
from graphql import GraphQLError
from starlette.testclient import TestClient

from adapters.breaker import CircuitBreaker
from adapters.catalog import DEPARTMENTS
from adapters.sources import GuardedSource, SourceUnavailable
from adapters.store import LoadRequest, Record
from auth import metrics
from auth.audit.rows import select_stored_rows
from auth.hub_keys import CURSOR_KEY, hub_key
from auth.tables import audit_event, audit_subject
from registered.operations import add_operations
from registered.served import RegisteredOperations
from resolvers import households
from resolvers.cursors import CursorKind, Cursors
from schema import audit, casework, create_schema, students

# Different for any two requests, whichever path answered: where the event sits in the chain, and when.
VARYING_COLUMNS = frozenset({"seq", "at", "prev_hash", "hash"})
COMPARED_COLUMNS = tuple(column.name for column in audit_event.c if column.name not in VARYING_COLUMNS)
COMPILED = "compiled"
EXECUTOR = "executor"
ACTOR = "caseworker-li"  # a mutation names the person it is made for; a read ignores the header
CURSOR_KINDS: tuple[CursorKind, ...] = (
    households.CURSOR,
    students.CURSOR,
    audit.CURSOR,
    casework.RUN_CURSOR,
    casework.ALERT_CURSOR,
)
CURSOR_KEYS = frozenset({"cursor", "startCursor", "endCursor"})


@dataclass(frozen=True)
class Profile:
    """An access profile of the demo: a demo client (its role and regions) with one of its purposes."""

    client_id: str
    role: str
    purpose: str
    regions: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.client_id} / {self.purpose}"


@dataclass(frozen=True)
class Answer:
    """What one hub answered to one request, and what it recorded and counted."""

    status: int
    media_type: str
    body: Any
    events: tuple[dict[str, Any], ...]
    paths: Mapping[tuple[str, str], float]  # (path, reason) -> how many operations took it in this request

    @property
    def compiled(self) -> bool:
        return self.paths.get((COMPILED, ""), 0) == 1 and sum(self.paths.values()) == 1

    def executor(self, reason: str) -> bool:
        """Whether the executor answered, for a reason that starts with `reason` (the compiler's words)."""
        [(path, why)] = self.paths if len(self.paths) == 1 else [("", "")]
        return path == EXECUTOR and why.startswith(reason) and self.paths[(path, why)] == 1


def differences(compiled: Answer, executor: Answer) -> list[str]:
    """Where two answers to the same request differ, each as one line naming the place; empty when alike."""
    found: list[str] = []
    if compiled.status != executor.status:
        found.append(f"status: compiled {compiled.status}, executor {executor.status}")
    if compiled.media_type != executor.media_type:
        found.append(f"media type: compiled {compiled.media_type!r}, executor {executor.media_type!r}")
    found += [f"body{place}" for place in _json_differences(compiled.body, executor.body)]
    if len(compiled.events) != len(executor.events):
        found.append(f"audit events: compiled wrote {len(compiled.events)}, executor {len(executor.events)}")
    for number, (mine, theirs) in enumerate(zip(compiled.events, executor.events, strict=False)):
        for column in mine:
            if mine[column] != theirs[column]:
                found.append(f"audit event {number} {column}: compiled {mine[column]!r}, executor {theirs[column]!r}")
    return found


def _json_differences(mine: Any, theirs: Any, place: str = "") -> Iterator[str]:
    # Bodies are compared as parsed JSON: the order of an object's keys is the response's own (GraphQL
    # answers fields in the document's order), so it is compared too.
    if isinstance(mine, dict) and isinstance(theirs, dict):
        if list(mine) != list(theirs):
            yield f"{place}: keys compiled {list(mine)}, executor {list(theirs)}"
        for key in mine:
            if key in theirs:
                yield from _json_differences(mine[key], theirs[key], f"{place}.{key}")
            else:
                yield f"{place}.{key}: compiled only, {mine[key]!r}"
        for key in theirs.keys() - mine.keys():
            yield f"{place}.{key}: executor only, {theirs[key]!r}"
    elif isinstance(mine, list) and isinstance(theirs, list):
        if len(mine) != len(theirs):
            yield f"{place}: compiled {len(mine)} items, executor {len(theirs)}"
        for index, (one, other) in enumerate(zip(mine, theirs, strict=False)):
            yield from _json_differences(one, other, f"{place}[{index}]")
    elif mine != theirs or type(mine) is not type(theirs):
        yield f"{place}: compiled {mine!r}, executor {theirs!r}"


class Clock:
    """The registered operations' clock of both hubs: moved on by a registration, so both serve it at once."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class TwoPaths:
    """The compiled hub and the executor's hub, over one store, with a token per demo access profile."""

    def __repr__(self) -> str:  # what a failing example prints of it
        return f"TwoPaths({self.backend})"

    backend: str
    engine: sa.Engine
    compiled: TestClient
    executor: TestClient
    profiles: tuple[Profile, ...]
    tokens: dict[Profile, str]
    clock: Clock = field(default_factory=Clock)
    _seq: int | None = None  # the newest audit event seen: requests are made one at a time, by these tests only

    def __post_init__(self) -> None:
        schema = create_schema()
        for http in (self.compiled, self.executor):
            # the hubs' own lists of registered operations are read every 5 s: these, when the test says
            http.app_state["registered"] = RegisteredOperations(self.engine, schema, clock=self.clock)

    def register(self, text: str) -> dict[str, str]:
        """Register every operation of `text` for every client: their ids by operation name."""
        added = add_operations(self.engine, text, by="differential-tests")
        self._seq = None  # the registration's own event is no request's
        self.clock.now += 5.0
        return {operation.operation_name: operation.document_id for operation in added}

    def ask_both(
        self, profile: Profile, document_id: str, variables: Mapping[str, Any] | None, *, apollo: bool = False
    ) -> tuple[Answer, Answer]:
        """The same request to the compiled hub, then to the executor's: what each answered. `apollo`: the id
        sent in Apollo's persisted-query extension instead of `documentId`."""
        body: dict[str, Any] = {"documentId": document_id}
        if apollo:
            body = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": document_id.removeprefix("sha256:")}}}
        if variables is not None:
            body["variables"] = dict(variables)
        return self.ask(self.compiled, profile, body), self.ask(self.executor, profile, body)

    def ask(self, http: TestClient, profile: Profile, body: Mapping[str, Any]) -> Answer:
        headers = {"Authorization": f"Bearer {self.tokens[profile]}", "X-Actor": ACTOR}
        seen = self._last_seq() if self._seq is None else self._seq
        paths_before = _paths()
        try:
            response: httpx2.Response = http.post("/graphql", json=dict(body), headers=headers)
        except Exception:
            self._seq = None  # what the failed request wrote is no later request's
            raise
        paths_after = _paths()
        cursors = Cursors(lambda: hub_key(self.engine, CURSOR_KEY), client_id=profile.client_id)
        counted = {key: paths_after[key] - paths_before.get(key, 0) for key in paths_after}
        return Answer(
            status=response.status_code,
            media_type=response.headers.get("content-type", ""),
            body=self._comparable(response.json(), cursors, response.headers.get("x-request-id", "")),
            events=self._events_after(seen),
            paths={key: count for key, count in counted.items() if count},
        )

    @contextmanager
    def source_failing(self, department: str) -> Iterator[None]:
        """While the block runs, each hub reads `department` from a live source of its own that always fails."""
        for http in (self.compiled, self.executor):
            http.app_state["live_sources"][department] = FailingSource(department)
        try:
            yield
        finally:
            for http in (self.compiled, self.executor):
                del http.app_state["live_sources"][department]

    def _comparable(self, body: Any, cursors: Cursors, request_id: str) -> Any:
        """The body with what differs between any two requests made alike: each cursor opened to its list
        and position (a cursor is sealed with a fresh nonce each time, resolvers/cursors.py), and the
        request's own id (an error's `requestId`, and its message) written as `<request id>`."""
        if isinstance(body, list):
            return [self._comparable(item, cursors, request_id) for item in body]
        if isinstance(body, str):
            return body.replace(request_id, "<request id>") if request_id else body
        if not isinstance(body, dict):
            return body
        return {
            key: _open(cursors, value)
            if key in CURSOR_KEYS and isinstance(value, str)
            else self._comparable(value, cursors, request_id)
            for key, value in body.items()
        }

    def _last_seq(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(sa.select(sa.func.coalesce(sa.func.max(audit_event.c.seq), 0))).scalar_one())

    def _events_after(self, seq: int) -> tuple[dict[str, Any], ...]:
        with self.engine.connect() as connection:
            # the lists as the writer was given them, whether the row holds them or names their profile
            stored = select_stored_rows()
            rows = connection.execute(stored.where(audit_event.c.seq > seq).order_by(audit_event.c.seq)).mappings()
            events = [dict(row) for row in rows]
            subjects = connection.execute(
                sa.select(audit_subject.c.seq, audit_subject.c.subject).where(audit_subject.c.seq > seq)
            ).all()
        self._seq = events[-1]["seq"] if events else seq
        by_event: dict[int, list[str]] = {}
        for row in subjects:
            by_event.setdefault(row.seq, []).append(row.subject)
        return tuple(
            {
                **{column: event[column] for column in COMPARED_COLUMNS},
                "subject rows": sorted(by_event.get(event["seq"], [])),
            }
            for event in events
        )


class FailingSource(GuardedSource):
    """A department's system that never answers. Its breaker never opens, so that when each hub's would
    (a time, not a count) cannot tell the two hubs apart: either way the department's part is lost."""

    kind = "database"

    def __init__(self, department: str) -> None:
        super().__init__(DEPARTMENTS[department], breaker=CircuitBreaker(failures_to_open=1_000_000))

    async def fetch(self, requests: Sequence[LoadRequest]) -> list[dict[str, list[Record]]]:
        return self.fetch_now(requests)

    def fetch_now(self, requests: Sequence[LoadRequest]) -> list[dict[str, list[Record]]]:
        with self._guarded():
            raise SourceUnavailable(self.department.name, "the test's source never answers")

    def dispose(self) -> None:
        pass


def _open(cursors: Cursors, cursor: str) -> str:
    for kind in CURSOR_KINDS:
        try:
            return f"{kind.name} cursor at {cursors.open(kind, cursor)}"
        except GraphQLError:
            continue
    return cursor  # not a cursor the hub made for this client: compared as it is


def _paths() -> Counter[tuple[str, str]]:
    """The process's `aidgraph_execution_paths` counts: both hubs run in this process, one request at a time."""
    counts: Counter[tuple[str, str]] = Counter()
    for family in metrics.series().execution_paths.collect():
        for sample in family.samples:
            if sample.name.endswith("_total"):
                counts[(sample.labels["path"], sample.labels["reason"])] = sample.value
    return counts
