"""The `aidgraph` command for access: policy apply/approve/export, audit verify, clients and tokens, demo access.

Run in-process through `aidgraph.cli.main`, against a store of its own on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest_folder
from aidgraph import cli
from aidgraph.app import create_app
from aidgraph.db import create_engine
from aidgraph.settings import Settings
from auth.audit.rows import select_stored_rows
from auth.clients import list_clients, load_client, register_client, verify_client
from auth.demo_access import DEMO_CLIENTS, demo_policy_text, ensure_demo_policy, register_demo_clients
from auth.policy_store import apply_policy, stored_policy
from auth.tables import audit_event, policy_version
from tests.access import DEMO_POLICY
from tests.auth.test_audit import attacker
from tests.world import SMALL, SMALL_HEAD, write_world

# A second, different policy: one role, one purpose; its comment must survive apply and export.
SMALL_POLICY = """\
# housing only, for this test
housing:
  assistance-review:
    public: allow
    personal: mask
"""
HOUSEHOLD = "query One($n: String!) { household(householdNumber: $n) { householdNumber } }"

# What each demo role may declare, read off auth/demo_policy.yaml by hand.
DEMO_ROLE_PURPOSES = {
    "civil-affairs": ["assistance-review", "case-management", "comparison"],
    "education": ["student-aid"],
    "medical": ["assistance-review"],
    "housing": ["assistance-review"],
    "disability": ["assistance-review"],
    "poverty": ["case-management", "comparison"],
    "student-aid": ["student-aid"],
    "auditor": ["audit"],
}


class Command:
    """`aidgraph ...` run in this process against one store; returns (exit code, stdout, stderr).

    The command leaves its engine to the end of the process; here each one is disposed after its
    command, or its pooled connections would be collected later as unclosed (ResourceWarning).
    """

    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
        self._capsys = capsys
        self._engines: list[sa.Engine] = []

        def tracked_engine(url: str, **options: Any) -> sa.Engine:
            engine = create_engine(url, **options)
            self._engines.append(engine)
            return engine

        monkeypatch.setattr(cli, "create_engine", tracked_engine)

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self._capsys.readouterr()  # drop anything printed before
        try:
            code = cli.main(list(args))
        finally:
            while self._engines:
                self._engines.pop().dispose()
        out, err = self._capsys.readouterr()
        return code, out, err


@pytest.fixture
def aidgraph(store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Command:
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", store_url)
    return Command(capsys, monkeypatch)


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(demo_policy_text(), encoding="utf-8")
    return path


def apply_live(aidgraph: Command, policy: Path, *, by: str = "admin-wang", approver: str = "admin-li") -> int:
    """`policy apply` a file as a draft, and have a second person approve it: the version, now live."""
    code, out, err = aidgraph("policy", "apply", str(policy), "--by", by)
    assert code == 0, err
    version = int(out.split()[2])
    code, _, err = aidgraph("policy", "approve", str(version), "--by", approver)
    assert code == 0, err
    return version


def events(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(select_stored_rows().order_by(audit_event.c.seq)).mappings()]


def versions(engine: sa.Engine) -> list[int]:
    with engine.connect() as connection:
        return list(
            connection.execute(sa.select(policy_version.c.version).order_by(policy_version.c.version)).scalars()
        )


def token_form(client_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


# --- policy apply / export -----------------------------------------------------------------------


def test_each_apply_is_a_new_draft_and_export_prints_it_as_applied(
    aidgraph: Command, engine: sa.Engine, policy_file: Path, tmp_path: Path
) -> None:
    # given the demo policy in a file
    # when it is applied
    code, out, err = aidgraph("policy", "apply", str(policy_file), "--by", "admin-wang")

    # then it is version 1, a draft, and the command says what to do next
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "policy version 1 drafted by admin-wang (no version is live yet); nothing changes until it is approved",
        "  see what it changes: aidgraph policy diff 1; on past requests: aidgraph policy impact 1",
        "  publish it: aidgraph policy approve 1 --by ANOTHER-PERSON (four eyes); or: aidgraph policy withdraw 1",
    ]
    # and nothing is live until a second person approves it
    assert aidgraph("policy", "export")[0] == 2
    assert aidgraph("policy", "approve", "1", "--by", "admin-li")[1].startswith(
        "policy version 1 approved by admin-li (drafted by admin-wang): it is the live version"
    )
    # and applying the same file again makes version 2 (nothing is edited in place), another file version 3
    assert aidgraph("policy", "apply", str(policy_file))[1].startswith("policy version 2 drafted by ")
    small = tmp_path / "small.yaml"
    small.write_text(SMALL_POLICY, encoding="utf-8")
    assert aidgraph("policy", "apply", str(small), "--by", "admin-wang")[1].startswith(
        "policy version 3 drafted by admin-wang (based on live version 1)"
    )
    assert versions(engine) == [1, 2, 3]

    # when the live policy is exported, then it is exactly the text approved, comments included
    assert aidgraph("policy", "export") == (0, demo_policy_text(), "")
    # and a draft exports as it was applied
    assert aidgraph("policy", "export", "--version", "3") == (0, SMALL_POLICY, "")
    # and a version never applied is refused
    code, out, err = aidgraph("policy", "export", "--version", "4")
    assert (code, out) == (2, "")
    assert err == "aidgraph policy export: no policy version 4\n"


def test_export_before_any_apply_is_refused(aidgraph: Command) -> None:
    # given an empty store, when the policy is exported, then there is none to export
    assert aidgraph("policy", "export") == (
        2,
        "",
        "aidgraph policy export: no policy version is live (a draft is exported with --version N)\n",
    )


def test_each_apply_writes_one_audit_event(aidgraph: Command, engine: sa.Engine, policy_file: Path) -> None:
    # given an empty trail
    assert events(engine) == []

    # when the policy is applied twice, by two administrators, and exported once
    aidgraph("policy", "apply", str(policy_file), "--by", "admin-wang")
    aidgraph("policy", "apply", str(policy_file), "--by", "admin-li")
    aidgraph("policy", "export")

    # then there is one event per apply, naming the draft's version, who drafted it and from which file
    trail = events(engine)
    assert [(event["seq"], event["outcome"], event["operation"], event["policy_version"]) for event in trail] == [
        (1, "policy-drafted", "policy apply", 1),
        (2, "policy-drafted", "policy apply", 2),
    ]
    digest = hashlib.sha256(policy_file.read_bytes()).hexdigest()[:16]
    assert [event["detail"] for event in trail] == [
        f"version 1 (sha256 {digest}) by admin-wang from {policy_file}, based on no live version",
        f"version 2 (sha256 {digest}) by admin-li from {policy_file}, based on no live version",
    ]
    assert [event["actor"] for event in trail] == ["admin-wang", "admin-li"]
    assert all(event["client_id"] is None and event["subjects"] == [] for event in trail)


BAD_POLICIES = {
    "unknown target": (
        "civil-affairs:\n  comparison:\n    public: allow\n    Person.shoeSize: allow\n",
        ["civil-affairs / comparison / Person.shoeSize: ", "neither a label", "nor a governed Type.field"],
    ),
    "unknown action": (
        "civil-affairs:\n  comparison:\n    public: reveal\n",
        ["civil-affairs / comparison / public: unknown action 'reveal'"],
    ),
    "bad YAML": (
        "civil-affairs:\n  comparison:\n    public: [allow\n    personal: allow\n",
        ["not valid YAML", "line 3, column 13"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_POLICIES))
def test_a_bad_policy_is_refused_naming_the_file_and_the_place_and_nothing_is_stored(
    aidgraph: Command, engine: sa.Engine, policy_file: Path, tmp_path: Path, case: str
) -> None:
    # given the demo policy applied and approved as version 1, and a bad policy file
    apply_live(aidgraph, policy_file)
    text, places = BAD_POLICIES[case]
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")

    # when the bad file is applied
    code, out, err = aidgraph("policy", "apply", str(bad))

    # then it is refused, naming the file and the place in it
    assert (code, out) == (2, "")
    assert err.startswith(f"aidgraph policy apply: {bad}: ")
    for place in places:
        assert place in err
    # and no version is stored, nor any event written: version 1 stays current
    assert versions(engine) == [1]
    assert len(events(engine)) == 2  # version 1's draft and approval
    assert aidgraph("policy", "export")[1] == demo_policy_text()


def test_a_missing_policy_file_is_refused_saying_so(aidgraph: Command, engine: sa.Engine, tmp_path: Path) -> None:
    # given no file at the path, when it is applied
    missing = tmp_path / "nowhere.yaml"
    code, out, err = aidgraph("policy", "apply", str(missing))

    # then the command says it cannot read it, and stores nothing
    assert (code, out) == (2, "")
    assert err == f"aidgraph policy apply: cannot read {missing}: No such file or directory\n"
    assert versions(engine) == []
    assert events(engine) == []


# --- audit verify --------------------------------------------------------------------------------


def test_verify_of_an_intact_trail_prints_its_head(aidgraph: Command, engine: sa.Engine, policy_file: Path) -> None:
    # given an empty trail, then verify says so and succeeds
    assert aidgraph("audit", "verify") == (0, "audit trail ok: no events yet\n", "")

    # given two events
    aidgraph("policy", "apply", str(policy_file))
    aidgraph("policy", "apply", str(policy_file))

    # when the trail is verified
    code, out, err = aidgraph("audit", "verify")

    # then it succeeds and prints the head: the last seq and its hash
    head = events(engine)[-1]["hash"]
    assert (code, out, err) == (0, f"audit trail ok: 2 events checked; head seq 2 hash {head}\n", "")
    # and the head it printed is accepted back as an anchor
    assert aidgraph("audit", "verify", "--anchor", f"2:{head}")[0] == 0


def test_verify_names_an_edited_event_and_exits_1(aidgraph: Command, engine: sa.Engine, policy_file: Path) -> None:
    # given three events
    for _ in range(3):
        aidgraph("policy", "apply", str(policy_file), "--by", "admin-wang")

    # when event 2 is changed behind the hub's back (PostgreSQL: as a superuser, its triggers switched off)
    with attacker(engine) as connection:
        connection.execute(
            sa.update(audit_event).where(audit_event.c.seq == 2).values(detail="version 2 by someone else")
        )

    # then verify fails, naming event 2 as edited and event 1 as intact
    code, out, err = aidgraph("audit", "verify")
    assert (code, err) == (1, "")
    assert out == (
        "audit trail BROKEN at seq 2: seq 2 was edited: its contents no longer match its hash "
        "(1 events before it are intact)\n"
    )


def test_a_cut_off_tail_is_found_only_against_an_anchor(
    aidgraph: Command, engine: sa.Engine, policy_file: Path
) -> None:
    # given three events, and the head verify printed, kept outside the database
    for _ in range(3):
        aidgraph("policy", "apply", str(policy_file))
    anchor = aidgraph("audit", "verify")[1].split("head seq ")[1].strip().replace(" hash ", ":")
    assert anchor.startswith("3:")

    # when the newest event is deleted behind the hub's back
    with attacker(engine) as connection:
        connection.execute(sa.delete(audit_event).where(audit_event.c.seq == 3))

    # then the chain alone still verifies: what is left is a valid, shorter chain
    code, out, _ = aidgraph("audit", "verify")
    assert code == 0 and "head seq 2 " in out
    # but against the anchor the cut is named
    code, out, _ = aidgraph("audit", "verify", "--anchor", anchor)
    assert code == 1
    assert out.startswith("audit trail BROKEN at seq 3: the chain ends at seq 2, but seq 3 was anchored earlier")


@pytest.mark.parametrize(
    "anchor", ["3", "three:" + "a" * 64, ":" + "a" * 64, "3:" + "a" * 63, "3:" + "a" * 65, "3-abc"]
)
def test_a_malformed_anchor_is_refused(
    anchor: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given any store (the anchor is refused before the store is opened)
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", f"sqlite:///{tmp_path}/store.db")

    # when verify is given a malformed anchor
    code, out, err = Command(capsys, monkeypatch)("audit", "verify", "--anchor", anchor)

    # then it is refused with usage, saying what an anchor looks like
    assert (code, out) == (2, "")
    assert err == "aidgraph audit verify: --anchor is SEQ:HASH as an earlier verify printed it\n"


# --- clients at the token endpoint --------------------------------------------------------------


def test_a_client_added_on_the_command_line_gets_tokens_both_ways_and_reads(
    aidgraph: Command, store_url: str, policy_file: Path
) -> None:
    # given a policy applied and approved, and a client added with the command
    apply_live(aidgraph, policy_file)
    code, out, err = aidgraph(
        "clients", "add", "housing-nanan", "--department", "housing", "--roles", "housing",
        "--regions", "350583", "--purposes", "assistance-review",
    )  # fmt: skip
    assert code == 0, err
    secret = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("client secret: "))

    with TestClient(create_app(Settings(database_url=store_url))) as http:
        # when it asks for a token with the secret in the form (client_secret_post) and by HTTP Basic
        posted = http.post("/oauth/token", data=token_form("housing-nanan", secret))
        basic_auth = http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic("housing-nanan", secret)
        )

        # then both are granted: a bearer token for its one purpose, for ten minutes
        for response in (posted, basic_auth):
            assert response.status_code == 200, response.text
            body = response.json()
            assert (body["token_type"], body["scope"], body["expires_in"]) == (
                "Bearer",
                "purpose:assistance-review",
                600,
            )
        # and the token opens /graphql (a household that does not exist is simply null)
        bearer = posted.json()["access_token"]
        answer = http.post(
            "/graphql",
            json={"query": HOUSEHOLD, "variables": {"n": "350583000001"}},
            headers={"Authorization": f"Bearer {bearer}"},
        )
        assert (answer.status_code, answer.json()) == (200, {"data": {"household": None}})
        # and a wrong secret is refused
        wrong = http.post("/oauth/token", data=token_form("housing-nanan", secret[:-1] + "x"))
        assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")

        # when the client is disabled with the command, then its secret is refused too
        assert aidgraph("clients", "disable", "housing-nanan")[0] == 0
        refused = http.post("/oauth/token", data=token_form("housing-nanan", secret))
        assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")


def test_a_client_rate_limit_is_set_on_adding_changed_and_given_back_to_the_default(
    aidgraph: Command, engine: sa.Engine
) -> None:
    # given a client added with its own rate limit
    code, out, err = aidgraph(
        "clients", "add", "housing-nanan", "--department", "housing", "--roles", "housing",
        "--regions", "350583", "--purposes", "assistance-review", "--rate-limit", "120",
    )  # fmt: skip
    assert code == 0, err
    assert "  rate limit: 120 requests per minute per worker" in out.splitlines()
    assert load_client(engine, "housing-nanan").rate_limit == 120  # type: ignore[union-attr]
    # when it is changed, made unlimited, and given the hub's default again, then the registry follows
    for given, stored, says in (
        ("600", 600, "600 requests per minute per worker"),
        ("0", 0, "no rate limit"),
        ("default", None, "the hub's default requests per minute (AIDGRAPH_CLIENT_RATE_LIMIT)"),
    ):
        code, out, err = aidgraph("clients", "limit", "housing-nanan", given)
        assert (code, out) == (0, f"client housing-nanan: {says}, in every worker within seconds\n"), err
        assert load_client(engine, "housing-nanan").rate_limit == stored  # type: ignore[union-attr]
    # and the listing shows it
    aidgraph("clients", "limit", "housing-nanan", "30")
    listed = aidgraph("clients", "list")[1].splitlines()
    assert listed[0].split()[-3:] == ["rate/min", "last", "used"] and listed[1].split()[-2:] == ["30", "never"]
    # and a negative limit or an unknown client are refused saying so
    code, _out, err = aidgraph("clients", "limit", "housing-nanan", "-5")
    assert code == 2 and "rate limit -5: give requests per minute from 0 (unlimited) to 100000" in err
    code, _out, err = aidgraph("clients", "limit", "nobody", "10")
    assert code == 2 and "no client 'nobody' is registered" in err


# --- serve --demo: the demo policy and clients ----------------------------------------------------


def test_demo_access_registers_every_demo_client_once_with_its_roles_purposes(engine: sa.Engine) -> None:
    # given an empty store
    # when the demo policy is ensured and the demo clients registered (as `serve --demo` does)
    version = ensure_demo_policy(engine)
    registered = register_demo_clients(engine)

    # then the demo policy is version 1, applied as shipped
    assert version == 1
    with engine.connect() as connection:
        stored = stored_policy(connection)
    assert stored is not None
    assert (stored.version, stored.policy.text, stored.applied_by) == (1, demo_policy_text(), "aidgraph serve --demo")
    # and every demo client is registered once, in order, with a secret of its own
    assert [demo.client_id for demo, _, _ in registered] == [demo.client_id for demo in DEMO_CLIENTS]
    assert len({secret for _, _, secret in registered}) == len(DEMO_CLIENTS)
    clients = {client.client_id: client for client in list_clients(engine)}
    assert sorted(clients) == sorted(demo.client_id for demo in DEMO_CLIENTS)
    # and each holds its one role, its regions, and exactly the purposes its role has rules for
    for demo, purposes, secret in registered:
        client = clients[demo.client_id]
        assert purposes == DEMO_ROLE_PURPOSES[demo.role], demo.client_id
        assert (client.roles, client.regions, list(client.purposes)) == ((demo.role,), demo.regions, purposes)
        assert not client.disabled
        assert verify_client(engine, demo.client_id, secret) is not None
    assert clients["demo-nanan-civil-affairs"].regions == ("350583",)
    # (the table above, read by hand, is the demo policy's)
    assert DEMO_ROLE_PURPOSES == {role: sorted(by_purpose) for role, by_purpose in DEMO_POLICY.rules.items()}
    assert {demo.role for demo in DEMO_CLIENTS} == set(DEMO_ROLE_PURPOSES)


def test_demo_access_a_second_time_registers_none_and_keeps_the_policy(engine: sa.Engine) -> None:
    # given the demo access set up once
    ensure_demo_policy(engine)
    first = register_demo_clients(engine)

    # when it runs again (serve --demo restarted on the same store)
    version = ensure_demo_policy(engine)
    again = register_demo_clients(engine)

    # then no policy is applied and no client registered
    assert version is None
    assert again == []
    assert versions(engine) == [1]
    assert len(list_clients(engine)) == len(DEMO_CLIENTS)
    # and the secrets printed the first time still work
    demo, _, secret = first[0]
    assert verify_client(engine, demo.client_id, secret) is not None


def test_the_demo_policy_does_not_replace_a_policy_already_applied(engine: sa.Engine) -> None:
    # given a hub with its own policy
    with engine.begin() as connection:
        apply_policy(connection, SMALL_POLICY, applied_by="admin-wang")

    # when serve --demo ensures the demo policy
    version = ensure_demo_policy(engine)

    # then the hub's own policy stays current
    assert version is None
    with engine.connect() as connection:
        stored = stored_policy(connection)
    assert stored is not None and (stored.version, stored.policy.text) == (1, SMALL_POLICY)


def test_every_demo_client_gets_a_token_for_its_purposes(store_url: str, engine: sa.Engine) -> None:
    # given the demo access set up, as `serve --demo` prints it
    ensure_demo_policy(engine)
    registered = register_demo_clients(engine)

    with TestClient(create_app(Settings(database_url=store_url))) as http:
        for demo, purposes, secret in registered:
            # when each demo client asks for a token with the printed secret
            response = http.post(
                "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(demo.client_id, secret)
            )
            # then it gets one carrying every purpose of its role
            assert response.status_code == 200, (demo.client_id, response.text)
            assert response.json()["scope"].split() == [f"purpose:{purpose}" for purpose in purposes]


def test_a_dry_run_shows_what_a_client_would_receive_without_applying_the_policy(
    aidgraph: Command, engine: sa.Engine, tmp_path: Path
) -> None:
    # given a store with the tiny world, a civil-affairs client, and a candidate policy masking names
    world = write_world(tmp_path / "world")
    for name, department in DEPARTMENTS.items():
        ingest_folder(engine, department, world / name)
    register_client(
        engine, client_id="civil", department="civil-affairs", roles=["civil-affairs"], regions=["3505"],
        purposes=["comparison"],
    )  # fmt: skip
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(
        "civil-affairs:\n  comparison:\n    public: allow\n    personal: allow\n    Person.name: mask\n"
        "    special: mask\n"
    )
    query = tmp_path / "members.graphql"
    query.write_text(f'{{ household(householdNumber: "{SMALL}") {{ members {{ name idNumber }} }} }}')

    # when the dry run is asked for
    code, out, err = aidgraph(
        "policy", "dry-run", str(candidate), "--client", "civil", "--purpose", "comparison", "--query", str(query)
    )

    # then it prints the answer that client would get, masked as the candidate says, and applies nothing
    assert (code, err) == (0, "")
    members = json.loads(out)["data"]["household"]["members"]
    assert [member["name"] for member in members] == ["欧阳*", "李*"]
    assert members[0]["idNumber"] == SMALL_HEAD
    assert versions(engine) == []
    # and the read is audited as a dry run
    (event,) = events(engine)
    assert (event["outcome"], event["operation"], event["masked"]) == ("dry-run", "policy dry-run", ["Person.name"])


def test_a_dry_run_for_an_unknown_client_is_refused(aidgraph: Command, policy_file: Path, tmp_path: Path) -> None:
    query = tmp_path / "q.graphql"
    query.write_text("{ __typename }")
    code, _, err = aidgraph("policy", "dry-run", str(policy_file), "--client", "nobody", "--purpose", "audit",
                            "--query", str(query))  # fmt: skip
    assert code == 2
    assert "no client 'nobody' is registered" in err


def test_webhook_subscription_and_change_detection_from_the_command_line(
    aidgraph: Command, engine: sa.Engine, tmp_path: Path
) -> None:
    # given the tiny world, the demo policy and a student-aid client
    world = write_world(tmp_path / "world")
    for name, department in DEPARTMENTS.items():
        ingest_folder(engine, department, world / name)
    apply_live(aidgraph, _demo_policy_file(tmp_path))
    register_client(
        engine, client_id="aid", department="education", roles=["student-aid"], regions=["3505"],
        purposes=["student-aid"],
    )  # fmt: skip

    # when the client subscribes a local receiver and the term's changes are detected twice
    code, out, _ = aidgraph(
        "webhooks", "add", "aid", "http://127.0.0.1:9/hook", "--terms", "2026-2027-1", "--allow-http"
    )
    first = aidgraph("students", "notify", "--term", "2026-2027-1")
    again = aidgraph("students", "notify", "--term", "2026-2027-1")
    listed = aidgraph("webhooks", "list")

    # then the secret was shown once, the first run queued both eligible students, the second nothing
    assert code == 0 and "signing secret: " in out
    assert first[0] == 0 and "queued 2 newly eligible, 0 no longer eligible (first run)" in first[1]
    assert again[0] == 0 and again[1].endswith("0 notifications queued for term 2026-2027-1\n")
    assert "aid" in listed[1] and "secret" not in listed[1]
    log = aidgraph("webhooks", "log")[1]
    assert log.count("student.eligible") == 2 and log.count("pending") == 2


def _demo_policy_file(folder: Path) -> Path:
    path = folder / "demo-policy.yaml"
    path.write_text(demo_policy_text(), encoding="utf-8")
    return path
