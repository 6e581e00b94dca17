"""`aidgraph clients rotate` and the last use `clients list` shows, run in-process on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from auth.audit import AuditLog, search
from auth.clients import verify_client
from tests.auth.test_audit import T0, event
from tests.auth.test_oauth_token import NANAN, register
from tests.test_cli_access import Command


@pytest.fixture
def aidgraph(store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Command:
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", store_url)
    return Command(capsys, monkeypatch)


def test_rotate_prints_the_new_secret_once_and_the_old_one_stops_working(aidgraph: Command, engine: sa.Engine) -> None:
    # given a registered client
    old = register(engine)

    # when its secret is rotated from the command line
    code, out, err = aidgraph("clients", "rotate", NANAN, "--by", "admin-wang")

    # then the new secret is printed, with the warning that it will not be shown again
    assert (code, err) == (0, "")
    new = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("client secret: "))
    assert "will not show it again" in out and "the old one is refused now" in out
    # and it is the client's secret now, the old one no longer
    assert verify_client(engine, NANAN, new) is not None and verify_client(engine, NANAN, old) is None
    # and the rotation is on the trail, naming who did it, without the secret
    (rotation,) = search(engine, operation="clients rotate").entries
    assert rotation.actor == "admin-wang" and new not in (rotation.detail or "")


def test_rotating_an_unknown_client_is_refused(aidgraph: Command, engine: sa.Engine) -> None:
    # when a client never registered is to be rotated, then it is refused with exit 2, naming it, and nothing printed
    assert aidgraph("clients", "rotate", "nobody", "--by", "admin-wang") == (
        2, "", "aidgraph clients rotate: no client 'nobody' is registered\n",
    )  # fmt: skip


def test_list_shows_each_clients_last_use(aidgraph: Command, engine: sa.Engine) -> None:
    # given two clients, one of which called the hub
    register(engine)
    register(engine, client_id="housing-nanan")
    AuditLog(engine).append(event(0, client_id=NANAN, at=T0))

    # when the clients are listed
    code, out, _ = aidgraph("clients", "list")

    # then each row ends with its last use: the time of its newest event, or never
    assert code == 0 and out.splitlines()[0].endswith("last used")
    rows = {line.split()[0]: line.split()[-1] for line in out.splitlines()[1:]}
    assert rows == {NANAN: "2026-11-24T09:00:00Z", "housing-nanan": "never"}


def test_add_and_disable_are_audited_naming_the_person(aidgraph: Command, engine: sa.Engine) -> None:
    # when a client is registered and then disabled from the command line, by admin-wang
    code, out, _ = aidgraph(
        "clients", "add", "housing-nanan", "--department", "housing", "--roles", "housing",
        "--regions", "350583", "--purposes", "assistance-review", "--by", "admin-wang",
    )  # fmt: skip
    assert code == 0 and "client secret: " in out
    assert aidgraph("clients", "disable", "housing-nanan", "--by", "admin-wang")[0] == 0
    # then each is an event naming the person, with no client (the hub's own change)
    changes = search(engine, outcome="client-changed").entries
    assert [(e.client_id, e.actor, e.operation) for e in changes] == [
        (None, "admin-wang", "clients disable"),
        (None, "admin-wang", "clients add"),
    ]


def test_without_by_a_change_names_the_user_running_the_command(
    aidgraph: Command, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a registered client, and the login name of whoever runs the command
    register(engine)
    monkeypatch.setenv("USER", "ops-chen")
    # when it is disabled without --by, then the event names that user, as the other commands' --by does
    assert aidgraph("clients", "disable", NANAN)[0] == 0
    (change,) = search(engine, outcome="client-changed").entries
    assert change.actor == "ops-chen"
