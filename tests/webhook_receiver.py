"""A real webhook receiver on loopback for the delivery tests: uvicorn serving a tiny ASGI app
on its own thread, recording every request it gets and answering as the test scripts it."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import orjson
import uvicorn

from hedgerow.testing import free_port


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    """``answer(request, n)`` gives (status, delay seconds) for the n-th request (from 1)."""

    answer: Callable[[Received, int], tuple[int, float]] = lambda request, n: (200, 0.0)
    received: list[Received] = field(default_factory=list)
    answered: list[Received] = field(default_factory=list)
    """Requests whose response was sent in full (the sender may have gone away before)."""
    port: int = field(default_factory=free_port)
    hang_up: bool = False
    """On leaving, drop the requests still waiting for a delayed answer instead of waiting (up
    to 10 s) for them: for receivers slower than anything the test waits for."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        request = Received(scope["method"], scope["path"],
                           {k.decode().lower(): v.decode() for k, v in scope["headers"]}, b"".join(chunks))  # fmt: skip
        self.received.append(request)
        status, delay = self.answer(request, len(self.received))
        if delay:
            await asyncio.sleep(delay)
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok" if status < 300 else b"nope"})
        self.answered.append(request)

    def __enter__(self) -> "Receiver":
        config = uvicorn.Config(self, host="127.0.0.1", port=self.port, log_level="error", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("receiver did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._server.force_exit = self.hang_up
        self._thread.join(10)


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``condition`` until it is truthy (a readiness poll, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(delay)
        delay = min(delay * 1.5, 0.2)
    raise AssertionError(f"timed out waiting for {what}")
