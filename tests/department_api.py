"""A department's HTTP API for tests: a real server on a loopback port, answering lookups from CSV exports.

It answers `POST /{table}/lookup` in the shape the departments agreed, from the department's CSV
files (in their own encoding), counts the calls it receives and can be told to misbehave.
"""

from __future__ import annotations

import contextlib
import csv
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal

from adapters import idnumber
from adapters.base import Department

Behaviour = Literal["answer", "hang", "trickle", "fail", "malformed"]


@dataclass
class Call:
    table: str
    by: str
    keys: list[str]


@dataclass
class DepartmentApi:
    """Tables by name -> their rows (native column -> text), as the department's CSV export holds them."""

    tables: dict[str, list[dict[str, str]]]
    as_of: str = "2026-11-30T18:00:00+08:00"
    behaviour: Behaviour = "answer"
    extra_rows: dict[str, list[object]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    headers_seen: list[dict[str, str]] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    @classmethod
    def from_exports(cls, department: Department, folder: Path) -> DepartmentApi:
        tables = {}
        for spec in department.files:
            with (folder / spec.file_name).open(encoding=department.encoding, newline="") as handle:
                tables[spec.name] = list(csv.DictReader(handle))
        return cls(tables)

    def answer(self, table: str, by: str, keys: list[str]) -> dict[str, object]:
        wanted = set(keys)

        def matches(row: dict[str, str]) -> bool:
            value = row.get(by, "")
            # the department matches its own spellings of an id (lower-case x, 15 digits) itself
            return (idnumber.normalize(value) if by == "sfzh" and value else value) in wanted

        rows: list[object] = [row for row in self.tables.get(table, []) if matches(row)]
        return {"table": table, "as_of": self.as_of, "rows": rows + self.extra_rows.get(table, [])}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
        api = self.server.api
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        table = self.path.removeprefix("/v1/").removesuffix("/lookup")
        api.calls.append(Call(table, body["by"], body["keys"]))
        api.headers_seen.append(dict(self.headers))
        if api.behaviour == "hang":
            api.released.wait(30)
            return
        if api.behaviour == "trickle":
            self._trickle(json.dumps(api.answer(table, body["by"], body["keys"])).encode())
            return
        if api.behaviour == "fail":
            self._send(500, b'{"error": "the database is down"}')
        elif api.behaviour == "malformed":
            self._send(200, b'{"table": "' + table.encode() + b'", "rows": [')
        elif table not in api.tables:
            self._send(404, b'{"error": "no such table"}')
        else:
            self._send(200, json.dumps(api.answer(table, body["by"], body["keys"]), ensure_ascii=False).encode())

    def _trickle(self, content: bytes) -> None:
        """A valid answer, one byte at a time, each well within any read timeout (until released)."""
        padded = content[:-1] + b" " * 200 + content[-1:]
        self.send_response(200)
        self.send_header("Content-Length", str(len(padded)))
        self.end_headers()
        for byte in padded:
            if self.server.api.released.wait(0.02):
                return
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:
                return  # the hub gave up, as it should

    def _send(self, status: int, content: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the standard library's name)
        pass  # the test reads the calls it counted


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, api: DepartmentApi) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api = api


@contextlib.contextmanager
def serving(api: DepartmentApi) -> Iterator[_Server]:
    """Serve `api` on a loopback port in a thread, at `api.url`, while the block runs."""
    server = _Server(api)
    api.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        api.released.set()
        server.shutdown()
        server.server_close()
        thread.join()
