"""Benchmark: the audit append alone (no HTTP), an event's disclosure inline beside it named by key.

    .venv/bin/python bench/audit_append.py [--seconds 3] [--fields 100] [--batch 16]

Starts a throwaway PostgreSQL server (fsync off, as the other benchmarks run it) and, for each form of
the event, in a freshly migrated database of its own, appends read events as a running hub writes
them (`AuditLog.append_many`: pseudonyms of 4 subjects, the content digest, `audit_append`):

(a) one event per statement, one writer;
(b) batches of `--batch` events (the group commit of a busy worker), one writer;
(c) the same batches from two writers (two processes: two hub workers sharing one chain).

The forms: **inline**, each event listing its `--fields` field names (revealed, masked, withheld), as
the hub wrote them before migration 0016; **by key**, each event naming its disclosure profile
(auth/audit/profiles.py). It prints events/s of each, the ratio by key / inline, and how long
`verify` took over each trail (it reads each profile beside its events).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPOSITORY)]

from aidgraph.db import create_engine, migrate  # noqa: E402
from auth.audit import AuditEvent, AuditLog, Caller, audit_event, verify  # noqa: E402
from auth.audit.event import DisclosedFields  # noqa: E402
from auth.labels import GOVERNED  # noqa: E402
from tools.pgserver import ThrowawayPostgres  # noqa: E402

SUBJECTS = ("35058319870102123X", "350583198703151230", "350583201001010024", "350524196507074515")
FORMS = {"inline": False, "by key": True}


def disclosure(fields: int) -> DisclosedFields:
    """A household picture's disclosure: `fields` governed `Type.field` names, most revealed, some masked
    or withheld (as the demo's civil-affairs role sees one)."""
    names = sorted(f"{type_name}.{field}" for type_name, labels in GOVERNED.items() for field in labels)[:fields]
    masked, withheld = names[::9], names[4::13]
    revealed = [name for name in names if name not in masked and name not in withheld]
    return DisclosedFields(revealed=revealed, masked=masked, withheld=withheld)


def read_event(fields: DisclosedFields) -> AuditEvent:
    caller = Caller(client_id="civil-affairs-nanan", roles=("civil-affairs",), purpose="assistance-review")
    return audit_event(
        "ok",
        caller=caller,
        actor=None,
        operation="HouseholdPicture",
        document_hash="hmac-sha256:" + "0" * 64,
        subjects=SUBJECTS,
        disclosure=fields,
        at=datetime.now(UTC),
    )


def append_for(url: str, *, by_key: bool, batch: int, seconds: float, fields: int) -> int:
    """Append batches of events for `seconds`; the number of events appended."""
    engine = create_engine(url)
    log = AuditLog(engine, disclosure_by_key=by_key)
    events = [read_event(disclosure(fields)) for _ in range(batch)]
    log.append_many(events)  # the hub's keys made, the profile stored: the steady state is measured
    appended, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        log.append_many(events)
        appended += batch
    engine.dispose()
    return appended


def _writer(url: str, by_key: bool, batch: int, seconds: float, fields: int, start: object, out: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    out.put(append_for(url, by_key=by_key, batch=batch, seconds=seconds, fields=fields))  # type: ignore[attr-defined]


def two_writers(url: str, *, by_key: bool, batch: int, seconds: float, fields: int) -> float:
    context = multiprocessing.get_context("spawn")
    start, out = context.Event(), context.Queue()
    writers = [
        context.Process(target=_writer, args=(url, by_key, batch, seconds, fields, start, out)) for _ in range(2)
    ]
    for writer in writers:
        writer.start()
    time.sleep(2.0)  # both imported and connected before the clock starts
    began = time.perf_counter()
    start.set()
    total = out.get() + out.get()
    elapsed = time.perf_counter() - began
    for writer in writers:
        writer.join()
    return total / elapsed


def timed(run: Callable[[], int]) -> float:
    began = time.perf_counter()
    count = run()
    return count / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="each measurement's length")
    parser.add_argument("--fields", type=int, default=100, help="field names an event disclosed")
    parser.add_argument("--batch", type=int, default=16, help="events per batch in (b) and (c)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each kind, the forms alternating")
    arguments = parser.parse_args()
    batch, common = arguments.batch, {"seconds": arguments.seconds, "fields": arguments.fields}
    measures: dict[str, Callable[[str, bool], float]] = {
        "one per statement": lambda url, by_key: timed(lambda: append_for(url, by_key=by_key, batch=1, **common)),
        f"batches of {batch}": lambda url, by_key: timed(lambda: append_for(url, by_key=by_key, batch=batch, **common)),
        f"two writers, batches of {batch}": lambda url, by_key: two_writers(url, by_key=by_key, batch=batch, **common),
    }
    server = ThrowawayPostgres().start()
    try:
        urls = {form: server.create_database("audit_" + form.replace(" ", "_")) for form in FORMS}
        for url in urls.values():
            engine = create_engine(url)
            migrate(engine)
            engine.dispose()
        # The forms alternate, round after round, so that a machine shared with other work slows both alike;
        # each cell is the best of its rounds.
        results: dict[str, dict[str, list[float]]] = {form: {} for form in FORMS}
        for _ in range(arguments.rounds):
            for measure, run in measures.items():
                for form, by_key in FORMS.items():
                    results[form].setdefault(measure, []).append(run(urls[form], by_key))
        for form in FORMS:
            engine = create_engine(urls[form])
            for _ in range(arguments.rounds):
                began = time.perf_counter()
                report = verify(engine)
                results[form].setdefault("verify", []).append(report.events_checked / (time.perf_counter() - began))
                assert report.ok, report
            engine.dispose()
    finally:
        server.stop()
    print(
        f"audit append, PostgreSQL, {arguments.fields} field names per event, 4 subjects "
        f"(events/s, best of {arguments.rounds} alternating rounds of {arguments.seconds:g} s)"
    )
    print(f"{'':36} {'inline':>10} {'by key':>10} {'by key / inline':>16}")
    for measure in results["inline"]:
        inline, by_key = max(results["inline"][measure]), max(results["by key"][measure])
        print(f"{measure:36} {inline:10,.0f} {by_key:10,.0f} {by_key / inline:15.2f}x")


if __name__ == "__main__":
    main()
