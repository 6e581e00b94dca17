"""An app served by uvicorn on a loopback port in a thread of this process: for a real browser or client
to talk to (the console's browser tests, its screenshots, the local OpenID provider), while the caller
keeps the store at hand.

The port is bound before the server starts (`loopback_socket`), so a caller that must know its address
first (a hub whose single sign-on callback names it) has it, and no other process can take it meanwhile.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import uvicorn
from starlette.types import ASGIApp


def loopback_socket() -> tuple[socket.socket, str]:
    """A socket bound to a free loopback port, and the base address it will answer on."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    return listening, f"http://127.0.0.1:{listening.getsockname()[1]}"


@contextmanager
def serving(
    app: ASGIApp,
    *,
    listening: socket.socket | None = None,
    lifespan: Literal["auto", "on", "off"] = "on",
    start_timeout: float = 60.0,
) -> Iterator[str]:
    """The app's base address while the block runs; the server is stopped (lifespan and all) after it."""
    if listening is None:
        listening, _ = loopback_socket()
    base_url = f"http://127.0.0.1:{listening.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, name=base_url, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start at {base_url}")
            time.sleep(0.02)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listening.close()
