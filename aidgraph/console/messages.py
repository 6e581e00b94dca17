"""The console's words: one catalogue per language, Simplified Chinese by default, English by choice.

A catalogue is a folder `messages/<language>/` of YAML files, one per page group (`base.yaml`,
`signin.yaml`, `casework.yaml`, ...), each mapping short keys to text; a key is named by its file
and its own name (`signin.password`). Both languages must hold the same keys (a test compares
them), so a label can never be missing in one of them; asking for an unknown key is an error, not
an empty label.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Final

import yaml

LANGUAGES: Final = ("zh", "en")
DEFAULT_LANGUAGE: Final = "zh"
_FOLDER: Final = Path(__file__).parent / "messages"


class Messages:
    """One language's catalogue: `t("signin.title")`, `t("casework.items_shown", count=3)`."""

    def __init__(self, language: str, texts: Mapping[str, str]) -> None:
        self.language = language
        self._texts = texts

    def __call__(self, key: str, /, **values: object) -> str:
        try:
            text = self._texts[key]
        except KeyError:
            raise KeyError(f"no message {key!r} in the {self.language} catalogue") from None
        return text.format_map(values) if values else text

    def keys(self) -> frozenset[str]:
        return frozenset(self._texts)


@cache
def catalogue(language: str) -> Messages:
    if language not in LANGUAGES:
        raise ValueError(f"no catalogue for language {language!r}")
    texts: dict[str, str] = {}
    for path in sorted((_FOLDER / language).glob("*.yaml")):
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, text in loaded.items():
            texts[f"{path.stem}.{key}"] = str(text)
    return Messages(language, texts)


def language_of(cookie: str | None, asked: str | None) -> str:
    """The page's language: asked for in the address (`?lang=en`), else the visitor's cookie, else Chinese."""
    for choice in (asked, cookie):
        if choice in LANGUAGES:
            return choice
    return DEFAULT_LANGUAGE
