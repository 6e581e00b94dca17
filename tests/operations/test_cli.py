"""`aidgraph operations add|list|remove` and `aidgraph clients add --registered-only|restrict`, run in-process.

Every test runs on SQLite and PostgreSQL, against a store of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from aidgraph.db import create_engine
from auth.clients import load_client
from tests.operations.test_registry import HOUSEHOLDS, MISSPELT, insert_stale
from tests.test_cli_access import Command


@pytest.fixture
def aidgraph(store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Command:
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", store_url)
    return Command(capsys, monkeypatch)


@pytest.fixture
def store(store_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(store_url)
    yield engine
    engine.dispose()


def test_add_prints_each_id_list_shows_them_and_remove_removes_one(aidgraph: Command, tmp_path: Path) -> None:
    # given a file of two operations
    file = tmp_path / "households.graphql"
    file.write_text(HOUSEHOLDS, encoding="utf-8")
    # when it is added
    code, out, _ = aidgraph("operations", "add", str(file), "--by", "admin-wang")
    # then each operation's id is printed with its name
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[1:] for line in lines] == [
        ["HouseholdAddress", "registered", "for", "every", "client"],
        ["PersonName", "registered", "for", "every", "client"],
    ]
    address_id = lines[0].split()[0]
    assert address_id.startswith("sha256:")
    # and the list shows both, valid
    code, out, _ = aidgraph("operations", "list")
    assert code == 0
    assert [line.split()[:5] for line in out.splitlines()[1:]] == [
        [address_id, "HouseholdAddress", "query", "(every", "client)"],
        [lines[1].split()[0], "PersonName", "query", "(every", "client)"],
    ]
    assert all(" valid " in line for line in out.splitlines()[1:])
    # when one is removed, then only the other is listed
    code, out, _ = aidgraph("operations", "remove", address_id, "--by", "admin-wang")
    assert code == 0 and "removed" in out
    assert address_id not in aidgraph("operations", "list")[1]


def test_a_file_that_does_not_validate_exits_1_naming_the_place(aidgraph: Command, tmp_path: Path) -> None:
    # given a file whose second operation misspells a field
    file = tmp_path / "misspelt.graphql"
    file.write_text(MISSPELT, encoding="utf-8")
    # when it is added, then the command exits 1 naming the file, place and operation, and registers nothing
    code, out, err = aidgraph("operations", "add", str(file))
    assert code == 1 and out == ""
    assert f"{file}:3:36: operation Misspelt: Cannot query field 'adress' on type 'Household'." in err
    assert aidgraph("operations", "list")[1].splitlines()[1:] == []


def test_list_marks_an_operation_the_schema_no_longer_validates_and_says_why(
    aidgraph: Command, store: sa.Engine
) -> None:
    # given a stored operation the schema no longer validates
    stale = insert_stale(store)
    # when the operations are listed, then it is marked invalid, with why
    code, out, err = aidgraph("operations", "list")
    assert code == 0
    row, problem = out.splitlines()[1:]
    assert row.startswith(stale) and " invalid " in row
    assert "Cannot query field 'retiredField' on type 'Household'." in problem
    assert "1 not served" in err


def test_add_for_an_unknown_client_and_remove_of_an_unknown_id_exit_2(aidgraph: Command, tmp_path: Path) -> None:
    file = tmp_path / "households.graphql"
    file.write_text(HOUSEHOLDS, encoding="utf-8")
    assert aidgraph("operations", "add", str(file), "--client", "nobody")[0] == 2
    assert aidgraph("operations", "remove", "sha256:" + "0" * 64)[0] == 2


def test_a_client_is_restricted_when_added_or_later_and_the_list_says_so(aidgraph: Command, store: sa.Engine) -> None:
    common = ["--department", "housing", "--roles", "housing", "--regions", "3505", "--purposes", "assistance-review"]
    # when a client is added restricted to registered operations, and another is not
    code, out, _ = aidgraph("clients", "add", "strict-system", *common, "--registered-only")
    assert code == 0 and "operations: registered only" in out
    assert aidgraph("clients", "add", "open-system", *common)[0] == 0
    # then the registry says so
    strict, open_ = load_client(store, "strict-system"), load_client(store, "open-system")
    assert strict is not None and strict.registered_only and strict.principal(token_purposes=()).registered_only
    assert open_ is not None and not open_.registered_only
    # when the other is restricted later, and the first lifted
    assert aidgraph("clients", "restrict", "open-system", "registered-only")[0] == 0
    assert aidgraph("clients", "restrict", "strict-system", "any")[0] == 0
    # then the list shows each one's operations
    # the columns end: operations, rate/min, last used
    listed = {line.split()[0]: line.split()[-3] for line in aidgraph("clients", "list")[1].splitlines()[1:]}
    assert listed == {"open-system": "registered", "strict-system": "any"}
    assert aidgraph("clients", "restrict", "nobody", "any")[0] == 2
