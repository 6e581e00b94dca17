"""`aidgraph users`: the one-time password printed once signs in; list shows no secret; disable and reset work."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from auth.audit import AuditLog, AuditWriter
from auth.limiter import FailureLockout
from auth.people.signin import SignIn, Verdict
from tests.people.console_people import stored_events
from tests.test_cli_access import Command

PRINTED_PASSWORD = re.compile(r"one-time password: (\S+)")


@pytest.fixture
def aidgraph(store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Command:
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", store_url)
    return Command(capsys, monkeypatch)


def sign_in(engine: sa.Engine, name: str, password: str) -> Verdict:
    console = SignIn(
        engine, lockout=FailureLockout(limit=100), audit=AuditWriter(AuditLog(engine)), sleep=lambda _: None
    )
    return console.password(name, password, address="127.0.0.1").verdict


def test_a_person_added_on_the_command_line_signs_in_with_the_printed_password(
    aidgraph: Command, engine: sa.Engine
) -> None:
    # when a caseworker who also authors policies is added
    code, out, err = aidgraph(
        "users", "add", "王芳", "--roles", "civil-affairs,policy-author", "--regions", "350583", "--by", "admin-li"
    )
    # then the one-time password is printed once, saying it must be changed at the first sign-in
    assert (code, err) == (0, "")
    [password] = PRINTED_PASSWORD.findall(out)
    assert "changed at the first sign-in" in out and "shown only once" in out
    # and it signs her in (to the step where she chooses her own)
    assert sign_in(engine, "王芳", password) is Verdict.PASSED
    # and the change is on the trail, naming who made it and no client
    [added] = [event for event in stored_events(engine) if event["outcome"] == "console-user-added"]
    assert (added["client_id"], added["actor"], added["operation"]) == (None, "admin-li", "users add")

    # when the people are listed, then she is there, with no password or secret anywhere
    code, out, err = aidgraph("users", "list")
    assert code == 0 and password not in out and "scrypt" not in out
    [line] = [line for line in out.splitlines() if line.startswith("王芳")]
    assert line.split() == ["王芳", "enabled*", "policy-author", "civil-affairs", "350583", "-"]
    assert "1 people" in err


def test_an_admin_is_listed_as_needing_a_second_factor(aidgraph: Command) -> None:
    aidgraph("users", "add", "admin-li", "--roles", "user-admin")
    _, out, _ = aidgraph("users", "list")
    [line] = [line for line in out.splitlines() if line.startswith("admin-li")]
    assert line.split() == ["admin-li", "enabled*", "user-admin", "-", "-", "needed"]


def test_a_disabled_person_cannot_sign_in_and_a_reset_gives_a_new_password(
    aidgraph: Command, engine: sa.Engine
) -> None:
    # given a person added
    _, out, _ = aidgraph("users", "add", "wang-fang", "--roles", "auditor", "--regions", "35")
    [first] = PRINTED_PASSWORD.findall(out)
    # when her password is reset, then a new one is printed, and only it signs in
    code, out, _ = aidgraph("users", "reset", "wang-fang", "--password", "--by", "admin-li")
    assert code == 0 and "Their sessions have ended." in out
    [second] = PRINTED_PASSWORD.findall(out)
    assert second != first
    assert sign_in(engine, "wang-fang", first) is Verdict.REFUSED
    assert sign_in(engine, "wang-fang", second) is Verdict.PASSED
    # when her second factor alone is reset, then no password is printed
    code, out, _ = aidgraph("users", "reset", "wang-fang", "--second-factor")
    assert code == 0 and "one-time password" not in out and "enrol an authenticator app again" in out
    # and once disabled, her password no longer signs her in
    code, out, _ = aidgraph("users", "disable", "wang-fang", "--by", "admin-li")
    assert code == 0 and "disabled" in out
    assert sign_in(engine, "wang-fang", second) is Verdict.REFUSED
    _, out, _ = aidgraph("users", "list")
    assert [line.split()[1] for line in out.splitlines() if line.startswith("wang-fang")] == ["disabled*"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["users", "add", " wang", "--roles", "auditor"], "aidgraph users add: name ' wang': no spaces"),
        (["users", "add", "wang", "--roles", "Auditor"], "aidgraph users add: role 'Auditor'"),
        (["users", "add", "wang", "--roles", "auditor", "--regions", "35x"], "region '35x' is not a division code"),
        (["users", "disable", "li-lei"], "aidgraph users disable: 'li-lei' is not a person of the console"),
        (["users", "reset", "li-lei", "--password"], "aidgraph users reset: 'li-lei' is not a person of the console"),
        (["users", "reset", "li-lei"], "aidgraph users reset: say what to reset: --password, --second-factor"),
    ],
)
def test_a_refused_command_says_why_and_exits_2(aidgraph: Command, args: list[str], says: str) -> None:
    code, out, err = aidgraph(*args)
    assert (code, out) == (2, "") and says in err


def test_a_name_is_added_once(aidgraph: Command) -> None:
    assert aidgraph("users", "add", "wang-fang", "--roles", "auditor")[0] == 0
    code, _, err = aidgraph("users", "add", "wang-fang", "--roles", "auditor")
    assert code == 2 and "'wang-fang' is already a person of the console" in err
