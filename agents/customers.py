"""An agent's customers: finding them, adding one, renaming, the profile picture.

Each write is one function that owns its transaction. Phones are stored in E.164
(crm.phones.to_e164), unique per agent.
"""

import functools
import io
import posixpath
import re
import secrets
from urllib.parse import urlsplit

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.db.models import DecimalField, Q
from django.http import Http404
from PIL import Image, ImageOps, UnidentifiedImageError

from crm.phones import to_e164

PAGE_SIZE = 50
NAME_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 254
ADDRESS_MAX_LENGTH = 500
NOTES_MAX_LENGTH = 2000
PICTURE_MAX_BYTES = 5 * 1024 * 1024
PICTURE_SIZE = 256  # pixels, square
PICTURE_NAME = re.compile(r"avatar-[0-9a-f]{16}\.jpg")
MONEY = DecimalField(max_digits=14, decimal_places=2)


class DuplicatePhone(ValidationError):
    def __init__(self, existing):
        super().__init__(
            {"phone": ValidationError(f"{existing.name} already has the number {existing.phone}.", code="duplicate")}
        )
        self.existing = existing


def phone_digits(search):
    """The digits of a search that looks like (part of) a phone number, else None."""
    digits = re.sub(r"[\s().+-]", "", search)
    return digits if len(digits) >= 3 and digits.isascii() and digits.isdigit() else None


@functools.lru_cache(maxsize=4096)
def display_phone(phone):
    """+14155550100 -> +1 415-555-0100 (the number's international format), else as stored."""
    try:
        number = phonenumbers.parse(phone, None)
    except (phonenumbers.NumberParseException, TypeError):
        return phone or ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def reach_line(customer):
    """How the customer is reached, for pages: their number, and their WhatsApp username when they have one.

    A customer known only by a business-scoped user id (kept in `phone`) has no number to show.
    """
    username = f"@{customer.username.lstrip('@')}" if getattr(customer, "username", None) else ""
    if customer.phone.startswith("+"):
        return " · ".join(filter(None, [display_phone(customer.phone), username]))
    return " · ".join(filter(None, [username, "no phone number shared"]))


def first_name(customer):
    """The first word of the customer's name, or "" when no name is known: the name is empty, or only
    their number or WhatsApp user id (what a customer is called until a profile name arrives)."""
    name = (customer.name or "").strip()
    if (
        not name
        or name in (customer.phone, customer.wa_user_id, getattr(customer, "username", None))
        or phone_digits(name)
    ):
        return ""
    return name.split()[0]


def get_customer_or_404(agent_tables, customer_id):
    """The agent's customer with this id; another agent's id is simply not found here."""
    customer = agent_tables.Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise Http404("No such customer.")
    return customer


def clean_name(name):
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError("Enter the customer's name.", code="required")
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            f"The name can be at most {NAME_MAX_LENGTH} characters (this one has {len(name):,}).", code="max_length"
        )
    return name


def add_customer(agent_tables, *, name, phone):
    """Create a customer.

    Raises ValidationError keyed by field for a bad name or phone, DuplicatePhone when another
    customer has the number.
    """
    errors = {}
    try:
        name = clean_name(name)
    except ValidationError as error:
        errors["name"] = error
    try:
        phone = to_e164(phone)
    except ValidationError as error:
        errors["phone"] = error
    if errors:
        raise ValidationError(errors)
    Customer = agent_tables.Customer
    try:
        with transaction.atomic(using=agent_tables.database):
            return Customer.objects.create(name=name, phone=phone)
    except IntegrityError:
        existing = Customer.objects.filter(phone=phone).first()
        if existing is None:
            raise
        raise DuplicatePhone(existing) from None


def clean_details(*, email, address, notes):
    """The customer's email, saved address and notes, checked (empty ones become None); raises ValidationError
    keyed by field, saying each limit."""
    errors, cleaned = {}, {}
    email = (email or "").strip()
    if email:
        try:
            EmailValidator()(email)
        except ValidationError:
            errors["email"] = ValidationError("Enter an email address like name@example.com.", code="invalid")
    for field, value, limit in (
        ("email", email, EMAIL_MAX_LENGTH),
        ("address", (address or "").strip(), ADDRESS_MAX_LENGTH),
        ("notes", (notes or "").strip(), NOTES_MAX_LENGTH),
    ):
        if len(value) > limit:
            errors.setdefault(
                field,
                ValidationError(f"At most {limit:,} characters, please (this has {len(value):,}).", code="max_length"),
            )
        cleaned[field] = value or None
    if errors:
        raise ValidationError(errors)
    return cleaned


def save_customer_details(agent_tables, customer, *, name, email="", address="", notes=""):
    """Set the customer's name, email, saved address and notes; raises ValidationError keyed by field."""
    errors = {}
    try:
        name = clean_name(name)
    except ValidationError as error:
        errors["name"] = error
    try:
        details = clean_details(email=email, address=address, notes=notes)
    except ValidationError as error:
        errors.update(error.error_dict)
    if errors:
        raise ValidationError(errors)
    agent_tables.Customer.objects.filter(pk=customer.pk).update(name=name, **details)
    customer.name = name
    for field, value in details.items():
        setattr(customer, field, value)
    return customer


def _picture_folder(agent_tables, customer):
    return f"agents/{agent_tables.agent_id}/customers/{customer.pk}"


def picture_storage_name(agent_tables, customer):
    """The storage name of the customer's uploaded picture, or None when it has none of ours."""
    if not customer.profile_image_url:
        return None
    filename = posixpath.basename(urlsplit(customer.profile_image_url).path)
    if not PICTURE_NAME.fullmatch(filename):
        return None
    return f"{_picture_folder(agent_tables, customer)}/{filename}"


def set_profile_picture(agent_tables, customer, upload):
    """Store an uploaded image as the customer's picture: checked, cropped square, re-encoded as JPEG.

    Re-encoding keeps only pixels: nothing else in the uploaded file reaches other browsers.
    """
    if upload.size > PICTURE_MAX_BYTES:
        raise ValidationError("The picture is too large: up to 5 MB, please.", code="too_large")
    try:
        with Image.open(upload) as image:
            image.load()
            if image.width * image.height > 40_000_000:
                raise ValidationError("The picture has too many pixels.", code="too_large")
            square = ImageOps.fit(ImageOps.exif_transpose(image).convert("RGB"), (PICTURE_SIZE, PICTURE_SIZE))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ValidationError(
            "That file is not a picture we can read (use JPEG, PNG, GIF or WebP).", code="invalid"
        ) from error
    encoded = io.BytesIO()
    square.save(encoded, format="JPEG", quality=85)

    old_name = picture_storage_name(agent_tables, customer)
    name = default_storage.save(
        f"{_picture_folder(agent_tables, customer)}/avatar-{secrets.token_hex(8)}.jpg", ContentFile(encoded.getvalue())
    )
    customer.profile_image_url = default_storage.url(name)
    agent_tables.Customer.objects.filter(pk=customer.pk).update(profile_image_url=customer.profile_image_url)
    if old_name:
        transaction.on_commit(lambda: default_storage.delete(old_name), using=agent_tables.database)
    return customer


def remove_profile_picture(agent_tables, customer):
    old_name = picture_storage_name(agent_tables, customer)
    customer.profile_image_url = None
    agent_tables.Customer.objects.filter(pk=customer.pk).update(profile_image_url=None)
    if old_name:
        transaction.on_commit(lambda: default_storage.delete(old_name), using=agent_tables.database)
    return customer


def search_customers(agent_tables, search):
    customers = agent_tables.Customer.objects.all()
    search = " ".join((search or "").split())
    if search:
        match = Q(name__icontains=search) | Q(username__icontains=search.removeprefix("@"))
        digits = phone_digits(search)
        if digits:
            match |= Q(phone__contains=digits)
        customers = customers.filter(match)
    return customers
