"""CSV downloads: lines streamed one at a time, text cells a spreadsheet will not run as formulas, and
the response every download is sent in."""

import csv
import io

from django.http import StreamingHttpResponse
from django.utils import timezone


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


def csv_response(lines, name, *, content_type="text/csv; charset=utf-8"):
    """A download of CSV `lines` (see csv_lines) named "<name>-<today>.csv", today in the viewer's time zone."""
    response = StreamingHttpResponse(lines, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.localdate().isoformat()}.csv"'
    return response
