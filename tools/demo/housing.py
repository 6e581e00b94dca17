"""Housing records of a demo household (GBK files): dangerous-house checks, renovations, housing support."""

from __future__ import annotations

import datetime as dt
import random

from tools.demo.dates import LAST_DAY, between, end_of_period
from tools.demo.households import Household
from tools.demo.ids import spell
from tools.demo.places import township_of
from tools.demo.sink import Sink

_D = dt.date
_REMARKS_BUILD = ("拆除重建，已入住", "原址翻建", "异地新建，宅基地已落实", "主体完工，待验收", "")
_REMARKS_REPAIR = ("墙体加固", "屋面翻修", "加固改造已验收", "更换木梁、加固墙体", "")


def assessor(rng: random.Random, household: Household) -> str:
    """The assessing body as the assessment report names it (free text)."""
    county = household.county.name
    township = township_of(household.county, household.xzqh).name
    return rng.choice(
        (
            f"{county}住房和城乡建设局",
            f"{county}房屋安全鉴定站",
            "泉州市建设工程质量安全检测中心",
            "福建省建筑科学研究院泉州分院",
            f"{county}{township}村镇建设服务中心",
        )
    )


def emit(rng: random.Random, household: Household, sink: Sink) -> None:
    needy = household.needy or household.monitored
    chance = (0.005 if household.urban else 0.04) * (4 if needy else 1)
    if rng.random() < chance:
        _assessment(rng, household, sink, needy)
    if household.urban and rng.random() < (0.3 if needy else 0.004):
        _support(rng, household, sink)


def _assessment(rng: random.Random, household: Household, sink: Sink, needy: bool) -> None:
    owner = spell(rng, household.head.id)
    grade = rng.choices("ABCD", weights=(10, 25, 35, 30) if needy else (30, 35, 25, 10))[0]
    jdrq = between(rng, _D(2022, 1, 4), LAST_DAY)
    row = (f"JD-{sink.serial('wfjd'):07d}", owner, household.number, jdrq.isoformat(), grade, assessor(rng, household))
    sink.write("housing/wfjd.csv", row)
    # Not every dangerous house is renovated yet: comparison rule 5 finds the assisted ones left out.
    if grade in "CD" and rng.random() < (0.6 if needy else 0.35):
        lxrq = between(rng, jdrq + dt.timedelta(days=20), jdrq + dt.timedelta(days=200))
        if grade == "D" or rng.random() < 0.2:
            kind, area = rng.choice((1, 2)), round(rng.uniform(45, 120), 1)
            subsidy, remarks = round(min(area, 90) * 1500), _REMARKS_BUILD
        else:
            kind, area = 3, round(rng.uniform(40, 110), 1)
            subsidy, remarks = min(50000, round(area * 400)), _REMARKS_REPAIR
        zt = rng.choices((1, 2, 3), weights=(20, 30, 50))[0]
        renovation = (
            f"GZ-{sink.serial('wfgz'):07d}",
            owner,
            household.number,
            kind,
            f"{area:.1f}",
            subsidy,
            zt,
            lxrq.isoformat(),
            rng.choice(remarks),
        )
        sink.write("housing/wfgz.csv", renovation)


def _support(rng: random.Random, household: Household, sink: Sink) -> None:
    kind = 1 if rng.random() < 0.4 else 2
    amount = rng.randint(20, 60) * 10 if kind == 1 else rng.randint(30, 90) * 10
    qsrq = between(rng, _D(2020, 1, 1), _D(2026, 10, 31))
    zzrq = end_of_period(qsrq, 24) if rng.random() < 0.1 else None
    if zzrq and zzrq > LAST_DAY:
        zzrq = None
    row = (
        spell(rng, household.head.id),
        household.number,
        kind,
        f"{amount:.2f}",
        qsrq.isoformat(),
        zzrq.isoformat() if zzrq else "",
    )
    sink.write("housing/zfbz.csv", row)
