"""The cases the demo plants for every comparison rule and early-warning kind, and the near misses beside them.

One source for the generator (tools/demo/plants.py writes each case), its tests and the docs: a case
has a stable name, the rule or alert kind it is about (`target`), whether it should be found there
(`fires`) or is a near miss just outside the rule, and how many of it a demo of a given size holds.
The rules are those of issue 10 as fixed for the team (DESIGN §4); the comparison and the warnings
scan of the demo run with `AS_OF` as their as-of day, the day the generator calls today.

The manifest's `planted` list names each one: `case`, `hh` (the household) and, unless the case is
about the household itself, `sfzh` (the member its records name: the subject of a person rule, the
patient, certificate holder or applicant of a household rule or alert kind).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from tools.demo.dates import TERM, TODAY, add_months

AS_OF = TODAY
"""The as-of day to run the demo's comparison and warnings scan with (`--as-of 2026-11-23`)."""
WINDOW_OPENS = add_months(AS_OF, -12)
"""The 12-month window is (WINDOW_OPENS, AS_OF]: a record dated WINDOW_OPENS is just outside it."""
FIRST_IN_WINDOW = WINDOW_OPENS + dt.timedelta(days=1)
TERM_OF_AS_OF = TERM
"""The term the comparison's C3 defaults to on AS_OF (it starts on 1 September 2026)."""

TARGETS = (
    "C1",
    "C2/NURSING_SUBSIDY",
    "C2/LIVING_SUBSIDY",
    "C3",
    "C4",
    "C5",
    "C6",
    "C7",
    "C8",
    "MEDICAL_COSTS",
    "SEVERE_DISABILITY",
    "TEMPORARY_ASSISTANCE",
    "INCOME_BELOW_STANDARD",
)
# Per 1,000 general households: 3 of each planted case and 2 of each near miss in the default demo
# (3,000 households), at least one of each at any size, proportionally more in larger demos.
FIRES_PER_THOUSAND, MISSES_PER_THOUSAND = 1.0, 0.5


@dataclass(frozen=True)
class Case:
    name: str
    target: str  # a rule code (with the programme for C2) or an alert kind
    fires: bool  # a planted case, or a near miss the rule must not find
    subject: str  # "household", or its member: "adult", "eldest", "child" (3-16), "pupil" (7-14), "eighteen"
    why: str

    @property
    def per_thousand(self) -> float:
        return FIRES_PER_THOUSAND if self.fires else MISSES_PER_THOUSAND


_F, _M = True, False
CASES: tuple[Case, ...] = (
    # C1: poor (registered or monitored) household below the standard, not on dibao.
    Case("C1-registered", "C1", _F, "household", "registered poor, not lifted out; latest check at 0.6 x standard"),
    Case("C1-lifted-out", "C1", _F, "household", "lifted out in 2019, still registered poor; 1 fen a year below"),
    Case("C1-exit-over", "C1", _F, "household", "registered poor; dibao ended and its gradual exit ended before D"),
    Case("C1-at-standard", "C1", _M, "household", "registered poor; latest check exactly at the standard"),
    Case("C1-gradual-exit", "C1", _M, "household", "registered poor, below; on dibao through its gradual exit"),
    Case("C1-recovered", "C1", _M, "household", "registered poor; an older check below, the latest one above"),
    Case("C1-registered-2027", "C1", _M, "household", "below, but registered in 2027, after the year of D"),
    # C2: the two subsidies for the disabled.
    Case("C2N-grade-1", "C2/NURSING_SUBSIDY", _F, "eldest", "grade 1 certificate valid until 2029, no subsidy"),
    Case("C2N-valid-to-D", "C2/NURSING_SUBSIDY", _F, "eldest", "grade 2 certificate valid until D itself"),
    Case(
        "C2N-subsidy-ended", "C2/NURSING_SUBSIDY", _F, "eldest", "grade 2; the nursing subsidy ended the day before D"
    ),
    Case("C2N-expired", "C2/NURSING_SUBSIDY", _M, "eldest", "grade 1 certificate expired the day before D"),
    Case("C2N-grade-3", "C2/NURSING_SUBSIDY", _M, "eldest", "grade 3 certificate, no subsidy: not severe"),
    Case("C2N-subsidy-to-D", "C2/NURSING_SUBSIDY", _M, "eldest", "grade 1; the nursing subsidy ends on D itself"),
    Case("C2L-dibao", "C2/LIVING_SUBSIDY", _F, "eldest", "grade 4 certificate, household on dibao, no subsidy"),
    Case("C2L-gradual-exit", "C2/LIVING_SUBSIDY", _F, "eldest", "grade 3; household's dibao in its gradual exit"),
    Case("C2L-single-person", "C2/LIVING_SUBSIDY", _F, "eldest", "grade 3; a single-person award names them"),
    Case("C2L-subsidised", "C2/LIVING_SUBSIDY", _M, "eldest", "grade 4, on dibao, living subsidy in force"),
    Case("C2L-dibao-ended", "C2/LIVING_SUBSIDY", _M, "eldest", "grade 4; dibao ended in 2025 without gradual exit"),
    Case("C2L-expired", "C2/LIVING_SUBSIDY", _M, "eldest", "on dibao; grade 4 certificate expired before D"),
    # C3: students from poor households without aid in the term.
    Case("C3-dibao", "C3", _F, "pupil", "enrolled; household on dibao since 2024; no aid this term"),
    Case("C3-registered", "C3", _F, "pupil", "enrolled; registered poor (lifted out); no aid this term"),
    Case("C3-extreme-poverty", "C3", _F, "pupil", "enrolled; in extreme-poverty support; no aid this term"),
    Case("C3-aid-last-term", "C3", _F, "pupil", "enrolled; registered poor; aid only in the previous term"),
    Case("C3-aided", "C3", _M, "pupil", "enrolled; on dibao; aid granted this term"),
    Case("C3-suspended", "C3", _M, "pupil", "registered poor, no aid; enrolment suspended (zt=2)"),
    Case("C3-dibao-after-start", "C3", _M, "pupil", "enrolled, no aid; dibao began the day after the term began"),
    # C4: inpatient costs without medical assistance.
    Case("C4-dibao", "C4", _F, "adult", "household on dibao; inpatient stay in the window, assistance 0"),
    Case("C4-tekun-window-start", "C4", _F, "eldest", "extreme poverty; discharged on the window's first day"),
    Case("C4-assistance-empty", "C4", _F, "adult", "on dibao; inpatient in the window, assistance left empty"),
    Case("C4-window-edge", "C4", _M, "adult", "on dibao; discharged exactly 12 months before D"),
    Case("C4-assisted", "C4", _M, "adult", "on dibao; inpatient in the window, 1 yuan of assistance"),
    Case("C4-outpatient", "C4", _M, "adult", "on dibao; chronic outpatient settlement without assistance"),
    # C5: dangerous house not renovated.
    Case("C5-grade-D", "C5", _F, "household", "on dibao; grade D in 2025; no renovation"),
    Case("C5-renovated-before", "C5", _F, "eldest", "extreme poverty; grade C; a renovation approved before it"),
    Case("C5-renovated-same-day", "C5", _M, "household", "on dibao; grade C; renovation approved that day"),
    Case("C5-renovated-after", "C5", _M, "household", "on dibao; grade D; renovation approved 3 months later"),
    Case("C5-reassessed-B", "C5", _M, "household", "on dibao; grade D in 2023, grade B in 2026"),
    Case("C5-not-assisted", "C5", _M, "household", "grade D, no renovation; dibao ended in 2025"),
    # C6: insured without contribution subsidy.
    Case("C6-no-category", "C6", _F, "adult", "on dibao; 2026 resident insurance with zzlb 0"),
    Case("C6-zero-amount", "C6", _F, "eldest", "extreme poverty; 2026 category 1 but zzje 0"),
    Case("C6-subsidised", "C6", _M, "adult", "on dibao; 2026 subsidised (zzlb 2)"),
    Case("C6-last-year", "C6", _M, "adult", "on dibao; unsubsidised in 2025 only"),
    Case("C6-not-assisted", "C6", _M, "adult", "zzlb 0 in 2026; dibao ended in 2025"),
    # C7: child without welfare allowance.
    Case("C7-ended", "C7", _F, "child", "child allowance ended in June 2026"),
    Case("C7-zero-amount", "C7", _F, "child", "child allowance in force with amount 0"),
    Case("C7-now-18", "C7", _M, "eighteen", "allowance ended at 18; the person is 18 on D"),
    Case("C7-ends-on-D", "C7", _M, "child", "allowance ends on D itself"),
    Case("C7-renewed", "C7", _M, "child", "an ended allowance and a renewed one in force"),
    # C8: dibao household above the standard without gradual exit.
    Case("C8-at-standard", "C8", _F, "household", "on dibao, no end; latest check exactly at the standard"),
    Case("C8-ends-later", "C8", _F, "household", "on dibao until 2027-01-31; latest check 1.4 x standard"),
    Case("C8-in-exit", "C8", _M, "household", "above the standard; award ended, gradual exit to 2027"),
    Case("C8-just-below", "C8", _M, "household", "on dibao; latest check 1 fen a year below the standard"),
    Case("C8-single-person", "C8", _M, "adult", "above the standard; a single-person award only"),
    # Early warning.
    Case("MC-registered", "MEDICAL_COSTS", _F, "adult", "registered poor; 5,000.01 yuan out of pocket"),
    Case("MC-ordinary", "MEDICAL_COSTS", _F, "adult", "ordinary household; 20,000.01 yuan out of pocket"),
    Case("MC-still-admitted", "MEDICAL_COSTS", _F, "adult", "ordinary; 25,000 yuan, no discharge date yet"),
    Case("MC-registered-at", "MEDICAL_COSTS", _M, "adult", "registered poor; exactly 5,000 yuan"),
    Case("MC-ordinary-at", "MEDICAL_COSTS", _M, "adult", "ordinary household; exactly 20,000 yuan"),
    Case("MC-ordinary-6000", "MEDICAL_COSTS", _M, "adult", "ordinary household; 6,000 yuan (poor threshold)"),
    Case("MC-outside-window", "MEDICAL_COSTS", _M, "adult", "registered poor; 8,000 yuan, discharged 12 months ago"),
    Case("SD-new", "SEVERE_DISABILITY", _F, "eldest", "grade 2 certificate issued in May 2026"),
    Case("SD-window-start", "SEVERE_DISABILITY", _F, "eldest", "grade 1 issued on the window's first day"),
    Case("SD-13-months", "SEVERE_DISABILITY", _M, "eldest", "grade 1 issued 13 months before D"),
    Case("SD-12-months", "SEVERE_DISABILITY", _M, "eldest", "grade 2 issued exactly 12 months before D"),
    Case("SD-grade-3", "SEVERE_DISABILITY", _M, "eldest", "grade 3 issued in June 2026"),
    Case("TA-emergency", "TEMPORARY_ASSISTANCE", _F, "adult", "emergency case (jzlx 1) for a disaster or accident"),
    Case("TA-expenditure", "TEMPORARY_ASSISTANCE", _F, "adult", "expenditure-type case (jzlx 2) for illness"),
    Case("TA-other-cause", "TEMPORARY_ASSISTANCE", _M, "adult", "case in the window for cause 9 (other)"),
    Case("TA-outside-window", "TEMPORARY_ASSISTANCE", _M, "adult", "illness case applied 12 months before D"),
    Case("IB-just-below", "INCOME_BELOW_STANDARD", _F, "household", "not on dibao; 1 fen a year below"),
    Case("IB-fell", "INCOME_BELOW_STANDARD", _F, "household", "above in 2025, 0.7 x standard in 2026"),
    Case("IB-at-standard", "INCOME_BELOW_STANDARD", _M, "household", "latest check exactly at the standard"),
    Case("IB-on-dibao", "INCOME_BELOW_STANDARD", _M, "household", "below, but on dibao (skipped by the scan)"),
    Case("IB-recovered", "INCOME_BELOW_STANDARD", _M, "household", "below in 2025, above in 2026"),
)
BY_NAME = {case.name: case for case in CASES}


def count(case: Case, households: int) -> int:
    """How many of the case a demo of `households` general households plants (none in an Annex-only demo)."""
    if households <= 0:
        return 0
    return max(1, round(households * case.per_thousand / 1000))


def by_target(households: int) -> dict[str, tuple[int, int]]:
    """(planted cases, near misses) per rule or alert kind for a demo of `households`."""
    fires: Counter[str] = Counter()
    misses: Counter[str] = Counter()
    for case in CASES:
        (fires if case.fires else misses)[case.target] += count(case, households)
    return {target: (fires[target], misses[target]) for target in TARGETS}
