"""The early-warning rules file: YAML, versioned, checked on load like the access policy.

The hub ships `default_rules.yaml`; `AIDGRAPH_WARNING_RULES` names another file. Every fault is
reported with the file and the key it is at (`rules.yaml: kinds / MEDICAL_COSTS / threshold_other:
must not be negative`), and nothing of a faulty file is used: a scan never runs on half a rule set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml

from adapters import civil_affairs

MEDICAL_COSTS: Final = "MEDICAL_COSTS"
SEVERE_DISABILITY: Final = "SEVERE_DISABILITY"
TEMPORARY_ASSISTANCE: Final = "TEMPORARY_ASSISTANCE"
INCOME_BELOW_STANDARD: Final = "INCOME_BELOW_STANDARD"
KINDS: Final = (MEDICAL_COSTS, SEVERE_DISABILITY, TEMPORARY_ASSISTANCE, INCOME_BELOW_STANDARD)
"""The stable codes of the alert kinds, in the order a scan reports them."""

DEFAULT_FILE: Final = "default_rules.yaml"


class RulesError(ValueError):
    """A rules file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class WarningRules:
    version: str
    window_months: int
    medical_threshold_registered_or_monitored: Decimal  # yuan, alert above (not at)
    medical_threshold_other: Decimal
    severe_grades: tuple[int, ...]
    temporary_causes: tuple[str, ...]  # the causes as stored (vocabulary names: ILLNESS, …)
    skip_dibao_households: bool

    def thresholds(self) -> dict[str, Any]:
        """The parameters as JSON, for showing what a scan ran with."""
        return {
            "version": self.version,
            "window_months": self.window_months,
            MEDICAL_COSTS: {
                "threshold_registered_or_monitored": str(self.medical_threshold_registered_or_monitored),
                "threshold_other": str(self.medical_threshold_other),
            },
            SEVERE_DISABILITY: {"grades": list(self.severe_grades)},
            TEMPORARY_ASSISTANCE: {"causes": list(self.temporary_causes)},
            INCOME_BELOW_STANDARD: {"skip_dibao_households": self.skip_dibao_households},
        }


# The keys a file may have, at each level: anything else is a typo the file's author must hear of.
_TOP: Final = ("version", "window_months", "kinds")
_KIND_KEYS: Final[Mapping[str, tuple[str, ...]]] = {
    MEDICAL_COSTS: ("threshold_registered_or_monitored", "threshold_other"),
    SEVERE_DISABILITY: ("grades",),
    TEMPORARY_ASSISTANCE: ("causes",),
    INCOME_BELOW_STANDARD: ("skip_dibao_households",),
}


def load_rules(text: str, *, source: str = "rules") -> WarningRules:
    """Parse and check a rules file; every key must be present, known and of its type."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RulesError(f"{source}: not valid YAML: {error}") from None
    top = _mapping(document, source, _TOP)
    kinds = _mapping(top["kinds"], f"{source}: kinds", tuple(_KIND_KEYS))
    by_kind = {kind: _mapping(kinds[kind], f"{source}: kinds / {kind}", keys) for kind, keys in _KIND_KEYS.items()}
    version = top["version"]
    if isinstance(version, bool) or not isinstance(version, str | int | float) or not str(version).strip():
        raise RulesError(f'{source}: version: must be a version such as "2026.1", not {version!r}')
    months = top["window_months"]
    if not _whole(months) or months < 1:
        raise RulesError(f"{source}: window_months: must be a whole number of months, at least 1, not {months!r}")
    medical = by_kind[MEDICAL_COSTS]
    where = f"{source}: kinds / {MEDICAL_COSTS}"
    return WarningRules(
        version=str(version).strip(),
        window_months=months,
        medical_threshold_registered_or_monitored=_amount(
            medical["threshold_registered_or_monitored"], f"{where} / threshold_registered_or_monitored"
        ),
        medical_threshold_other=_amount(medical["threshold_other"], f"{where} / threshold_other"),
        severe_grades=_grades(by_kind[SEVERE_DISABILITY]["grades"], f"{source}: kinds / {SEVERE_DISABILITY} / grades"),
        temporary_causes=_causes(
            by_kind[TEMPORARY_ASSISTANCE]["causes"], f"{source}: kinds / {TEMPORARY_ASSISTANCE} / causes"
        ),
        skip_dibao_households=_flag(
            by_kind[INCOME_BELOW_STANDARD]["skip_dibao_households"],
            f"{source}: kinds / {INCOME_BELOW_STANDARD} / skip_dibao_households",
        ),
    )


def default_rules() -> WarningRules:
    text = resources.files("casework.warnings").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")
    return load_rules(text, source=DEFAULT_FILE)


def rules_from(path: Path | None) -> WarningRules:
    """The rules a setting names (AIDGRAPH_WARNING_RULES), or the shipped defaults when it names none."""
    if path is None:
        return default_rules()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesError(f"{path}: cannot be read: {error.strerror or error}") from None
    return load_rules(text, source=str(path))


def _mapping(value: Any, where: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise RulesError(f"{where}: expected a mapping with the keys {', '.join(keys)}")
    unknown = [key for key in value if key not in keys]
    if unknown:
        raise RulesError(f"{where} / {unknown[0]}: unknown key (known here: {', '.join(keys)})")
    missing = [key for key in keys if key not in value]
    if missing:
        raise RulesError(f"{where} / {missing[0]}: missing")
    return value


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _amount(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RulesError(f"{where}: must be an amount in yuan, not {value!r}")
    amount = Decimal(str(value))
    if amount < 0:
        raise RulesError(f"{where}: must not be negative, not {value!r}")
    if amount != amount.quantize(Decimal("0.01")):
        raise RulesError(f"{where}: an amount in yuan has at most 2 decimals, not {value!r}")
    return amount


def _grades(value: Any, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value or not all(_whole(grade) and 1 <= grade <= 4 for grade in value):
        raise RulesError(f"{where}: must list disability grades 1 to 4, not {value!r}")
    return tuple(sorted(set(value)))


def _causes(value: Any, where: str) -> tuple[str, ...]:
    # Written as the department writes them (jzyy 1, 4, 5), kept as the store keeps them (ILLNESS, …).
    known = civil_affairs.CAUSE
    if not isinstance(value, list) or not value:
        raise RulesError(f"{where}: must list cause codes ({', '.join(known)}), not {value!r}")
    causes = []
    for code in value:
        if isinstance(code, bool) or str(code) not in known:
            raise RulesError(f"{where}: {code!r} is not a cause code ({', '.join(known)})")
        causes.append(known[str(code)].name)
    return tuple(dict.fromkeys(causes))


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise RulesError(f"{where}: must be true or false, not {value!r}")
    return value
