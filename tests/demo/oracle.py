"""The comparison rules and alert kinds of issue 10, written again from the rules as fixed, over the demo CSVs.

For the demo tests only: they check that each planted case holds the values that make its rule find
it, and each near miss the values that keep it out, without trusting the generator's code. Plain
Python over the files as written (bad rows set apart), one function per rule, evaluated for one
subject on one day.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from fractions import Fraction
from pathlib import Path
from typing import Any

from adapters.idnumber import normalize
from tools.demo.planted import BY_NAME

Row = dict[str, str]
_PERSON_FILES = ("tekun", "ertong", "cjr", "lxbt", "cbxx", "jsxx", "xsxj", "xszz")


def _day(text: str) -> dt.date | None:
    """An ISO date, or medical insurance's YYYYMMDD; None when empty."""
    if not text:
        return None
    if "-" in text:
        return dt.date.fromisoformat(text)
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))


def _money(text: str) -> Fraction:
    return Fraction(text) if text else Fraction(0)


def _in_force(start: str, end: str, day: dt.date) -> bool:
    begins, ends = _day(start), _day(end)
    return begins is not None and begins <= day and (ends is None or ends >= day)


class World:
    """One generated demo folder, indexed by household number and by canonical id."""

    def __init__(self, out: Path) -> None:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        # Each planted entry with its rule and verdict from the catalogue, as the tests read them.
        self.planted: list[dict[str, Any]] = [
            {
                "case": entry["case"],
                "target": BY_NAME[entry["case"]].target,
                "fires": BY_NAME[entry["case"]].fires,
                "household": entry["hh"],
                "person": entry.get("sfzh", ""),
            }
            for entry in manifest["planted"]
        ]
        self.general_households: int = manifest["general_households"]
        bad = defaultdict(set)
        for entry in manifest["bad_rows"]:
            bad[f"{entry['department']}/{entry['file']}"].add(entry["line"])
        self.rows: dict[str, list[Row]] = {}
        for path in sorted(out.glob("*/*.csv")):
            key = f"{path.parent.name}/{path.name}"
            encoding = "gbk" if key.startswith("housing/") else "utf-8-sig"
            with open(path, encoding=encoding, errors="replace", newline="") as handle:
                rows = list(csv.DictReader(handle))
            self.rows[path.stem] = [row for line, row in enumerate(rows, start=2) if line not in bad[key]]
        self.household = {row["hh"]: row for row in self.rows["households"]}
        self.member_of = {normalize(row["sfzh"]): row["hh"] for row in self.rows["persons"]}
        self.birth = {normalize(row["sfzh"]): _day(row["csrq"]) for row in self.rows["persons"]}
        self.members: dict[str, list[str]] = defaultdict(list)
        for person, household in self.member_of.items():
            self.members[household].append(person)
        self.by_person: dict[str, dict[str, list[Row]]] = {name: defaultdict(list) for name in _PERSON_FILES}
        for name in _PERSON_FILES:
            for row in self.rows[name]:
                self.by_person[name][normalize(row["sfzh"])].append(row)
        self.by_household: dict[str, dict[str, list[Row]]] = {}
        for name in ("dibao", "hdxx", "lsjz", "wfjd", "wfgz", "pkh", "jcdx"):
            index: dict[str, list[Row]] = defaultdict(list)
            for row in self.rows[name]:
                index[row["hh"]].append(row)
            self.by_household[name] = index
        self.single_awards: dict[str, list[Row]] = defaultdict(list)
        for award in self.rows["dibao"]:
            if award["bzlx"] == "2":
                self.single_awards[normalize(award["sfzh"])].append(award)
        self.standards = {(r["xzqh"], int(r["nd"]), r["cxlb"]): Fraction(r["bz"]) for r in self.rows["bzbz"]}

    # -- the shared terms ---------------------------------------------------------------------------
    @staticmethod
    def award_in_force(award: Row, day: dt.date) -> bool:
        exit_until = _day(award["jtqjz"])
        return _in_force(award["qsrq"], award["zzrq"], day) or (
            _day(award["qsrq"]) <= day and exit_until is not None and exit_until >= day  # type: ignore[operator]
        )

    def household_on_dibao(self, hh: str, day: dt.date) -> bool:
        return any(a["bzlx"] == "1" and self.award_in_force(a, day) for a in self.by_household["dibao"][hh])

    def person_on_dibao(self, person: str, day: dt.date) -> bool:
        named = self.single_awards.get(person, [])
        return self.household_on_dibao(self.member_of[person], day) or any(self.award_in_force(a, day) for a in named)

    def tekun(self, person: str, day: dt.date) -> bool:
        return any(_in_force(r["qsrq"], r["zzrq"], day) for r in self.by_person["tekun"][person])

    def assisted(self, person: str, day: dt.date) -> bool:
        return self.person_on_dibao(person, day) or self.tekun(person, day)

    def monitored(self, hh: str, day: dt.date) -> bool:
        entered = [r for r in self.by_household["jcdx"][hh] if _day(r["nrrq"]) <= day]  # type: ignore[operator]
        if not entered:
            return False
        latest = max(entered, key=lambda r: r["nrrq"])
        eliminated_on = _day(latest["xcrq"])
        return not (latest["fxxc"] == "1" and (eliminated_on is None or eliminated_on <= day))

    def registered_poor(self, hh: str, year: int) -> bool:
        return any(not r["sbnd"] or int(r["sbnd"]) <= year for r in self.by_household["pkh"][hh])

    def below_standard(self, hh: str, day: dt.date) -> bool | None:
        """The latest check on `day` against its standard: True below, False at or above, None unknown."""
        checks = [c for c in self.by_household["hdxx"][hh] if _day(c["hdrq"]) <= day]  # type: ignore[operator]
        if not checks:
            return None
        check = max(checks, key=lambda c: c["hdrq"])
        home = self.household[hh]
        kind = "1" if home["hjxz"] == "2" else "2"  # the standards write 1 urban, the registry 2
        standard = self.standards.get((home["xzqh"][:6], int(check["hdrq"][:4]), kind))
        if standard is None:
            return None
        counted = _money(check["nsr"]) - _money(check["jcylj"])
        deductions = _money(check["ylzc"]) + _money(check["jyzc"]) + min(_money(check["jycb"]), counted * 3 / 10)
        per_capita = max(counted - deductions, Fraction(0)) / (int(check["rs"]) * 12)
        return per_capita < standard

    @staticmethod
    def in_window(day: dt.date | None, as_of: dt.date) -> bool:
        opens = as_of.replace(year=as_of.year - 1)
        return day is not None and opens < day <= as_of

    # -- the rules ------------------------------------------------------------------------------------
    def holds(self, target: str, subject: str, day: dt.date, term: str, term_start: dt.date) -> bool:
        household = subject if len(subject) == 12 else self.member_of[subject]
        person = subject
        if target == "C1":
            poor = self.monitored(household, day) or self.registered_poor(household, day.year)
            return poor and self.below_standard(household, day) is True and not self.household_on_dibao(household, day)
        if target.startswith("C2/"):
            valid = [
                c
                for c in self.by_person["cjr"][person]
                if (not c["fzrq"] or _day(c["fzrq"]) <= day) and (not c["yxq"] or _day(c["yxq"]) >= day)  # type: ignore[operator]
            ]
            kind = "2" if target == "C2/NURSING_SUBSIDY" else "1"
            subsidised = any(
                s["btlx"] == kind and _in_force(s["qsrq"], s["zzrq"], day) for s in self.by_person["lxbt"][person]
            )
            if kind == "2":
                return any(c["cjdj"] in ("1", "2") for c in valid) and not subsidised
            return bool(valid) and self.person_on_dibao(person, day) and not subsidised
        if target == "C3":
            enrolled = any(r["xq"] == term and r["zt"] == "1" for r in self.by_person["xsxj"][person])
            reason = (
                self.person_on_dibao(person, term_start)
                or self.tekun(person, term_start)
                or self.registered_poor(household, term_start.year)
            )
            aided = any(r["xq"] == term for r in self.by_person["xszz"][person])
            return enrolled and reason and not aided
        if target == "C4":
            gaps = [
                s
                for s in self.by_person["jsxx"][person]
                if s["lx"] == "2"
                and self.in_window(_day(s["cyrq"]), day)
                and _money(s["grzf"]) > 0
                and _money(s["yljz"]) == 0
            ]
            return self.assisted(person, day) and bool(gaps)
        if target == "C5":
            assisted = self.household_on_dibao(household, day) or any(
                self.tekun(member, day) for member in self.members[household]
            )
            assessments = [a for a in self.by_household["wfjd"][household] if _day(a["jdrq"]) <= day]  # type: ignore[operator]
            if not assisted or not assessments:
                return False
            latest = max(assessments, key=lambda a: a["jdrq"])
            renovated = any(
                r["lxrq"] and latest["jdrq"] <= r["lxrq"] <= day.isoformat()
                for r in self.by_household["wfgz"][household]
            )
            return latest["dj"] in ("C", "D") and not renovated
        if target == "C6":
            unsubsidised = any(
                r["nd"] == str(day.year) and (r["zzlb"] == "0" or _money(r["zzje"]) == 0)
                for r in self.by_person["cbxx"][person]
            )
            return self.assisted(person, day) and unsubsidised
        if target == "C7":
            records = self.by_person["ertong"][person]
            birth = self.birth[person]
            minor = (
                birth is not None and (day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))) < 18
            )
            paid = any(_in_force(r["qsrq"], r["zzrq"], day) and _money(r["yje"]) > 0 for r in records)
            return bool(records) and minor and not paid
        if target == "C8":
            open_awards = [
                a
                for a in self.by_household["dibao"][household]
                if a["bzlx"] == "1" and _in_force(a["qsrq"], a["zzrq"], day) and not a["jtqjz"]
            ]
            return bool(open_awards) and self.below_standard(household, day) is False
        return self._alert(target, household, day)

    def _alert(self, kind: str, household: str, day: dt.date) -> bool:
        members = self.members[household]
        if kind == "MEDICAL_COSTS":
            poor = self.registered_poor(household, day.year) or self.monitored(household, day)
            spent = sum(
                _money(s["grzf"]) / 100
                for member in members
                for s in self.by_person["jsxx"][member]
                if self.in_window(_day(s["cyrq"] or s["ryrq"]), day)
            )
            return spent > (5000 if poor else 20000)
        if kind == "SEVERE_DISABILITY":
            return any(
                c["cjdj"] in ("1", "2") and self.in_window(_day(c["fzrq"]), day)
                for member in members
                for c in self.by_person["cjr"][member]
            )
        if kind == "TEMPORARY_ASSISTANCE":
            return any(
                c["jzyy"] in ("1", "4", "5") and self.in_window(_day(c["sqrq"]), day)
                for c in self.by_household["lsjz"][household]
            )
        if kind == "INCOME_BELOW_STANDARD":
            return self.below_standard(household, day) is True and not self.household_on_dibao(household, day)
        raise ValueError(f"no rule or kind {kind}")
