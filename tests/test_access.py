"""The secured hub end to end: tokens, purposes, regions, special data, withheld paths and the audit trail.

Every test runs on SQLite and PostgreSQL, against the demo policy and one client per demo role.
"""

from __future__ import annotations

import base64
import functools
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from adapters.idnumber import to_legacy
from aidgraph.app import create_app
from aidgraph.settings import Settings
from auth.audit import AuditWriter, verify
from auth.audit.rows import select_stored_rows
from auth.authenticate import REVOCATION_REFRESH_SECONDS
from auth.server import load_ring
from auth.server.config import DEFAULT_LIFETIME
from auth.server.signing import CLOCK_SKEW_SECONDS
from auth.tables import audit_event
from tests.access import DEMO_POLICY, post, register, token, world_store
from tests.auth.test_tokens import b64url, ec_private_key, forge_es256, segment
from tests.conftest import BACKENDS
from tests.schema.documents import HOUSEHOLD_PICTURE
from tests.world import LARGE, LARGE_MEMBERS, SMALL, SMALL_HEAD, make_id

CHILD = LARGE_MEMBERS[6][0]  # born 2015: under 14 until 2029
HIV_PATIENT = LARGE_MEMBERS[0][0]  # a settlement with diagnosis B20
NAMES = "{ household(householdNumber: $n) { householdNumber members { idNumber name phone } } }"
MEMBERS = f"query Members($n: String!) {NAMES}"
SETTLEMENTS = """query Settlements($id: String!) {
  person(idNumber: $id) { idNumber medical { settlements { diagnosisCode outOfPocket } } }
}"""


class Hub:
    """A secured hub on a world store, with a client per (role, purpose) of the demo policy."""

    def __init__(self, http: TestClient, engine: sa.Engine) -> None:
        self.http = http
        self.engine = engine
        self._secrets: dict[str, str] = {}
        self._tokens: dict[tuple[str, str | None], str] = {}

    def client(self, client_id: str, *, roles: list[str], purposes: list[str], regions: list[str] | None = None) -> str:
        if client_id not in self._secrets:
            self._secrets[client_id] = register(self.engine, client_id, roles=roles, purposes=purposes, regions=regions)
        return client_id

    def token(self, client_id: str, scope: str | None = None) -> str:
        key = (client_id, scope)
        if key not in self._tokens:
            self._tokens[key] = token(self.http, client_id, self._secrets[client_id], scope)
        return self._tokens[key]

    def as_role(self, role: str, purpose: str, regions: list[str] | None = None) -> str:
        """A token of a client with just this role and purpose (in these regions)."""
        suffix = "-" + "-".join(regions) if regions else ""
        client_id = self.client(f"{role}-{purpose}{suffix}", roles=[role], purposes=[purpose], regions=regions)
        return self.token(client_id)

    def write_counted_refusals(self) -> None:
        """What the hub's audit writer does each minute and at shutdown, now: write the counted 401s."""
        writer: AuditWriter = self.http.app_state["audit"]
        assert self.http.portal is not None
        self.http.portal.call(functools.partial(writer.write_refusals, everything=True))

    def events(self) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(select_stored_rows().order_by(audit_event.c.seq)).mappings().all()
        return [dict(row) for row in rows]


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with world_store(request, tmp_path_factory.mktemp("secured")) as (url, engine):
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
            yield Hub(http, engine)


# --- tokens -------------------------------------------------------------------------------------


def test_no_token_is_401_and_the_refusal_is_counted_then_audited(hub: Hub) -> None:
    hub.write_counted_refusals()  # what earlier tests left counted
    before = len(hub.events())
    body = post(hub.http, MEMBERS, None, status=401, n=SMALL)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body.get("data") is None
    # the 401 did not wait for the trail: it is counted, and written with its minute's count
    assert len(hub.events()) == before
    hub.write_counted_refusals()
    events = hub.events()
    assert len(events) == before + 1
    assert (events[-1]["outcome"], events[-1]["client_id"], events[-1]["operation"]) == (
        "unauthenticated",
        None,
        None,
    )
    assert events[-1]["detail"] == "1 refusal: no access token (1); from testclient"


def test_a_malformed_body_without_a_token_is_401_not_400(hub: Hub) -> None:
    response = hub.http.post("/graphql", content="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 401


def _forged(hub: Hub, header: dict[str, Any] | None = None, **claims: Any) -> str:
    ring = load_ring(hub.engine)
    now = int(datetime.now(UTC).timestamp())
    good = {
        "iss": "http://127.0.0.1:8000",
        "sub": "civil-affairs-assistance-review",
        "aud": "aidgraph",
        "exp": now + 300,
        "iat": now,
        "nbf": now,
        "jti": "forged-" + str(now),
        "client_id": "civil-affairs-assistance-review",
        "scope": "purpose:assistance-review",
    }
    good.update(claims)
    good = {name: value for name, value in good.items() if value is not None}
    head = {"typ": "at+jwt", "alg": "ES256", "kid": ring.current.kid, **(header or {})}
    head = {name: value for name, value in head.items() if value is not None}
    return forge_es256(head, good, ec_private_key(ring.current))


ATTACKS = {
    "forged by hand with good claims (control)": lambda hub: _forged(hub),
    "alg none": lambda hub: f"{segment({'typ': 'at+jwt', 'alg': 'none'})}.{segment({'client_id': 'x'})}.",
    "expired": lambda hub: _forged(hub, exp=int(datetime.now(UTC).timestamp()) - 60),
    "nbf in the future": lambda hub: _forged(hub, nbf=int(datetime.now(UTC).timestamp()) + 600),
    "missing exp": lambda hub: _forged(hub, exp=None),
    "wrong aud": lambda hub: _forged(hub, aud="someone-else"),
    "missing aud": lambda hub: _forged(hub, aud=None),
    "iss with a trailing slash": lambda hub: _forged(hub, iss="http://127.0.0.1:8000/"),
    "missing typ": lambda hub: _forged(hub, header={"typ": None}),
    "typ JWT": lambda hub: _forged(hub, header={"typ": "JWT"}),
    "unknown kid": lambda hub: _forged(hub, header={"kid": "nobody"}),
    "jku header": lambda hub: _forged(hub, header={"jku": "https://attacker.example/jwks.json"}),
    "x5u header": lambda hub: _forged(hub, header={"x5u": "https://attacker.example/cert.pem"}),
    "embedded jwk": lambda hub: _forged(hub, header={"jwk": load_ring(hub.engine).current.public_jwk()}),
    "tampered signature": lambda hub: _forged(hub)[:-4] + ("AAAA" if not _forged(hub).endswith("AAAA") else "BBBB"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_jwt_attacks_are_401(hub: Hub, attack: str) -> None:
    hub.client("civil-affairs-assistance-review", roles=["civil-affairs"], purposes=["assistance-review"])
    bearer = ATTACKS[attack](hub)
    status = 200 if attack.endswith("(control)") else 401
    body = post(hub.http, MEMBERS, bearer, status=status, n=SMALL)
    if status == 401:
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    else:
        assert body["data"]["household"]["householdNumber"] == SMALL


# Signed with the hub's real key, but not as the hub issues: it gives no token a longer life, nor another sub.
OVERSTEPPING = {
    "a day ahead": ({"exp": 86_400}, "exp beyond the maximum lifetime"),
    "a second past the lifetime and leeway": (
        {"exp": int(DEFAULT_LIFETIME.total_seconds()) + CLOCK_SKEW_SECONDS + 1},
        "exp beyond the maximum lifetime",
    ),
    "another client's sub": ({"sub": "civil-affairs-comparison"}, "sub is not the client_id"),
}


@pytest.mark.parametrize("case", list(OVERSTEPPING))
def test_a_hub_signed_token_the_hub_never_issues_is_401_saying_why(hub: Hub, case: str) -> None:
    # given a registered client, and a token in its name signed with the hub's key
    hub.client("civil-affairs-assistance-review", roles=["civil-affairs"], purposes=["assistance-review"])
    hub.client("civil-affairs-comparison", roles=["civil-affairs"], purposes=["comparison"])
    change, reason = OVERSTEPPING[case]
    now = int(datetime.now(UTC).timestamp())
    # iat and nbf as the test sees now, so that "a second past" is counted from the same second
    claims = {
        "iat": now,
        "nbf": now,
        **{name: now + value if name == "exp" else value for name, value in change.items()},
    }
    # when it asks /graphql
    response = hub.http.post(
        "/graphql",
        json={"query": MEMBERS, "variables": {"n": SMALL}},
        headers={"Authorization": f"Bearer {_forged(hub, **claims)}"},
    )
    # then it is refused like any other bad token, the reason in the challenge and the message
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="aidgraph", error="invalid_token", error_description="{reason}"'
    )
    assert response.json() == {
        "errors": [{"message": f"access token refused: {reason}", "extensions": {"code": "UNAUTHENTICATED"}}]
    }


def test_hs256_signed_with_the_public_key_is_401(hub: Hub) -> None:
    import hashlib
    import hmac

    ring = load_ring(hub.engine)
    signing_input = f"{segment({'typ': 'at+jwt', 'alg': 'HS256', 'kid': ring.current.kid})}.{segment({'x': 1})}"
    signature = hmac.new(ring.current.jwk.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    post(hub.http, MEMBERS, f"{signing_input}.{b64url(signature)}", status=401, n=SMALL)


def test_a_revoked_token_is_401(hub: Hub) -> None:
    client_id = hub.client("revoking-client", roles=["civil-affairs"], purposes=["assistance-review"])
    bearer = token(hub.http, client_id, hub._secrets[client_id])
    post(hub.http, MEMBERS, bearer, n=SMALL)
    credentials = base64.b64encode(f"{client_id}:{hub._secrets[client_id]}".encode()).decode()
    revoked = hub.http.post("/oauth/revoke", data={"token": bearer}, headers={"Authorization": f"Basic {credentials}"})
    assert revoked.status_code == 200
    time.sleep(REVOCATION_REFRESH_SECONDS)  # how long a worker may keep its copy of the denylist
    body = post(hub.http, MEMBERS, bearer, status=401, n=SMALL)
    assert "revoked" in body["errors"][0]["message"]


def test_a_wrong_secret_is_invalid_client(hub: Hub) -> None:
    client_id = hub.client("civil-affairs-assistance-review", roles=["civil-affairs"], purposes=["assistance-review"])
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "not-the-secret"}
    response = hub.http.post("/oauth/token", data=form)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


# --- purposes -----------------------------------------------------------------------------------


def test_a_token_with_several_purposes_needs_x_purpose(hub: Hub) -> None:
    client_id = hub.client("civil-two-purposes", roles=["civil-affairs"], purposes=["assistance-review", "comparison"])
    bearer = hub.token(client_id)
    before = len(hub.events())
    body = post(hub.http, MEMBERS, bearer, status=400, n=SMALL)
    assert body["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"
    assert "X-Purpose" in body["errors"][0]["message"]
    assert hub.events()[before]["outcome"] == "refused"
    # and naming one of them works
    chosen = post(hub.http, MEMBERS, bearer, purpose="comparison", n=SMALL)
    assert chosen["data"]["household"]["members"][0]["name"] == "欧阳明"
    assert hub.events()[-1]["purpose"] == "comparison"


def test_a_purpose_outside_the_token_or_the_client_is_forbidden(hub: Hub) -> None:
    client_id = hub.client("civil-two-purposes", roles=["civil-affairs"], purposes=["assistance-review", "comparison"])
    narrow = hub.token(client_id, scope="purpose:comparison")
    for purpose in ("assistance-review", "student-aid"):
        body = post(hub.http, MEMBERS, narrow, purpose=purpose, status=403, n=SMALL)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert purpose in body["errors"][0]["message"]


# --- regions ------------------------------------------------------------------------------------

EVERY_ENTRY = """query Every($n: String!, $id: String!, $legacy: String!) {
  household(householdNumber: $n) { householdNumber }
  person(idNumber: $id) { idNumber }
  legacy: person(idNumber: $legacy) { idNumber }
  all: households(region: "3505") { totalCount edges { node { householdNumber members { idNumber } } } }
  county: households(region: "350583") { totalCount edges { node { householdNumber } } }
  keyTargetDistribution(region: "3505") { countyCode unstableHouseholds unstablePersons }
}"""


def test_outside_its_regions_a_household_does_not_exist_by_any_path(hub: Hub) -> None:
    # given clients of another county, and a read of the small household that its head's access log lists
    bearer = hub.as_role("civil-affairs", "comparison", regions=["350524"])
    auditor = hub.as_role("auditor", "audit", regions=["350524"])  # the access log answers the audit purpose only
    post(hub.http, MEMBERS, hub.as_role("housing", "assistance-review"), n=SMALL)
    legacy = to_legacy(SMALL_HEAD)
    nobody = make_id("350524", "19900101", 1, male=True)  # a valid id of that county that nobody has
    # when they ask for the household, its head and its county by every entry point, and for ids nobody has
    seen = post(hub.http, EVERY_ENTRY, bearer, n=SMALL, id=SMALL_HEAD, legacy=legacy)
    missing = post(hub.http, EVERY_ENTRY, bearer, n="350524999999", id=nobody, legacy=legacy)
    seen_logs = [post(hub.http, ACCESS_LOG, auditor, id=spelling) for spelling in (SMALL_HEAD, legacy)]
    missing_log = post(hub.http, ACCESS_LOG, auditor, id=nobody)
    # then nothing of them is there, and every answer is the one for ids that do not exist
    data = seen["data"]
    assert data["household"] is None and data["person"] is None and data["legacy"] is None
    assert data["all"] == {"totalCount": 0, "edges": []}
    assert data["county"] == {"totalCount": 0, "edges": []}
    assert data["keyTargetDistribution"] == [{"countyCode": "350524", "unstableHouseholds": 0, "unstablePersons": 0}]
    assert seen == missing  # the same answer as for ids that do not exist
    assert seen_logs == [missing_log, missing_log] == [{"data": {"accessLog": {"edges": [], "hasNextPage": False}}}] * 2
    # while an auditor of the head's county sees the read in the log
    assert post(hub.http, ACCESS_LOG, hub.as_role("auditor", "audit"), id=SMALL_HEAD)["data"]["accessLog"]["edges"]


def test_an_auditor_of_one_township_sees_no_access_log_of_a_person_outside_it(hub: Hub) -> None:
    # given both households' heads have been read, and an auditor of the small household's township only
    reader = hub.as_role("housing", "assistance-review")
    for household_number in (SMALL, LARGE):
        post(hub.http, MEMBERS, reader, n=household_number)
    auditor = hub.as_role("auditor", "audit", regions=["350583101"])
    # when it asks for the log of the large household's head (another township), and of an id nobody has
    outside = post(hub.http, ACCESS_LOG, auditor, id=HIV_PATIENT)
    nobody = post(hub.http, ACCESS_LOG, auditor, id=make_id("350583", "19900101", 99, male=True))
    # then both answers are the same empty log, while the small household's head's log lists the read
    assert outside == nobody == {"data": {"accessLog": {"edges": [], "hasNextPage": False}}}
    inside = post(hub.http, ACCESS_LOG, auditor, id=SMALL_HEAD)["data"]["accessLog"]["edges"]
    assert inside[0]["node"]["clientId"] == "housing-assistance-review"


def test_a_township_client_sees_its_township_only(hub: Hub) -> None:
    bearer = hub.as_role("civil-affairs", "comparison", regions=["350583101"])  # SMALL's township only
    answer = post(hub.http, EVERY_ENTRY, bearer, n=LARGE, id=LARGE_MEMBERS[0][0], legacy=to_legacy(SMALL_HEAD))
    data = answer["data"]
    assert data["household"] is None and data["person"] is None
    assert data["legacy"] == {"idNumber": SMALL_HEAD}
    assert data["all"]["totalCount"] == 1
    assert [edge["node"]["householdNumber"] for edge in data["all"]["edges"]] == [SMALL]
    assert data["keyTargetDistribution"] == [{"countyCode": "350583", "unstableHouseholds": 0, "unstablePersons": 0}]


def test_key_targets_count_what_the_whole_county_sees(hub: Hub) -> None:
    bearer = hub.as_role("civil-affairs", "comparison")
    rows = post(hub.http, EVERY_ENTRY, bearer, n=LARGE, id=SMALL_HEAD, legacy=to_legacy(SMALL_HEAD))["data"]
    nanan = [row for row in rows["keyTargetDistribution"] if row["countyCode"] == "350583"]
    assert nanan == [{"countyCode": "350583", "unstableHouseholds": 1, "unstablePersons": 8}]


# --- special data, withheld paths ---------------------------------------------------------------


def test_a_minors_identity_is_withheld_from_a_role_without_special_and_the_paths_are_listed(hub: Hub) -> None:
    bearer = hub.as_role("auditor", "audit")  # personal: mask, special not granted
    body = post(hub.http, MEMBERS, bearer, n=LARGE)
    members = body["data"]["household"]["members"]
    child = next(member for member in members if member["idNumber"] is None)
    assert child == {"idNumber": None, "name": None, "phone": None}
    adult = members[0]
    assert adult["idNumber"] == HIV_PATIENT[:6] + "********" + HIV_PATIENT[-4:]
    withheld = body["extensions"]["withheld"]
    paths = sorted(entry["path"] for entry in withheld)
    # the household number has no mask, so `personal: mask` withholds it; the members' fields only for the minors
    assert paths == [
        "household.householdNumber",
        "household.members.idNumber",
        "household.members.name",
        "household.members.phone",
    ]
    assert len(withheld) == 4  # one entry per path, not one per row


def test_student_aid_sees_a_pupils_identity_and_no_diagnosis(hub: Hub) -> None:
    bearer = hub.as_role("student-aid", "student-aid")
    members = post(hub.http, MEMBERS, bearer, n=LARGE)["data"]["household"]["members"]
    assert CHILD in {member["idNumber"] for member in members}
    settlements = post(hub.http, SETTLEMENTS, bearer, id=HIV_PATIENT)["data"]["person"]["medical"]
    assert settlements is None  # the whole medical part is withheld from student aid


def test_an_hiv_diagnosis_is_withheld_where_special_is_masked_and_other_diagnoses_are_masked(hub: Hub) -> None:
    bearer = hub.as_role("civil-affairs", "assistance-review")  # diagnosis: mask, special: mask
    hiv = post(hub.http, SETTLEMENTS, bearer, id=HIV_PATIENT)["data"]["person"]["medical"]["settlements"]
    stroke = post(hub.http, SETTLEMENTS, bearer, id=SMALL_HEAD)["data"]["person"]["medical"]["settlements"]
    assert hiv == [{"diagnosisCode": "B**", "outOfPocket": "150.00"}]  # masked to the chapter, never B20
    assert stroke == [{"diagnosisCode": "I**", "outOfPocket": "1322.00"}]


def test_housing_never_sees_diagnoses(hub: Hub) -> None:
    bearer = hub.as_role("housing", "assistance-review")
    body = post(hub.http, SETTLEMENTS, bearer, id=HIV_PATIENT)
    assert body["data"]["person"]["medical"] is None
    assert {"path": "person.medical", "field": "Person.medical", "reason": "policy"} in body["extensions"]["withheld"]


# --- audit --------------------------------------------------------------------------------------


def test_a_read_writes_exactly_one_event_naming_subjects_and_fields(hub: Hub) -> None:
    bearer = hub.as_role("housing", "assistance-review")
    before = len(hub.events())
    post(hub.http, MEMBERS, bearer, n=SMALL)
    events = hub.events()[before:]
    assert len(events) == 1
    event = events[0]
    assert (event["client_id"], event["purpose"], event["operation"], event["outcome"]) == (
        "housing-assistance-review",
        "assistance-review",
        "Members",
        "ok",
    )
    assert len(event["subjects"]) == 2 and SMALL_HEAD not in str(event["subjects"])  # pseudonymised
    assert event["revealed"] == ["Household.householdNumber", "Person.idNumber", "Person.name"]
    assert event["masked"] == ["Person.phone"]
    assert event["policy_version"] == 1
    assert verify(hub.engine).ok


def test_the_case_id_is_recorded(hub: Hub) -> None:
    bearer = hub.as_role("housing", "assistance-review")
    response = hub.http.post(
        "/graphql",
        json={"query": MEMBERS, "variables": {"n": SMALL}},
        headers={"Authorization": f"Bearer {bearer}", "X-Case-Id": "WF-2026-0042"},
    )
    assert response.status_code == 200
    assert hub.events()[-1]["case_id"] == "WF-2026-0042"


ACCESS_LOG = """query Log($id: String!) {
  accessLog(idNumber: $id) { edges { node { clientId purpose operation revealed masked } } hasNextPage }
}"""


def test_the_access_log_answers_who_read_a_person_for_auditors_only(hub: Hub) -> None:
    reader = hub.as_role("housing", "assistance-review")
    post(hub.http, MEMBERS, reader, n=SMALL)
    log = post(hub.http, ACCESS_LOG, hub.as_role("auditor", "audit"), id=to_legacy(SMALL_HEAD))["data"]["accessLog"]
    newest = log["edges"][0]["node"]
    assert newest == {
        "clientId": "housing-assistance-review",
        "purpose": "assistance-review",
        "operation": "Members",
        "revealed": ["Household.householdNumber", "Person.idNumber", "Person.name"],
        "masked": ["Person.phone"],
    }
    refused = post(hub.http, ACCESS_LOG, reader, id=SMALL_HEAD)
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_without_an_audit_trail_nothing_is_returned(hub: Hub) -> None:
    bearer = hub.as_role("housing", "assistance-review")
    with hub.engine.begin() as connection:  # the audit table is gone (stands for a store that refuses writes)
        connection.execute(sa.text("ALTER TABLE audit_event RENAME TO audit_event_away"))
    try:
        headers = {"Authorization": f"Bearer {bearer}"}
        response = hub.http.post("/graphql", json={"query": MEMBERS, "variables": {"n": SMALL}}, headers=headers)
    finally:
        with hub.engine.begin() as connection:
            connection.execute(sa.text("ALTER TABLE audit_event_away RENAME TO audit_event"))
    assert response.status_code == 503
    assert "audit" in response.json()["errors"][0]["message"]
    assert SMALL_HEAD not in response.text


def test_every_demo_role_and_purpose_has_a_client_that_can_read(hub: Hub) -> None:
    for role, by_purpose in DEMO_POLICY.rules.items():
        for purpose in by_purpose:
            body = post(hub.http, HOUSEHOLD_PICTURE, hub.as_role(role, purpose), householdNumber=SMALL)
            assert body["data"]["household"] is not None, (role, purpose)
            assert "errors" not in body, (role, purpose, body.get("errors"))
