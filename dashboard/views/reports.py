"""The reports page: orders and revenue per day, week or month (charts and tables), the headline figures,
orders by status and the best-selling items; every table also as CSV."""

from django.shortcuts import render
from django.urls import reverse

from agents import tables
from agents.access import agent_required
from agents.shop import format_date, format_money, shop_of
from crm.csv_export import csv_lines, csv_response, csv_safe
from crm.replicas import reads_from_replica
from dashboard.views.common import bad_request, choice
from orders import reports
from orders.workflow import STATUS_LABELS
from whatsapp.costs import monthly_costs

from ..charts import bar_chart

PERIOD_NAMES = {"day": "Last 30 days", "week": "Last 12 weeks", "month": "Last 12 months"}
TABLES = ("periods", "summary", "statuses", "items")


def period_label(start, period, short=False):
    if period == "day":
        return f"{start.day} {start.strftime('%b')}"
    if period == "week":
        return f"{start.day} {start.strftime('%b')}" if short else f"Week of {start.day} {start.strftime('%b %Y')}"
    return start.strftime("%b") if short else start.strftime("%B %Y")


def duration(hours):
    """3.5 -> "3.5 hours", 30 -> "1 day 6 hours", 0.25 -> "15 minutes"; "—" for no figure."""
    if hours is None:
        return "—"
    if hours < 1:
        minutes = round(hours * 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    if hours < 48:
        return f"{hours:g} hour{'s' if hours != 1 else ''}"
    days, rest = divmod(round(hours), 24)
    return f"{days} days" + (f" {rest} hour{'s' if rest != 1 else ''}" if rest else "")


def percent(ratio):
    return "—" if ratio is None else f"{ratio * 100:.0f}%"


def summary_rows(summary, shop):
    """The headline figures as (label, value shown, value for CSV, explanation); amounts in the CSV are plain
    numbers in the shop's currency (its code is in the meaning)."""
    aov = summary.average_order_value
    return [
        ("Orders", f"{summary.orders:,}", summary.orders, "created in the period, whatever their status"),
        ("Sales", f"{summary.sold_orders:,}", summary.sold_orders, "orders confirmed, not cancelled or refunded"),
        (
            "Revenue",
            format_money(summary.revenue, shop),
            f"{summary.revenue:.2f}",
            f"the total of the sales, in {shop.currency}",
        ),
        (
            "Average sale",
            "—" if aov is None else format_money(aov, shop),
            "" if aov is None else f"{aov:.2f}",
            f"revenue divided by sales, in {shop.currency}",
        ),
        *[
            (
                f"Sales in {currency}",
                f"{count:,}: {format_money(amount, shop, currency)}",
                f"{amount:.2f}",
                f"priced in {currency}, not {shop.currency}: not in the revenue",
            )
            for currency, count, amount in summary.other_currencies
        ],
        (
            "Customers who wrote",
            f"{summary.customers_who_wrote:,}",
            summary.customers_who_wrote,
            "sent you at least one message in the period",
        ),
        (
            "Customers who ordered",
            f"{summary.customers_who_ordered:,}",
            summary.customers_who_ordered,
            "of those, how many bought",
        ),
        (
            "Conversion",
            percent(summary.conversion),
            "" if summary.conversion is None else f"{summary.conversion:.4f}",
            "customers who ordered ÷ who wrote",
        ),
        (
            "Time to first order",
            duration(summary.median_hours_to_first_order),
            "" if summary.median_hours_to_first_order is None else summary.median_hours_to_first_order,
            "median, from a customer's first message to their first order (in hours in the CSV)",
        ),
    ]


def report(agent, period):
    """Everything on the reports page for the last 30 days, 12 weeks or 12 months."""
    _, edges = reports.period_window(period)
    since, until = edges[0], edges[-1]
    shop = shop_of(agent)
    rows = reports.by_period(agent, period)
    summary = reports.summary(agent, since=since, until=until)
    return {
        "period": period,
        "period_name": PERIOD_NAMES[period],
        "rows": [(period_label(row.start, period), row) for row in rows],
        "revenue_chart": bar_chart(
            f"Revenue per {period}, {PERIOD_NAMES[period].lower()}",
            [(period_label(r.start, period, short=True), r.revenue) for r in rows],
            money=lambda value: format_money(value, shop),
        ),
        "orders_chart": bar_chart(
            f"Orders per {period}, {PERIOD_NAMES[period].lower()}",
            [(period_label(r.start, period, short=True), r.orders) for r in rows],
        ),
        "summary": summary,
        "summary_rows": summary_rows(summary, shop),
        "aov": "—" if summary.average_order_value is None else format_money(summary.average_order_value, shop),
        "conversion": percent(summary.conversion),
        "time_to_first_order": duration(summary.median_hours_to_first_order),
        "statuses": [(STATUS_LABELS[row.status], row) for row in reports.by_status(agent, since=since, until=until)],
        "items": reports.top_items(agent, since=since, until=until),
        "since": since,
        "until": until,
        # Always by month (Meta bills by month), over the last 12 months.
        "message_costs": [
            (period_label(month, "month"), costs)
            for month, costs in monthly_costs(tables.for_agent(agent), since=reports.period_window("month")[1][0])
        ],
    }


def sales_this_month(agent, month_start):
    """The home page's sales figures: this month's (the Reports page's are over the last 30 days, 12 weeks
    or 12 months, so the home page names its period), revenue per day over the last 30 days, and the
    WhatsApp carts waiting as draft orders."""
    summary = reports.summary(agent, since=month_start)
    rows = reports.by_period(agent, "day")
    shop = shop_of(agent)
    return {
        "sales": summary,
        "sales_period": f"since {format_date(month_start, shop, 'long')}",
        "cart_drafts": tables.for_agent(agent).Order.objects.filter(source="cart", status="pending").count(),
        "sales_aov": "—" if summary.average_order_value is None else format_money(summary.average_order_value, shop),
        "sales_conversion": percent(summary.conversion),
        "sales_time_to_first_order": duration(summary.median_hours_to_first_order),
        "sales_chart": bar_chart(
            "Revenue per day, last 30 days",
            [(period_label(row.start, "day"), row.revenue) for row in rows],
            money=lambda value: format_money(value, shop),
        ),
    }


@agent_required
@reads_from_replica
def reports_page(request):
    period = choice(request, "period", reports.PERIODS, "day")
    if period is None:
        return bad_request(request, "Reports are by day, week or month.")
    context = report(request.agent, period)
    context.update(
        {
            "section": "reports",
            "periods": [(value, name, reverse("reports") + f"?period={value}") for value, name in PERIOD_NAMES.items()],
            "csv_urls": {table: reverse("report_export") + f"?table={table}&period={period}" for table in TABLES},
        }
    )
    return render(request, "orders/reports.html", context)


@agent_required
@reads_from_replica
def report_export(request):
    """One table of the reports page as CSV: ?table=periods|summary|statuses|items&period=day|week|month."""
    table = request.GET.get("table", "")
    period = choice(request, "period", reports.PERIODS, "day")
    if period is None or table not in TABLES:
        return bad_request(request, "There is no such report.")
    data = report(request.agent, period)
    currency = shop_of(request.agent).currency
    if table == "periods":
        header = ["period_start", "orders", "revenue", "currency"]
        rows = [[row.start.isoformat(), row.orders, f"{row.revenue:.2f}", currency] for _, row in data["rows"]]
    elif table == "summary":
        header = ["figure", "value", "meaning"]
        rows = [[label, value, meaning] for label, _, value, meaning in data["summary_rows"]]
    elif table == "statuses":
        header = ["status", "orders", "value", "currency"]
        rows = [[row.status, row.orders, f"{row.value:.2f}", currency] for _, row in data["statuses"]]
    else:
        header = ["item", "quantity", "revenue", "currency"]
        rows = [[csv_safe(item.name), item.quantity, f"{item.revenue:.2f}", currency] for item in data["items"]]
    return csv_response(csv_lines(header, rows), f"report-{table}-by-{period}")
