"""People of the console: added with a one-time password, roles split into permissions and policy roles, audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from auth.audit import Caller, verify
from auth.people.passwords import check_password
from auth.people.tables import console_user
from auth.people.users import (
    DuplicateUser,
    UnknownUser,
    UserError,
    add_user,
    disable_user,
    list_users,
    load_user,
    reset_user,
)
from tests.access import apply_demo_policy
from tests.people.console_people import stored_events


def stored_row(engine: sa.Engine, name: str) -> dict[str, object]:
    with engine.connect() as connection:
        return dict(connection.execute(sa.select(console_user).where(console_user.c.name == name)).mappings().one())


def test_a_person_is_added_with_a_one_time_password_that_only_its_hash_keeps(engine: sa.Engine) -> None:
    # when a caseworker of Nan'an who also approves policies is added
    password = add_user(engine, "王芳", ["civil-affairs", "policy-approver"], ["350583"], by="admin-li")

    # then the password is returned once, and only its scrypt hash is stored, to be changed at first sign-in
    row = stored_row(engine, "王芳")
    assert password not in " ".join(str(value) for value in row.values())
    assert str(row["password_hash"]).startswith("scrypt$") and check_password(password, str(row["password_hash"]))
    assert row["must_change_password"] is True and row["created_by"] == "admin-li"
    # and --roles is split: the console permission apart from the policy role
    with engine.connect() as connection:
        user = load_user(connection, "王芳")
    assert user is not None
    assert (user.permissions, user.roles, user.regions) == (
        frozenset({"policy-approver"}),
        frozenset({"civil-affairs"}),
        ("350583",),
    )
    # and an approver needs a second factor, not yet enrolled
    assert user.needs_second_factor and not user.totp_enrolled and not user.disabled


def test_only_user_admins_and_approvers_need_a_second_factor(engine: sa.Engine) -> None:
    # given one person of each permission, and a caseworker with none
    for name, roles in {
        "admin": ["user-admin"],
        "author": ["policy-author"],
        "approver": ["policy-approver"],
        "caseworker": ["civil-affairs"],
    }.items():
        add_user(engine, name, roles, ["3505"], by="setup")
    # then the user admin and the approver need one, the author and the caseworker do not
    needs = {user.name: user.needs_second_factor for user in list_users(engine)}
    assert needs == {"admin": True, "approver": True, "author": False, "caseworker": False}


def test_each_change_is_an_audit_event_of_the_console_naming_who_made_it(engine: sa.Engine) -> None:
    # when a person is added, reset and disabled in the console by admin-li
    add_user(engine, "wang-fang", ["auditor"], ["35"], by="admin-li")
    reset_user(engine, "wang-fang", by="admin-li", password=True, second_factor=True)
    disable_user(engine, "wang-fang", by="admin-li")

    # then each is one event, of the console's client, with admin-li as the actor, and the chain holds
    events = stored_events(engine)
    assert [(e["outcome"], e["client_id"], e["actor"], e["operation"]) for e in events] == [
        ("console-user-added", "console", "admin-li", "users add"),
        ("console-user-reset", "console", "admin-li", "users reset"),
        ("console-user-disabled", "console", "admin-li", "users disable"),
    ]
    assert [e["detail"] for e in events] == [
        "wang-fang: permissions none; roles auditor; regions 35",
        "wang-fang: password and second factor",
        "wang-fang",
    ]
    assert verify(engine).ok


def test_a_change_from_the_command_line_names_no_client(engine: sa.Engine) -> None:
    # when a person is added by a command rather than in the console
    add_user(engine, "wang-fang", ["auditor"], [], by="root", caller=Caller.the_hub())
    # then its event names the person running it, and no client
    [event] = stored_events(engine)
    assert (event["client_id"], event["actor"]) == (None, "root")


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "1-92 printable"),
        ("x" * 101, "1-92 printable"),
        ("wang\nfang", "1-92 printable"),
        (" wang", "no spaces at the start or the end"),
        ("wang ", "no spaces at the start or the end"),
    ],
)
def test_a_name_that_cannot_be_one_is_refused(engine: sa.Engine, name: str, says: str) -> None:
    with pytest.raises(UserError, match=says):
        add_user(engine, name, ["auditor"], [], by="admin")
    assert list_users(engine) == [] and stored_events(engine) == []


@pytest.mark.parametrize(
    ("roles", "regions", "says"),
    [
        ([], ["3505"], "a person needs at least one role"),
        (["Civil Affairs"], ["3505"], "role 'Civil Affairs': use lower-case letters"),
        (["civil-affairs"], ["35x"], "region '35x' is not a division code"),
        (["civil-affairs"], ["350"], "not a division-code prefix"),
    ],
)
def test_roles_and_regions_that_cannot_be_are_refused_saying_which(
    engine: sa.Engine, roles: list[str], regions: list[str], says: str
) -> None:
    with pytest.raises(UserError, match=says):
        add_user(engine, "wang-fang", roles, regions, by="admin")


def test_regions_are_normalised_to_prefixes_as_a_clients_are(engine: sa.Engine) -> None:
    add_user(engine, "wang-fang", ["civil-affairs"], ["350500", "350583"], by="admin")
    [user] = list_users(engine)
    assert user.regions == ("3505",)


def test_a_policy_role_the_live_policy_does_not_know_is_refused_naming_it(engine: sa.Engine) -> None:
    # given no policy yet: any policy role is taken (the policy may be written after its people)
    add_user(engine, "early", ["civil-afairs"], ["3505"], by="admin")
    # given the demo policy live
    apply_demo_policy(engine)
    # when a person is added with a misspelt role, then it is refused, naming it and the roles it knows
    with pytest.raises(
        UserError, match=r"role civil-afairs is not in the live policy \(version 1\); it knows .*auditor"
    ):
        add_user(engine, "wang-fang", ["user-admin", "civil-afairs"], ["3505"], by="admin")
    # and the permissions never need the policy
    add_user(engine, "admin-li", ["user-admin", "policy-author", "auditor"], ["35"], by="admin")
    assert [user.name for user in list_users(engine)] == ["admin-li", "early"]


def test_a_name_is_added_once(engine: sa.Engine) -> None:
    add_user(engine, "wang-fang", ["auditor"], [], by="admin")
    with pytest.raises(DuplicateUser, match="'wang-fang' is already a person of the console"):
        add_user(engine, "wang-fang", ["civil-affairs"], [], by="admin")
    assert len(stored_events(engine)) == 1  # the refusal changed nothing, so recorded nothing


def test_a_password_reset_gives_a_new_one_time_password_and_the_old_one_stops_working(engine: sa.Engine) -> None:
    # given a person who changed their password and enrolled a second factor
    first = add_user(engine, "wang-fang", ["user-admin"], [], by="admin")
    with engine.begin() as connection:
        connection.execute(console_user.update().values(must_change_password=False, totp_secret="A" * 32))
    # when their password alone is reset
    second = reset_user(engine, "wang-fang", by="admin", password=True, second_factor=False)
    # then a new one-time password works, the old does not, it must be changed again, and the factor stays
    assert second is not None and second != first
    row = stored_row(engine, "wang-fang")
    assert check_password(second, str(row["password_hash"])) and not check_password(first, str(row["password_hash"]))
    assert row["must_change_password"] is True and row["totp_secret"] == "A" * 32


def test_a_second_factor_reset_clears_it_for_enrolment_at_the_next_sign_in(engine: sa.Engine) -> None:
    # given a person with a second factor enrolled and used
    add_user(engine, "wang-fang", ["user-admin"], [], by="admin")
    with engine.begin() as connection:
        connection.execute(console_user.update().values(totp_secret="A" * 32, totp_last_step=123))
    # when their second factor alone is reset, then no password is made and the factor is gone
    assert reset_user(engine, "wang-fang", by="admin", password=False, second_factor=True) is None
    row = stored_row(engine, "wang-fang")
    assert (row["totp_secret"], row["totp_last_step"]) == (None, None)
    [user] = list_users(engine)
    assert not user.totp_enrolled


def test_a_reset_of_nothing_or_of_nobody_is_refused(engine: sa.Engine) -> None:
    add_user(engine, "wang-fang", ["auditor"], [], by="admin")
    with pytest.raises(UserError, match="say what to reset"):
        reset_user(engine, "wang-fang", by="admin", password=False, second_factor=False)
    with pytest.raises(UnknownUser, match="'li-lei' is not a person of the console"):
        reset_user(engine, "li-lei", by="admin", password=True, second_factor=False)
    with pytest.raises(UnknownUser, match="'li-lei' is not a person of the console"):
        disable_user(engine, "li-lei", by="admin")
    assert len(stored_events(engine)) == 1  # only the add


def test_a_name_with_a_slash_or_too_long_for_the_history_is_refused(engine: sa.Engine) -> None:
    # a name is part of the console's addresses and of a change's history (`console/<name>` in 100 characters)
    for name in ("x/../bob", "x" * 93):
        with pytest.raises(UserError, match="without '/'"):
            add_user(engine, name, ["civil-affairs"], ["350583"], by="admin")
