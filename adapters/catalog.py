"""The departments the hub federates: adding one is its module plus one line here."""

from __future__ import annotations

from collections import UserDict
from collections.abc import Callable, Mapping

from adapters import civil_affairs, disability, education, housing, medical, poverty, registry
from adapters.base import Department


class Catalog(UserDict[str, Department]):
    """The departments by name, and whatever is derived from them (auth.labels) follows every change.

    So a department registered after import (as a test does: `monkeypatch.setitem(DEPARTMENTS, ...)`)
    is in every table derived from the catalog, and gone again when it is removed.
    """

    def __init__(self, departments: Mapping[str, Department]) -> None:
        self._followers: list[Callable[[], None]] = []
        super().__init__(departments)

    def follow(self, derive: Callable[[], None]) -> None:
        """Call `derive` now, and again after every change of the catalog."""
        self._followers.append(derive)
        derive()

    def __setitem__(self, name: str, department: Department) -> None:
        super().__setitem__(name, department)
        self._changed()

    def __delitem__(self, name: str) -> None:
        super().__delitem__(name)
        self._changed()

    def _changed(self) -> None:
        for derive in self._followers:
            derive()


DEPARTMENTS = Catalog(
    {
        "registry": registry.DEPARTMENT,
        "civil_affairs": civil_affairs.DEPARTMENT,
        "education": education.DEPARTMENT,
        "medical": medical.DEPARTMENT,
        "housing": housing.DEPARTMENT,
        "disability": disability.DEPARTMENT,
        "poverty": poverty.DEPARTMENT,
    }
)


def department(name: str) -> Department:
    try:
        return DEPARTMENTS[name]
    except KeyError:
        known = ", ".join(DEPARTMENTS)
        raise KeyError(f"unknown department {name!r} (known: {known})") from None
