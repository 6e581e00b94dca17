"""Benchmark: the warnings scan after an ingest of one changed department, beside a hand-written SQL floor.

    .venv/bin/python bench/warnings.py [--households 20000] [--changed-share 0.05] [--out DIR]

Generates a demo of that many households (the ~1M-person demo is about 330,000), starts a throwaway
PostgreSQL server, imports every department and runs a first scan of the whole province (every alert
the demo holds, raised once). Then it changes one department, medical: a share of the settlements
(`--changed-share`) gets a discharge date inside the window and 3,000 yuan more out of pocket, as a
newer export would, and imports it again. And it measures, in the same run, on the same data:

(a) the floor: one hand-written SQL statement (below) that finds the households the import changed
    and, for them, the evidence of the four kinds not yet raised; read only, the least any scan of
    these households must cost;
(b) the hub's scan of the same households (`casework.warnings.scan.scan` with the households from
    `casework.warnings.changed`), which also writes the alerts, their evidence keys and history.

Before timing, it checks they agree: the (kind, household, record) triples the floor returns are
exactly those the scan adds to `alert_evidence`. It prints rows, seconds and the ratio scan/floor.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPOSITORY)]

from adapters.catalog import DEPARTMENTS  # noqa: E402
from adapters.ingest import ingest  # noqa: E402
from aidgraph.db import create_engine, migrate  # noqa: E402
from casework.tables import alert, alert_evidence  # noqa: E402
from casework.warnings.changed import changed_households  # noqa: E402
from casework.warnings.kinds import window_start  # noqa: E402
from casework.warnings.rules import default_rules  # noqa: E402
from casework.warnings.scan import scan  # noqa: E402
from resolvers.rules.regions import Region  # noqa: E402
from tools.demo import generate  # noqa: E402
from tools.demo.dates import TODAY  # noqa: E402
from tools.pgserver import ThrowawayPostgres  # noqa: E402

NOW = dt.datetime.combine(TODAY, dt.time(9), tzinfo=dt.UTC)

# The floor: the same kinds, written by hand for PostgreSQL over the same tables, for the households
# whose medical records the run changed or closed (the department this benchmark changes).
FLOOR = """
WITH changed AS (
    SELECT p.household_number FROM medical_settlement s JOIN registry_person p ON p.id_number = s.id_number
     WHERE s.ingest_run = :run AND s.valid_from = s.as_of
    UNION SELECT p.household_number FROM medical_settlement_history s
      JOIN registry_person p ON p.id_number = s.id_number WHERE s.closed_by = :run
    UNION SELECT p.household_number FROM medical_insurance s JOIN registry_person p ON p.id_number = s.id_number
     WHERE s.ingest_run = :run AND s.valid_from = s.as_of
    UNION SELECT p.household_number FROM medical_insurance_history s JOIN registry_person p ON p.id_number = s.id_number
     WHERE s.closed_by = :run
),
scope AS (
    SELECT h.* FROM registry_household h WHERE h.household_number IN (SELECT household_number FROM changed)
),
raised AS (SELECT kind, household_number, evidence_key FROM alert_evidence),
poor_or_monitored AS (
    SELECT sc.household_number FROM scope sc
     WHERE EXISTS (SELECT 1 FROM poverty_registered r WHERE r.household_number = sc.household_number
                     AND (r.registered_year IS NULL OR r.registered_year <= :year))
        OR EXISTS (SELECT 1 FROM poverty_monitored m WHERE m.household_number = sc.household_number
                     AND m.entered_on <= :day
                     AND NOT EXISTS (SELECT 1 FROM poverty_monitored n WHERE n.household_number = m.household_number
                                       AND n.entered_on > m.entered_on AND n.entered_on <= :day)
                     AND NOT (m.risk_eliminated IS TRUE AND (m.eliminated_on IS NULL OR m.eliminated_on <= :day)))
),
in_window AS (
    SELECT sc.household_number, s.record_key, s.out_of_pocket FROM scope sc
      JOIN registry_person p ON p.household_number = sc.household_number
      JOIN medical_settlement s ON s.id_number = p.id_number
     WHERE coalesce(s.to_date, s.from_date) > :start AND coalesce(s.to_date, s.from_date) <= :day
),
above AS (
    SELECT w.household_number FROM in_window w
     GROUP BY w.household_number
    HAVING sum(coalesce(w.out_of_pocket, 0))
           > CASE WHEN w.household_number IN (SELECT household_number FROM poor_or_monitored)
                  THEN :lower ELSE :upper END
)
SELECT 'MEDICAL_COSTS' AS kind, w.household_number, 'medical/jsxx/' || w.record_key AS evidence_key
  FROM in_window w JOIN above a ON a.household_number = w.household_number
UNION ALL
SELECT 'SEVERE_DISABILITY', sc.household_number, 'disability/cjr/' || c.record_key FROM scope sc
  JOIN registry_person p ON p.household_number = sc.household_number
  JOIN disability_certificate c ON c.id_number = p.id_number
 WHERE c.grade IN (1, 2) AND c.issued_on > :start AND c.issued_on <= :day
UNION ALL
SELECT 'TEMPORARY_ASSISTANCE', sc.household_number, 'civil_affairs/lsjz/' || t.record_key
  FROM civil_affairs_temporary_assistance t
  LEFT JOIN registry_person p ON p.id_number = t.id_number
  JOIN scope sc ON sc.household_number = coalesce(t.household_number, p.household_number)
 WHERE t.cause IN ('ILLNESS', 'DISASTER', 'ACCIDENT') AND t.applied_on > :start AND t.applied_on <= :day
UNION ALL
SELECT 'INCOME_BELOW_STANDARD', sc.household_number, 'civil_affairs/hdxx/' || k.record_key FROM scope sc
  JOIN civil_affairs_economic_check k ON k.household_number = sc.household_number
  JOIN civil_affairs_dibao_standard b ON b.county_code = substr(sc.region_code, 1, 6)
       AND b.year = extract(year FROM k.checked_on) AND b.residence_kind = sc.residence_kind
 WHERE k.checked_on <= :day
   AND NOT EXISTS (SELECT 1 FROM civil_affairs_economic_check n WHERE n.household_number = k.household_number
                     AND n.checked_on > k.checked_on AND n.checked_on <= :day)
   AND greatest(k.annual_income - coalesce(k.basic_pension, 0) - coalesce(k.medical_expense, 0)
                - coalesce(k.education_expense, 0)
                - least(coalesce(k.employment_cost, 0), (k.annual_income - coalesce(k.basic_pension, 0)) * 0.3), 0)
       < b.monthly_standard * k.persons * 12
   AND NOT EXISTS (SELECT 1 FROM civil_affairs_dibao d WHERE d.household_number = k.household_number
                     AND d.coverage = 'WHOLE_HOUSEHOLD' AND d.start_date <= :day
                     AND (d.end_date IS NULL OR d.end_date >= :day OR d.gradual_exit_until >= :day))
"""


def _new_only(statement: str) -> str:
    """The floor's candidates less the evidence already raised: the triples a scan must add."""
    return (
        f"SELECT f.* FROM ({statement}) f WHERE NOT EXISTS (SELECT 1 FROM alert_evidence e WHERE e.kind = f.kind"
        " AND e.household_number = f.household_number AND e.evidence_key = f.evidence_key)"
    )


def _change_medical(demo: Path, share: float) -> int:
    """A newer medical export: every n-th settlement discharged in the window with 3,000 yuan more paid."""
    path = demo / "medical" / "jsxx.csv"
    text = path.read_text(encoding="utf-8-sig").splitlines()
    rows = list(csv.reader(text))
    header, body = rows[0], rows[1:]
    to_date, paid = header.index("cyrq"), header.index("grzf")
    admitted = header.index("ryrq")
    step = max(1, round(1 / share))
    changed = 0
    recent = (TODAY - dt.timedelta(days=3)).strftime("%Y%m%d")
    for number, row in enumerate(body):
        if number % step or not row[paid].lstrip("-").isdigit():
            continue
        row[admitted] = min(row[admitted], recent)
        row[to_date] = recent
        row[paid] = str(int(row[paid]) + 300_000)  # in fen
        changed += 1
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *body])
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--changed-share", type=float, default=0.05, help="share of settlements the new export changes")
    parser.add_argument("--out", type=Path, help="keep the demo here (default: a temporary folder, removed)")
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="aidgraph-bench-warnings-"))
    demo = folder / "demo"
    rules = default_rules()
    server = None
    try:
        if not (demo / "manifest.json").exists():
            started = time.perf_counter()
            generate(demo, households=args.households, seed=0)
            print(f"demo of {args.households} households generated in {time.perf_counter() - started:.1f} s")
        server = ThrowawayPostgres().start()
        engine = create_engine(server.create_database("hub"))
        migrate(engine)
        exports = [(department, demo / name) for name, department in DEPARTMENTS.items()]
        as_of = dt.datetime.combine(TODAY, dt.time(0), tzinfo=dt.UTC)
        started = time.perf_counter()
        assert ingest(engine, exports, as_of=as_of).committed
        print(f"import of every department: {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        with engine.begin() as connection:
            first = scan(connection, regions=[Region("35")], as_of=TODAY, now=NOW, rules=rules)
        print(f"first scan of the province: {first.raised} alerts in {time.perf_counter() - started:.1f} s")

        changed = _change_medical(demo, args.changed_share)
        medical = DEPARTMENTS["medical"]
        started = time.perf_counter()
        outcome = ingest(engine, [(medical, demo / "medical")], as_of=as_of + dt.timedelta(hours=12))
        assert outcome.committed
        run_id = outcome.departments[0].run_id
        assert run_id is not None
        print(
            f"import of the changed medical export ({changed} settlements changed): "
            f"{time.perf_counter() - started:.1f} s"
        )

        parameters = {
            "run": run_id,
            "day": TODAY,
            "year": TODAY.year,
            "start": window_start(TODAY, rules.window_months),
            "lower": rules.medical_threshold_registered_or_monitored,
            "upper": rules.medical_threshold_other,
        }
        floor_statement = sa.text(_new_only(FLOOR))
        with engine.connect() as connection:
            connection.execute(floor_statement, parameters).all()  # warm the cache for both
            started = time.perf_counter()
            expected = {tuple(row) for row in connection.execute(floor_statement, parameters)}
            floor_seconds = time.perf_counter() - started
            households = connection.execute(
                sa.select(sa.func.count()).select_from(changed_households([(medical, run_id)]).subquery())
            ).scalar_one()

        with engine.connect() as connection:
            before = {
                tuple(row)
                for row in connection.execute(
                    sa.select(alert_evidence.c.kind, alert_evidence.c.household_number, alert_evidence.c.evidence_key)
                )
            }
        started = time.perf_counter()
        with engine.begin() as connection:
            report = scan(
                connection, households=changed_households([(medical, run_id)]), as_of=TODAY, now=NOW, rules=rules
            )
        scan_seconds = time.perf_counter() - started
        with engine.connect() as connection:
            after = {
                tuple(row)
                for row in connection.execute(
                    sa.select(alert_evidence.c.kind, alert_evidence.c.household_number, alert_evidence.c.evidence_key)
                )
            }
            alerts = connection.execute(sa.select(sa.func.count()).select_from(alert)).scalar_one()
        added = after - before
        if added != expected:
            print(f"DISAGREE: scan only {sorted(added - expected)[:5]}, floor only {sorted(expected - added)[:5]}")
            raise SystemExit(1)
        engine.dispose()
    finally:
        if server is not None:
            server.stop()
        if args.out is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"the scan and the floor agree: {len(expected)} new evidence records, households changed: {households}")
    counts = ", ".join(f"{kind} {c.raised} raised / {c.joined} joined" for kind, c in report.kinds.items())
    print(f"scan: {counts}; {alerts} alerts in the store")
    print(f"{'':<40}{'seconds':>10}")
    print(f"{'floor: hand-written SQL (read only)':<40}{floor_seconds:>10.3f}")
    print(f"{'scan of the changed households':<40}{scan_seconds:>10.3f}")
    print(f"scan / floor: {scan_seconds / floor_seconds:.1f}x")


if __name__ == "__main__":
    main()
