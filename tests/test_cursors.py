"""Pagination cursors through the secured hub: they reveal no position, only the hub's own open, and
paging still walks each list whole.

Every connection the hub serves (households, eligibleStudents, accessLog), on SQLite and PostgreSQL,
with clients of the demo roles. A cursor is scanned as an attacker would: as text, and decoded as
base64, base32 or hex (two levels deep), for any resident id, household number or audit seq.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

import pytest
from starlette.testclient import TestClient

from aidgraph.app import create_app
from aidgraph.settings import Settings
from auth import audit
from auth.hub_keys import CURSOR_KEY, hub_key
from resolvers.cursors import CURSOR_LENGTH, MAX_CURSOR_LENGTH, NOT_A_CURSOR, CursorKind, Cursors
from tests.access import post, world_store
from tests.conftest import BACKENDS
from tests.test_access import Hub
from tests.world import LARGE, LARGE_MEMBERS, SMALL, SMALL_HEAD, SMALL_SPOUSE

TERM: Final = "2026-2027-1"
HOUSEHOLDS: Final = """query Households($region: String!, $first: Int, $after: String) {
  households(region: $region, first: $first, after: $after) {
    edges { cursor node { householdNumber } }
    pageInfo { hasNextPage startCursor endCursor }
  }
}"""
STUDENTS: Final = """query Students($region: String!, $term: String!, $first: Int, $after: String) {
  eligibleStudents(region: $region, term: $term, first: $first, after: $after) {
    edges { cursor node { schoolName student { idNumber } } }
    pageInfo { hasNextPage startCursor endCursor }
  }
}"""
ACCESS_LOG: Final = """query Log($id: String!, $first: Int, $after: String) {
  accessLog(idNumber: $id, first: $first, after: $after) { edges { cursor node { operation } } hasNextPage }
}"""

RESIDENTS: Final = [SMALL_HEAD, SMALL_SPOUSE, *(member[0] for member in LARGE_MEMBERS)]
# Every id in its 18- and its 15-digit form (the latter as if born 19xx), and every household number.
IDENTIFIERS: Final = frozenset([*RESIDENTS, *(resident[:6] + resident[8:17] for resident in RESIDENTS), SMALL, LARGE])
EARLIER_READS: Final = 10  # events before the person's own: every seq of theirs has two digits at least
READS: Final = 12  # reads of the small household, each its own operation name


# --- the scan: what an attacker decodes from a cursor ------------------------------------------------


def _decode_once(text: str) -> list[bytes]:
    padded = text + "=" * (-len(text) % 4)
    attempts = [
        lambda: base64.urlsafe_b64decode(padded),
        lambda: base64.b64decode(padded),
        lambda: base64.b32decode(text.upper() + "=" * (-len(text) % 8)),
        lambda: bytes.fromhex(text),
    ]
    found = []
    for attempt in attempts:
        try:
            found.append(attempt())
        except (binascii.Error, ValueError):
            continue
    return found


def _readable(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() else None


def _packed(number: int) -> list[bytes]:
    """A number as a program might pack it: 4 or 8 bytes, either byte order."""
    return [number.to_bytes(size, order) for size in (4, 8) if number < 2 ** (8 * size) for order in ("big", "little")]


def leaks(cursor: str, *, identifiers: frozenset[str], seqs: frozenset[int]) -> set[str]:
    """The identifiers and seqs found in a cursor, as text, bytes or packed numbers, plain or decoded.

    Seqs are short, so they count only as whole numbers: in the cursor's own text delimited by
    characters outside base64url (random base64url text holds short digit runs by chance), in decoded
    forms only where these read as text (random bytes never do), or packed.
    """
    decoded = []
    for data in _decode_once(cursor):
        decoded.append(data)
        readable = _readable(data)
        if readable is not None:
            decoded += _decode_once(readable)
    numbers = {token for token in re.split(r"[^0-9A-Za-z_-]+", cursor) if token.isdigit()}
    for data in decoded:
        readable = _readable(data)
        if readable is not None:
            numbers.update(re.findall(r"[0-9]+", readable))
    found = {str(seq) for seq in seqs if str(seq) in numbers}
    for data in [cursor.encode(), *decoded]:
        text = data.decode("latin-1").upper()
        for identifier in identifiers:
            if identifier in text or any(packed in data for packed in _packed(int(identifier.rstrip("X")))):
                found.add(identifier)
        found |= {str(seq) for seq in seqs if any(packed in data for packed in _packed(seq))}
    return found


def _old_cursor(kind: str, key: str) -> str:
    """The cursor the hub used to hand out: base64url of `kind:key`."""
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("cursor", "found"),
    [
        pytest.param(_old_cursor("student", LARGE_MEMBERS[5][0]), LARGE_MEMBERS[5][0], id="base64url id"),
        pytest.param(_old_cursor("household", SMALL), SMALL, id="base64url household number"),
        pytest.param(_old_cursor("access", "17"), "17", id="base64url seq"),
        pytest.param(base64.b32encode(f"access|{SMALL_HEAD}".encode()).decode(), SMALL_HEAD, id="base32 id"),
        pytest.param(b"access:17".hex(), "17", id="hex seq"),
        pytest.param(base64.urlsafe_b64encode((17).to_bytes(8, "big")).decode(), "17", id="packed seq"),
        pytest.param(base64.b64encode(_old_cursor("h", SMALL).encode()).decode(), SMALL, id="base64 twice"),
        pytest.param("17", "17", id="plain seq"),
    ],
)
def test_the_scan_finds_a_position_in_the_usual_encodings(cursor: str, found: str) -> None:
    # given a cursor that carries its position in some encoding, when it is scanned, then it is found
    assert leaks(cursor, identifiers=IDENTIFIERS, seqs=frozenset({17})) == {found}


# --- the hub's lists, the clients that page them -----------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """One connection as the tests page it: its document, arguments, purpose and the key of a node."""

    name: str
    document: str
    variables: dict[str, Any]
    pager_purpose: str
    """The purpose the pager (below) names for this list."""
    readers: tuple[tuple[str, str], ...]
    """Demo (role, purpose) pairs that page it; the first sees each node's key."""
    key: Callable[[dict[str, Any]], Any]
    """What tells a node from the others in a walk."""
    old_cursor: str
    """The cursor the hub used to hand out for a real position of this list."""

    def page(
        self, hub: Hub, bearer: str, *, purpose: str, first: int | None = None, after: str | None = None
    ) -> dict[str, Any]:
        return post(hub.http, self.document, bearer, purpose=purpose, first=first, after=after, **self.variables)

    def paged(self, hub: Hub, client_id: str, *, after: str | None, first: int | None = 1) -> dict[str, Any]:
        """A page for the pager or its twin."""
        return self.page(hub, hub.token(client_id), purpose=self.pager_purpose, first=first, after=after)

    def cursors(self, connection: dict[str, Any]) -> list[str]:
        """Every cursor of a page: its edges' and its page info's."""
        found = [edge["cursor"] for edge in connection["edges"]]
        info = connection.get("pageInfo") or {}
        return found + [info[name] for name in ("startCursor", "endCursor") if info.get(name) is not None]

    def walk(self, hub: Hub, bearer: str, *, purpose: str, first: int) -> list[dict[str, Any]]:
        """Every page, each after the last cursor of the one before."""
        pages: list[dict[str, Any]] = []
        after = None
        for _ in range(50):  # bounded: a cursor that does not advance must fail the test, not hang it
            connection = self.page(hub, bearer, purpose=purpose, first=first, after=after)["data"][self.name]
            pages.append(connection)
            more = connection["pageInfo"]["hasNextPage"] if "pageInfo" in connection else connection["hasNextPage"]
            if not more:
                return pages
            after = connection["edges"][-1]["cursor"]
        raise AssertionError(f"{self.name} still had pages after 50")


LISTINGS: Final = {
    "households": Listing(
        "households",
        HOUSEHOLDS,
        {"region": "3505"},
        "student-aid",
        # the auditor's policy withholds household numbers: its cursors must not carry them either
        (("civil-affairs", "comparison"), ("auditor", "audit"), ("housing", "assistance-review")),
        lambda node: node["householdNumber"],
        _old_cursor("household", SMALL),
    ),
    "eligibleStudents": Listing(
        "eligibleStudents",
        STUDENTS,
        {"region": "3505", "term": TERM},
        "student-aid",
        (("student-aid", "student-aid"), ("education", "student-aid")),
        lambda node: node["student"]["idNumber"],
        _old_cursor("student", LARGE_MEMBERS[5][0]),
    ),
    "accessLog": Listing(
        "accessLog",
        ACCESS_LOG,
        {"id": SMALL_HEAD},
        "audit",
        (("auditor", "audit"),),
        lambda node: node["operation"],  # each read of the fixture has an operation name of its own
        _old_cursor("access", "17"),
    ),
}
PAGER: Final = "cursor-pager"
"""A client with the purposes of every list (student aid and audit), so that one client holds cursors of
each: a cursor of another list is refused for its kind, not for its client."""
TWIN: Final = "cursor-pager-twin"
"""The same roles, purposes and regions as the pager, under another client id."""


def _read(hub: Hub, household_number: str, operation: str) -> None:
    document = f"query {operation}($n: String!) {{ household(householdNumber: $n) {{ members {{ idNumber }} }} }}"
    body = post(hub.http, document, hub.as_role("housing", "assistance-review"), n=household_number)
    assert body["data"]["household"] is not None, body


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The tiny world, where the small household's head has been read `READS` times, after other reads."""
    with world_store(request, tmp_path_factory.mktemp("cursors")) as (url, engine):
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
            hub = Hub(http, engine)
            for number in range(EARLIER_READS):
                _read(hub, LARGE, f"Earlier{number}")
            for number in range(READS):
                _read(hub, SMALL, f"Read{number}")
            for client_id in (PAGER, TWIN):
                hub.client(client_id, roles=["student-aid", "auditor"], purposes=["student-aid", "audit"])
            yield hub


@pytest.fixture(scope="module")
def handed(hub: Hub) -> dict[str, dict[str, str]]:
    """A cursor of every list, as the pager and as its twin received it: client -> list -> cursor."""
    found: dict[str, dict[str, str]] = {}
    for client_id in (PAGER, TWIN):
        found[client_id] = {}
        for name, listing in LISTINGS.items():
            connection = listing.paged(hub, client_id, after=None)["data"][name]
            found[client_id][name] = connection["edges"][0]["cursor"]
    return found


# --- (a) a cursor reveals nothing ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["households", "eligibleStudents"])
def test_no_cursor_of_a_list_carries_an_id_or_household_number(hub: Hub, name: str) -> None:
    listing = LISTINGS[name]
    for role, purpose in listing.readers:
        bearer = hub.as_role(role, purpose)
        # when a demo client pages the whole list, one entry per page, and asks for its start once more
        pages = listing.walk(hub, bearer, purpose=purpose, first=1)
        again = listing.page(hub, bearer, purpose=purpose, first=1)["data"][name]
        handed_out = [cursor for page in pages for cursor in listing.cursors(page)]
        # then it got cursors, each of one length in base64url, none carrying an id or a household number
        assert len(pages) == 2, (role, purpose)
        for cursor in handed_out:
            assert leaks(cursor, identifiers=IDENTIFIERS, seqs=frozenset()) == set(), (role, purpose, cursor)
            assert len(cursor) == CURSOR_LENGTH and re.fullmatch(r"[A-Za-z0-9_-]+", cursor), cursor
        # and the same position gets another cursor each time: no cursor is a stable pseudonym of a person
        assert again["edges"][0]["cursor"] != pages[0]["edges"][0]["cursor"]


def test_no_cursor_of_the_access_log_carries_its_seq_or_an_id(hub: Hub) -> None:
    # given the person's events as the trail holds them, every seq with two digits at least
    entries = audit.access_log(hub.engine, SMALL_HEAD, first=100)
    assert len(entries) >= READS and all(entry.seq >= 10 for entry in entries)
    # when an auditor reads the person's access log whole
    log = post(hub.http, ACCESS_LOG, hub.as_role("auditor", "audit"), id=SMALL_HEAD, first=100)["data"]["accessLog"]
    # then it lists exactly those events, and no edge's cursor carries its event's seq, nor any id
    assert [edge["node"]["operation"] for edge in log["edges"]] == [entry.operation for entry in entries]
    for edge, entry in zip(log["edges"], entries, strict=True):
        assert leaks(edge["cursor"], identifiers=IDENTIFIERS, seqs=frozenset({entry.seq})) == set(), entry.seq
        assert len(edge["cursor"]) == CURSOR_LENGTH


# --- (b) a cursor the hub did not hand to this client, for this list, is refused -----------------------


def _flip(cursor: str, index: int) -> str:
    data = bytearray(base64.urlsafe_b64decode(cursor))
    data[index] ^= 0x01
    return base64.urlsafe_b64encode(bytes(data)).decode()


def _changed(cursor: str, index: int) -> str:
    return cursor[:index] + ("B" if cursor[index] != "B" else "C") + cursor[index + 1 :]


MALFORMED: Final = {
    "empty": lambda cursor: "",
    "forged": lambda cursor: base64.urlsafe_b64encode(b"\x01" + bytes(range(68))).decode(),
    "truncated by one": lambda cursor: cursor[:-1],
    "truncated by four": lambda cursor: cursor[:-4],
    "truncated to half": lambda cursor: cursor[: len(cursor) // 2],
    "a character more": lambda cursor: cursor + "A",
    "four characters more": lambda cursor: cursor + "AAAA",
    "version bit flipped": lambda cursor: _flip(cursor, 0),
    "nonce bit flipped": lambda cursor: _flip(cursor, 5),
    "sealed position bit flipped": lambda cursor: _flip(cursor, 30),
    "tag bit flipped": lambda cursor: _flip(cursor, 68),
    "a character changed": lambda cursor: _changed(cursor, 40),
    "oversized by one": lambda cursor: cursor + "A" * (MAX_CURSOR_LENGTH + 1 - len(cursor)),
    "oversized": lambda cursor: cursor * 1000,
    "a NUL inside": lambda cursor: cursor[:40] + "\x00" + cursor[41:],
    "a NUL after": lambda cursor: cursor + "\x00",
    "a NUL alone": lambda cursor: "\x00",
    "padding added": lambda cursor: cursor + "==",
    "white space around": lambda cursor: f" {cursor}\n",
    "non-ASCII": lambda cursor: cursor[:-1] + "é",
    "40 digits": lambda cursor: "1" * 40,
    "40 digits, the old way": lambda cursor: _old_cursor("access", "1" * 40),
    "a NUL, the old way": lambda cursor: _old_cursor("household", "\x00"),
}


def _refused(body: dict[str, Any]) -> None:
    assert body["data"] is None, body
    assert [(error["extensions"]["code"], error["message"]) for error in body["errors"]] == [
        ("BAD_USER_INPUT", NOT_A_CURSOR)
    ]


@pytest.mark.parametrize("case", list(MALFORMED))
@pytest.mark.parametrize("name", list(LISTINGS))
def test_a_malformed_cursor_is_bad_user_input(
    hub: Hub, handed: dict[str, dict[str, str]], name: str, case: str
) -> None:
    # given a cursor the pager was handed, then altered (or made up)
    cursor = MALFORMED[case](handed[PAGER][name])
    # when the pager passes it as `after`, then it is refused as not a cursor of this list
    _refused(LISTINGS[name].paged(hub, PAGER, after=cursor))


@pytest.mark.parametrize("name", list(LISTINGS))
def test_a_cursor_of_the_old_format_is_bad_user_input(hub: Hub, name: str) -> None:
    # when the pager passes what the hub used to hand out for a real position, then it is refused
    _refused(LISTINGS[name].paged(hub, PAGER, after=LISTINGS[name].old_cursor))


@pytest.mark.parametrize(
    ("name", "source"), [(name, source) for name in LISTINGS for source in LISTINGS if source != name]
)
def test_a_cursor_of_another_list_is_bad_user_input(
    hub: Hub, handed: dict[str, dict[str, str]], name: str, source: str
) -> None:
    # when the pager passes a cursor it was handed by another list, then this list refuses it
    _refused(LISTINGS[name].paged(hub, PAGER, after=handed[PAGER][source]))


@pytest.mark.parametrize("name", list(LISTINGS))
def test_a_cursor_handed_to_another_client_is_bad_user_input(
    hub: Hub, handed: dict[str, dict[str, str]], name: str
) -> None:
    # given the twin's cursor (same roles, purposes and regions), when the pager passes it, then it is refused
    _refused(LISTINGS[name].paged(hub, PAGER, after=handed[TWIN][name]))
    # while the pager's own cursor of the list is accepted
    assert "errors" not in LISTINGS[name].paged(hub, PAGER, after=handed[PAGER][name])


@pytest.mark.parametrize(
    ("name", "position"),
    [
        ("accessLog", "1" * 40),
        ("accessLog", "0"),
        ("accessLog", "007"),
        ("eligibleStudents", SMALL),
        ("households", "x" * 33),
    ],
)
def test_a_sealed_position_that_is_none_of_the_lists_is_bad_user_input(hub: Hub, name: str, position: str) -> None:
    # given cursors sealed with the hub's own key for the pager: a real position, and one its list cannot have
    kind = {"households": "household", "eligibleStudents": "student", "accessLog": "access"}[name]
    key = hub_key(hub.engine, CURSOR_KEY)
    sealer = Cursors(lambda: key, client_id=PAGER)
    any_text = CursorKind(kind, str)  # seals what the hub itself never would
    listing = LISTINGS[name]
    real = {"households": SMALL, "eligibleStudents": LARGE_MEMBERS[4][0], "accessLog": str(2**40)}[name]
    # when the pager passes them, then the real position pages on and the other one is refused
    assert "errors" not in listing.paged(hub, PAGER, after=sealer.seal(any_text, real))
    _refused(listing.paged(hub, PAGER, after=sealer.seal(any_text, position)))


# --- (c) paging still walks each list whole -------------------------------------------------------------


@pytest.mark.parametrize("name", list(LISTINGS))
def test_paging_walks_a_whole_list_without_repeats_or_gaps(hub: Hub, name: str) -> None:
    listing = LISTINGS[name]
    role, purpose = listing.readers[0]
    bearer = hub.as_role(role, purpose)
    # given the whole list on one page (for the access log: as the trail holds it before the walk)
    if name == "accessLog":
        whole = [entry.operation for entry in audit.access_log(hub.engine, SMALL_HEAD, first=100)]
    else:
        one_page = listing.page(hub, bearer, purpose=purpose, first=100)["data"][name]
        whole = [listing.key(edge["node"]) for edge in one_page["edges"]]
    assert len(whole) >= 2, whole
    # when it is walked in small pages, each after the last cursor of the one before
    pages = listing.walk(hub, bearer, purpose=purpose, first=1 if name != "accessLog" else 5)
    walked = [listing.key(edge["node"]) for page in pages for edge in page["edges"]]
    # then the walk is the whole list, in its order, nothing twice and nothing missed
    assert walked == whole
