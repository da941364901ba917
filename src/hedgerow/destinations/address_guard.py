"""Outbound address policy: receivers must be public addresses, checked where we connect.

The host of a receiver URL is resolved when the connection is opened, every address it
resolves to is checked, and the connection goes to the checked address (so a name that
resolves to a public address when saved and to ``127.0.0.1`` when used — DNS rebinding — is
still refused). Refused: loopback, link-local, private, shared (CGNAT), multicast, reserved,
unspecified and documentation ranges, and IPv6 forms that embed a refused IPv4 address
(IPv4-mapped, 6to4, NAT64...). ``allow_private`` lifts the policy (tests, closed networks).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any, Iterable

import anyio
import httpcore


class RefusedAddress(OSError):
    """The receiver resolves to an address deliveries may not go to."""


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in ipaddress.ip_network("64:ff9b::/96") or address in ipaddress.ip_network("::/96"):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    """Whether deliveries may connect to ``address`` (an IP literal)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_v4(ip)
        if embedded is not None and not is_public(str(embedded)):
            return False
        if ip.teredo is not None:
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local
                                 or ip.is_private or ip.is_unspecified)  # fmt: skip


async def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to now."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked(addresses: Iterable[str], host: str, allow_private: bool) -> list[str]:
    addresses = list(addresses)
    if not addresses:
        raise httpcore.ConnectError(f"{host} resolves to no address")
    if allow_private:
        return addresses
    refused = [a for a in addresses if not is_public(a)]
    if refused:
        raise RefusedAddress(f"{host} resolves to a non-public address ({refused[0]}): deliveries to "
                             "loopback, link-local and private networks are refused")  # fmt: skip
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, resolving and checking every host before connecting."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = checked(await resolve(host, port), host, self.allow_private)
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._backend.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                       socket_options=socket_options)  # fmt: skip
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Any = None) -> httpcore.AsyncNetworkStream:  # fmt: skip
        raise RefusedAddress("deliveries never go to unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)
