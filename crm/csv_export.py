"""CSV downloads: lines streamed one at a time, and text cells a spreadsheet will not run as formulas."""

import csv
import io


def csv_safe(value):
    """A text cell a spreadsheet will not run as a formula (=, +, -, @ at the start)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_lines(header, rows):
    """The header, then each row, as CSV text lines (for a StreamingHttpResponse)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values):
        writer.writerow(values)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(header)
    for row in rows:
        yield line(row)
