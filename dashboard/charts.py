"""Bar charts drawn on the server: the geometry of an SVG (no script, no inline style), which
templates/orders/_bar_chart.html prints. The numbers are always in a table beside it too."""

import math
from dataclasses import dataclass, field
from decimal import Decimal

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 84, 8, 14, 34
MAX_X_LABELS = 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value_text: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class XLabel:
    x: float
    text: str
    anchor: str = "middle"


@dataclass
class BarChart:
    title: str
    description: str
    bars: list = field(default_factory=list)
    ticks: list = field(default_factory=list)
    x_labels: list = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    baseline: float = HEIGHT - BOTTOM
    x_label_y: float = HEIGHT - BOTTOM + 22
    tick_label_x: float = LEFT - 6


def nice_ceiling(value):
    """The smallest of 1, 2, 2.5, 5 × 10^k that is >= value (a round top for the axis); 1 for nothing."""
    if value <= 0:
        return Decimal(1)
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = Decimal(str(step)) * Decimal(10) ** exponent
        if candidate >= value:
            return candidate
    return Decimal(10) ** (exponent + 1)


def _amount(value, money):
    if callable(money):
        return money(value)
    if money:
        return f"{value:,.2f}"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def bar_chart(title, points, *, money=False):
    """A chart of `points`, [(label, value)] oldest first; values are numbers >= 0. `money`: amounts, written
    by that function (the shop's formatter) if one is given."""
    values = [Decimal(str(value)) for _, value in points]
    top = nice_ceiling(max(values, default=Decimal(0)))
    if not money:  # counts: whole numbers on every one of the four grid lines
        top = Decimal(max(4, math.ceil(top / 4) * 4))
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(points), 1)
    chart = BarChart(title=title, description=_description(points, values, money))
    for n, ((label, _), value) in enumerate(zip(points, values, strict=False)):
        height = float(value / top) * plot_height if top else 0.0
        chart.bars.append(
            Bar(
                x=round(LEFT + n * slot + slot * 0.15, 2),
                y=round(HEIGHT - BOTTOM - height, 2),
                width=round(slot * 0.7, 2),
                height=round(height, 2),
                label=label,
                value_text=_amount(value, money),
            )
        )
    for step in range(5):
        value = top * step / 4
        chart.ticks.append(Tick(y=round(HEIGHT - BOTTOM - plot_height * step / 4, 2), label=_amount(value, money)))
    every = max(1, math.ceil(len(points) / MAX_X_LABELS))
    for n, (label, _) in enumerate(points):
        if n == len(points) - 1:  # the newest period, always labelled, ends at the edge rather than past it
            chart.x_labels.append(XLabel(x=WIDTH - RIGHT, text=label, anchor="end"))
        elif (len(points) - 1 - n) % every == 0:
            chart.x_labels.append(XLabel(x=round(LEFT + n * slot + slot / 2, 2), text=label))
    return chart


def _description(points, values, money):
    if not points or not any(values):
        return "Nothing in this period."
    best = max(range(len(values)), key=lambda n: values[n])
    total = sum(values, Decimal(0))
    return (
        f"From {points[0][0]} to {points[-1][0]}: {_amount(total, money)} in all; "
        f"the highest was {points[best][0]} with {_amount(values[best], money)}."
    )
