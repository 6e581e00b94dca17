"""The departments the hub federates: adding one is its module plus one line here."""

from __future__ import annotations

from adapters import civil_affairs, disability, education, housing, medical, poverty, registry
from adapters.base import Department

DEPARTMENTS: dict[str, Department] = {
    "registry": registry.DEPARTMENT,
    "civil_affairs": civil_affairs.DEPARTMENT,
    "education": education.DEPARTMENT,
    "medical": medical.DEPARTMENT,
    "housing": housing.DEPARTMENT,
    "disability": disability.DEPARTMENT,
    "poverty": poverty.DEPARTMENT,
}


def department(name: str) -> Department:
    try:
        return DEPARTMENTS[name]
    except KeyError:
        known = ", ".join(DEPARTMENTS)
        raise KeyError(f"unknown department {name!r} (known: {known})") from None
