"""A bounded set of threads that run requests' store reads and GraphQL executions off the event loop.

The resolvers read the store synchronously (one pooled connection per request), so an execution run
on the event loop stops every other request of the worker, `/healthz` included, for as long as its
reads take. Here each of `threads` threads owns an event loop of its own and runs one execution at
a time on it: at most `threads` executions run at once, the others wait their turn, and a request
that stops waiting (its timeout) is dropped from the queue if it has not started.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import queue
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")
_Job = tuple[concurrent.futures.Future[Any], Callable[[asyncio.Runner], Any]]


class ExecutionThreads:
    """`async with ExecutionThreads(n) as threads:` starts them; leaving waits for running jobs and stops them."""

    def __init__(self, threads: int) -> None:
        if threads < 1:
            raise ValueError("at least one thread")
        self._count = threads
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` in one of the threads; cancelling the wait leaves a started call to finish."""
        context = contextvars.copy_context()  # the request's: its span, its log fields
        return await self._submit(lambda _runner: context.run(function, *args))

    async def run(self, coroutine: Callable[[], Awaitable[T]]) -> T:
        """The coroutine `coroutine()` makes, run to its end on a thread's own event loop."""

        async def main() -> T:
            return await coroutine()

        context = contextvars.copy_context()  # the request's: its span, its log fields
        return await self._submit(lambda runner: runner.run(main(), context=context))

    async def _submit(self, job: Callable[[asyncio.Runner], T]) -> T:
        if not self._threads:
            raise RuntimeError("the execution threads are not running (use `async with`)")
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put((future, job))
        return await asyncio.wrap_future(future)

    def _serve(self) -> None:
        with asyncio.Runner() as runner:
            while (job := self._jobs.get()) is not None:
                future, work = job
                if not future.set_running_or_notify_cancel():  # its request stopped waiting before it began
                    continue
                try:
                    future.set_result(work(runner))
                except BaseException as error:  # handed to the request that waits for it
                    future.set_exception(error)

    async def __aenter__(self) -> ExecutionThreads:
        for number in range(self._count):
            thread = threading.Thread(target=self._serve, name=f"aidgraph-execution-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            await asyncio.to_thread(thread.join)
        self._threads.clear()
