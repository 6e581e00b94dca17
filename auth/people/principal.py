"""A signed-in person as the access model sees them: the same `Principal` as a client system's.

The console answers a person's pages through the same schema, policy and audit as /graphql, so a
person is a principal like any client: client id `console`, their policy roles and regions, and the
purposes the live policy grants those roles (a person chooses one of them on each page). Their
pseudonyms are keyed per person, under the hub key `console-pseudonym-key`, so two people's
pseudonyms of one resident differ, as two clients' do.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

import sqlalchemy as sa

from auth.hub_keys import hub_key
from auth.people.users import CONSOLE, User
from auth.policy import CompiledPolicy
from auth.principal import Principal

PSEUDONYM_KEY: Final = "console-pseudonym-key"


def person_principal(engine: sa.Engine, user: User, policy: CompiledPolicy | None) -> Principal:
    """The person as one request sees them, under the live policy (None: no policy, no purpose)."""
    purposes = frozenset(granted_purposes(user.roles, policy))
    key = hmac.new(hub_key(engine, PSEUDONYM_KEY), user.name.encode("utf-8"), hashlib.sha256).digest()
    return Principal(
        client_id=CONSOLE,
        department=CONSOLE,
        roles=user.roles,
        regions=user.regions,
        purposes=purposes,
        token_purposes=purposes,
        pseudonym_key=key,
    )


def granted_purposes(roles: frozenset[str], policy: CompiledPolicy | None) -> list[str]:
    """The purposes for which the policy has any rule for one of the roles, sorted."""
    if policy is None:
        return []
    rules = policy.policy.rules
    return sorted({purpose for role in roles for purpose in rules.get(role, {})})
