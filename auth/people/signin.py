"""Signing in to the console, step by step: password, a new password at first, the second factor's enrolment, its code.

Each step is a request; the session (auth/people/sessions.py) remembers which step the person is at,
and its token is renewed at each step passed. A wrong name, a wrong password and a disabled person
get the same answer, after the same scrypt work, so the answer does not tell which names exist.
Failed passwords and codes count per claimed name and per address (`auth.limiter.FailureLockout`);
a locked name or address is refused without its password being checked, for the lockout's seconds.
Every failure waits a moment (`failure_delay`) before it is answered.

On the trail: one `console-sign-in` event per sign-in that reaches the end, written before the
session is signed in (no sign-in without its event); failures counted per (registered name, address,
minute) and written by the hub's `AuditWriter` as one `console-sign-in-failed` event each (a name
that is not registered is not recorded: it may be a password typed into the wrong field); one
`console-lockout` event each time a name or an address is locked out.

The methods are blocking (scrypt, the store): a page calls them from a worker thread.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import sqlalchemy as sa

from auth.audit import AuditUnavailable, AuditWriter, audit_event
from auth.audit.refusals import CONSOLE_SIGN_IN_FAILED
from auth.limiter import FailureLockout, retry_after_header
from auth.people import totp as second_factor
from auth.people.passwords import PasswordError, check_new_password, check_password, hash_password
from auth.people.sessions import (
    CHANGE_PASSWORD,
    ENROL_TOTP,
    IDLE_TIMEOUT,
    SIGNED_IN,
    TOTP,
    Session,
    Stage,
    advance,
    end_session,
    open_session,
    session_of,
)
from auth.people.tables import console_user
from auth.people.users import CONSOLE_CALLER, MAX_NAME_LENGTH, User, audited_change

log = logging.getLogger("aidgraph.console")

SIGN_IN: Final = "console-sign-in"
SIGN_OUT: Final = "console-sign-out"
PASSWORD_CHANGED: Final = "console-password-changed"
TOTP_ENROLLED: Final = "console-totp-enrolled"
LOCKOUT: Final = "console-lockout"
FAILURE_DELAY_SECONDS: Final = 0.5

WRONG_NAME_OR_PASSWORD: Final = "the name or the password is not right"
WRONG_CODE: Final = "the code is not right: enter the newest one your authenticator app shows"
ENDED: Final = "your sign-in has ended: sign in again"
NOT_THIS_STEP: Final = "this is not the step of your sign-in you are at"
START_ENROLMENT_AGAIN: Final = "the enrolment was not started here: start it again"
ENROLLED_MEANWHILE: Final = "a second factor was enrolled meanwhile: sign in again with it"


class Verdict(enum.StrEnum):
    PASSED = "passed"  # the step passed: `stage` is the next one (signed-in at the end)
    REFUSED = "refused"
    LOCKED = "locked"  # too many failures: try again after `retry_after` seconds


@dataclass(frozen=True)
class Outcome:
    """What a step answers. `token` is the session's token from now on (None: no session; sign in again)."""

    verdict: Verdict
    message: str
    token: str | None = None
    stage: Stage | None = None
    retry_after: float | None = None

    @property
    def signed_in(self) -> bool:
        return self.verdict is Verdict.PASSED and self.stage == SIGNED_IN


@dataclass(frozen=True)
class _Secrets:
    """What the store holds of a person besides their `User`: only ever read here."""

    password_hash: str
    totp_secret: str | None
    totp_last_step: int | None


class SignIn:
    """The sign-in steps of one hub worker, sharing its lockout counts and its audit writer."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        lockout: FailureLockout,
        audit: AuditWriter,
        idle_timeout: timedelta = IDLE_TIMEOUT,
        failure_delay: float = FAILURE_DELAY_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._lockout = lockout
        self._audit = audit
        self._idle_timeout = idle_timeout
        self._failure_delay = failure_delay
        self._sleep = sleep
        self._clock = clock

    # --- the steps ---

    def password(self, name: str, password: str, *, address: str | None) -> Outcome:
        """The first step: a name and a password. Opens a session at the step that comes next."""
        keys = _keys(name, address)
        found = self._person(name)
        claimed = name if found is not None else None
        wait = self._lockout.locked(*keys)
        if wait is not None:
            return self._locked(wait, claimed=claimed, address=address)
        right = check_password(password, found[1].password_hash if found is not None else None)
        if found is None or not right or found[0].disabled:
            reason = "unknown name" if found is None else "wrong password" if not right else "disabled person"
            return self._failed(keys, claimed=claimed, address=address, reason=reason, message=WRONG_NAME_OR_PASSWORD)
        user, secrets = found
        stage = _stage_after_password(user, enrolled=secrets.totp_secret is not None)
        if stage == SIGNED_IN:
            self._signed_in(user, address, how="password")
            self._lockout.succeeded(*keys)
        token = open_session(self._engine, user.name, stage, now=self._now())
        return Outcome(Verdict.PASSED, _NEXT[stage], token=token, stage=stage)

    def change_password(self, token: str, new: str, *, address: str | None) -> Outcome:
        """The one-time password replaced by the person's own; then the second factor, if they need one."""
        session = self._session(token)
        if session is None or session.stage != CHANGE_PASSWORD:
            return _not_here(session, token)
        found = self._person(session.user.name)
        if found is None:
            return Outcome(Verdict.REFUSED, ENDED)
        user, secrets = found
        try:
            check_new_password(new, name=user.name, current_hash=secrets.password_hash)
        except PasswordError as error:
            return Outcome(Verdict.REFUSED, str(error), token=token, stage=CHANGE_PASSWORD)
        new_hash = hash_password(new)
        event = audit_event(
            PASSWORD_CHANGED, caller=CONSOLE_CALLER, actor=user.name, operation=None, document_hash=None, detail=None
        )
        with audited_change(self._engine, event) as connection:
            connection.execute(
                console_user.update()
                .where(console_user.c.name == user.name)
                .values(password_hash=new_hash, must_change_password=False, updated_at=event.at)
            )
        stage = _stage_after_password(user, enrolled=secrets.totp_secret is not None, changed=True)
        if stage == SIGNED_IN:
            self._signed_in(user, address, how="a new password")
            self._lockout.succeeded(*_keys(user.name, address))
        return self._advance(token, stage)

    def enrol_totp(self, token: str) -> tuple[str, str, str] | None:
        """A new second-factor secret, its otpauth URI and the QR code of it (inline SVG); None: not at this step.

        Nothing is stored until `confirm_totp` is given a code of it: the page sends the secret back.
        """
        session = self._session(token)
        if session is None or session.stage != ENROL_TOTP:
            return None
        secret = second_factor.new_secret()
        uri = second_factor.provisioning_uri(session.user.name, secret)
        return secret, uri, second_factor.qr_svg(uri)

    def confirm_totp(self, token: str, secret: str, code: str, *, address: str | None = None) -> Outcome:
        """The enrolment's end: a code of the new secret proves the app holds it; then the person is signed in."""
        session = self._session(token)
        if session is None or session.stage != ENROL_TOTP:
            return _not_here(session, token)
        if not second_factor.well_formed(secret):
            return Outcome(Verdict.REFUSED, START_ENROLMENT_AGAIN, token=token, stage=ENROL_TOTP)
        step = second_factor.verify(secret, code, last_step=None, at=self._clock())
        if step is None:
            return Outcome(Verdict.REFUSED, WRONG_CODE, token=token, stage=ENROL_TOTP)
        user = session.user
        event = audit_event(
            TOTP_ENROLLED, caller=CONSOLE_CALLER, actor=user.name, operation=None, document_hash=None, detail=None
        )
        try:
            with audited_change(self._engine, event) as connection:
                enrolled = connection.execute(
                    console_user.update()
                    .where(console_user.c.name == user.name, console_user.c.totp_secret.is_(None))
                    .values(totp_secret=secret, totp_last_step=step, updated_at=event.at)
                ).rowcount
                if not enrolled:
                    raise _EnrolledMeanwhile  # rolls the event back with the change that did not happen
        except _EnrolledMeanwhile:  # from another session of the person: that enrolment stands
            return Outcome(Verdict.REFUSED, ENROLLED_MEANWHILE)
        self._signed_in(user, address, how="a newly enrolled second factor")
        self._lockout.succeeded(*_keys(user.name, address))
        return self._advance(token, SIGNED_IN)

    def totp(self, token: str, code: str, *, address: str | None) -> Outcome:
        """The second factor's code: right, within a step of now, and never one used before."""
        session = self._session(token)
        if session is None or session.stage != TOTP:
            return _not_here(session, token)
        user = session.user
        keys = _keys(user.name, address)
        wait = self._lockout.locked(*keys)
        if wait is not None:
            return self._locked(wait, claimed=user.name, address=address)
        found = self._person(user.name)
        secrets = found[1] if found is not None else None
        step = None
        if secrets is not None and secrets.totp_secret is not None:
            step = second_factor.verify(secrets.totp_secret, code, last_step=secrets.totp_last_step, at=self._clock())
        if step is None or not self._use_step(user.name, step):
            return self._failed(
                keys,
                claimed=user.name,
                address=address,
                reason="wrong code",
                message=WRONG_CODE,
                token=token,
                stage=TOTP,
            )
        self._signed_in(user, address, how="password and second factor")
        self._lockout.succeeded(*keys)
        return self._advance(token, SIGNED_IN)

    def single_sign_on(self, name: str, *, address: str | None) -> Outcome:
        """The deployment's issuer vouched for `name` (auth/people/oidc.py): a session at the step after the
        password. What the person may do still comes from the hub's own table, and those who need a second
        factor still give the hub's own code. Someone the hub does not know, or has disabled, is refused with
        the words of a wrong password, and counted like one."""
        keys = _keys(name, address)
        found = self._person(name)
        claimed = name if found is not None else None
        wait = self._lockout.locked(*keys)
        if wait is not None:
            return self._locked(wait, claimed=claimed, address=address)
        if found is None or found[0].disabled:
            reason = "single sign-on of an unknown name" if found is None else "single sign-on of a disabled person"
            return self._failed(keys, claimed=claimed, address=address, reason=reason, message=WRONG_NAME_OR_PASSWORD)
        user, secrets = found
        enrolled = secrets.totp_secret is not None
        stage: Stage = TOTP if enrolled else ENROL_TOTP if user.needs_second_factor else SIGNED_IN
        if stage == SIGNED_IN:
            self._signed_in(user, address, how="single sign-on")
            self._lockout.succeeded(*keys)
        token = open_session(self._engine, user.name, stage, now=self._now())
        return Outcome(Verdict.PASSED, _NEXT[stage], token=token, stage=stage)

    def sign_out(self, token: str) -> None:
        """End the session at once (audited when it named a person)."""
        session = self._session(token)
        end_session(self._engine, token, now=self._now())
        if session is not None:
            self._audit.log.append(
                audit_event(
                    SIGN_OUT, caller=CONSOLE_CALLER, actor=session.user.name, operation=None, document_hash=None
                )
            )

    # --- the parts ---

    def _session(self, token: str) -> Session | None:
        return session_of(self._engine, token, now=self._now(), idle_timeout=self._idle_timeout)

    def _person(self, name: str) -> tuple[User, _Secrets] | None:
        if not 1 <= len(name) <= MAX_NAME_LENGTH:
            return None
        with self._engine.connect() as connection:
            row = connection.execute(sa.select(console_user).where(console_user.c.name == name)).mappings().first()
        if row is None:
            return None
        return User.from_row(row), _Secrets(row["password_hash"], row["totp_secret"], row["totp_last_step"])

    def _use_step(self, name: str, step: int) -> bool:
        """Record the step as the last one used, unless a code of it (or later) was used meanwhile: one use per code."""
        with self._engine.begin() as connection:
            newer = sa.or_(console_user.c.totp_last_step.is_(None), console_user.c.totp_last_step < step)
            statement = console_user.update().where(console_user.c.name == name, newer).values(totp_last_step=step)
            return bool(connection.execute(statement).rowcount)

    def _advance(self, token: str, stage: Stage) -> Outcome:
        renewed = advance(self._engine, token, stage, now=self._now())
        if renewed is None:
            return Outcome(Verdict.REFUSED, ENDED)
        return Outcome(Verdict.PASSED, _NEXT[stage], token=renewed, stage=stage)

    def _signed_in(self, user: User, address: str | None, *, how: str) -> None:
        """The sign-in's event, written before the session is signed in; AuditUnavailable stops the sign-in."""
        self._audit.log.append(
            audit_event(
                SIGN_IN,
                caller=CONSOLE_CALLER,
                actor=user.name,
                operation=None,
                document_hash=None,
                detail=f"{how}; from {address or 'an unknown address'}",
            )
        )

    def _failed(
        self,
        keys: tuple[str, ...],
        *,
        claimed: str | None,
        address: str | None,
        reason: str,
        message: str,
        token: str | None = None,
        stage: Stage | None = None,
    ) -> Outcome:
        for key in self._lockout.failed(*keys):
            self._lockout_started(key, claimed=claimed, address=address)
        self._audit.count_refusal(CONSOLE_SIGN_IN_FAILED, claimed=claimed, address=address, reason=reason)
        self._sleep(self._failure_delay)
        return Outcome(Verdict.REFUSED, message, token=token, stage=stage)

    def _locked(self, wait: float, *, claimed: str | None, address: str | None) -> Outcome:
        self._audit.count_refusal(CONSOLE_SIGN_IN_FAILED, claimed=claimed, address=address, reason="locked out")
        self._sleep(self._failure_delay)
        message = f"too many failed attempts: try again in {retry_after_header(wait)} s"
        return Outcome(Verdict.LOCKED, message, retry_after=wait)

    def _lockout_started(self, key: str, *, claimed: str | None, address: str | None) -> None:
        if key.startswith(_NAME_KEY):
            what = f"name {claimed}" if claimed is not None else "a name that is not registered"
        else:
            what = f"address {address}"
        wait = self._lockout.locked(key) or 0.0
        event = audit_event(
            LOCKOUT,
            caller=CONSOLE_CALLER,
            actor=None,  # whoever failed proved nothing
            operation=None,
            document_hash=None,
            detail=f"sign-in locked out for {retry_after_header(wait)} s: {what}",
        )
        try:
            self._audit.log.append(event)
        except AuditUnavailable:  # the refusal still goes out; the failures are counted all the same
            log.warning("a console lockout could not be written to the audit trail")

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)


class _EnrolledMeanwhile(Exception):
    pass


_NAME_KEY: Final = "name:"
_ADDRESS_KEY: Final = "address:"
_NEXT: Final[dict[Stage, str]] = {
    CHANGE_PASSWORD: "choose a password of your own",
    ENROL_TOTP: "enrol an authenticator app",
    TOTP: "enter the code of your authenticator app",
    SIGNED_IN: "signed in",
}


def _keys(name: str, address: str | None) -> tuple[str, ...]:
    keys = [_NAME_KEY + name[: MAX_NAME_LENGTH + 1]]
    if address is not None:
        keys.append(_ADDRESS_KEY + address)
    return tuple(keys)


def _stage_after_password(user: User, *, enrolled: bool, changed: bool = False) -> Stage:
    if user.must_change_password and not changed:
        return CHANGE_PASSWORD
    if enrolled:
        return TOTP
    if user.needs_second_factor:
        return ENROL_TOTP
    return SIGNED_IN


def _not_here(session: Session | None, token: str) -> Outcome:
    if session is None:
        return Outcome(Verdict.REFUSED, ENDED)
    return Outcome(Verdict.REFUSED, NOT_THIS_STEP, token=token, stage=session.stage)
