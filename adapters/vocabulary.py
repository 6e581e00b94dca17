"""The hub's vocabulary: enums every department's codes are translated into (names are stored)."""

from __future__ import annotations

from enum import Enum


class Gender(Enum):
    MALE = "male"
    FEMALE = "female"


class Relation(Enum):
    HEAD = "head of household"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    GRANDCHILD = "grandchild"
    SIBLING = "sibling"
    OTHER = "other"


class ResidenceKind(Enum):
    RURAL = "rural"
    URBAN = "urban"


class DibaoCoverage(Enum):
    WHOLE_HOUSEHOLD = "whole household"
    SINGLE_PERSON = "single person"


class SelfCare(Enum):
    FULL = "fully self-caring"
    PARTIAL_LOSS = "partial loss of self-care"
    TOTAL_LOSS = "total loss of self-care"


class SupportMode(Enum):
    INSTITUTIONAL = "institutional"
    DISPERSED = "dispersed"


class TemporaryAssistanceKind(Enum):
    EMERGENCY = "emergency"
    EXPENDITURE = "expenditure-type"


class Cause(Enum):
    ILLNESS = "illness"
    DISABILITY = "disability"
    SCHOOLING = "schooling"
    DISASTER = "disaster"
    ACCIDENT = "accident"
    EPIDEMIC = "epidemic"
    LACK_OF_LABOUR = "lack of labour"
    OTHER = "other"


class ChildWelfareCategory(Enum):
    ORPHAN_IN_INSTITUTION = "orphan in an institution"
    ORPHAN_DISPERSED = "orphan in dispersed care"
    DE_FACTO_UNSUPPORTED = "de facto unsupported child"


class Stage(Enum):
    PRESCHOOL = "preschool"
    PRIMARY = "primary"
    JUNIOR_SECONDARY = "junior secondary"
    SENIOR_SECONDARY = "senior secondary"
    SECONDARY_VOCATIONAL = "secondary vocational"
    HIGHER_VOCATIONAL = "higher vocational"
    UNDERGRADUATE = "undergraduate"
    POSTGRADUATE = "postgraduate"


class EnrolmentStatus(Enum):
    ENROLLED = "enrolled"
    SUSPENDED = "suspended"
    GRADUATED = "graduated"
    WITHDRAWN = "withdrawn"


class AidProgramme(Enum):
    NATIONAL_GRANT = "national grant"
    TUITION_WAIVER = "tuition waiver"
    LIVING_SUBSIDY = "living subsidy"
    STUDENT_LOAN = "student loan"
    WELFARE_LOTTERY_GRANT = "welfare-lottery grant"


class InsuranceScheme(Enum):
    RESIDENT = "resident scheme"
    EMPLOYEE = "employee scheme"


class ContributionSubsidy(Enum):
    NONE = "none"
    EXTREME_POVERTY_FULL = "extreme poverty, full"
    DIBAO = "dibao"
    MONITORED_HOUSEHOLD = "monitored household"
    OTHER = "other"


class SettlementKind(Enum):
    OUTPATIENT = "outpatient"
    INPATIENT = "inpatient"
    CHRONIC_OUTPATIENT = "chronic or special outpatient"


class HouseGrade(Enum):
    A = "A (safe)"
    B = "B (basically safe)"
    C = "C (locally dangerous)"
    D = "D (dangerous as a whole)"


class RenovationKind(Enum):
    NEW_BUILD = "new build"
    REBUILD = "rebuild"
    REPAIR = "repair or reinforcement"


class RenovationStatus(Enum):
    APPROVED = "approved"
    IN_PROGRESS = "in progress"
    COMPLETED = "completed"


class HousingSupportKind(Enum):
    PUBLIC_RENTAL = "public rental flat"
    RENT_SUBSIDY = "rent subsidy"


class DisabilityCategory(Enum):
    VISUAL = "visual"
    HEARING = "hearing"
    SPEECH = "speech"
    PHYSICAL = "physical"
    INTELLECTUAL = "intellectual"
    MENTAL = "mental"
    MULTIPLE = "multiple"


class DisabilitySubsidyKind(Enum):
    LIVING = "living subsidy for disabled persons in hardship"
    NURSING = "nursing subsidy for severely disabled persons"


class MonitoringKind(Enum):
    LIFTED_UNSTABLE = "lifted out of poverty but unstable"
    MARGINAL = "marginal household at risk"
    SUDDEN_HARDSHIP = "sudden severe hardship"
