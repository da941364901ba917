"""One outbound webhook request, bounded: where it may go, how long it may take, how much is
sent and read, and what its outcome means (done, retry later, or failed for good).

Redirects are not followed (a 3xx is a failure naming the status): a receiver cannot bounce a
delivery into an address the guard would refuse.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

import httpcore
import orjson

from hedgerow.destinations.address_guard import GuardedBackend, RefusedAddress

MAX_REQUEST_BYTES = 1_000_000
MAX_RESPONSE_BYTES = 64 * 1024
CONNECT_SECONDS = 5.0
TOTAL_SECONDS = 10.0
RETRY_STATUSES = frozenset({408, 429}) | frozenset(range(500, 600))
USER_AGENT = "Hedgerow-Webhooks/1.0"


@dataclass(frozen=True)
class Sent:
    """What became of one attempt."""

    ok: bool
    retryable: bool
    status: int | None
    reason: str
    body: str = ""


class Sender:
    """A connection pool for deliveries, with the address guard and the bounds."""

    def __init__(self, *, allow_private: bool, max_connections: int = 100,
                 total_seconds: float = TOTAL_SECONDS) -> None:  # fmt: skip
        self.total_seconds = total_seconds
        self._pool = httpcore.AsyncConnectionPool(
            max_connections=max_connections, network_backend=GuardedBackend(allow_private=allow_private),
            retries=0, keepalive_expiry=30.0,
        )  # fmt: skip

    async def close(self) -> None:
        await self._pool.aclose()

    async def send(self, request: Mapping[str, Any]) -> Sent:
        """Send a rendered request ``{"url", "method", "headers", "body"}``."""
        url = str(request.get("url") or "")
        problem = url_problem(url)
        if problem:
            return Sent(False, False, None, problem)
        method = str(request.get("method") or "POST").upper()
        headers = [(str(k), str(v)) for k, v in (request.get("headers") or {}).items()]
        if not any(k.lower() == "user-agent" for k, _ in headers):
            headers.append(("User-Agent", USER_AGENT))
        body = request.get("body")
        content = b"" if body is None or method == "GET" else (
            body.encode() if isinstance(body, str) else orjson.dumps(body))  # fmt: skip
        if len(content) > MAX_REQUEST_BYTES:
            return Sent(False, False, None, f"request body is larger than {MAX_REQUEST_BYTES} bytes")
        timeouts = {"connect": CONNECT_SECONDS, "read": self.total_seconds, "write": self.total_seconds,
                    "pool": self.total_seconds}  # fmt: skip
        try:
            return await asyncio.wait_for(self._exchange(method, url, headers, content, timeouts), self.total_seconds)
        except asyncio.TimeoutError:
            return Sent(False, True, None, f"timed out after {self.total_seconds:g}s")
        except RefusedAddress as exc:
            return Sent(False, False, None, str(exc))
        except (httpcore.TimeoutException,) as exc:
            return Sent(False, True, None, f"timed out: {type(exc).__name__}")
        except (httpcore.NetworkError, httpcore.ProtocolError, OSError) as exc:
            return Sent(False, True, None, f"connection failed: {exc or type(exc).__name__}")
        except (httpcore.UnsupportedProtocol, httpcore.LocalProtocolError, ValueError) as exc:
            return Sent(False, False, None, f"invalid request: {exc}")

    async def _exchange(self, method: str, url: str, headers: list[tuple[str, str]], content: bytes,
                        timeouts: dict[str, float]) -> Sent:  # fmt: skip
        async with self._pool.stream(method, url, headers=headers, content=content,
                                     extensions={"timeout": timeouts}) as response:  # fmt: skip
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_stream():
                chunks.append(chunk[: MAX_RESPONSE_BYTES - size])
                size += len(chunk)
                if size >= MAX_RESPONSE_BYTES:
                    break
        text = b"".join(chunks).decode("utf-8", "replace")
        status = response.status
        if 200 <= status < 300:
            return Sent(True, False, status, f"HTTP {status}", text)
        if 300 <= status < 400:
            return Sent(False, False, status, f"HTTP {status}: redirects are not followed", text)
        return Sent(False, status in RETRY_STATUSES, status, f"HTTP {status}", text)


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot receive deliveries, or None."""
    if len(url) > 2048:
        return "the URL is longer than 2048 characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "the URL is not valid"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the URL must be http:// or https:// with a host"
    if parts.username or parts.password:
        return "the URL may not hold credentials"
    return None
