"""The console's two catalogues hold the same keys, and every label a template or page asks for exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aidgraph.console.messages import LANGUAGES, catalogue, language_of

CONSOLE = Path(__file__).parents[2] / "aidgraph" / "console"
_ASKED = re.compile(r"""\bt\(\s*["']([a-z_]+\.[A-Za-z0-9_.-]+)["']\s*[,)]""")


def test_both_languages_hold_the_same_labels() -> None:
    # given the Chinese and the English catalogue
    chinese, english = (catalogue(language).keys() for language in LANGUAGES)
    # then neither holds a label the other lacks
    assert sorted(chinese - english) == [] and sorted(english - chinese) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_label_asked_for_by_name_exists(language: str) -> None:
    # given every literal label named in the templates and the pages
    sources = [*CONSOLE.glob("templates/**/*.html"), *CONSOLE.glob("*.py")]
    asked = {key for path in sources for key in _ASKED.findall(path.read_text(encoding="utf-8"))}
    # then each is in the catalogue
    assert asked, "the scan found no label at all"
    assert sorted(asked - catalogue(language).keys()) == []


def test_an_unknown_label_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(KeyError, match="no message 'base.nothing_like_this'"):
        catalogue("zh")("base.nothing_like_this")


def test_the_language_is_the_asked_one_then_the_cookie_then_chinese() -> None:
    assert language_of(None, None) == "zh"
    assert language_of("en", None) == "en"
    assert language_of("en", "zh") == "zh"
    assert language_of("fr", "xx") == "zh"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_status_kind_and_permission_has_its_label(language: str) -> None:
    # given the labels templates make from a value (`"casework.status_" ~ item.status`)
    from auth.people.users import PERMISSIONS
    from casework.lifecycle import ALERT_STATUSES, ITEM_STATUSES
    from casework.warnings.rules import KINDS

    made = {
        *(f"casework.status_{status}" for status in ITEM_STATUSES),
        *(f"alerts.status_{status}" for status in ALERT_STATUSES),
        *(f"alerts.kind_{kind}" for kind in KINDS),
        *(f"users.permission_{permission}" for permission in PERMISSIONS),
    }
    # then each value has one
    assert sorted(made - catalogue(language).keys()) == []
