"""The order pages' forms: an order's line items (as the agent types them), and the orders list's filters."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.utils import timezone

from agents.tables import ORDER_STATUSES
from crm.inputs import date_in_range, whole_number

from .listing import OrderFilters
from .placing import (
    MAX_ITEMS,
    OrderError,
    clean_amount,
    clean_discount,
    clean_line_item,
    delivery_fee,
    discount_of,
    totals_of,
)
from .workflow import STATUS_LABELS

MAX_NOTES_LENGTH = 2000
MAX_ADDRESS_LENGTH = 500


@dataclass
class ItemRow:
    """One line of the item editor as typed: the raw texts, and what is wrong with them."""

    name: str = ""
    quantity: str = "1"
    price: str = ""
    error: str = ""
    product_retailer_id: str = ""
    # Read out of a message but matched to nothing: the number of the unmatched phrase the seller picks for.
    unmatched: int | None = None

    @property
    def is_blank(self):
        return not self.name.strip() and not self.price.strip() and self.quantity.strip() in ("", "1")

    @property
    def line(self):
        """The LineItem of a line typed right, else None."""
        try:
            return clean_line_item(self.name or "item", self.quantity, self.price)
        except OrderError:
            return None

    @property
    def total(self):
        """quantity × price to show beside a line typed right, else None; never what is stored."""
        line = self.line
        return None if line is None else line.total


DISCOUNT_CHOICES = [("", "No discount"), ("amount", "An amount"), ("percent", "A percent of the items")]


class OrderForm:
    """An order's line items, delivery fee, discount, notes and shipping address, as the item editor posts them.

    Items come as parallel lists `item_name`, `item_quantity`, `item_price` (one entry per row, in
    order); rows left blank are dropped. Whatever the browser computed (line totals, a total) is not
    read: orders.placing computes every total from quantities, prices, the fee and the discount.
    Nothing typed is cut short: what is too long is refused with its limit.
    """

    def __init__(self, data=None, *, order=None, items=None, shipping_address=""):
        self.data = data
        self.errors = []
        self.items = []
        self.discount = None
        self.delivery_fee, self.discount_type, self.discount_value = "", "", ""
        if data is not None:
            names, quantities = data.getlist("item_name"), data.getlist("item_quantity")
            prices, products = data.getlist("item_price"), data.getlist("item_product")
            count = min(max(len(names), len(quantities), len(prices)), MAX_ITEMS + 1)

            def at(values, index, default=""):
                return str(values[index]) if index < len(values) else default

            self.rows = [
                ItemRow(at(names, n), at(quantities, n, "1"), at(prices, n), "", at(products, n)) for n in range(count)
            ]
            self.notes = data.get("notes", "")
            self.shipping_address = data.get("shipping_address", "")
            self.delivery_fee = data.get("delivery_fee", "")
            self.discount_type = data.get("discount_type", "")
            self.discount_value = data.get("discount_value", "")
        elif order is not None:
            self.rows = [
                ItemRow(item.name, str(item.quantity), f"{item.price:.2f}", "", item.product_retailer_id or "")
                for item in items
                if item.kind != "fee"
            ]
            fee = sum((item.total for item in items if item.kind == "fee"), Decimal("0"))
            self.delivery_fee = f"{fee:.2f}" if fee else ""
            discount = discount_of(order)
            if discount:
                self.discount_type, self.discount_value = discount.type, f"{discount.value:.2f}"
            self.notes = order.notes or ""
            self.shipping_address = order.shipping_address or ""
        else:
            self.rows, self.notes, self.shipping_address = [], "", shipping_address
        if not self.rows:
            self.rows = [ItemRow()]
        self.discount_choices = DISCOUNT_CHOICES

    @classmethod
    def from_proposal(cls, proposal, *, shipping_address=""):
        """The form filled with an order read out of a message (orders.reading): each matched line with the
        candidate's name and price, each unmatched one as the customer wrote it, its price left to the seller."""
        form = cls(shipping_address=shipping_address)
        rows = []
        for line in proposal.lines[:MAX_ITEMS]:
            if line.matched:
                price = "" if line.candidate.price is None else f"{line.candidate.price:.2f}"
                rows.append(ItemRow(line.candidate.name, str(line.quantity), price, "", line.candidate.retailer_id))
            else:
                number = len([row for row in rows if row.unmatched is not None])
                rows.append(ItemRow(line.item_as_written, str(line.quantity), unmatched=number))
        form.rows = rows or [ItemRow()]
        return form

    def add_row(self):
        if len(self.rows) < MAX_ITEMS:
            self.rows.append(ItemRow())

    def remove_row(self, index):
        if 0 <= index < len(self.rows):
            del self.rows[index]
        if not self.rows:
            self.rows = [ItemRow()]

    def edit_rows(self):
        """Add or remove a line as the posted button asks (without JavaScript, a round trip that saves
        nothing); False when the form was posted to be saved."""
        if "add" in self.data:
            self.add_row()
        elif "remove" in self.data:
            row = whole_number(self.data["remove"], maximum=MAX_ITEMS)
            if row is not None:
                self.remove_row(row)
        else:
            return False
        return True

    @property
    def estimated_total(self):
        """The total of the rows typed right so far, with the fee and discount when they are right; None
        while no row is."""
        lines = [row.line for row in self.rows if not row.is_blank and row.total is not None]
        if not lines:
            return None
        try:
            fee = delivery_fee(clean_amount(self.delivery_fee, "the delivery fee"))
            return totals_of(
                [*lines, *filter(None, [fee])], clean_discount(self.discount_type, self.discount_value)
            ).total
        except OrderError:
            return totals_of(lines).total

    def is_valid(self):
        """Check every row (each keeps its own error) and the texts; fills self.items when all is well."""
        self.errors, self.items = [], []
        rows = [row for row in self.rows if not row.is_blank]
        if len(rows) > MAX_ITEMS:
            self.errors.append(f"An order holds at most {MAX_ITEMS} items.")
        for row in rows:
            try:
                self.items.append(clean_line_item(row.name, row.quantity, row.price, row.product_retailer_id or None))
            except OrderError as error:
                row.error = error.message
        if not rows:
            self.errors.append("Add at least one item: its name, quantity and unit price.")
        elif any(row.error for row in rows):
            self.errors.append("Some items need fixing (see below).")
        self._clean_money()
        self.notes, self.shipping_address = self.notes.strip(), self.shipping_address.strip()
        if len(self.notes) > MAX_NOTES_LENGTH:
            self.errors.append(f"Notes can be at most {MAX_NOTES_LENGTH:,} characters.")
        if len(self.shipping_address) > MAX_ADDRESS_LENGTH:
            self.errors.append(f"The shipping address can be at most {MAX_ADDRESS_LENGTH} characters.")
        if self.errors:
            self.items = []
        return not self.errors

    def _clean_money(self):
        """The delivery fee (a fee line among the items) and the discount, each checked; errors are added."""
        try:
            fee = delivery_fee(clean_amount(self.delivery_fee, "the delivery fee"))
        except OrderError as error:
            self.errors.append(error.message)
            fee = None
        try:
            self.discount = clean_discount(self.discount_type, self.discount_value)
        except OrderError as error:
            self.errors.append(error.message)
        if fee:
            self.items.append(fee)
        if not self.errors and self.items:
            try:
                totals_of(self.items, self.discount)
            except OrderError as error:
                self.errors.append(error.message)


STATUS_CHOICES = [
    ("all", "All"),
    ("open", "Open (not delivered, cancelled or refunded)"),
    ("drafts", "Cart drafts to review"),
    *[(status, STATUS_LABELS[status]) for status in ORDER_STATUSES],
]
SORT_CHOICES = [
    ("newest", "Newest first"),
    ("oldest", "Oldest first"),
    ("total_high", "Highest total"),
    ("total_low", "Lowest total"),
    ("updated", "Recently updated"),
]


class OrderFilterForm(forms.Form):
    """The orders list's filters; a bad value is shown on the page, never a 500."""

    status = forms.ChoiceField(label="Status", choices=STATUS_CHOICES, required=False)
    customer = forms.CharField(
        label="Customer",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or phone"}),
    )
    customer_id = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    sort = forms.ChoiceField(label="Sort by", choices=SORT_CHOICES, required=False)

    def clean(self):
        cleaned = super().clean()
        cleaned["status"] = cleaned.get("status") or "all"
        cleaned["sort"] = cleaned.get("sort") or "newest"
        cleaned["customer"] = (cleaned.get("customer") or "").strip()
        for name in ("date_from", "date_to"):
            if cleaned.get(name) is not None and date_in_range(cleaned[name]) is None:
                self.add_error(name, "Choose a date between 1900 and 2999.")
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def created_range(self):
        """[since, until) of the chosen dates, from midnight to midnight in the viewer's time zone."""
        start, end = self.cleaned_data.get("date_from"), self.cleaned_data.get("date_to")
        zone = timezone.get_current_timezone()
        since = dt.datetime.combine(start, dt.time.min, tzinfo=zone) if start else None
        until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone) if end else None
        return since, until

    def filters(self):
        """The valid form's choices, as the orders list reads them."""
        data = self.cleaned_data
        since, until = self.created_range()
        return OrderFilters(
            status=data["status"],
            customer=data["customer"],
            customer_id=data.get("customer_id"),
            since=since,
            until=until,
            sort=data["sort"],
        )

    def query(self):
        """The filters as query parameters (without empty ones), for links that keep them."""
        keep = {}
        for name in ("status", "customer", "customer_id", "date_from", "date_to", "sort"):
            value = self.cleaned_data.get(name)
            if value in (None, "", "all", "newest"):
                continue
            keep[name] = value.isoformat() if isinstance(value, dt.date) else value
        return keep
