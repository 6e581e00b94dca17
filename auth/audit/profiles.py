"""Disclosure profiles: the fields an event revealed, masked and withheld, stored once and named by key.

The requests of one operation under one access profile disclose the same ~100 `Type.field` names,
request after request. Writing them into every event made the lists most of what the trail wrote, so
an event names them instead: `audit_event.disclosure_key` is `disclosure_key(revealed, masked,
withheld)`, SHA-256 over the canonical JSON of the three sorted lists, and `audit_disclosure` holds the
lists under that key, inserted once and never changed (content-addressed: the same lists give the same
key in every process, so two writers that insert the same profile insert the same row, and the second
insert does nothing).

The chain still covers what was disclosed: the event's hash covers its key, and the key is a digest
of the lists, so `verify` recomputes each named profile's key from its stored lists (a profile edited
behind the hub's back no longer matches, and the first event naming it is reported).

An event that discloses no field names no profile (refusals, policy changes): its lists stay empty
inline and its key null, as do the events written before migration 0016, with their lists inline.

`KnownProfiles` is a writer's memory of the keys already stored, so the common case sends only the key.
It is only a hint: the store refuses an event whose key names no stored profile (a foreign key), and
the writer then sends the batch again with every profile's lists (auth/audit/writer.py).
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Iterable, Sequence
from typing import Any, Final

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from auth.tables import audit_disclosure

LISTS: Final = ("revealed", "masked", "withheld")
"""The three lists a profile holds, in the order the trail names them."""
KNOWN_AT_MOST: Final = 4096
"""Keys a writer remembers; past this it forgets them all and learns them again (one insert each)."""


def disclosure_key(revealed: Sequence[str], masked: Sequence[str], withheld: Sequence[str]) -> str:
    """SHA-256 (hex) of `{"masked": [...], "revealed": [...], "withheld": [...]}`, keys sorted, each list as
    stored (sorted, without repeats): the key of the profile holding these three lists."""
    return _key(tuple(revealed), tuple(masked), tuple(withheld))


@functools.lru_cache(maxsize=1024)
def _key(revealed: tuple[str, ...], masked: tuple[str, ...], withheld: tuple[str, ...]) -> str:
    # Remembered: a hub digests the same few profiles all day (a tuple hashes its cached string hashes).
    payload = {"revealed": list(revealed), "masked": list(masked), "withheld": list(withheld)}
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def profile_of(values: dict[str, Any]) -> dict[str, Any] | None:
    """The profile row of an event's stored values (lists sorted), or None when it discloses no field."""
    if not any(values[name] for name in LISTS):
        return None
    lists = {name: values[name] for name in LISTS}
    return {"key": disclosure_key(lists["revealed"], lists["masked"], lists["withheld"]), **lists}


def stored_by_key(values: dict[str, Any], profile: dict[str, Any] | None) -> dict[str, Any]:
    """The event's stored values once its lists are named by `profile`'s key: the lists empty, the key set."""
    if profile is None:
        return {**values, "disclosure_key": None}
    return {**values, **{name: [] for name in LISTS}, "disclosure_key": profile["key"]}


class KnownProfiles:
    """The keys a writer has seen stored (committed), so that it sends their lists no more. Thread-safe."""

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def unknown(self, profiles: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The profiles not known to be stored, each once: those whose lists the batch must carry."""
        with self._lock:
            return list({row["key"]: row for row in profiles if row["key"] not in self._keys}.values())

    def learn(self, keys: Iterable[str]) -> None:
        """Remember keys whose profiles a committed transaction stored (never before the commit: a batch
        rolled back stored nothing)."""
        with self._lock:
            fresh = set(keys) - self._keys
            if len(self._keys) + len(fresh) > KNOWN_AT_MOST:
                self._keys.clear()
            self._keys |= fresh

    def forget(self, keys: Iterable[str]) -> None:
        """Keys the store turned out not to hold (another store behind the same address, a restore)."""
        with self._lock:
            self._keys -= set(keys)


def insert_profiles(connection: sa.Connection, profiles: Sequence[dict[str, Any]]) -> None:
    """SQLite: store the profiles, those already stored left as they are (one statement)."""
    if profiles:
        connection.execute(sqlite_insert(audit_disclosure).on_conflict_do_nothing(index_elements=["key"]), profiles)
