"""PyPI has packages named schema, auth, adapters, resolvers and tools: ours must be the ones imported."""

from __future__ import annotations

import ast
import importlib
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
TOP_LEVEL = [
    "schema", "auth", "adapters", "resolvers", "aidgraph", "webhooks", "casework", "registered", "compiled", "tools"
]  # fmt: skip
# The commands that run a tool (`aidgraph demo`, `serve --demo`): the only part of the hub that may import one.
MAY_IMPORT_TOOLS = REPOSITORY / "aidgraph" / "cli"


@pytest.mark.parametrize("package", TOP_LEVEL)
def test_package_is_imported_from_this_repository(package: str) -> None:
    # given a package name that also exists on PyPI, when it is imported
    module = importlib.import_module(package)
    # then it is this repository's
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().parent == REPOSITORY / package


def test_every_package_of_the_repository_is_installed_and_type_checked() -> None:
    # given the packages of this repository, down to their subpackages (the tests are not a package)
    packages = sorted(
        ".".join(path.parent.relative_to(REPOSITORY).parts)
        for top in REPOSITORY.iterdir()
        if (top / "__init__.py").is_file()
        for path in top.rglob("__init__.py")
    )
    # when they are matched against what pyproject.toml installs and what mypy checks
    config = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))
    installed = config["tool"]["setuptools"]["packages"]["find"]["include"]
    checked = config["tool"]["mypy"]["files"]
    # then each is installed with the hub (`aidgraph demo` needs the generator) and checked by mypy
    assert [name for name in packages if not any(fnmatchcase(name, pattern) for pattern in installed)] == []
    assert sorted({name.split(".")[0] for name in packages}) == sorted(checked) == sorted(TOP_LEVEL)
    assert {"tools.demo", "aidgraph"} <= set(packages)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def test_the_hub_does_not_import_the_tools_apart_from_the_commands_that_run_them() -> None:
    # given every module of the hub's packages
    modules = [path for package in TOP_LEVEL if package != "tools" for path in (REPOSITORY / package).rglob("*.py")]
    # when their imports are read
    importing = sorted(
        str(path.relative_to(REPOSITORY))
        for path in modules
        if not path.is_relative_to(MAY_IMPORT_TOOLS)
        and any(name == "tools" or name.startswith("tools.") for name in imported_modules(path))
    )
    # then none imports the demo generator or the throwaway PostgreSQL, and the commands do (the scan reads them)
    assert importing == []
    assert "tools.demo" in imported_modules(MAY_IMPORT_TOOLS / "demo.py")
