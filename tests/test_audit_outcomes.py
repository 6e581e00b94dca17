"""Every outcome the audit trail can record is described in docs/access.md, and the docs describe no other.

The outcomes are read from the code: the first argument of each `audit_event(...)` call in the hub's
packages (the one builder of events: tests/auth/test_audit_event.py), resolved as written — a string,
either branch of a conditional, or a module constant (imported or not). An outcome the scan cannot
resolve fails the test, so a new way of naming one cannot slip past it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.auth.test_audit_event import HUB_PACKAGES, ROOT

ACCESS_DOC = ROOT / "docs" / "access.md"
TABLE_HEADING = "The outcomes, and what writes each:"


class Unresolved(Exception):
    pass


def _module_path(module: str) -> Path:
    base = ROOT.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _constant(name: str, path: Path, seen: frozenset[Path] = frozenset()) -> set[str]:
    """The string a module-level name holds in `path`, following `from X import name` across modules."""
    if path in seen or not path.is_file():
        raise Unresolved(f"{name} (looked for in {path.relative_to(ROOT)})")
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return _values(node.value, path)
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            if node.value is not None:
                return _values(node.value, path)
        if isinstance(node, ast.ImportFrom) and node.module and any(alias.name == name for alias in node.names):
            return _constant(name, _module_path(node.module), seen | {path})
    raise Unresolved(f"{name} in {path.relative_to(ROOT)}")


def _values(node: ast.expr, path: Path) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _values(node.body, path) | _values(node.orelse, path)
    if isinstance(node, ast.Name):
        return _constant(node.id, path)
    raise Unresolved(f"{ast.unparse(node)} at {path.relative_to(ROOT)}:{node.lineno}")


def outcomes_in_code() -> dict[str, list[str]]:
    """Each outcome an `audit_event` call can write, with the places that write it."""
    found: dict[str, list[str]] = {}
    for package in HUB_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                callee = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                if callee != "audit_event":
                    continue
                outcome = node.args[0] if node.args else next(k.value for k in node.keywords if k.arg == "outcome")
                for value in _values(outcome, path):
                    found.setdefault(value, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def outcomes_in_docs() -> list[str]:
    """The first column of docs/access.md's outcomes table, in order."""
    text = ACCESS_DOC.read_text(encoding="utf-8")
    table = text[text.index(TABLE_HEADING) :].split("\n\n")[1]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    return [re.match(r"\| `([^`]+)` \|", row).group(1) for row in rows]  # type: ignore[union-attr]


def test_every_outcome_the_code_writes_is_described_and_no_other() -> None:
    # given the outcomes the hub's code can write, and those docs/access.md describes
    written = outcomes_in_code()
    described = outcomes_in_docs()
    # then the scan found the known ones, and the two lists hold the same outcomes, each described once
    assert {"ok", "partial", "refused", "unauthenticated", "export"} <= written.keys()
    assert len(described) == len(set(described))
    undocumented = {outcome: places for outcome, places in written.items() if outcome not in described}
    assert not undocumented, f"outcomes written but not described in {ACCESS_DOC.name}: {undocumented}"
    assert not set(described) - written.keys(), "described in the docs but written by nothing"


def test_an_outcome_the_scan_cannot_read_fails_it() -> None:
    # given an outcome computed in a way the scan does not follow, and a constant that is nowhere
    subscript = ast.parse("outcomes[0]", mode="eval").body
    unknown = ast.parse("NOT_DEFINED", mode="eval").body
    # then each is refused by name and place, never passed over
    with pytest.raises(Unresolved, match=r"outcomes\[0\] at auth/gate.py"):
        _values(subscript, ROOT / "auth" / "gate.py")
    with pytest.raises(Unresolved, match="NOT_DEFINED in auth/gate.py"):
        _values(unknown, ROOT / "auth" / "gate.py")
