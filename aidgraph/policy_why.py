""" "Why" for a whole query: the decision on every field it selects, as a client or some roles would get it.

Lives in the root because it analyses a document with the schema (`schema.analysis`, the same analysis
that gives a request its disclosure profile), which auth/ may not import; the decisions are
auth.policy_admin's.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import strawberry
from graphql import GraphQLError, parse, validate

import schema
from auth import entry_points
from auth.clients import Client
from auth.policy import Decision, Policy
from auth.policy_admin import PolicyAdminError, explain_profile
from schema.analysis import analyse


@cache
def _schema() -> strawberry.Schema:
    return schema.create_schema()


def explain_query(
    policy: Policy,
    client_or_roles: Client | Iterable[str],
    purpose: str,
    query_text: str,
    *,
    operation_name: str | None = None,
) -> list[tuple[str, Decision]]:
    """Each entry point and governed field `query_text` selects, with its decision under `policy`.

    A client's roles are its own, and the purpose must be one it may declare. Raises PolicyAdminError
    when the purpose is not the client's, or the query does not parse or validate (saying where).
    """
    if isinstance(client_or_roles, Client):
        if purpose not in client_or_roles.purposes:
            allowed = ", ".join(client_or_roles.purposes) or "none"
            raise PolicyAdminError(
                f"purpose {purpose!r} is not allowed for client {client_or_roles.client_id} ({allowed}):"
                " every request with it is refused before any field"
            )
        roles: Iterable[str] = client_or_roles.roles
    else:
        roles = client_or_roles
    graphql_schema = _schema()
    try:
        problems = validate(graphql_schema._schema, parse(query_text))
    except GraphQLError as error:
        problems = [error]
    if problems:
        raise PolicyAdminError("the query is not one the hub would run: " + "; ".join(p.message for p in problems))
    analysis = analyse(graphql_schema, query_text, operation_name)
    if analysis.unchosen:
        raise PolicyAdminError("the query holds several operations (or none of that name): name one")
    root = entry_points.MUTATION if analysis.mutation else entry_points.ROOT
    return explain_profile(policy, roles, purpose, analysis.profile, root=root)
