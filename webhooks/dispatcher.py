"""The dispatcher a running hub keeps: `deliver_due` every few seconds, in a thread off the event loop.

A Starlette lifespan runs it for as long as the app serves:

    async with Dispatcher(engine) as dispatcher:
        yield {"engine": engine, ..., "dispatcher": dispatcher}

Every worker process may run one: PostgreSQL shares the subscriptions out between them row by row,
SQLite lets one at a time send (see `webhooks.delivery`). Stopping lets the delivery in flight finish
(at most one request timeout) and sends nothing more; what is pending stays in the store for the next
start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
from types import TracebackType

import httpx2
import sqlalchemy as sa

from auth.request_log import describe_exception
from webhooks.delivery import DeliveryReport, RetryPolicy, deliver_due, http_client

log = logging.getLogger("aidgraph.notify")


class Dispatcher:
    def __init__(
        self,
        engine: sa.Engine,
        *,
        interval: float = 2.0,
        policy: RetryPolicy | None = None,
        http: httpx2.Client | None = None,
        limit: int = 200,
    ) -> None:
        self.worker = secrets.token_hex(8)
        self._engine = engine
        self._interval = interval
        self._policy = policy
        self._http = http
        self._owns_http = http is None
        self._limit = limit
        self._stopping = threading.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.last_report: DeliveryReport | None = None

    async def __aenter__(self) -> Dispatcher:
        self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.stop()

    def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("the dispatcher is already running")
        if self._http is None:
            self._http = http_client()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="webhook-dispatcher")

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next poll (e.g. right after a detection)."""
        self._wake.set()

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._owns_http and self._http is not None:
            self._http.close()
            self._http = None

    async def run_once(self) -> DeliveryReport:
        """One pass of `deliver_due`, in a thread."""
        assert self._http is not None, "start() the dispatcher first"
        report = await asyncio.to_thread(
            deliver_due,
            self._engine,
            http=self._http,
            policy=self._policy,
            limit=self._limit,
            worker=self.worker,
            stop=self._stopping,
        )
        self.last_report = report
        return report

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                report = await self.run_once()
            except Exception as error:  # the store or the audit trail is down: keep polling, nothing is lost
                # by type and place only: a database's message can quote the values it was given
                log.error("webhook dispatch failed; trying again at the next poll\n%s", describe_exception(error))
            else:
                if report.attempted >= self._limit:
                    continue  # a full pass: more may be due already
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
            self._wake.clear()
