"""Adding a department: one defined only in test code is ingested, governed, queried and audited like the others.

The department (tests/departments/employment.py) is registered the way a new one is: its `Department`
in the catalog, its parts in schema/parts.py. Ingest, policies and labels read the catalog when they
run, so the test registers it in this process; the schema's Person gets its fields when its class is
made, so the query runs in a fresh interpreter that registers first (tests/departments/ask_hub.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest_folder
from aidgraph import cli
from auth.audit.rows import select_stored_rows
from auth.labels import GOVERNED, SPECIAL, STRUCTURE_TYPES
from auth.masks import apply_mask
from auth.policy_store import apply_policy
from auth.tables import audit_event
from tests.access import register
from tests.departments import employment
from tests.world import SMALL_HEAD, write_world

REPOSITORY = Path(__file__).resolve().parents[2]
CONTRACTS = [
    "sfzh,dwmc,htlx,ygz,qsrq,zzrq",
    f"{SMALL_HEAD},南安市溪美机械厂,2,4200.00,2019-03-01,",
    f"{SMALL_HEAD},泉州港务集团,1,3100.50,2012-07-01,2018-12-31",
    f"{SMALL_HEAD},泉州港务集团,1,3100.50,2010-01-01,2009-12-31",  # ends before it starts: rejected
]
POLICY = """\
human-resources:
  case-management:
    public: allow
    personal: mask
    Person.employment: allow
    EmploymentRecord.employer: allow
    EmploymentRecord.kind: allow
    EmploymentRecord.startDate: allow
"""
EMPLOYMENT = """query Employment($id: String!) {
  person(idNumber: $id) {
    idNumber
    employment { contracts { idNumber employer kind monthlyWage startDate endDate } }
  }
}"""


@pytest.fixture
def store(engine: sa.Engine, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh store with the tiny world's population, the employment tables and the test's policy; the
    department in the catalog, as its one line in adapters/catalog.py would put it."""
    monkeypatch.setitem(DEPARTMENTS, "employment", employment.DEPARTMENT)
    world = write_world(tmp_path / "world")
    ingest_folder(engine, DEPARTMENTS["registry"], world / "registry")
    employment.TABLES.create_all(engine)  # where a real department has its migration
    with engine.begin() as connection:
        apply_policy(connection, POLICY, applied_by="tests")  # checked against the labels: the new ones too
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", store_url)
    return store_url


def ask(store: str, client: str, secret: str, query: str, **variables: str) -> dict[str, Any]:
    request = {
        "store": store,
        "client": client,
        "secret": secret,
        "purpose": "case-management",
        "query": query,
        "variables": variables,
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.departments.ask_hub"],
        cwd=REPOSITORY,
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    body: dict[str, Any] = json.loads(done.stdout)
    return body


def last_event(engine: sa.Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.execute(select_stored_rows().order_by(audit_event.c.seq.desc()).limit(1)).mappings().one()
    return dict(row)


def test_a_registered_department_is_in_every_label_table_and_gone_when_removed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given the hub's label tables without the department
    assert "EmploymentRecord" not in GOVERNED and "employment" not in GOVERNED["Person"]
    # when it is registered in the catalog
    with monkeypatch.context() as patch:
        patch.setitem(DEPARTMENTS, "employment", employment.DEPARTMENT)
        # then its record type, its field on Person and its part type are labelled, and its id field is
        # found to hold special values (a minor's id) without being listed anywhere
        assert GOVERNED["EmploymentRecord"]["monthlyWage"] == "sensitive"
        assert GOVERNED["Person"]["employment"] == "personal"
        assert "PersonEmployment" in STRUCTURE_TYPES
        assert SPECIAL["EmploymentRecord"] == {"idNumber": ("minor", "id_number")}
    # and when it is removed again, so is every trace of it
    assert "EmploymentRecord" not in GOVERNED and "employment" not in GOVERNED["Person"]
    assert "PersonEmployment" not in STRUCTURE_TYPES and "EmploymentRecord" not in SPECIAL


def test_a_new_department_is_ingested_governed_queried_and_audited(
    store: str, engine: sa.Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given its export, ingested by the hub's own command
    folder = tmp_path / "employment"
    folder.mkdir()
    (folder / "ldht.csv").write_text("\n".join(CONTRACTS) + "\n", encoding="utf-8")
    assert cli.main(["ingest", "employment", str(folder)]) == 0
    report = capsys.readouterr().out.splitlines()
    assert report[0] == "employment:"
    assert report[2].split() == ["ldht.csv", "3", "2", "1", "2", "0"]  # read, accepted, rejected, changed, closed
    # and a client of a role whose policy grants some of its fields, masks some and denies the others
    secret = register(engine, "hr-system", roles=["human-resources"], purposes=["case-management"])
    # when the client asks for a person's employment through the secured /graphql
    body = ask(store, "hr-system", secret, EMPLOYMENT, id=SMALL_HEAD)
    # then the contracts come back as the policy says: employer, kind and start in full, the id masked with its
    # natural mask, the wage (sensitive) and the end date (personal, with no mask) withheld
    assert "errors" not in body, body
    person = body["data"]["person"]
    assert person["idNumber"] == apply_mask("id", SMALL_HEAD) != SMALL_HEAD
    contracts = sorted(person["employment"]["contracts"], key=lambda contract: contract["startDate"])
    assert contracts == [
        {
            "idNumber": apply_mask("id", SMALL_HEAD),
            "employer": "泉州港务集团",
            "kind": "FIXED_TERM",
            "monthlyWage": None,
            "startDate": "2012-07-01",
            "endDate": None,
        },
        {
            "idNumber": apply_mask("id", SMALL_HEAD),
            "employer": "南安市溪美机械厂",
            "kind": "OPEN_ENDED",
            "monthlyWage": None,
            "startDate": "2019-03-01",
            "endDate": None,
        },
    ]
    # and the response lists the withheld paths, one per path
    assert sorted(entry["path"] for entry in body["extensions"]["withheld"]) == [
        "person.employment.contracts.endDate",
        "person.employment.contracts.monthlyWage",
    ]
    # and the audit event names the new fields by what was done with each
    event = last_event(engine)
    assert (event["client_id"], event["purpose"], event["operation"], event["outcome"]) == (
        "hr-system",
        "case-management",
        "Employment",
        "partial",  # some fields withheld
    )
    assert event["revealed"] == [
        "EmploymentRecord.employer",
        "EmploymentRecord.kind",
        "EmploymentRecord.startDate",
        "Person.employment",
    ]
    assert event["masked"] == ["EmploymentRecord.idNumber", "Person.idNumber"]
    assert event["withheld"] == ["EmploymentRecord.endDate", "EmploymentRecord.monthlyWage"]
