"""The Graph API client against the fake Graph API over real HTTP: calls, retries, giving up, errors."""

import socket
import time

import pytest

from whatsapp import graph
from whatsapp.configuration import save_configuration

TEXT = {
    "messaging_product": "whatsapp",
    "recipient_type": "individual",
    "to": "+15550001111",
    "type": "text",
    "text": {"body": "Hello"},
}


@pytest.fixture
def client(fake_graph):
    return graph.GraphClient("test-token")


def test_send_message_posts_meta_json_with_the_bearer_token(client, fake_graph, settings):
    response = client.send_message("1001", TEXT)

    assert response["messages"][0]["id"].startswith("wamid.")
    assert response["contacts"] == [{"input": "+15550001111", "wa_id": "15550001111"}]
    [call] = fake_graph.calls("/1001/messages")
    assert call.path == f"/{settings.WHATSAPP_GRAPH_VERSION}/1001/messages"
    assert call.authorization == "Bearer test-token"
    assert call.json == TEXT


@pytest.mark.parametrize(
    "error, kind, attempts, code",
    [
        ("429", graph.GraphRateLimited, 5, 130429),
        ("500", graph.GraphServerError, 5, 131000),
        ("503", graph.GraphServerError, 5, 2),
        ("connection", graph.GraphConnectionError, 5, None),
        ("190", graph.GraphAuthError, 1, 190),
        ("131047", graph.GraphRequestError, 1, 131047),
        ("131026", graph.GraphRequestError, 1, 131026),
        ("100", graph.GraphRequestError, 1, 100),
    ],
)
def test_client_retries_transient_errors_five_times_and_never_retries_hopeless_ones(
    client, fake_graph, error, kind, attempts, code
):
    fake_graph.fail_next(10, error)

    with pytest.raises(kind) as raised:
        client.send_message("1001", TEXT)

    assert len(fake_graph.calls("/messages")) == attempts
    assert raised.value.code == code
    assert raised.value.retryable == (attempts > 1)


def test_a_failure_carries_metas_code_title_and_details(client, fake_graph):
    fake_graph.fail_next(1, "131047")

    with pytest.raises(graph.GraphRequestError) as raised:
        client.send_message("1001", TEXT)

    error = raised.value
    assert (error.code, error.title, error.http_status) == (131047, "Re-engagement message", 400)
    assert error.details.startswith("More than 24 hours have passed")
    assert str(error) == f"(#131047) Re-engagement message: {error.details}"


@pytest.mark.parametrize("error", ["429", "500", "connection"])
def test_client_recovers_when_a_transient_failure_passes(client, fake_graph, error):
    fake_graph.fail_next(2, error)

    response = client.send_message("1001", TEXT)

    assert response["messages"][0]["id"]
    assert len(fake_graph.calls("/messages")) == 3


def test_a_call_that_times_out_is_retried(client, fake_graph, settings):
    settings.WHATSAPP_GRAPH_READ_TIMEOUT = 0.2
    fake_graph.fail_next(1, "timeout", delay=0.6)

    assert client.send_message("1001", TEXT)["messages"]
    assert len(fake_graph.calls("/messages")) == 2


def test_a_call_that_always_times_out_gives_up_with_a_connection_error(client, fake_graph, settings):
    settings.WHATSAPP_GRAPH_READ_TIMEOUT = 0.1
    settings.WHATSAPP_GRAPH_MAX_ATTEMPTS = 2
    fake_graph.fail_next(2, "timeout", delay=0.3)

    with pytest.raises(graph.GraphConnectionError, match="did not answer in time"):
        graph.GraphClient("test-token").send_message("1001", TEXT)
    assert len(fake_graph.calls("/messages")) == 2


def test_a_connect_that_always_times_out_is_tried_five_times_and_nothing_reaches_meta(
    client, fake_graph, settings, caplog
):
    settings.WHATSAPP_GRAPH_CONNECT_TIMEOUT = 0.1
    fake_graph.refuse_connections(1.5)

    started = time.monotonic()
    with pytest.raises(graph.GraphConnectionError, match="Could not connect to Meta in time"):
        graph.GraphClient("test-token").send_message("1001", TEXT)

    assert [r.getMessage().split("; ")[-1][:12] for r in caplog.records if "retrying" in r.getMessage()] == [
        f"attempt {n} of" for n in range(1, 5)
    ]
    assert 5 * 0.1 <= time.monotonic() - started < 1.5
    assert fake_graph.requests == []


def test_retry_after_is_honoured(client, fake_graph, settings):
    settings.WHATSAPP_GRAPH_BACKOFF_MAX = 2.0
    fake_graph.fail_next(1, "429", retry_after=1)

    started = time.monotonic()
    client.send_message("1001", TEXT)

    assert time.monotonic() - started >= 1.0
    assert len(fake_graph.calls("/messages")) == 2


def test_a_retry_after_beyond_the_backoff_bound_gives_up_at_once(client, fake_graph, settings):
    settings.WHATSAPP_GRAPH_BACKOFF_MAX = 2.0
    fake_graph.fail_next(1, "429", retry_after=60)

    started = time.monotonic()
    with pytest.raises(graph.GraphRateLimited) as raised:
        client.send_message("1001", TEXT)

    assert time.monotonic() - started < 1.0
    assert raised.value.retry_after == 60
    assert len(fake_graph.calls("/messages")) == 1


def test_an_unreachable_graph_api_is_a_connection_error_after_every_attempt(settings):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    settings.WHATSAPP_GRAPH_URL = f"http://127.0.0.1:{port}"

    with pytest.raises(graph.GraphConnectionError, match="Could not connect"):
        graph.GraphClient("test-token").send_message("1001", TEXT)


def test_backoff_grows_exponentially_with_jitter_and_is_bounded(settings):
    settings.WHATSAPP_GRAPH_BACKOFF_BASE = 0.5
    settings.WHATSAPP_GRAPH_BACKOFF_MAX = 8.0

    for attempt, full in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        delays = {graph.backoff_delay(attempt) for _ in range(20)}
        assert all(full / 2 <= delay <= full for delay in delays)
        assert len(delays) > 1  # jittered


def test_retry_after_may_be_an_http_date():
    assert graph._retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert graph._retry_after_seconds("12") == 12.0
    assert graph._retry_after_seconds("soon") is None


def test_a_client_without_a_token_is_refused():
    with pytest.raises(graph.GraphAuthError):
        graph.GraphClient("")


def test_mark_read_posts_a_read_status(client, fake_graph):
    client.mark_read("1001", "wamid.abc")

    [call] = fake_graph.calls("/1001/messages")
    assert call.json == {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.abc"}
    assert fake_graph.read_receipts == [{"phone_number_id": "1001", "message_id": "wamid.abc"}]


def test_media_round_trip_upload_look_up_and_download(client, fake_graph):
    png = b"\x89PNG\r\n\x1a\n" + b"pixels" * 10

    media_id = client.upload_media("1001", png, "image/png", "photo.png")
    info = client.get_media(media_id)
    downloaded = client.download_media(info.url)

    [upload] = fake_graph.calls("/1001/media")
    assert upload.form == {"messaging_product": "whatsapp", "type": "image/png"}
    assert upload.file == ("photo.png", "image/png", png)
    assert (info.id, info.mime_type, info.file_size) == (media_id, "image/png", len(png))
    assert downloaded == graph.DownloadedMedia(content=png, mime_type="image/png")
    assert fake_graph.calls(graph.urlsplit(info.url).path)[0].authorization == "Bearer test-token"


def test_inbound_media_registered_on_the_fake_can_be_downloaded(client, fake_graph):
    media_id = fake_graph.add_media(b"%PDF-1.4 invoice", "application/pdf")

    info = client.get_media(media_id, phone_number_id="1001")

    assert client.download_media(info.url).content == b"%PDF-1.4 invoice"
    assert fake_graph.calls(f"/{media_id}")[0].query == {"phone_number_id": ["1001"]}


def test_an_unsupported_upload_is_refused_with_metas_media_error(client, fake_graph):
    with pytest.raises(graph.GraphRequestError) as raised:
        client.upload_media("1001", b"GIF89a", "image/gif", "anim.gif")
    assert raised.value.code == 131053


def test_an_unknown_media_id_is_a_request_error(client, fake_graph):
    with pytest.raises(graph.GraphRequestError) as raised:
        client.get_media("123")
    assert raised.value.code == 100


def test_a_download_larger_than_allowed_is_refused(client, fake_graph):
    media_id = fake_graph.add_media(b"x" * 1000, "text/plain")

    with pytest.raises(graph.GraphRequestError, match="too large"):
        client.download_media(client.get_media(media_id).url, max_bytes=100)


def test_a_missing_download_is_a_request_error(client, fake_graph):
    with pytest.raises(graph.GraphRequestError) as raised:
        client.download_media(f"{fake_graph.url}/whatsapp_business/attachments/?mid=404")
    assert raised.value.http_status == 404


@pytest.mark.parametrize("url", ["http://example.com/media/1", "https://evil.example.com/x"])
def test_the_token_is_never_sent_to_a_host_that_is_not_metas(client, fake_graph, url):
    with pytest.raises(graph.GraphRequestError, match="not Meta's"):
        client.download_media(url)
    assert fake_graph.requests == []


def test_list_message_templates_follows_paging(client, fake_graph):
    templates = [
        {
            "id": str(n),
            "name": f"template_{n}",
            "language": "en_US",
            "status": "APPROVED",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": f"Body {n}"}],
        }
        for n in range(150)
    ]
    fake_graph.set_templates("2002", templates)

    listed = client.list_message_templates("2002")

    assert [t["name"] for t in listed] == [t["name"] for t in templates]
    assert len(fake_graph.calls("/2002/message_templates")) == 2


def test_client_for_a_configuration_uses_its_decrypted_token(client, fake_graph, make_user):
    configuration, _ = save_configuration(
        user=make_user(), whatsapp_number="+15550100001", phone_number_id="1001", access_token="secret-token-1"
    )

    graph.client_for(configuration).mark_read("1001", "wamid.x")

    assert fake_graph.calls("/messages")[0].authorization == "Bearer secret-token-1"


def test_a_token_no_key_decrypts_is_an_auth_error(make_user, settings):
    configuration, _ = save_configuration(
        user=make_user(), whatsapp_number="+15550100001", phone_number_id="1001", access_token="secret-token-1"
    )
    settings.FIELD_ENCRYPTION_KEYS = ["u8W6LoVXWh1OH9cJjR0I0zW5e9Kp0tB0AbyPnmsEjFg="]

    with pytest.raises(graph.GraphAuthError, match="cannot be decrypted"):
        graph.client_for(configuration)


class _Redirector:
    """A local HTTP server standing in for the Graph host: /hop/<n> redirects to what `targets[n]` says,
    /file serves a PNG, /page an HTML page. Every request's path lands in .paths."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.paths, self.targets = [], {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.paths.append(self.path)
                if self.path.startswith("/hop/"):
                    self.send_response(302)
                    self.send_header("Location", outer.targets[self.path.removeprefix("/hop/")])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                html = self.path == "/page"
                body = b"<html>sign in</html>" if html else b"\x89PNG\r\n\x1a\nredirected"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8" if html else "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def graph_host():
    host = _Redirector()
    yield host
    host.close()


def test_a_redirect_on_the_graph_host_is_followed(graph_host):
    graph_host.targets["1"] = "/file"
    client = graph.GraphClient("test-token", base_url=graph_host.url)

    assert client.download_media(f"{graph_host.url}/hop/1").content == b"\x89PNG\r\n\x1a\nredirected"
    assert graph_host.paths == ["/hop/1", "/file"]


def test_a_redirect_to_another_host_is_refused_before_any_request_reaches_it(graph_host, webhook_receiver):
    internal = webhook_receiver.url.replace("/whatsapp/webhook/", "/secret")
    graph_host.targets["1"] = internal
    client = graph.GraphClient("test-token", base_url=graph_host.url)

    with pytest.raises(graph.GraphRequestError, match="not Meta's"):
        client.download_media(f"{graph_host.url}/hop/1")
    assert graph_host.paths == ["/hop/1"] and webhook_receiver.received == []


def test_an_endless_chain_of_redirects_is_given_up(graph_host):
    graph_host.targets.update({"1": "/hop/2", "2": "/hop/1"})
    client = graph.GraphClient("test-token", base_url=graph_host.url)

    with pytest.raises(graph.GraphRequestError, match="Too many redirects"):
        client.download_media(f"{graph_host.url}/hop/1")
    assert len(graph_host.paths) == graph.MAX_REDIRECTS + 1


def test_a_page_instead_of_a_file_is_not_taken_as_media(graph_host):
    client = graph.GraphClient("test-token", base_url=graph_host.url)

    with pytest.raises(graph.GraphRequestError, match="did not answer with a file"):
        client.download_media(f"{graph_host.url}/page")
