"""A real webhook receiver for the tests: an HTTP server on 127.0.0.1 in a thread.

It does what a receiver should (docs/notifications.md): verifies the signature over the raw body,
refuses a timestamp more than five minutes off (a replay) with 401, and drops an event id it already
has (answering 200, counting the duplicate). It can also misbehave on cue: a plan of answers for the
next requests (a status code, or "drop" to close the connection without answering), or `down` for
a 503 to everything.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from webhooks.signing import EVENT_ID_HEADER, InvalidSignature, verify_headers

DROP = "drop"


@dataclass(frozen=True)
class Seen:
    """One request as the receiver saw it, and what it answered (None: dropped)."""

    event_id: str | None
    answer: int | None
    body: bytes


class Receiver:
    def __init__(self, secret: str, *, plan: list[int | str] | None = None, delay: float = 0.0) -> None:
        self.secret = secret
        self.plan: list[int | str] = list(plan or [])
        self.delay = delay
        self.down = False
        self.retry_after: str | None = None
        self.events: list[dict[str, Any]] = []  # accepted, first arrivals only, in order
        self.seen: list[Seen] = []
        self.duplicates = 0
        self.in_flight: Counter[str] = Counter()  # per subscription, requests being handled now
        self.most_in_flight: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hooks/student-aid"

    @property
    def event_ids(self) -> list[str]:
        return [event["id"] for event in self.events]

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, headers: Any, body: bytes) -> int | None:
        """The answer to one request: a status, or None to drop the connection."""
        event_id = headers.get(EVENT_ID_HEADER)
        with self._lock:
            planned = self.plan.pop(0) if self.plan else None
        if planned == DROP:
            self._record(Seen(event_id, None, body))
            return None
        if isinstance(planned, int):
            self._record(Seen(event_id, planned, body))
            return planned
        if self.down:
            self._record(Seen(event_id, 503, body))
            return 503
        try:
            verify_headers(self.secret, body=body, headers=headers)
        except InvalidSignature:
            self._record(Seen(event_id, 401, body))
            return 401
        event = json.loads(body)
        subscription = event["subscription"]
        with self._lock:
            self.in_flight[subscription] += 1
            self.most_in_flight[subscription] = max(self.most_in_flight[subscription], self.in_flight[subscription])
        try:
            time.sleep(self.delay)
        finally:
            with self._lock:
                self.in_flight[subscription] -= 1
                if event["id"] in self.event_ids:
                    self.duplicates += 1
                else:
                    self.events.append(event)
                self.seen.append(Seen(event_id, 200, body))
        return 200

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            answer = receiver.handle(self.headers, body)
            if answer is None:  # hang up without a word
                self.close_connection = True
                return
            self.send_response(answer)
            if receiver.retry_after is not None and answer in (429, 503):
                self.send_header("Retry-After", receiver.retry_after)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


@contextmanager
def running(secret: str, **options: Any) -> Iterator[Receiver]:
    receiver = Receiver(secret, **options).start()
    try:
        yield receiver
    finally:
        receiver.stop()
