"""Keyed routes decide before reading a body, and every byte cap holds while streaming.

The review's attack: chunked uploads (no ``Content-Length``) of 4 x 60 MB files with no key
were read into memory whole before the 401. Against a real server, the server's resident
memory (``VmRSS``) must not grow by anything like the body's size.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hedgerow.testing import LiveServer

pytestmark = pytest.mark.e2e

MB = 1024 * 1024
BOUNDARY = "hedgerow-test-boundary"
FORM = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
JSON = {"Content-Type": "application/json"}
BODY_MB = 240
RSS_GROWTH_MB = 64  # generous: the largest body ever held is the 20 MB cap


def _rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no VmRSS")


def _files(count: int = 4, size_mb: int = BODY_MB // 4) -> Iterator[bytes]:
    """A multipart body streamed in 1 MB chunks: httpx sends it chunked, with no length."""
    chunk = b"a" * MB
    for i in range(count):
        yield (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csv{i}"; filename="f{i}.csv"\r\n'
               "Content-Type: text/csv\r\n\r\n").encode()
        for _ in range(size_mb):
            yield chunk
        yield b"\r\n"
    yield f"--{BOUNDARY}--\r\n".encode()


def _json(size_mb: int = BODY_MB) -> Iterator[bytes]:
    yield b'{"name": "'
    chunk = b"a" * MB
    for _ in range(size_mb):
        yield chunk
    yield b'"}'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with LiveServer(tmp_path_factory.mktemp("bodies") / "data") as live:
        live.boot = live.bootstrap()
        yield live


def _send(server, path: str, body: Iterator[bytes], headers: dict[str, str]) -> tuple[httpx.Response, int]:
    pid = server.process.pid
    before = _rss_mb(pid)
    response = httpx.post(server.url + path, content=body, headers=headers, timeout=120)
    return response, _rss_mb(pid) - before


@pytest.mark.parametrize("credentials, status, code", [
    ({}, 401, "not_authenticated"),
    ({"Authorization": "Bearer phx_not_a_key"}, 401, "authentication_failed"),
])
def test_chunked_upload_without_a_valid_key_is_refused_unread(server, credentials, status, code) -> None:
    path = f"/api/projects/{server.boot['project_id']}/cohorts/"
    started = time.monotonic()
    response, growth = _send(server, path, _files(), {**FORM, **credentials})
    elapsed = time.monotonic() - started
    assert response.status_code == status and response.json()["code"] == code
    assert growth < RSS_GROWTH_MB, f"server RSS grew {growth} MB for a refused {BODY_MB} MB upload"
    assert elapsed < 20, f"{elapsed:.1f}s"  # generous: refused without taking the upload


def test_chunked_upload_with_a_key_in_the_query_is_decided_first(server) -> None:
    path = f"/api/projects/{server.boot['project_id']}/cohorts/?personal_api_key=phx_not_a_key"
    response, growth = _send(server, path, _files(), FORM)
    assert response.status_code == 401
    assert response.json()["detail"] == "Personal API key found in request query string is invalid."
    assert growth < RSS_GROWTH_MB


def test_chunked_upload_with_a_key_stops_at_the_cap(server) -> None:
    key = {"Authorization": f"Bearer {server.boot['personal_api_key']}"}
    path = f"/api/projects/{server.boot['project_id']}/cohorts/"
    response, growth = _send(server, path, _files(), {**FORM, **key})
    assert response.status_code == 413
    assert response.json() == {
        "type": "invalid_request", "code": "payload_too_large",
        "detail": "Request body is too large.", "attr": None,
    }
    assert growth < RSS_GROWTH_MB
    json_response, json_growth = _send(server, "/api/projects/", _json(), {**JSON, **key})
    assert json_response.status_code == 413
    assert json_growth < RSS_GROWTH_MB


def test_chunked_json_without_a_key_is_read_only_up_to_the_cap(server) -> None:
    """No key in the header or query: the body may hold one (PostHog's order), so it is read,
    as JSON and only up to the cap."""
    response, growth = _send(server, "/api/projects/", _json(), JSON)
    assert response.status_code == 413
    assert growth < RSS_GROWTH_MB


def test_multipart_part_limits(server) -> None:
    key = {"Authorization": f"Bearer {server.boot['personal_api_key']}"}
    path = f"/api/projects/{server.boot['project_id']}/cohorts/"
    too_many_files = httpx.post(server.url + path, content=_files(count=5, size_mb=0), headers={**FORM, **key})
    assert too_many_files.status_code == 400
    assert too_many_files.json()["detail"] == (
        "Multipart form parse error - Too many files. Maximum number of files is 4."
    )
    field = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\n'.encode()
             + b"a" * (2 * MB) + f"\r\n--{BOUNDARY}--\r\n".encode())
    big_field = httpx.post(server.url + path, content=field, headers={**FORM, **key})
    assert big_field.status_code == 400
    assert big_field.json()["detail"] == "Multipart form parse error - Part exceeded maximum size of 1024KB."
