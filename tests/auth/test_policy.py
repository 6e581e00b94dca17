"""Policies: the label table covers the schema, policies are checked when loaded, views apply per object."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLScalarType, get_nullable_type

import schema
from auth.access import Access, visible_prefixes
from auth.labels import GOVERNED, LABELS_ORDER, NATURAL_MASKS, SPECIAL, STRUCTURE_TYPES
from auth.policy import PolicyError, compile_view, load_policy
from auth.principal import Principal

DEMO_POLICY = Path(__file__).parents[2] / "auth" / "demo_policy.yaml"
TODAY = dt.date(2026, 11, 23)
ADULT = "350583198001010011"  # born 1980
CHILD = "350583201801010014"  # born 2018: 8 years old
_graphql = schema.create_schema()._schema


def _object_types() -> dict[str, GraphQLObjectType]:
    return {
        name: kind
        for name, kind in _graphql.type_map.items()
        if isinstance(kind, GraphQLObjectType) and not name.startswith("__")
    }


def test_every_field_of_the_schema_carries_a_label() -> None:
    # given every object type of the schema
    for name, kind in _object_types().items():
        # then it is either governed field by field, or pure structure
        assert name in GOVERNED or name in STRUCTURE_TYPES, f"{name} has no sensitivity labels"
        if name in GOVERNED:
            assert set(kind.fields) == set(GOVERNED[name]), f"{name}: labels and fields differ"
            assert set(GOVERNED[name].values()) <= set(LABELS_ORDER)


def test_the_label_table_names_nothing_the_schema_lacks() -> None:
    types = _object_types()
    assert set(GOVERNED) <= set(types)
    assert STRUCTURE_TYPES <= set(types)
    for type_name, fields in SPECIAL.items():
        assert set(fields) <= set(types[type_name].fields), type_name


def test_every_field_a_policy_can_withhold_is_nullable() -> None:
    for type_name, labels in GOVERNED.items():
        for field_name, label in labels.items():
            field_type = _object_types()[type_name].fields[field_name].type
            if label != "public":
                assert not isinstance(field_type, GraphQLNonNull), f"{type_name}.{field_name} could not be withheld"


def test_every_maskable_field_is_text() -> None:
    for type_name, labels in GOVERNED.items():
        for field_name in labels:
            if field_name in NATURAL_MASKS:
                field_type = get_nullable_type(_object_types()[type_name].fields[field_name].type)
                assert isinstance(field_type, GraphQLScalarType) and field_type.name == "String", field_name


def test_the_demo_policy_loads() -> None:
    policy = load_policy(DEMO_POLICY.read_text(encoding="utf-8"))
    assert {"assistance-review", "student-aid", "comparison", "case-management", "audit"} == policy.purposes()


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ("r:\n  p:\n    Person.shoeSize: allow\n", "r / p / Person.shoeSize: 'Person.shoeSize' is neither a label"),
        ("r:\n  p:\n    personal: reveal\n", "r / p / personal: unknown action 'reveal'"),
        ("r:\n  p:\n    personal: mask:phone\n", "a label rule masks each field its own way"),
        ("r:\n  p:\n    Person.gender: mask\n", "Person.gender has no natural mask"),
        ("r:\n  p:\n    Person.phone: mask:id\n", "mask:id does not fit Person.phone"),
        ("r: [1, 2]\n", "r: expected a mapping"),
        ("r:\n  p: {personal: allow\n", "not valid YAML"),
        # a field that can hold special values, in full, with no `special` grant: the rule is named
        ("r:\n  p:\n    personal: allow\n", "r / p / personal: shows Person.idNumber in full"),
        ("r:\n  p:\n    personal: allow\n    special: deny\n", "r / p / personal: shows Person.idNumber in full"),
        ("r:\n  p:\n    sensitive: allow\n", "r / p / sensitive: shows DisabilityCertificate.certificateNumber"),
        (
            "r:\n  p:\n    personal: mask\n    SettlementRecord.diagnosisCode: allow\n",
            "r / p / SettlementRecord.diagnosisCode: shows SettlementRecord.diagnosisCode in full",
        ),
        (
            "r:\n  q:\n    special: mask\n  p:\n    personal: mask\n    Person.age: allow\n",
            "r / p / Person.age: shows Person.age in full, which can hold special values, and p has no `special`",
        ),
    ],
)
def test_a_bad_policy_is_refused_saying_where(document: str, says: str) -> None:
    with pytest.raises(PolicyError, match=None) as refused:
        load_policy(document, source="test.yaml")
    assert says in str(refused.value)
    assert str(refused.value).startswith("test.yaml")


@pytest.mark.parametrize(
    "document",
    [
        "r:\n  p:\n    personal: allow\n    special: mask\n",
        "r:\n  p:\n    personal: allow\n    sensitive: allow\n    special: allow\n",
        "r:\n  p:\n    personal: mask\n    sensitive: mask\n",  # nothing special in full, so no grant needed
        "r:\n  p:\n    public: allow\n    Person.gender: allow\n    Household.address: allow\n    Person.name: mask\n",
    ],
)
def test_a_policy_that_shows_no_special_field_in_full_without_a_grant_loads(document: str) -> None:
    # given rules that either grant `special` or show no field that can hold special values in full
    # when loaded, then the policy is accepted
    assert load_policy(document, source="test.yaml").rules["r"]["p"]


def test_a_field_rule_overrides_its_label_and_roles_combine_to_the_most_revealing() -> None:
    policy = load_policy(
        "a:\n  p:\n    personal: allow\n    Person.phone: deny\n    special: mask\n"
        "b:\n  p:\n    Person.phone: mask\n    Person.name: deny\n"
    )
    only_a = compile_view(policy, frozenset({"a"}), "p").types["Person"].outcome
    both = compile_view(policy, frozenset({"a", "b"}), "p").types["Person"].outcome
    other_purpose = compile_view(policy, frozenset({"a"}), "q").types["Person"].outcome
    assert (only_a["phone"], only_a["name"], only_a["gender"]) == ("withheld", "revealed", "revealed")
    assert (both["phone"], both["name"]) == ("masked", "revealed")
    assert set(other_purpose.values()) == {"withheld"}  # default deny


def _access(policy_text: str, *, key: bytes = b"client-key") -> Access:
    policy = load_policy(policy_text)
    principal = Principal(
        client_id="c",
        department="civil-affairs",
        roles=frozenset({"r"}),
        regions=("3505",),
        purposes=frozenset({"p"}),
        token_purposes=frozenset({"p"}),
        pseudonym_key=key,
    )
    return Access(view=compile_view(policy, frozenset({"r"}), "p"), regions=("3505",), today=TODAY, principal=principal)


def _person(id_number: str) -> tuple[dict, dict]:
    record = {"id_number": id_number, "name": "欧阳娜娜", "phone": "13812345678", "birth_date": None}
    values = {"id_number": id_number, "name": "欧阳娜娜", "phone": "13812345678", "gender": None, "birth_date": None}
    return values, record


def test_masks_and_denials_are_applied_to_the_object() -> None:
    access = _access(
        "r:\n  p:\n    personal: allow\n    Person.name: mask\n    Person.phone: deny\n    special: mask\n"
    )
    values, record = _person(ADULT)
    access.apply("Person", values, record)
    assert values["name"] == "欧阳**"
    assert values["phone"] is None
    assert values["id_number"] == ADULT
    assert access.subjects == {ADULT}


def test_a_minors_identity_is_withheld_unless_special_is_granted() -> None:
    # given a minor, and a role that masks personal data with no `special` grant
    values, record = _person(CHILD)
    # when the view is applied
    _access("r:\n  p:\n    personal: mask\n").apply("Person", values, record)
    # then the minor's identity is withheld
    assert (values["id_number"], values["name"], values["phone"]) == (None, None, None)

    # given the same minor and personal data in full with `special: mask`
    values, record = _person(CHILD)
    _access("r:\n  p:\n    personal: allow\n    special: mask\n").apply("Person", values, record)
    # then the identity is masked, and the id keeps only its region
    assert (values["id_number"], values["name"]) == ("350583************", "欧阳**")


def test_a_minors_id_keeps_only_its_region_wherever_it_is_masked() -> None:
    # given a role that masks personal data but may see special values
    access = _access("r:\n  p:\n    personal: mask\n    special: allow\n")
    child, child_record = _person(CHILD)
    adult, adult_record = _person(ADULT)
    # when a minor and an adult are shown
    access.apply("Person", child, child_record)
    access.apply("Person", adult, adult_record)
    # then the field's own mask applies to both, in its stricter form for the minor
    assert child["id_number"] == "350583************"
    assert adult["id_number"] == "350583********0011"


def test_a_minors_age_and_birth_date_are_special() -> None:
    # given a role that sees personal data in full and masks special values, a minor and an adult
    access = _access("r:\n  p:\n    personal: allow\n    special: mask\n")
    child, child_record = _person(CHILD)
    adult, adult_record = _person(ADULT)
    child.update(age=8, birth_date="2018-01-01")
    adult.update(age=46, birth_date="1980-01-01")
    # when both are shown
    access.apply("Person", child, child_record)
    access.apply("Person", adult, adult_record)
    # then the minor's age is withheld (it has no mask) and the birth date kept to the year; the adult's are shown
    assert (child["age"], child["birth_date"]) == (None, "2018")
    assert (adult["age"], adult["birth_date"]) == (46, "1980-01-01")


def test_a_number_that_carries_a_minors_id_is_shown_only_with_special_allow() -> None:
    # given a disability certificate of a minor (the id and two digits), with its number granted in full
    record = {"id_number": CHILD, "certificate_number": CHILD + "42"}
    granted = "r:\n  p:\n    personal: allow\n    DisabilityCertificate.certificateNumber: allow\n"
    for special, shown in (("mask", None), ("allow", CHILD + "42")):
        values = dict(record)
        # when `special` is masked, or allowed
        _access(f"{granted}    special: {special}\n").apply("DisabilityCertificate", values, record)
        # then the number, which has no mask, is withheld, or shown whole
        assert values["certificate_number"] == shown


SETTLEMENTS: list[dict[str, str]] = [
    {"id_number": ADULT, "diagnosis_code": code} for code in ("B20.1", "B18.1", "I63.9", "R75", "O98.7", "O98.1")
]
ALL_CODES = [record["diagnosis_code"] for record in SETTLEMENTS]
CHAPTERS = ["B**", "B**", "I**", "R**", "O**", "O**"]


@pytest.mark.parametrize(
    ("rules", "shown"),
    [
        ("SettlementRecord.diagnosisCode: allow\n    special: mask", CHAPTERS),
        ("SettlementRecord.diagnosisCode: mask\n    special: mask", CHAPTERS),
        ("SettlementRecord.diagnosisCode: mask", [None] * len(SETTLEMENTS)),
        ("SettlementRecord.diagnosisCode: mask\n    special: allow", CHAPTERS),
        ("SettlementRecord.diagnosisCode: allow\n    special: allow", ALL_CODES),
    ],
)
def test_a_diagnosis_is_shown_alike_for_every_code(rules: str, shown: list[str | None]) -> None:
    # given settlements with HIV codes (B20.1, R75, O98.7) and others beside them (B18.1 in the same chapter)
    access = _access(f"r:\n  p:\n    personal: mask\n    {rules}\n")
    seen = []
    # when a role with these rules reads them
    for record in SETTLEMENTS:
        values = dict(record)
        access.apply("SettlementRecord", values, record)
        seen.append(values["diagnosis_code"])
    # then every code is shown the same way, the weaker of the field's rule and `special`: none stands out
    assert seen == shown
    assert "SettlementRecord.diagnosisCode" not in access.exceptions


def test_the_view_of_a_diagnosis_is_the_weaker_of_its_rule_and_special_for_every_value() -> None:
    # given a role that allows diagnoses in full and masks special values, and one that grants nothing more
    policy = load_policy(
        "a:\n  p:\n    personal: allow\n    SettlementRecord.diagnosisCode: allow\n    special: mask\n"
        "b:\n  p:\n    personal: mask\n"
    )
    # when views are compiled for it alone and with the other role
    alone = compile_view(policy, frozenset({"a"}), "p").types["SettlementRecord"]
    both = compile_view(policy, frozenset({"a", "b"}), "p").types["SettlementRecord"]
    # then the diagnosis is masked for every value, with no test of single values left
    for view in (alone, both):
        assert view.outcome["diagnosisCode"] == "masked"
        (rule,) = [rule for rule in view.rules if rule.name == "diagnosisCode"]
        assert (str(rule.action), rule.special) == ("mask:diagnosis-chapter", None)


def test_a_value_that_cannot_be_masked_is_withheld_never_shown_raw() -> None:
    access = _access("r:\n  p:\n    personal: allow\n    Person.phone: mask\n    special: mask\n")
    values, record = _person(ADULT)
    values["phone"] = record["phone"] = "12"  # too short to keep 3 + 4 digits
    access.apply("Person", values, record)
    assert values["phone"] is None
    assert access.exceptions == {"Person.phone": {"withheld"}}


def test_pseudonyms_are_stable_per_client_and_differ_between_clients() -> None:
    text = "r:\n  p:\n    personal: allow\n    Person.idNumber: mask:pseudonym\n    special: mask\n"
    seen = []
    for key in (b"one", b"one", b"two"):
        values, record = _person(ADULT)
        _access(text, key=key).apply("Person", values, record)
        seen.append(values["id_number"])
    assert seen[0] == seen[1] != seen[2]
    assert seen[0].startswith("p_") and ADULT not in seen[0]


@pytest.mark.parametrize(
    ("asked", "regions", "visible"),
    [
        ("3505", ("3505",), ["3505"]),
        ("350583", ("3505",), ["350583"]),
        ("3505", ("350583", "350524"), ["350524", "350583"]),
        ("3506", ("3505",), []),
        ("35", ("350583101",), ["350583101"]),
    ],
)
def test_the_visible_part_of_an_asked_region(asked: str, regions: tuple[str, ...], visible: list[str]) -> None:
    assert visible_prefixes(asked, regions) == visible
