"""Deliberately bad rows for the demo files: one known problem per row, each logged with its line."""

from __future__ import annotations

import random
from collections.abc import Callable

from tools.demo.dates import LAST_DAY, TERM, compact
from tools.demo.households import Household, HouseholdFactory, Person
from tools.demo.housing import assessor
from tools.demo.ids import impossible_birth, wrong_check
from tools.demo.sink import MARK, Sink, column

KINDS = ("check_digit", "id_birth_date", "date", "code", "missing_key", "money", "encoding")
# Each kind rotates through these files; jcdx never appears (Annex 2 must stay exact).
TARGETS: dict[str, tuple[str, ...]] = {
    "check_digit": (
        "registry/persons.csv",
        "civil_affairs/tekun.csv",
        "medical/cbxx.csv",
        "education/xsxj.csv",
        "disability/cjr.csv",
        "housing/zfbz.csv",
    ),
    "id_birth_date": ("medical/cbxx.csv", "civil_affairs/lsjz.csv", "education/xszz.csv", "disability/lxbt.csv"),
    "date": (
        "civil_affairs/dibao.csv",
        "medical/jsxx.csv",
        "education/xszz.csv",
        "housing/wfjd.csv",
        "disability/cjr.csv",
    ),
    "code": (
        "registry/persons.csv",
        "education/xsxj.csv",
        "housing/wfjd.csv",
        "medical/cbxx.csv",
        "civil_affairs/tekun.csv",
    ),
    "missing_key": (
        "civil_affairs/hdxx.csv",
        "medical/jsxx.csv",
        "disability/lxbt.csv",
        "registry/households.csv",
        "education/xszz.csv",
    ),
    "money": (
        "civil_affairs/dibao.csv",
        "civil_affairs/lsjz.csv",
        "medical/jsxx.csv",
        "disability/lxbt.csv",
        "housing/wfgz.csv",
        "education/xszz.csv",
    ),
    "encoding": ("housing/wfjd.csv", "housing/wfgz.csv"),
}
# (column, bad value) per kind and file for the kinds whose value does not depend on the row.
_DATES = {
    "civil_affairs/dibao.csv": ("qsrq", "2026-02-30"),
    "medical/jsxx.csv": ("ryrq", "20261341"),
    "education/xszz.csv": ("ffrq", "2026-02-30"),
    "housing/wfjd.csv": ("jdrq", "2025-13-01"),
    "disability/cjr.csv": ("fzrq", "2024-02-30"),
}
_CODES = {
    "registry/persons.csv": ("xb", "3"),
    "education/xsxj.csv": ("xd", "9"),
    "housing/wfjd.csv": ("dj", "E"),
    "medical/cbxx.csv": ("zzlb", "7"),
    "civil_affairs/tekun.csv": ("zlnl", "4"),
}
_MONEY = {
    "civil_affairs/dibao.csv": ("yje", "12,00"),
    "civil_affairs/lsjz.csv": ("je", "abc"),
    "medical/jsxx.csv": ("zfy", "12,00"),
    "disability/lxbt.csv": ("yje", "八十"),
    "housing/wfgz.csv": ("bzje", "4万"),
    "education/xszz.csv": ("je", "1,000.00"),
}
_KEYS = {
    "civil_affairs/hdxx.csv": "hh",
    "registry/households.csv": "hh",
    "medical/jsxx.csv": "sfzh",
    "disability/lxbt.csv": "sfzh",
    "education/xszz.csv": "sfzh",
}
_TEXTS = {"housing/wfjd.csv": "jddw", "housing/wfgz.csv": "bz"}


def emit(number: int, rng: random.Random, household: Household, factory: HouseholdFactory, sink: Sink) -> None:
    """Write the number-th bad row (0-based) as an extra row tied to this (non-Annex) household."""
    kind = KINDS[number % len(KINDS)]
    targets = TARGETS[kind]
    key = targets[(number // len(KINDS)) % len(targets)]
    if key == "registry/persons.csv":
        person = factory.fresh_person(household.county, rng.randint(20, 70), "99")
    else:
        person = rng.choice(household.members)
    row = _valid_row(key, rng, household, person, sink)
    if kind in ("check_digit", "id_birth_date"):
        name = "sfzh"
        value = wrong_check(rng, person.id) if kind == "check_digit" else impossible_birth(rng, person.id)
        detail = "check character does not match" if kind == "check_digit" else "birth date inside the id"
        if key == "disability/cjr.csv":
            row[column(key, "cjzh")] = value + str(row[column(key, "cjzh")])[18:]  # the number embeds the id
    elif kind == "missing_key":
        name, value, detail = _KEYS[key], "", "key column is empty"
    elif kind == "encoding":
        name = _TEXTS[key]
        text = str(row[column(key, name)]) or "墙体加固"
        value, detail = text[:2] + MARK + text[2:], "bytes FF FE are not GBK"
    else:
        name, value = {"date": _DATES, "code": _CODES, "money": _MONEY}[kind][key]
        detail = f"not a valid {'amount' if kind == 'money' else kind}"
    row[column(key, name)] = value
    if kind != "encoding":
        detail = f"{name}={value}: {detail}"
    sink.write_bad(key, row, kind, name, detail)


def _valid_row(key: str, rng: random.Random, household: Household, person: Person, sink: Sink) -> list[object]:
    day = LAST_DAY.replace(day=rng.randint(1, 20)).isoformat()
    return _BUILDERS[key](rng, household, person, sink, day)


_Builder = Callable[[random.Random, Household, Person, Sink, str], list[object]]
_BUILDERS: dict[str, _Builder] = {
    "registry/persons.csv": lambda rng, h, p, s, day: [
        p.id,
        p.name,
        1 if p.male else 2,
        p.birth.isoformat(),
        h.number,
        p.relation,
        p.phone,
    ],
    "registry/households.csv": lambda rng, h, p, s, day: [h.number, h.xzqh, h.address, 2 if h.urban else 1],
    "civil_affairs/tekun.csv": lambda rng, h, p, s, day: [p.id, 1, 2, "1300.00", day, ""],
    "civil_affairs/dibao.csv": lambda rng, h, p, s, day: [h.number, 1, "", len(h.members), "2000.00", day, "", ""],
    "civil_affairs/lsjz.csv": lambda rng, h, p, s, day: [
        f"LS{LAST_DAY.year}{s.serial('lsjz'):07d}",
        p.id,
        h.number,
        2,
        1,
        "1200.00",
        day,
        "",
    ],
    "civil_affairs/hdxx.csv": lambda rng, h, p, s, day: [h.number, day, len(h.members), 60000, 0, 0, 0, 0],
    "medical/cbxx.csv": lambda rng, h, p, s, day: [p.id, 2026, 1, 42000, 0, 0],
    "medical/jsxx.csv": lambda rng, h, p, s, day: [
        f"JS{s.serial('jsxx'):010d}",
        p.id,
        1,
        compact(LAST_DAY),
        compact(LAST_DAY),
        12000,
        6000,
        0,
        0,
        6000,
        "J06.9",
    ],
    "education/xsxj.csv": lambda rng, h, p, s, day: [
        p.id,
        f"{h.county.code}2001",
        f"{h.county.display}实验小学",
        2,
        3,
        TERM,
        1,
    ],
    "education/xszz.csv": lambda rng, h, p, s, day: [p.id, TERM, "03", "500.00", day],
    "housing/wfjd.csv": lambda rng, h, p, s, day: [
        f"JD-{s.serial('wfjd'):07d}",
        p.id,
        h.number,
        day,
        "C",
        assessor(rng, h),
    ],
    "housing/wfgz.csv": lambda rng, h, p, s, day: [
        f"GZ-{s.serial('wfgz'):07d}",
        p.id,
        h.number,
        3,
        "60.0",
        24000,
        2,
        day,
        "墙体加固",
    ],
    "housing/zfbz.csv": lambda rng, h, p, s, day: [p.id, h.number, 2, "500.00", day, ""],
    "disability/cjr.csv": lambda rng, h, p, s, day: [p.id, f"{p.id}42", 4, 2, day, "2036-11-01"],
    "disability/lxbt.csv": lambda rng, h, p, s, day: [p.id, 1, "80.00", day, ""],
}
