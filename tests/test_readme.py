"""The README's examples, run as written against a served demo, answer what the README shows.

One demo is served for the module, as the quickstart serves it: `.venv/bin/aidgraph serve --demo` in
an empty folder (the embedded SQLite store, the default demo), on a free port. Every `sh` block of
the README that shows its output (a `json` block right after it, or `# {...}` lines in it) is an
example. They run in order in one shell, as a user pastes them, with the lines a user fills in
filled in: `HUB=` set to the address served, and each `NAME=...   # printed by serve --demo for
CLIENT` set to the secret the server printed for CLIENT. Outputs are compared as JSON, value by
value, `asOf` too: the demo stamps its files with the demo's day.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.served import Served, hub_environment, served

README = Path(__file__).resolve().parents[1] / "README.md"
FENCED = re.compile(r"^```(\w*)\n(.*?)^```\n", re.DOTALL | re.MULTILINE)
SHOWN_OUTPUT = re.compile(r"^# ([\[{].*)$", re.MULTILINE)
FILLED_SECRET = re.compile(r"^(\w+)=\.\.\.\s+# printed by serve --demo for ([\w.-]+)$", re.MULTILINE)
PRINTED_SECRET = re.compile(r"^\s+([\w.-]+)\s+role .* secret (\S+)$", re.MULTILINE)
HUB_LINE = re.compile(r"^HUB=\S+", re.MULTILINE)
DEMO_SIZE = re.compile(r"\(Quanzhou,\s+([\d,]+) households,\s+([\d,]+) persons")
INGESTED = re.compile(r"^  (households|persons)\.csv +\d+ +(\d+) ", re.MULTILINE)
BETWEEN = "\x1e"  # printed between the examples' outputs, so that each is compared with its own


@dataclass(frozen=True)
class Example:
    line: int
    script: str
    shown: list[Any]
    one_document: bool  # shown as one JSON block, rather than one JSON value per line

    @property
    def name(self) -> str:
        return f"README.md:{self.line}"


def readme_examples(text: str) -> list[Example]:
    blocks = list(FENCED.finditer(text))
    examples = []
    for position, block in enumerate(blocks):
        if block.group(1) != "sh":
            continue
        after = blocks[position + 1] if position + 1 < len(blocks) else None
        line = text.count("\n", 0, block.start()) + 1
        if after is not None and after.group(1) == "json" and not text[block.end() : after.start()].strip():
            examples.append(Example(line, block.group(2), [json.loads(after.group(2))], True))
        elif lines := SHOWN_OUTPUT.findall(block.group(2)):
            examples.append(Example(line, block.group(2), [json.loads(shown) for shown in lines], False))
    return examples


TEXT = README.read_text(encoding="utf-8")
EXAMPLES = readme_examples(TEXT)


def as_a_user_fills_it_in(script: str, hub: Served, secrets: dict[str, str]) -> str:
    script = HUB_LINE.sub(f"HUB={hub.base_url}", script)
    return FILLED_SECRET.sub(lambda line: f"{line.group(1)}={secrets[line.group(2)]}", script)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Served]]:
    """The quickstart's hub: its folder holds `.venv` (this one) and nothing else before it starts."""
    folder = tmp_path_factory.mktemp("readme")
    (folder / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    # As on a terminal: the secrets are printed as they are made, not when a buffer fills.
    environment = {"PYTHONUNBUFFERED": "1"}
    with served("--demo", environment=environment, cwd=folder, command=[".venv/bin/aidgraph"]) as hub:
        yield folder, hub


@pytest.fixture(scope="module")
def answered(demo: tuple[Path, Served]) -> dict[str, Any]:
    """Each example's output, by name, from one shell that ran them all in order."""
    folder, hub = demo
    secrets = dict(PRINTED_SECRET.findall(hub.output))
    assert "demo-civil-affairs" in secrets, hub.output
    script = f"\nprintf '\\n{BETWEEN}\\n'\n".join(
        as_a_user_fills_it_in(example.script, hub, secrets) for example in EXAMPLES
    )
    done = subprocess.run(
        ["bash", "-c", script], cwd=folder, env=hub_environment({}), capture_output=True, text=True, timeout=300
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    outputs = done.stdout.split(f"\n{BETWEEN}\n")
    assert len(outputs) == len(EXAMPLES), done.stdout
    return {example.name: output for example, output in zip(EXAMPLES, outputs, strict=True)}


def test_the_readme_shows_the_examples_that_matter_each_with_its_output() -> None:
    # given the README's examples
    scripts = [example.script for example in EXAMPLES]
    # then the first query, the Annex 2 query and the export (both ways) are among them
    for needed in (
        "household(householdNumber:",
        "keyTargetDistribution",
        "/students/export",
        "aidgraph students export",
    ):
        assert any(needed in script for script in scripts), f"no README example with output runs {needed}"
    # and every block that talks to the served hub shows what it answers, so none runs unchecked
    talking = [block.group(2) for block in FENCED.finditer(TEXT) if block.group(1) == "sh" and "$HUB" in block.group(2)]
    assert talking == [script for script in scripts if "$HUB" in script]
    # and what a user fills in is there to fill: the address once, and secrets named by client
    assert len(HUB_LINE.findall(TEXT)) == 1
    assert {client for _, client in FILLED_SECRET.findall(TEXT)} == {"demo-civil-affairs", "demo-student-aid"}


def test_the_demo_is_served_as_the_quickstart_says(demo: tuple[Path, Served]) -> None:
    # given what `serve --demo` printed as it started
    _, hub = demo
    # then it loaded the demo city the quickstart describes, and named the address it serves
    match = DEMO_SIZE.search(TEXT)
    assert match is not None, "the quickstart no longer says how big the demo is"
    households, persons = (int(count.replace(",", "")) for count in match.groups())
    assert dict(INGESTED.findall(hub.output)) == {"households": str(households), "persons": str(persons)}
    assert f"aidgraph: serving on {hub.base_url}/graphql" in hub.output


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.name)
def test_each_example_answers_what_the_readme_shows(example: Example, answered: dict[str, Any]) -> None:
    # when the example has run, after those before it, against the served demo
    output = answered[example.name]
    # then its answer is the one shown, as JSON
    if example.one_document:
        got = [json.loads(output)]
    else:
        got = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert got == example.shown
