"""A policy's dry run (DESIGN §3): what a registered client would receive for a query under a policy
that is not live yet, answered from the real store and audited like any read."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa

import schema
from adapters.catalog import DEPARTMENTS
from auth.access import access_for
from auth.audit import AuditLog, Caller, audit_event, document_hash
from auth.clients import load_client
from auth.disclosure import disclose, extensions_of
from auth.policy import CompiledPolicy, load_policy
from resolvers.context import Context
from schema.analysis import analyse


class DryRunError(ValueError):
    """The dry run cannot be made; the message says why."""


def dry_run(
    engine: sa.Engine,
    policy_text: str,
    *,
    client_id: str,
    purpose: str,
    query: str,
    variables: dict[str, Any] | None = None,
    source: str = "policy",
    run_by: str | None = None,
) -> dict[str, Any]:
    """The response `client_id` would get for `query` with `purpose` if `policy_text` were live.

    Audited as a read by `run_by` (the person asking, a command's `--by`) acting as `client_id`.
    """
    policy = load_policy(policy_text, source=source)
    client = load_client(engine, client_id)
    if client is None:
        raise DryRunError(f"no client {client_id!r} is registered")
    if purpose not in client.purposes:
        raise DryRunError(f"purpose {purpose!r} is not allowed for {client_id} ({', '.join(client.purposes)})")
    access = access_for(client.principal(token_purposes=[purpose]), purpose, CompiledPolicy(policy, version=None))
    graphql_schema = schema.create_schema()
    analysis = analyse(graphql_schema, query, None)
    context = Context.create(engine, {}, list(DEPARTMENTS), access, analysis=analysis)
    try:
        result = asyncio.run(graphql_schema.execute(query, variable_values=variables, context_value=context))
    finally:
        context.connection.close()
    disclosure = disclose(access, analysis.profile.fields)
    AuditLog(engine).append(
        audit_event(
            "dry-run",
            caller=Caller.of(access),  # the client it acts as; no policy version: the policy is a draft
            actor=run_by,
            operation="policy dry-run",
            document_hash=document_hash(engine, query),
            subjects=access.subjects,
            disclosure=disclosure,
            detail=f"policy sha256 {policy.sha256[:16]} from {source}",
        )
    )
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    extensions = extensions_of(disclosure)
    if extensions:
        payload["extensions"] = extensions
    return payload
