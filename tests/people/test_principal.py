"""A signed-in person as the access model sees them: roles, regions, the purposes their roles are granted."""

from __future__ import annotations

import sqlalchemy as sa

from auth.people.principal import person_principal
from auth.people.users import add_user, load_user
from auth.policy import CompiledPolicy
from auth.policy_store import stored_policy
from tests.access import DEMO_POLICY, apply_demo_policy


def test_a_person_is_a_principal_of_the_console_with_the_purposes_of_their_roles(engine: sa.Engine) -> None:
    # given the demo policy live, and a caseworker of Nan'an who also approves policies
    apply_demo_policy(engine)
    add_user(engine, "wang-fang", ["civil-affairs", "policy-approver"], ["350583"], by="admin")
    with engine.connect() as connection:
        user = load_user(connection, "wang-fang")
        live = stored_policy(connection)
    assert user is not None and live is not None

    # when the person is seen as a principal
    principal = person_principal(engine, user, CompiledPolicy(live.policy, live.version))

    # then they are the console's, with their policy roles (not permissions) and regions
    assert (principal.client_id, principal.department) == ("console", "console")
    assert principal.roles == {"civil-affairs"} and principal.regions == ("350583",)
    # and may declare exactly the purposes the policy grants civil-affairs
    granted = set(DEMO_POLICY.rules["civil-affairs"])
    assert principal.purposes == principal.token_purposes == granted and "assistance-review" in granted
    assert principal.covers("350583101") and not principal.covers("350582101")


def test_without_a_policy_a_person_has_no_purpose(engine: sa.Engine) -> None:
    add_user(engine, "wang-fang", ["civil-affairs"], ["350583"], by="admin")
    with engine.connect() as connection:
        user = load_user(connection, "wang-fang")
    assert user is not None
    assert person_principal(engine, user, None).purposes == frozenset()


def test_each_person_has_pseudonyms_of_their_own(engine: sa.Engine) -> None:
    # given two people of the same roles
    for name in ("wang-fang", "li-lei"):
        add_user(engine, name, ["auditor"], ["35"], by="admin")
    with engine.connect() as connection:
        users = [load_user(connection, name) for name in ("wang-fang", "li-lei", "wang-fang")]
    # then their pseudonym keys differ, and one person's is the same each time
    keys = [person_principal(engine, user, None).pseudonym_key for user in users if user is not None]
    assert keys[0] != keys[1] and keys[0] == keys[2] and len(keys[0]) == 32
