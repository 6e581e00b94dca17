"""Console sessions: kept in the store, named by a random token that only the person's signed cookie holds.

The store keeps the SHA-256 of the token, never the token, so reading the table does not let anyone
in. A session is looked up on every request, so signing out, being disabled or being reset ends it
at once, in every worker; one that saw no request for the idle timeout has ended too. The token is
renewed each time the session advances a stage of the sign-in, so a token seen before the second
factor was given is worth nothing after it. The cookie carries the token with an HMAC under the
hub key `console-cookie-key`, so a cookie the hub did not make is refused before the store is read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal, get_args

import sqlalchemy as sa

from auth.hub_keys import hub_key
from auth.people.tables import console_session, console_user
from auth.people.users import User, utc

Stage = Literal["change-password", "enrol-totp", "totp", "signed-in"]
STAGES: Final[tuple[Stage, ...]] = get_args(Stage)
CHANGE_PASSWORD: Final[Stage] = "change-password"
ENROL_TOTP: Final[Stage] = "enrol-totp"
TOTP: Final[Stage] = "totp"
SIGNED_IN: Final[Stage] = "signed-in"
COOKIE_KEY: Final = "console-cookie-key"
IDLE_TIMEOUT: Final = timedelta(minutes=30)  # the default of the setting AIDGRAPH_CONSOLE_IDLE_TIMEOUT
_TOKEN_BYTES: Final = 32
_MAX_COOKIE_LENGTH: Final = 200  # a token (43) and its signature (43), with room; longer is not ours


@dataclass(frozen=True)
class Session:
    token_hash: str
    user: User
    stage: Stage
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime

    @property
    def signed_in(self) -> bool:
        """Past every step of the sign-in: only such a session may see a page other than the sign-in's."""
        return self.stage == SIGNED_IN


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def open_session(engine: sa.Engine, user_name: str, stage: Stage, *, now: datetime | None = None) -> str:
    """A new session of the person at `stage`; return its token (for the cookie, never stored)."""
    _check_stage(stage)
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    at = _now(now)
    with engine.begin() as connection:
        connection.execute(
            console_session.insert().values(
                id_hash=token_hash(token),
                user_name=user_name,
                stage=stage,
                csrf_token=secrets.token_urlsafe(_TOKEN_BYTES),
                created_at=at,
                last_seen_at=at,
                ended_at=None,
            )
        )
    return token


def session_of(
    engine: sa.Engine, token: str, *, now: datetime | None = None, idle_timeout: timedelta
) -> Session | None:
    """The session the token names, seen now; None when unknown, ended, idle too long, or its person disabled."""
    at = _now(now)
    hashed = token_hash(token)
    query = (
        sa.select(
            console_user,
            console_session.c.stage,
            console_session.c.csrf_token,
            console_session.c.created_at.label("session_created_at"),  # the person's own is `created_at`
            console_session.c.last_seen_at,
        )
        .select_from(console_session)
        .join(console_user, console_user.c.name == console_session.c.user_name)
        .where(console_session.c.id_hash == hashed, console_session.c.ended_at.is_(None))
    )
    with engine.begin() as connection:
        row = connection.execute(query).mappings().first()
        if row is None or row["disabled"]:
            return None
        if at - utc(row["last_seen_at"]) > idle_timeout:
            _end(connection, console_session.c.id_hash == hashed, at)
            return None
        connection.execute(
            console_session.update()
            .where(console_session.c.id_hash == hashed, console_session.c.ended_at.is_(None))
            .values(last_seen_at=at)
        )
    return Session(
        token_hash=hashed,
        user=User.from_row(row),
        stage=row["stage"],
        csrf_token=row["csrf_token"],
        created_at=utc(row["session_created_at"]),
        last_seen_at=at,
    )


def advance(engine: sa.Engine, token: str, stage: Stage, *, now: datetime | None = None) -> str | None:
    """Move the session to `stage` under a new token (and CSRF token), returned; None if it has ended meanwhile.

    The old token names nothing from then on.
    """
    _check_stage(stage)
    renewed = secrets.token_urlsafe(_TOKEN_BYTES)
    with engine.begin() as connection:
        updated = connection.execute(
            console_session.update()
            .where(console_session.c.id_hash == token_hash(token), console_session.c.ended_at.is_(None))
            .values(
                id_hash=token_hash(renewed),
                stage=stage,
                csrf_token=secrets.token_urlsafe(_TOKEN_BYTES),
                last_seen_at=_now(now),
            )
        ).rowcount
    return renewed if updated else None


def end_session(engine: sa.Engine, token: str, *, now: datetime | None = None) -> None:
    """Sign out: the token names nothing from now on."""
    with engine.begin() as connection:
        _end(connection, console_session.c.id_hash == token_hash(token), _now(now))


def end_sessions_of(connection: sa.Connection, user_name: str, *, now: datetime | None = None) -> int:
    """End every session of the person, in the caller's transaction (disabled, reset); return how many."""
    return _end(connection, console_session.c.user_name == user_name, _now(now))


def csrf_matches(session: Session, sent: str | None) -> bool:
    """Whether a form's CSRF token is its session's (compared in constant time)."""
    return sent is not None and hmac.compare_digest(session.csrf_token.encode(), sent.encode("utf-8", "replace"))


# --- the cookie ---


def cookie_value(engine: sa.Engine, token: str) -> str:
    """`<token>.<HMAC-SHA-256 of it>`: what the session cookie holds."""
    return f"{token}.{_signature(engine, token)}"


def token_of_cookie(engine: sa.Engine, value: str) -> str | None:
    """The token of a cookie the hub made; None for anything else (tampered, cut, another key's)."""
    if len(value) > _MAX_COOKIE_LENGTH:
        return None
    token, dot, signature = value.rpartition(".")
    if not dot or not token:
        return None
    expected = _signature(engine, token)
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return None
    return token


def _signature(engine: sa.Engine, token: str) -> str:
    digest = hmac.new(hub_key(engine, COOKIE_KEY), token.encode("utf-8", "surrogateescape"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _end(connection: sa.Connection, which: sa.ColumnElement[bool], at: datetime) -> int:
    statement = console_session.update().where(which, console_session.c.ended_at.is_(None)).values(ended_at=at)
    return connection.execute(statement).rowcount


def _check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise ValueError(f"stage {stage!r} is none of {', '.join(STAGES)}")


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)
