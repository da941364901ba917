"""Session recording snapshots (``/s/``): kept in their own table, never mixed with events."""

from __future__ import annotations

import time
import uuid as uuidlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio.to_thread
import orjson

from hedgerow.ingest.collector import collector_paused
from hedgerow.ingest.decode import INLINE_BYTES, DecodeInWorker, decode_body
from hedgerow.ingest.errors import InvalidToken, RequestParsingError
from hedgerow.ingest.normalise import parse_time
from hedgerow.ingest.parse import CaptureRequest, parse_request
from hedgerow.store.events.protocol import EventStore

RECORDINGS_LIMIT = 25 * 1024 * 1024


Offload = Callable[..., Awaitable[Any]]


class Recordings:
    def __init__(self, store: EventStore, resolve_token: Any,
                 offload: Offload = anyio.to_thread.run_sync) -> None:  # fmt: skip
        self._store = store
        self._resolve = resolve_token
        self._offload = offload
        """Runs costly decoding off the loop (the server passes ingestion's bounded pool)."""

    async def capture(self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str], method: str) -> int:
        """Validate and durably store one request's ``$snapshot`` events; return how many.

        As for events, a body that is costly to decode (big, or lz-string) is decoded, and its
        rows made, on a worker thread rather than the event loop.
        """
        decode = (body, headers.get("content-type"), headers.get("content-encoding"), query, method)
        del body
        try:
            request = _decode(*decode, inline_limit=INLINE_BYTES)
        except DecodeInWorker:
            with collector_paused():
                request = await self._offload(_decode, *decode)
                project = self._project(request.token)
                rows = await self._offload(_rows, request, project.id)
        else:
            rows = _rows(request, self._project(request.token).id)
        del request
        await anyio.to_thread.run_sync(self._store.insert_snapshots, rows)
        return len(rows)

    def _project(self, token: str) -> Any:
        project = self._resolve(token)
        if project is None:
            raise InvalidToken("no project has this token")
        return project


def _decode(body: bytes, content_type: str | None, content_encoding: str | None,
            query: Mapping[str, str], method: str, inline_limit: int | None = None) -> CaptureRequest:  # fmt: skip
    payload = decode_body(body, content_type=content_type, content_encoding=content_encoding,
                          query=query, method=method, max_size=RECORDINGS_LIMIT,
                          inline_limit=inline_limit)  # fmt: skip
    return parse_request(payload, query=query, path="/s/")


def _rows(request: CaptureRequest, team_id: int) -> list[tuple]:
    now_us = time.time_ns() // 1000
    rows = []
    for event, distinct_id in zip(request.events, request.distinct_ids):
        props = event.get("properties") or {}
        data = props.get("$snapshot_data")
        session_id, window_id = props.get("$session_id"), props.get("$window_id")
        if data is None or not session_id or not window_id:
            raise RequestParsingError("snapshot event needs $snapshot_data, $session_id and $window_id")
        raw_ts = event.get("timestamp")
        ts = parse_time(raw_ts) if raw_ts else None
        event_uuid = event.get("uuid") or str(uuidlib.uuid4())
        try:
            snapshot = orjson.dumps(data).decode()
        except orjson.JSONEncodeError as exc:
            raise RequestParsingError(f"$snapshot_data cannot be stored: {exc}") from None
        rows.append((
            team_id, str(event_uuid), str(session_id), str(window_id), distinct_id,
            ts if ts is not None else now_us, now_us, snapshot,
        ))  # fmt: skip
    return rows
