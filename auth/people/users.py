"""People who sign in to the console: adding, listing, disabling and resetting them, each change audited.

A person holds console permissions (`user-admin`, `policy-author`, `policy-approver`) and policy roles
with regions, through which the same access model as the API decides what data they see. `--roles`
names both kinds at once: the three permissions are permissions, every other name a policy role.
Each change and its audit event are one transaction: there is never a change without its event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa

from auth.audit import Caller, audit_event
from auth.audit.writer import audited_change
from auth.clients import ClientError, check_names, normalise_regions
from auth.people.passwords import hash_password, new_one_time_password
from auth.people.tables import console_user
from auth.policy_store import stored_policy

USER_ADMIN: Final = "user-admin"
POLICY_AUTHOR: Final = "policy-author"
POLICY_APPROVER: Final = "policy-approver"
PERMISSIONS: Final = (USER_ADMIN, POLICY_AUTHOR, POLICY_APPROVER)
# Who can change who sees what (people, clients) or make a policy live must prove it with a second factor.
NEEDS_SECOND_FACTOR: Final = frozenset({USER_ADMIN, POLICY_APPROVER})
CONSOLE: Final = "console"
CONSOLE_CALLER: Final = Caller(client_id=CONSOLE)
"""Changes made in the console: the client is the console, the actor the person signed in."""

USER_ADDED: Final = "console-user-added"
USER_DISABLED: Final = "console-user-disabled"
USER_RESET: Final = "console-user-reset"
MAX_NAME_LENGTH: Final = 100  # what the column holds
NEW_NAME_LENGTH: Final = 92  # what a new name may use (check_name)


class UserError(ValueError):
    """A change to a person that cannot be made; the message says what was wrong."""


class DuplicateUser(UserError):
    pass


class UnknownUser(UserError):
    pass


@dataclass(frozen=True)
class User:
    """A person as the console knows them; their password and second-factor secret are never part of it."""

    name: str
    permissions: frozenset[str]
    roles: frozenset[str]
    regions: tuple[str, ...]
    must_change_password: bool
    totp_enrolled: bool
    disabled: bool
    created_at: datetime

    @property
    def needs_second_factor(self) -> bool:
        return bool(self.permissions & NEEDS_SECOND_FACTOR)

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> User:
        return cls(
            name=row["name"],
            permissions=frozenset(row["permissions"]),
            roles=frozenset(row["roles"]),
            regions=tuple(row["regions"]),
            must_change_password=bool(row["must_change_password"]),
            totp_enrolled=row["totp_secret"] is not None,
            disabled=bool(row["disabled"]),
            created_at=utc(row["created_at"]),
        )


def utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at  # SQLite hands back UTC without its zone


# --- validation ---


def check_name(name: str) -> str:
    """1-92 printable characters (a Chinese name is fine), no '/', no space at either end.

    At most 92 and no '/', because a change's history names `console/<name>` in 100 characters, and a
    name is a part of the console's addresses (`/admin/users/<name>/...`)."""
    if not 1 <= len(name) <= NEW_NAME_LENGTH or not name.isprintable() or "/" in name:
        raise UserError(f"name {name!r}: use 1-{NEW_NAME_LENGTH} printable characters, without '/'")
    if name.strip() != name:
        raise UserError(f"name {name!r}: no spaces at the start or the end")
    return name


def split_roles(names: Sequence[str]) -> tuple[frozenset[str], frozenset[str]]:
    """`--roles` as (console permissions, policy roles)."""
    try:
        checked = check_names(names, kind="role", holder="a person")
    except ClientError as error:
        raise UserError(str(error)) from None
    return frozenset(n for n in checked if n in PERMISSIONS), frozenset(n for n in checked if n not in PERMISSIONS)


def _regions(regions: Sequence[str]) -> tuple[str, ...]:
    if not regions:  # a person with permissions only (a user admin) needs none
        return ()
    try:
        return normalise_regions(regions)
    except ClientError as error:
        raise UserError(str(error)) from None


def _check_roles_known(connection: sa.Connection, roles: frozenset[str]) -> None:
    live = stored_policy(connection)  # the live version: the newest one applied
    if live is None:
        return  # nothing to check against yet: the first policy is often written after its people
    unknown = sorted(roles - live.policy.rules.keys())
    if unknown:
        raise UserError(
            f"role {', '.join(unknown)} is not in the live policy (version {live.version}); "
            f"it knows {', '.join(sorted(live.policy.rules)) or 'no role'}"
        )


# --- the store ---


def add_user(
    engine: sa.Engine,
    name: str,
    roles: Sequence[str],
    regions: Sequence[str],
    *,
    by: str,
    caller: Caller = CONSOLE_CALLER,
    now: datetime | None = None,
) -> str:
    """Add a person; return their one-time password, which exists nowhere else from then on.

    `caller` is how the change came: the console by default, `Caller.the_hub()` from the command line.
    """
    check_name(name)
    permissions, policy_roles = split_roles(roles)
    checked_regions = _regions(regions)
    password = new_one_time_password()
    password_hash = hash_password(password)  # before the transaction: the chain's lock is not held for scrypt
    at = (now or datetime.now(UTC)).astimezone(UTC)
    event = audit_event(
        USER_ADDED,
        caller=caller,
        actor=by,
        operation="users add",
        document_hash=None,
        detail=f"{name}: permissions {_listed(permissions)}; roles {_listed(policy_roles)}; "
        f"regions {', '.join(checked_regions) or 'none'}",
        at=at,
    )
    with audited_change(engine, event) as connection:
        _check_roles_known(connection, policy_roles)
        if load_user(connection, name) is not None:
            raise DuplicateUser(f"{name!r} is already a person of the console")
        connection.execute(
            console_user.insert().values(
                name=name,
                permissions=sorted(permissions),
                roles=sorted(policy_roles),
                regions=list(checked_regions),
                password_hash=password_hash,
                must_change_password=True,
                totp_secret=None,
                totp_last_step=None,
                disabled=False,
                created_at=at,
                updated_at=at,
                created_by=by,
            )
        )
    return password


def load_user(connection: sa.Connection, name: str) -> User | None:
    if not 1 <= len(name) <= MAX_NAME_LENGTH:  # anything else cannot be stored, nor is sent to the database
        return None
    row = connection.execute(sa.select(console_user).where(console_user.c.name == name)).mappings().first()
    return User.from_row(row) if row is not None else None


def list_users(engine: sa.Engine) -> list[User]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(console_user).order_by(console_user.c.name)).mappings().all()
    return [User.from_row(row) for row in rows]


def disable_user(engine: sa.Engine, name: str, *, by: str, caller: Caller = CONSOLE_CALLER) -> None:
    """Refuse the person from now on; their sessions end at once."""
    from auth.people.sessions import end_sessions_of  # sessions hold a User: they import this module

    event = audit_event(
        USER_DISABLED, caller=caller, actor=by, operation="users disable", document_hash=None, detail=name
    )
    with audited_change(engine, event) as connection:
        _update(connection, name, disabled=True, updated_at=event.at)
        end_sessions_of(connection, name)


def reset_user(
    engine: sa.Engine, name: str, *, by: str, password: bool, second_factor: bool, caller: Caller = CONSOLE_CALLER
) -> str | None:
    """A new one-time password (returned) and/or no second factor (enrolled again at the next sign-in).

    The person's sessions end: whoever held one must sign in again with what was reset.
    """
    from auth.people.sessions import end_sessions_of  # sessions hold a User: they import this module

    if not (password or second_factor):
        raise UserError("say what to reset: the password, the second factor, or both")
    new_password = new_one_time_password() if password else None
    changes: dict[str, Any] = {}
    if new_password is not None:
        changes.update(password_hash=hash_password(new_password), must_change_password=True)
    if second_factor:
        changes.update(totp_secret=None, totp_last_step=None)
    what = " and ".join(part for part, done in (("password", password), ("second factor", second_factor)) if done)
    event = audit_event(
        USER_RESET, caller=caller, actor=by, operation="users reset", document_hash=None, detail=f"{name}: {what}"
    )
    with audited_change(engine, event) as connection:
        _update(connection, name, updated_at=event.at, **changes)
        end_sessions_of(connection, name)
    return new_password


def _update(connection: sa.Connection, name: str, **values: Any) -> None:
    updated = connection.execute(console_user.update().where(console_user.c.name == name).values(**values)).rowcount
    if not updated:
        raise UnknownUser(f"{name!r} is not a person of the console")


def _listed(names: frozenset[str]) -> str:
    return ", ".join(sorted(names)) or "none"
