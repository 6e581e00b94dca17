"""A department read live over its HTTP API (`POST {base}/{table}/lookup`), parsed exactly like its CSV export."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Mapping, Sequence

import httpx2
import orjson

from adapters.base import Department, FileSpec
from adapters.breaker import CircuitBreaker
from adapters.sources import GuardedSource, SourceUnavailable
from adapters.store import LoadRequest, Record

KEYS_PER_CALL = 500
"""The most keys one lookup call may carry, as agreed with the departments."""
MAX_ANSWER_BYTES = 32 * 1024 * 1024
"""An answer longer than this is a failed call: 500 keys' records are a small fraction of it, and the
hub holds a whole answer in memory while it parses it."""


class HttpSource(GuardedSource):
    """A department's HTTP API. Each table is asked by the column it is looked up by, in calls of at
    most KEYS_PER_CALL keys; each row must have the columns of the table's CSV file, as text in the
    same formats, and is parsed by the same FileSpec. Ids are sent in their 18-character form.

    A timeout, an answer other than 200, or a body not in the agreed shape makes the department
    unavailable for the request; a row that fails validation is left out and counted.
    """

    kind = "http"

    def __init__(
        self,
        department: Department,
        base_url: str,
        *,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        headers: Mapping[str, str] | None = None,
        breaker: CircuitBreaker | None = None,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        super().__init__(department, breaker=breaker)
        self._base_url = base_url.rstrip("/")
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        # Waiting for a pooled connection counts as connecting. No proxy or netrc from the environment:
        # where residents' records travel is what the sources file says, nothing else.
        self._client = httpx2.Client(
            headers=dict(headers or {}),
            timeout=httpx2.Timeout(
                connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
            ),
            follow_redirects=False,
            trust_env=False,
            transport=transport,
        )

    def __repr__(self) -> str:  # never the headers: they may carry the department's token
        return f"HttpSource({self.department.name!r}, {self._base_url!r})"

    async def fetch(self, requests: Sequence[LoadRequest]) -> list[dict[str, list[Record]]]:
        # The breaker is asked on the event loop, so an open one costs no worker thread.
        with self._guarded():
            return await asyncio.to_thread(self._read, requests)

    def fetch_now(self, requests: Sequence[LoadRequest]) -> list[dict[str, list[Record]]]:
        with self._guarded():
            return self._read(requests)

    def dispose(self) -> None:
        self._client.close()

    def _read(self, requests: Sequence[LoadRequest]) -> list[dict[str, list[Record]]]:
        return [self._load(request.spec, request.by, request.keys) for request in requests]

    def _load(self, spec: FileSpec, by: str, keys: Sequence[str]) -> dict[str, list[Record]]:
        native_by = next(column.native for column in spec.columns if column.name == by)
        found: dict[str, list[Record]] = {}
        unique = sorted(set(keys))
        for start in range(0, len(unique), KEYS_PER_CALL):
            as_of, rows = self._call(spec, native_by, unique[start : start + KEYS_PER_CALL])
            for key, records in self._records(spec, by, rows, as_of).items():
                found.setdefault(key, []).extend(records)
        return found

    def _call(self, spec: FileSpec, by: str, keys: list[str]) -> tuple[dt.datetime, list[Mapping[str, object]]]:
        """One lookup call: its as-of time and its rows (objects; any other row is a bad row)."""
        where = f"{spec.name} lookup"
        body = orjson.dumps({"by": by, "keys": keys})
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        # The read timeout bounds each wait for bytes; this bounds the whole answer, so a server that
        # trickles its answer a byte at a time cannot hold the call for longer either.
        deadline = time.monotonic() + self._connect_timeout + self._read_timeout
        try:
            with self._client.stream(
                "POST", f"{self._base_url}/{spec.name}/lookup", content=body, headers=headers
            ) as answer:
                if answer.status_code != 200:
                    # the error's text is the department's, and may quote the keys: not kept
                    raise self._unavailable(f"{where}: HTTP {answer.status_code}")
                content = bytearray()
                for chunk in answer.iter_bytes():
                    content += chunk
                    if len(content) > MAX_ANSWER_BYTES:
                        raise self._unavailable(f"{where}: the answer is longer than {MAX_ANSWER_BYTES} bytes")
                    if time.monotonic() > deadline:
                        raise self._unavailable(f"{where}: no complete answer within {self._timeouts()}")
        except httpx2.TimeoutException as error:
            raise self._unavailable(f"{where}: {type(error).__name__} (timeouts {self._timeouts()})") from None
        except httpx2.HTTPError as error:
            # a transport's message names the address and the system's reason, never the body sent
            raise self._unavailable(f"{where}: {type(error).__name__}: {error}") from None
        try:
            return _answer(spec, bytes(content))
        except MalformedAnswer as fault:
            raise self._unavailable(f"{where}: {fault}") from None

    def _timeouts(self) -> str:
        return f"connect {self._connect_timeout:g} s, read {self._read_timeout:g} s"

    def _unavailable(self, detail: str) -> SourceUnavailable:
        return SourceUnavailable(self.department.name, detail)


class MalformedAnswer(ValueError):
    """A body not in the agreed shape; the text names what is missing or of the wrong kind, never a value."""


def _answer(spec: FileSpec, content: bytes) -> tuple[dt.datetime, list[Mapping[str, object]]]:
    """The agreed shape `{"table", "as_of", "rows"}`."""
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise MalformedAnswer("the answer is not JSON") from None
    if not isinstance(document, dict):
        raise MalformedAnswer("the answer is not a JSON object")
    if document.get("table") != spec.name:
        raise MalformedAnswer(f"the answer's table is not {spec.name}")
    as_of = _as_of(document.get("as_of"))
    if as_of is None:
        raise MalformedAnswer("the answer's as_of is not a date and time with its offset")
    rows = document.get("rows")
    if not isinstance(rows, list):
        raise MalformedAnswer("the answer's rows are not a list")
    # a row that is no object has no column at all: a bad row, like a CSV line of the wrong width
    return as_of, [row if isinstance(row, dict) else {} for row in rows]


def _as_of(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(dt.UTC) if moment.tzinfo is not None else None
