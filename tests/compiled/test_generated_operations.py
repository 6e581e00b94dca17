"""Operations drawn at random from the schema answer and are recorded alike by the compiled plan and the executor.

Each drawn operation (tests/compiled/generated.py) is registered, then sent by its id under every demo
access profile to both hubs, on SQLite and PostgreSQL. The drawing is derandomized (the same examples
in every run, so CI is reproducible) and keeps no example database in the repository.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, assume, given, settings

from tests.compiled.generated import Generated, operations, problems
from tests.compiled.paths import COMPILED, TwoPaths, differences

# About 28 requests per example and backend (14 profiles, two hubs): this many keeps the differential
# suite within its budget on a 2-core machine.
EXAMPLES = 20


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    # No shrinking: each example costs a few hundred requests, and a failing one is reported as drawn.
    phases=[Phase.explicit, Phase.generate],
)
@given(operation=operations())
def test_generated_operations_answer_and_record_alike(two_paths: TwoPaths, operation: Generated) -> None:
    # given an operation drawn from the schema, valid against it, and registered
    assume(not problems(operation.text))
    [document_id] = two_paths.register(operation.text).values()
    # when every demo access profile sends it by id to both hubs
    found = []
    for profile in two_paths.profiles:
        compiled, executor = two_paths.ask_both(profile, document_id, operation.variables)
        # then both answer and record alike, the compiled hub by its plan, the other by the executor
        found += [f"{profile}: {difference}" for difference in differences(compiled, executor)]
        if not compiled.compiled:
            found.append(f"{profile}: the compiled hub did not run the compiled plan: {dict(compiled.paths)}")
        if (COMPILED, "") in executor.paths:
            found.append(f"{profile}: the executor's hub ran a compiled plan")
    assert not found, f"on {two_paths.backend}:\n" + "\n".join(found)
