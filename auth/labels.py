"""The sensitivity of every field of the schema (DESIGN §3): the table policies are written against.

`public`: structure and aggregates; `personal`: identifies or describes a resident; `sensitive`:
health, disability, income, assistance and other finance; `special`: HIV diagnoses and the identity
of minors under 14 (seed 003) — no field is special by itself, a value becomes special (see SPECIAL).

Record types listed in GOVERNED are made by `schema.records.build`, where the policy is applied once
per object. Every other type only holds structure: all its fields must be public (a test checks both,
and that no field of the schema is missing here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

Label = Literal["public", "personal", "sensitive", "special"]
LABELS_ORDER: Final[tuple[Label, ...]] = ("public", "personal", "sensitive", "special")


def _table(**by_label: str) -> dict[str, Label]:
    return {field: label for label, fields in by_label.items() for field in fields.split()}  # type: ignore[misc]


_RECORD = "source"
GOVERNED: Final[Mapping[str, dict[str, Label]]] = {
    "Person": _table(
        public=f"{_RECORD} household",
        personal="idNumber name gender birthDate phone relationToHead householdNumber age education housing",
        sensitive="civilAffairs medical disability poverty",
    ),
    "Household": _table(
        public=f"{_RECORD} countyCode members",
        personal="householdNumber regionCode address residenceKind housing",
        sensitive="civilAffairs poverty",
    ),
    "Source": _table(public="department table asOf", personal="recordKey"),
    "DibaoRecord": _table(
        public=_RECORD,
        personal="householdNumber idNumber",
        sensitive="coverage personsCovered monthlyAmount startDate endDate gradualExitUntil",
    ),
    "ExtremePovertyRecord": _table(
        public=_RECORD, personal="idNumber", sensitive="selfCare supportMode monthlyAmount startDate endDate"
    ),
    "TemporaryAssistanceRecord": _table(
        public=_RECORD,
        personal="caseNumber idNumber householdNumber",
        sensitive="kind cause amount appliedOn paidOn",
    ),
    "ChildWelfareRecord": _table(
        public=_RECORD, personal="idNumber", sensitive="category monthlyAmount startDate endDate"
    ),
    "EconomicCheckRecord": _table(
        public=_RECORD,
        personal="householdNumber",
        sensitive="checkedOn persons annualIncome medicalExpense educationExpense employmentCost basicPension",
    ),
    "EnrolmentRecord": _table(public=_RECORD, personal="idNumber schoolCode schoolName stage grade term status"),
    "StudentAidRecord": _table(public=_RECORD, personal="idNumber term", sensitive="programme amount paidOn"),
    "InsuranceRecord": _table(
        public=_RECORD,
        personal="idNumber year scheme",
        sensitive="personalContribution subsidisedAmount subsidyCategory",
    ),
    "SettlementRecord": _table(
        public=_RECORD,
        personal="settlementId idNumber",
        sensitive=(
            "kind fromDate toDate totalCost basicInsurancePaid criticalIllnessPaid medicalAssistancePaid"
            " outOfPocket diagnosisCode"
        ),
    ),
    "HouseAssessmentRecord": _table(
        public=_RECORD, personal="assessmentNumber idNumber householdNumber assessedOn grade assessedBy"
    ),
    "RenovationRecord": _table(
        public=_RECORD,
        personal="projectNumber idNumber householdNumber kind area status approvedOn remarks",
        sensitive="subsidy",
    ),
    "HousingSupportRecord": _table(
        public=_RECORD, personal="idNumber householdNumber kind startDate endDate", sensitive="monthlyAmount"
    ),
    "DisabilityCertificate": _table(
        public=_RECORD, personal="idNumber", sensitive="certificateNumber category grade issuedOn validUntil"
    ),
    "DisabilitySubsidyRecord": _table(
        public=_RECORD, personal="idNumber", sensitive="kind monthlyAmount startDate endDate"
    ),
    "RegisteredPoorRecord": _table(
        public=_RECORD,
        personal="householdNumber headIdNumber regionCode",
        sensitive="persons registeredYear liftedYear",
    ),
    "MonitoredHouseholdRecord": _table(
        public=_RECORD,
        personal="householdNumber",
        sensitive="kind riskCauses persons enteredOn riskEliminated eliminatedOn perCapitaIncome",
    ),
    "EligibleStudent": _table(
        public="student", personal="stage schoolName schoolCode grade", sensitive="reasons aidGranted"
    ),
    "EligibilityReason": _table(public="asOf", personal="sourceRecord", sensitive="code department table"),
    # Who read a resident's data is itself about that resident.
    "AccessLogEntry": _table(personal="at clientId roles purpose caseId operation outcome revealed masked withheld"),
}

NATURAL_MASKS: Final[Mapping[str, str]] = {
    "idNumber": "id",
    "headIdNumber": "id",
    "name": "name",
    "phone": "phone",
    "address": "address",
    "birthDate": "birth-year",
    "diagnosisCode": "diagnosis-chapter",
}
"""The mask a field gets when a rule says `mask` for its label (fields without one are withheld)."""

# What makes a value special (`resolvers.rules.special`): a test of one stored column of the row. Minors
# are judged by the birth date inside the subject's id (every stored id is the canonical 18-digit form),
# as of the request's day.
SpecialTest = tuple[Literal["minor", "hiv"], str]
_MINOR_SUBJECT: Final[SpecialTest] = ("minor", "id_number")
SPECIAL: Final[Mapping[str, Mapping[str, SpecialTest]]] = {
    # A minor's age and birth date narrow down the birth date inside the id, so they are identity too.
    "Person": {field: _MINOR_SUBJECT for field in ("idNumber", "name", "phone", "birthDate", "age")},
    # A record key or certificate number can carry the id itself (a certificate is the id + 2 digits).
    "Source": {"recordKey": _MINOR_SUBJECT},
    "EligibilityReason": {"sourceRecord": _MINOR_SUBJECT},
    "DisabilityCertificate": {"idNumber": _MINOR_SUBJECT, "certificateNumber": _MINOR_SUBJECT},
    "RegisteredPoorRecord": {"headIdNumber": ("minor", "head_id_number")},
    "SettlementRecord": {"idNumber": _MINOR_SUBJECT, "diagnosisCode": ("hiv", "diagnosis_code")},
    **{
        type_name: {"idNumber": _MINOR_SUBJECT}
        for type_name, fields in GOVERNED.items()
        if "idNumber" in fields and type_name not in ("Person", "DisabilityCertificate", "SettlementRecord")
    },
}
"""The fields that can hold special values, and the test that finds them: `Type -> field -> (kind, column)`."""

UNIFORM_SPECIAL: Final[frozenset[Literal["minor", "hiv"]]] = frozenset({"hiv"})
"""Kinds whose fields get the same action for every value. An HIV diagnosis is the secret itself, so a code
masked or withheld where other codes are shown would tell; a minor's identity is the secret, not being a minor
(the age is personal data), so those values are judged one by one."""

STRUCTURE_TYPES: Final = frozenset(
    {
        "Query",
        "HouseholdConnection",
        "HouseholdEdge",
        "PageInfo",
        "KeyTargetRow",
        "PersonCivilAffairs",
        "HouseholdCivilAffairs",
        "PersonDisability",
        "PersonEducation",
        "PersonMedical",
        "HouseholdPoverty",
        "Housing",
        "AccessLogEdge",
        "EligibleStudentEdge",
        "EligibleStudentConnection",
        "AccessLogConnection",
    }
)
"""Types whose fields are structure or aggregates only: public, never governed by a rule."""
