"""The bounded sender against a real receiver on loopback: timeouts are retryable failures,
oversized bodies are never sent, 5xx/408/429 retryable and other statuses not."""

from __future__ import annotations

import asyncio

import pytest

from hedgerow.destinations.send import MAX_REQUEST_BYTES, Sender
from tests.webhook_receiver import Receiver


def send(request: dict, **options):
    async def run():
        sender = Sender(allow_private=True, **options)
        try:
            return await sender.send(request)
        finally:
            await sender.close()

    return asyncio.run(run())


def test_a_receiver_slower_than_the_limit_is_a_retryable_timeout() -> None:
    with Receiver(answer=lambda request, n: (200, 5.0), hang_up=True) as receiver:
        sent = send({"url": receiver.url + "/", "method": "POST", "body": {"a": 1}}, total_seconds=0.3)
    assert not sent.ok and sent.retryable and "timed out" in sent.reason


def test_an_oversized_body_is_never_sent() -> None:
    with Receiver() as receiver:
        sent = send({"url": receiver.url + "/", "method": "POST", "body": "x" * (MAX_REQUEST_BYTES + 1)})
    assert not sent.ok and not sent.retryable and receiver.received == []


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (503, True), (408, True), (429, True),
                                                   (400, False), (404, False), (301, False)])  # fmt: skip
def test_statuses(status, retryable) -> None:
    with Receiver(answer=lambda request, n: (status, 0.0)) as receiver:
        sent = send({"url": receiver.url + "/", "method": "POST", "body": {}})
    assert not sent.ok and sent.retryable is retryable and sent.status == status


def test_request_shape() -> None:
    with Receiver() as receiver:
        ok = send({"url": receiver.url + "/p?q=1", "method": "GET", "headers": {"X-A": "b"}, "body": {"x": 1}})
        posted = send({"url": receiver.url + "/p", "method": "PATCH", "body": "raw text"})
    assert ok.ok and posted.ok
    get, patch = receiver.received
    assert get.method == "GET" and get.body == b"" and get.headers["x-a"] == "b"
    assert get.headers["user-agent"].startswith("Hedgerow-Webhooks/")
    assert patch.method == "PATCH" and patch.body == b"raw text"


def test_a_dead_port_is_a_retryable_connection_failure() -> None:
    with Receiver() as receiver:
        port = receiver.port
    sent = send({"url": f"http://127.0.0.1:{port}/", "method": "POST", "body": {}})
    assert not sent.ok and sent.retryable and "connection failed" in sent.reason
