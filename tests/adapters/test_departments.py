"""The seven departments' native rows (spec/departments.md): valid rows translate, bad rows say why."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from adapters.base import FileSpec, RowError
from adapters.catalog import DEPARTMENTS, department

# Valid resident ids (check characters verified by hand against GB 11643).
MAN = "35050219900101123X"  # born 1990-01-01, male: the id of every example in the spec
MAN_LEGACY = "350502900101123"  # the same man in the legacy 15-digit form
OTHER_MAN = "350502199001011010"  # also born 1990-01-01 and male, a different person
WOMAN = "350502198503151027"  # born 1985-03-15, female
ELDER = "350502194503081016"  # born 1945-03-08, male
CHILD = "35050220150612108X"  # born 2015-06-12, female; the spec writes it with a lower-case x
CHILD_LOWER = "35050220150612108x"

# The columns of every native file, exactly as spec/departments.md lists them.
SPEC_COLUMNS: dict[tuple[str, str], str] = {
    ("registry", "households"): "hh,xzqh,dz,hjxz",
    ("registry", "persons"): "sfzh,xm,xb,csrq,hh,yhzgx,lxdh",
    ("civil_affairs", "dibao"): "hh,bzlx,sfzh,bzrs,yje,qsrq,zzrq,jtqjz",
    ("civil_affairs", "tekun"): "sfzh,zlnl,gyfs,yje,qsrq,zzrq",
    ("civil_affairs", "lsjz"): "jzbh,sfzh,hh,jzlx,jzyy,je,sqrq,ffrq",
    ("civil_affairs", "ertong"): "sfzh,lb,yje,qsrq,zzrq",
    ("civil_affairs", "hdxx"): "hh,hdrq,rs,nsr,ylzc,jyzc,jycb,jcylj",
    ("civil_affairs", "bzbz"): "xzqh,nd,cxlb,bz",
    ("education", "xsxj"): "sfzh,xxdm,xxmc,xd,nj,xq,zt",
    ("education", "xszz"): "sfzh,xq,zzxm,je,ffrq",
    ("medical", "cbxx"): "sfzh,nd,xzlx,grjf,zzje,zzlb",
    ("medical", "jsxx"): "jsid,sfzh,lx,ryrq,cyrq,zfy,jbyl,dbbx,yljz,grzf,zddm",
    ("housing", "wfjd"): "jdbh,sfzh,hh,jdrq,dj,jddw",
    ("housing", "wfgz"): "xmbh,sfzh,hh,gzlx,mj,bzje,zt,lxrq,bz",
    ("housing", "zfbz"): "sfzh,hh,lx,yje,qsrq,zzrq",
    ("disability", "cjr"): "sfzh,cjzh,cjlb,cjdj,fzrq,yxq",
    ("disability", "lxbt"): "sfzh,btlx,yje,qsrq,zzrq",
    ("poverty", "pkh"): "hh,hzsfzh,rks,sbnd,tpnd,xzqh",
    ("poverty", "jcdx"): "hh,jclx,fxyy,rks,nrrq,fxxc,xcrq,rjsr",
}

# One valid data line per file, in the column order above; where the spec gives an example, it is that line.
VALID_LINES: dict[tuple[str, str], str] = {
    ("registry", "households"): "350502000007,350502001007,开元街道中山路12号,1",
    ("registry", "persons"): "35050219900101123X,欧阳明,1,1990-01-01,350502000007,01,13805951234",  # spec
    ("civil_affairs", "dibao"): "350502000007,1,,3,2460.00,2025-03-01,2026-05-31,2027-05-31",  # spec
    ("civil_affairs", "tekun"): "350502194503081016,2,2,1150.50,2023-01-01,",
    ("civil_affairs", "lsjz"): "LSJZ-2026-0042,350502198503151027,350502000007,1,4,3000.00,2026-04-02,2026-04-10",
    ("civil_affairs", "ertong"): "35050220150612108x,2,1500,2024-09-01,",
    ("civil_affairs", "hdxx"): "350502000007,2026-05-20,3,52000,6000,0,9000,2400",  # spec
    ("civil_affairs", "bzbz"): "350502,2026,1,1080.00",
    ("education", "xsxj"): "35050220150612108x,3505020012,泉州市鲤城区实验小学,2,5,2026-2027-1,1",  # spec
    ("education", "xszz"): "35050220150612108x,2026-2027-1,03,625.00,2026-10-15",
    ("medical", "cbxx"): "35050219900101123X,2026,1,40000,40000,2",
    # spec example
    ("medical", "jsxx"): "JS0001,35050219900101123X,2,20260311,20260318,1254300,802100,120000,200000,132200,I63.9",
    ("housing", "wfjd"): "JD-2025-0117,35050219900101123X,350502000007,2025-08-12,C,泉州市房屋安全鉴定中心",
    ("housing", "wfgz"): "GZ-0009,35050219900101123X,350502000007,3,68.0,42000,3,2025-10-08,墙体加固",  # spec
    ("housing", "zfbz"): "350502198503151027,350502000008,2,600.00,2025-01-01,2025-12-31",
    ("disability", "cjr"): "35050219900101123X,35050219900101123X42,4,2,2021-06-01,2031-05-31",  # spec
    ("disability", "lxbt"): "35050219900101123X,2,90.00,2021-07-01,",
    ("poverty", "pkh"): "350502000007,35050219900101123X,3,2014,2019,350502001007",
    ("poverty", "jcdx"): "350502000007,1,1;6,3,2020-06-01,0,,6100",  # spec
}

# What each valid line becomes in the hub: names past the adapter, dates, Decimal yuan, enum member names.
EXPECTED: dict[tuple[str, str], dict[str, Any]] = {
    ("registry", "households"): {
        "household_number": "350502000007",
        "region_code": "350502001007",
        "address": "开元街道中山路12号",
        "residence_kind": "RURAL",
    },
    ("registry", "persons"): {
        "id_number": MAN,
        "name": "欧阳明",
        "gender": "MALE",
        "birth_date": dt.date(1990, 1, 1),
        "household_number": "350502000007",
        "relation_to_head": "HEAD",
        "phone": "13805951234",
    },
    ("civil_affairs", "dibao"): {
        "household_number": "350502000007",
        "coverage": "WHOLE_HOUSEHOLD",
        "id_number": None,
        "persons_covered": 3,
        "monthly_amount": Decimal("2460.00"),
        "start_date": dt.date(2025, 3, 1),
        "end_date": dt.date(2026, 5, 31),
        "gradual_exit_until": dt.date(2027, 5, 31),
    },
    ("civil_affairs", "tekun"): {
        "id_number": ELDER,
        "self_care": "PARTIAL_LOSS",
        "support_mode": "DISPERSED",
        "monthly_amount": Decimal("1150.50"),
        "start_date": dt.date(2023, 1, 1),
        "end_date": None,
    },
    ("civil_affairs", "lsjz"): {
        "case_number": "LSJZ-2026-0042",
        "id_number": WOMAN,
        "household_number": "350502000007",
        "kind": "EMERGENCY",
        "cause": "DISASTER",
        "amount": Decimal("3000.00"),
        "applied_on": dt.date(2026, 4, 2),
        "paid_on": dt.date(2026, 4, 10),
    },
    ("civil_affairs", "ertong"): {
        "id_number": CHILD,
        "category": "ORPHAN_DISPERSED",
        "monthly_amount": Decimal("1500"),
        "start_date": dt.date(2024, 9, 1),
        "end_date": None,
    },
    ("civil_affairs", "hdxx"): {
        "household_number": "350502000007",
        "checked_on": dt.date(2026, 5, 20),
        "persons": 3,
        "annual_income": Decimal("52000"),
        "medical_expense": Decimal("6000"),
        "education_expense": Decimal("0"),
        "employment_cost": Decimal("9000"),
        "basic_pension": Decimal("2400"),
    },
    ("civil_affairs", "bzbz"): {
        "county_code": "350502",
        "year": 2026,
        "residence_kind": "URBAN",
        "monthly_standard": Decimal("1080.00"),
    },
    ("education", "xsxj"): {
        "id_number": CHILD,
        "school_code": "3505020012",
        "school_name": "泉州市鲤城区实验小学",
        "stage": "PRIMARY",
        "grade": 5,
        "term": "2026-2027-1",
        "status": "ENROLLED",
    },
    ("education", "xszz"): {
        "id_number": CHILD,
        "term": "2026-2027-1",
        "programme": "LIVING_SUBSIDY",
        "amount": Decimal("625.00"),
        "paid_on": dt.date(2026, 10, 15),
    },
    ("medical", "cbxx"): {
        "id_number": MAN,
        "year": 2026,
        "scheme": "RESIDENT",
        "personal_contribution": Decimal("400.00"),
        "subsidised_amount": Decimal("400.00"),
        "subsidy_category": "DIBAO",
    },
    ("medical", "jsxx"): {
        "settlement_id": "JS0001",
        "id_number": MAN,
        "kind": "INPATIENT",
        "from_date": dt.date(2026, 3, 11),
        "to_date": dt.date(2026, 3, 18),
        "total_cost": Decimal("12543.00"),
        "basic_insurance_paid": Decimal("8021.00"),
        "critical_illness_paid": Decimal("1200.00"),
        "medical_assistance_paid": Decimal("2000.00"),
        "out_of_pocket": Decimal("1322.00"),
        "diagnosis_code": "I63.9",
    },
    ("housing", "wfjd"): {
        "assessment_number": "JD-2025-0117",
        "id_number": MAN,
        "household_number": "350502000007",
        "assessed_on": dt.date(2025, 8, 12),
        "grade": "C",
        "assessed_by": "泉州市房屋安全鉴定中心",
    },
    ("housing", "wfgz"): {
        "project_number": "GZ-0009",
        "id_number": MAN,
        "household_number": "350502000007",
        "kind": "REPAIR",
        "area": Decimal("68.0"),
        "subsidy": Decimal("42000"),
        "status": "COMPLETED",
        "approved_on": dt.date(2025, 10, 8),
        "remarks": "墙体加固",
    },
    ("housing", "zfbz"): {
        "id_number": WOMAN,
        "household_number": "350502000008",
        "kind": "RENT_SUBSIDY",
        "monthly_amount": Decimal("600.00"),
        "start_date": dt.date(2025, 1, 1),
        "end_date": dt.date(2025, 12, 31),
    },
    ("disability", "cjr"): {
        "id_number": MAN,
        "certificate_number": "35050219900101123X42",
        "category": "PHYSICAL",
        "grade": 2,
        "issued_on": dt.date(2021, 6, 1),
        "valid_until": dt.date(2031, 5, 31),
    },
    ("disability", "lxbt"): {
        "id_number": MAN,
        "kind": "NURSING",
        "monthly_amount": Decimal("90.00"),
        "start_date": dt.date(2021, 7, 1),
        "end_date": None,
    },
    ("poverty", "pkh"): {
        "household_number": "350502000007",
        "head_id_number": MAN,
        "persons": 3,
        "registered_year": 2014,
        "lifted_year": 2019,
        "region_code": "350502001007",
    },
    ("poverty", "jcdx"): {
        "household_number": "350502000007",
        "kind": "LIFTED_UNSTABLE",
        "risk_causes": "ILLNESS;EPIDEMIC",
        "persons": 3,
        "entered_on": dt.date(2020, 6, 1),
        "risk_eliminated": False,
        "eliminated_on": None,
        "per_capita_income": Decimal("6100"),
    },
}

FILES = list(VALID_LINES)


def spec_of(file: tuple[str, str]) -> FileSpec:
    return department(file[0]).file(file[1])


def native(file: tuple[str, str], **changes: str) -> dict[str, str]:
    """The valid native row of `file` with some cells replaced."""
    row = dict(zip(SPEC_COLUMNS[file].split(","), VALID_LINES[file].split(","), strict=True))
    unknown = set(changes) - set(row)
    assert not unknown, f"test data names columns {unknown} that {file} does not have"
    return {**row, **changes}


def parse(file: tuple[str, str], **changes: str) -> dict[str, Any]:
    return spec_of(file).parse(native(file, **changes))


def hub_values(row: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name not in ("record_key", "row_hash")}


# --- the catalogue matches the spec ------------------------------------------------------------------


def test_catalog_holds_the_seven_departments_with_the_files_of_the_spec() -> None:
    # given the files the spec names, when the catalogue is listed
    declared = {(name, spec.name) for name, dep in DEPARTMENTS.items() for spec in dep.files}
    # then it declares exactly those files
    assert declared == set(SPEC_COLUMNS)


@pytest.mark.parametrize("file", FILES, ids="/".join)
def test_each_file_requires_exactly_the_spec_columns(file: tuple[str, str]) -> None:
    # given a file of the spec, when its declared native headers are read
    headers = spec_of(file).required_headers
    # then they are the spec's columns, each once
    assert sorted(headers) == sorted(SPEC_COLUMNS[file].split(","))


@pytest.mark.parametrize("name", list(DEPARTMENTS))
def test_only_housing_exports_gbk(name: str) -> None:
    # given a department, when its export encoding is read
    encoding = DEPARTMENTS[name].encoding.replace("_", "-").lower()
    # then housing is GBK and every other department UTF-8 (a BOM accepted)
    assert encoding == ("gbk" if name == "housing" else "utf-8-sig")


# --- valid rows ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("file", FILES, ids="/".join)
def test_valid_native_row_translates_into_hub_values(file: tuple[str, str]) -> None:
    # given a valid native row of the file (the spec's example where it gives one)
    raw = native(file)
    # when it is parsed
    row = spec_of(file).parse(raw)
    # then every hub column holds the translated value, nothing more and nothing less
    assert hub_values(row) == EXPECTED[file]


def test_medical_fen_become_exact_yuan() -> None:
    # given a settlement with odd fen amounts, when parsed
    row = parse(("medical", "jsxx"), zfy="1", jbyl="99", dbbx="100", yljz="123457", grzf="0")
    # then each amount is the exact Decimal number of yuan, never a float
    assert [row[name] for name in ("total_cost", "basic_insurance_paid", "critical_illness_paid")] == [
        Decimal("0.01"),
        Decimal("0.99"),
        Decimal("1.00"),
    ]
    assert row["medical_assistance_paid"] == Decimal("1234.57")
    assert row["out_of_pocket"] == Decimal("0")
    assert all(isinstance(row[name], Decimal) for name in ("total_cost", "medical_assistance_paid"))


@pytest.mark.parametrize(
    ("file", "column", "name"),
    [
        (("registry", "persons"), "sfzh", "id_number"),
        (("civil_affairs", "tekun"), "sfzh", "id_number"),
        (("education", "xsxj"), "sfzh", "id_number"),
        (("medical", "jsxx"), "sfzh", "id_number"),
        (("housing", "wfgz"), "sfzh", "id_number"),
        (("disability", "lxbt"), "sfzh", "id_number"),
        (("poverty", "pkh"), "hzsfzh", "head_id_number"),
    ],
    ids=lambda value: "/".join(value) if isinstance(value, tuple) else value,
)
def test_legacy_15_digit_id_is_upgraded_in_every_department(file: tuple[str, str], column: str, name: str) -> None:
    # given a row whose id is written in the legacy 15-digit form (born 1990)
    # when parsed
    row = parse(file, **{column: MAN_LEGACY})
    # then the id is the canonical 18-character one, check character computed
    assert row[name] == MAN


@pytest.mark.parametrize("spelling", [CHILD_LOWER, CHILD, f"  {CHILD_LOWER} "])
def test_lower_case_x_and_padding_give_the_canonical_id(spelling: str) -> None:
    # given the child's id with a lower-case x, upper-case X, or padded with spaces
    row = parse(("civil_affairs", "ertong"), sfzh=spelling)
    # then the hub holds one canonical spelling
    assert row["id_number"] == CHILD


def test_optional_cells_left_empty_are_none() -> None:
    # given a person without phone, relation, gender or birth date
    row = parse(("registry", "persons"), lxdh="", yhzgx="", xb="", csrq="")
    # then those hub values are None and the rest is intact
    assert (row["phone"], row["relation_to_head"], row["gender"], row["birth_date"]) == (None, None, None, None)
    assert row["id_number"] == MAN


def test_phone_written_with_spaces_and_dashes_is_compacted() -> None:
    row = parse(("registry", "persons"), lxdh="138-0595 1234")
    assert row["phone"] == "13805951234"


def test_single_person_dibao_names_the_covered_person() -> None:
    # given a single-person dibao naming the covered woman
    row = parse(("civil_affairs", "dibao"), bzlx="2", sfzh=WOMAN, bzrs="1")
    # then coverage and covered person are kept
    assert (row["coverage"], row["id_number"], row["persons_covered"]) == ("SINGLE_PERSON", WOMAN, 1)


def test_icd10_diagnosis_is_upper_cased() -> None:
    row = parse(("medical", "jsxx"), zddm="b20.1")
    assert row["diagnosis_code"] == "B20.1"


# --- code tables: every code the spec lists -----------------------------------------------------------

# (file, native column, hub column, {code: enum member name}) exactly as the spec defines the codes.
CODE_TABLES: list[tuple[tuple[str, str], str, str, dict[str, str]]] = [
    (("registry", "households"), "hjxz", "residence_kind", {"1": "RURAL", "2": "URBAN"}),
    (("registry", "persons"), "xb", "gender", {"1": "MALE", "2": "FEMALE"}),
    (
        ("registry", "persons"),
        "yhzgx",
        "relation_to_head",
        {
            "01": "HEAD",
            "02": "SPOUSE",
            "03": "CHILD",
            "04": "PARENT",
            "05": "GRANDCHILD",
            "06": "SIBLING",
            "99": "OTHER",
        },
    ),
    (("civil_affairs", "dibao"), "bzlx", "coverage", {"1": "WHOLE_HOUSEHOLD", "2": "SINGLE_PERSON"}),
    (("civil_affairs", "tekun"), "zlnl", "self_care", {"1": "FULL", "2": "PARTIAL_LOSS", "3": "TOTAL_LOSS"}),
    (("civil_affairs", "tekun"), "gyfs", "support_mode", {"1": "INSTITUTIONAL", "2": "DISPERSED"}),
    (("civil_affairs", "lsjz"), "jzlx", "kind", {"1": "EMERGENCY", "2": "EXPENDITURE"}),
    (
        ("civil_affairs", "lsjz"),
        "jzyy",
        "cause",
        {
            "1": "ILLNESS",
            "2": "DISABILITY",
            "3": "SCHOOLING",
            "4": "DISASTER",
            "5": "ACCIDENT",
            "6": "EPIDEMIC",
            "7": "LACK_OF_LABOUR",
            "9": "OTHER",
        },
    ),
    (
        ("civil_affairs", "ertong"),
        "lb",
        "category",
        {"1": "ORPHAN_IN_INSTITUTION", "2": "ORPHAN_DISPERSED", "3": "DE_FACTO_UNSUPPORTED"},
    ),
    (("civil_affairs", "bzbz"), "cxlb", "residence_kind", {"1": "URBAN", "2": "RURAL"}),
    (
        ("education", "xsxj"),
        "xd",
        "stage",
        {
            "1": "PRESCHOOL",
            "2": "PRIMARY",
            "3": "JUNIOR_SECONDARY",
            "4": "SENIOR_SECONDARY",
            "5": "SECONDARY_VOCATIONAL",
            "6": "HIGHER_VOCATIONAL",
            "7": "UNDERGRADUATE",
            "8": "POSTGRADUATE",
        },
    ),
    (("education", "xsxj"), "zt", "status", {"1": "ENROLLED", "2": "SUSPENDED", "3": "GRADUATED", "4": "WITHDRAWN"}),
    (
        ("education", "xszz"),
        "zzxm",
        "programme",
        {
            "01": "NATIONAL_GRANT",
            "02": "TUITION_WAIVER",
            "03": "LIVING_SUBSIDY",
            "04": "STUDENT_LOAN",
            "05": "WELFARE_LOTTERY_GRANT",
        },
    ),
    (("medical", "cbxx"), "xzlx", "scheme", {"1": "RESIDENT", "2": "EMPLOYEE"}),
    (
        ("medical", "cbxx"),
        "zzlb",
        "subsidy_category",
        {"0": "NONE", "1": "EXTREME_POVERTY_FULL", "2": "DIBAO", "3": "MONITORED_HOUSEHOLD", "9": "OTHER"},
    ),
    (("medical", "jsxx"), "lx", "kind", {"1": "OUTPATIENT", "2": "INPATIENT", "3": "CHRONIC_OUTPATIENT"}),
    (("housing", "wfjd"), "dj", "grade", {"A": "A", "B": "B", "C": "C", "D": "D"}),
    (("housing", "wfgz"), "gzlx", "kind", {"1": "NEW_BUILD", "2": "REBUILD", "3": "REPAIR"}),
    (("housing", "wfgz"), "zt", "status", {"1": "APPROVED", "2": "IN_PROGRESS", "3": "COMPLETED"}),
    (("housing", "zfbz"), "lx", "kind", {"1": "PUBLIC_RENTAL", "2": "RENT_SUBSIDY"}),
    (
        ("disability", "cjr"),
        "cjlb",
        "category",
        {
            "1": "VISUAL",
            "2": "HEARING",
            "3": "SPEECH",
            "4": "PHYSICAL",
            "5": "INTELLECTUAL",
            "6": "MENTAL",
            "7": "MULTIPLE",
        },
    ),
    (("disability", "lxbt"), "btlx", "kind", {"1": "LIVING", "2": "NURSING"}),
    (("poverty", "jcdx"), "jclx", "kind", {"1": "LIFTED_UNSTABLE", "2": "MARGINAL", "3": "SUDDEN_HARDSHIP"}),
    (
        ("poverty", "jcdx"),
        "fxyy",
        "risk_causes",
        {
            "1": "ILLNESS",
            "2": "DISABILITY",
            "3": "SCHOOLING",
            "4": "DISASTER",
            "5": "ACCIDENT",
            "6": "EPIDEMIC",
            "7": "LACK_OF_LABOUR",
            "9": "OTHER",
        },
    ),
]


def _consistent(file: tuple[str, str], column: str, code: str) -> dict[str, str]:
    """Other cells a code drags along so the row stays valid (a woman's id, a matching certificate)."""
    if column == "xb" and code == "2":
        return {"sfzh": WOMAN, "csrq": "1985-03-15"}
    if column == "bzlx" and code == "2":
        return {"sfzh": WOMAN}
    if column == "cjlb":
        return {"cjzh": f"{MAN}{code}2"}
    return {}


CODE_CASES = [
    pytest.param(file, column, hub, code, name, id=f"{file[0]}/{file[1]}.{column}={code}")
    for file, column, hub, table in CODE_TABLES
    for code, name in table.items()
]


@pytest.mark.parametrize(("file", "column", "hub", "code", "name"), CODE_CASES)
def test_every_spec_code_translates_to_its_enum_member_name(
    file: tuple[str, str], column: str, hub: str, code: str, name: str
) -> None:
    # given a valid row carrying one code of the spec's table
    changes = {column: code, **_consistent(file, column, code)}
    # when parsed
    row = parse(file, **changes)
    # then the hub holds the enum member's name the spec's meaning calls for
    assert row[hub] == name


def test_registry_and_dibao_standard_number_urban_and_rural_the_other_way_round() -> None:
    # given the code 1 in the registry's hjxz and in the dibao standard's cxlb
    registry_one = parse(("registry", "households"), hjxz="1")["residence_kind"]
    standard_one = parse(("civil_affairs", "bzbz"), cxlb="1")["residence_kind"]
    registry_two = parse(("registry", "households"), hjxz="2")["residence_kind"]
    standard_two = parse(("civil_affairs", "bzbz"), cxlb="2")["residence_kind"]
    # then the same digit means rural in one and urban in the other, and they meet on one vocabulary
    assert (registry_one, standard_one) == ("RURAL", "URBAN")
    assert (registry_two, standard_two) == ("URBAN", "RURAL")


def test_several_risk_causes_keep_their_order() -> None:
    row = parse(("poverty", "jcdx"), fxyy="7;1;4")
    assert row["risk_causes"] == "LACK_OF_LABOUR;ILLNESS;DISASTER"


@pytest.mark.parametrize(("cell", "eliminated"), [("0", False), ("1", True)])
def test_risk_eliminated_flag_is_a_boolean(cell: str, eliminated: bool) -> None:
    changes = {"fxxc": cell, "xcrq": "2022-12-31" if eliminated else ""}
    assert parse(("poverty", "jcdx"), **changes)["risk_eliminated"] is eliminated


# --- bad rows ------------------------------------------------------------------------------------------

BAD_ROWS = [
    # failed check digit / malformed ids
    pytest.param(("registry", "persons"), {"sfzh": "350502199001011230"}, "sfzh", "check character", id="check-digit"),
    pytest.param(("civil_affairs", "ertong"), {"sfzh": "350502201506121089"}, "sfzh", "check", id="check-digit-2"),
    pytest.param(("poverty", "pkh"), {"hzsfzh": "35050219900101123Y"}, "hzsfzh", "only digits", id="id-letter"),
    pytest.param(("medical", "cbxx"), {"sfzh": "3505021990010112"}, "sfzh", "18 characters", id="id-length"),
    pytest.param(("registry", "persons"), {"sfzh": "350502901301123"}, "sfzh", "not a date", id="legacy-id-month-13"),
    # impossible or malformed dates
    pytest.param(("civil_affairs", "dibao"), {"qsrq": "2025-02-30"}, "qsrq", "not a date", id="feb-30"),
    pytest.param(("registry", "persons"), {"csrq": "1990-13-01"}, "csrq", "not a date", id="month-13"),
    pytest.param(("housing", "wfjd"), {"jdrq": "2025/08/12"}, "jdrq", "YYYY-MM-DD", id="slashes"),
    pytest.param(("disability", "lxbt"), {"qsrq": "20210701"}, "qsrq", "YYYY-MM-DD", id="compact-outside-medical"),
    pytest.param(("medical", "jsxx"), {"ryrq": "20260230"}, "ryrq", "YYYYMMDD", id="medical-feb-30"),
    pytest.param(("medical", "jsxx"), {"cyrq": "2026-03-18"}, "cyrq", "YYYYMMDD", id="medical-iso-date"),
    # unknown codes
    pytest.param(("registry", "persons"), {"xb": "3"}, "xb", "unknown code '3'", id="xb=3"),
    pytest.param(("registry", "persons"), {"yhzgx": "07"}, "yhzgx", "unknown code '07'", id="yhzgx=07"),
    pytest.param(("education", "xsxj"), {"xd": "9"}, "xd", "unknown code '9'", id="xd=9"),
    pytest.param(("housing", "wfjd"), {"dj": "E"}, "dj", "unknown code 'E'", id="dj=E"),
    pytest.param(("poverty", "jcdx"), {"jclx": "4"}, "jclx", "unknown code '4'", id="jclx=4"),
    pytest.param(("poverty", "jcdx"), {"fxyy": "1;8"}, "fxyy", "unknown code '8'", id="fxyy=1;8"),
    pytest.param(("civil_affairs", "lsjz"), {"jzyy": "8"}, "jzyy", "unknown code '8'", id="jzyy=8"),
    pytest.param(("medical", "cbxx"), {"zzlb": "4"}, "zzlb", "unknown code '4'", id="zzlb=4"),
    pytest.param(("civil_affairs", "bzbz"), {"cxlb": "3"}, "cxlb", "unknown code '3'", id="cxlb=3"),
    pytest.param(("disability", "lxbt"), {"btlx": "3"}, "btlx", "unknown code '3'", id="btlx=3"),
    pytest.param(("poverty", "jcdx"), {"fxxc": "2"}, "fxxc", "not 0 or 1", id="fxxc=2"),
    # missing required keys
    pytest.param(("registry", "persons"), {"sfzh": ""}, "sfzh", "required value is empty", id="persons-no-sfzh"),
    pytest.param(("registry", "households"), {"hh": ""}, "hh", "required value is empty", id="households-no-hh"),
    pytest.param(("civil_affairs", "dibao"), {"hh": "  "}, "hh", "required value is empty", id="dibao-blank-hh"),
    pytest.param(("civil_affairs", "hdxx"), {"hh": ""}, "hh", "required value is empty", id="hdxx-no-hh"),
    pytest.param(("civil_affairs", "tekun"), {"qsrq": ""}, "qsrq", "required value is empty", id="tekun-no-start"),
    pytest.param(("civil_affairs", "lsjz"), {"jzbh": ""}, "jzbh", "required value is empty", id="lsjz-no-case"),
    pytest.param(("education", "xszz"), {"sfzh": ""}, "sfzh", "required value is empty", id="xszz-no-sfzh"),
    pytest.param(("medical", "jsxx"), {"jsid": ""}, "jsid", "required value is empty", id="jsxx-no-jsid"),
    pytest.param(("housing", "wfgz"), {"xmbh": ""}, "xmbh", "required value is empty", id="wfgz-no-xmbh"),
    pytest.param(("disability", "cjr"), {"cjzh": ""}, "cjzh", "required value is empty", id="cjr-no-cjzh"),
    pytest.param(("poverty", "jcdx"), {"hh": ""}, "hh", "required value is empty", id="jcdx-no-hh"),
    pytest.param(("poverty", "pkh"), {"hh": ""}, "hh", "required value is empty", id="pkh-no-hh"),
    # money
    pytest.param(("civil_affairs", "dibao"), {"yje": "12,00"}, "yje", "not an amount", id="comma-decimal"),
    pytest.param(("civil_affairs", "lsjz"), {"je": "3000.005"}, "je", "up to 2 decimals", id="three-decimals"),
    pytest.param(("education", "xszz"), {"je": "¥625"}, "je", "not an amount", id="currency-sign"),
    pytest.param(("medical", "jsxx"), {"zfy": "12.50"}, "zfy", "integer fen", id="fen-with-decimals"),
    pytest.param(("medical", "cbxx"), {"grjf": "400元"}, "grjf", "integer fen", id="fen-with-unit"),
    # terms, numbers, other formats
    pytest.param(("education", "xsxj"), {"xq": "2026-2028-1"}, "xq", "term", id="term-two-years"),
    pytest.param(("education", "xszz"), {"xq": "2026-2027-3"}, "xq", "term", id="term-3"),
    pytest.param(("civil_affairs", "hdxx"), {"rs": "0"}, "rs", "outside 1-99", id="hdxx-rs=0"),
    pytest.param(("education", "xsxj"), {"nj": "13"}, "nj", "outside 0-12", id="grade-13"),
    pytest.param(("disability", "cjr"), {"cjdj": "5", "cjzh": f"{MAN}45"}, "cjdj", "outside 1-4", id="cjdj=5"),
    pytest.param(("civil_affairs", "dibao"), {"bzrs": "three"}, "bzrs", "whole number", id="bzrs-text"),
    pytest.param(("civil_affairs", "bzbz"), {"nd": "26"}, "nd", "four-digit year", id="two-digit-year"),
    pytest.param(("civil_affairs", "bzbz"), {"xzqh": "350502001"}, "xzqh", "6-digit", id="county-9-digits"),
    pytest.param(("registry", "households"), {"xzqh": "3505020010"}, "xzqh", "12-digit", id="division-10-digits"),
    pytest.param(("medical", "jsxx"), {"zddm": "I6"}, "zddm", "ICD-10", id="bad-icd10"),
    pytest.param(("registry", "persons"), {"lxdh": "call me"}, "lxdh", "phone", id="bad-phone"),
    pytest.param(("registry", "persons"), {"hh": "户号 7"}, "hh", "household number", id="bad-hh"),
    # certificate number against holder, category, grade
    pytest.param(("disability", "cjr"), {"cjzh": f"{OTHER_MAN}42"}, "cjzh", "holder's id", id="cjzh-other-id"),
    pytest.param(("disability", "cjr"), {"cjzh": f"{MAN}52"}, "cjzh", "give 42", id="cjzh-category"),
    pytest.param(("disability", "cjr"), {"cjzh": f"{MAN}41"}, "cjzh", "give 42", id="cjzh-grade"),
    pytest.param(("disability", "cjr"), {"cjzh": "35050219900101123042"}, "cjzh", "holder's id", id="cjzh-bad-id"),
    pytest.param(("disability", "cjr"), {"cjzh": f"{MAN}4"}, "cjzh", "certificate number", id="cjzh-short"),
    pytest.param(("disability", "cjr"), {"cjzh": f"{MAN}4B"}, "cjzh", "certificate number", id="cjzh-letter-grade"),
    # cross-column rules
    pytest.param(
        ("civil_affairs", "dibao"), {"bzlx": "2", "sfzh": ""}, "sfzh", "single-person", id="single-dibao-no-sfzh"
    ),
    pytest.param(("registry", "persons"), {"csrq": "1990-01-02"}, "csrq", "birth date in the id", id="csrq-vs-id"),
    pytest.param(("registry", "persons"), {"xb": "2"}, "xb", "gender encoded in the id", id="xb-vs-id"),
    pytest.param(("registry", "persons"), {"sfzh": WOMAN, "csrq": "1985-03-15"}, "xb", "female", id="woman-xb=1"),
    pytest.param(("medical", "jsxx"), {"cyrq": "20260310"}, "cyrq", "before the admission", id="discharge-first"),
]


@pytest.mark.parametrize(("file", "changes", "column", "fault"), BAD_ROWS)
def test_bad_row_is_rejected_naming_the_native_column_and_the_fault(
    file: tuple[str, str], changes: dict[str, str], column: str, fault: str
) -> None:
    # given an otherwise valid native row with one fault
    raw = native(file, **changes)
    # when parsed, then it is refused, and the reason names the native column and what is wrong
    with pytest.raises(RowError) as refused:
        spec_of(file).parse(raw)
    message = str(refused.value)
    assert f"column {column}" in message
    assert fault in message


def test_required_column_absent_from_the_row_is_refused() -> None:
    # given a row (e.g. from a database table) that lacks the key column altogether
    raw = native(("registry", "households"))
    del raw["hh"]
    # then it is refused like an empty key
    with pytest.raises(RowError, match="column hh: required value is empty"):
        spec_of(("registry", "households")).parse(raw)


# Programmes with a start (qsrq) and an end (zzrq): each ends a day before it starts.
END_BEFORE_START = [
    pytest.param(("civil_affairs", "dibao"), {"zzrq": "2025-02-28"}, id="dibao"),
    pytest.param(("civil_affairs", "tekun"), {"zzrq": "2022-12-31"}, id="tekun"),
    pytest.param(("civil_affairs", "ertong"), {"zzrq": "2024-08-31"}, id="ertong"),
    pytest.param(("housing", "zfbz"), {"zzrq": "2024-12-31"}, id="zfbz"),
    pytest.param(("disability", "lxbt"), {"zzrq": "2021-06-30"}, id="lxbt"),
]


@pytest.mark.parametrize(("file", "changes"), END_BEFORE_START)
def test_programme_ending_before_it_starts_is_refused(file: tuple[str, str], changes: dict[str, str]) -> None:
    with pytest.raises(RowError, match="before"):
        parse(file, **changes)


@pytest.mark.parametrize(("file", "changes"), END_BEFORE_START)
def test_programme_ending_before_it_starts_names_the_end_column(file: tuple[str, str], changes: dict[str, str]) -> None:
    with pytest.raises(RowError, match="column zzrq"):
        parse(file, **changes)


@pytest.mark.parametrize(
    ("file", "changes", "start", "end"),
    [
        pytest.param(("civil_affairs", "dibao"), {"zzrq": "2025-03-01"}, "start_date", "end_date", id="dibao"),
        pytest.param(("medical", "jsxx"), {"cyrq": "20260311"}, "from_date", "to_date", id="same-day-outpatient"),
    ],
)
def test_programme_ending_on_its_start_day_is_accepted(
    file: tuple[str, str], changes: dict[str, str], start: str, end: str
) -> None:
    # given a programme (or stay) that ends on the day it starts, when parsed
    row = parse(file, **changes)
    # then it is accepted with both dates the same day
    assert row[end] == row[start] is not None


# Spellings the spec's formats do not allow but Python's lenient parsers accept.
NOT_IN_THE_FORMAT = [
    pytest.param(
        ("civil_affairs", "dibao"),
        {"qsrq": "2025-W10-1"},
        "qsrq",
        id="iso-week-date",
    ),
    pytest.param(
        ("registry", "persons"),
        {"sfzh": "３５０５０２１９９００１０１１２３X"},
        "sfzh",
        id="full-width-id",
    ),
    pytest.param(
        ("registry", "households"),
        {"xzqh": "３５０５０２００１００７"},
        "xzqh",
        id="full-width-division",
    ),
    pytest.param(
        ("housing", "wfgz"),
        {"mj": "NaN"},
        "mj",
        id="area-nan",
    ),
    pytest.param(
        ("housing", "wfgz"),
        {"mj": "Infinity"},
        "mj",
        id="area-infinity",
    ),
    pytest.param(
        ("poverty", "jcdx"),
        {"rks": "1_0"},
        "rks",
        id="underscore-in-number",
    ),
]


@pytest.mark.parametrize(("file", "changes", "column"), NOT_IN_THE_FORMAT)
def test_cell_outside_the_spec_format_is_refused(file: tuple[str, str], changes: dict[str, str], column: str) -> None:
    # given a cell Python could read but the department's format does not allow
    raw = native(file, **changes)
    # then the row is a bad row naming the column
    with pytest.raises(RowError, match=f"column {column}"):
        spec_of(file).parse(raw)


# --- record key and row hash ---------------------------------------------------------------------------

# For every file, one change per key column (each still a valid row) and one change to a non-key value.
KEY_CHANGES: dict[tuple[str, str], list[dict[str, str]]] = {
    ("registry", "households"): [{"hh": "350502000008"}],
    ("registry", "persons"): [{"sfzh": OTHER_MAN}],
    ("civil_affairs", "dibao"): [
        {"hh": "350502000008"},
        {"bzlx": "2", "sfzh": WOMAN},
        {"sfzh": WOMAN},
        {"qsrq": "2025-04-01"},
    ],
    ("civil_affairs", "tekun"): [{"sfzh": MAN}, {"qsrq": "2023-02-01"}],
    ("civil_affairs", "lsjz"): [{"jzbh": "LSJZ-2026-0043"}],
    ("civil_affairs", "ertong"): [{"sfzh": WOMAN}, {"qsrq": "2024-10-01"}],
    ("civil_affairs", "hdxx"): [{"hh": "350502000008"}, {"hdrq": "2026-05-21"}],
    ("civil_affairs", "bzbz"): [{"xzqh": "350503"}, {"nd": "2025"}, {"cxlb": "2"}],
    ("education", "xsxj"): [{"sfzh": WOMAN}, {"xq": "2026-2027-2"}, {"xxdm": "3505020013"}],
    ("education", "xszz"): [{"sfzh": WOMAN}, {"xq": "2025-2026-2"}, {"zzxm": "01"}],
    ("medical", "cbxx"): [{"sfzh": WOMAN}, {"nd": "2025"}],
    ("medical", "jsxx"): [{"jsid": "JS0002"}],
    ("housing", "wfjd"): [{"jdbh": "JD-2025-0118"}],
    ("housing", "wfgz"): [{"xmbh": "GZ-0010"}],
    ("housing", "zfbz"): [{"sfzh": MAN}, {"hh": "350502000009"}, {"lx": "1"}, {"qsrq": "2025-02-01"}],
    ("disability", "cjr"): [{"cjzh": f"{MAN}43", "cjdj": "3"}],
    ("disability", "lxbt"): [{"sfzh": WOMAN}, {"btlx": "1"}, {"qsrq": "2021-08-01"}],
    ("poverty", "pkh"): [{"hh": "350502000008"}],
    ("poverty", "jcdx"): [{"hh": "350502000008"}, {"nrrq": "2020-07-01"}],
}

VALUE_CHANGES: dict[tuple[str, str], dict[str, str]] = {
    ("registry", "households"): {"dz": "开元街道中山路14号"},
    ("registry", "persons"): {"lxdh": "13805950000"},
    ("civil_affairs", "dibao"): {"yje": "2500.00"},
    ("civil_affairs", "tekun"): {"zlnl": "3"},
    ("civil_affairs", "lsjz"): {"ffrq": ""},
    ("civil_affairs", "ertong"): {"yje": "1600"},
    ("civil_affairs", "hdxx"): {"nsr": "51000"},
    ("civil_affairs", "bzbz"): {"bz": "1100.00"},
    ("education", "xsxj"): {"zt": "2"},
    ("education", "xszz"): {"je": "650.00"},
    ("medical", "cbxx"): {"zzlb": "3"},
    ("medical", "jsxx"): {"grzf": "132201"},
    ("housing", "wfjd"): {"dj": "D"},
    ("housing", "wfgz"): {"bz": "屋顶翻修"},
    ("housing", "zfbz"): {"zzrq": ""},
    ("disability", "cjr"): {"yxq": "2036-05-31"},
    ("disability", "lxbt"): {"yje": "95.00"},
    ("poverty", "pkh"): {"tpnd": ""},
    ("poverty", "jcdx"): {"fxyy": "1"},
}

KEY_CASES = [
    pytest.param(file, changes, id=f"{file[0]}/{file[1]}:{','.join(changes)}")
    for file, variants in KEY_CHANGES.items()
    for changes in variants
]


@pytest.mark.parametrize("file", FILES, ids="/".join)
def test_equal_rows_have_equal_record_key_and_row_hash(file: tuple[str, str]) -> None:
    # given the same native row read twice, once with its cells padded by spaces
    padded = {name: f" {cell} " if cell else cell for name, cell in native(file).items()}
    # when both are parsed
    first, second = parse(file), spec_of(file).parse(padded)
    # then they are one record, unchanged
    assert first["record_key"] == second["record_key"]
    assert first["row_hash"] == second["row_hash"]


def test_key_changes_cover_every_key_column() -> None:
    # given the key of every file, then the changes below touch each of its columns at least once
    for file in FILES:
        spec = spec_of(file)
        native_of = {column.name: column.native for column in spec.columns}
        touched = {name for changes in KEY_CHANGES[file] for name in changes}
        assert {native_of[name] for name in spec.key} <= touched, file


@pytest.mark.parametrize(("file", "changes"), KEY_CASES)
def test_record_key_differs_when_a_key_column_differs(file: tuple[str, str], changes: dict[str, str]) -> None:
    # given the valid row and the same row with one key value changed
    original, changed = parse(file), parse(file, **changes)
    # then they are two records
    assert changed["record_key"] != original["record_key"]


@pytest.mark.parametrize("file", FILES, ids="/".join)
def test_row_hash_changes_when_a_non_key_value_changes(file: tuple[str, str]) -> None:
    # given the valid row and the same row with one non-key value changed
    original, changed = parse(file), parse(file, **VALUE_CHANGES[file])
    # then it is the same record, in a new version
    assert changed["record_key"] == original["record_key"]
    assert changed["row_hash"] != original["row_hash"]


def test_id_spelling_does_not_split_a_record() -> None:
    # given the same enrolment written with the legacy id, the canonical id and a lower-case x
    file = ("medical", "cbxx")
    legacy, canonical = parse(file, sfzh=MAN_LEGACY), parse(file, sfzh=MAN)
    child_lower, child_upper = parse(file, sfzh=CHILD_LOWER), parse(file, sfzh=CHILD)
    # then each pair is one record with one hash
    assert (legacy["record_key"], legacy["row_hash"]) == (canonical["record_key"], canonical["row_hash"])
    assert (child_lower["record_key"], child_lower["row_hash"]) == (child_upper["record_key"], child_upper["row_hash"])
