"""`aidgraph policy` apply / approve / withdraw / rollback / versions / diff / why / impact, run in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from auth.clients import register_client
from tests.test_cli_access import Command

SMALL = "housing:\n  assistance-review:\n    public: allow\n    personal: mask\n    special: mask\n"
NO_PHONES = SMALL + "    Person.phone: deny\n"


@pytest.fixture
def aidgraph(store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Command:
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", store_url)
    monkeypatch.delenv("AIDGRAPH_POLICY_SINGLE_PERSON", raising=False)
    return Command(capsys, monkeypatch)


def policy_file(folder: Path, text: str, name: str = "policy.yaml") -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_author_cannot_approve_on_the_command_line_and_a_second_person_can(
    aidgraph: Command, tmp_path: Path
) -> None:
    # given a draft by wang
    assert aidgraph("policy", "apply", policy_file(tmp_path, SMALL), "--by", "wang")[0] == 0
    # when wang approves it, then it is refused (exit 2) saying why, and nothing is live
    code, out, err = aidgraph("policy", "approve", "1", "--by", "wang")
    assert (code, out) == (2, "")
    assert (
        err == "aidgraph policy approve: version 1 was drafted by wang: a second person must approve it (four eyes)\n"
    )
    assert aidgraph("policy", "export")[0] == 2
    # when li approves it, then it is live, naming both
    code, out, err = aidgraph("policy", "approve", "1", "--by", "li")
    assert (code, err) == (0, "")
    assert out == (
        "policy version 1 approved by li (drafted by wang): it is the live version;"
        " running hubs use it within seconds\n"
    )
    assert aidgraph("policy", "export")[1] == SMALL


def test_a_single_person_hub_lets_the_author_approve_and_says_so(
    aidgraph: Command, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a hub that allows a single person
    monkeypatch.setenv("AIDGRAPH_POLICY_SINGLE_PERSON", "1")
    # when wang drafts and approves alone, then each step says the hub allows it
    code, out, _ = aidgraph("policy", "apply", policy_file(tmp_path, SMALL), "--by", "wang")
    assert code == 0 and "  publish it: aidgraph policy approve 1 --by NAME; or: aidgraph policy withdraw 1" in out
    single = "  this hub allows a single person (AIDGRAPH_POLICY_SINGLE_PERSON=1): its author may approve it"
    assert out.splitlines()[-1] == single
    code, out, _ = aidgraph("policy", "approve", "1", "--by", "wang")
    assert code == 0 and out.splitlines() == [
        "policy version 1 approved by wang (drafted by wang): it is the live version;"
        " running hubs use it within seconds",
        single,
    ]


def test_versions_diff_withdraw_and_rollback(aidgraph: Command, tmp_path: Path) -> None:
    # given version 1 live, version 2 drafted on it, and version 3 withdrawn
    aidgraph("policy", "apply", policy_file(tmp_path, SMALL), "--by", "wang", "--reason", "housing starts")
    aidgraph("policy", "approve", "1", "--by", "li")
    aidgraph("policy", "apply", policy_file(tmp_path, NO_PHONES, "no-phones.yaml"), "--by", "wang")
    aidgraph("policy", "apply", policy_file(tmp_path, SMALL, "again.yaml"), "--by", "zhao")
    assert aidgraph("policy", "withdraw", "3", "--by", "zhao")[1] == (
        "policy version 3 withdrawn by zhao; it stays listed, and is never approved\n"
    )
    # when the versions are listed, then each shows its status, people, base and reason
    code, out, _ = aidgraph("policy", "versions")
    lines = [line.split() for line in out.splitlines()]
    assert code == 0 and lines[0][:2] == ["version", "status"]
    assert [line[:3] for line in lines[1:]] == [
        ["3", "withdrawn", "zhao"],
        ["2", "draft", "wang"],
        ["1", "(live)", "approved"],
    ]
    assert lines[3][-2:] == ["housing", "starts"]
    # when version 2 is compared with the live one, then the phone is its one change
    code, out, _ = aidgraph("policy", "diff", "2")
    assert out.splitlines()[0] == "version 2 against version 1: 1 changed outcomes"
    assert out.splitlines()[2].split() == [
        "housing", "assistance-review", "Person.phone", "mask:phone", "deny", "housing", "/", "assistance-review",
        "/", "Person.phone:", "deny",
    ]  # fmt: skip
    # when version 1 is rolled back to, once version 2 is live, then it is a new draft
    aidgraph("policy", "approve", "2", "--by", "li")
    code, out, _ = aidgraph("policy", "rollback", "1", "--by", "li")
    assert (code, out.splitlines()[0]) == (0, "policy version 4 drafted with version 1's document (rollback to 1)")
    assert aidgraph("policy", "export", "--version", "4")[1] == SMALL
    # and approving the withdrawn one is refused
    assert aidgraph("policy", "approve", "3", "--by", "li")[2] == (
        "aidgraph policy approve: version 3 is withdrawn, not a draft: only a draft can be approved\n"
    )


def test_why_names_the_rule_of_every_field_and_impact_counts_nothing_on_an_empty_trail(
    aidgraph: Command, engine: sa.Engine, tmp_path: Path
) -> None:
    # given version 1 live and a housing client
    aidgraph("policy", "apply", policy_file(tmp_path, SMALL), "--by", "wang")
    aidgraph("policy", "approve", "1", "--by", "li")
    register_client(
        engine, client_id="housing-nanan", department="housing", roles=["housing"], regions=["350583"],
        purposes=["assistance-review"],
    )  # fmt: skip
    query = tmp_path / "members.graphql"
    query.write_text('{ household(householdNumber: "350583000006") { members { name medical { __typename } } } }')
    # when why is asked for its query
    code, out, err = aidgraph(
        "policy", "why", "--client", "housing-nanan", "--purpose", "assistance-review", "--query", str(query)
    )
    # then each field is listed with its outcome, its kind of decision and the rule
    assert (code, err) == (0, "")
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    assert out.splitlines()[0] == "housing-nanan (housing) for assistance-review, policy version 1:"
    assert rows["Query.household"][1:4] == ["allow", "entry", "point"]
    assert rows["Person.name"][1:4] == ["mask:name", "label", "rule"]
    assert rows["Person.medical"][1:4] == ["deny", "default", "deny"]
    # and a query whose entry point is closed to the purpose says it is refused before anything is read
    students = tmp_path / "students.graphql"
    students.write_text('{ eligibleStudents(region: "350583", term: "2026-2027-1") { totalCount } }')
    code, out, _ = aidgraph(
        "policy", "why", "--client", "housing-nanan", "--purpose", "assistance-review", "--query", str(students)
    )
    assert code == 0 and out.splitlines()[-1] == (
        "the query is refused (FORBIDDEN) before anything is read: Query.eligibleStudents not open"
    )
    # and an unknown client is refused
    assert aidgraph("policy", "why", "--client", "x", "--purpose", "audit", "--query", str(query))[0] == 2
    # when the impact of version 1 is asked on an empty week, then only the policy changes were skipped
    code, out, _ = aidgraph("policy", "impact", "1")
    assert code == 0 and ": 0 replayed, 2 skipped (no fields recorded" in out
