"""Outbound address policy: only public addresses, including behind IPv6 forms and names."""

from __future__ import annotations

import asyncio

import pytest

from hedgerow.destinations.address_guard import GuardedBackend, RefusedAddress, is_public
from hedgerow.destinations.send import Sender, url_problem

REFUSED = ["127.0.0.1", "127.9.9.9", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
           "0.0.0.0", "224.0.0.1", "255.255.255.255", "240.0.0.1", "192.0.2.10", "::1", "::", "fe80::1",
           "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:7f00:1::1",
           "::127.0.0.1", "not-an-ip", "fe80::1%eth0"]  # fmt: skip
ALLOWED = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111"]


@pytest.mark.parametrize("address", REFUSED)
def test_refused(address) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", ALLOWED)
def test_allowed(address) -> None:
    assert is_public(address)


def test_a_name_is_checked_on_what_it_resolves_to_when_connecting() -> None:
    async def connect() -> None:
        await GuardedBackend(allow_private=False).connect_tcp("localhost", 9, timeout=1)

    with pytest.raises(RefusedAddress, match="localhost"):
        asyncio.run(connect())


@pytest.mark.parametrize("url", ["ftp://x.io/", "file:///etc/passwd", "http:///nohost", "https://u:p@x.io/",
                                 "http://x.io:99999/", "x" * 3000])  # fmt: skip
def test_unusable_urls(url) -> None:
    assert url_problem(url)


def test_refused_before_any_connection_and_not_retried() -> None:
    async def send():
        sender = Sender(allow_private=False)
        try:
            return await sender.send({"url": "http://127.0.0.1:9/", "method": "POST", "body": {}})
        finally:
            await sender.close()

    sent = asyncio.run(send())
    assert not sent.ok and not sent.retryable and "non-public" in sent.reason
