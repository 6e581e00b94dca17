"""Small worlds for the comparison rules, written in the departments' native CSV files (spec/departments.md).

One household (or person) per situation; a test names what it needs and ingests it as of a day.
The standards are Nan'an's: 2026 urban 930 and rural 850 yuan a month (bzbz writes 1 urban, 2 rural).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa

from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest
from casework.comparison.run import RunResult, run
from tests.world import make_id

NANAN = "350583"
DAY = dt.date(2026, 12, 1)  # the as-of day of the tests; term 2026-2027-1 started on 1 September
EXPORTED = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
LATER = dt.date(2027, 6, 1)  # "today" for runs that must read the history
URBAN_STANDARD = 930

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
    "disability/lxbt.csv": "sfzh,btlx,yje,qsrq,zzrq",
    "medical/cbxx.csv": "sfzh,nd,xzlx,grjf,zzje,zzlb",
    "medical/jsxx.csv": "jsid,sfzh,lx,ryrq,cyrq,zfy,jbyl,dbbx,yljz,grzf,zddm",
    "housing/wfjd.csv": "jdbh,sfzh,hh,jdrq,dj,jddw",
    "housing/wfgz.csv": "xmbh,sfzh,hh,gzlx,mj,bzje,zt,lxrq,bz",
    "poverty/pkh.csv": "hh,hzsfzh,rks,sbnd,tpnd,xzqh",
    "poverty/jcdx.csv": "hh,jclx,fxyy,rks,nrrq,fxxc,xcrq,rjsr",
}
_GBK = {"housing"}


class World:
    """Department files being written; `ingest` imports them as of a moment (a full snapshot each time)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.rows: dict[str, list[list[str]]] = defaultdict(list)
        self.add("civil_affairs/bzbz.csv", NANAN, 2026, 1, "930.00")
        self.add("civil_affairs/bzbz.csv", NANAN, 2026, 2, "850.00")
        self._households = itertools.count(1)
        self._people = itertools.count(1)
        self._numbers = itertools.count(1)
        self._holders: dict[str, str] = {}  # household -> the member named on its housing records

    def add(self, file: str, *cells: object) -> None:
        self.rows[file].append(["" if cell is None else str(cell) for cell in cells])

    def drop(self, file: str, containing: str) -> None:
        """Leave out of the next export every row of `file` with a cell equal to `containing`."""
        self.rows[file] = [row for row in self.rows[file] if containing not in row]

    def number(self, prefix: str) -> str:
        return f"{prefix}-{next(self._numbers):04d}"

    # ---- registry -------------------------------------------------------------------------------

    def household(self, *, village: str = "101201", urban: bool = True) -> str:
        number = f"{NANAN}{next(self._households):06d}"
        self.add("registry/households.csv", number, f"{NANAN}{village}", "测试村1号", 2 if urban else 1)
        return number

    def person(self, household: str, *, born: str = "19700101", birth_date: str | None = "") -> str:
        """A registered member; `birth_date` None leaves csrq empty (the id's date counts), "" writes `born`."""
        sequence = next(self._people)
        id_number = make_id(NANAN, born, sequence, male=sequence % 2 == 1)
        written = "" if birth_date is None else f"{born[:4]}-{born[4:6]}-{born[6:]}"
        self.add("registry/persons.csv", id_number, "张三", "", written, household, "01", "")
        return id_number

    # ---- civil affairs --------------------------------------------------------------------------

    def dibao(self, household: str, *, start: str = "2024-03-01", end: str = "", exit_until: str = "") -> str:
        self.add("civil_affairs/dibao.csv", household, 1, "", 1, "900.00", start, end, exit_until)
        return f"{household}|WHOLE_HOUSEHOLD||{start}"

    def single_dibao(self, household: str, id_number: str, *, start: str = "2025-01-01") -> str:
        self.add("civil_affairs/dibao.csv", household, 2, id_number, 1, "900.00", start, "", "")
        return f"{household}|SINGLE_PERSON|{id_number}|{start}"

    def tekun(self, id_number: str, *, start: str = "2023-05-01", end: str = "") -> str:
        self.add("civil_affairs/tekun.csv", id_number, 2, 2, "1200.00", start, end)
        return f"{id_number}|{start}"

    def child_welfare(
        self, id_number: str, *, start: str = "2024-01-01", end: str = "", amount: str = "1100.00"
    ) -> str:
        self.add("civil_affairs/ertong.csv", id_number, 3, amount, start, end)
        return f"{id_number}|{start}"

    def check(self, household: str, day: str, persons: int, income: int | str, **amounts: int) -> str:
        row = [amounts.get(name, "") for name in ("medical", "education", "employment", "pension")]
        self.add("civil_affairs/hdxx.csv", household, day, persons, income, *row)
        return f"{household}|{day}"

    # ---- poverty --------------------------------------------------------------------------------

    def registered_poor(self, household: str, *, year: int | str = 2015, lifted: int | str = "") -> str:
        self.add("poverty/pkh.csv", household, "", 1, year, lifted, f"{NANAN}101201")
        return household

    def monitored(self, household: str, entered: str = "2025-06-01", *, eliminated: int = 0, on: str = "") -> str:
        self.add("poverty/jcdx.csv", household, 2, 1, 1, entered, eliminated, on, 7000)
        return f"{household}|{entered}"

    # ---- disability -----------------------------------------------------------------------------

    def certificate(
        self, id_number: str, *, grade: int = 2, issued: str = "2022-01-01", until: str = "2030-12-31"
    ) -> str:
        self.add("disability/cjr.csv", id_number, f"{id_number}4{grade}", 4, grade, issued, until)
        return f"{id_number}4{grade}"

    def subsidy(self, id_number: str, *, nursing: bool, start: str = "2022-02-01", end: str = "") -> str:
        self.add("disability/lxbt.csv", id_number, 2 if nursing else 1, "100.00", start, end)
        return f"{id_number}|{'NURSING' if nursing else 'LIVING'}|{start}"

    # ---- education, medical, housing ------------------------------------------------------------

    def enrol(self, id_number: str, *, term: str = "2026-2027-1", school_name: str = "南安市实验小学") -> str:
        self.add("education/xsxj.csv", id_number, "3505830012", school_name, 2, 3, term, 1)
        return f"{id_number}|{term}|3505830012"

    def student_aid(self, id_number: str, *, term: str = "2026-2027-1") -> None:
        self.add("education/xszz.csv", id_number, term, "03", "625.00", "2026-10-15")

    def settlement(
        self,
        id_number: str,
        *,
        discharged: str = "20261010",
        kind: int = 2,
        out_of_pocket: int = 50000,
        assisted: int = 0,
    ) -> str:
        number = self.number("JS")
        self.add(
            "medical/jsxx.csv", number, id_number, kind, discharged, discharged, 200000, 100000, 0, assisted,
            out_of_pocket, "I63.9",
        )  # fmt: skip
        return number

    def insurance(self, id_number: str, *, year: int = 2026, category: int = 0, subsidised: int | str = 0) -> str:
        self.add("medical/cbxx.csv", id_number, year, 1, 38000, subsidised, category)
        return f"{id_number}|{year}"

    def assessment(self, household: str, *, on: str = "2025-09-01", grade: str = "C") -> str:
        number = self.number("JD")
        holder = self._holders.get(household) or self._holders.setdefault(household, self.person(household))
        self.add("housing/wfjd.csv", number, holder, household, on, grade, "南安市房屋安全鉴定中心")
        return number

    def renovation(self, household: str, *, approved: str = "2025-10-08") -> str:
        number = self.number("GZ")
        holder = self._holders.get(household) or self._holders.setdefault(household, self.person(household))
        self.add("housing/wfgz.csv", number, holder, household, 3, "68.0", 42000, 1, approved, "墙体加固")
        return number

    # ---- import and run -------------------------------------------------------------------------

    def ingest(
        self, engine: sa.Engine, *, as_of: dt.datetime = EXPORTED, departments: tuple[str, ...] | None = None
    ) -> None:
        exports = []
        for name in departments or tuple(DEPARTMENTS):
            folder = self.root / f"{as_of:%Y%m%d%H%M}" / name
            folder.mkdir(parents=True, exist_ok=True)
            encoding = "gbk" if name in _GBK else "utf-8"
            for file, header in HEADERS.items():
                if file.startswith(f"{name}/"):
                    with (folder / file.split("/")[1]).open("w", encoding=encoding, newline="") as handle:
                        writer = csv.writer(handle, lineterminator="\n")
                        writer.writerow(header.split(","))
                        writer.writerows(self.rows.get(file, []))
            exports.append((DEPARTMENTS[name], folder))
        # One import of every department, as `aidgraph ingest all` does (files it lacks are reported).
        outcome = ingest(engine, exports, as_of=as_of, allow_missing=True)
        assert outcome.committed, outcome
        for department in outcome.departments:
            for report in department.files:
                # A typo in the test data must fail loudly, not quietly drop the row a test relies on.
                assert report.rejected == 0, f"{department.department}/{report.file}: {report.rejected} rows rejected"


def run_rules(engine: sa.Engine, *, day: dt.date = DAY, today: dt.date | None = None, **more: object) -> RunResult:
    return run(engine, region=more.pop("region", NANAN), by="tester", as_of=day, today=today or day, **more)  # type: ignore[arg-type]


def found(engine: sa.Engine, rule: str, result: RunResult | None = None) -> dict[tuple[str, str], dict[str, object]]:
    """The items of `rule` (of run `result`, when given): by (subject, programme)."""
    from casework.tables import comparison_item, comparison_run_item

    query = sa.select(comparison_item).where(comparison_item.c.rule == rule)
    if result is not None:
        query = query.join(comparison_run_item, comparison_run_item.c.item_id == comparison_item.c.id).where(
            comparison_run_item.c.run_id == result.run_id
        )
    with engine.connect() as connection:
        return {(row.subject, row.programme): dict(row._mapping) for row in connection.execute(query)}
