"""Issue 4's eligible students, on SQLite and PostgreSQL: every reason and its edges, filters, pages, cost."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters import education, idnumber
from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest_folder
from resolvers.rules.terms import term_start
from resolvers.students.eligibility import (
    EligibleStudent,
    count_eligible,
    eligible_page,
    iter_eligible,
)
from tests.world import make_id

TERM = "2026-2027-1"  # starts on 2026-09-01
NANAN, ANXI = "350583", "350524"
EVERYWHERE = ["35"]  # a province: pages walk the term's enrolments in id order
COUNTIES = [NANAN, ANXI]  # every household of these worlds: pages read the counties' students first

HEADERS = {
    "registry/households.csv": "hh,xzqh,dz,hjxz",
    "registry/persons.csv": "sfzh,xm,xb,csrq,hh,yhzgx,lxdh",
    "civil_affairs/dibao.csv": "hh,bzlx,sfzh,bzrs,yje,qsrq,zzrq,jtqjz",
    "civil_affairs/tekun.csv": "sfzh,zlnl,gyfs,yje,qsrq,zzrq",
    "civil_affairs/ertong.csv": "sfzh,lb,yje,qsrq,zzrq",
    "civil_affairs/hdxx.csv": "hh,hdrq,rs,nsr,ylzc,jyzc,jycb,jcylj",
    "civil_affairs/bzbz.csv": "xzqh,nd,cxlb,bz",
    "education/xsxj.csv": "sfzh,xxdm,xxmc,xd,nj,xq,zt",
    "education/xszz.csv": "sfzh,xq,zzxm,je,ffrq",
    "disability/cjr.csv": "sfzh,cjzh,cjlb,cjdj,fzrq,yxq",
    "poverty/pkh.csv": "hh,hzsfzh,rks,sbnd,tpnd,xzqh",
    "poverty/jcdx.csv": "hh,jclx,fxyy,rks,nrrq,fxxc,xcrq,rjsr",
}
# Monthly dibao standards (bzbz writes 1 urban, 2 rural): Nan'an 2026 urban 930 / rural 850, 2025 urban 900.
STANDARDS = [f"{NANAN},2026,1,930.00", f"{NANAN},2026,2,850.00", f"{NANAN},2025,1,900.00", f"{ANXI},2026,1,800.00"]


class World:
    """A small world written in the departments' native CSV files, one household per situation."""

    def __init__(self) -> None:
        self.rows: dict[str, list[str]] = defaultdict(list)
        self.rows["civil_affairs/bzbz.csv"] += STANDARDS
        self._households = itertools.count(1)
        self._people = itertools.count(1)

    def add(self, file: str, *cells: object) -> None:
        self.rows[file].append(",".join("" if cell is None else str(cell) for cell in cells))

    def household(self, *, county: str = NANAN, village: str = "101201", urban: bool = True) -> str:
        number = f"{county}{next(self._households):06d}"
        self.add("registry/households.csv", number, f"{county}{village}", "测试村1号", 2 if urban else 1)
        return number

    def person(self, household: str | None, *, born: str = "20150301", relation: str = "03") -> str:
        """A registered member (canonical id); household None: someone the registry does not know."""
        sequence = next(self._people)
        assert sequence < 100, "two-digit sequence numbers: a world holds fewer than 100 people"
        id_number = make_id(NANAN, born, sequence, male=sequence % 2 == 1)
        if household is not None:
            self.add("registry/persons.csv", id_number, "张三", "", "", household, relation, "")
        return id_number

    def enrol(
        self,
        id_number: str,
        *,
        term: str = TERM,
        status: int = 1,
        stage: int = 2,
        school: str = "3505830012",
        spelled: str | None = None,
    ) -> None:
        self.add("education/xsxj.csv", spelled or id_number, school, f"学校{school[-2:]}", stage, 3, term, status)

    def student(self, household: str | None, *, stage: int = 2, born: str = "20150301") -> str:
        id_number = self.person(household, born=born)
        self.enrol(id_number, stage=stage)
        return id_number

    def dibao(self, household: str, *, start: str = "2024-03-01", end: str = "", exit_until: str = "") -> str:
        self.add("civil_affairs/dibao.csv", household, 1, "", 3, "1800.00", start, end, exit_until)
        return f"{household}|WHOLE_HOUSEHOLD||{start}"

    def single_dibao(self, household: str, id_number: str, *, spelled: str | None = None) -> str:
        self.add("civil_affairs/dibao.csv", household, 2, spelled or id_number, 1, "900.00", "2025-01-01", "", "")
        return f"{household}|SINGLE_PERSON|{id_number}|2025-01-01"

    def check(self, household: str, day: str, persons: int, income: int, **amounts: int) -> str:
        row = [amounts.get(name, "") for name in ("medical", "education", "employment", "pension")]
        self.add("civil_affairs/hdxx.csv", household, day, persons, income, *row)
        return f"{household}|{day}"

    def monitored(self, household: str, entered: str, *, eliminated: int = 0, on: str = "") -> str:
        self.add("poverty/jcdx.csv", household, 2, 1, 3, entered, eliminated, on, 7000)
        return f"{household}|{entered}"

    def certificate(self, id_number: str, *, issued: str = "2022-01-01", until: str = "2030-12-31") -> str:
        self.add("disability/cjr.csv", id_number, f"{id_number}52", 5, 2, issued, until)
        return f"{id_number}52"

    def ingest(self, engine: sa.Engine, root: Path) -> None:
        for name in DEPARTMENTS:
            (root / name).mkdir(parents=True, exist_ok=True)
        for file, rows in self.rows.items():
            with (root / file).open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(HEADERS[file].split(","))
                writer.writerows(row.split(",") for row in rows)
        for name, department in DEPARTMENTS.items():
            for report in ingest_folder(engine, department, root / name):
                # A typo in the test data must fail loudly, not quietly drop the row a test relies on.
                assert report.rejected == 0, f"{name}/{report.file}: {report.rejected} rows rejected"


def _listed(engine: sa.Engine, *, stage: str | None = None) -> list[EligibleStudent]:
    with engine.connect() as connection:
        walked = eligible_page(connection, term=TERM, regions=EVERYWHERE, stage=stage, limit=1000)
        local = eligible_page(connection, term=TERM, regions=COUNTIES, stage=stage, limit=1000)
        streamed = list(iter_eligible(connection, term=TERM, regions=EVERYWHERE, stage=stage))
    # Every rule is checked three ways: both ways a page is found, and the whole-list statement.
    assert local == walked and streamed == walked
    return walked


def _reasons(engine: sa.Engine) -> dict[str, list[tuple[str, str, str, str]]]:
    """id -> [(code, department, table, record_key)] of everyone listed."""
    return {
        student.id_number: [(r.code, r.department, r.table, r.record_key) for r in student.reasons]
        for student in _listed(engine)
    }


def _id_with_check_x(born: str) -> str:
    """An id whose check character is X, so its lower-case spelling can be exercised."""
    for sequence in range(100):
        for male in (True, False):
            candidate = make_id(NANAN, born, sequence, male=male)
            if candidate.endswith("X"):
                return candidate
    raise AssertionError("no sequence gives a check character X")


@pytest.mark.parametrize(
    ("term", "start"), [("2026-2027-1", dt.date(2026, 9, 1)), ("2025-2026-2", dt.date(2026, 3, 1))]
)
def test_a_term_starts_on_1_september_or_1_march(term: str, start: dt.date) -> None:
    # given a term of the autumn or the spring, when its start is asked, then it is DESIGN §4's date
    assert term_start(term) == start


@pytest.mark.parametrize("term", ["2026-2028-1", "2026-2027-3", "2026/2027/1", "2026-2027", " 2026-2027-1", ""])
def test_a_malformed_term_is_refused_with_a_message(term: str) -> None:
    # given text that is not a YYYY-YYYY-1/2 term of consecutive years, when its start is asked
    with pytest.raises(ValueError, match="is not a school term"):
        term_start(term)


def test_each_reason_holds_on_its_own(engine: sa.Engine, tmp_path: Path) -> None:
    # given seven students, each with exactly one reason, and one with none
    world = World()
    expected: dict[str, list[tuple[str, str, str, str]]] = {}
    home = world.household()
    student = world.student(home)
    expected[student] = [("DIBAO", "civil_affairs", "dibao", world.dibao(home))]
    student = world.student(world.household())
    world.add("civil_affairs/tekun.csv", student, 1, 2, "1300.00", "2025-01-01", "")
    expected[student] = [("EXTREME_POVERTY", "civil_affairs", "tekun", f"{student}|2025-01-01")]
    student = world.student(world.household())
    world.add("civil_affairs/ertong.csv", student, 3, "1450.00", "2024-01-01", "")
    expected[student] = [("CHILD_WELFARE", "civil_affairs", "ertong", f"{student}|2024-01-01")]
    student = world.student(world.household())
    expected[student] = [("DISABILITY", "disability", "cjr", world.certificate(student))]
    home = world.household()
    student = world.student(home)
    world.add("poverty/pkh.csv", home, "", 4, 2015, 2019, f"{NANAN}101201")  # lifted out in 2019: still counts
    expected[student] = [("REGISTERED_POOR", "poverty", "pkh", home)]
    home = world.household()
    student = world.student(home)
    expected[student] = [("MONITORED", "poverty", "jcdx", world.monitored(home, "2024-05-01"))]
    home = world.household()
    student = world.student(home)
    expected[student] = [("LOW_INCOME", "civil_affairs", "hdxx", world.check(home, "2026-05-20", 4, 60000))]
    world.student(world.household())  # no reason at all
    world.ingest(engine, tmp_path)
    # when the term's eligible students are listed
    found = _reasons(engine)
    # then each of the seven is listed with exactly its one reason, and nobody else is
    assert found == expected


def test_a_single_person_dibao_covers_only_the_member_it_names(engine: sa.Engine, tmp_path: Path) -> None:
    # given a household whose dibao names the grandmother, and one whose dibao names the student
    world = World()
    home = world.household()
    grandmother = world.person(home, born="19500101", relation="04")
    sibling_of_covered = world.student(home)
    world.single_dibao(home, grandmother)
    home = world.household()
    covered = world.student(home)
    key = world.single_dibao(home, covered)
    world.ingest(engine, tmp_path)
    # when the eligible students are listed
    found = _reasons(engine)
    # then only the named student is covered; the grandmother's award does not reach her grandchild
    assert found == {covered: [("DIBAO", "civil_affairs", "dibao", key)]}
    assert sibling_of_covered not in found


def test_a_gradual_exit_window_is_still_dibao_and_an_ended_award_is_not(engine: sa.Engine, tmp_path: Path) -> None:
    world = World()
    cases = {
        # given awards ended before 1 September 2026 with and without a gradual-exit window reaching it
        "in exit window": ("2024-03-01", "2026-05-31", "2027-05-31"),
        "window closed before": ("2024-03-01", "2026-05-31", "2026-08-31"),
        "ended, no window": ("2024-03-01", "2026-05-31", ""),
        # and the edges of the award itself
        "ends on the start day": ("2024-03-01", "2026-09-01", ""),
        "starts after the start day": ("2026-09-02", "", ""),
    }
    students = {}
    for case, (start, end, window) in cases.items():
        home = world.household()
        students[case] = world.student(home)
        world.dibao(home, start=start, end=end, exit_until=window)
    world.ingest(engine, tmp_path)
    # when the eligible students are listed
    listed = {name for name, student in students.items() if student in _reasons(engine)}
    # then only the award in force on the day, exit window included, counts
    assert listed == {"in exit window", "ends on the start day"}


def test_support_and_allowances_count_only_while_in_force(engine: sa.Engine, tmp_path: Path) -> None:
    world = World()
    cases = {
        "open-ended": ("2024-01-01", ""),
        "ends on the start day": ("2024-01-01", "2026-09-01"),
        "ended the day before": ("2024-01-01", "2026-08-31"),
        "starts the day after": ("2026-09-02", ""),
    }
    students: dict[tuple[str, str], str] = {}
    for case, (start, end) in cases.items():
        # given students in extreme-poverty support, and students with a child-welfare allowance, from start to end
        student = students[("tekun", case)] = world.student(world.household())
        world.add("civil_affairs/tekun.csv", student, 1, 2, "1300.00", start, end)
        student = students[("ertong", case)] = world.student(world.household())
        world.add("civil_affairs/ertong.csv", student, 2, "1450.00", start, end)
    world.ingest(engine, tmp_path)
    # when the eligible students are listed
    found = _reasons(engine)
    # then each counts while in force on 1 September 2026, both ends included
    listed = {key for key, student in students.items() if student in found}
    assert listed == {
        (table, case) for table in ("tekun", "ertong") for case in ("open-ended", "ends on the start day")
    }


def test_an_expired_or_not_yet_issued_certificate_does_not_count(engine: sa.Engine, tmp_path: Path) -> None:
    world = World()
    cases = {
        "valid": ("2022-01-01", "2030-12-31"),
        "expires on the start day": ("2022-01-01", "2026-09-01"),
        "expired the day before": ("2021-01-01", "2026-08-31"),
        "issued after the start day": ("2026-10-01", "2036-09-30"),
        "no expiry date": ("2022-01-01", ""),
    }
    students = {}
    for case, (issued, until) in cases.items():
        # given a student holding a certificate issued and valid as the case says
        students[case] = world.student(world.household())
        world.certificate(students[case], issued=issued, until=until)
    world.ingest(engine, tmp_path)
    # when the eligible students are listed
    found = _reasons(engine)
    # then only certificates in force on 1 September 2026 count
    listed = {name for name, student in students.items() if student in found}
    assert listed == {"valid", "expires on the start day", "no expiry date"}


def test_a_monitored_household_counts_until_its_risk_is_eliminated(engine: sa.Engine, tmp_path: Path) -> None:
    world = World()
    cases: dict[str, list[tuple[str, int, str]]] = {
        # given households whose monitoring records (entered, risk eliminated, on) say ...
        "risk remains": [("2024-05-01", 0, "")],
        "eliminated before the start day": [("2025-03-01", 1, "2026-06-01")],
        "eliminated, no date": [("2025-03-01", 1, "")],
        "eliminated after the start day": [("2025-03-01", 1, "2026-12-01")],
        "eliminated, then monitored again": [("2022-01-01", 1, "2023-01-01"), ("2025-01-01", 0, "")],
        "at risk, then eliminated": [("2022-01-01", 0, ""), ("2024-01-01", 1, "2024-06-01")],
        "eliminated, re-entered after the day": [("2022-01-01", 1, "2023-01-01"), ("2026-10-01", 0, "")],
    }
    students, keys = {}, {}
    for case, records in cases.items():
        home = world.household()
        students[case] = world.student(home)
        keys[case] = [world.monitored(home, entered, eliminated=flag, on=on) for entered, flag, on in records]
    world.ingest(engine, tmp_path)
    # when the eligible students are listed
    found = _reasons(engine)
    # then a household counts by its latest record entered on or before the day, unless eliminated by then
    listed = {name for name, student in students.items() if student in found}
    assert listed == {"risk remains", "eliminated after the start day", "eliminated, then monitored again"}
    again = students["eliminated, then monitored again"]
    assert found[again] == [("MONITORED", "poverty", "jcdx", keys["eliminated, then monitored again"][1])]


def test_the_latest_economic_check_before_the_term_decides(engine: sa.Engine, tmp_path: Path) -> None:
    # given households of 2 in Nan'an (urban 2026 standard 930: low income below 44,640 a year)
    world = World()
    home = world.household()
    richer_now = world.student(home)
    world.check(home, "2025-06-01", 2, 20000)
    world.check(home, "2026-05-01", 2, 60000)  # the newer check is above twice the standard
    home = world.household()
    poorer_now = world.student(home)
    world.check(home, "2025-06-01", 2, 60000)
    newest = world.check(home, "2026-05-01", 2, 20000)
    home = world.household()
    checked_after = world.student(home)
    world.check(home, "2026-06-01", 2, 60000)
    world.check(home, "2026-10-01", 2, 20000)  # after the term started: not yet known on the day
    world.ingest(engine, tmp_path)
    # when the eligible students are listed
    found = _reasons(engine)
    # then the newest check on or before 1 September wins over older ones and ignores later ones
    assert found == {poorer_now: [("LOW_INCOME", "civil_affairs", "hdxx", newest)]}
    assert richer_now not in found and checked_after not in found


def test_income_assessment_caps_employment_cost_and_excludes_the_pension(engine: sa.Engine, tmp_path: Path) -> None:
    # given checks of 2-person households, each built so one part of the rule decides the outcome;
    # threshold for the urban 2026 standard: net below 2 x 930 x 2 persons x 12 = 44,640 a year
    world = World()
    cases = {
        # counted 50,000 - 8,000 pension = 42,000: low; with the pension counted it would not be
        "pension not counted": dict(income=50000, pension=8000),
        # claim 20,000 capped at 30% of 64,000 = 19,200: net 44,800, not low; uncapped it would be 44,000
        "claim above the cap": dict(income=64000, employment=20000),
        # cap 18,900: net 44,100, low
        "capped claim, still low": dict(income=63000, employment=20000),
        # claim 15,000 under its cap of 18,000: net 45,000, not low; deducting the cap instead would give 42,000
        "claim under the cap": dict(income=60000, employment=15000),
        # medical and schooling costs deducted: 50,000 - 6,000 = 44,000, low
        "rigid expenses deducted": dict(income=50000, medical=3000, education=3000),
        # expenses above the income: floored at 0, low
        "negative net": dict(income=10000, medical=20000),
    }
    students = {}
    for case, amounts in cases.items():
        home = world.household()
        students[case] = world.student(home)
        world.check(home, "2026-05-20", 2, **amounts)
    # and the standard of the household's own kind, year and county
    home = world.household(urban=False)  # rural 850: threshold 40,800
    students["rural, 42,000"] = world.student(home)
    world.check(home, "2026-05-20", 2, 42000)
    home = world.household()  # checked in 2025: the 2025 standard 900 gives 43,200
    students["2025 check, 44,000"] = world.student(home)
    world.check(home, "2025-11-01", 2, 44000)
    home = world.household(county=ANXI)  # Anxi's 800 gives 38,400
    students["Anxi, 40,000"] = world.student(home)
    world.check(home, "2026-05-20", 2, 40000)
    home = world.household()  # no standard for 2024: cannot be assessed
    students["no standard for the year"] = world.student(home)
    world.check(home, "2024-05-20", 2, 1000)
    world.ingest(engine, tmp_path)
    # when the eligible students are listed
    found = _reasons(engine)
    # then exactly the households the rule puts below twice their standard are low-income
    listed = {name for name, student in students.items() if student in found}
    assert listed == {"pension not counted", "capped claim, still low", "rigid expenses deducted", "negative net"}


def test_only_students_enrolled_in_the_term_are_listed(engine: sa.Engine, tmp_path: Path) -> None:
    # given a dibao household (a reason for every member) with students of every status
    world = World()
    home = world.household()
    world.dibao(home)
    statuses = {}
    for status, name in ((1, "enrolled"), (2, "suspended"), (3, "graduated"), (4, "withdrawn")):
        statuses[name] = world.person(home)
        world.enrol(statuses[name], status=status)
    other_term = world.person(home)
    world.enrol(other_term, term="2025-2026-2")
    # and one enrolled twice in the term (a data error), one suspended at one school and enrolled at another
    twice = world.person(home)
    world.enrol(twice, school="3505830077")
    world.enrol(twice, school="3505830033")
    moved = world.person(home)
    world.enrol(moved, school="3505830011", status=2)
    world.enrol(moved, school="3505830044")
    # and an enrolled student the registry does not know (so no household, no region)
    unregistered = world.person(None)
    world.enrol(unregistered)
    world.add("civil_affairs/tekun.csv", unregistered, 1, 2, "1300.00", "2025-01-01", "")
    world.ingest(engine, tmp_path)
    # when the eligible students are listed
    listed = {student.id_number: student for student in _listed(engine)}
    # then only students enrolled in this term are, each once
    assert set(listed) == {statuses["enrolled"], twice, moved}
    # and the double enrolment resolves to the lowest school code, the transfer to the enrolled school
    assert listed[twice].school_code == "3505830033"
    assert listed[twice].enrolment_key == f"{twice}|{TERM}|3505830033"
    assert listed[moved].school_code == "3505830044"


def test_two_reasons_make_one_entry_with_both(engine: sa.Engine, tmp_path: Path) -> None:
    # given a student of a dibao household who also holds a certificate and a single-person dibao of her own
    world = World()
    home = world.household()
    student = world.student(home)
    household_award = world.dibao(home)
    own_award = world.single_dibao(home, student)
    certificate = world.certificate(student)
    world.ingest(engine, tmp_path)
    # when the eligible students are listed
    [entry] = _listed(engine)
    # then she appears once, with every reason and source record, ordered by code then record key
    assert entry.id_number == student
    assert [(reason.code, reason.record_key) for reason in entry.reasons] == [
        ("DIBAO", min(household_award, own_award)),
        ("DIBAO", max(household_award, own_award)),
        ("DISABILITY", certificate),
    ]
    # and each reason carries its record's export time, in UTC
    assert all(
        reason.as_of.tzinfo is not None and reason.as_of.utcoffset() == dt.timedelta(0) for reason in entry.reasons
    )
    assert entry.enrolment_as_of.utcoffset() == dt.timedelta(0)


def test_legacy_and_lower_case_ids_in_department_files_still_join(engine: sa.Engine, tmp_path: Path) -> None:
    # given a student (born 1999, so a legacy 15-digit id exists) whose id ends in X
    world = World()
    home = world.household()
    student = _id_with_check_x("19990412")
    world.add("registry/persons.csv", student, "李四", "", "", home, "03", "")
    legacy = idnumber.to_legacy(student)
    assert legacy is not None and len(legacy) == 15
    # and departments writing it in the legacy form, or with a lower-case x
    world.enrol(student, stage=7, spelled=student.lower())
    world.add("civil_affairs/tekun.csv", legacy, 1, 2, "1300.00", "2025-01-01", "")
    single_award = world.single_dibao(home, student, spelled=student.lower())
    world.certificate(student)
    world.rows["disability/cjr.csv"][-1] = world.rows["disability/cjr.csv"][-1].replace(student, legacy, 1)
    world.ingest(engine, tmp_path)
    # when the eligible students are listed
    found = _reasons(engine)
    # then every record joins the registered student under the canonical id
    assert [(code, key) for code, _department, _table, key in found[student]] == [
        ("DIBAO", single_award),
        ("DISABILITY", f"{student}52"),
        ("EXTREME_POVERTY", f"{student}|2025-01-01"),
    ]


def test_the_region_filter_takes_division_prefixes(engine: sa.Engine, tmp_path: Path) -> None:
    # given dibao students in two townships of Nan'an and one in Anxi
    world = World()
    students = {}
    for name, county, village in (
        ("nanan-101", NANAN, "101201"),
        ("nanan-102", NANAN, "102203"),
        ("anxi", ANXI, "101201"),
    ):
        home = world.household(county=county, village=village)
        world.dibao(home)
        students[name] = world.student(home)
    world.ingest(engine, tmp_path)
    names = {student: name for name, student in students.items()}

    def listed(regions: list[str]) -> set[str]:
        with engine.connect() as connection:
            page = eligible_page(connection, term=TERM, regions=regions, limit=10)
            # the count agrees with the list for every filter
            assert count_eligible(connection, term=TERM, regions=regions) == len(page)
        return {names[student.id_number] for student in page}

    # when listed by city, county, township, several prefixes, and none
    # then the prefixes select the households' division codes
    assert listed(["3505"]) == {"nanan-101", "nanan-102", "anxi"}
    assert listed([NANAN]) == {"nanan-101", "nanan-102"}
    assert listed([f"{NANAN}101"]) == {"nanan-101"}
    assert listed([f"{NANAN}102", ANXI]) == {"nanan-102", "anxi"}
    assert listed(["3506"]) == set()
    assert listed([]) == set()
    # and a prefix that is not digits is refused rather than read as a pattern
    with engine.connect() as connection, pytest.raises(ValueError, match="division-code prefix"):
        eligible_page(connection, term=TERM, regions=["35%"], limit=10)


def test_the_stage_filter(engine: sa.Engine, tmp_path: Path) -> None:
    # given a dibao household with a primary pupil and a junior-secondary one
    world = World()
    home = world.household()
    world.dibao(home)
    primary = world.student(home, stage=2)
    junior = world.student(home, stage=3)
    world.ingest(engine, tmp_path)
    # when listed by stage (the hub's stage names), then each stage holds its own pupil
    assert [student.id_number for student in _listed(engine, stage="PRIMARY")] == [primary]
    assert [(s.id_number, s.stage) for s in _listed(engine, stage="JUNIOR_SECONDARY")] == [(junior, "JUNIOR_SECONDARY")]
    assert _listed(engine, stage="UNDERGRADUATE") == []
    with engine.connect() as connection:
        assert count_eligible(connection, term=TERM, regions=EVERYWHERE, stage="PRIMARY") == 1
    # and a department code instead of a stage name is refused
    with pytest.raises(ValueError, match="stage '2'"):
        _listed(engine, stage="2")


def _many(world: World, households: int, per_household: int) -> list[str]:
    """Eligible students in dibao households, with a non-eligible one between households."""
    students = []
    for _ in range(households):
        home = world.household()
        world.dibao(home)
        students += [world.student(home) for _ in range(per_household)]
        world.student(world.household())
    return sorted(students)


@pytest.mark.parametrize("regions", [EVERYWHERE, [NANAN]], ids=["walk", "county"])
def test_pages_after_a_cursor_are_stable_and_complete(engine: sa.Engine, tmp_path: Path, regions: list[str]) -> None:
    # given 12 eligible students in dibao households, a non-eligible one after each household
    world = World()
    students = _many(world, households=4, per_household=3)
    world.ingest(engine, tmp_path)
    with engine.connect() as connection:
        # when they are read in pages of 3, each after the previous page's last id
        pages: list[list[EligibleStudent]] = []
        after = None
        for _ in range(10):  # bounded: a cursor that did not advance must fail the test, not hang it
            page = eligible_page(connection, term=TERM, regions=regions, after=after, limit=3)
            pages.append(page)
            if len(page) < 3:
                break
            after = page[-1].id_number
        again = eligible_page(connection, term=TERM, regions=regions, after=pages[1][-1].id_number, limit=3)
        count = count_eligible(connection, term=TERM, regions=regions)
        streamed = list(itertools.islice(iter_eligible(connection, term=TERM, regions=regions, batch=5), 100))
        empty = eligible_page(connection, term=TERM, regions=regions, limit=0)
    # then the pages hold every eligible student once, in id order, and the last one is empty
    assert [len(page) for page in pages] == [3, 3, 3, 3, 0]
    joined = [student for page in pages for student in page]
    assert [student.id_number for student in joined] == students
    # and the same cursor gives the same page, the count matches, and the stream (pages of 5) is the same list
    assert again == pages[2]
    assert count == 12
    assert streamed == joined
    assert empty == []


def test_aid_granted_means_aid_in_the_same_term(engine: sa.Engine, tmp_path: Path) -> None:
    # given three dibao students: aid this term, aid only last term, no aid
    world = World()
    home = world.household()
    world.dibao(home)
    this_term, last_term, never = (world.student(home) for _ in range(3))
    world.add("education/xszz.csv", this_term, TERM, "03", "625.00", "2026-10-15")
    world.add("education/xszz.csv", last_term, "2025-2026-2", "03", "625.00", "2026-04-15")
    world.ingest(engine, tmp_path)
    # when the eligible students are listed
    granted = {student.id_number: student.aid_granted for student in _listed(engine)}
    # then only aid of the term itself counts as granted
    assert granted == {this_term: True, last_term: False, never: False}


@contextmanager
def _statements(engine: sa.Engine) -> Iterator[list[str]]:
    executed: list[str] = []

    def record(_connection: object, _cursor: object, statement: str, *_args: object) -> None:
        executed.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield executed
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("regions", [EVERYWHERE, [NANAN]], ids=["walk", "county"])
def test_a_page_costs_one_statement_whatever_its_size(engine: sa.Engine, tmp_path: Path, regions: list[str]) -> None:
    # given 50 eligible students in ten households, each with several reasons
    world = World()
    students = _many(world, households=10, per_household=5)
    for student in students[::3]:
        world.certificate(student)
    world.ingest(engine, tmp_path)
    with engine.connect() as connection:
        connection.execute(sa.select(1))  # the dialect's first-connection queries are not the page's
        # when a page of 2 and a page of 50 are read, and then the whole list in batches of 10
        with _statements(engine) as small:
            two = eligible_page(connection, term=TERM, regions=regions, limit=2)
        with _statements(engine) as large:
            fifty = eligible_page(connection, term=TERM, regions=regions, limit=50)
        with _statements(engine) as streamed:
            everyone = list(itertools.islice(iter_eligible(connection, term=TERM, regions=regions, batch=10), 100))
    # then each page was one statement, whatever its size
    assert (len(two), len(fifty)) == (2, 50)
    assert len(small) == len(large) == 1
    assert sum(len(student.reasons) for student in fifty) == 50 + len(students[::3])
    # and the whole list was one statement too, read in batches (PostgreSQL: FETCH from its cursor)
    assert everyone == fifty
    computed = [statement for statement in streamed if not statement.startswith(("FETCH", "CLOSE"))]
    assert len(computed) == 1


def test_the_whole_list_streams_beside_other_statements(engine: sa.Engine, tmp_path: Path) -> None:
    # given 12 eligible students
    world = World()
    students = _many(world, households=4, per_household=3)
    world.ingest(engine, tmp_path)
    # when the list is read in batches of 5 on an autocommit connection (as an export reads it),
    # the same connection running another query between students
    seen = []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for student in iter_eligible(connection, term=TERM, regions=EVERYWHERE, batch=5):
            enrolled = sa.select(sa.func.count()).where(education.ENROLMENT.table.c.id_number == student.id_number)
            seen.append((student.id_number, connection.execute(enrolled).scalar_one()))
        # and a reader that stops early leaves the connection usable
        first = next(iter_eligible(connection, term=TERM, regions=EVERYWHERE, batch=5))
        again = eligible_page(connection, term=TERM, regions=EVERYWHERE, limit=1)
    # then every student came, once, in id order, and the interleaved queries ran
    assert seen == [(student, 1) for student in students]
    assert again == [first]


def test_the_demo_lists_enrolled_students_with_reasons(demo_engine: sa.Engine) -> None:
    # given the default demo, when Quanzhou's eligible students of the autumn 2026 term are read
    enrolment = education.ENROLMENT.table
    with demo_engine.connect() as connection:
        listed = list(itertools.islice(iter_eligible(connection, term=TERM, regions=["3505"], batch=500), 100_000))
        count = count_eligible(connection, term=TERM, regions=["3505"])
        city_page = eligible_page(connection, term=TERM, regions=["3505"], limit=50)
        county_page = eligible_page(connection, term=TERM, regions=["350583"], limit=50)
        enrolled = set(
            connection.execute(
                sa.select(enrolment.c.id_number).where(enrolment.c.term == TERM, enrolment.c.status == "ENROLLED")
            ).scalars()
        )
    # then there are some, each enrolled in the term with at least one reason, listed once, in id order
    assert listed and count == len(listed)
    ids = [student.id_number for student in listed]
    assert ids == sorted(set(ids))
    assert set(ids) <= enrolled
    assert all(student.reasons for student in listed)
    codes = {reason.code for student in listed for reason in student.reasons}
    assert {"DIBAO", "REGISTERED_POOR", "MONITORED", "LOW_INCOME"} <= codes
    # and the city's first page and Nan'an's (found the two ways) are the first of that list
    assert city_page == listed[:50]
    assert county_page == [student for student in listed if student.region_code.startswith("350583")][:50]
    # and the proactive part is there: some qualify without having been granted aid yet
    assert any(not student.aid_granted for student in listed) and any(student.aid_granted for student in listed)
