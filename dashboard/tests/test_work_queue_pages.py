"""The work queue's pages: filters with counts, done and snooze, labels (one and many), notes, the CSV."""

import csv
import datetime as dt
import io
import re

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from agents import conversations, labels
from agents.models import CustomerLabel, CustomerNote, Label
from agents.tests.factories import NOON, customer, message
from crm import rls


def text(response):
    return response.content.decode()


def row_names(response):
    return re.findall(r'class="row-name">([^<]+)<', text(response))


def count_of(response, show):
    return int(re.search(rf'data-count="{show}">(\d+)<', text(response)).group(1))


@pytest.fixture
def queue(seller):
    """Four conversations: one waiting, one answered, one done, one snoozed."""
    t = seller.tables
    people = {}
    for n, name in enumerate(("Waiting", "Answered", "Finished", "Sleeping")):
        people[name] = customer(t, name)
        message(t, people[name], "hello", at=NOON + dt.timedelta(minutes=n))
    message(t, people["Answered"], "hi!", direction="outbound", at=NOON + dt.timedelta(minutes=10))
    conversations.mark_done(t, people["Finished"])
    conversations.snooze(t, people["Sleeping"], conversations.snooze_until("next_week"))
    return people


@pytest.mark.parametrize(
    "show, expected",
    [
        ("needs_reply", ["Waiting"]),
        ("open", ["Answered", "Waiting"]),
        ("done", ["Finished"]),
        ("snoozed", ["Sleeping"]),
        ("all", ["Answered", "Sleeping", "Finished", "Waiting"]),
    ],
)
def test_each_queue_filter_lists_its_conversations_and_every_filter_shows_its_count(seller, queue, show, expected):
    response = seller.client.get(reverse("inbox"), {"show": show})
    assert row_names(response) == expected
    counts = {name: count_of(response, name) for name in ("needs_reply", "open", "done", "snoozed", "unread", "all")}
    assert counts == {"needs_reply": 1, "open": 2, "done": 1, "snoozed": 1, "unread": 4, "all": 4}


def test_filters_and_counts_cost_a_fixed_number_of_queries(seller, queue, django_assert_num_queries):
    t = seller.tables
    label = labels.save_label(seller.agent, name="Paid", colour="green")
    seller.client.get(reverse("home"))
    for n in range(40):
        person = customer(t, f"More {n}")
        message(t, person, "hello", at=NOON + dt.timedelta(hours=1, minutes=n))
        labels.add_label(seller.agent, t, label, [person.pk])
    # Session, user, agents, the shop, counts, labels with theirs, the page, its previews, the rows' labels,
    # the history import's progress.
    for show in ("needs_reply", "open", "done", "snoozed", "unread"):
        with django_assert_num_queries(10):
            seller.client.get(reverse("inbox"), {"show": show})
    # With a label: the label (its customers are a subquery of the page's query).
    with django_assert_num_queries(11):
        response = seller.client.get(reverse("inbox"), {"show": "needs_reply", "label": label.pk})
    assert len(row_names(response)) == 25


def test_marking_done_takes_it_out_of_the_queue_until_the_customer_writes(seller, queue):
    waiting = queue["Waiting"]
    url = reverse("conversation", args=[waiting.pk])
    page = text(seller.client.get(url))
    assert "Mark done" in page and "Needs reply" in page

    response = seller.client.post(reverse("conversation_done", args=[waiting.pk]), {"next": url + "?show=open"})
    assert response.status_code == 302 and response["Location"] == url + "?show=open"
    assert "Reopen" in text(seller.client.get(url))
    assert row_names(seller.client.get(reverse("inbox"), {"show": "needs_reply"})) == []

    message(seller.tables, waiting, "one more thing", at=NOON + dt.timedelta(hours=1))
    assert row_names(seller.client.get(reverse("inbox"), {"show": "needs_reply"})) == ["Waiting"]


def test_a_snooze_ends_when_the_seller_reopens_and_refuses_an_unknown_preset(seller, queue):
    answered = queue["Answered"]
    response = seller.client.post(reverse("conversation_snooze", args=[answered.pk]), {"until": "hour"})
    assert response.status_code == 302
    assert "Answered" in row_names(seller.client.get(reverse("inbox"), {"show": "snoozed"}))

    refused = seller.client.post(reverse("conversation_snooze", args=[answered.pk]), {"until": "forever"})
    assert refused.status_code == 400 and "Choose how long to snooze" in text(refused)

    seller.client.post(reverse("conversation_reopen", args=[answered.pk]))
    assert "Answered" in row_names(seller.client.get(reverse("inbox"), {"show": "open"}))


def test_a_redirect_after_an_action_never_leaves_the_site(seller, queue):
    waiting = queue["Waiting"]
    response = seller.client.post(reverse("conversation_done", args=[waiting.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("conversation", args=[waiting.pk])


def test_the_labels_page_adds_changes_and_deletes_labels(seller):
    response = seller.client.post(reverse("labels"), {"name": "  Pending   payment ", "colour": "orange"})
    assert response.status_code == 302
    label = Label.objects.get(agent=seller.agent)
    assert (label.name, label.colour) == ("Pending payment", "orange")

    taken = seller.client.post(reverse("labels"), {"name": "PENDING PAYMENT", "colour": "red"})
    assert taken.status_code == 400 and "already have a label with this name" in text(taken)
    bad_colour = seller.client.post(reverse("labels"), {"name": "Paid", "colour": "#ff0000"})
    assert bad_colour.status_code == 400 and "Select a valid choice" in text(bad_colour)

    seller.client.post(reverse("label_edit", args=[label.pk]), {"name": "Awaiting payment", "colour": "yellow"})
    label.refresh_from_db()
    assert (label.name, label.colour) == ("Awaiting payment", "yellow")
    seller.client.post(reverse("label_delete", args=[label.pk]))
    assert not Label.objects.filter(agent=seller.agent).exists()


def test_an_agent_has_at_most_twenty_labels_and_is_told_so(seller):
    for n in range(labels.MAX_LABELS):
        labels.save_label(seller.agent, name=f"Stage {n}", colour="green")
    response = seller.client.post(reverse("labels"), {"name": "One too many", "colour": "green"})
    assert response.status_code == 400
    assert "You have 20 labels, the most you can have" in text(response)
    assert Label.objects.filter(agent=seller.agent).count() == labels.MAX_LABELS


def test_labels_set_in_the_conversation_show_as_chips_in_the_inbox_and_filter_it(seller, queue):
    t = seller.tables
    paid = labels.save_label(seller.agent, name="Paid", colour="green")
    vip = labels.save_label(seller.agent, name="VIP", colour="purple")
    waiting = queue["Waiting"]
    seller.client.post(reverse("customer_labels", args=[waiting.pk]), {"labels": [paid.pk, vip.pk]})
    seller.client.post(reverse("customer_labels", args=[waiting.pk]), {"labels": [paid.pk]})
    assert [label.name for label in labels.labels_by_customer(seller.agent, [waiting.pk])[waiting.pk]] == ["Paid"]

    inbox = seller.client.get(reverse("inbox"), {"label": paid.pk})
    assert row_names(inbox) == ["Waiting"]
    assert 'class="chip label-green">Paid<' in text(inbox)
    assert row_names(seller.client.get(reverse("inbox"), {"label": vip.pk})) == []
    unknown = seller.client.get(reverse("inbox"), {"label": "999999"})
    assert unknown.status_code == 400 and "no such inbox filter or label" in text(unknown)
    assert t.Customer.objects.count() == 4


def test_another_agents_label_cannot_be_put_on_a_customer(seller, seller_b, queue):
    theirs = labels.save_label(seller_b.agent, name="Theirs", colour="red")
    waiting = queue["Waiting"]
    response = seller.client.post(reverse("customer_labels", args=[waiting.pk]), {"labels": [theirs.pk]})
    assert response.status_code == 400
    bulk = seller.client.post(
        reverse("customers_label"), {"label": theirs.pk, "action": "add", "customers": [waiting.pk]}
    )
    assert bulk.status_code == 400
    assert not CustomerLabel.objects.filter(label=theirs).exists()


def test_labels_added_in_bulk_from_the_customers_list_filter_it_and_go_in_the_csv(seller, queue):
    paid = labels.save_label(seller.agent, name="Paid", colour="green")
    page = text(seller.client.get(reverse("customer_list")))
    assert 'name="customers"' in page and "Add label" in page

    ids = [queue["Waiting"].pk, queue["Answered"].pk]
    response = seller.client.post(
        reverse("customers_label"), {"label": paid.pk, "action": "add", "customers": [*ids, 2_000_000]}
    )
    assert response.status_code == 302
    assert set(CustomerLabel.objects.filter(label=paid).values_list("customer_id", flat=True)) == set(ids)
    listed = text(seller.client.get(reverse("customer_list"), {"label": paid.pk}))
    assert "Waiting" in listed and "Answered" in listed and "Finished" not in listed

    export = seller.client.get(reverse("customer_export"), {"label": paid.pk})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert rows[0][-1] == "labels" and sorted((row[1], row[-1]) for row in rows[1:]) == [
        ("Answered", "Paid"),
        ("Waiting", "Paid"),
    ]

    seller.client.post(reverse("customers_label"), {"label": paid.pk, "action": "remove", "customers": ids[:1]})
    assert list(CustomerLabel.objects.filter(label=paid).values_list("customer_id", flat=True)) == ids[1:]
    nothing = seller.client.post(reverse("customers_label"), {"label": paid.pk, "action": "add"})
    assert nothing.status_code == 400 and "Tick the customers" in text(nothing)
    garbled = seller.client.post(reverse("customers_label"), {"label": paid.pk, "action": "add", "customers": "²"})
    assert garbled.status_code == 400 and "could not be read" in text(garbled)


def test_notes_show_beside_the_thread_in_time_order_with_their_authors_and_are_never_sent(
    connected_shop, maria, fake_graph
):
    client = connected_shop.client
    url = reverse("note_add", args=[maria.pk])
    client.post(url, {"text": "Prefers delivery after 6 pm"})
    client.post(url, {"text": "Paid by <b>PIX</b>"})
    page = text(client.get(reverse("conversation", args=[maria.pk])))
    first, second = page.index("Prefers delivery after 6 pm"), page.index("Paid by &lt;b&gt;PIX&lt;/b&gt;")
    assert first < second
    assert connected_shop.user.name in page[first:]
    assert fake_graph.sent_messages() == []

    empty = client.post(url, {"text": "   "})
    assert empty.status_code == 400 and "This field is required" in text(empty)
    note = CustomerNote.objects.get(text="Prefers delivery after 6 pm")
    client.post(reverse("note_delete", args=[note.pk]))
    assert list(CustomerNote.objects.values_list("text", flat=True)) == ["Paid by <b>PIX</b>"]


def test_erasing_a_customer_takes_their_labels_and_notes(seller, queue):
    waiting = queue["Waiting"]
    paid = labels.save_label(seller.agent, name="Paid", colour="green")
    labels.add_label(seller.agent, seller.tables, paid, [waiting.pk])
    seller.client.post(reverse("note_add", args=[waiting.pk]), {"text": "a note"})
    seller.client.post(reverse("customer_erase", args=[waiting.pk]), {"confirm": waiting.name})
    assert not CustomerLabel.objects.exists() and not CustomerNote.objects.exists()


@pytest.mark.postgres
def test_labels_and_notes_show_each_agent_only_its_own_rows(seller, seller_b, queue):
    bea = seller_b.agent
    bea_customer = customer(seller_b.tables, "Bea")
    theirs = labels.save_label(bea, name="Theirs", colour="red")
    labels.add_label(bea, seller_b.tables, theirs, [bea_customer.pk])
    CustomerNote.objects.create(agent=bea, customer_id=bea_customer.pk, author_name="Bea", text="B's note")
    labels.save_label(seller.agent, name="Mine", colour="green")
    with rls.agent_scope(seller.agent):
        assert list(Label.objects.values_list("name", flat=True)) == ["Mine"]
        assert CustomerLabel.objects.count() == 0 and CustomerNote.objects.count() == 0
        with connection.cursor() as cursor:
            cursor.execute("UPDATE agent_customer_notes SET text = 'taken' WHERE agent_id = %s RETURNING id", [bea.pk])
            assert cursor.fetchall() == []
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Label.objects.create(agent=bea, name="planted", colour="red")
    with rls.scope(rls.NOBODY):
        assert Label.objects.count() == 0
    assert Label.objects.count() == 2


def test_polling_brings_the_new_counts_with_the_list(seller, queue):
    first = seller.client.get(reverse("inbox"))
    assert count_of(first, "needs_reply") == 1
    message(seller.tables, queue["Answered"], "another question", at=NOON + dt.timedelta(hours=2))
    poll_url = re.search(r'id="inbox-list" class="inbox-list" hx-get="([^"]+)"', text(first)).group(1)
    polled = seller.client.get(poll_url.replace("&amp;", "&"))
    assert polled.status_code == 200
    assert 'id="inbox-filters" class="inbox-filters" hx-swap-oob="true"' in text(polled)
    assert count_of(polled, "needs_reply") == 2


def test_a_customers_archive_carries_their_notes_and_labels(seller, queue):
    import json
    import zipfile

    waiting = queue["Waiting"]
    paid = labels.save_label(seller.agent, name="Paid", colour="green")
    labels.add_label(seller.agent, seller.tables, paid, [waiting.pk])
    seller.client.post(reverse("note_add", args=[waiting.pk]), {"text": "Asked for an invoice"})
    response = seller.client.get(reverse("customer_archive", args=[waiting.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert [note["text"] for note in json.loads(archive.read("notes.json"))] == ["Asked for an invoice"]
    assert json.loads(archive.read("labels.json")) == ["Paid"]


@pytest.mark.postgres
@pytest.mark.django_db(databases=["default", "shard2"])
def test_a_label_filters_the_inbox_of_an_agent_whose_tables_are_on_another_database(make_agent, client):
    from agents import tables

    agent = make_agent(name="Shop on a shard", database="shard2")
    t = tables.for_agent(agent)
    ana, bo = customer(t, "Ana"), customer(t, "Bo")
    for person in (ana, bo):
        message(t, person, "hello")
    paid = labels.save_label(agent, name="Paid", colour="green")
    labels.add_label(agent, t, paid, [bo.pk])
    client.force_login(agent.user)
    assert row_names(client.get(reverse("inbox"), {"label": paid.pk})) == ["Bo"]
    assert "Ana" not in text(client.get(reverse("customer_list"), {"label": paid.pk}))
