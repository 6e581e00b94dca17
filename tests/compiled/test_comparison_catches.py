"""The comparison can fail, and it compares the two paths it means to.

A compiled path that emits one masked field raw is caught; the compiled hub runs the compiled plan for a
shape it follows and hands a directive or a mutation to the executor, and the other hub never runs a
plan (counted by `aidgraph_execution_paths` and by `CompiledPlans.execute` itself); and the registered
cases reach what they are about (masks, withheld fields, rows outside a region, misses, refused entry
points, a failing department), so that their agreement means something.
"""

from __future__ import annotations

from typing import Any

import pytest

from auth.access import Access
from compiled.plans import CompiledPlans
from tests.compiled.operations import (
    ANXI_HOUSEHOLD,
    CASES,
    NANAN_HIV_PATIENT,
    NANAN_HOUSEHOLD,
    UNKNOWN_HOUSEHOLD,
    Case,
)
from tests.compiled.paths import EXECUTOR, Answer, Profile, TwoPaths, differences

PICTURE = next(case for case in CASES if case.name == "picture")


def _profile(two_paths: TwoPaths, client_id: str, purpose: str) -> Profile:
    return next(p for p in two_paths.profiles if (p.client_id, p.purpose) == (client_id, purpose))


def _case(name: str) -> Case:
    return next(case for case in CASES if case.name == name)


@pytest.fixture
def plans_run(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The results of every `CompiledPlans.execute` from now on (None: it handed the request to the executor)."""
    results: list[Any] = []
    execute = CompiledPlans.execute

    async def counted(self: CompiledPlans, plan: Any, context: Any, variables: Any) -> Any:
        result = await execute(self, plan, context, variables)
        results.append(result)
        return result

    monkeypatch.setattr(CompiledPlans, "execute", counted)
    return results


def test_a_compiled_path_that_emits_a_masked_phone_raw_is_caught(
    two_paths: TwoPaths, registered: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a compiled path with a bug in its masking: the objects it builds keep the raw phone number
    execute = CompiledPlans.execute

    async def unmasked(self: CompiledPlans, plan: Any, context: Any, variables: Any) -> Any:
        access: Access = context.access
        mask = access._mask
        access._mask = lambda action, value, *, minor: (
            value
            if action.mask == "phone"
            else mask(  # type: ignore[method-assign]
                action, value, minor=minor
            )
        )
        return await execute(self, plan, context, variables)

    monkeypatch.setattr(CompiledPlans, "execute", unmasked)
    # when every profile asks both hubs for the household picture
    found = {
        str(profile): differences(*two_paths.ask_both(profile, registered[PICTURE.operation], PICTURE.variables))
        for profile in two_paths.profiles
    }
    # then the comparison reports the phones, and nothing else, for the profiles that see phones masked
    caught = {profile: lines for profile, lines in found.items() if lines}
    assert caught, "a raw phone number where the executor masks it went unnoticed"
    assert all(".phone: compiled '1" in line and "*" in line for lines in caught.values() for line in lines), caught
    assert "demo-civil-affairs / comparison" in caught  # Person.phone: mask
    assert "demo-civil-affairs / assistance-review" not in caught  # the phone is shown: nothing to leak


def test_the_compiled_hub_runs_plans_and_hands_the_rest_to_the_executor(
    two_paths: TwoPaths, registered: dict[str, str], plans_run: list[Any]
) -> None:
    profile = _profile(two_paths, "demo-poverty", "case-management")
    for name, path in (("picture", "compiled"), ("skipping", "directives"), ("mutation", "mutation")):
        case = _case(name)
        # when a shape the compiler follows, a directive and a mutation are sent to both hubs
        plans_run.clear()
        compiled, executor = two_paths.ask_both(profile, registered[case.operation], case.variables)
        # then the compiled hub counts its plan for the first, and the executor's reason for the others
        assert compiled.compiled if path == "compiled" else compiled.executor(path), (name, compiled.paths)
        # and its plans ran (and answered) for the first only; the other hub counts the executor alone
        assert [result is not None for result in plans_run] == ([True] if path == "compiled" else []), name
        assert set(executor.paths) == {(EXECUTOR, "mutation" if name == "mutation" else "unregistered")}, name


def test_apollos_persisted_query_shape_is_answered_alike_by_the_compiled_plan(
    two_paths: TwoPaths, registered: dict[str, str]
) -> None:
    # when a client sends the picture's id in Apollo's extension, to both hubs
    profile = _profile(two_paths, "demo-nanan-civil-affairs", "comparison")
    compiled, executor = two_paths.ask_both(profile, registered[PICTURE.operation], PICTURE.variables, apollo=True)
    # then both answer it alike, the compiled hub by its plan
    assert not differences(compiled, executor)
    assert compiled.compiled and compiled.body["data"]["household"]["members"]


def _ask(two_paths: TwoPaths, registered: dict[str, str], name: str, client_id: str, purpose: str) -> Answer:
    case = _case(name)
    compiled, executor = two_paths.ask_both(
        _profile(two_paths, client_id, purpose), registered[case.operation], case.variables
    )
    assert not differences(compiled, executor)
    return executor


def test_the_cases_reach_what_they_are_about(two_paths: TwoPaths, registered: dict[str, str]) -> None:
    # the picture: all of a household for civil affairs, its phones masked for comparison, withheld fields
    full = _ask(two_paths, registered, "picture", "demo-civil-affairs", "assistance-review")
    assert len(full.body["data"]["household"]["members"]) == 6
    masked = _ask(two_paths, registered, "picture", "demo-civil-affairs", "comparison")
    assert "Person.phone" in masked.events[0]["masked"]
    housing = _ask(two_paths, registered, "picture", "demo-housing", "assistance-review")
    assert housing.body["extensions"]["withheld"]
    # a household outside Nan'an does not exist for the Nan'an client: a miss, as an unknown one is
    assert ANXI_HOUSEHOLD[:6] != NANAN_HOUSEHOLD[:6]
    outside = _ask(two_paths, registered, "picture-elsewhere", "demo-nanan-civil-affairs", "assistance-review")
    unknown = _ask(two_paths, registered, "picture-unknown", "demo-nanan-civil-affairs", "assistance-review")
    assert outside.body == unknown.body == {"data": {"household": None}}
    assert UNKNOWN_HOUSEHOLD != NANAN_HOUSEHOLD and outside.events[0]["outcome"] == unknown.events[0]["outcome"]
    # a diagnosis of the special list is not for education; the entry point of students is for student aid only
    hiv = _ask(two_paths, registered, "person-hiv", "demo-medical", "assistance-review")
    assert NANAN_HIV_PATIENT == hiv.body["data"]["person"]["idNumber"]
    students = _ask(two_paths, registered, "students", "demo-housing", "assistance-review")
    assert students.body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    listed = _ask(two_paths, registered, "students", "demo-student-aid", "student-aid")
    assert listed.body["data"]["eligibleStudents"]["edges"]
    # bad variables are refused before anything runs; a failing department loses its part only
    wrong = _ask(two_paths, registered, "picture-wrong-type", "demo-civil-affairs", "assistance-review")
    assert "data" not in wrong.body and wrong.body["errors"]
    with two_paths.source_failing("disability"):
        failing = _ask(two_paths, registered, "picture-disability-failing", "demo-civil-affairs", "assistance-review")
    assert {error["extensions"]["code"] for error in failing.body["errors"]} == {"SOURCE_UNAVAILABLE"}
    assert failing.body["data"]["household"]["members"]
