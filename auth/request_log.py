"""What a log line may say about a request: its id, its client, its operation's name, and why it failed, by type.

The log is kept longer, read by more people and copied further than the audit trail, and it is not
governed by the policy: so it carries no query text, no variables, no resident id, no statement or
its parameters. A line names the request (the id its client was given), the client, the operation,
the keyed hash of the document and, for a failure, the exception's type and where it was raised; an
exception's message is not logged, since graphql-core quotes the document in it and a database
quotes the values it was given. One line per request, the access line, adds its method, route,
status, duration and outcome (aidgraph/observed.py writes it).
"""

from __future__ import annotations

import secrets
import threading
import time
import traceback
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, get_operation_ast, parse
from starlette.requests import Request

_NAME_SHOWN = 100  # characters of an operation name; a GraphQL name cannot hold more than letters, digits, _


def new_request_id() -> str:
    return secrets.token_hex(8)


class RequestLog:
    """The fields every log line about one request carries (`fields()`, and `str()` of them).

    Made when the request arrives (aidgraph/observed.py) and filled in as it is learnt: the client once
    its token is verified, the operation and the document once they are read. The operation's name is
    given by whoever analysed the document, or else found by parsing the document again, and only
    when a line is written: that costs nothing on the paths that log nothing.
    """

    __slots__ = (
        "_document_id",
        "_document_key",
        "_operation",
        "_operation_name",
        "_query",
        "client",
        "codes",
        "outcome",
        "request_id",
    )

    def __init__(
        self,
        *,
        request_id: str,
        query: str | None = None,
        operation_name: str | None = None,
        document_key: bytes | None = None,
        client: str | None = None,
    ) -> None:
        self.request_id = request_id
        self.client = client
        self.outcome: str | None = None  # the request's own word on its outcome (auth.metrics.OUTCOMES)
        self.codes: tuple[str, ...] = ()  # the `extensions.code` of its errors
        self._query = query
        self._operation_name = operation_name
        self._document_key = document_key
        self._operation: str | None = None
        self._document_id: str | None = None

    def describe(
        self,
        *,
        query: str,
        operation_name: str | None,
        operation: str | None,
        document_key: bytes | None,
        document_id: str | None = None,
    ) -> None:
        """The document the request runs: `operation` is its operation's own name (None: it has none),
        `document_id` the registered operation's id (registered/) when it is one."""
        self._document_id = document_id
        self._query = query
        self._operation_name = operation_name
        self._operation = operation[:_NAME_SHOWN] if operation is not None else None
        self._document_key = document_key

    def fields(self) -> dict[str, str]:
        """The one place a request's log fields are built. The keyed document hash of the audit trail
        (HMAC with the hub's document key, handed to the constructor) is `document`, so that a log
        line and an audit event of the same document can be matched, neither holding its text."""
        fields = {"request": self.request_id}
        if self.client is not None:
            fields["client"] = self.client
        operation = self.operation()
        if operation is not None:
            fields["operation"] = operation
        if self._query is not None and self._document_key is not None:
            # imported here: the audit package's writer logs through this module, which may be imported first
            from auth.audit.event import document_digest

            fields["document"] = document_digest(self._document_key, self._query)
        if self._document_id is not None:  # a registered operation's public id, as its clients send it
            fields["document_id"] = self._document_id
        return fields

    def access_fields(self, *, method: str, path: str, status: int, seconds: float, outcome: str) -> dict[str, Any]:
        """The one line written for every request: `path` is the route's, never the path as sent."""
        return {
            **self.fields(),
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "outcome": outcome,
            **({"codes": list(self.codes)} if self.codes else {}),
        }

    def operation(self) -> str | None:
        """The name of the operation the document runs, as its document spells it; None if it has none."""
        if self._operation is not None:
            return self._operation
        if self._query is None:
            return None
        try:
            document = parse(self._query, no_location=True)
        except GraphQLError:
            return None
        found = get_operation_ast(document, self._operation_name)
        if not isinstance(found, OperationDefinitionNode) or found.name is None:
            return None
        return found.name.value[:_NAME_SHOWN]

    def __str__(self) -> str:
        return " ".join(f"{name}={value}" for name, value in self.fields().items())

    __repr__ = __str__


_current: ContextVar[RequestLog | None] = ContextVar("aidgraph_request_log", default=None)


def current_request_log() -> RequestLog | None:
    """The request being served in this context (its task, and the threads it hands work to)."""
    return _current.get()


def serving(request_log: RequestLog) -> Token[RequestLog | None]:
    """Make `request_log` the current one; `_current.reset(token)` when the request is done."""
    return _current.set(request_log)


def done_serving(token: Token[RequestLog | None]) -> None:
    _current.reset(token)


def request_log_of(request: Request) -> RequestLog:
    """The request's log fields, made when it arrived; made here when no middleware did (bare test apps)."""
    found = getattr(request.state, "request_log", None)
    if not isinstance(found, RequestLog):
        found = RequestLog(request_id=new_request_id())
        request.state.request_log = found
    return found


def describe_exception(error: BaseException) -> str:
    """The exception's type and traceback, and its causes', without any exception's message."""
    parts = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_list(traceback.extract_tb(current.__traceback__)))
        kind = type(current)
        parts.append(f"Traceback (most recent call last):\n{frames}{kind.__module__}.{kind.__qualname__}")
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return "\n\nwhich was raised while handling\n\n".join(parts)


class Tracebacks:
    """Each failure's traceback once per `every_seconds`; in between, a short line that it repeated.

    An outage fails every request the same way: written each time, its traceback would bury the rest of
    the log (a restart of a few seconds under load wrote hundreds of thousands of lines). A failure is
    the same when its exceptions' types and the place each was raised are.
    """

    def __init__(self, *, every_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._every = every_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._written: dict[tuple[str, ...], float] = {}

    def of(self, error: BaseException) -> str:
        """What a log line says of `error`: its traceback (from a new line), or that it repeats one."""
        key = _failure_key(error)
        now = self._clock()
        with self._lock:
            last = self._written.get(key)
            if last is not None and now - last < self._every:
                return f" (the same {type(error).__qualname__} as logged before, traceback not repeated)"
            self._written[key] = now
        return "\n" + describe_exception(error)


def _failure_key(error: BaseException) -> tuple[str, ...]:
    key = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__)
        place = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
        key.append(f"{type(current).__qualname__}@{place}")
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return tuple(key)


TRACEBACKS = Tracebacks()
"""The worker's one throttle of tracebacks, for the lines written per failed request."""
