"""Security headers, https and cookies under the production settings, checked in real processes,
and the Content Security Policy of the pages themselves."""

import json
import re

import pytest
from django.urls import reverse

from crm.tests.production import run, run_script

HEADERS_SCRIPT = """
import json
response = client.get("/accounts/login/", secure=True)
print(json.dumps({
    "status": response.status_code,
    "headers": dict(response.headers),
    "csrf_cookie": {key: response.cookies["csrftoken"][key] for key in ("secure", "httponly", "samesite")},
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "session_cookie_httponly": settings.SESSION_COOKIE_HTTPONLY,
}))
"""


def test_check_deploy_passes_with_no_warnings_under_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_in_this_test_does_catch_a_weakened_setting():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], SECURE_HSTS_SECONDS="0")
    assert result.returncode != 0 and "security.W004" in result.stderr


def test_production_sends_the_security_headers_and_secure_cookies():
    seen = json.loads(run_script(HEADERS_SCRIPT))
    headers = seen["headers"]
    assert seen["status"] == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "script-src 'self';" in headers["Content-Security-Policy"]
    assert seen["csrf_cookie"]["secure"] is True and seen["csrf_cookie"]["samesite"] == "Lax"
    assert seen["session_cookie_secure"] is True and seen["session_cookie_httponly"] is True


def test_production_redirects_plain_http_to_https():
    out = run_script('r = client.get("/accounts/login/"); print(r.status_code, r["Location"])')
    assert out.split() == ["301", "https://crm.example.com/accounts/login/"]


PROXY_SCRIPT = """
from django.test import RequestFactory
from crm.proxies import client_ip
forwarded = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4")
print(client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https").status_code, client_ip(forwarded))
"""


def test_proxy_headers_are_not_believed_unless_the_environment_says_so():
    assert run_script(PROXY_SCRIPT).split() == ["301", "10.0.0.2"]
    assert run_script(PROXY_SCRIPT, TRUST_X_FORWARDED_PROTO="true", TRUSTED_PROXY_COUNT="1").split() == [
        "200",
        "1.2.3.4",
    ]


def directives(response):
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def test_the_policy_allows_scripts_only_from_our_own_files(client, db):
    policy = directives(client.get(reverse("login")))
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["form-action"] == ["'self'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)


def test_inline_styles_need_the_nonce_of_their_response(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("admin:index"))
    nonce = re.search(r'nonce="([^"]+)"', response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in directives(response)["style-src"]
    assert nonce not in client.get(reverse("admin:index"))["Content-Security-Policy"]


def pages_for(client, admin_user, make_agent):
    agent = make_agent()
    client.force_login(agent.user)
    pages = {url: client.get(url) for url in (reverse("home"), reverse("password_change"))}
    client.force_login(admin_user)
    client.post(reverse("two_factor_start"))
    pages[reverse("two_factor")] = client.get(reverse("two_factor"))
    client.logout()
    pages[reverse("login")] = client.get(reverse("login"))
    return pages


def test_our_pages_have_no_inline_script_style_or_event_handler(client, admin_user, make_agent):
    for url, response in pages_for(client, admin_user, make_agent).items():
        assert response.status_code == 200, url
        page = response.content.decode()
        for tag in re.findall(r"<script\b[^>]*>", page):
            assert "src=" in tag, (url, tag)
        assert not re.search(r"<script\b[^>]*>(?!\s*</script>)", page), url
        assert not re.search(r"\son[a-z]+\s*=", page), url
        assert not re.search(r"\sstyle\s*=", page), url
        assert "<style" not in page, url


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/"])
def test_every_response_denies_framing(client, db, path):
    response = client.get(path)
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
