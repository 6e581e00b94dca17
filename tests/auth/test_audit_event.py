"""One way to build an audit event: `audit_event`, used by every path, each naming its caller, actor and document.

On SQLite and PostgreSQL: the students export, a policy's dry run and a policy change write events
that carry the client, the acting person and the keyed document hash; no module of the hub builds an
`AuditEvent` by hand (GraphQL answers and refusals, webhooks: tests/test_access.py,
tests/auth/test_audit_refusals.py, tests/webhooks/test_delivery.py).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from aidgraph.dry_run import dry_run
from auth.access import Access
from auth.audit import DOCUMENT_HASH_PREFIX, Caller, audit_event, document_hash
from auth.clients import load_client
from auth.disclosure import Disclosure
from auth.policy import CompiledPolicy, unrestricted_view
from auth.policy_store import apply_audited_policy, stored_policy
from auth.principal import Principal
from auth.tables import audit_event as audit_event_table
from resolvers.students.export import export_rows
from tests.access import DEMO_POLICY_TEXT, register, world_store
from tests.conftest import BACKENDS
from tests.test_packages import TOP_LEVEL
from tests.world import SMALL, STUDENT

ROOT = Path(__file__).parents[2]
HUB_PACKAGES = [package for package in TOP_LEVEL if package != "tools"]  # every package of the hub, as installed
BUILDER_MODULE = Path("auth/audit/event.py")
TERM = "2026-2027-1"
MEMBERS = f'query Members {{ household(householdNumber: "{SMALL}") {{ members {{ idNumber name }} }} }}'


def calls_to(name: str, path: Path) -> list[int]:
    """The lines of `path` that call `name` (as `name(...)` or `something.name(...)`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == name)
            or (isinstance(node.func, ast.Attribute) and node.func.attr == name)
        )
    ]


def test_no_module_of_the_hub_builds_an_event_but_the_builder() -> None:
    # given every module of the hub's packages
    modules = [path for package in HUB_PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]
    assert len(modules) > 50

    # when the calls of AuditEvent(...) are looked for
    by_hand = {str(path.relative_to(ROOT)): lines for path in modules if (lines := calls_to("AuditEvent", path))}

    # then the builder is the only one: the trail takes nothing but an AuditEvent, so every path that
    # writes it goes through the builder
    assert list(by_hand) == [str(BUILDER_MODULE)]


def test_an_admitted_request_is_named_by_its_access() -> None:
    # given an admitted request's access and what it disclosed
    principal = Principal(
        client_id="civil-nanan",
        department="civil-affairs",
        roles=frozenset({"civil-affairs", "auditor"}),
        regions=("3505",),
        purposes=frozenset({"assistance-review"}),
        token_purposes=frozenset({"assistance-review"}),
        pseudonym_key=b"k" * 32,
    )
    access = Access(
        view=unrestricted_view(),
        regions=principal.regions,
        principal=principal,
        purpose="assistance-review",
        case_id="WF-1",
        policy_version=7,
    )
    disclosure = Disclosure(revealed=["Person.name"], masked=["Person.phone"], withheld=[], withheld_paths=[])

    # when its event is built
    event = audit_event(
        "ok",
        caller=Caller.of(access),
        actor=None,
        operation="Members",
        document_hash="hmac-sha256:x",
        subjects={"350583195003101114"},
        disclosure=disclosure,
    )

    # then the event carries the client, roles, purpose, case and policy version of the access
    assert (event.client_id, list(event.roles), event.purpose, event.case_id, event.policy_version) == (
        "civil-nanan",
        ["auditor", "civil-affairs"],
        "assistance-review",
        "WF-1",
        7,
    )
    assert (list(event.revealed), list(event.masked), list(event.withheld)) == (["Person.name"], ["Person.phone"], [])
    assert (event.operation, event.document_hash, event.actor, list(event.subjects)) == (
        "Members",
        "hmac-sha256:x",
        None,
        ["350583195003101114"],
    )


@pytest.fixture(scope="module", params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """The tiny world under the demo policy, with a student-aid client and a civil-affairs one."""
    with world_store(request, tmp_path_factory.mktemp("paths")) as (_url, engine):
        register(engine, "student-aid-system", roles=["student-aid"], purposes=["student-aid"])
        register(engine, "civil", roles=["civil-affairs"], purposes=["assistance-review"])
        yield engine


def new_events(engine: sa.Engine, after: int) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        query = sa.select(audit_event_table).where(audit_event_table.c.seq > after).order_by(audit_event_table.c.seq)
        return [dict(row) for row in connection.execute(query).mappings()]


def last_seq(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.coalesce(sa.func.max(audit_event_table.c.seq), 0))).scalar())


def student_aid_access(engine: sa.Engine) -> Access:
    with engine.connect() as connection:
        current = stored_policy(connection)
    assert current is not None
    client = load_client(engine, "student-aid-system")
    assert client is not None
    principal = client.principal(token_purposes=["student-aid"])
    view = CompiledPolicy(current.policy, current.version).view(principal.roles, "student-aid")
    return Access(
        view=view, regions=client.regions, principal=principal, purpose="student-aid", policy_version=current.version
    )


def test_an_export_names_its_client_the_person_running_it_and_what_was_asked(store: sa.Engine) -> None:
    # given the student-aid client's access, and the trail so far
    before = last_seq(store)

    # when a caseworker exports the term's students of a county, twice, and of the city once
    for region in ("350583", "350583", "3505"):
        rows = list(
            export_rows(
                store,
                student_aid_access(store),
                term=TERM,
                region=region,
                operation="students export (cli)",
                actor="caseworker-chen",
            )
        )
        assert STUDENT in [row["id_number"] for row in rows]

    # then each export's event names the client, its roles and purpose, the policy, the caseworker
    events = new_events(store, before)
    assert [(e["outcome"], e["client_id"], e["roles"], e["purpose"], e["actor"]) for e in events] == [
        ("export", "student-aid-system", ["student-aid"], "student-aid", "caseworker-chen")
    ] * 3
    assert all(event["policy_version"] == 1 and event["operation"] == "students export (cli)" for event in events)
    # and what was asked, as a keyed hash: one value for one request, another for another region
    hashes = [event["document_hash"] for event in events]
    assert all(value.startswith(DOCUMENT_HASH_PREFIX) for value in hashes)
    assert hashes[0] == hashes[1] != hashes[2]


def test_a_dry_run_names_the_person_running_it_and_the_client_it_acts_as(store: sa.Engine) -> None:
    # given the trail so far
    before = last_seq(store)

    # when an administrator dry-runs the demo policy as the civil-affairs client
    answer = dry_run(
        store, DEMO_POLICY_TEXT, client_id="civil", purpose="assistance-review", query=MEMBERS, run_by="admin-wang"
    )
    assert answer["data"]["household"]["members"]

    # then its one event names both, and the query by its keyed hash
    [event] = new_events(store, before)
    assert (event["outcome"], event["client_id"], event["roles"], event["purpose"], event["actor"]) == (
        "dry-run",
        "civil",
        ["civil-affairs"],
        "assistance-review",
        "admin-wang",
    )
    assert event["document_hash"] == document_hash(store, MEMBERS)
    assert len(event["subjects"]) == 2


def test_a_policy_change_names_the_person_who_made_it(store: sa.Engine) -> None:
    # given the trail so far, when an administrator applies a policy
    before = last_seq(store)
    version = apply_audited_policy(store, DEMO_POLICY_TEXT, applied_by="admin-li", source="demo policy")

    # then its event names them as the actor, no client, and the version
    [event] = new_events(store, before)
    assert (event["outcome"], event["client_id"], event["actor"], event["policy_version"]) == (
        "policy-applied",
        None,
        "admin-li",
        version,
    )
