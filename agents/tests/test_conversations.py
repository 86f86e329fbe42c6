import datetime as dt

from agents import conversations, tables


def add_message(t, customer, direction, at, **fields):
    message = t.Message.objects.create(customer=customer, message="m", direction=direction, timestamp=at, **fields)
    conversations.note_new_message(t, message)
    return message


def test_new_messages_move_last_activity_forward_and_count_unread(make_agent):
    t = tables.for_agent(make_agent())
    customer = t.Customer.objects.create(name="Ana", phone="+15550000001")
    noon = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)

    add_message(t, customer, "inbound", noon)
    add_message(t, customer, "outbound", noon + dt.timedelta(minutes=5))
    # A message that arrives late (older timestamp) never moves last activity back.
    add_message(t, customer, "inbound", noon - dt.timedelta(hours=1))

    customer.refresh_from_db()
    assert customer.last_message_at == noon + dt.timedelta(minutes=5)
    assert customer.unread_count == 2


def test_reading_a_conversation_marks_inbound_read_and_returns_the_newest_wamid(make_agent):
    t = tables.for_agent(make_agent())
    customer = t.Customer.objects.create(name="Ana", phone="+15550000001")
    other = t.Customer.objects.create(name="Bo", phone="+15550000002")
    noon = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    add_message(t, customer, "inbound", noon, wamid="wamid.old")
    add_message(t, customer, "inbound", noon + dt.timedelta(minutes=1), wamid="wamid.new")
    add_message(t, other, "inbound", noon)

    assert conversations.mark_conversation_read(t, customer) == "wamid.new"

    customer.refresh_from_db()
    other.refresh_from_db()
    assert customer.unread_count == 0 and not t.Message.objects.unread().filter(customer=customer).exists()
    assert other.unread_count == 1
    assert conversations.mark_conversation_read(t, customer) is None


def test_noting_many_messages_at_once_is_the_same_as_noting_each(make_agent):
    noon = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    states = []
    for batched in (False, True):
        t = tables.for_agent(make_agent())
        ana = t.Customer.objects.create(name="Ana", phone="+15550000001")
        bo = t.Customer.objects.create(name="Bo", phone="+15550000002", last_message_at=noon + dt.timedelta(hours=1))
        rows = [
            t.Message(customer=ana, message="m", direction="inbound", timestamp=noon, is_read=False),
            t.Message(
                customer=ana, message="m", direction="outbound", timestamp=noon + dt.timedelta(minutes=5), is_read=True
            ),
            t.Message(
                customer=ana, message="m", direction="inbound", timestamp=noon - dt.timedelta(hours=1), is_read=False
            ),
            t.Message(customer=bo, message="m", direction="inbound", timestamp=noon, is_read=False),
            t.Message(customer=bo, message="m", direction="inbound", timestamp=noon, is_read=True),
        ]
        t.Message.objects.bulk_create(rows)
        if batched:
            conversations.note_new_messages(t, rows)
        else:
            for row in rows:
                conversations.note_new_message(t, row)
        states.append([(c.name, c.last_message_at, c.unread_count) for c in t.Customer.objects.order_by("name")])
    assert (
        states[0]
        == states[1]
        == [
            ("Ana", noon + dt.timedelta(minutes=5), 2),
            ("Bo", noon + dt.timedelta(hours=1), 1),
        ]
    )
    conversations.note_new_messages(t, [])
