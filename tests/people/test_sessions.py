"""Console sessions: kept by the token's hash, ended by idling, signing out or disabling, named by a signed cookie."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from auth.people.sessions import (
    SIGNED_IN,
    TOTP,
    advance,
    cookie_value,
    csrf_matches,
    end_session,
    open_session,
    session_of,
    token_hash,
    token_of_cookie,
)
from auth.people.tables import console_session
from auth.people.users import add_user, disable_user, reset_user
from tests.people.console_people import NINE

IDLE = timedelta(minutes=30)


@pytest.fixture
def person(engine: sa.Engine) -> str:
    add_user(engine, "wang-fang", ["civil-affairs"], ["350583"], by="admin")
    return "wang-fang"


def test_the_store_keeps_the_tokens_hash_never_the_token(engine: sa.Engine, person: str) -> None:
    # when a session is opened
    token = open_session(engine, person, SIGNED_IN, now=NINE)
    # then its token is long and random, and the store holds only its SHA-256
    with engine.connect() as connection:
        row = connection.execute(sa.select(console_session)).mappings().one()
    assert len(token) >= 43 and token not in " ".join(str(value) for value in row.values())
    assert row["id_hash"] == token_hash(token)
    # and the token names the session, with its person, stage and a CSRF token of its own
    session = session_of(engine, token, now=NINE, idle_timeout=IDLE)
    assert session is not None and session.user.name == person and session.signed_in
    assert len(session.csrf_token) >= 43 and session.csrf_token != token


def test_a_session_ends_after_the_idle_timeout_and_each_request_restarts_it(engine: sa.Engine, person: str) -> None:
    # given a session opened at nine
    token = open_session(engine, person, SIGNED_IN, now=NINE)
    # when it is used at 9:29, then at 9:58 (29 minutes after that), it lasts
    assert session_of(engine, token, now=NINE + timedelta(minutes=29), idle_timeout=IDLE) is not None
    seen = session_of(engine, token, now=NINE + timedelta(minutes=58), idle_timeout=IDLE)
    assert seen is not None and seen.last_seen_at == NINE + timedelta(minutes=58)
    # and when it idles 30 minutes and a second, it has ended, and stays ended even with a longer timeout
    assert session_of(engine, token, now=NINE + timedelta(minutes=88, seconds=1), idle_timeout=IDLE) is None
    assert session_of(engine, token, now=NINE + timedelta(minutes=89), idle_timeout=timedelta(hours=9)) is None


def test_signing_out_ends_the_session_at_once(engine: sa.Engine, person: str) -> None:
    token = open_session(engine, person, SIGNED_IN)
    end_session(engine, token)
    assert session_of(engine, token, idle_timeout=IDLE) is None


def test_disabling_a_person_ends_their_sessions_at_once(engine: sa.Engine, person: str) -> None:
    # given a person signed in twice, and another person signed in
    first, second = open_session(engine, person, SIGNED_IN), open_session(engine, person, TOTP)
    add_user(engine, "li-lei", ["auditor"], [], by="admin")
    other = open_session(engine, "li-lei", SIGNED_IN)
    # when the person is disabled
    disable_user(engine, person, by="admin")
    # then neither of their sessions names anything on its next request; the other person's lasts
    assert session_of(engine, first, idle_timeout=IDLE) is None
    assert session_of(engine, second, idle_timeout=IDLE) is None
    assert session_of(engine, other, idle_timeout=IDLE) is not None
    # and their sessions are ended in the store, not only refused while the person stays disabled
    with engine.connect() as connection:
        ended = connection.execute(sa.select(console_session.c.user_name, console_session.c.ended_at)).all()
    assert sorted((name, at is not None) for name, at in ended) == [("li-lei", False), (person, True), (person, True)]


def test_a_disabled_person_has_no_session_even_one_left_open(engine: sa.Engine, person: str) -> None:
    # given a session still open in the store while its person is disabled (as by another worker)
    token = open_session(engine, person, SIGNED_IN)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE console_user SET disabled = :yes"), {"yes": True})
    # then it names nothing
    assert session_of(engine, token, idle_timeout=IDLE) is None


def test_a_reset_ends_the_persons_sessions(engine: sa.Engine, person: str) -> None:
    token = open_session(engine, person, SIGNED_IN)
    reset_user(engine, person, by="admin", password=False, second_factor=True)
    assert session_of(engine, token, idle_timeout=IDLE) is None


def test_advancing_renews_the_token_and_the_old_one_names_nothing(engine: sa.Engine, person: str) -> None:
    # given a session waiting for its second factor
    before = open_session(engine, person, TOTP)
    waiting = session_of(engine, before, idle_timeout=IDLE)
    assert waiting is not None and not waiting.signed_in
    # when it advances to signed in
    after = advance(engine, before, SIGNED_IN)
    # then the new token names it, signed in, with a new CSRF token; the old token names nothing
    assert after is not None and after != before
    signed_in = session_of(engine, after, idle_timeout=IDLE)
    assert signed_in is not None and signed_in.signed_in and signed_in.csrf_token != waiting.csrf_token
    assert session_of(engine, before, idle_timeout=IDLE) is None
    # and an ended session cannot advance
    end_session(engine, after)
    assert advance(engine, after, SIGNED_IN) is None


def test_an_unknown_stage_is_refused(engine: sa.Engine, person: str) -> None:
    with pytest.raises(ValueError, match="stage 'admin'"):
        open_session(engine, person, "admin")  # type: ignore[arg-type]


def test_the_csrf_token_must_be_the_sessions_own(engine: sa.Engine, person: str) -> None:
    session = session_of(engine, open_session(engine, person, SIGNED_IN), idle_timeout=IDLE)
    assert session is not None
    assert csrf_matches(session, session.csrf_token)
    assert not csrf_matches(session, None) and not csrf_matches(session, "") and not csrf_matches(session, "x" * 43)


def test_the_cookie_gives_back_its_token_and_refuses_any_change(engine: sa.Engine, person: str) -> None:
    # given a session's cookie
    token = open_session(engine, person, SIGNED_IN)
    cookie = cookie_value(engine, token)
    # then the cookie gives back the token, and holds it signed
    assert token_of_cookie(engine, cookie) == token and cookie.startswith(token + ".")
    # and a cookie changed in any way is refused: another token, a cut or changed signature, none, junk
    signature = cookie.rpartition(".")[2]
    other = open_session(engine, person, SIGNED_IN)
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for tampered in (
        f"{other}.{signature}",
        f"{token}.{signature[:-1]}",
        f"{token}.{flipped}",
        token,
        f"{token}.",
        f".{signature}",
        "",
        "x" * 10_000,
        f"{token}.{signature}\u00e9",
    ):
        assert token_of_cookie(engine, tampered) is None, tampered
