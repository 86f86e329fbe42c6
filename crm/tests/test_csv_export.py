"""The one CSV response every download (customers, orders, items, reports) is sent in."""

import zoneinfo

from django.utils import timezone

from crm.csv_export import csv_lines, csv_response


def test_a_download_streams_its_lines_named_for_today_in_the_viewers_zone():
    # At any moment one of these two is on another date than UTC (14 hours ahead, 11 behind).
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        with timezone.override(zoneinfo.ZoneInfo(zone)):
            today = timezone.localdate()
            response = csv_response(csv_lines(["name", "total"], [["Ana", "1.50"]]), "orders")
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == f'attachment; filename="orders-{today.isoformat()}.csv"'
        assert b"".join(response.streaming_content) == b"name,total\r\nAna,1.50\r\n"


def test_a_download_may_keep_another_content_type():
    assert csv_response(iter([]), "customers", content_type="text/csv")["Content-Type"] == "text/csv"
