"""`aidgraph comparison` as an operator uses it: run, list, show, and the ledger exported as xlsx and CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from aidgraph.cli import main
from tests.casework.comparison.world import World

FORMULA = '=HYPERLINK("http://evil.example","学校")'


def _world(tmp_path: Path, store_url: str) -> tuple[str, str, str]:
    """A C1 household, a C3 student at a school whose name is a formula, a C4 patient with an HIV code;
    housing not ingested (C5 not evaluated)."""
    from aidgraph.db import create_engine

    world = World(tmp_path / "world")
    household = world.household()
    world.monitored(household)
    world.check(household, "2026-06-01", 1, 6000)
    poor = world.household()
    world.dibao(poor)
    student = world.person(poor, born="20150301")
    world.enrol(student, school_name=FORMULA)
    patient = world.person(poor)
    world.settlement(patient)
    world.rows["medical/jsxx.csv"][-1][-1] = "B20.1"  # its diagnosis: an HIV code
    engine = create_engine(store_url)
    world.ingest(engine, departments=("registry", "civil_affairs", "education", "medical", "disability", "poverty"))
    engine.dispose()
    return household, student, patient


def _aidgraph(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(list(args))
    return status, capsys.readouterr().out


def test_run_list_show_and_export(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a store with findings for C1, C3 and C4, and no housing snapshot
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", store_url)
    monkeypatch.delenv("AIDGRAPH_SOURCES", raising=False)
    household, student, patient = _world(tmp_path, store_url)
    # when the comparison runs from the command line
    status, out = _aidgraph(capsys, "comparison", "run", "--region", "350583", "--as-of", "2026-12-01", "--by", "王芳")
    # then it prints each rule's count, and "not evaluated" for the rule without its department
    assert status == 0
    assert "comparison run 1: region 350583, term 2026-2027-1, as of 2026-12-01" in out
    assert "C1 低保应保未保 (poor household below the standard, not on dibao): 1" in out
    assert "C5 危房未改造 (dangerous house not renovated): not evaluated (no snapshot of housing" in out
    assert "C2 残疾人两项补贴 (disabled person without the two subsidies): 0" in out
    # and the run is listed, and shown with its items, filtered by rule
    status, out = _aidgraph(capsys, "comparison", "list")
    assert status == 0 and "region 350583" in out and "by 王芳" in out and "C5 -" in out
    status, out = _aidgraph(capsys, "comparison", "show", "1", "--rule", "C1")
    [line] = [line for line in out.splitlines() if line[:1].isdigit()]
    assert status == 0 and f"C1  DIBAO  {household}" in line
    status, out = _aidgraph(capsys, "comparison", "show", "1", "--status", "FOUND")
    assert f"C3  STUDENT_AID  {student}" in out and f"C4  MEDICAL_ASSISTANCE  {patient}" in out

    # when an item's note holds a character no worksheet can hold (written before notes were checked), and
    # the ledger is exported as xlsx
    from aidgraph.db import create_engine
    from casework.tables import comparison_item

    engine = create_engine(store_url)
    with engine.begin() as connection:
        connection.execute(comparison_item.update().where(comparison_item.c.rule == "C1").values(note="see \x1b file"))
    engine.dispose()
    workbook = tmp_path / "ledger.xlsx"
    status, _ = _aidgraph(capsys, "comparison", "export", "1", "--format", "xlsx", "--out", str(workbook))
    # then it has one sheet per rule, each with the item's state and its evidence columns
    assert status == 0
    book = load_workbook(workbook, read_only=True)
    assert [name.split()[0] for name in book.sheetnames] == [f"C{n}" for n in range(1, 9)]
    c1 = list(book["C1 低保应保未保"].iter_rows(values_only=True))
    assert len(c1) == 2 and "status" in c1[0] and "hdxx.annual_income" in c1[0] and "note" in c1[0]
    assert dict(zip(c1[0], c1[1], strict=True))["status"] == "FOUND"
    assert dict(zip(c1[0], c1[1], strict=True))["note"] == "see  file"
    # and a formula in a department's value is written as text, a diagnosis as its chapter only: the HIV
    # code B20.1 as B**, as any code of chapter B would be, so that nothing marks it out
    c3 = dict(zip(*book[book.sheetnames[2]].iter_rows(values_only=True), strict=True))
    assert c3["xsxj.school_name"] == "'" + FORMULA
    c4 = dict(zip(*book[book.sheetnames[3]].iter_rows(values_only=True), strict=True))
    assert c4["jsxx.diagnosis_code"] == "B**"
    book.close()

    # when the ledger is exported as CSV
    ledger = tmp_path / "ledger.csv"
    status, _ = _aidgraph(capsys, "comparison", "export", "1", "--format", "csv", "--out", str(ledger))
    # then it is one file, UTF-8 with a BOM, with a rule column, formula-safe as well
    data = ledger.read_bytes()
    assert status == 0 and data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert sorted(row["rule"] for row in rows) == ["C1", "C3", "C4"]
    [c3_row] = [row for row in rows if row["rule"] == "C3"]
    assert c3_row["xsxj.school_name"] == "'" + FORMULA and c3_row["rule_name"] == "困难学生未资助"
    [c4_row] = [row for row in rows if row["rule"] == "C4"]
    assert c4_row["jsxx.diagnosis_code"] == "B**" and "B20" not in data.decode("utf-8-sig")


def test_show_and_export_of_an_unknown_run_fail(
    store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given an empty store
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", store_url)
    # when an unknown run is shown or exported, or a rule is misspelt
    # then each exits non-zero and says why
    assert main(["comparison", "show", "7"]) == 1
    assert main(["comparison", "export", "7", "--format", "csv"]) == 1
    assert main(["comparison", "show", "7", "--rule", "C9"]) == 2
    assert "no comparison run 7" in capsys.readouterr().err


def test_a_department_read_live_is_not_compared_and_the_run_says_so(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a store with every department but housing, and medical read live from its own database
    sources = tmp_path / "sources.yaml"
    sources.write_text(f'departments:\n  medical: {{url: "sqlite:///{tmp_path / "medical.db"}"}}\n', encoding="utf-8")
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", store_url)
    monkeypatch.setenv("AIDGRAPH_SOURCES", str(sources))
    _world(tmp_path, store_url)
    # when the comparison runs
    status, out = _aidgraph(capsys, "comparison", "run", "--region", "3505", "--as-of", "2026-12-01")
    # then the rules reading medical are not evaluated, and say it is read live, as it is now
    assert status == 0
    assert "C4 医疗救助未覆盖 (inpatient costs without medical assistance): not evaluated (medical read live" in out
    assert "C6 参保未资助 (insured without contribution subsidy): not evaluated (medical read live, as it is now" in out
    assert "C1 低保应保未保 (poor household below the standard, not on dibao): 1" in out
