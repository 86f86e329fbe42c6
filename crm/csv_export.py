"""CSV downloads: lines streamed one at a time, text cells a spreadsheet will not run as formulas, and
the response every download is sent in."""

import csv
import io
import re
from itertools import chain, islice

from django.http import StreamingHttpResponse
from django.utils import timezone

# What a spreadsheet runs as a formula when a cell starts with it (OWASP's list, with the full-width forms).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def csv_safe(value):
    """A cell a spreadsheet will not run as a formula: text starting like one gets a leading apostrophe.

    Numbers stay numbers, and so does text that is only a number (a negative amount, a phone number in
    E.164): a spreadsheet computes nothing from those. Every other value is written as text.
    """
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        text = str(value)
        if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
            return "'" + text
        return text
    return value


def csv_lines(header, rows):
    """The header, then each row, as CSV text lines (for a StreamingHttpResponse); every cell passes csv_safe,
    whatever its column: a value that came from Meta (a user id, a cart's currency) is as untrusted as one
    a seller typed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values):
        writer.writerow([csv_safe(value) for value in values])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(header)
    for row in rows:
        yield line(row)


# Excel reads a CSV file as UTF-8 only when it starts with a byte order mark; every other program skips it.
BYTE_ORDER_MARK = "\ufeff"


def csv_response(lines, name):
    """A download of CSV `lines` (see csv_lines) named "<name>-<today>.csv", today in the viewer's time zone.

    The header and the first row are read before the response starts, so a query that fails does so while
    an error page can still be answered, not half-way through a file the browser has begun to save.
    """
    lines = iter(lines)
    first = [BYTE_ORDER_MARK + next(lines, ""), *islice(lines, 1)]
    response = StreamingHttpResponse(chain(first, lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.localdate().isoformat()}.csv"'
    return response
