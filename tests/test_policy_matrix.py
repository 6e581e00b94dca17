"""The demo policy as a matrix: every (role, purpose) x every governed field, value by value, and a leak scan.

Each role reads both world households through the secured hub; an open app on the same store gives the
raw values. A small oracle written here from the YAML text says what each value must have become (raw,
masked or withheld), independently of the policy engine; then the whole response text is scanned for raw
ids, phone numbers and names that the policy hides from that role.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import pytest
import yaml
from graphql import GraphQLObjectType, get_named_type
from starlette.testclient import TestClient

import schema
from adapters.idnumber import to_legacy
from aidgraph.app import create_app
from aidgraph.settings import Settings
from auth.labels import GOVERNED, NATURAL_MASKS, STRUCTURE_TYPES
from auth.masks import apply_mask
from tests.access import DEMO_POLICY_TEXT, every_field_below, register, token, world_store
from tests.conftest import BACKENDS
from tests.world import LARGE, LARGE_MEMBERS, SMALL

Pair = tuple[str, str]
# The YAML as written, read here and not by the engine: role -> purpose -> target -> action.
POLICY_YAML: Final[dict[str, dict[str, dict[str, str]]]] = yaml.safe_load(DEMO_POLICY_TEXT)
PAIRS: Final[list[Pair]] = [(role, purpose) for role, by_purpose in POLICY_YAML.items() for purpose in by_purpose]
MATRIX_FIELDS: Final = [
    f"{type_name}.{field_name}"
    for type_name, labels in GOVERNED.items()
    # read only through accessLog and eligibleStudents: tests/test_access.py and tests/test_students_api.py;
    # the casework ledgers' types only through their entry points: tests/casework/graphql/
    if type_name
    not in (
        "AccessLogEntry",
        "EligibleStudent",
        "EligibilityReason",
        "ComparisonItem",
        "Alert",
        "Evidence",
        "CaseworkChange",
    )
    for field_name in labels
]
_GRAPHQL = schema.create_schema()._schema

# `every_field_below` never goes back up from a person to its household; one level of it is added by hand,
# so that `Person.household` is observed too (selections of the same field merge).
_EVERYTHING = every_field_below("Household") + " members { household { householdNumber countyCode } }"
BOTH_HOUSEHOLDS = f"""query Matrix($small: String!, $large: String!) {{
  small: household(householdNumber: $small) {{ {_EVERYTHING} }}
  large: household(householdNumber: $large) {{ {_EVERYTHING} }}
}}"""

# --- the oracle: what the YAML says a value becomes --------------------------------------------------

_RANK: Final = {"deny": 0, "mask": 1, "allow": 2}
# ICD-10 HIV categories, and one sub-code (O98.7: HIV in pregnancy), with their sub-codes; dot optional.
_HIV_CODES: Final = ("B20", "B21", "B22", "B23", "B24", "Z21", "R75", "O98.7")
_MINOR_AGE: Final = 14
# A field that can hold an HIV code is shown alike for every value: the weaker of its rule and `special`.
_DIAGNOSIS: Final = ("SettlementRecord", "diagnosisCode")
# The fields whose value is a resident's identity (DESIGN §3: the identity of a minor is special), with a
# minor's age and birth date, which narrow down the id.
_IDENTITY: Final[dict[str, frozenset[str]]] = {
    **{type_name: frozenset({"idNumber"}) for type_name, labels in GOVERNED.items() if "idNumber" in labels},
    "Person": frozenset({"idNumber", "name", "phone", "birthDate", "age"}),
    "Source": frozenset({"recordKey"}),  # a record key can carry the id: judged by the id of its record
    "DisabilityCertificate": frozenset({"idNumber", "certificateNumber"}),  # the id + 2 digits
    "RegisteredPoorRecord": frozenset({"headIdNumber"}),
}


def rules_of(pair: Pair) -> dict[str, str]:
    """The rules of one (role, purpose) as written: target -> allow | deny | mask | mask:<format>."""
    role, purpose = pair
    return dict(POLICY_YAML[role][purpose] or {})


def _natural(action: str, field_name: str) -> str:
    if action != "mask":
        return action
    natural = NATURAL_MASKS.get(field_name)
    return f"mask:{natural}" if natural else "deny"


def _kind(action: str) -> str:
    return action.partition(":")[0]


def field_rule(rules: Mapping[str, str], type_name: str, field_name: str) -> str:
    """allow, deny or mask:<format>: the field's rule, else its label's, else deny (before special values)."""
    label = GOVERNED[type_name][field_name]
    return _natural(rules.get(f"{type_name}.{field_name}") or rules.get(label) or "deny", field_name)


def expected_action(rules: Mapping[str, str], type_name: str, field_name: str, *, special: bool = False) -> str:
    """allow, deny or mask:<format>: the field's rule, else its label's, else deny; special values, and every
    diagnosis, get the weaker of that and the `special` rule."""
    action = field_rule(rules, type_name, field_name)
    if special or (type_name, field_name) == _DIAGNOSIS:
        granted = _natural(rules.get("special") or "deny", field_name)
        if _RANK[_kind(granted)] < _RANK[_kind(action)]:
            action = granted
    return action


def value_action(rules: Mapping[str, str], target: str, value: Seen, today: dt.date) -> str:
    """What the oracle says one observed value must have become."""
    type_name, _, field_name = target.partition(".")
    return expected_action(rules, type_name, field_name, special=value.is_special(type_name, field_name, today))


def _is_hiv(code: str) -> bool:
    written = code.strip().upper()
    return any(written.startswith((hiv, hiv.replace(".", ""))) for hiv in _HIV_CODES)


def _is_minor(id_number: Any, today: dt.date) -> bool:
    if not isinstance(id_number, str):
        return False
    born = dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    return (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) < _MINOR_AGE


# --- observations: the raw and the secured tree, walked side by side ------------------------------------


@dataclass(frozen=True)
class Seen:
    """One value of one field: raw (open app) and as the role received it."""

    path: str
    raw: Any
    secured: Any
    parent: Mapping[str, Any]  # the raw object holding the field
    owner: Mapping[str, Any]  # the raw object holding the parent (a Source's record)
    hidden_by: str | None  # the Type.field above that the secured side lacks: nothing below it was sent

    def is_special(self, type_name: str, field_name: str, today: dt.date) -> bool:
        if (type_name, field_name) == _DIAGNOSIS:
            return isinstance(self.raw, str) and _is_hiv(self.raw)
        if field_name not in _IDENTITY.get(type_name, ()):
            return False
        if field_name == "headIdNumber":
            return _is_minor(self.raw, today)
        subject = self.owner if type_name == "Source" else self.parent
        return _is_minor(subject.get("idNumber"), today)


def walk(
    kind: GraphQLObjectType,
    raw: Mapping[str, Any],
    secured: Mapping[str, Any] | None,
    *,
    path: str,
    owner: Mapping[str, Any],
    hidden_by: str | None,
    found: dict[str, list[Seen]],
) -> None:
    for name, raw_value in raw.items():
        target = f"{kind.name}.{name}"
        secured_value = secured.get(name) if secured is not None else None
        found.setdefault(target, []).append(
            Seen(f"{path}.{name}", raw_value, secured_value, raw, owner, hidden_by if secured is None else None)
        )
        child = get_named_type(kind.fields[name].type)
        if not isinstance(child, GraphQLObjectType) or raw_value is None:
            continue
        below = (hidden_by if secured is None else None) or (target if secured_value is None else None)
        if isinstance(raw_value, list):
            secured_items = secured_value if isinstance(secured_value, list) else []
            for index, item in enumerate(raw_value):
                secured_item = secured_items[index] if index < len(secured_items) else None
                hidden = below or (f"{target}[{index}]" if secured_item is None else None)
                walk(child, item, secured_item, path=f"{path}.{name}", owner=raw, hidden_by=hidden, found=found)
        else:
            walk(child, raw_value, secured_value, path=f"{path}.{name}", owner=raw, hidden_by=below, found=found)


@dataclass(frozen=True)
class Answer:
    """What one (role, purpose) received for both households, and every value in it beside its raw one."""

    text: str
    seen: dict[str, list[Seen]]  # Type.field -> its values


def observe(raw: Mapping[str, Any], secured: Mapping[str, Any]) -> dict[str, list[Seen]]:
    household = _GRAPHQL.type_map["Household"]
    assert isinstance(household, GraphQLObjectType)
    found: dict[str, list[Seen]] = {}
    for alias in ("small", "large"):
        walk(household, raw[alias], secured[alias], path=alias, owner={}, hidden_by=None, found=found)
    return found


def _read(http: TestClient, bearer: str | None) -> tuple[str, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    variables = {"small": SMALL, "large": LARGE}
    response = http.post("/graphql", json={"query": BOTH_HOUSEHOLDS, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    return response.text, body


@pytest.fixture(scope="module", params=BACKENDS)
def answers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[Pair, Answer]]:
    """Per backend: both households as every (role, purpose) of the demo policy receives them, read once."""
    with world_store(request, tmp_path_factory.mktemp("matrix")) as (url, engine):
        settings = Settings(database_url=url, token_rate_limit=0)
        with TestClient(create_app(settings, open_access=True)) as open_http, TestClient(create_app(settings)) as http:
            _, raw = _read(open_http, None)
            found: dict[Pair, Answer] = {}
            for role, purpose in PAIRS:
                client_id = f"matrix-{role}-{purpose}"
                secret = register(engine, client_id, roles=[role], purposes=[purpose])
                text, body = _read(http, token(http, client_id, secret))
                found[(role, purpose)] = Answer(text, observe(raw["data"], body["data"]))
        yield found


# --- 1. the matrix ------------------------------------------------------------------------------------

PSEUDONYMOUS: Final = object()  # a pseudonym differs per client: only its shape can be expected


def expected_value(action: str, raw: Any, *, special: bool = False) -> Any:
    if action == "allow":
        return raw
    if action == "deny" or raw is None:
        return None
    mask_format = action.removeprefix("mask:")
    if mask_format == "id" and special:
        return raw[:6] + "*" * 12  # a minor's masked id keeps its region, nothing that narrows the birth date
    return PSEUDONYMOUS if mask_format == "pseudonym" else apply_mask(mask_format, raw)


def _matches(expected: Any, secured: Any) -> bool:
    if expected is PSEUDONYMOUS:
        return isinstance(secured, str) and secured.startswith("p_")
    if isinstance(expected, list | dict):  # an object or a list of them: what is inside has its own entries
        return isinstance(secured, type(expected)) and (not isinstance(expected, list) or len(secured) == len(expected))
    return bool(secured == expected)


@pytest.mark.parametrize(
    ("pair", "target"),
    [pytest.param(pair, target, id=f"{pair[0]}/{pair[1]}/{target}") for pair in PAIRS for target in MATRIX_FIELDS],
)
def test_each_value_is_raw_masked_or_withheld_as_the_policy_says(
    answers: dict[Pair, Answer], pair: Pair, target: str
) -> None:
    # given the rules of one (role, purpose), and every value of one field the two households hold
    rules, today = rules_of(pair), dt.date.today()
    seen = answers[pair].seen.get(target, [])
    assert seen, f"{target} never appears in the world data: the matrix cannot check it"
    for value in seen:
        if value.hidden_by is not None:
            # then a value below a withheld object was never sent, and the policy does withhold that object
            above_type, _, above_field = value.hidden_by.partition("[")[0].partition(".")
            assert above_type in GOVERNED, f"{value.path}: {value.hidden_by} is missing, yet it is structure"
            assert expected_action(rules, above_type, above_field) == "deny", f"{value.path}: {value.hidden_by}"
            continue
        # when the oracle works out what this value must have become
        action = value_action(rules, target, value, today)
        # then the role received exactly that: the raw value, its mask, or nothing
        type_name, _, field_name = target.partition(".")
        expected = expected_value(action, value.raw, special=value.is_special(type_name, field_name, today))
        assert _matches(expected, value.secured), (
            f"{value.path}: policy says {action}, raw {value.raw!r}: expected {expected!r}, got {value.secured!r}"
        )
        if expected is PSEUDONYMOUS:
            assert value.secured != value.raw


@pytest.mark.parametrize("pair", PAIRS, ids=lambda pair: f"{pair[0]}/{pair[1]}")
def test_a_role_that_sees_a_field_that_can_hold_special_values_in_full_holds_a_special_grant(pair: Pair) -> None:
    # given the rules of one (role, purpose), and the fields that can hold a minor's identity or an HIV code
    rules = rules_of(pair)
    can_be_special = [(type_name, field_name) for type_name, fields in _IDENTITY.items() for field_name in fields]
    # when the fields it sees in full are listed
    in_full = [f"{t}.{f}" for t, f in [*can_be_special, _DIAGNOSIS] if field_rule(rules, t, f) == "allow"]
    # then there are none, or the purpose grants `special` (else the gaps would point at the special values)
    assert in_full == [] or rules.get("special") in ("allow", "mask"), in_full


ALWAYS_THERE: Final = frozenset(
    {"Household.countyCode", "Household.source", "Household.members", "Person.source", "Person.household"}
    | {"Source.department", "Source.table", "Source.asOf"}
)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda pair: f"{pair[0]}/{pair[1]}")
def test_structure_and_public_fields_are_there_for_every_role(answers: dict[Pair, Answer], pair: Pair) -> None:
    # given every value of a structure type or a public field that one (role, purpose) received
    structure = {
        target: [value for value in values if value.hidden_by is None]
        for target, values in answers[pair].seen.items()
        if _is_structure_or_public(target)
    }
    # then every role gets at least the households' structure and every record's source
    assert {target for target, values in structure.items() if values} >= ALWAYS_THERE
    # and each value is as the open app has it (objects present, lists as long)
    wrong = [
        (value.path, value.raw, value.secured)
        for values in structure.values()
        for value in values
        if not _matches(value.raw, value.secured)
    ]
    assert wrong == []


def _is_structure_or_public(target: str) -> bool:
    type_name, _, field_name = target.partition(".")
    return type_name in STRUCTURE_TYPES or GOVERNED[type_name][field_name] == "public"


# --- 2. the leak scan ---------------------------------------------------------------------------------

_SCANNED_MASKS: Final = frozenset({"id", "phone", "name"})


def hidden_values(pair: Pair, answer: Answer) -> set[str]:
    """Raw ids (and their 15-digit forms), phone numbers and names the policy masks or withholds from this
    (role, purpose), less those the same response legitimately reveals elsewhere."""
    rules, today = rules_of(pair), dt.date.today()
    hidden: set[str] = set()
    revealed: list[str] = []
    for target, values in answer.seen.items():
        type_name, _, field_name = target.partition(".")
        if type_name not in GOVERNED:
            continue
        kind = NATURAL_MASKS.get(field_name)
        for value in values:
            if not isinstance(value.raw, str):
                continue
            if value.hidden_by is None and value_action(rules, target, value, today) == "allow":
                revealed += _spellings(value.raw, kind)
            elif kind in _SCANNED_MASKS:
                hidden.update(_spellings(value.raw, kind))
    # revealed texts include record keys and certificate numbers: an id inside one is revealed as well
    return {value for value in hidden if not any(value in text for text in revealed)}


def _spellings(value: str, kind: str | None) -> list[str]:
    """A raw value as a response could carry it: an id also in its 15-digit form, where it has one."""
    legacy = to_legacy(value) if kind == "id" else None
    return [value] if legacy is None else [value, legacy]


def leaks(text: str, hidden: set[str]) -> list[str]:
    return sorted(value for value in hidden if value in text)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda pair: f"{pair[0]}/{pair[1]}")
def test_no_hidden_raw_value_occurs_anywhere_in_the_response_text(answers: dict[Pair, Answer], pair: Pair) -> None:
    # given the raw values this (role, purpose) must not receive
    answer = answers[pair]
    hidden = hidden_values(pair, answer)
    # when the whole response text is searched for them (record keys, certificate numbers, extensions too)
    found = leaks(answer.text, hidden)
    # then none is there
    assert found == []


def test_the_scan_finds_a_raw_id_and_name_planted_in_a_response() -> None:
    # given a response that withholds a minor's id and name, and copies with them planted inside other values
    child, legacy = LARGE_MEMBERS[7][0], str(to_legacy(LARGE_MEMBERS[2][0]))  # born 2020; born 1945
    hidden = {child, "张婷", legacy}
    text = json.dumps({"data": {"idNumber": None, "name": None, "source": {"recordKey": None}}}, ensure_ascii=False)
    # when the copies are scanned
    in_a_key = text.replace('"recordKey": null', f'"recordKey": "{child}|2026"')
    in_a_name = text.replace('"name": null', '"name": "张婷"')
    as_legacy = text.replace('"idNumber": null', f'"idNumber": "{legacy}"')
    # then each planted value is found, and the clean text has none
    assert leaks(text, hidden) == []
    assert leaks(in_a_key, hidden) == [child]
    assert leaks(in_a_name, hidden) == ["张婷"]
    assert leaks(as_legacy, hidden) == [legacy]


def test_the_scan_of_a_real_response_would_catch_a_planted_id(answers: dict[Pair, Answer]) -> None:
    # given the auditor's response (identities masked, a minor's withheld) and what it must not carry
    pair = ("auditor", "audit")
    answer = answers[pair]
    hidden = hidden_values(pair, answer)
    child = LARGE_MEMBERS[7][0]
    assert child in hidden and "张婷" in hidden
    # when a raw id is planted into a copy of the text, inside a record key
    planted = answer.text.replace('"recordKey":null', f'"recordKey":"{child}|2026"', 1)
    # then the scan finds it, where the real text is clean
    assert planted != answer.text
    assert leaks(planted, hidden) == [child]
    assert leaks(answer.text, hidden) == []
