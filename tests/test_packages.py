"""PyPI has packages named schema, auth, adapters and resolvers: ours must be the ones imported."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("package", ["schema", "auth", "adapters", "resolvers", "aidgraph", "notify"])
def test_package_is_imported_from_this_repository(package: str) -> None:
    # given a package name that also exists on PyPI, when it is imported
    module = importlib.import_module(package)
    # then it is this repository's
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().parent == REPOSITORY / package
