"""The benchmark's floor: the household picture built by one hand-written PostgreSQL statement, no GraphQL.

Served as a bare ASGI app under the same uvicorn settings as the hub, so the ratio measures
what GraphQL, the resolvers and the batching cost over the best possible round trips.
"""

from __future__ import annotations

import os
from typing import Any

import orjson
import psycopg


def _records(table: str, where: str, fields: str, order: str = "t.record_key") -> str:
    return (
        f"coalesce((SELECT json_agg(json_build_object({fields}) ORDER BY {order}) FROM {table} t WHERE {where}),"
        " '[]'::json)"
    )


def _source(department: str, table: str, alias: str) -> str:
    return (
        f"json_build_object('department', '{department}', 'table', '{table}', 'recordKey', {alias}.record_key, "
        f"'asOf', {alias}.as_of)"
    )


PERSON_DIBAO = """coalesce((SELECT json_agg(json_build_object('coverage', t.coverage, 'monthlyAmount', t.monthly_amount::text,
  'startDate', t.start_date, 'endDate', t.end_date, 'gradualExitUntil', t.gradual_exit_until) ORDER BY t.named, t.record_key)
  FROM (SELECT d.*, 0 AS named FROM civil_affairs_dibao d
        WHERE d.household_number = p.household_number AND d.coverage = 'WHOLE_HOUSEHOLD'
        UNION ALL SELECT d.*, 1 FROM civil_affairs_dibao d WHERE d.id_number = p.id_number) t), '[]'::json)"""

MEMBER = f"""json_build_object(
 'idNumber', p.id_number, 'name', p.name, 'gender', p.gender, 'birthDate', p.birth_date,
 'age', extract(year FROM age(current_date, p.birth_date))::int, 'phone', p.phone, 'relationToHead', p.relation_to_head,
 'source', json_build_object('department', 'registry', 'asOf', p.as_of),
 'civilAffairs', json_build_object(
   'dibao', {PERSON_DIBAO},
   'extremePoverty', {
    _records(
        "civil_affairs_extreme_poverty",
        "t.id_number = p.id_number",
        "'selfCare', t.self_care, 'supportMode', t.support_mode, 'monthlyAmount', t.monthly_amount::text, "
        "'startDate', t.start_date, 'endDate', t.end_date",
    )
},
   'childWelfare', {
    _records(
        "civil_affairs_child_welfare",
        "t.id_number = p.id_number",
        "'category', t.category, 'monthlyAmount', t.monthly_amount::text, 'startDate', t.start_date, 'endDate', t.end_date",
    )
},
   'temporaryAssistance', {
    _records(
        "civil_affairs_temporary_assistance",
        "t.id_number = p.id_number",
        "'caseNumber', t.case_number, 'cause', t.cause, 'amount', t.amount::text, 'appliedOn', t.applied_on",
    )
}),
 'education', json_build_object(
   'enrolments', {
    _records(
        "education_enrolment",
        "t.id_number = p.id_number",
        "'schoolCode', t.school_code, 'schoolName', t.school_name, 'stage', t.stage, 'grade', t.grade, "
        "'term', t.term, 'status', t.status",
    )
},
   'aid', {
    _records(
        "education_student_aid",
        "t.id_number = p.id_number",
        "'term', t.term, 'programme', t.programme, 'amount', t.amount::text, 'paidOn', t.paid_on",
    )
}),
 'medical', json_build_object(
   'insurance', {
    _records(
        "medical_insurance",
        "t.id_number = p.id_number",
        "'year', t.year, 'scheme', t.scheme, 'personalContribution', t.personal_contribution::text, "
        "'subsidisedAmount', t.subsidised_amount::text, 'subsidyCategory', t.subsidy_category",
    )
},
   'settlements', {
    _records(
        "medical_settlement",
        "t.id_number = p.id_number",
        "'settlementId', t.settlement_id, 'kind', t.kind, 'fromDate', t.from_date, 'toDate', t.to_date, "
        "'totalCost', t.total_cost::text, 'basicInsurancePaid', t.basic_insurance_paid::text, "
        "'criticalIllnessPaid', t.critical_illness_paid::text, 'medicalAssistancePaid', t.medical_assistance_paid::text, "
        "'outOfPocket', t.out_of_pocket::text, 'diagnosisCode', t.diagnosis_code",
    )
}),
 'housing', json_build_object(
   'assessments', {
    _records("housing_assessment", "t.id_number = p.id_number", "'grade', t.grade, 'assessedOn', t.assessed_on")
},
   'renovations', {_records("housing_renovation", "t.id_number = p.id_number", "'status', t.status")},
   'support', {_records("housing_support", "t.id_number = p.id_number", "'kind', t.kind")}),
 'disability', json_build_object(
   'certificate', (SELECT json_build_object('certificateNumber', t.certificate_number, 'category', t.category,
       'grade', t.grade, 'issuedOn', t.issued_on, 'validUntil', t.valid_until)
     FROM disability_certificate t WHERE t.id_number = p.id_number
     ORDER BY t.issued_on DESC NULLS LAST, t.record_key LIMIT 1),
   'subsidies', {
    _records(
        "disability_subsidy",
        "t.id_number = p.id_number",
        "'kind', t.kind, 'monthlyAmount', t.monthly_amount::text, 'startDate', t.start_date, 'endDate', t.end_date",
    )
}))"""

HOUSEHOLD_SQL = f"""
SELECT json_build_object('data', json_build_object('household', (
SELECT json_build_object(
 'householdNumber', h.household_number, 'regionCode', h.region_code, 'countyCode', substr(h.region_code, 1, 6),
 'address', h.address, 'residenceKind', h.residence_kind,
 'source', {_source("registry", "households", "h")},
 'civilAffairs', json_build_object(
   'dibao', coalesce((SELECT json_agg(json_build_object('coverage', t.coverage, 'idNumber', t.id_number,
       'personsCovered', t.persons_covered, 'monthlyAmount', t.monthly_amount::text, 'startDate', t.start_date,
       'endDate', t.end_date, 'gradualExitUntil', t.gradual_exit_until,
       'source', json_build_object('department', 'civil_affairs', 'asOf', t.as_of)) ORDER BY t.record_key)
     FROM civil_affairs_dibao t WHERE t.household_number = h.household_number), '[]'::json),
   'economicChecks', {
    _records(
        "civil_affairs_economic_check",
        "t.household_number = h.household_number",
        "'checkedOn', t.checked_on, 'persons', t.persons, 'annualIncome', t.annual_income::text, "
        "'medicalExpense', t.medical_expense::text, 'educationExpense', t.education_expense::text, "
        "'employmentCost', t.employment_cost::text, 'basicPension', t.basic_pension::text",
    )
},
   'temporaryAssistance', {
    _records(
        "civil_affairs_temporary_assistance",
        "t.household_number = h.household_number",
        "'caseNumber', t.case_number, 'kind', t.kind, 'cause', t.cause, 'amount', t.amount::text, "
        "'appliedOn', t.applied_on, 'paidOn', t.paid_on",
    )
}),
 'housing', json_build_object(
   'assessments', {
    _records(
        "housing_assessment",
        "t.household_number = h.household_number",
        "'assessmentNumber', t.assessment_number, 'assessedOn', t.assessed_on, 'grade', t.grade, 'assessedBy', t.assessed_by",
    )
},
   'renovations', {
    _records(
        "housing_renovation",
        "t.household_number = h.household_number",
        "'projectNumber', t.project_number, 'kind', t.kind, 'area', t.area::text, 'subsidy', t.subsidy::text, "
        "'status', t.status, 'approvedOn', t.approved_on, 'remarks', t.remarks",
    )
},
   'support', {
    _records(
        "housing_support",
        "t.household_number = h.household_number",
        "'kind', t.kind, 'monthlyAmount', t.monthly_amount::text, 'startDate', t.start_date, 'endDate', t.end_date",
    )
}),
 'poverty', json_build_object(
   'registeredPoor', (SELECT json_build_object('registeredYear', t.registered_year, 'liftedYear', t.lifted_year,
       'persons', t.persons) FROM poverty_registered t WHERE t.household_number = h.household_number),
   'monitoring', {
    _records(
        "poverty_monitored",
        "t.household_number = h.household_number",
        "'kind', t.kind, 'riskCauses', coalesce(to_json(string_to_array(t.risk_causes, ';')), '[]'::json), "
        "'persons', t.persons, 'enteredOn', t.entered_on, 'riskEliminated', t.risk_eliminated, "
        "'eliminatedOn', t.eliminated_on, 'perCapitaIncome', t.per_capita_income::text",
    )
}),
 'members', coalesce((SELECT json_agg({MEMBER} ORDER BY p.relation_to_head IS DISTINCT FROM 'HEAD', p.id_number)
   FROM registry_person p WHERE p.household_number = h.household_number), '[]'::json))
FROM registry_household h WHERE h.household_number = %s)))::text
"""

_connection: psycopg.Connection[Any] | None = None


def _query(household_number: str) -> bytes:
    global _connection
    if _connection is None:
        _connection = psycopg.connect(os.environ["FLOOR_DATABASE_URL"], autocommit=True)
        _connection.execute("SET TIME ZONE 'UTC'")
    row = _connection.execute(HOUSEHOLD_SQL, (household_number,), prepare=True).fetchone()
    assert row is not None
    return row[0].encode()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    payload = _query(orjson.loads(body)["variables"]["householdNumber"])
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": payload})
