"""CSV downloads: lines streamed one at a time, and text cells a spreadsheet will not run as formulas."""

import csv
import io
import re

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
