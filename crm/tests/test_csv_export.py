"""Every CSV cell is neutralised against spreadsheet formulas by the one helper, whatever its column."""

import csv

import pytest

from crm.csv_export import csv_lines, csv_safe


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", "\uff1dA1", "=A1"],
)
def test_a_cell_that_starts_like_a_formula_is_written_as_text(value):
    assert csv_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["-12.50", "+15550001111", "42", "Ana", "", "a=b"])
def test_numbers_and_plain_text_are_left_as_they_are(value):
    assert csv_safe(value) == value


def test_every_column_of_every_row_is_neutralised():
    lines = list(csv_lines(["id", "=header"], [[1, "=cmd"], [None, "@x"], [-3, "USD"]]))
    rows = list(csv.reader("".join(lines).splitlines()))
    assert rows == [["id", "'=header"], ["1", "'=cmd"], ["", "'@x"], ["-3", "USD"]]
