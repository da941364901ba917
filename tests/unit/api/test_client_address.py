"""X-Forwarded-For is believed only from trusted proxies, read right to left."""

from __future__ import annotations

import pytest

from hedgerow.api.client_address import ClientAddress
from hedgerow.config import ConfigError, Settings

TRUSTED = ClientAddress(["10.0.0.0/8", "127.0.0.1", "2001:db8::/32"])

CASES = [
    # (resolver, X-Forwarded-For, peer, client)
    (ClientAddress(), "203.0.113.7", "198.51.100.1", "198.51.100.1"),      # none trusted: the peer
    (TRUSTED, "203.0.113.7", "198.51.100.1", "198.51.100.1"),              # peer not a proxy
    (TRUSTED, None, "10.0.0.1", "10.0.0.1"),                               # no header
    (TRUSTED, "203.0.113.7", "10.0.0.1", "203.0.113.7"),                   # one trusted proxy
    (TRUSTED, "1.1.1.1, 203.0.113.7, 10.0.0.2", "10.0.0.1", "203.0.113.7"),  # spoofed first hop
    (TRUSTED, "1.1.1.1,203.0.113.7", "127.0.0.1", "203.0.113.7"),
    (TRUSTED, "10.0.0.3, 10.0.0.2", "10.0.0.1", "10.0.0.3"),               # all trusted: first
    (TRUSTED, "garbage, 10.0.0.2", "10.0.0.1", "10.0.0.2"),                # unreadable: last proxy
    (TRUSTED, "", "10.0.0.1", "10.0.0.1"),
    (TRUSTED, "203.0.113.7:4711", "10.0.0.1", "203.0.113.7"),              # port dropped
    (TRUSTED, "[2001:db8::9], [2606:4700::1]", "10.0.0.1", "2606:4700::1"),
    (TRUSTED, "203.0.113.7", "::ffff:10.0.0.1", "203.0.113.7"),            # v4-mapped peer
    (TRUSTED, "203.0.113.7", None, None),
]  # fmt: skip


@pytest.mark.parametrize("resolve, forwarded_for, peer, client", CASES)
def test_client_address(resolve, forwarded_for, peer, client) -> None:
    assert resolve(forwarded_for, peer) == client


def test_settings_read_and_check_trusted_proxies() -> None:
    settings = Settings.from_env({"HEDGEROW_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1,"})
    assert settings.trusted_proxies == ("10.0.0.0/8", "127.0.0.1")
    with pytest.raises(ConfigError):
        Settings(trusted_proxies=("10.0.0.0/33",))
