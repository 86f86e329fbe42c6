"""The one CSV helper: every cell neutralised against spreadsheet formulas, whatever its column, and the one
response every download (customers, orders, items, reports) is sent in."""

import csv
import zoneinfo

import pytest
from django.utils import timezone

from crm.csv_export import csv_lines, csv_response, csv_safe


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


def test_a_download_streams_its_lines_named_for_today_in_the_viewers_zone():
    # At any moment one of these two is on another date than UTC (14 hours ahead, 11 behind).
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        with timezone.override(zoneinfo.ZoneInfo(zone)):
            today = timezone.localdate()
            response = csv_response(csv_lines(["name", "total"], [["Ana", "1.50"]]), "orders")
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == f'attachment; filename="orders-{today.isoformat()}.csv"'
        assert b"".join(response.streaming_content) == "\ufeffname,total\r\nAna,1.50\r\n".encode()


def test_a_download_starts_with_a_byte_order_mark_for_excel():
    response = csv_response(csv_lines(["name"], [["Ana"]]), "customers")
    assert b"".join(response.streaming_content).startswith("\ufeffname".encode())


def test_a_query_that_fails_fails_before_the_download_starts():
    def rows():
        raise RuntimeError("the database refused the query")
        yield

    with pytest.raises(RuntimeError):
        csv_response(csv_lines(["name"], rows()), "customers")
