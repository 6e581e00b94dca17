"""The demo access: the demo policy, one client per demo role and one person per kind of console work
(DESIGN §3), set up by `serve --demo`.

A service of the hub, not a tool: it writes the hub's own security configuration (an audited policy
version, registered clients with secrets) through the auth services, and needs nothing of the generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import sqlalchemy as sa

from auth.clients import load_client, register_client
from auth.policy import load_policy
from auth.policy_store import apply_audited_policy, stored_policy


def demo_policy_text() -> str:
    return resources.files("auth").joinpath("demo_policy.yaml").read_text(encoding="utf-8")


@dataclass(frozen=True)
class DemoClient:
    client_id: str
    department: str
    role: str
    regions: tuple[str, ...] = ("3505",)  # all of Quanzhou


DEMO_CLIENTS = (
    DemoClient("demo-civil-affairs", "civil-affairs", "civil-affairs"),
    DemoClient("demo-nanan-civil-affairs", "civil-affairs", "civil-affairs", regions=("350583",)),
    DemoClient("demo-education", "education", "education"),
    DemoClient("demo-medical", "medical", "medical"),
    DemoClient("demo-housing", "housing", "housing"),
    DemoClient("demo-disability", "disability", "disability"),
    DemoClient("demo-poverty", "poverty", "poverty"),
    DemoClient("demo-student-aid", "education", "student-aid"),
    DemoClient("demo-auditor", "audit", "auditor"),
)


def ensure_demo_policy(engine: sa.Engine) -> int | None:
    """Apply the demo policy on a hub that has none; the version applied, or None if one was there."""
    with engine.connect() as connection:
        if stored_policy(connection) is not None:
            return None
    return apply_audited_policy(engine, demo_policy_text(), applied_by="aidgraph serve --demo", source="demo policy")


def register_demo_clients(engine: sa.Engine) -> list[tuple[DemoClient, list[str], str]]:
    """Register the demo clients not yet registered: each with the purposes its role has rules for.

    Returns (client, purposes, secret) for those registered now; secrets are never shown again.
    """
    rules = load_policy(demo_policy_text()).rules
    registered = []
    for demo in DEMO_CLIENTS:
        if load_client(engine, demo.client_id) is not None:
            continue
        purposes = sorted(rules.get(demo.role, {}))
        _, secret = register_client(
            engine,
            client_id=demo.client_id,
            department=demo.department,
            roles=[demo.role],
            regions=list(demo.regions),
            purposes=purposes,
        )
        registered.append((demo, purposes, secret))
    return registered


@dataclass(frozen=True)
class DemoPerson:
    name: str
    roles: tuple[str, ...]  # console permissions and policy roles, as `aidgraph users add --roles` takes them
    regions: tuple[str, ...] = ()


DEMO_PEOPLE = (
    DemoPerson("demo.admin", ("user-admin",)),
    DemoPerson("demo.author", ("policy-author",)),
    DemoPerson("demo.approver", ("policy-approver",)),
    DemoPerson("demo.caseworker", ("civil-affairs",), ("350583",)),  # a caseworker of Nan'an
    DemoPerson("demo.auditor", ("auditor",), ("3505",)),
)


def add_demo_people(engine: sa.Engine) -> list[tuple[DemoPerson, str]]:
    """Add the demo people not yet added; returns (person, one-time password) for those added now.

    Two people for policies, so that the four-eyes rule can be tried: one writes a draft, the other
    approves it."""
    from auth.audit import Caller
    from auth.people.users import add_user, load_user

    added = []
    for demo in DEMO_PEOPLE:
        with engine.connect() as connection:
            if load_user(connection, demo.name) is not None:
                continue
        password = add_user(
            engine, demo.name, list(demo.roles), list(demo.regions), by="aidgraph serve --demo", caller=Caller.the_hub()
        )
        added.append((demo, password))
    return added
