"""`aidgraph audit search` as an operator uses it: one line per event, never a resident id, on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from auth.audit import AuditLog
from tests.auth.test_audit import NANAN, NANAN_LEGACY, NANAN_LOWER, T0, event
from tests.auth.test_audit_search import write_trail
from tests.test_cli_access import Command


@pytest.fixture
def aidgraph(store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Command:
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", store_url)
    return Command(capsys, monkeypatch)


def test_search_prints_one_line_per_event_newest_first(aidgraph: Command, engine: sa.Engine) -> None:
    # given the search tests' trail of six events
    write_trail(engine)

    # when one client's events are searched for
    code, out, err = aidgraph("audit", "search", "--client", "civil-affairs-nanan")

    # then each is one line: seq, time, client, purpose, operation, outcome and what was returned, counted
    assert (code, err) == (0, "3 events\n")
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == ["6", "3", "1"]
    assert lines[1].split() == [
        "3", "2026-11-24T11:00:00Z", "civil-affairs-nanan", "comparison", "HouseholdPictureWide", "partial",
        "subjects=2", "revealed=2", "masked=1", "withheld=1", "case=case-2", "policy=v3",
    ]  # fmt: skip


def test_filters_and_paging_from_the_command_line(aidgraph: Command, engine: sa.Engine) -> None:
    # given the trail
    write_trail(engine)

    # when searched with every kind of filter, and two at a time
    code, out, _ = aidgraph(
        "audit", "search", "--purpose", "assistance-review", "--outcome", "ok", "--operation", "Hous",
        "--since", "2026-11-24T17:00+08:00", "--until", "2026-11-24T13:00:00Z",
    )  # fmt: skip
    assert (code, [line.split()[0] for line in out.splitlines()]) == (0, ["1"])
    code, out, err = aidgraph("audit", "search", "--first", "2")
    # then the first page says where the next begins, and the next follows it
    assert (code, [line.split()[0] for line in out.splitlines()], err) == (
        0,
        ["6", "5"],
        "2 events; older ones: --before 5\n",
    )
    code, out, _ = aidgraph("audit", "search", "--first", "2", "--before", "5")
    assert [line.split()[0] for line in out.splitlines()] == ["4", "3"]


@pytest.mark.parametrize("spelling", [NANAN, NANAN_LOWER, NANAN_LEGACY])
def test_a_resident_is_searched_for_but_never_printed(aidgraph: Command, engine: sa.Engine, spelling: str) -> None:
    # given the trail, where NANAN was returned by events 1, 3 and 6
    write_trail(engine)

    # when the resident is searched for by any spelling of the id
    code, out, err = aidgraph("audit", "search", "--resident", spelling)

    # then those events are printed, with their subjects as a count, and no spelling of the id anywhere
    assert (code, [line.split()[0] for line in out.splitlines()]) == (0, ["6", "3", "1"])
    assert not any(id_number in out + err for id_number in (NANAN, NANAN_LOWER, NANAN_LEGACY))


def test_a_resident_id_read_from_standard_input(
    aidgraph: Command, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the trail, when the id is given on standard input (out of the shell's history)
    write_trail(engine)
    monkeypatch.setattr("sys.stdin", io.StringIO(NANAN_LEGACY + "\n"))
    code, out, _ = aidgraph("audit", "search", "--resident", "-")

    # then it is searched for as if it were given as an argument
    assert (code, [line.split()[0] for line in out.splitlines()]) == (0, ["6", "3", "1"])


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--first", "0"], "aidgraph audit search: first must be a whole number from 1 to 200\n"),
        (["--first", "201"], "aidgraph audit search: first must be a whole number from 1 to 200\n"),
        (
            ["--resident", "35058319870102123Y"],
            "aidgraph audit search: the resident id is not a valid 18- or 15-digit resident id\n",
        ),
    ],
)
def test_a_search_that_cannot_run_is_refused_saying_why(
    aidgraph: Command, engine: sa.Engine, arguments: list[str], says: str
) -> None:
    # given the trail, when a search is asked for that cannot run, then it is refused with exit 2, saying why
    write_trail(engine)
    assert aidgraph("audit", "search", *arguments) == (2, "", says)


def test_a_time_without_its_zone_is_refused(aidgraph: Command, capsys: pytest.CaptureFixture[str]) -> None:
    # when a time is given without a zone, then argparse refuses it, naming the problem
    with pytest.raises(SystemExit) as exited:
        aidgraph("audit", "search", "--since", "2026-11-24T09:00")
    assert exited.value.code == 2
    assert "needs a time zone" in capsys.readouterr().err


def test_a_clients_own_text_stays_on_its_line(aidgraph: Command, engine: sa.Engine) -> None:
    # given a refusal whose purpose and detail hold a line break and a terminal escape, the client's own text
    AuditLog(engine).append(
        event(0, at=T0, outcome="refused", purpose="x\n1 forged", detail="FORBIDDEN: \x1b[2Jpurpose 'x\n1 forged'")
    )

    # when searched, then the event is one line, its control characters shown as escapes
    code, out, _ = aidgraph("audit", "search")
    assert code == 0 and len(out.splitlines()) == 1
    assert "x\\u000a1 forged" in out and "\x1b" not in out
