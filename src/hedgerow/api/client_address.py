"""Who is calling: the peer's address, or the client's as reported by trusted proxies.

``X-Forwarded-For`` is a list each proxy appends its peer to, so only the entries added by
proxies we trust can be believed. When the peer is a trusted proxy, the list is read right to
left, skipping trusted hops; the first untrusted address is the client. Anyone else's header
is ignored (``--trusted-proxy`` / ``HEDGEROW_TRUSTED_PROXIES`` name the proxies).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientAddress:
    """Resolves the client address of a request from its peer and ``X-Forwarded-For``."""

    def __init__(self, trusted_proxies: Iterable[str] = ()) -> None:
        self.networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(proxy, strict=False) for proxy in trusted_proxies
        )

    def __call__(self, forwarded_for: str | None, peer: str | None) -> str | None:
        if not forwarded_for or not self.networks or not self.trusted(peer):
            return peer
        hop = peer
        for entry in reversed(forwarded_for.split(",")):
            address = _address(entry)
            if address is None:  # not an address: believe only the proxy that passed it on
                return hop
            if not self.trusted(address):
                return address
            hop = address
        return hop  # every hop is a trusted proxy: the first one is the client

    def trusted(self, address: str | None) -> bool:
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.networks)


def _address(entry: str) -> str | None:
    """One ``X-Forwarded-For`` entry as a canonical address (brackets and ports dropped)."""
    text = entry.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None
