"""The GraphQL over HTTP audit suite (npm graphql-http's `serverAudits`) against a hub served on loopback.

The hub is `aidgraph serve` on the tiny world, on SQLite and PostgreSQL; every audit request carries a
bearer token of a civil-affairs client. Every audit must pass without an error or a warning, except
the two that query `__type`: introspection is off outside development, on purpose (README, "GraphQL
limits"), and those two may fail only by saying so. Notices (what the spec allows but does not ask,
such as GET requests) are listed, not required.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from tests.access import register, token, world_store
from tests.conftest import BACKENDS
from tests.served import served
from tools.http_audit import AuditSuiteUnavailable, install, run_audits

CLIENT = "audit-civil-affairs"
# The audits whose documents ask for `__type`, refused with introspection off.
NEED_INTROSPECTION = {"28B9", "2EA1"}
INTROSPECTION_REFUSED = "GraphQL introspection has been disabled"


@pytest.fixture(scope="module")
def audit_suite() -> None:
    """The pinned npm packages, installed once (no-op when node_modules matches the lock file)."""
    try:
        install()
    except AuditSuiteUnavailable as missing:
        pytest.fail(str(missing))  # never a skip: CI installs Node.js (.ci/run)


@pytest.fixture(scope="module", params=BACKENDS)
def audited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, audit_suite: None
) -> Iterator[list[dict[str, Any]]]:
    """Every audit's result against the hub served on this backend's tiny world."""
    with world_store(request, tmp_path_factory.mktemp("http-audit")) as (url, engine):
        secret = register(engine, CLIENT, roles=["civil-affairs"], purposes=["assistance-review"])
        with served(environment={"AIDGRAPH_DATABASE_URL": url}, start_timeout=120) as hub:
            with httpx2.Client(base_url=hub.base_url, timeout=10) as http:
                bearer = token(http, CLIENT, secret)
            yield run_audits(f"{hub.base_url}/graphql", bearer)


def _listed(results: list[dict[str, Any]]) -> str:
    lines = []
    for result in results:
        line = f"{result['id']} {result['status']:<6} {result['name']}"
        if result["status"] != "ok":
            answer = result["response"]
            body = answer["body"][:300]
            line += f"\n    {result['reason']}; answered {answer['status']} {answer['contentType']}: {body}"
        lines.append(line)
    return "\n".join(lines)


def test_the_hub_passes_every_graphql_over_http_audit_but_introspection(audited: list[dict[str, Any]]) -> None:
    # given the suite's results against the served hub (printed whole, so a run shows each of them)
    print(_listed(audited))
    # then every audit ran, and none failed or warned except those that need introspection
    assert len(audited) > 50 and len({result["id"] for result in audited}) == len(audited)
    failing = [
        result for result in audited if result["status"] in ("error", "warn") and result["id"] not in NEED_INTROSPECTION
    ]
    assert not failing, "failing or warning audits:\n" + _listed(failing)


def test_the_introspection_audits_fail_only_because_introspection_is_off(audited: list[dict[str, Any]]) -> None:
    # given the two audits that ask for `__type`
    introspecting = [result for result in audited if result["id"] in NEED_INTROSPECTION]
    # then both ran, and any that did not pass was refused for asking for introspection, nothing else
    assert {result["id"] for result in introspecting} == NEED_INTROSPECTION
    for result in introspecting:
        if result["status"] != "ok":
            assert INTROSPECTION_REFUSED in result["response"]["body"], _listed([result])
