"""The rules file is checked on load: every fault names the file and the key, and nothing of a faulty file is used."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from aidgraph.settings import Settings
from casework.warnings.rules import RulesError, default_rules, load_rules, rules_from

GOOD = """
version: "2027.1"
window_months: 6
kinds:
  MEDICAL_COSTS: {threshold_registered_or_monitored: 4000, threshold_other: 15000.5}
  SEVERE_DISABILITY: {grades: [1]}
  TEMPORARY_ASSISTANCE: {causes: [1, 4]}
  INCOME_BELOW_STANDARD: {skip_dibao_households: false}
"""


def test_the_shipped_defaults_are_the_seeds() -> None:
    # when the package's own rules are loaded, then they hold the seeds' thresholds and causes
    rules = default_rules()
    assert rules.window_months == 12
    assert rules.medical_threshold_registered_or_monitored == Decimal(5000)
    assert rules.medical_threshold_other == Decimal(20000)
    assert rules.severe_grades == (1, 2)
    assert rules.temporary_causes == ("ILLNESS", "DISASTER", "ACCIDENT")
    assert rules.skip_dibao_households is True


def test_a_file_named_by_the_setting_replaces_the_defaults(tmp_path: Path) -> None:
    # given a rules file of its own
    path = tmp_path / "rules.yaml"
    path.write_text(GOOD, encoding="utf-8")
    # when it is loaded, then its values are the rules
    rules = rules_from(path)
    assert (rules.version, rules.window_months, rules.medical_threshold_other) == ("2027.1", 6, Decimal("15000.5"))
    assert rules.temporary_causes == ("ILLNESS", "DISASTER")
    assert rules.skip_dibao_households is False
    # and no file named: the defaults
    assert rules_from(None) == default_rules()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("window_months: 6", "window_month: 6"), "rules.yaml / window_month: unknown key"),
        (("threshold_other: 15000.5", "threshold_other: -1"), "MEDICAL_COSTS / threshold_other: must not be negative"),
        (("threshold_other: 15000.5", "threshold_other: lots"), "MEDICAL_COSTS / threshold_other: must be an amount"),
        (("threshold_other: 15000.5", "threshold_others: 1"), "MEDICAL_COSTS / threshold_others: unknown key"),
        (("window_months: 6", "window_months: 0"), "rules.yaml: window_months: must be a whole number"),
        (("window_months: 6", "window_months: true"), "rules.yaml: window_months: must be a whole number"),
        (("causes: [1, 4]", "causes: [1, 8]"), "TEMPORARY_ASSISTANCE / causes: 8 is not a cause code"),
        (("grades: [1]", "grades: [5]"), "SEVERE_DISABILITY / grades: must list disability grades"),
        (("skip_dibao_households: false", "skip_dibao_households: 0"), "skip_dibao_households: must be true or false"),
        (('version: "2027.1"\n', ""), "rules.yaml / version: missing"),
        (("  SEVERE_DISABILITY: {grades: [1]}\n", ""), "rules.yaml: kinds / SEVERE_DISABILITY: missing"),
        (("kinds:", "kinds: [\n"), "rules.yaml: not valid YAML"),
    ],
)
def test_a_faulty_file_is_refused_naming_the_key(change: tuple[str, str], message: str) -> None:
    # given the good file with one fault
    old, new = change
    assert old in GOOD
    text = GOOD.replace(old, new)
    # when it is loaded, then it is refused, and the message names the file and the key
    with pytest.raises(RulesError) as refused:
        load_rules(text, source="rules.yaml")
    assert message in str(refused.value)


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="missing.yaml: cannot be read"):
        rules_from(tmp_path / "missing.yaml")


def test_the_setting_names_the_rules_file() -> None:
    # given AIDGRAPH_WARNING_RULES, then the settings name its file; without it, none (the defaults)
    assert Settings.from_mapping({"AIDGRAPH_WARNING_RULES": "/etc/aidgraph/warnings.yaml"}).warning_rules_file == Path(
        "/etc/aidgraph/warnings.yaml"
    )
    assert Settings.from_mapping({}).warning_rules_file is None
