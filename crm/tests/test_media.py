"""Media on S3 when configured (a local S3-compatible server, moto, started by the suite), the file
system otherwise; one helper gives pages a URL for a stored file."""

import ast
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from crm.media import media_url

BUCKET = "crm-media-test"
CREDENTIALS = {"aws_access_key_id": "test-access-key", "aws_secret_access_key": "test-secret-key"}


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3 API over HTTP on this machine: moto's server, in a thread of the test process."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint):
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **CREDENTIALS)
    client.create_bucket(Bucket=BUCKET)
    yield client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def s3_media(settings, s3_endpoint, s3_bucket, monkeypatch):
    """The app's media storage on the bucket, configured as crm/settings.py does from the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS["aws_secret_access_key"])
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(repr(settings.STORAGES['default']))",
        ],
        env={
            "DJANGO_SETTINGS_MODULE": "crm.settings",
            "PATH": "/usr/bin:/bin",
            "DEBUG": "true",
            "AWS_STORAGE_BUCKET_NAME": BUCKET,
            "AWS_S3_ENDPOINT_URL": s3_endpoint,
            "AWS_S3_REGION_NAME": "us-east-1",
            "MEDIA_URL_EXPIRY": "120",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    settings.STORAGES = {**settings.STORAGES, "default": ast.literal_eval(result.stdout)}
    return s3_bucket


def test_media_are_stored_as_private_objects_in_the_bucket(s3_media):
    name = default_storage.save("agt_7/photo.jpg", ContentFile(b"\xff\xd8jpeg bytes"))

    stored = s3_media.get_object(Bucket=BUCKET, Key=f"media/{name}")
    assert stored["Body"].read() == b"\xff\xd8jpeg bytes"
    grants = s3_media.get_object_acl(Bucket=BUCKET, Key=f"media/{name}")["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]  # the owner's, no public grant
    assert all("AllUsers" not in str(grant["Grantee"]) for grant in grants)


def test_a_second_file_with_the_same_name_never_overwrites_the_first(s3_media):
    first = default_storage.save("agt_7/voice.ogg", ContentFile(b"first"))
    second = default_storage.save("agt_7/voice.ogg", ContentFile(b"second"))
    assert first != second
    assert default_storage.open(first).read() == b"first"


def test_pages_get_a_presigned_url_that_fetches_the_file_and_expires(s3_media):
    name = default_storage.save("agt_7/invoice.pdf", ContentFile(b"%PDF-1.7"))

    url = media_url(name)

    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["120"] and "X-Amz-Signature" in query
    fetched = requests.get(url, timeout=5)
    assert fetched.status_code == 200 and fetched.content == b"%PDF-1.7"
    assert parse_qs(urlsplit(media_url(name, expires_in=30)).query)["X-Amz-Expires"] == ["30"]


def test_media_stay_on_the_file_system_unless_a_bucket_is_configured(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    assert settings.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"

    name = default_storage.save("agt_7/photo.jpg", ContentFile(b"jpeg"))

    assert (tmp_path / name).read_bytes() == b"jpeg"
    assert media_url(name) == f"/media/{name}"
    assert media_url(name, expires_in=30) == f"/media/{name}"
    assert media_url("") is None and media_url(None) is None
