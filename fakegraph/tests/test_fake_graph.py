"""The fake Graph API itself: Meta's shapes, signed webhooks, status progression, the control API."""

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from fakegraph.server import FakeGraphAPI
from whatsapp import graph


def payloads(receiver):
    return [json.loads(body) for _, body in receiver.received]


def test_a_customer_message_is_posted_signed_in_metas_shape(fake_graph, webhook_receiver, settings):
    fake_graph.register_phone_number(
        "1001", display_phone_number="+1 555 010 0001", business_account_id="2002", webhook_url=webhook_receiver.url
    )

    wamid = fake_graph.customer_sends("1001", "+14155550123", name="John Carter", text="Open on Sunday?")
    assert fake_graph.wait_for_webhooks()

    [(headers, body)] = webhook_receiver.received
    expected = "sha256=" + hmac.new(settings.WHATSAPP_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == expected
    payload = json.loads(body)
    assert payload["object"] == "whatsapp_business_account"
    [entry] = payload["entry"]
    assert entry["id"] == "2002"
    [change] = entry["changes"]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["metadata"] == {"display_phone_number": "15550100001", "phone_number_id": "1001"}
    assert value["contacts"] == [{"profile": {"name": "John Carter"}, "wa_id": "14155550123"}]
    [message] = value["messages"]
    assert message["from"] == "14155550123" and message["id"] == wamid
    assert message["type"] == "text" and message["text"] == {"body": "Open on Sunday?"}
    assert message["timestamp"].isdigit()


def test_a_customer_image_carries_a_media_id_the_app_can_download(fake_graph, webhook_receiver):
    fake_graph.webhook_url = webhook_receiver.url
    media_id = fake_graph.add_media(b"\xff\xd8\xff jpeg", "image/jpeg")

    fake_graph.customer_sends("1001", "14155550123", media_id=media_id, caption="This one")
    fake_graph.wait_for_webhooks()

    [message] = payloads(webhook_receiver)[0]["entry"][0]["changes"][0]["value"]["messages"]
    assert message["type"] == "image"
    assert message["image"]["id"] == media_id and message["image"]["caption"] == "This one"
    assert message["image"]["mime_type"] == "image/jpeg"
    client = graph.GraphClient("t")
    assert client.download_media(client.get_media(media_id).url).content == b"\xff\xd8\xff jpeg"


def test_a_sent_message_moves_sent_delivered_then_read_when_the_customer_looks(fake_graph, webhook_receiver):
    fake_graph.webhook_url = webhook_receiver.url
    client = graph.GraphClient("t")
    wamid = client.send_message(
        "1001", {"messaging_product": "whatsapp", "to": "14155550123", "type": "text", "text": {"body": "Yes, 10-16"}}
    )["messages"][0]["id"]
    fake_graph.wait_for_webhooks()

    fake_graph.customer_reads("1001", "+14155550123")
    fake_graph.wait_for_webhooks()

    statuses = [p["entry"][0]["changes"][0]["value"]["statuses"][0] for p in payloads(webhook_receiver)]
    assert [(s["id"], s["status"]) for s in statuses] == [(wamid, "sent"), (wamid, "delivered"), (wamid, "read")]
    assert all(s["recipient_id"] == "14155550123" for s in statuses)
    [shown] = fake_graph.conversation("1001", "14155550123")
    assert (shown["text"], shown["status"], shown["from_customer"]) == ("Yes, 10-16", "read", False)


def test_marking_a_customer_message_read_gives_it_blue_ticks_on_their_phone(fake_graph):
    first = fake_graph.customer_sends("1001", "14155550123", text="one")
    second = fake_graph.customer_sends("1001", "14155550123", text="two")
    fake_graph.customer_sends("1001", "14155550123", text="three")

    graph.GraphClient("t").mark_read("1001", second)

    statuses = {m["wamid"]: m["status"] for m in fake_graph.conversation("1001", "14155550123")}
    assert statuses[first] == statuses[second] == "read"
    assert list(statuses.values())[-1] == "delivered"


def test_an_unapproved_or_unknown_template_is_refused_like_meta(fake_graph):
    client = graph.GraphClient("t")
    body = {
        "messaging_product": "whatsapp",
        "to": "14155550123",
        "type": "template",
        "template": {"name": "spring_sale", "language": {"code": "en_US"}},
    }

    with pytest.raises(graph.GraphRequestError) as raised:
        client.send_message("1001", body)
    assert raised.value.code == 132001


def test_a_template_with_the_wrong_number_of_parameters_is_refused(fake_graph):
    body = {
        "messaging_product": "whatsapp",
        "to": "14155550123",
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Maria"}]}],
        },
    }

    with pytest.raises(graph.GraphRequestError) as raised:
        graph.GraphClient("t").send_message("1001", body)
    assert raised.value.code == 132000


def test_a_template_shows_with_its_values_on_the_customers_phone(fake_graph):
    body = {
        "messaging_product": "whatsapp",
        "to": "14155550123",
        "type": "template",
        "template": {
            "name": "items_on_hold",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "parameter_name": "first_name", "text": "John"},
                        {"type": "text", "parameter_name": "date", "text": "Monday"},
                    ],
                }
            ],
        },
    }

    graph.GraphClient("t").send_message("1001", body)

    [shown] = fake_graph.conversation("1001", "14155550123")
    assert shown["text"].startswith("Hello John, we are holding your items until Monday.")


@pytest.mark.parametrize(
    "body, code",
    [
        ({"to": "1", "type": "text", "text": {"body": "x"}}, 100),
        ({"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}}, 100),
        ({"messaging_product": "whatsapp", "to": "1", "type": "text"}, 100),
        ({"messaging_product": "whatsapp", "to": "1", "type": "text", "text": {"body": " "}}, 100),
        ({"messaging_product": "whatsapp", "to": "1", "type": "text", "text": {"body": "x" * 4097}}, 100),
        ({"messaging_product": "whatsapp", "to": "1", "type": "image", "image": {"id": "404"}}, 131009),
        ({"messaging_product": "whatsapp", "to": "1", "type": "image", "image": {}}, 131008),
        ({"messaging_product": "whatsapp", "status": "read"}, 100),
    ],
)
def test_bad_message_requests_get_metas_parameter_errors(fake_graph, body, code):
    with pytest.raises(graph.GraphRequestError) as raised:
        graph.GraphClient("t").send_message("1001", body)
    assert raised.value.code == code


def test_calls_without_a_token_are_refused(fake_graph):
    response = requests.post(f"{fake_graph.url}/v24.0/1001/messages", json={}, timeout=5)
    assert response.status_code == 401 and response.json()["error"]["code"] == 190


@pytest.mark.parametrize("method, path", [("GET", "/v24.0/1/2/3"), ("GET", "/nope"), ("PUT", "/v24.0/1")])
def test_unknown_endpoints_answer_like_graph(fake_graph, method, path):
    response = requests.request(method, fake_graph.url + path, headers={"Authorization": "Bearer t"}, timeout=5)
    assert response.status_code in (400, 501)


def test_deleting_media(fake_graph):
    media_id = fake_graph.add_media(b"x", "text/plain")
    headers = {"Authorization": "Bearer t"}

    assert requests.delete(f"{fake_graph.url}/v24.0/{media_id}", headers=headers, timeout=5).json() == {"success": True}
    assert requests.delete(f"{fake_graph.url}/v24.0/{media_id}", headers=headers, timeout=5).status_code == 400


def test_failures_can_be_limited_to_one_endpoint(fake_graph):
    fake_graph.fail_next(1, "190", path="/messages")
    client = graph.GraphClient("t")

    client.list_message_templates("2002")
    with pytest.raises(graph.GraphAuthError):
        client.mark_read("1001", "wamid.x")


def test_failures_can_be_kept_for_message_sends_alone(fake_graph):
    fake_graph.fail_next(1, "500", sends_only=True)
    client = graph.GraphClient("t")
    client.mark_read("1001", "wamid.x")
    client.upload_media("1001", b"hello", "text/plain", "a.txt")

    assert fake_graph.failures and client.send_message(
        "1001", {"messaging_product": "whatsapp", "to": "1", "type": "text", "text": {"body": "x"}}
    )
    assert not fake_graph.failures
    assert len(fake_graph.calls("/messages")) == 3  # the read receipt, then the send tried twice


def test_a_send_can_be_accepted_and_reported_failed_later_as_meta_does(fake_graph, webhook_receiver):
    fake_graph.webhook_url = webhook_receiver.url
    fake_graph.fail_next(1, "131026", later=True)
    client = graph.GraphClient("t")
    client.mark_read("1001", "wamid.x")  # not a send: untouched

    wamid = client.send_message(
        "1001", {"messaging_product": "whatsapp", "to": "1", "type": "text", "text": {"body": "x"}}
    )["messages"][0]["id"]
    fake_graph.wait_for_webhooks()

    [status] = payloads(webhook_receiver)[0]["entry"][0]["changes"][0]["value"]["statuses"]
    assert (status["id"], status["status"]) == (wamid, "failed")
    [error] = status["errors"]
    assert (error["code"], error["title"]) == (131026, "Message Undeliverable")
    assert error["error_data"]["details"].startswith("Unable to deliver message.")
    assert len(payloads(webhook_receiver)) == 1  # no sent or delivered for it


def test_an_unknown_failure_kind_is_refused(fake_graph):
    with pytest.raises(ValueError, match="unknown failure"):
        fake_graph.fail_next(1, "418")
    with pytest.raises(ValueError, match="unknown failure"):
        fake_graph.fail_next(1, "timeout", later=True)


TEXT = {"messaging_product": "whatsapp", "to": "15550001111", "type": "text", "text": {"body": "x"}}


def test_refused_connections_time_out_a_clients_connect_and_nothing_reaches_the_fake(fake_graph):
    fake_graph.refuse_connections(0.5)

    with pytest.raises(requests.ConnectTimeout):
        requests.post(f"{fake_graph.url}/v24.0/1001/messages", json=TEXT, timeout=(0.1, 1))
    assert fake_graph.requests == [] and fake_graph.accepted_messages() == []

    time.sleep(0.5)
    assert (
        requests.post(
            f"{fake_graph.url}/v24.0/1001/messages", json=TEXT, timeout=(0.5, 1), headers={"Authorization": "Bearer t"}
        ).status_code
        == 200
    )
    assert fake_graph.injected == {"connect_timeout": 1}


def test_a_send_can_be_accepted_and_never_answered(fake_graph):
    fake_graph.fail_next(1, "timeout_after_accepting", delay=0.5)
    client = graph.GraphClient("t")
    client.mark_read("1001", "wamid.x")  # not a send: answered

    with pytest.raises(requests.ReadTimeout):
        requests.post(
            f"{fake_graph.url}/v24.0/1001/messages",
            json=TEXT,
            timeout=(0.5, 0.2),
            headers={"Authorization": "Bearer t"},
        )

    [accepted] = fake_graph.accepted_messages()
    assert accepted["answer_withheld"] and accepted["text"] == "x"
    assert fake_graph.conversation("1001", "15550001111")[0]["wamid"] == accepted["wamid"]


def test_failing_at_random_fails_about_the_share_asked_with_the_kinds_asked(fake_graph):
    fake_graph.fail_at_random(0.25, errors=("500", "429"), seed=7, retry_after=("3",))

    answers = [
        requests.post(
            f"{fake_graph.url}/v24.0/1001/messages", json=TEXT, timeout=2, headers={"Authorization": "Bearer t"}
        )
        for _ in range(200)
    ]

    failed = [answer for answer in answers if answer.status_code != 200]
    assert 30 <= len(failed) <= 70
    assert {answer.status_code for answer in failed} == {500, 429}
    assert {answer.headers["Retry-After"] for answer in failed if answer.status_code == 429} == {"3"}
    assert sum(fake_graph.injected.values()) == len(failed)
    assert len(fake_graph.accepted_messages()) == 200 - len(failed)
    with pytest.raises(ValueError, match="unknown failures"):
        fake_graph.fail_at_random(0.2, errors=("418",))


def test_the_control_api_drives_a_conversation_from_another_process(fake_graph, webhook_receiver):
    control = fake_graph.url + "/_fake"
    assert requests.post(
        f"{control}/phone_numbers",
        json={
            "phone_number_id": "1001",
            "display_phone_number": "15550100001",
            "webhook_url": webhook_receiver.url,
        },
        timeout=5,
    ).ok
    media_id = requests.post(
        f"{control}/media", data=b"\x89PNG...", headers={"Content-Type": "image/png"}, timeout=5
    ).json()["id"]
    sent = requests.post(
        f"{control}/customer_messages",
        json={
            "phone_number_id": "1001",
            "wa_id": "14155550123",
            "name": "John",
            "media_id": media_id,
            "caption": "pic",
        },
        timeout=5,
    ).json()
    requests.post(f"{control}/failures", json={"count": 2, "error": "500"}, timeout=5)

    assert requests.get(f"{control}/failures", timeout=5).json()["pending"] == [
        {"error": "500", "path": "", "sends_only": False, "later": False},
        {"error": "500", "path": "", "sends_only": False, "later": False},
    ]
    assert requests.delete(f"{control}/failures", timeout=5).json() == {"pending": []}
    assert requests.get(f"{control}/media/{media_id}", timeout=5).content == b"\x89PNG..."
    assert requests.get(f"{control}/media/404", timeout=5).status_code == 404
    messages = requests.get(
        f"{control}/conversation", params={"phone_number_id": "1001", "wa_id": "14155550123"}, timeout=5
    ).json()["messages"]
    assert [m["wamid"] for m in messages] == [sent["wamid"]]
    assert requests.post(
        f"{control}/customer_reads", json={"phone_number_id": "1001", "wa_id": "14155550123"}, timeout=5
    ).ok
    assert (
        requests.post(f"{control}/media", data=b"GIF", headers={"Content-Type": "image/gif"}, timeout=5).status_code
        == 400
    )
    assert requests.post(f"{control}/failures", json={}, timeout=5).status_code == 400
    assert requests.get(f"{control}/requests", timeout=5).json() == {"requests": []}
    assert requests.post(f"{control}/reset", timeout=5).json() == {"success": True}
    assert requests.get(f"{control}/nothing", timeout=5).status_code == 404


def test_a_webhook_the_app_refuses_is_retried_and_recorded(fake_graph):
    fake_graph.webhook_url = fake_graph.url + "/_fake/nothing"  # answers 404

    fake_graph.customer_sends("1001", "14155550123", text="hi")
    fake_graph.wait_for_webhooks()

    [delivery] = fake_graph.deliveries
    assert delivery["status"] == 404


def test_a_customer_message_needs_text_or_known_media(fake_graph):
    with pytest.raises(ValueError):
        fake_graph.customer_sends("1001", "14155550123")
    with pytest.raises(ValueError):
        fake_graph.customer_sends("1001", "14155550123", media_id="404")


def test_the_server_can_be_started_and_stopped_on_its_own():
    fake = FakeGraphAPI(app_secret="s").start()
    assert requests.post(f"{fake.url}/_fake/reset", timeout=5).ok
    fake.stop()


def test_the_run_fake_graph_command_serves_until_stopped():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_fake_graph", "--port", str(port)],
        env={**os.environ, "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "crm.settings"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = [process.stdout.readline() for _ in range(1)]
        while output[-1] and "Fake Graph API on" not in output[-1]:
            output.append(process.stdout.readline())
        assert f"Fake Graph API on http://127.0.0.1:{port}" in output[-1], "".join(output)
        assert requests.post(f"http://127.0.0.1:{port}/_fake/reset", timeout=5).json() == {"success": True}
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
