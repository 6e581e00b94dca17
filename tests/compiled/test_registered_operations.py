"""The registered test operations answer and are recorded alike by the compiled plan and by the executor.

Every case (tests/compiled/operations.py) is sent by its id under every demo access profile (each demo
client with each of its purposes) to both hubs, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from contextlib import nullcontext

import pytest

from tests.compiled.operations import CASES, Case
from tests.compiled.paths import COMPILED, Answer, TwoPaths, differences


def ask_every_profile(two_paths: TwoPaths, document_id: str, case: Case) -> dict[str, tuple[Answer, Answer]]:
    answers = {}
    with two_paths.source_failing(case.failing) if case.failing else nullcontext():
        for profile in two_paths.profiles:
            answers[str(profile)] = two_paths.ask_both(profile, document_id, case.variables)
    return answers


def path_problems(case: Case, compiled: Answer, executor: Answer) -> list[str]:
    """Which path each hub took, where it is not the one expected: the compiled hub's is the case's."""
    problems = []
    if case.path == "" and not compiled.compiled:
        problems.append(f"the compiled hub did not run the compiled plan: {dict(compiled.paths)}")
    if case.path and not compiled.executor(case.path):
        problems.append(f"the compiled hub did not hand it to the executor ({case.path}): {dict(compiled.paths)}")
    if (COMPILED, "") in executor.paths:
        problems.append("the executor's hub ran a compiled plan")
    return problems


def cases() -> list[object]:
    """Every case; one the paths are known to disagree on is a strict xfail, so its fix is noticed."""
    return [
        pytest.param(case, id=case.name, marks=pytest.mark.xfail(strict=True, reason=case.disagrees))
        if case.disagrees
        else pytest.param(case, id=case.name)
        for case in CASES
    ]


@pytest.mark.parametrize("case", cases())
def test_both_paths_answer_and_record_alike(two_paths: TwoPaths, registered: dict[str, str], case: Case) -> None:
    # given a registered operation
    document_id = registered[case.operation]
    # when every demo access profile sends it by id, to the compiled hub and to the executor's
    answers = ask_every_profile(two_paths, document_id, case)
    # then each profile gets the same status and body from both, both record the same events,
    # and each hub took the path it should
    problems = [
        f"{profile}: {problem}"
        for profile, (compiled, executor) in answers.items()
        for problem in differences(compiled, executor) + path_problems(case, compiled, executor)
    ]
    assert not problems, f"{case.name} on {two_paths.backend}:\n" + "\n".join(problems)
