"""Signing in to the console: each step, the same answer for every wrong name or password, lockout, the trail."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa

from auth.audit import AuditEvent, AuditLog, AuditUnavailable, AuditWriter, verify
from auth.limiter import FailureLockout
from auth.people import signin as signin_module
from auth.people.sessions import Session, session_of
from auth.people.signin import SignIn, Verdict
from auth.people.tables import console_session
from auth.people.users import add_user, disable_user
from tests.people.console_people import Clock, outcomes, stored_events

ADDRESS = "203.0.113.9"
LIMIT = 3
NEW_PASSWORD = "a passphrase of her own"


@dataclass
class Console:
    """A sign-in as one hub worker runs it, on a clock the test moves, that never really waits."""

    engine: sa.Engine
    clock: Clock = field(default_factory=Clock)
    waits: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lockout = FailureLockout(limit=LIMIT, window=60, lockout=60, clock=self.clock)
        self.writer = AuditWriter(AuditLog(self.engine), clock=lambda: datetime.fromtimestamp(self.clock.now, UTC))
        self.sign_in = SignIn(
            self.engine, lockout=self.lockout, audit=self.writer, sleep=self.waits.append, clock=self.clock
        )

    def code(self, secret: str) -> str:
        return pyotp.TOTP(secret).at(self.clock.now)

    def session(self, token: str) -> Session | None:
        at = datetime.fromtimestamp(self.clock.now, UTC)
        return session_of(self.engine, token, now=at, idle_timeout=timedelta(minutes=30))

    def write_counts(self) -> int:
        return asyncio.run(self.writer.write_refusals(everything=True))


@pytest.fixture
def console(engine: sa.Engine) -> Console:
    return Console(engine)


def signed_in_once(console: Console, name: str, one_time: str) -> None:
    """The first sign-in of a person who needs no second factor: the one-time password changed."""
    first = console.sign_in.password(name, one_time, address=ADDRESS)
    assert first.token is not None
    assert console.sign_in.change_password(first.token, NEW_PASSWORD, address=ADDRESS).signed_in


def enrolled(console: Console, name: str, one_time: str) -> str:
    """The first sign-in of a person who needs a second factor, to its end; return the factor's secret."""
    first = console.sign_in.password(name, one_time, address=ADDRESS)
    assert first.token is not None
    changed = console.sign_in.change_password(first.token, NEW_PASSWORD, address=ADDRESS)
    assert changed.token is not None
    enrolment = console.sign_in.enrol_totp(changed.token)
    assert enrolment is not None
    secret = enrolment[0]
    assert console.sign_in.confirm_totp(changed.token, secret, console.code(secret), address=ADDRESS).signed_in
    return secret


# --- the steps ---


def test_a_caseworker_changes_the_one_time_password_at_the_first_sign_in_then_signs_in_with_it(
    console: Console,
) -> None:
    # given a caseworker just added, with her one-time password
    one_time = add_user(console.engine, "wang-fang", ["civil-affairs"], ["350583"], by="admin")

    # when she signs in with it, then she must choose her own first
    first = console.sign_in.password("wang-fang", one_time, address=ADDRESS)
    assert (first.verdict, first.stage) == (Verdict.PASSED, "change-password") and first.token is not None
    # and when she does, she is signed in, under a new token; the first names nothing any more
    changed = console.sign_in.change_password(first.token, NEW_PASSWORD, address=ADDRESS)
    assert changed.signed_in and changed.token not in (None, first.token)
    assert changed.token is not None
    session = console.session(changed.token)
    assert session is not None and session.signed_in and session.user.name == "wang-fang"
    assert console.session(first.token) is None

    # then the next time her own password signs her in at once, and the one-time one no longer does
    assert console.sign_in.password("wang-fang", NEW_PASSWORD, address=ADDRESS).signed_in
    assert console.sign_in.password("wang-fang", one_time, address=ADDRESS).verdict is Verdict.REFUSED
    # and the trail holds the change and both sign-ins
    assert outcomes(console.engine) == [
        "console-user-added",
        "console-password-changed",
        "console-sign-in",
        "console-sign-in",
    ]


def test_a_new_password_that_breaks_a_rule_is_refused_at_the_same_step_and_not_counted(console: Console) -> None:
    # given a person at the password-change step
    one_time = add_user(console.engine, "wang-fang", ["civil-affairs"], ["350583"], by="admin")
    first = console.sign_in.password("wang-fang", one_time, address=ADDRESS)
    assert first.token is not None
    for refused, says in ((one_time, "differ from the one-time password"), ("short", "at least 12")):
        # when she chooses a password the rules refuse
        outcome = console.sign_in.change_password(first.token, refused, address=ADDRESS)
        # then it is refused saying why, and she stays at the step, with the same session
        assert (outcome.verdict, outcome.stage, outcome.token) == (Verdict.REFUSED, "change-password", first.token)
        assert says in outcome.message
    # and it is not a failed sign-in: nothing counted, no wait
    assert console.write_counts() == 0 and console.waits == []


def test_an_admin_enrols_a_second_factor_at_the_first_sign_in_and_gives_a_code_each_time_after(
    console: Console,
) -> None:
    # given a user admin just added
    one_time = add_user(console.engine, "admin-li", ["user-admin"], [], by="setup")

    # when she signs in and changes her password, then she must enrol a second factor
    first = console.sign_in.password("admin-li", one_time, address=ADDRESS)
    assert first.token is not None
    changed = console.sign_in.change_password(first.token, NEW_PASSWORD, address=ADDRESS)
    assert (changed.verdict, changed.stage) == (Verdict.PASSED, "enrol-totp") and changed.token is not None
    # and the enrolment gives her a secret, its URI and a QR code; a code of it signs her in
    enrolment = console.sign_in.enrol_totp(changed.token)
    assert enrolment is not None
    secret, uri, svg = enrolment
    assert secret in uri and svg.startswith("<svg")
    assert console.sign_in.confirm_totp(changed.token, secret, "000000").verdict is Verdict.REFUSED
    assert console.sign_in.confirm_totp(changed.token, "A" * 31, console.code(secret)).verdict is Verdict.REFUSED
    confirmed = console.sign_in.confirm_totp(changed.token, secret, console.code(secret), address=ADDRESS)
    assert confirmed.signed_in

    # when she signs in again within the same 30 s, then her password leads to the code step
    again = console.sign_in.password("admin-li", NEW_PASSWORD, address=ADDRESS)
    assert (again.verdict, again.stage) == (Verdict.PASSED, "totp") and again.token is not None
    # and the code she enrolled with cannot be used twice
    replayed = console.sign_in.totp(again.token, console.code(secret), address=ADDRESS)
    assert (replayed.verdict, replayed.stage) == (Verdict.REFUSED, "totp")
    # but the next step's code signs her in
    console.clock.advance(30)
    assert console.sign_in.totp(again.token, console.code(secret), address=ADDRESS).signed_in
    assert outcomes(console.engine)[1:] == [
        "console-password-changed",
        "console-totp-enrolled",
        "console-sign-in",
        "console-sign-in",
    ]


def test_a_step_is_taken_only_by_a_session_at_it(console: Console) -> None:
    # given a caseworker at the password-change step
    one_time = add_user(console.engine, "wang-fang", ["civil-affairs"], ["350583"], by="admin")
    first = console.sign_in.password("wang-fang", one_time, address=ADDRESS)
    assert first.token is not None
    # when her session tries another step, then it is refused, saying where she is
    code = console.sign_in.totp(first.token, "123456", address=ADDRESS)
    assert (code.verdict, code.stage, code.token) == (Verdict.REFUSED, "change-password", first.token)
    assert console.sign_in.enrol_totp(first.token) is None
    # and a token that names nothing is told to sign in again
    ended = console.sign_in.change_password("made-up", NEW_PASSWORD, address=ADDRESS)
    assert (ended.verdict, ended.token, ended.stage) == (Verdict.REFUSED, None, None)


def test_disabling_a_person_ends_their_sign_in_half_way(console: Console) -> None:
    # given an approver who gave her password and is asked for her code
    one_time = add_user(console.engine, "approver-chen", ["policy-approver"], [], by="admin")
    secret = enrolled(console, "approver-chen", one_time)
    halfway = console.sign_in.password("approver-chen", NEW_PASSWORD, address=ADDRESS)
    assert halfway.token is not None
    # when she is disabled, then even the right code does not sign her in
    disable_user(console.engine, "approver-chen", by="admin")
    console.clock.advance(30)
    outcome = console.sign_in.totp(halfway.token, console.code(secret), address=ADDRESS)
    assert (outcome.verdict, outcome.token) == (Verdict.REFUSED, None)


def test_signing_out_ends_the_session_and_is_recorded(console: Console) -> None:
    one_time = add_user(console.engine, "wang-fang", ["civil-affairs"], ["350583"], by="admin")
    signed_in_once(console, "wang-fang", one_time)
    outcome = console.sign_in.password("wang-fang", NEW_PASSWORD, address=ADDRESS)
    assert outcome.token is not None
    console.sign_in.sign_out(outcome.token)
    assert console.session(outcome.token) is None
    assert outcomes(console.engine)[-1] == "console-sign-out"
    assert stored_events(console.engine)[-1]["actor"] == "wang-fang"


# --- wrong names and passwords ---


def test_a_wrong_name_a_wrong_password_and_a_disabled_person_get_the_same_answer_and_wait(console: Console) -> None:
    # given a person, and a disabled one whose password is right
    add_user(console.engine, "wang-fang", ["civil-affairs"], ["350583"], by="admin")
    disabled_password = add_user(console.engine, "li-lei", ["civil-affairs"], ["350583"], by="admin")
    disable_user(console.engine, "li-lei", by="admin")

    # when each tries to sign in, from addresses of their own (no lockout in the way)
    answers = [
        console.sign_in.password(name, password, address=address)
        for name, password, address in (
            ("nobody", "whatever it is", "198.51.100.1"),
            ("wang-fang", "not her password", "198.51.100.2"),
            ("li-lei", disabled_password, "198.51.100.3"),
        )
    ]
    # then the three answers are the same, open no session, and each came after the same wait
    assert len(set(answers)) == 1
    [answer] = set(answers)
    assert (answer.verdict, answer.message, answer.token) == (
        Verdict.REFUSED,
        "the name or the password is not right",
        None,
    )
    assert console.waits == [0.5, 0.5, 0.5]
    with console.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(console_session)).scalar_one() == 0


def test_after_too_many_failures_a_name_is_locked_out_without_its_password_being_checked_then_let_in(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a caseworker who signed in once
    one_time = add_user(console.engine, "wang-fang", ["civil-affairs"], ["350583"], by="admin")
    signed_in_once(console, "wang-fang", one_time)
    # when someone tries three wrong passwords for her name, from three addresses
    for number in range(LIMIT):
        outcome = console.sign_in.password("wang-fang", f"guess {number}", address=f"198.51.100.{number}")
        assert outcome.verdict is Verdict.REFUSED
    # then even her right password is refused as locked, for a minute, and is not checked
    checked: list[str] = []
    monkeypatch.setattr(signin_module, "check_password", lambda *args: checked.append("checked") or True)
    locked = console.sign_in.password("wang-fang", NEW_PASSWORD, address="192.0.2.1")
    assert (locked.verdict, locked.token) == (Verdict.LOCKED, None) and checked == []
    assert locked.retry_after == pytest.approx(60) and "try again in 60 s" in locked.message
    monkeypatch.undo()
    # and once the minute is over, her password lets her in again
    console.clock.advance(61)
    assert console.sign_in.password("wang-fang", NEW_PASSWORD, address="192.0.2.1").signed_in


def test_an_address_that_fails_too_often_is_locked_out_whatever_name_it_gives(console: Console) -> None:
    # given a caseworker who signed in once
    one_time = add_user(console.engine, "wang-fang", ["civil-affairs"], ["350583"], by="admin")
    signed_in_once(console, "wang-fang", one_time)
    # when one address tries three names that do not exist
    for name in ("admin", "root", "test"):
        console.sign_in.password(name, "password", address="198.51.100.7")
    # then it is locked out even with her right name and password; she is not, from elsewhere
    assert console.sign_in.password("wang-fang", NEW_PASSWORD, address="198.51.100.7").verdict is Verdict.LOCKED
    assert console.sign_in.password("wang-fang", NEW_PASSWORD, address=ADDRESS).signed_in


def test_wrong_codes_count_toward_the_lockout_and_giving_the_password_again_does_not_clear_them(
    console: Console,
) -> None:
    # given an admin with a second factor, who knows her password
    one_time = add_user(console.engine, "admin-li", ["user-admin"], [], by="setup")
    secret = enrolled(console, "admin-li", one_time)
    console.clock.advance(30)
    # when two wrong codes are tried, then the password given again, then one more wrong code
    first = console.sign_in.password("admin-li", NEW_PASSWORD, address=ADDRESS)
    assert first.token is not None
    for _ in range(2):
        assert console.sign_in.totp(first.token, "000000", address=ADDRESS).verdict is Verdict.REFUSED
    second = console.sign_in.password("admin-li", NEW_PASSWORD, address=ADDRESS)
    assert second.token is not None and second.stage == "totp"
    assert console.sign_in.totp(second.token, "000000", address=ADDRESS).verdict is Verdict.REFUSED
    # then the name is locked out: even the right code is refused, unchecked
    assert console.sign_in.totp(second.token, console.code(secret), address=ADDRESS).verdict is Verdict.LOCKED
    assert console.sign_in.password("admin-li", NEW_PASSWORD, address="192.0.2.1").verdict is Verdict.LOCKED


# --- the trail ---


def test_failures_are_counted_per_name_address_and_minute_and_each_lockout_is_an_event(console: Console) -> None:
    # given a caseworker, at 09:00
    add_user(console.engine, "wang-fang", ["civil-affairs"], ["350583"], by="admin")
    # when, within the minute, her name fails three times from one address, and two unknown names twice
    for number in range(LIMIT):
        console.sign_in.password("wang-fang", f"guess {number}", address=ADDRESS)
    console.sign_in.password("hunter2-typed-as-a-name", "x", address="198.51.100.1")
    console.sign_in.password("wang fang", "x", address="198.51.100.1")
    # and her locked name is tried once more
    console.sign_in.password("wang-fang", "guess 4", address="198.51.100.2")
    # then nothing is written per attempt: only the lockout of her name, and of the address
    assert outcomes(console.engine) == ["console-user-added", "console-lockout", "console-lockout"]
    assert [event["detail"] for event in stored_events(console.engine)[1:]] == [
        "sign-in locked out for 60 s: name wang-fang",
        f"sign-in locked out for 60 s: address {ADDRESS}",
    ]
    # and when the counts are written, there is one event per registered name or none, address and minute
    assert console.write_counts() == 3
    failed = [event for event in stored_events(console.engine) if event["outcome"] == "console-sign-in-failed"]
    assert sorted(event["detail"] for event in failed) == [
        "1 failed sign-in: locked out (1); name wang-fang; from 198.51.100.2",
        "2 failed sign-ins: unknown name (2); from 198.51.100.1",
        f"3 failed sign-ins: wrong password (3); name wang-fang; from {ADDRESS}",
    ]
    assert {(event["client_id"], event["actor"]) for event in failed} == {("console", None)}
    # and a name that is not registered (maybe a password typed in the wrong field) is nowhere on the trail
    assert "hunter2" not in str(stored_events(console.engine))
    assert verify(console.engine).ok


def test_a_sign_in_is_one_event_naming_the_person_and_the_address(console: Console) -> None:
    one_time = add_user(console.engine, "wang-fang", ["civil-affairs"], ["350583"], by="admin")
    signed_in_once(console, "wang-fang", one_time)
    event = stored_events(console.engine)[-1]
    assert (event["outcome"], event["client_id"], event["actor"]) == ("console-sign-in", "console", "wang-fang")
    assert event["detail"] == f"a new password; from {ADDRESS}"


def test_no_sign_in_without_its_event(console: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a person who signed in once, and a trail that is down
    one_time = add_user(console.engine, "wang-fang", ["civil-affairs"], ["350583"], by="admin")
    signed_in_once(console, "wang-fang", one_time)

    def unavailable(self: AuditLog, events: Sequence[AuditEvent]) -> list[int]:
        raise AuditUnavailable("the audit event could not be written: OperationalError")

    monkeypatch.setattr(AuditLog, "append_many", unavailable)
    with console.engine.connect() as connection:
        sessions_before = connection.execute(sa.select(sa.func.count()).select_from(console_session)).scalar_one()
    # when she signs in, then it fails, and no session is opened
    with pytest.raises(AuditUnavailable):
        console.sign_in.password("wang-fang", NEW_PASSWORD, address=ADDRESS)
    with console.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(console_session)).scalar_one() == (
            sessions_before
        )
