"""Session recording snapshots (``/s/``): kept in their own table, never mixed with events."""

from __future__ import annotations

import time
import uuid as uuidlib
from collections.abc import Mapping
from typing import Any

import anyio.to_thread
import orjson

from hedgerow.ingest.decode import decode_body
from hedgerow.ingest.errors import InvalidToken, RequestParsingError
from hedgerow.ingest.normalise import parse_time
from hedgerow.ingest.parse import parse_request
from hedgerow.store.events.duckdb import DuckDBEventStore

RECORDINGS_LIMIT = 25 * 1024 * 1024


class Recordings:
    def __init__(self, store: DuckDBEventStore, resolve_token: Any) -> None:
        self._store = store
        self._resolve = resolve_token

    async def capture(self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str], method: str) -> int:
        """Validate and durably store one request's ``$snapshot`` events; return how many."""
        payload = decode_body(
            body,
            content_type=headers.get("content-type"),
            content_encoding=headers.get("content-encoding"),
            query=query,
            method=method,
            max_size=RECORDINGS_LIMIT,
        )
        request = parse_request(payload, query=query, path="/s/")
        project = self._resolve(request.token)
        if project is None:
            raise InvalidToken("no project has this token")
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
            rows.append((
                project.id, str(event_uuid), str(session_id), str(window_id), distinct_id,
                ts if ts is not None else now_us, now_us, orjson.dumps(data).decode(),
            ))  # fmt: skip
        await anyio.to_thread.run_sync(self._store.insert_snapshots, rows)
        return len(rows)
