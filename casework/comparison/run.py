"""A comparison run: every rule over the snapshots current on the as-of day, stored with what it read.

`run` records a comparison_run (region, term, as-of, who started it, the rules' version and
thresholds, its inputs, its counts) and writes each evaluated rule's findings into the ledger
(casework.comparison.items), all in one transaction: a run that fails leaves nothing.

Inputs, per department: the latest ingest run as of the day or before (`{"ingestRun": id, "asOf": …}`),
`{"live": true}` for a department the hub reads live from its own system (AIDGRAPH_SOURCES), or null
when the store holds no snapshot of it on that day. A live department is read as it is now, not as
it was on the as-of day, and the hub keeps no snapshot of it to compare: a rule that reads one is not
evaluated, and says so, as is a rule whose department has no snapshot (count null, never 0).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from adapters import store
from adapters.as_of import current_on, day_end
from adapters.base import FileSpec
from adapters.catalog import DEPARTMENTS
from adapters.progress import Progress
from casework.comparison import items
from casework.comparison.conditions import Scope
from casework.comparison.findings import find
from casework.comparison.rules import RULES, RULES_VERSION, THRESHOLDS, Rule
from casework.tables import comparison_run
from resolvers.rules.regions import Region
from resolvers.rules.terms import Term, term_of

Inputs = Mapping[str, Mapping[str, Any] | None]


@dataclass(frozen=True)
class RunResult:
    run_id: int
    region: str
    term: str
    as_of: dt.date
    counts: dict[str, int | None]
    not_evaluated: dict[str, str]  # rule code -> why


def run(
    engine: sa.Engine,
    *,
    region: str,
    by: str,
    term: str | None = None,
    as_of: dt.date | None = None,
    live: Collection[str] = (),
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run every rule for `region` (a division code or prefix) as of `as_of` (default today, UTC)."""
    now = dt.datetime.now(dt.UTC)
    today = today or now.date()
    day = as_of or today
    chosen = Region.parse(region)
    school_term = str(Term.parse(term) if term is not None else term_of(day))
    scope = Scope(
        day=day,
        region=chosen,
        term=school_term,
        tables=lambda spec: _snapshot(spec, day, today),
        window_months=THRESHOLDS["window_months"],
    )
    with engine.begin() as connection:
        inputs = department_inputs(connection, day, live=live)
        run_id = connection.execute(
            comparison_run.insert()
            .values(
                region=chosen.prefix,
                term=school_term,
                as_of=day,
                started_at=now,
                started_by=by,
                rules_version=RULES_VERSION,
                thresholds=THRESHOLDS,
                inputs=inputs,
                counts={},
            )
            .returning(comparison_run.c.id)
        ).scalar_one()
        counts: dict[str, int | None] = {}
        skipped: dict[str, str] = {}
        for rule in RULES:
            reason = not_evaluated(rule, inputs)
            if reason is not None:
                counts[rule.code], skipped[rule.code] = None, reason
            else:
                findings = find(connection, rule, scope)
                items.record(connection, rule, findings, run_id=run_id, region=chosen, term=school_term, now=now)
                counts[rule.code] = len(findings)
            if progress is not None:
                progress.advance(1)
        connection.execute(
            comparison_run.update()
            .where(comparison_run.c.id == run_id)
            .values(counts=counts, finished_at=dt.datetime.now(dt.UTC))
        )
    if progress is not None:
        progress.finish()
    return RunResult(run_id, chosen.prefix, school_term, day, counts, skipped)


def _snapshot(spec: FileSpec, day: dt.date, today: dt.date) -> sa.FromClause:
    return current_on(spec, day, today=today)


def department_inputs(connection: sa.Connection, day: dt.date, *, live: Collection[str] = ()) -> dict[str, Any]:
    """Per department: its latest ingest run as of `day` or before, read live, or null (no snapshot)."""
    runs = store.ingest_run
    query = (
        sa.select(runs.c.id, runs.c.department, runs.c.as_of)
        .where(runs.c.as_of < day_end(day))
        .order_by(runs.c.as_of, runs.c.id)
    )
    latest = {row.department: row for row in connection.execute(query)}
    inputs: dict[str, Any] = {}
    for name in DEPARTMENTS:
        if name in live:
            inputs[name] = {"live": True}
        elif name in latest:
            moment = latest[name].as_of
            moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
            inputs[name] = {"ingestRun": latest[name].id, "asOf": moment.isoformat()}
        else:
            inputs[name] = None
    return inputs


def not_evaluated(rule: Rule, inputs: Inputs) -> str | None:
    """Why a rule cannot be evaluated on these inputs, or None when it can."""
    live = [name for name in rule.departments if (inputs.get(name) or {}).get("live")]
    if live:
        return f"{', '.join(live)} read live, as it is now: no snapshot of the as-of day to compare"
    missing = [name for name in rule.departments if inputs.get(name) is None]
    if missing:
        return f"no snapshot of {', '.join(missing)} on or before the as-of day"
    return None
