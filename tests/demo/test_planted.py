"""Tests of the planted cases: every rule and alert kind has its cases and near misses in the demo files,
with the values that make the rule find them (or not), at two sizes, and planting changes nothing else."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
from collections import Counter
from pathlib import Path

import pytest

from adapters.idnumber import normalize
from tests.demo.oracle import World
from tools.demo import DEFAULT_HOUSEHOLDS, generate
from tools.demo.dates import TERM, TERM_START, TODAY
from tools.demo.planted import AS_OF, CASES, TARGETS, by_target, count
from tools.demo.planting import Planter

SIZES = {"small": (300, 7), "default": (3000, 0)}


@pytest.fixture(scope="module", params=list(SIZES))
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> World:
    households, seed = SIZES[request.param]
    out = tmp_path_factory.mktemp(request.param)
    generate(out, households=households, seed=seed)
    return World(out)


def test_the_as_of_day_is_the_generators_today() -> None:
    # then the comparison and scans of the demo run on the day its records are dated up to
    assert AS_OF == TODAY == dt.date(2026, 11, 23)


def test_each_case_is_planted_as_often_as_the_catalogue_says(world: World) -> None:
    # given a demo of either size, when its manifest's planted cases are counted
    planted = Counter(entry["case"] for entry in world.planted)
    # then each case of the catalogue is there as many times as its count for that size, and no other
    assert planted == {case.name: count(case, world.general_households) for case in CASES}
    # and every rule and kind has at least one planted case and one near miss
    assert all(fires >= 1 and misses >= 1 for fires, misses in by_target(world.general_households).values())
    assert {entry["target"] for entry in world.planted} == set(TARGETS)


def test_each_planted_case_fires_and_each_near_miss_does_not(world: World) -> None:
    # given every planted case and near miss of the demo
    wrong = []
    for entry in world.planted:
        subject = entry["person"] or entry["household"]
        # when its rule is evaluated on the as-of day from the files alone
        found = world.holds(entry["target"], subject, AS_OF, TERM, TERM_START)
        # then a case is found and a near miss is not
        if found != entry["fires"]:
            wrong.append(entry)
    assert wrong == []


def test_temporary_assistance_cases_are_of_both_types(world: World) -> None:
    # given the planted temporary-assistance cases, when their case type is read
    kinds = {}
    for entry in world.planted:
        if entry["case"] in ("TA-emergency", "TA-expenditure"):
            cases = world.by_household["lsjz"][entry["household"]]
            kinds[entry["case"]] = {case["jzlx"] for case in cases if case["jzbh"].startswith("LSP")}
    # then the emergency one is jzlx 1 (12-hour acknowledgement) and the other expenditure-type
    assert kinds == {"TA-emergency": {"1"}, "TA-expenditure": {"2"}}


def test_planted_subjects_are_registered_members_of_general_households(world: World) -> None:
    # given the planted cases
    for entry in world.planted:
        # then each household is registered, outside Annex 2 and unmonitored, and the person a member of it
        assert entry["household"] in world.household
        assert not world.by_household["jcdx"][entry["household"]]
        if entry["person"]:
            assert world.member_of[entry["person"]] == entry["household"]
    # and no household holds two cases
    assert len({entry["household"] for entry in world.planted}) == len(world.planted)


def test_counts_are_a_handful_by_default_and_grow_with_the_demo() -> None:
    # given the catalogue, then the default demo plants at least 3 of each rule, ten times as many at 10x
    assert all(fires >= 3 for fires, _ in by_target(3000).values())
    assert by_target(30000)["C1"][0] == 10 * by_target(3000)["C1"][0]


def test_default_cases_of_every_rule_lie_in_several_counties(world: World) -> None:
    # given a demo, when the counties of each rule's planted cases are collected
    counties: dict[str, set[str]] = {}
    for entry in world.planted:
        counties.setdefault(entry["target"], set()).add(entry["household"][:6])
    # then every rule's cases lie in at least three counties
    assert all(len(found) >= 3 for found in counties.values()), counties


def _rows_by_household(out: Path) -> dict[str, set[tuple[str, ...]]]:
    """Every data row of the folder, keyed by file, tagged with the household it belongs to."""
    with open(out / "registry/persons.csv", encoding="utf-8-sig", newline="") as handle:
        member_of = {}
        for row in csv.DictReader(handle):
            try:
                member_of[normalize(row["sfzh"])] = row["hh"]
            except ValueError:
                continue
    tagged: dict[str, set[tuple[str, ...]]] = {}
    for path in sorted(out.glob("*/*.csv")):
        encoding = "gbk" if path.parent.name == "housing" else "utf-8-sig"
        with open(path, encoding=encoding, errors="replace", newline="") as handle:
            rows = list(csv.DictReader(handle))
        found = set()
        for row in rows:
            owner = row.get("hh") or ""
            if not owner and row.get("sfzh"):
                try:
                    owner = member_of.get(normalize(row["sfzh"]), "")
                except ValueError:
                    owner = ""
            found.add((owner, *row.values()))
        tagged[f"{path.parent.name}/{path.name}"] = found
    return tagged


def test_planting_leaves_every_other_household_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given the small demo with its cases, and the same demo generated with none planted
    generate(tmp_path / "planted", households=300, seed=7)
    with monkeypatch.context() as patch:
        patch.setattr(
            importlib.import_module("tools.demo.generate"), "Planter", lambda households, seed: Planter(0, seed)
        )
        generate(tmp_path / "plain", households=300, seed=7)
    planted = {entry["household"] for entry in World(tmp_path / "planted").planted}
    # when their rows are compared file by file
    with_cases, without = _rows_by_household(tmp_path / "planted"), _rows_by_household(tmp_path / "plain")
    changed = {row[0] for key in with_cases for row in with_cases[key] ^ without[key]}
    # then only the planted households' rows differ, and the registry and monitoring not at all
    assert planted and changed <= planted
    for key in ("registry/households.csv", "registry/persons.csv", "poverty/jcdx.csv"):
        assert with_cases[key] == without[key], key


DOCS = Path(__file__).resolve().parents[2] / "docs" / "domain.md"
_DOC_TARGETS = {"`C2` nursing subsidy": "C2/NURSING_SUBSIDY", "`C2` living subsidy": "C2/LIVING_SUBSIDY"}


def test_the_domain_docs_show_the_default_demos_counts() -> None:
    # given the planted-cases table of docs/domain.md
    section = DOCS.read_text(encoding="utf-8").split("### Planted cases", 1)[1].split("\n## ", 1)[0]
    shown = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 3 and cells[1].isdigit():
            name = _DOC_TARGETS.get(cells[0], cells[0].split("`")[1])
            shown[name] = (int(cells[1]), int(cells[2]))
    # then it shows, for every rule and kind, the catalogue's counts for the default demo
    assert shown == by_target(DEFAULT_HOUSEHOLDS)
    assert "--as-of 2026-11-23" in section and AS_OF.isoformat() == "2026-11-23"
