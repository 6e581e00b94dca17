"""The department records of each planted case (tools/demo/planted.py names them), written for one household.

Each case writes only the files its rule reads (`OWNED`): the household's own records of those files
were set aside, so nothing the generator drew by chance can tip a near miss over or hide a case.
Amounts are chosen exactly: "at the standard" is 12 x persons x standard a year with nothing deducted,
"1 fen below" one fen less, so the verdicts never depend on rounding.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from tools.demo import civil
from tools.demo.dates import LAST_DAY, PREV_TERM, SCHOOL_YEAR_CUTOFF, TERM, TERM_START, age_on, compact
from tools.demo.education import stage
from tools.demo.households import Household, Person
from tools.demo.places import school, township_of
from tools.demo.planted import AS_OF, FIRST_IN_WINDOW, WINDOW_OPENS, Case
from tools.demo.sink import Sink

_D = dt.date
_DAY = dt.timedelta(days=1)
_TEKUN_SINCE = _D(2021, 5, 1)
_CIVIL = ("civil_affairs/dibao.csv", "civil_affairs/hdxx.csv")
_ASSISTED = (*_CIVIL, "civil_affairs/tekun.csv")
# The files each rule or kind reads, which a case of it writes alone for its household.
OWNED: dict[str, tuple[str, ...]] = {
    "C1": (*_CIVIL, "poverty/pkh.csv"),
    "C2/NURSING_SUBSIDY": (*_CIVIL, "disability/cjr.csv", "disability/lxbt.csv"),
    "C2/LIVING_SUBSIDY": (*_CIVIL, "disability/cjr.csv", "disability/lxbt.csv"),
    "C3": (*_ASSISTED, "poverty/pkh.csv", "education/xsxj.csv", "education/xszz.csv"),
    "C4": (*_ASSISTED, "medical/jsxx.csv"),
    "C5": (*_ASSISTED, "housing/wfjd.csv", "housing/wfgz.csv"),
    "C6": (*_ASSISTED, "medical/cbxx.csv"),
    "C7": ("civil_affairs/ertong.csv",),
    "C8": _CIVIL,
    "MEDICAL_COSTS": ("medical/jsxx.csv", "poverty/pkh.csv"),
    "SEVERE_DISABILITY": ("disability/cjr.csv", "disability/lxbt.csv"),
    "TEMPORARY_ASSISTANCE": ("civil_affairs/lsjz.csv",),
    "INCOME_BELOW_STANDARD": _CIVIL,
}


def subject_of(case: Case, household: Household) -> Person | None:
    """The member a case is about (the head for a household case), or None when the household has none."""
    members = household.members
    if case.subject == "household":
        return household.head
    if case.subject == "eldest":
        return max(members, key=lambda p: p.age)
    ages = {"adult": range(18, 71), "child": range(3, 17), "pupil": range(7, 15), "eighteen": range(18, 19)}
    return next((p for p in members if p.age in ages[case.subject]), None)


@dataclass
class Planting:
    rng: random.Random
    household: Household
    person: Person
    sink: Sink

    def _write(self, key: str, row: tuple[object, ...]) -> Planting:
        self.sink.write(key, row)
        return self

    # -- civil affairs -------------------------------------------------------------------------------
    def dibao(self, start: dt.date, end: dt.date | None = None, exit_until: dt.date | None = None) -> Planting:
        """A whole-household award (bzlx 1) at a plausible amount."""
        h = self.household
        amount = civil.money(round(len(h.members) * self.standard(start.year) * 0.6))
        row = (h.number, 1, "", len(h.members), amount, start.isoformat(), _iso(end), _iso(exit_until))
        return self._write("civil_affairs/dibao.csv", row)

    def single_dibao(self, start: dt.date) -> Planting:
        h = self.household
        amount = civil.money(round(self.standard(start.year) * 0.6))
        return self._write(
            "civil_affairs/dibao.csv", (h.number, 2, self.person.id, 1, amount, start.isoformat(), "", "")
        )

    def standard(self, year: int) -> int:
        return civil.standard(self.household.county, year, self.household.urban)

    def check(self, day: dt.date, ratio: float | None = None, *, fen_below: int = 0) -> Planting:
        """An economic check with nothing deducted: per-capita income `ratio` x the standard of its year,
        or exactly the standard less `fen_below` fen a year when no ratio is given."""
        h = self.household
        persons = len(h.members)
        exact_fen = 12 * persons * self.standard(day.year) * 100
        annual_fen = round(exact_fen * ratio) if ratio is not None else exact_fen - fen_below
        income = f"{annual_fen // 100}.{annual_fen % 100:02d}"
        return self._write("civil_affairs/hdxx.csv", (h.number, day.isoformat(), persons, income, 0, 0, 0, 0))

    def below(self) -> Planting:
        """The check of an assisted household: clearly below the standard."""
        return self.check(_D(2026, 4, 14), 0.55)

    def tekun(self, start: dt.date = _TEKUN_SINCE) -> Planting:
        amount = civil.money(round(self.standard(2026) * 1.3))
        return self._write("civil_affairs/tekun.csv", (self.person.id, 2, 2, amount, start.isoformat(), ""))

    def case(self, kind: int, cause: int, applied: dt.date) -> Planting:
        h = self.household
        number = f"LSP{applied.year}{self.sink.serial('lsjz-planted'):06d}"
        row = (number, self.person.id, h.number, kind, cause, "1500.00", applied.isoformat(), "")
        return self._write("civil_affairs/lsjz.csv", row)

    def child_welfare(self, start: dt.date, end: dt.date | None, amount: str = "1450.00") -> Planting:
        start = max(start, self.person.birth)  # children of 3 are born after some starts; all ends are later
        return self._write("civil_affairs/ertong.csv", (self.person.id, 3, amount, start.isoformat(), _iso(end)))

    # -- poverty office --------------------------------------------------------------------------------
    def registered(self, year: int = 2015, lifted: int | None = 2019) -> Planting:
        h = self.household
        row = (h.number, h.head.id, len(h.members), year, lifted or "", h.xzqh)
        return self._write("poverty/pkh.csv", row)

    # -- disability federation -------------------------------------------------------------------------
    def certificate(self, grade: int, issued: dt.date, valid_until: dt.date) -> Planting:
        p = self.person
        category = 4 if grade > 2 else 7
        row = (p.id, f"{p.id}{category}{grade}", category, grade, issued.isoformat(), valid_until.isoformat())
        return self._write("disability/cjr.csv", row)

    def subsidy(self, kind: int, start: dt.date, end: dt.date | None = None) -> Planting:
        amount = "80.00" if kind == 1 else "100.00"
        return self._write("disability/lxbt.csv", (self.person.id, kind, amount, start.isoformat(), _iso(end)))

    # -- education ----------------------------------------------------------------------------------
    def enrolled(self, status: int = 1) -> Planting:
        p, h = self.person, self.household
        xd, nj = stage(age_on(p.birth, SCHOOL_YEAR_CUTOFF), 0.5, 0.0) or (2, 1)
        xxdm, xxmc = school(self.rng, h.county, township_of(h.county, h.xzqh), xd)
        return self._write("education/xsxj.csv", (p.id, xxdm, xxmc, xd, nj, TERM, status))

    def aid(self, term: str, paid: dt.date) -> Planting:
        return self._write("education/xszz.csv", (self.person.id, term, "03", "500.00", paid.isoformat()))

    # -- medical insurance --------------------------------------------------------------------------
    def settlement(
        self, out_of_pocket: int, to: dt.date | None, *, kind: int = 2, assistance: int | str = 0, days: int = 9
    ) -> Planting:
        """A settlement with `out_of_pocket` fen left to the patient (basic insurance paid twice as much)."""
        start = (to or LAST_DAY) - dt.timedelta(days=days)
        paid = 0 if assistance == "" else int(assistance)
        total = 3 * out_of_pocket + paid
        number = f"JSP{self.sink.serial('jsxx-planted'):09d}"
        code = "I63.9" if kind == 2 else "E11.9"
        row = (number, self.person.id, kind, compact(start), compact(to) if to else "", total)
        return self._write("medical/jsxx.csv", (*row, 2 * out_of_pocket, 0, assistance, out_of_pocket, code))

    def insured(self, year: int, category: int, subsidised: int) -> Planting:
        return self._write("medical/cbxx.csv", (self.person.id, year, 1, 42000 - subsidised, subsidised, category))

    # -- housing --------------------------------------------------------------------------------------
    def assessment(self, grade: str, day: dt.date) -> Planting:
        h = self.household
        row = (f"JDP-{self.sink.serial('wfjd-planted'):06d}", h.head.id, h.number, day.isoformat(), grade)
        return self._write("housing/wfjd.csv", (*row, f"{h.county.name}房屋安全鉴定站"))

    def renovation(self, approved: dt.date) -> Planting:
        h = self.household
        row = (f"GZP-{self.sink.serial('wfgz-planted'):06d}", h.head.id, h.number, 3, "60.0", 24000, 2)
        return self._write("housing/wfgz.csv", (*row, approved.isoformat(), "墙体加固"))


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


_ENDED_2025 = (_D(2019, 3, 1), _D(2025, 6, 30))  # an award that ended without gradual exit
_SINCE = _D(2024, 3, 1)
_VALID = (_D(2019, 5, 1), _D(2029, 4, 30))  # a certificate issued in 2019, valid for ten years


def _on_dibao(p: Planting, start: dt.date = _SINCE) -> Planting:
    return p.dibao(start).below()


def _off_dibao(p: Planting) -> Planting:
    return p.dibao(*_ENDED_2025).below()


def _valid(p: Planting, grade: int) -> Planting:
    return p.certificate(grade, *_VALID)


def _inpatient(p: Planting, assistance: int | str = 0) -> Planting:
    return p.settlement(486_000, _D(2026, 7, 18), assistance=assistance)


def _eighteenth(person: Person) -> dt.date:
    birth = person.birth
    return birth.replace(year=birth.year + 18) if (birth.month, birth.day) != (2, 29) else _D(birth.year + 18, 3, 1)


PLANTS: dict[str, Callable[[Planting], Planting]] = {
    "C1-registered": lambda p: p.registered(2016, None).check(_D(2026, 5, 11), 0.6),
    "C1-lifted-out": lambda p: p.registered(2014, 2019).check(_D(2026, 6, 2), fen_below=1),
    "C1-exit-over": lambda p: (
        p.registered(2015, 2018).dibao(_D(2020, 1, 1), _D(2025, 5, 31), _D(2026, 5, 31)).check(_D(2026, 7, 1), 0.7)
    ),
    "C1-at-standard": lambda p: p.registered(2016, 2020).check(_D(2026, 5, 20)),
    "C1-gradual-exit": lambda p: (
        p.registered(2016, 2020).dibao(_D(2021, 2, 1), _D(2026, 3, 31), _D(2027, 3, 31)).check(_D(2026, 2, 20), 0.8)
    ),
    "C1-recovered": lambda p: p.registered().check(_D(2025, 4, 8), 0.6).check(_D(2026, 4, 8), 1.3),
    "C1-registered-2027": lambda p: p.registered(2027, None).check(_D(2026, 9, 9), 0.6),
    "C2N-grade-1": lambda p: _valid(p, 1),
    "C2N-valid-to-D": lambda p: p.certificate(2, AS_OF - dt.timedelta(days=3652), AS_OF),
    "C2N-subsidy-ended": lambda p: _valid(p, 2).subsidy(2, _D(2020, 1, 1), AS_OF - _DAY),
    "C2N-expired": lambda p: p.certificate(1, _D(2016, 11, 23), AS_OF - _DAY),
    "C2N-grade-3": lambda p: _valid(p, 3),
    "C2N-subsidy-to-D": lambda p: _valid(p, 1).subsidy(2, _D(2020, 1, 1), AS_OF),
    "C2L-dibao": lambda p: _valid(_on_dibao(p), 4),
    "C2L-gradual-exit": lambda p: _valid(
        p.dibao(_D(2022, 1, 1), _D(2026, 6, 30), _D(2027, 6, 30)).check(_D(2026, 6, 1), 1.2), 3
    ),
    "C2L-single-person": lambda p: _valid(p.single_dibao(_D(2023, 7, 1)).below(), 3),
    "C2L-subsidised": lambda p: _valid(_on_dibao(p), 4).subsidy(1, _D(2024, 5, 1)),
    "C2L-dibao-ended": lambda p: _valid(_off_dibao(p), 4),
    "C2L-expired": lambda p: _on_dibao(p).certificate(4, _D(2016, 11, 1), AS_OF - _DAY),
    "C3-dibao": lambda p: _on_dibao(p).enrolled(),
    "C3-registered": lambda p: p.registered(2015, 2019).enrolled(),
    "C3-extreme-poverty": lambda p: p.tekun(_D(2023, 2, 1)).enrolled(),
    "C3-aid-last-term": lambda p: p.registered(2016, 2019).enrolled().aid(PREV_TERM, _D(2026, 4, 10)),
    "C3-aided": lambda p: _on_dibao(p).enrolled().aid(TERM, _D(2026, 10, 9)),
    "C3-suspended": lambda p: p.registered(2015, 2019).enrolled(status=2),
    "C3-dibao-after-start": lambda p: _on_dibao(p, TERM_START + _DAY).enrolled(),
    "C4-dibao": lambda p: _inpatient(_on_dibao(p)),
    "C4-tekun-window-start": lambda p: p.tekun().settlement(312_000, FIRST_IN_WINDOW),
    "C4-assistance-empty": lambda p: _inpatient(_on_dibao(p), assistance=""),
    "C4-window-edge": lambda p: _on_dibao(p).settlement(512_000, WINDOW_OPENS),
    "C4-assisted": lambda p: _inpatient(_on_dibao(p), assistance=100),
    "C4-outpatient": lambda p: _on_dibao(p).settlement(41_000, _D(2026, 8, 3), kind=3, days=0),
    "C5-grade-D": lambda p: _on_dibao(p).assessment("D", _D(2025, 4, 16)),
    "C5-renovated-before": lambda p: p.tekun().renovation(_D(2024, 5, 6)).assessment("C", _D(2026, 2, 10)),
    "C5-renovated-same-day": lambda p: _on_dibao(p).assessment("C", _D(2025, 9, 2)).renovation(_D(2025, 9, 2)),
    "C5-renovated-after": lambda p: _on_dibao(p).assessment("D", _D(2025, 6, 3)).renovation(_D(2025, 9, 3)),
    "C5-reassessed-B": lambda p: _on_dibao(p).assessment("D", _D(2023, 3, 14)).assessment("B", _D(2026, 3, 14)),
    "C5-not-assisted": lambda p: _off_dibao(p).assessment("D", _D(2025, 10, 20)),
    "C6-no-category": lambda p: _on_dibao(p).insured(2026, 0, 0),
    "C6-zero-amount": lambda p: p.tekun().insured(2026, 1, 0),
    "C6-subsidised": lambda p: _on_dibao(p).insured(2026, 2, 33600),
    "C6-last-year": lambda p: _on_dibao(p).insured(2025, 0, 0).insured(2026, 2, 33600),
    "C6-not-assisted": lambda p: _off_dibao(p).insured(2026, 0, 0),
    "C7-ended": lambda p: p.child_welfare(_D(2021, 9, 1), _D(2026, 6, 30)),
    "C7-zero-amount": lambda p: p.child_welfare(_D(2024, 1, 1), None, "0.00"),
    "C7-now-18": lambda p: p.child_welfare(_D(2020, 3, 1), _eighteenth(p.person) - _DAY),
    "C7-ends-on-D": lambda p: p.child_welfare(_D(2022, 3, 1), AS_OF),
    "C7-renewed": lambda p: p.child_welfare(_D(2020, 3, 1), _D(2024, 2, 29)).child_welfare(_D(2024, 6, 1), None),
    "C8-at-standard": lambda p: p.dibao(_D(2022, 8, 1)).check(_D(2026, 8, 25)),
    "C8-ends-later": lambda p: p.dibao(_D(2023, 2, 1), _D(2027, 1, 31)).check(_D(2026, 9, 15), 1.4),
    "C8-in-exit": lambda p: p.dibao(_D(2021, 2, 1), _D(2026, 7, 31), _D(2027, 7, 31)).check(_D(2026, 7, 2), 1.4),
    "C8-just-below": lambda p: p.dibao(_D(2022, 8, 1)).check(_D(2026, 8, 25), fen_below=1),
    "C8-single-person": lambda p: p.single_dibao(_D(2022, 8, 1)).check(_D(2026, 8, 25), 1.4),
    # Out of pocket in fen: 300,000 + 200,001 = 5,000.01 yuan, one fen over the registered-poor threshold.
    "MC-registered": lambda p: (
        p.registered(2015, 2019)
        .settlement(300_000, _D(2026, 2, 9))
        .settlement(200_001, _D(2026, 9, 30), kind=1, days=0)
    ),
    "MC-ordinary": lambda p: p.settlement(1_500_000, _D(2026, 3, 3)).settlement(500_001, _D(2026, 10, 2)),
    "MC-still-admitted": lambda p: p.settlement(2_500_000, None, days=20),
    "MC-registered-at": lambda p: (
        p.registered(2015, 2019)
        .settlement(300_000, _D(2026, 2, 9))
        .settlement(200_000, _D(2026, 9, 30), kind=1, days=0)
    ),
    "MC-ordinary-at": lambda p: p.settlement(1_500_000, _D(2026, 3, 3)).settlement(500_000, _D(2026, 10, 2)),
    "MC-ordinary-6000": lambda p: p.settlement(600_000, _D(2026, 5, 5)),
    "MC-outside-window": lambda p: p.registered(2015, 2019).settlement(800_000, WINDOW_OPENS),
    "SD-new": lambda p: p.certificate(2, _D(2026, 5, 12), _D(2036, 5, 11)),
    "SD-window-start": lambda p: p.certificate(1, FIRST_IN_WINDOW, _D(2035, 11, 23)),
    "SD-13-months": lambda p: p.certificate(1, _D(2025, 10, 23), _D(2035, 10, 22)),
    "SD-12-months": lambda p: p.certificate(2, WINDOW_OPENS, _D(2035, 11, 22)),
    "SD-grade-3": lambda p: p.certificate(3, _D(2026, 6, 8), _D(2036, 6, 7)),
    "TA-emergency": lambda p: p.case(1, p.rng.choice((4, 5)), _D(2026, 10, 28)),
    "TA-expenditure": lambda p: p.case(2, 1, _D(2026, 6, 17)),
    "TA-other-cause": lambda p: p.case(2, 9, _D(2026, 8, 5)),
    "TA-outside-window": lambda p: p.case(2, 1, WINDOW_OPENS),
    "IB-just-below": lambda p: p.check(_D(2026, 7, 7), fen_below=1),
    "IB-fell": lambda p: p.check(_D(2025, 6, 10), 1.5).check(_D(2026, 6, 10), 0.7),
    "IB-at-standard": lambda p: p.check(_D(2026, 7, 7)),
    "IB-on-dibao": lambda p: p.dibao(_D(2025, 1, 1)).check(_D(2026, 3, 3), 0.5),
    "IB-recovered": lambda p: p.check(_D(2025, 6, 10), 0.6).check(_D(2026, 6, 10), 1.5),
}
