"""Helpers for tests through the secured hub: clients per demo role, tokens, and a query of every field."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
from graphql import GraphQLObjectType, get_named_type
from starlette.testclient import TestClient

import schema
from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest_folder
from auth.clients import register_client
from auth.policy import Policy, load_policy
from auth.policy_store import apply_policy
from tests.conftest import _fresh_store
from tests.world import write_world

DEMO_POLICY_TEXT = (Path(__file__).parents[1] / "auth" / "demo_policy.yaml").read_text(encoding="utf-8")
DEMO_POLICY: Policy = load_policy(DEMO_POLICY_TEXT)


@contextmanager
def world_store(request: pytest.FixtureRequest, folder: Path) -> Iterator[tuple[str, sa.Engine]]:
    """A fresh store on the backend `request.param` names, holding the tiny world and the demo policy."""
    url = _fresh_store(request.param, request, folder)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    world = write_world(folder / "world")
    for name, department in DEPARTMENTS.items():
        ingest_folder(engine, department, world / name)
    apply_demo_policy(engine)
    try:
        yield url, engine
    finally:
        engine.dispose()


def role_purposes() -> Iterator[tuple[str, str]]:
    """Every (role, purpose) pair the demo policy has rules for."""
    for role, by_purpose in DEMO_POLICY.rules.items():
        for purpose in by_purpose:
            yield role, purpose


def apply_demo_policy(engine: sa.Engine) -> int:
    with engine.begin() as connection:
        return apply_policy(connection, DEMO_POLICY_TEXT, applied_by="tests")


def register(
    engine: sa.Engine, client_id: str, *, roles: list[str], purposes: list[str], regions: list[str] | None = None
) -> str:
    _, secret = register_client(
        engine,
        client_id=client_id,
        department="tests",
        roles=roles,
        regions=regions or ["3505"],
        purposes=purposes,
    )
    return secret


def token(client: TestClient | httpx2.Client, client_id: str, secret: str, scope: str | None = None) -> str:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    if scope is not None:
        form["scope"] = scope
    response = client.post("/oauth/token", data=form)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def post(
    client: TestClient | httpx2.Client,
    document: str,
    bearer: str | None,
    *,
    purpose: str | None = None,
    status: int = 200,
    **variables: Any,
) -> dict[str, Any]:
    headers = {}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    if purpose is not None:
        headers["X-Purpose"] = purpose
    response = client.post("/graphql", json={"query": document, "variables": variables}, headers=headers)
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def every_field_below(type_name: str, *, skip: frozenset[str] = frozenset({"Person.household"})) -> str:
    """A selection of every field below a type, down every relation once (no way back up)."""
    graphql_schema = schema.create_schema()._schema

    def select(kind: GraphQLObjectType) -> str:
        parts = []
        for name, field in kind.fields.items():
            if f"{kind.name}.{name}" in skip:
                continue
            target = get_named_type(field.type)
            parts.append(f"{name} {{ {select(target)} }}" if isinstance(target, GraphQLObjectType) else name)
        return " ".join(parts)

    kind = graphql_schema.type_map[type_name]
    assert isinstance(kind, GraphQLObjectType)
    return select(kind)
