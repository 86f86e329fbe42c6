"""No text a request can carry makes a page fail: every URL of the project, every parameter its view reads.

Each route (discovered from the resolver, as the isolation walk does) is asked, with GET and POST, for each
parameter its view's module or its forms read, set in turn to a NUL byte, a superscript digit, a number past
any column, a date at the end of the calendar, 100,000 characters and bytes that are not UTF-8. Whatever the
answer (a page, a 400 with a sentence, a redirect), it is never a 500 and never a half-sent download.
"""

import ast
import importlib
import importlib.util
import re
import sys
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from crm.tests.test_isolation import add_agent_data, fill

BAD_VALUES = {
    "nul": "a\x00b",
    "superscript digit": "²",
    "huge number": "1" + "0" * 30,
    "end of the calendar": "9999-12-31",
    "long text": "x" * 100_000,
}
INVALID_UTF8 = b"\xff\xfe\xc3("
# Where parameter names are read: request.GET / POST (get, [], getlist), a form's data, and form fields.
READS = re.compile(r"""(?:GET|POST|data)(?:\.get|\.getlist)?[\[(]\s*f?["']([a-z_]+)""")
FORM_FIELD = re.compile(r"^\s+(\w+) = forms\.\w+", re.M)
IMPORTED = re.compile(r"^from (\.*[\w.]*) import ([\w, ]+)", re.M)
# Names no source spells out: Django's login form, and order settings' template-<status>.
ALWAYS = {"username", "password", "next", "template-confirmed", "template-shipped"}


def _names_in(source):
    return set(READS.findall(source)) | set(FORM_FIELD.findall(source))


def parameter_names(view):
    """The names `view`'s module reads, with the fields of the form classes it imports."""
    module = sys.modules[view.__module__]
    source = Path(module.__file__).read_text()
    names = _names_in(source) | ALWAYS
    for base, imported in IMPORTED.findall(source):
        try:
            target = importlib.util.resolve_name(base, module.__package__) if base.startswith(".") else base
        except (ImportError, ValueError):
            continue
        if target.endswith(".forms") and importlib.util.find_spec(target):
            fields = _form_fields(Path(importlib.import_module(target).__file__).read_text())
            for name in (part.strip() for part in imported.split(",")):
                names |= fields.get(name, set())
    return sorted(names - {"csrfmiddlewaretoken"})


def _form_fields(source):
    """{class name: the field names it declares or inherits from a class of the same module} of a forms module.
    Per class: a view is asked only for the fields of the forms it uses, not of every form beside them."""
    classes = {node.name: node for node in ast.parse(source).body if isinstance(node, ast.ClassDef)}

    def fields(name, seen=()):
        node = classes.get(name)
        if node is None or name in seen:
            return set()
        found = _names_in(ast.get_source_segment(source, node))
        for base in node.bases:
            if isinstance(base, ast.Name):
                found |= fields(base.id, (*seen, name))
        return found

    return {name: fields(name) for name in classes}


def _walk(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def pages(ids):
    """(path, parameter names) for every route of the project but the admin, the webhook and static files."""
    for route, view in sorted(_walk(get_resolver()), key=lambda pair: pair[0]):
        if route.startswith(("admin/", "^static", "static/", "whatsapp/", "^media", "media/")):
            continue
        path = fill(route, ids)
        if path is not None:
            yield path, parameter_names(view)


def answer_of(response):
    """The status, after reading a streamed body to its end (a stream that breaks half-way raises here)."""
    if response.streaming:
        b"".join(response.streaming_content)
    return response.status_code


@pytest.fixture
def seller(make_agent, settings, fake_graph):
    settings.WHATSAPP_SANDBOX = True
    agent = make_agent(name="Shop A")
    objects = add_agent_data(
        agent, name="Alice Own", phone="+15558880001", text="A-MESSAGE", item="A-ITEM", snippet="A-SNIPPET", count=1
    )
    ids = {f"{kind}_id": obj.pk for kind, obj in objects.items()}
    ids["media_id"] = "1"
    # A 500 is counted, not raised: one walk lists every page that fails.
    return Seller(Client(raise_request_exception=False), agent.user), ids


class Seller:
    """A test client logged in as the agent's user, logged in again whenever a request logged it out (the
    walk posts to the logout page too), so that every page is tried as the seller."""

    def __init__(self, client, user):
        self.client, self.user = client, user
        client.force_login(user)

    def _again(self, response):
        if "_auth_user_id" not in self.client.session:
            self.client.force_login(self.user)
        return response

    def get(self, *args, **kwargs):
        return self._again(self.client.get(*args, **kwargs))

    def post(self, *args, **kwargs):
        return self._again(self.client.post(*args, **kwargs))


def test_the_walk_finds_the_parameters_views_read(seller):
    _, ids = seller
    found = dict(pages(ids))
    assert len(found) > 30
    assert {"q", "current"} <= set(found["/inbox/rows/"])
    assert {"remove", "item_name", "item_price", "notes"} <= set(found[f"/customers/{ids['customer_id']}/orders/new/"])
    assert {"date_to", "status", "sort"} <= set(found["/orders/"])


@pytest.mark.parametrize("value", BAD_VALUES, ids=list(BAD_VALUES))
def test_no_parameter_value_makes_any_page_fail(seller, value):
    client, ids = seller
    failures = []
    for path, names in pages(ids):
        for name in names:
            for method in (client.get, client.post):
                status = answer_of(method(path, {name: BAD_VALUES[value]}))
                if status >= 500:
                    failures.append(f"{method.__name__.upper()} {path} {name}: {status}")
    assert failures == []


def test_bytes_that_are_not_utf8_make_no_page_fail(seller):
    client, ids = seller
    failures = []
    for path, names in pages(ids):
        for name in names:
            query = f"{name}={quote_from_bytes(INVALID_UTF8)}"
            got = answer_of(client.get(f"{path}?{query}"))
            posted = answer_of(client.post(path, query, content_type="application/x-www-form-urlencoded"))
            if max(got, posted) >= 500:
                failures.append(f"{path} {name}: GET {got}, POST {posted}")
    assert failures == []


def test_a_nul_byte_is_refused_with_a_sentence_before_any_query(seller):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, _ = seller
    with CaptureQueriesContext(connection) as queries:
        response = client.client.get("/inbox/", {"q": "Ana\x00"})
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
    # At most the row scope being put back when the request ends: no table is read.
    assert [q["sql"] for q in queries if "set_config" not in q["sql"]] == []


@pytest.mark.parametrize("text", ["12", "0012"])
def test_a_whole_number_is_ascii_digits_within_its_range(text):
    from crm.inputs import object_id, whole_number

    assert whole_number(text) == 12 and object_id(text) == 12


@pytest.mark.parametrize("text", ["²", "١٢", "1_000", " 12", "12 ", "-1", "0", "+5", "1" + "0" * 30, "", None, 12])
def test_anything_else_is_no_id(text):
    from crm.inputs import object_id

    assert object_id(text) is None


def test_an_order_filter_past_the_calendar_is_refused_with_a_sentence(seller):
    client, _ = seller
    response = client.get("/orders/", {"date_to": "9999-12-31"})
    assert response.status_code == 400 or "between 1900 and 2999" in response.content.decode()
