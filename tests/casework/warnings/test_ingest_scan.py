"""Every ingest scans the households it changed before it exits, and says how long the scan took."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters import disability
from aidgraph import cli
from casework.tables import alert
from tests.casework.warnings.records import put
from tests.world import LARGE, LARGE_MEMBERS, SMALL, SMALL_HEAD, SMALL_SPOUSE, write_world

HEADER = "sfzh,cjzh,cjlb,cjdj,fzrq,yxq\n"


def _certificate(id_number: str, *, grade: int, issued: dt.date) -> str:
    return f"{id_number},{id_number}4{grade},4,{grade},{issued.isoformat()},\n"


def _severe_alerts(engine: sa.Engine) -> list[tuple[str, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(alert.c.household_number, alert.c.version).where(alert.c.kind == "SEVERE_DISABILITY")
        )
        return sorted((row.household_number, row.version) for row in rows)


def _severe_line(output: str) -> list[str]:
    (line,) = [line for line in output.splitlines() if line.strip().startswith("SEVERE_DISABILITY:")]
    return line.split()


def test_an_ingest_scans_the_households_whose_records_it_changed_or_closed(
    engine: sa.Engine,
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given the tiny world, its disability export holding a severe certificate issued yesterday
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", store_url)
    world = write_world(tmp_path / "world")
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    certificates = world / "disability" / "cjr.csv"
    certificates.write_text(HEADER + _certificate(SMALL_HEAD, grade=1, issued=yesterday), encoding="utf-8")
    # when every department is ingested
    assert cli.main(["ingest", "all", str(world), "--as-of", "2026-11-30"]) == 0
    first = capsys.readouterr().out
    # then the scan of the changed households raised the alert, and its time is on a line of its own
    assert _severe_line(first)[:4] == ["SEVERE_DISABILITY:", "1", "alerts", "raised,"]
    assert "warnings scan took" in first
    assert _severe_alerts(engine) == [(SMALL, 1)]
    # when the same export, taken later, is ingested again: nothing changed, nothing is raised
    assert cli.main(["ingest", "disability", str(world / "disability"), "--as-of", "2026-11-30T06:00"]) == 0
    assert _severe_line(capsys.readouterr().out)[:2] == ["SEVERE_DISABILITY:", "0"]
    # given a severe certificate of the first household's spouse that no ingest brought (so changed by none)
    with engine.begin() as connection:
        put(
            connection,
            disability.CERTIFICATE,
            id_number=SMALL_SPOUSE,
            certificate_number=f"{SMALL_SPOUSE}41",
            category="PHYSICAL",
            grade=1,
            issued_on=yesterday,
        )
    # when an incremental export brings the first certificate unchanged and a new one in the other household
    other = LARGE_MEMBERS[0][0]
    certificates.write_text(
        HEADER + _certificate(SMALL_HEAD, grade=1, issued=yesterday) + _certificate(other, grade=2, issued=yesterday),
        encoding="utf-8",
    )
    assert (
        cli.main(["ingest", "disability", str(world / "disability"), "--incremental", "--as-of", "2026-11-30T12:00"])
        == 0
    )
    # then it raised an alert for that household only; the first household was not scanned (its alert unchanged)
    assert _severe_line(capsys.readouterr().out)[:2] == ["SEVERE_DISABILITY:", "1"]
    assert _severe_alerts(engine) == [(SMALL, 1), (LARGE, 1)]
    # and a scan of the region finds the spouse's certificate, which joins the first household's alert
    assert cli.main(["warnings", "scan", "--region", "350583"]) == 0
    assert _severe_line(capsys.readouterr().out)[:7] == [
        "SEVERE_DISABILITY:",
        "0",
        "alerts",
        "raised,",
        "1",
        "evidence",
        "joined",
    ]
    assert _severe_alerts(engine) == [(SMALL, 2), (LARGE, 1)]


def test_an_ingest_refuses_a_faulty_rules_file_before_importing(
    engine: sa.Engine,
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given a rules file with a negative threshold named by the setting
    rules = tmp_path / "rules.yaml"
    text = (Path(__file__).parents[3] / "casework" / "warnings" / "default_rules.yaml").read_text(encoding="utf-8")
    rules.write_text(text.replace("threshold_other: 20000", "threshold_other: -20000"), encoding="utf-8")
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", store_url)
    monkeypatch.setenv("AIDGRAPH_WARNING_RULES", str(rules))
    world = write_world(tmp_path / "world")
    # when an ingest runs, then it is refused naming the key, and nothing was imported
    assert cli.main(["ingest", "all", str(world)]) == 2
    assert "threshold_other: must not be negative" in capsys.readouterr().err
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM ingest_run")).scalar_one() == 0
