"""The secured hub as an operator runs it, for bench/household.py --observed: every signal on, each read.

Metrics summed across workers (their multiprocess directory), spans exported over OTLP to a collector
on loopback that accepts and counts them, and JSON log lines written to a file, one access line per
request: what `aidgraph serve` does, plus the exporter a deployment with tracing turns on.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aidgraph.logs import log_config


class Collector:
    """An OTLP/HTTP endpoint that takes every export and counts its bytes (what a real one would read)."""

    def __init__(self) -> None:
        self.exports = 0
        self.bytes = 0
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
                length = int(self.headers.get("content-length", 0))
                collector.bytes += len(self.rfile.read(length))
                collector.exports += 1
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()


def observed_environment(folder: Path, collector: Collector) -> tuple[dict[str, str], list[str]]:
    """The environment and the uvicorn options of an observed hub; its log goes to `folder/hub.log`."""
    metrics = folder / "metrics"
    metrics.mkdir(parents=True, exist_ok=True)
    config = folder / "log-config.json"
    config.write_text(json.dumps(log_config("json")), encoding="utf-8")
    environment = {"PROMETHEUS_MULTIPROC_DIR": str(metrics), "AIDGRAPH_OTLP_ENDPOINT": collector.endpoint}
    return environment, ["--log-config", str(config)]
