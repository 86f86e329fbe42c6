"""Importing products from a CSV file in two steps: a preview that says, row by row, what is wrong and what
will be added or updated, then the import itself, which writes the preview's good rows and nothing else.

    preview = preview_import(agent, raw_bytes)      # writes nothing
    token = preview.token                           # carried by the confirm form (signed, compressed)
    result = apply_import(agent, token)             # ImportResult(added, updated); CatalogImportError when stale

The columns are those of the export (orders.catalog.EXPORT_HEADER), in any order: `name`, `retailer_id`
(or `sku`) and `price` are required; `currency`, `description`, `image_url` and `in_stock` are optional.
"""

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from .catalog import products_of
from .models import Product

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
PREVIEW_MAX_AGE = 60 * 60  # seconds a preview may wait for its confirmation
_SALT = "orders.catalog_import"
REQUIRED = ("name", "retailer_id", "price")
OPTIONAL = ("currency", "description", "image_url", "in_stock")
ALIASES = {"sku": "retailer_id", "retailer id": "retailer_id", "image": "image_url", "image url": "image_url"}
YES = {"yes", "y", "true", "1", "in stock"}
NO = {"no", "n", "false", "0", "out of stock"}
MAX_PRICE = Decimal("999999999999.99")  # the column's 14 digits, 2 of them decimals
LIMITS = {
    "name": Product.NAME_MAX_LENGTH,
    "retailer_id": Product.RETAILER_ID_MAX_LENGTH,
    "description": Product.DESCRIPTION_MAX_LENGTH,
    "image_url": Product.IMAGE_URL_MAX_LENGTH,
}
LABELS = {"name": "The name", "retailer_id": "The SKU", "description": "The description", "image_url": "The image URL"}


class CatalogImportError(ValueError):
    """The file (not a row of it) cannot be imported; str() says why, for the seller."""


@dataclass
class PreviewRow:
    line: int  # the row's line in the file (the header is line 1)
    values: dict
    errors: list = field(default_factory=list)
    action: str = ""  # "add", "update" or "unchanged" when the row has no error


@dataclass
class Preview:
    rows: list
    token: str

    @property
    def errors(self):
        return [row for row in self.rows if row.errors]

    @property
    def to_add(self):
        return [row for row in self.rows if row.action == "add"]

    @property
    def to_update(self):
        return [row for row in self.rows if row.action == "update"]

    @property
    def unchanged(self):
        return [row for row in self.rows if row.action == "unchanged"]


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int


def preview_import(agent, raw):
    """What importing the CSV bytes `raw` would do to the agent's catalog; writes nothing."""
    if len(raw) > MAX_FILE_BYTES:
        raise CatalogImportError(
            f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it into smaller files."
        )
    # Bytes that are not UTF-8 are kept as surrogates, so that the rows holding them can be named.
    text = raw.decode("utf-8-sig", errors="surrogateescape")
    rows = _read_rows(agent, text)
    token = signing.dumps({"agent": agent.pk, "csv": raw.decode("latin-1")}, salt=_SALT, compress=True)
    return Preview(rows, token)


def apply_import(agent, token):
    """Add and update the products of a preview's good rows, checked again against the catalog as it is now."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=PREVIEW_MAX_AGE)
    except signing.SignatureExpired:
        raise CatalogImportError("This preview is more than an hour old; upload the file again.") from None
    except signing.BadSignature:
        raise CatalogImportError("This preview is damaged; upload the file again.") from None
    if not isinstance(data, dict) or data.get("agent") != agent.pk:
        raise CatalogImportError("This preview belongs to another shop; upload the file again.")
    raw = data["csv"].encode("latin-1")
    added = updated = 0
    with transaction.atomic():
        rows = _read_rows(agent, raw.decode("utf-8-sig", errors="surrogateescape"), lock=True)
        existing = {product.retailer_id: product for product in _existing(agent, rows, lock=True)}
        for row in rows:
            if row.action == "add":
                Product.objects.create(agent=agent, **row.values)
                added += 1
            elif row.action == "update":
                product = existing[row.values["retailer_id"]]
                for name, value in row.values.items():
                    setattr(product, name, value)
                product.save()
                updated += 1
    return ImportResult(added, updated)


def _read_rows(agent, text, *, lock=False):
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise CatalogImportError(f"The file is not a CSV file this can read: {error}.") from None
    if header is None:
        raise CatalogImportError("The file is empty.")
    columns = [ALIASES.get(name.strip().lower(), name.strip().lower()) for name in header]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise CatalogImportError(
            f"The first line must name the columns; {', '.join(missing)} missing. "
            f"Columns read: {', '.join(REQUIRED + OPTIONAL)}."
        )
    rows, seen = [], {}
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise CatalogImportError(f"The file has more than {MAX_ROWS:,} products; split it into smaller files.")
            line = reader.line_num
            raw = {name: cells[index] if index < len(cells) else "" for index, name in enumerate(columns)}
            row = _clean_row(line, raw)
            sku = row.values.get("retailer_id")
            if sku and not row.errors:
                if sku in seen:
                    row.errors.append(f"The SKU {sku} is already on line {seen[sku]}.")
                else:
                    seen[sku] = line
            rows.append(row)
    except csv.Error as error:
        raise CatalogImportError(f"Line {reader.line_num} cannot be read as CSV: {error}.") from None
    existing = {product.retailer_id: product for product in _existing(agent, rows, lock=lock)}
    for row in rows:
        if row.errors:
            continue
        product = existing.get(row.values["retailer_id"])
        if product is None:
            row.action = "add"
        elif any(getattr(product, name) != value for name, value in row.values.items()):
            row.action = "update"
        else:
            row.action = "unchanged"
    return rows


def _existing(agent, rows, *, lock):
    skus = [row.values["retailer_id"] for row in rows if not row.errors]
    products = products_of(agent).filter(retailer_id__in=skus)
    return products.select_for_update() if lock else products


def _clean_row(line, raw):
    row = PreviewRow(line, {})
    if any(_not_utf8(value) for value in raw.values()):
        row.errors.append("This line has bytes that are not UTF-8 text; save the file as “CSV UTF-8” and try again.")
        return row
    if any("\x00" in value for value in raw.values()):
        row.errors.append("This line contains a NUL character (\\0), which no field accepts.")
        return row
    values = {name: (raw.get(name) or "").strip() for name in REQUIRED + OPTIONAL}
    if not values["name"]:
        row.errors.append("The name is missing.")
    if not values["retailer_id"]:
        row.errors.append("The SKU is missing.")
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            row.errors.append(f"{LABELS[name]} has {len(values[name]):,} characters; at most {limit:,}.")
    price = _price(values["price"], row.errors)
    currency = values["currency"].upper()
    if currency and not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
        row.errors.append(f"The currency {values['currency']!r} is not a three-letter code such as EUR.")
    if values["image_url"] and len(values["image_url"]) <= LIMITS["image_url"]:
        try:
            URLValidator(schemes=["http", "https"])(values["image_url"])
        except ValidationError:
            row.errors.append("The image URL is not a web address (http:// or https://).")
    in_stock = values["in_stock"].lower()
    if in_stock and in_stock not in YES | NO:
        row.errors.append(f"In stock must be yes or no, not {values['in_stock']!r}.")
    row.values = {
        "name": values["name"],
        "retailer_id": values["retailer_id"],
        "price": price,
        "currency": currency,
        "description": values["description"],
        "image_url": values["image_url"],
        "in_stock": in_stock not in NO,
    }
    return row


def _price(text, errors):
    if not text:
        errors.append("The price is missing.")
        return None
    try:
        price = Decimal(text.replace(",", "") if text.count(".") == 1 else text)
    except InvalidOperation:
        errors.append(f"The price {text!r} is not a number such as 12.50.")
        return None
    if not price.is_finite():
        errors.append(f"The price {text!r} is not a number such as 12.50.")
    elif price < 0:
        errors.append("The price cannot be negative.")
    elif price > MAX_PRICE:
        errors.append(f"The price {text} is larger than {MAX_PRICE:,}.")
    elif price != price.quantize(Decimal("0.01")):
        errors.append(f"The price {text} has more than two decimals.")
    else:
        return price.quantize(Decimal("0.01"))
    return None


def _not_utf8(value):
    return any("\udc80" <= character <= "\udcff" for character in value)
