"""A hub served as a user serves it: `aidgraph serve` as a process on a free loopback port, its output kept."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def hub_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without its AIDGRAPH_* settings, plus `settings`: the hub runs on
    what the test says, not on what the shell that started the tests happened to export."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith("AIDGRAPH_")}
    return kept | dict(settings)


@dataclass
class Served:
    port: int
    lines: list[str] = field(default_factory=list)  # what the command printed so far, stdout and stderr

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self) -> str:
        return "".join(self.lines)


@contextmanager
def served(
    *arguments: str,
    environment: Mapping[str, str],
    cwd: Path | None = None,
    command: Sequence[str] = (sys.executable, "-m", "aidgraph.cli"),
    start_timeout: float = 900,
) -> Iterator[Served]:
    """`COMMAND serve --port P ARGUMENTS...` until `/healthz` answers; stopped when the block ends.

    The output is read as it comes (a thread), so a chatty server never blocks on a full pipe, and a
    server that exits before it answers fails the test with what it printed.
    """
    hub = Served(free_port())
    process = subprocess.Popen(
        [*command, "serve", "--port", str(hub.port), *arguments],
        cwd=cwd,
        env=hub_environment(environment),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: hub.lines.extend(process.stdout or ()), daemon=True)
    reader.start()
    try:
        _wait_until_healthy(hub, process, start_timeout)
        yield hub
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=10)
        process.stdout.close()


def _wait_until_healthy(hub: Served, process: subprocess.Popen[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx2.Client(base_url=hub.base_url, timeout=5) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"aidgraph serve exited with {process.returncode}:\n{hub.output}")
            try:
                if http.get("/healthz").status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.2)
    raise AssertionError(f"aidgraph serve did not answer /healthz within {timeout} s:\n{hub.output}")
