"""CSV cells cannot start a formula (OWASP CSV injection): the first characters, lists, whitespace, numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from auth.csv_cells import csv_cell, neutralise

DANGEROUS_STARTS = ["=", "+", "-", "@", "\t", "\r"]


@pytest.mark.parametrize("start", DANGEROUS_STARTS)
def test_a_cell_starting_a_formula_gets_a_quote_in_front(start: str) -> None:
    # given text that a spreadsheet would evaluate
    text = f'{start}HYPERLINK("http://attacker.example","点此")'
    # when it becomes a cell, then a single quote comes first and the text follows unchanged
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
@pytest.mark.parametrize("whitespace", [" ", "   ", "\n", " \t", "\u3000"])
def test_a_formula_after_leading_whitespace_is_neutralised_too(start: str, whitespace: str) -> None:
    # given a formula behind whitespace, which a spreadsheet skips when it reads the cell
    text = f"{whitespace}{start}1+1"
    # when it becomes a cell, then it is quoted, whitespace kept
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("start", DANGEROUS_STARTS)
def test_each_part_of_a_list_cell_is_neutralised(start: str) -> None:
    # given a list whose second part starts a formula (a spreadsheet splitting on ';' makes it a cell)
    parts = ["DIBAO", f"{start}cmd|' /C calc'!A0", None, "LOW_INCOME"]
    # when it becomes one cell, then that part alone is quoted, and the parts are joined by ';'
    assert csv_cell(parts) == f"DIBAO;'{start}cmd|' /C calc'!A0;;LOW_INCOME"


@pytest.mark.parametrize("text", ["南安市实验小学", "张*", "350583********123X", "2026-2027-1", "a=b", "x-1", "", " "])
def test_ordinary_text_is_left_as_it_is(text: str) -> None:
    assert csv_cell(text) == text


def test_a_number_is_a_number_and_text_that_looks_like_one_is_text() -> None:
    # given the hub's own numbers, negative ones among them, and text spelling a negative number
    # then the numbers stay numbers a spreadsheet can add up, and the text is neutralised like any other
    assert [csv_cell(-5), csv_cell(-0.5), csv_cell(Decimal("-1322.00")), csv_cell(3)] == ["-5", "-0.5", "-1322.00", "3"]
    assert csv_cell("-5") == "'-5"
    # and a number without digits is text
    assert csv_cell(float("-inf")) == "'-inf"
    assert csv_cell(Decimal("-Infinity")) == "'-Infinity"


def test_flags_and_missing_values() -> None:
    assert [csv_cell(True), csv_cell(False), csv_cell(None), csv_cell([])] == ["1", "0", "", ""]


def test_neutralise_is_what_every_cell_goes_through() -> None:
    # given a value of a type the export does not know, whose text starts a formula
    class Odd:
        def __str__(self) -> str:
            return "=1+1"

    # when it becomes a cell, then it is neutralised like text
    assert csv_cell(Odd()) == neutralise("=1+1") == "'=1+1"
