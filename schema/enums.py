"""The hub's vocabulary as GraphQL enums: department codes appear under readable names."""

from __future__ import annotations

import strawberry

from adapters import vocabulary as v

Gender = strawberry.enum(v.Gender)
Relation = strawberry.enum(v.Relation)
ResidenceKind = strawberry.enum(v.ResidenceKind)
DibaoCoverage = strawberry.enum(v.DibaoCoverage)
SelfCare = strawberry.enum(v.SelfCare)
SupportMode = strawberry.enum(v.SupportMode)
TemporaryAssistanceKind = strawberry.enum(v.TemporaryAssistanceKind)
Cause = strawberry.enum(v.Cause)
ChildWelfareCategory = strawberry.enum(v.ChildWelfareCategory)
Stage = strawberry.enum(v.Stage)
EnrolmentStatus = strawberry.enum(v.EnrolmentStatus)
AidProgramme = strawberry.enum(v.AidProgramme)
InsuranceScheme = strawberry.enum(v.InsuranceScheme)
ContributionSubsidy = strawberry.enum(v.ContributionSubsidy)
SettlementKind = strawberry.enum(v.SettlementKind)
HouseGrade = strawberry.enum(v.HouseGrade)
RenovationKind = strawberry.enum(v.RenovationKind)
RenovationStatus = strawberry.enum(v.RenovationStatus)
HousingSupportKind = strawberry.enum(v.HousingSupportKind)
DisabilityCategory = strawberry.enum(v.DisabilityCategory)
DisabilitySubsidyKind = strawberry.enum(v.DisabilitySubsidyKind)
MonitoringKind = strawberry.enum(v.MonitoringKind)
