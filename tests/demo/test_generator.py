"""Tests of the demo data generator: formats, determinism, Annex 2, bad rows, bounded memory."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import tracemalloc
from collections import Counter, defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest

from adapters.idnumber import InvalidIdNumber, check_char, normalize
from tools.demo import ANNEX2, DemoSummary, generate

# Copied from spec/departments.md (the source of truth), not from the generator.
SPEC_COLUMNS = {
    "registry/households.csv": "hh xzqh dz hjxz",
    "registry/persons.csv": "sfzh xm xb csrq hh yhzgx lxdh",
    "civil_affairs/dibao.csv": "hh bzlx sfzh bzrs yje qsrq zzrq jtqjz",
    "civil_affairs/tekun.csv": "sfzh zlnl gyfs yje qsrq zzrq",
    "civil_affairs/lsjz.csv": "jzbh sfzh hh jzlx jzyy je sqrq ffrq",
    "civil_affairs/ertong.csv": "sfzh lb yje qsrq zzrq",
    "civil_affairs/hdxx.csv": "hh hdrq rs nsr ylzc jyzc jycb jcylj",
    "civil_affairs/bzbz.csv": "xzqh nd cxlb bz",
    "education/xsxj.csv": "sfzh xxdm xxmc xd nj xq zt",
    "education/xszz.csv": "sfzh xq zzxm je ffrq",
    "medical/cbxx.csv": "sfzh nd xzlx grjf zzje zzlb",
    "medical/jsxx.csv": "jsid sfzh lx ryrq cyrq zfy jbyl dbbx yljz grzf zddm",
    "housing/wfjd.csv": "jdbh sfzh hh jdrq dj jddw",
    "housing/wfgz.csv": "xmbh sfzh hh gzlx mj bzje zt lxrq bz",
    "housing/zfbz.csv": "sfzh hh lx yje qsrq zzrq",
    "disability/cjr.csv": "sfzh cjzh cjlb cjdj fzrq yxq",
    "disability/lxbt.csv": "sfzh btlx yje qsrq zzrq",
    "poverty/pkh.csv": "hh hzsfzh rks sbnd tpnd xzqh",
    "poverty/jcdx.csv": "hh jclx fxyy rks nrrq fxxc xcrq rjsr",
}
# The code values the spec allows, for the columns the generator corrupts with "code" rows.
SPEC_CODES = {"xb": "12", "xd": "12345678", "dj": "ABCD", "zzlb": "01239", "zlnl": "123"}
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容")
HIV_CODES = {"B20", "B21", "B22", "B23", "B24", "Z21"}


def encoding_of(key: str) -> str:
    return "gbk" if key.startswith("housing/") else "utf-8"


def physical_lines(path: Path) -> list[bytes]:
    """The file's lines as bytes, line 1 first, without the leading BOM."""
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    assert data.endswith(b"\n")
    return data[:-1].split(b"\n")


def parse(line: bytes, encoding: str) -> list[str]:
    return next(csv.reader([line.decode(encoding)]))


def read(out: Path, key: str, skip_bad: bool = True) -> list[dict[str, str]]:
    """Rows of a file as dicts; the manifest's bad rows are left out unless asked for."""
    bad = bad_lines(out, key) if skip_bad else set()
    lines = physical_lines(out / key)
    header = parse(lines[0], encoding_of(key))
    return [
        dict(zip(header, parse(line, encoding_of(key)), strict=True))
        for number, line in enumerate(lines[1:], start=2)
        if number not in bad
    ]


def manifest(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return data


def bad_lines(out: Path, key: str) -> set[int]:
    department, file_name = key.split("/")
    return {
        row["line"] for row in manifest(out)["bad_rows"] if row["department"] == department and row["file"] == file_name
    }


def digest(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*.*"))}


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoSummary]:
    out = tmp_path_factory.mktemp("default")
    return out, generate(out)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoSummary]:
    out = tmp_path_factory.mktemp("small")
    return out, generate(out, households=300, seed=7)


def test_same_seed_and_size_give_byte_identical_output(tmp_path: Path, small_run: tuple[Path, DemoSummary]) -> None:
    # given a run with households=300, seed=7
    first, _ = small_run
    # when the same run is repeated, and once with another seed
    again = generate(tmp_path / "again", households=300, seed=7)
    other = generate(tmp_path / "other", households=300, seed=8)
    # then the repeat is byte for byte the same, the other seed is not
    assert digest(first) == digest(again.out_dir)
    assert digest(first) != digest(other.out_dir)
    assert len(digest(first)) == len(SPEC_COLUMNS) + 1


def test_every_file_has_exactly_the_spec_columns(default_run: tuple[Path, DemoSummary]) -> None:
    # given the default run
    out, _ = default_run
    for key, columns in SPEC_COLUMNS.items():
        # when the header line is read
        header = parse(physical_lines(out / key)[0], encoding_of(key))
        # then it names exactly the spec's columns, and the manifest counts every other line
        assert header == columns.split(), key
        assert manifest(out)["files"][key] == len(physical_lines(out / key)) - 1, key


def test_housing_is_gbk_except_encoding_rows_and_the_rest_is_utf8(default_run: tuple[Path, DemoSummary]) -> None:
    # given the default run and its manifest's encoding rows
    out, _ = default_run
    flagged = {
        ("housing/" + row["file"], row["line"]) for row in manifest(out)["bad_rows"] if row["kind"] == "encoding"
    }
    assert flagged
    undecodable = set()
    for key in SPEC_COLUMNS:
        # when every line is decoded in the department's encoding
        for number, line in enumerate(physical_lines(out / key), start=1):
            try:
                line.decode(encoding_of(key))
            except UnicodeDecodeError:
                undecodable.add((key, number))
    # then exactly the manifest's encoding rows fail, and only housing files carry them
    assert undecodable == flagged
    assert (out / "registry/persons.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert not (out / "registry/households.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert "鉴定" in (out / "housing/wfjd.csv").read_bytes().decode("gbk", errors="replace")


@pytest.mark.parametrize("run", ["small_run", "default_run"])
def test_annex2_is_reproduced_exactly_from_jcdx(run: str, request: pytest.FixtureRequest) -> None:
    # given a run of either size
    out, summary = request.getfixturevalue(run)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    # when Annex 2 is recomputed from poverty/jcdx.csv with the csv module alone
    with open(out / "poverty/jcdx.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            county = row["hh"][:6]
            if row["jclx"] == "1":
                totals[county][0] += 1
                totals[county][1] += int(row["rks"])
            if "6" in row["fxyy"].split(";"):
                totals[county][2] += 1
                totals[county][3] += int(row["rks"])
    # then every county, including those with zeros, matches the annex
    assert {code: tuple(totals[code]) for code in ANNEX2} == {code: v[1:] for code, v in ANNEX2.items()}
    assert sum(v[1] for v in ANNEX2.values()) == 368 and sum(v[2] for v in ANNEX2.values()) == 1184
    assert sum(v[3] for v in ANNEX2.values()) == 188 and sum(v[4] for v in ANNEX2.values()) == 656
    assert ANNEX2["350583"] == ("南安市", 175, 485, 93, 303)
    assert summary.households == manifest(out)["general_households"] + 556


def test_annex_households_have_their_members_and_no_bad_rows(small_run: tuple[Path, DemoSummary]) -> None:
    # given the small run
    out, summary = small_run
    members = Counter(row["hh"] for row in read(out, "registry/persons.csv"))
    jcdx = read(out, "poverty/jcdx.csv", skip_bad=False)
    annex = [r for r in jcdx if r["jclx"] == "1" or "6" in r["fxyy"].split(";")]
    # when their households are looked up in the registry and the manifest
    bad_hh = {r["hh"] for key in SPEC_COLUMNS if "hh" in SPEC_COLUMNS[key].split() for r in bad_rows_of(out, key)}
    # then each has exactly rks members, risk remains, and no bad row names it
    assert len(annex) == 556
    assert all(members[r["hh"]] == int(r["rks"]) and r["fxxc"] == "0" for r in annex)
    assert not bad_hh & {r["hh"] for r in annex}
    assert not any(row["file"] == "jcdx.csv" for row in manifest(out)["bad_rows"])
    assert summary.persons == sum(members.values())


def bad_rows_of(out: Path, key: str) -> list[dict[str, str]]:
    lines = physical_lines(out / key)
    header = parse(lines[0], encoding_of(key))
    return [
        dict(zip(header, parse(lines[n - 1], encoding_of(key)), strict=True))
        for n in bad_lines(out, key)
        if not key.startswith("housing/") or _decodes(lines[n - 1])
    ]


def _decodes(line: bytes) -> bool:
    try:
        line.decode("gbk")
    except UnicodeDecodeError:
        return False
    return True


def test_registry_ids_are_valid_and_check_digit_rows_fail(default_run: tuple[Path, DemoSummary]) -> None:
    # given the persons file, bad rows set apart
    out, summary = default_run
    persons = read(out, "registry/persons.csv")
    # when every good id is normalized
    canonical = [normalize(row["sfzh"]) for row in persons]
    # then each one is valid, unique, and agrees with the birth date, gender and county columns
    assert len(set(canonical)) == len(canonical) == summary.persons
    for row, person_id in zip(persons, canonical, strict=True):
        assert person_id[6:14] == row["csrq"].replace("-", "")
        assert int(person_id[16]) % 2 == (row["xb"] == "1")
        assert person_id[:6] == row["hh"][:6]
    # and every check_digit row of the manifest fails validation
    check_rows = [r for r in manifest(out)["bad_rows"] if r["kind"] == "check_digit"]
    assert check_rows
    for entry in check_rows:
        value = bad_value(out, entry)
        with pytest.raises(InvalidIdNumber, match="check character"):
            normalize(value)


def test_legacy_and_lower_case_ids_occur_in_several_departments(default_run: tuple[Path, DemoSummary]) -> None:
    # given the default run
    out, _ = default_run
    forms: dict[str, Counter[str]] = {}
    for key in ("registry/persons.csv", "civil_affairs/tekun.csv", "medical/cbxx.csv", "education/xsxj.csv"):
        # when the id spellings are classified
        forms[key] = Counter(
            "legacy" if len(r["sfzh"]) == 15 else "lower" if r["sfzh"].endswith("x") else "plain"
            for r in read(out, key)
        )
    # then 15-digit and lower-case x forms both occur, and schools only know 18-digit ids
    assert forms["registry/persons.csv"]["legacy"] and forms["registry/persons.csv"]["lower"]
    assert forms["medical/cbxx.csv"]["legacy"] and forms["medical/cbxx.csv"]["lower"]
    assert forms["education/xsxj.csv"]["lower"] and not forms["education/xsxj.csv"]["legacy"]
    assert forms["civil_affairs/tekun.csv"]["plain"]


def test_names_minors_and_diagnoses_are_realistic(default_run: tuple[Path, DemoSummary]) -> None:
    # given the default run
    out, _ = default_run
    persons = read(out, "registry/persons.csv")
    names = [row["xm"] for row in persons]
    ages = [dt.date(2026, 11, 23).year - int(row["csrq"][:4]) for row in persons]
    heads = [a for a, row in zip(ages, persons, strict=True) if row["yhzgx"] == "01"]
    codes = Counter(row["zddm"] for row in read(out, "medical/jsxx.csv"))
    # then compound surnames, "·" names, one-character given names and minors all occur
    assert any(name.startswith(COMPOUND_SURNAMES) for name in names)
    assert any("·" in name for name in names)
    assert any(len(name) == 2 for name in names)
    assert sum(a < 14 for a in ages) > len(ages) // 20 and min(heads) >= 18
    assert max(Counter(row["hh"] for row in persons).values()) == 8
    # and a handful of HIV diagnoses is present among ordinary ones
    assert 0 < sum(codes[c] for c in HIV_CODES) < len(persons) / 200
    assert {"I10", "E11.9", "I63.9", "J18.9", "C34.9", "N18.5", "K80.2"} <= set(codes)


def test_department_rows_point_at_registered_persons_and_households(default_run: tuple[Path, DemoSummary]) -> None:
    # given the registry of the default run
    out, _ = default_run
    persons = {normalize(row["sfzh"]): row["hh"] for row in read(out, "registry/persons.csv")}
    households = {row["hh"] for row in read(out, "registry/households.csv")}
    dangling = []
    for key in SPEC_COLUMNS:
        if key.startswith("registry/") or key.endswith("bzbz.csv"):
            continue
        # when every good row's person and household are looked up
        for row in read(out, key):
            for name in ("sfzh", "hzsfzh"):
                if row.get(name) and normalize(row[name]) not in persons:
                    dangling.append((key, name, row[name]))
            if "hh" in row and row["hh"] not in households:
                dangling.append((key, "hh", row["hh"]))
    # then nothing dangles, and the standards cover every county, year 2024-2026 and urban/rural kind
    assert dangling == []
    standards = {(r["xzqh"], r["nd"], r["cxlb"]) for r in read(out, "civil_affairs/bzbz.csv")}
    assert standards == {(c, str(y), k) for c in ANNEX2 for y in (2024, 2025, 2026) for k in ("1", "2")}


def test_annex_only_population_is_possible(tmp_path: Path) -> None:
    # when no general population is asked for
    summary = generate(tmp_path, households=0)
    # then the Annex 2 households are still all there, with no bad rows
    assert summary.households == 556 and summary.persons == 1184 + 656 and summary.bad_rows == 0


def bad_value(out: Path, entry: dict[str, Any]) -> str:
    key = f"{entry['department']}/{entry['file']}"
    lines = physical_lines(out / key)
    header = parse(lines[0], encoding_of(key))
    return parse(lines[entry["line"] - 1], encoding_of(key))[header.index(entry["column"])]


def is_kind(out: Path, entry: dict[str, Any]) -> bool:
    """Re-read the manifest's line and check that it really has the problem it is listed with."""
    key = f"{entry['department']}/{entry['file']}"
    if entry["kind"] == "encoding":
        return not _decodes(physical_lines(out / key)[entry["line"] - 1])
    value = bad_value(out, entry)
    if entry["kind"] == "check_digit":
        return len(value) == 18 and value[6:14].isdigit() and check_char(value[:17]) != value[17].upper()
    if entry["kind"] == "id_birth_date":
        try:
            dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
        except ValueError:
            return check_char(value[:17]) == value[17].upper()
        return False
    if entry["kind"] == "date":
        try:
            dt.datetime.strptime(value, "%Y%m%d" if entry["department"] == "medical" else "%Y-%m-%d")
        except ValueError:
            return True
        return False
    if entry["kind"] == "code":
        return value not in SPEC_CODES[entry["column"]]
    if entry["kind"] == "missing_key":
        return value == ""
    if entry["kind"] == "money":
        try:
            Decimal(value)
        except InvalidOperation:
            return True
        return False
    return False


@pytest.mark.parametrize("run", ["small_run", "default_run"])
def test_each_manifest_row_is_what_it_says(run: str, request: pytest.FixtureRequest) -> None:
    # given a run and its manifest
    out, summary = request.getfixturevalue(run)
    entries = manifest(out)["bad_rows"]
    # when every listed line is re-read
    wrong = [entry for entry in entries if not is_kind(out, entry)]
    # then it has exactly the listed problem, all seven kinds occur, and they are about 0.3% of rows
    assert wrong == []
    assert {e["kind"] for e in entries} == {
        "check_digit",
        "id_birth_date",
        "date",
        "code",
        "missing_key",
        "money",
        "encoding",
    }
    assert summary.bad_rows == len(entries)
    assert 0.001 < len(entries) / sum(manifest(out)["files"].values()) < 0.006


def test_memory_does_not_grow_with_the_population(tmp_path: Path) -> None:
    # given a small and a ten times larger population
    peaks = []
    for households in (2000, 20000):
        # when each is generated under tracemalloc
        tracemalloc.start()
        generate(tmp_path / str(households), households=households)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # then the peak stays flat: the generator streams
    assert peaks[1] <= 1.5 * peaks[0], peaks
