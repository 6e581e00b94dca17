"""Poverty office (扶贫办 / 乡村振兴局): registered poor households and monitored households."""

from __future__ import annotations

import sqlalchemy as sa

from adapters import columns as c
from adapters import fields
from adapters import vocabulary as v
from adapters.base import Column, Department, FileSpec, Labels, labelled
from adapters.civil_affairs import CAUSE

MONITORING_KIND = {
    "1": v.MonitoringKind.LIFTED_UNSTABLE,
    "2": v.MonitoringKind.MARGINAL,
    "3": v.MonitoringKind.SUDDEN_HARDSHIP,
}

REGISTERED_POOR = FileSpec(
    department="poverty",
    name="pkh",
    table_name="poverty_registered",
    columns=(
        c.household_number(),
        c.id_number("hzsfzh", "head_id_number", required=False),
        c.integer("rks", "persons"),
        Column("sbnd", "registered_year", fields.year, sa.Integer()),
        Column("tpnd", "lifted_year", fields.year, sa.Integer()),
        Column("xzqh", "region_code", fields.digits(12, "division code"), sa.String(12)),
    ),
    key=("household_number",),
    lookups=("household_number",),
)

MONITORED = FileSpec(
    department="poverty",
    name="jcdx",
    table_name="poverty_monitored",
    columns=(
        c.household_number(),
        c.code("jclx", "kind", MONITORING_KIND),
        Column("fxyy", "risk_causes", fields.code_list(CAUSE), sa.String(200)),
        c.integer("rks", "persons"),
        c.date("nrrq", "entered_on", required=True),
        Column("fxxc", "risk_eliminated", fields.flag, sa.Boolean()),
        c.date("xcrq", "eliminated_on"),
        c.yuan("rjsr", "per_capita_income"),
    ),
    key=("household_number", "entered_on"),
    lookups=("household_number",),
)

LABELS = Labels(
    # A person's poverty field shows their household's records.
    part_types={"Person": "HouseholdPoverty", "Household": "HouseholdPoverty"},
    part_label="sensitive",
    records={
        "RegisteredPoorRecord": labelled(
            public="source",
            personal="householdNumber headIdNumber regionCode",
            sensitive="persons registeredYear liftedYear",
        ),
        "MonitoredHouseholdRecord": labelled(
            public="source",
            personal="householdNumber",
            sensitive="kind riskCauses persons enteredOn riskEliminated eliminatedOn perCapitaIncome",
        ),
    },
)

DEPARTMENT = Department(name="poverty", encoding="utf-8-sig", files=(REGISTERED_POOR, MONITORED), labels=LABELS)
