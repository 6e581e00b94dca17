"""The hub's vocabulary as GraphQL enums: department codes appear under readable names.

The enums are the vocabulary's own classes, registered with strawberry, so one class serves the
adapters (which store member names) and the schema (which shows them).
"""

from __future__ import annotations

import strawberry

from adapters.vocabulary import (
    AidProgramme,
    Cause,
    ChildWelfareCategory,
    ContributionSubsidy,
    DibaoCoverage,
    DisabilityCategory,
    DisabilitySubsidyKind,
    EnrolmentStatus,
    Gender,
    HouseGrade,
    HousingSupportKind,
    InsuranceScheme,
    MonitoringKind,
    Relation,
    RenovationKind,
    RenovationStatus,
    ResidenceKind,
    SelfCare,
    SettlementKind,
    Stage,
    SupportMode,
    TemporaryAssistanceKind,
)

for _enum in (
    Gender,
    Relation,
    ResidenceKind,
    DibaoCoverage,
    SelfCare,
    SupportMode,
    TemporaryAssistanceKind,
    Cause,
    ChildWelfareCategory,
    Stage,
    EnrolmentStatus,
    AidProgramme,
    InsuranceScheme,
    ContributionSubsidy,
    SettlementKind,
    HouseGrade,
    RenovationKind,
    RenovationStatus,
    HousingSupportKind,
    DisabilityCategory,
    DisabilitySubsidyKind,
    MonitoringKind,
):
    strawberry.enum(_enum)

__all__ = [
    "Gender",
    "Relation",
    "ResidenceKind",
    "DibaoCoverage",
    "SelfCare",
    "SupportMode",
    "TemporaryAssistanceKind",
    "Cause",
    "ChildWelfareCategory",
    "Stage",
    "EnrolmentStatus",
    "AidProgramme",
    "InsuranceScheme",
    "ContributionSubsidy",
    "SettlementKind",
    "HouseGrade",
    "RenovationKind",
    "RenovationStatus",
    "HousingSupportKind",
    "DisabilityCategory",
    "DisabilitySubsidyKind",
    "MonitoringKind",
]
