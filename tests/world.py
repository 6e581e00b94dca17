"""A tiny, hand-made set of department exports: two households (2 and 8 persons) with records in
every department, written in the native formats of spec/departments.md."""

from __future__ import annotations

import csv
from pathlib import Path

from adapters import idnumber

SMALL = "350583000001"  # 2 persons
LARGE = "350583000002"  # 8 persons


def make_id(area: str, born: str, sequence: int, *, male: bool) -> str:
    """A valid 18-character id: area, birth date, two sequence digits, gender digit, check character."""
    first17 = f"{area}{born}{sequence:02d}{1 if male else 2}"
    return first17 + idnumber.check_char(first17)


def _person(born: str, sequence: int, male: bool) -> str:
    return make_id("350583", born, sequence, male=male)


SMALL_HEAD = _person("19500310", 11, True)
SMALL_SPOUSE = _person("19520401", 12, False)
LARGE_MEMBERS = [
    (_person("19700101", 21, True), "01", "1970-01-01", "1"),
    (_person("19720202", 22, False), "02", "1972-02-02", "2"),
    (_person("19450303", 23, True), "04", "1945-03-03", "1"),
    (_person("19470404", 24, False), "04", "1947-04-04", "2"),
    (_person("20080505", 25, True), "03", "2008-05-05", "1"),
    (_person("20120606", 26, False), "03", "2012-06-06", "2"),
    (_person("20150707", 27, True), "03", "2015-07-07", "1"),
    (_person("20200808", 28, False), "05", "2020-08-08", "2"),
]
STUDENT = LARGE_MEMBERS[5][0]


def _write(folder: Path, name: str, header: str, rows: list[str], encoding: str = "utf-8") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header.split(","))
        for row in rows:
            writer.writerow(row.split(","))


def write_world(root: Path) -> Path:
    """Write every department's folder under `root`; returns root."""
    registry = root / "registry"
    _write(
        registry,
        "households.csv",
        "hh,xzqh,dz,hjxz",
        [f"{SMALL},350583101201,南安市溪美街道新华村12号,1", f"{LARGE},350583102203,南安市柳城街道美林社区8号,2"],
    )
    persons = [
        f"{SMALL_HEAD},欧阳明,1,1950-03-10,{SMALL},01,13805951234",
        f"{SMALL_SPOUSE},李芳,2,1952-04-01,{SMALL},02,",
    ]
    for number, (id_number, relation, born, gender) in enumerate(LARGE_MEMBERS):
        persons.append(
            f"{id_number},张{'伟娜军丽强敏杰婷'[number]},{gender},{born},{LARGE},{relation},1380595{number:04d}"
        )
    _write(registry, "persons.csv", "sfzh,xm,xb,csrq,hh,yhzgx,lxdh", persons)

    civil = root / "civil_affairs"
    _write(
        civil,
        "dibao.csv",
        "hh,bzlx,sfzh,bzrs,yje,qsrq,zzrq,jtqjz",
        [f"{SMALL},1,,2,1800.00,2024-03-01,,", f"{LARGE},2,{LARGE_MEMBERS[2][0]},1,900.00,2025-01-01,,"],
    )
    _write(civil, "tekun.csv", "sfzh,zlnl,gyfs,yje,qsrq,zzrq", [f"{LARGE_MEMBERS[3][0]},2,2,1200.00,2023-05-01,"])
    _write(
        civil,
        "lsjz.csv",
        "jzbh,sfzh,hh,jzlx,jzyy,je,sqrq,ffrq",
        [f"LS-0001,{SMALL_HEAD},{SMALL},1,1,3000.00,2026-02-01,2026-02-10"],
    )
    _write(civil, "ertong.csv", "sfzh,lb,yje,qsrq,zzrq", [f"{LARGE_MEMBERS[7][0]},3,1100.00,2024-01-01,"])
    _write(
        civil,
        "hdxx.csv",
        "hh,hdrq,rs,nsr,ylzc,jyzc,jycb,jcylj",
        [f"{SMALL},2026-05-20,2,12000,6000,0,0,2400", f"{LARGE},2026-06-01,8,96000,2000,4000,9000,0"],
    )
    _write(civil, "bzbz.csv", "xzqh,nd,cxlb,bz", ["350583,2026,1,930.00", "350583,2026,2,850.00"])

    education = root / "education"
    _write(
        education,
        "xsxj.csv",
        "sfzh,xxdm,xxmc,xd,nj,xq,zt",
        [
            f"{STUDENT},3505830012,南安市实验小学,3,2,2026-2027-1,1",
            f"{LARGE_MEMBERS[4][0]},3505830099,南安第一中学,4,3,2026-2027-1,1",
        ],
    )
    _write(education, "xszz.csv", "sfzh,xq,zzxm,je,ffrq", [f"{STUDENT},2026-2027-1,03,625.00,2026-10-15"])

    medical = root / "medical"
    _write(
        medical,
        "cbxx.csv",
        "sfzh,nd,xzlx,grjf,zzje,zzlb",
        [f"{member[0]},2026,1,38000,38000,2" for member in LARGE_MEMBERS] + [f"{SMALL_HEAD},2026,1,38000,38000,2"],
    )
    _write(
        medical,
        "jsxx.csv",
        "jsid,sfzh,lx,ryrq,cyrq,zfy,jbyl,dbbx,yljz,grzf,zddm",
        [
            f"JS0001,{SMALL_HEAD},2,20260311,20260318,1254300,802100,120000,200000,132200,I63.9",
            f"JS0002,{LARGE_MEMBERS[0][0]},1,20260401,20260401,35000,20000,0,0,15000,B20",
        ],
    )

    housing = root / "housing"
    _write(
        housing,
        "wfjd.csv",
        "jdbh,sfzh,hh,jdrq,dj,jddw",
        [f"JD-0001,{SMALL_HEAD},{SMALL},2025-09-01,C,南安市房屋安全鉴定中心"],
        encoding="gbk",
    )
    _write(
        housing,
        "wfgz.csv",
        "xmbh,sfzh,hh,gzlx,mj,bzje,zt,lxrq,bz",
        [f"GZ-0009,{SMALL_HEAD},{SMALL},3,68.0,42000,3,2025-10-08,墙体加固"],
        encoding="gbk",
    )
    _write(
        housing, "zfbz.csv", "sfzh,hh,lx,yje,qsrq,zzrq", [f"{LARGE_MEMBERS[0][0]},{LARGE},2,500.00,2025-01-01,"], "gbk"
    )

    disability = root / "disability"
    holder = LARGE_MEMBERS[2][0]
    _write(disability, "cjr.csv", "sfzh,cjzh,cjlb,cjdj,fzrq,yxq", [f"{holder},{holder}42,4,2,2021-06-01,2031-05-31"])
    _write(disability, "lxbt.csv", "sfzh,btlx,yje,qsrq,zzrq", [f"{holder},2,100.00,2021-07-01,"])

    poverty = root / "poverty"
    _write(
        poverty, "pkh.csv", "hh,hzsfzh,rks,sbnd,tpnd,xzqh", [f"{LARGE},{LARGE_MEMBERS[0][0]},8,2015,2019,350583102203"]
    )
    _write(
        poverty,
        "jcdx.csv",
        "hh,jclx,fxyy,rks,nrrq,fxxc,xcrq,rjsr",
        [f"{LARGE},1,1;6,8,2020-06-01,0,,6100", f"{SMALL},2,1,2,2021-03-01,0,,5200"],
    )
    return root
