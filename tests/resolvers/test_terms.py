"""School terms as text: they print as written, and start on the days docs/domain.md gives."""

from __future__ import annotations

import datetime as dt

from resolvers.rules.terms import Term


def test_a_term_prints_as_it_was_written() -> None:
    for text in ("2026-2027-1", "0999-1000-2"):
        assert str(Term.parse(text)) == text
    assert Term.parse("0999-1000-2").start == dt.date(1000, 3, 1)
