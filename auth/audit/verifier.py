"""Checking the audit trail: each event's link (`content_digest`, `chain_hash`) and `verify`, naming a broken one.

The chain. Events are numbered 1, 2, 3... in one linear sequence (`seq`). Each stores `prev_hash`, the
`hash` of the event before it (64 zeros for the first), and its own `hash`:
`sha256(f"{seq}:{prev_hash}:{digest}")`, where `digest` is SHA-256 over a canonical serialisation of
every other stored column (`content_digest`, `chain_hash`).

Columns added after events were written (`actor`, migration 0007; `disclosure_key`, 0016) are covered
once set: an event that leaves one null is digested exactly as before the column existed, so events
written earlier still verify, while setting the column on any event, or clearing it on an event that had
it, changes the digest and is found.

What `verify` detects, walking the chain in `seq` order and naming the first broken link:
- an edited event: its stored hash no longer matches its contents (named: that seq); an editor who also
  recomputes the hash breaks the next event's `prev_hash` instead (named: the next seq);
- a deleted event in the middle, or the first ones: a gap in `seq` (named: the event after the gap);
- an event inserted out of chain: a `prev_hash` that is not its predecessor's hash, or a gap;
- a disclosure profile (`audit_disclosure`, auth/audit/profiles.py) edited, or gone: the event's hash
  covers the profile's key and the key is the digest of the profile's lists, so the lists are digested
  again and must give the key (named: the first event naming that profile);
- `audit_subject` rows that disagree with their event's subjects (a row removed to hide an access from
  `access_log`, or added to invent one), or that name no event (e.g. left behind by a deleted event).
What it cannot detect from the database alone:
- deleting the newest events (truncating the tail) with their subject rows: what remains is a valid,
  shorter chain. It is detected only against an anchor kept elsewhere: `verify` reports the head
  (`last_seq`, `last_hash`); record it outside the database (the CLI output in an external log, a
  ticket, a timestamping service) and pass it back as `anchor=(seq, hash)` later;
- rewriting the chain from some event on, hashes recomputed (the hash is unkeyed, so anyone able to
  write the tables can): again only an external anchor at or after that point shows it.
Append-only storage (migrations 0003 and 0007, see auth/audit/writer.py) makes both need a database
superuser or the tables' owner.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import orjson
import sqlalchemy as sa

from auth.audit.profiles import LISTS, disclosure_key
from auth.tables import audit_disclosure, audit_event, audit_subject

GENESIS_HASH: Final = "0" * 64

# The columns `chain_hash` covers, in the table's order: every stored column but `hash`. Spelled out so
# that adding a column is a decision about old events' hashes (a test holds this to the table).
HASHED_COLUMNS: Final = (
    "seq", "at", "client_id", "actor", "roles", "purpose", "case_id", "operation", "document_hash", "subjects",
    "revealed", "masked", "withheld", "disclosure_key", "outcome", "detail", "policy_version", "prev_hash",
)  # fmt: skip
# Columns added after events were written: digested only when set, so the events before them still verify.
HASHED_WHEN_SET: Final = frozenset({"actor", "disclosure_key"})
_KEYS_REMEMBERED: Final = 4096  # profiles found intact, not read nor digested again for every event naming them


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of `verify`.

    `events_checked` counts the events found intact before the first problem (all of them when `ok`).
    `first_bad_seq` and `problem` are the first broken link: its seq and what is wrong there, in words
    (None when `ok`). `last_seq` and `last_hash` are the head of the intact part: record them outside
    the database and pass them back as `verify(..., anchor=(last_seq, last_hash))` to detect a
    truncated tail later. `anchor` is the `(seq, hash)` the check was given, None when it had none:
    an `ok` report with an anchor says the anchored event is still there, unchanged.
    """

    ok: bool
    events_checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    anchor: tuple[int, str] | None = None


def content_digest(row: Mapping[Any, Any]) -> str:
    """SHA-256 (hex) of the event's contents: `HASHED_COLUMNS` but `seq` and `prev_hash` (and those of
    `HASHED_WHEN_SET` that are null), as JSON with keys sorted and `at` in UTC."""
    payload = {
        name: row[name]
        for name in HASHED_COLUMNS
        if name not in ("seq", "prev_hash") and not (name in HASHED_WHEN_SET and row.get(name) is None)
    }
    payload["at"] = utc(row["at"]).isoformat(timespec="microseconds")
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def chain_hash(row: Mapping[Any, Any]) -> str:
    """The event's link: `sha256(f"{seq}:{prev_hash}:{content_digest}")` (hex), as `audit_append` makes it."""
    return hashlib.sha256(f"{row['seq']}:{row['prev_hash']}:{content_digest(row)}".encode()).hexdigest()


def utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC instant, whichever backend returned it."""
    # SQLite hands back the naive UTC time it was given; PostgreSQL an aware one in the session's zone.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def verify(engine: sa.Engine, *, anchor: tuple[int, str] | None = None, batch_size: int = 1000) -> VerifyReport:
    """Walk the chain in seq order and name its first broken link (see the module docstring).

    Streams events and subject rows side by side (server-side cursors on PostgreSQL), so memory stays
    constant however long the trail. It checks the trail as it was when the check began.
    `anchor` is a `(seq, hash)` head recorded earlier: that event must still be there, unchanged.
    """
    with engine.connect() as connection:
        _read_snapshot(connection)  # the two streams see the same trail, however many appends meanwhile
        options = {"yield_per": batch_size}
        events = connection.execute(
            sa.select(*(audit_event.c[name] for name in (*HASHED_COLUMNS, "hash"))).order_by(audit_event.c.seq),
            execution_options=options,
        )
        subject_rows = connection.execute(
            sa.select(audit_subject.c.seq, audit_subject.c.subject).order_by(audit_subject.c.seq),
            execution_options=options,
        )
        with events, subject_rows:  # closes the server-side cursors when the walk stops early
            subjects = _Peekable((seq, subject) for seq, subject in subject_rows)
            return _walk(events.mappings(), subjects, anchor=anchor, profiles=_profile_reader(connection))


def parse_anchor(text: str) -> tuple[int, str]:
    """An anchor as verify prints its head, `SEQ:HASH` (the hash 64 lower-case hex digits); ValueError otherwise."""
    seq, _, digest = text.strip().partition(":")
    hexadecimal = len(digest) == 64 and all(character in "0123456789abcdef" for character in digest)
    if not seq.isdigit() or int(seq) < 1 or not hexadecimal:
        raise ValueError("an anchor is SEQ:HASH as an earlier verify printed it")
    return int(seq), digest


def format_report(report: VerifyReport) -> str:
    """One line for the command line."""
    anchored = f"; checked against the anchor seq {report.anchor[0]}" if report.anchor is not None else ""
    if report.ok and report.last_seq is None:
        return "audit trail ok: no events yet"
    if report.ok:
        return (
            f"audit trail ok: {report.events_checked} events checked; "
            f"head seq {report.last_seq} hash {report.last_hash}{anchored}"
        )
    return (
        f"audit trail BROKEN at seq {report.first_bad_seq}: {report.problem} "
        f"({report.events_checked} events before it are intact){anchored}"
    )


def _read_snapshot(connection: sa.Connection) -> None:
    """Make every statement of this transaction read one snapshot."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
    elif connection.dialect.name == "sqlite":
        # pysqlite opens no transaction for a SELECT; this one holds the read snapshot until rollback.
        connection.exec_driver_sql("BEGIN")


class _Peekable:
    """The `(seq, subject)` rows of audit_subject in seq order, looked at one ahead."""

    def __init__(self, rows: Iterator[tuple[int, str]]) -> None:
        self._rows = rows
        self._next: tuple[int, str] | None = next(rows, None)

    def peek(self) -> tuple[int, str] | None:
        return self._next

    def take(self) -> tuple[int, str]:
        row = self._next
        assert row is not None
        self._next = next(self._rows, None)
        return row


@dataclass
class _Walk:
    anchor: tuple[int, str] | None
    profiles: Callable[[str], Sequence[Sequence[str]] | None]  # a stored profile's lists, by key
    checked: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    anchor_seen: bool = False
    intact_profiles: set[str] = field(default_factory=set)

    def profile_problem(self, event: sa.RowMapping) -> str | None:
        """What is wrong with the profile the event names (its key is covered by the event's hash), if anything.

        Each profile is read and digested once (while remembered), not for every event naming it: a trail
        names a few hundred profiles in millions of events."""
        key = event["disclosure_key"]
        if key is None or key in self.intact_profiles:
            return None
        seq = event["seq"]
        lists = self.profiles(key)
        if lists is None:
            return f"seq {seq} names disclosure profile {key[:12]}..., which is not stored (deleted)"
        if disclosure_key(*lists) != key:
            return f"seq {seq}'s disclosure profile {key[:12]}... was edited: its lists no longer match its key"
        if len(self.intact_profiles) >= _KEYS_REMEMBERED:
            self.intact_profiles.clear()
        self.intact_profiles.add(key)
        return None

    def broken(self, seq: int, problem: str) -> VerifyReport:
        return VerifyReport(
            ok=False,
            events_checked=self.checked,
            first_bad_seq=seq,
            problem=problem,
            last_seq=self.last_seq or None,
            last_hash=self.last_hash if self.last_seq else None,
            anchor=self.anchor,
        )


def _profile_reader(connection: sa.Connection) -> Callable[[str], Sequence[Sequence[str]] | None]:
    """The lists of a stored profile, read in the walk's own snapshot (None when there is no such profile)."""
    query = sa.select(*(audit_disclosure.c[name] for name in LISTS)).where(
        audit_disclosure.c.key == sa.bindparam("key")
    )

    def lists(key: str) -> Sequence[Sequence[str]] | None:
        row = connection.execute(query, {"key": key}).first()
        return tuple(row) if row is not None else None

    return lists


def _walk(
    events: Iterable[sa.RowMapping],
    subjects: _Peekable,
    *,
    anchor: tuple[int, str] | None,
    profiles: Callable[[str], Sequence[Sequence[str]] | None],
) -> VerifyReport:
    walk = _Walk(anchor, profiles=profiles)
    for event in events:
        seq = event["seq"]
        problem = _link_problem(event, last_seq=walk.last_seq, last_hash=walk.last_hash) or walk.profile_problem(event)
        if problem is not None:
            return walk.broken(seq, problem)
        orphan = subjects.peek()
        if orphan is not None and orphan[0] < seq:
            return walk.broken(orphan[0], f"audit_subject rows name seq {orphan[0]}, which has no event")
        listed: list[str] = []
        while (row := subjects.peek()) is not None and row[0] == seq:
            listed.append(subjects.take()[1])
        if sorted(listed) != sorted(event["subjects"]):
            return walk.broken(seq, _subjects_problem(expected=event["subjects"], found=listed))
        if anchor is not None and seq == anchor[0]:
            if event["hash"] != anchor[1]:
                return walk.broken(seq, f"seq {seq} is not the event anchored earlier (its hash differs)")
            walk.anchor_seen = True
        walk.checked += 1
        walk.last_seq, walk.last_hash = seq, event["hash"]
    orphan = subjects.peek()
    if orphan is not None:
        return walk.broken(orphan[0], f"audit_subject rows name seq {orphan[0]}, which has no event")
    if anchor is not None and not walk.anchor_seen:
        return walk.broken(
            walk.last_seq + 1,
            f"the chain ends at seq {walk.last_seq}, but seq {anchor[0]} was anchored earlier: "
            f"events {walk.last_seq + 1}..{anchor[0]} were deleted",
        )
    return VerifyReport(
        ok=True,
        events_checked=walk.checked,
        last_seq=walk.last_seq or None,
        last_hash=walk.last_hash if walk.last_seq else None,
        anchor=anchor,
    )


def _link_problem(event: sa.RowMapping, *, last_seq: int, last_hash: str) -> str | None:
    seq = event["seq"]
    if chain_hash(event) != event["hash"]:
        return f"seq {seq} was edited: its contents no longer match its hash"
    if seq != last_seq + 1:
        if seq <= last_seq:  # pragma: no cover - seq is the primary key, read in order
            return f"seq {seq} repeats or goes back after seq {last_seq}"
        missing = f"seq {last_seq + 1}" if seq == last_seq + 2 else f"seqs {last_seq + 1}..{seq - 1}"
        return f"{missing} missing (deleted) before seq {seq}"
    if event["prev_hash"] != last_hash:
        before = f"seq {last_seq}'s hash" if last_seq else "the genesis hash (64 zeros)"
        return f"seq {seq}'s prev_hash is not {before}: seq {seq} was inserted out of chain, or its predecessor changed"
    return None


def _subjects_problem(*, expected: Sequence[str], found: Sequence[str]) -> str:
    missing = len(set(expected) - set(found))
    extra = len(set(found) - set(expected))
    return f"audit_subject rows disagree with the event's subjects ({missing} missing, {extra} not in the event)"
