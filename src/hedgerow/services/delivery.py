"""Delivery: matching acknowledged events against destinations, and sending them out.

Durability is ingestion's: an event of a project with destinations is written to an
*outbox* before it is acknowledged, even across ``kill -9`` (in the events file's own
transaction on DuckDB, in the metadata database before the insert on ClickHouse: see
:mod:`hedgerow.store.delivery_outbox`). The matcher claims a batch of the outbox,
evaluates each destination's trigger filters with the HogQL compiler over those events (one
condition per destination, the one insights would use), renders each match into the
request it owes, and stores those requests in the transaction that marks the batch
matched. Requests are deleted once delivered or failed for good, so a crash at any point
redelivers rather than loses (at least once).

Several processes may share one metadata database: each is a *worker* that claims the
outbox rows and the deliveries it works on, and marks itself alive every few seconds; the
claims of a worker not seen for :data:`WORKER_STALE` pass to the others.

Sending runs on its own thread and event loop, never the server's: one *lane* per
destination, with its own bounded concurrency and a timeout per request, so a slow or dead
receiver delays only its own deliveries. Failures that may pass (5xx, 408, 429, timeouts,
connection errors) are retried with exponential backoff; after the last attempt, or at once
for any other failure, the delivery is recorded as failed with its reason in the
destination's logs and metrics.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid as uuid_lib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping
from urllib.parse import quote

import orjson
from sqlglot import exp

from hedgerow import clock
from hedgerow.config import Settings
from hedgerow.destinations import templating
from hedgerow.destinations.filters import trigger_condition
from hedgerow.destinations.legacy_webhook import (
    PERSON_DISPLAY_NAME_PROPERTIES,
    WebhookAction,
    WebhookEvent,
    WebhookProject,
    webhook_request,
)
from hedgerow.destinations.send import Sender, Sent
from hedgerow.errors import Exposed
from hedgerow.hogql import CompileContext, compile_hogql
from hedgerow.hogql.actions import ActionDefinition
from hedgerow.hogql.nodes import Value
from hedgerow.hogql.property_filters import field, literal
from hedgerow.store.delivery_outbox import open_outbox
from hedgerow.store.events.protocol import EventStore, EventStoreError
from hedgerow.store.errors import StoreError
from hedgerow.store.meta import actions as action_store
from hedgerow.store.meta import definitions
from hedgerow.store.meta import delivery_claims as claims
from hedgerow.store.meta import hog_functions as store
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.hog_functions import HogFunctionRecord, LogLine, NewDelivery, Outcomes
from hedgerow.store.meta.actions import ActionRecord
from hedgerow.store.meta.tenancy import Project

log = logging.getLogger(__name__)

OUTBOX_BATCH = 1_000
LANE_CONCURRENCY = 8
"""Requests in flight per destination."""
LANE_BATCH = 256
"""Due deliveries a lane takes at a time (their outcomes are written in one transaction)."""
TRIM_EVERY = 20
"""Rounds of outcomes between trims of the logs."""
IDLE_SECONDS = 0.1
MAX_BACKOFF = timedelta(minutes=10)
RELOAD_SECONDS = 5.0
"""How often the running destinations are read again (another process may have changed them)."""
HEARTBEAT_SECONDS = 2.0
WORKER_STALE = timedelta(seconds=15)
"""A worker not seen for this long is taken for dead: its claims are free."""
MATCH_TIMEOUT_SECONDS = 30.0
MATCH_ROWS = 50_000
"""At most this many events of one ingestion-time range are read per destination and batch."""
UUIDS_PER_READ = 500
_COLUMNS = ("uuid", "event", "distinct_id", "properties", "timestamp", "elements_chain", "person_id",
            "person.properties", "created_at")  # fmt: skip


LEGACY_PREFIX = "action-webhook-"
"""Lane ids of the legacy action webhooks (an action with ``post_to_slack`` posting to its
project's ``slack_incoming_webhook``): matched, queued, retried and logged like destinations."""


def legacy_lane(action: ActionRecord) -> HogFunctionRecord:
    """The legacy webhook of ``action`` as a destination triggered by that action."""
    return HogFunctionRecord(
        id=f"{LEGACY_PREFIX}{action.id}", project_id=action.project_id, type="destination", name=action.name,
        description="", enabled=True, deleted=False, hog="", inputs_schema=[], inputs={},
        filters={"actions": [{"id": action.id, "type": "actions"}]}, masking=None, mappings=None, icon_url=None,
        template_id=None, execution_order=None, created_by_id=action.created_by_id, created_at=action.created_at,
        updated_at=action.updated_at,
    )  # fmt: skip


@dataclass(frozen=True)
class MatchedEvent:
    uuid: str
    event: str
    distinct_id: str
    properties: dict[str, Any]
    timestamp: datetime
    elements_chain: str
    person_id: str | None
    person_properties: dict[str, Any]


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, (str, bytes)) and value:
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _iso(value: datetime) -> str:
    value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def person_name(properties: Mapping[str, Any], distinct_id: str, names: Any = None) -> str:
    """PostHog's person display name: the first display-name property set, else the distinct id."""
    for name in names or PERSON_DISPLAY_NAME_PROPERTIES:
        value = properties.get(name)
        if value:
            return value if isinstance(value, str) else orjson.dumps(value).decode()
    return distinct_id


def invocation_globals(fn: HogFunctionRecord, event: MatchedEvent, project: Project, site_url: str) -> dict[str, Any]:
    """What input templates may refer to, in PostHog's shape."""
    base = f"{site_url.rstrip('/')}/project/{project.id}"
    timestamp = _iso(event.timestamp)
    person = None
    if event.person_id:
        person = {
            "id": event.person_id,
            "name": person_name(event.person_properties, event.distinct_id,
                                project.settings.get("person_display_name_properties")),  # fmt: skip
            "properties": event.person_properties,
            "url": f"{base}/person/{quote(event.distinct_id, safe='')}",
        }
    return {
        "event": {
            "uuid": event.uuid, "event": event.event, "distinct_id": event.distinct_id,
            "properties": event.properties, "elements_chain": event.elements_chain, "timestamp": timestamp,
            "url": f"{base}/events/{quote(event.uuid, safe='')}/{quote(timestamp, safe='')}",
        },
        "person": person,
        "groups": {},
        "project": {"id": project.id, "name": project.name, "url": base},
        "source": {"name": fn.name, "url": f"{base}/pipeline/destinations/hog-{fn.id}/configuration/"},
        "inputs": {key: item.get("value") for key, item in fn.inputs.items()},
    }  # fmt: skip


def render_request(fn: HogFunctionRecord, globals_: Mapping[str, Any]) -> dict[str, Any]:
    """The webhook template run on one event: the request it makes."""
    inputs = {key: templating.render(item.get("value"), globals_) for key, item in fn.inputs.items()}
    headers = {str(k): templating.as_text(v) for k, v in (inputs.get("headers") or {}).items()}
    body = inputs.get("body")
    if body is not None and not isinstance(body, str) and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    return {"url": templating.as_text(inputs.get("url")), "method": inputs.get("method") or "POST",
            "headers": headers, "body": body, "debug": bool(inputs.get("debug"))}  # fmt: skip


class Delivery:
    """The matcher and the per-destination lanes, on one thread with its own event loop."""

    def __init__(self, settings: Settings, meta: MetaDB, events: EventStore,
                 project: Any, actions: Callable[[int], Mapping[int, ActionDefinition]]) -> None:  # fmt: skip
        self.settings = settings
        self.meta = meta
        self.events = events
        self.worker = str(uuid_lib.uuid4())
        """This process's id among the workers sharing the metadata database."""
        self.outbox = open_outbox(meta, events, self.worker, WORKER_STALE)
        self.project = project
        """project id -> Project (or None)"""
        self.actions = actions
        """project id -> its actions (the actions service's cached snapshot)"""
        self._destinations: dict[int, list[HogFunctionRecord]] = {}
        self._by_id: dict[str, HogFunctionRecord] = {}
        self._legacy: dict[str, tuple[ActionRecord, str]] = {}
        """lane id -> (action, the project's incoming webhook URL)"""
        self._reload = threading.Event()
        self._stop = threading.Event()
        self._rounds = 0
        self._loaded_at = 0.0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self.load()

    # -- lifecycle ---------------------------------------------------------------------------

    def load(self) -> None:
        """Read the running destinations; the events store starts or stops filling the outbox."""
        self._loaded_at = time.monotonic()
        with self.meta.read() as conn:
            running = store.running(conn, ["destination"])
            posting = action_store.posting_to_slack(conn)
        legacy: dict[str, tuple[ActionRecord, str]] = {}
        for action in posting:
            project = self.project(action.project_id)
            url = project.settings.get("slack_incoming_webhook") if project is not None else None
            if url:
                lane = legacy_lane(action)
                running.append(lane)
                legacy[lane.id] = (action, url)
        self._legacy = legacy
        by_project: dict[int, list[HogFunctionRecord]] = defaultdict(list)
        for fn in running:
            by_project[fn.project_id].append(fn)
        self._destinations = dict(by_project)
        self._by_id = {fn.id: fn for fn in running}
        self.outbox.watch(frozenset(by_project))

    def changed(self) -> None:
        """A destination was created, changed or deleted."""
        self.load()
        self._nudge()

    def _nudge(self) -> None:
        """Wake the matcher now rather than at its next poll."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:  # the loop has closed
                pass

    def start(self) -> None:
        if self._thread is None:
            self._alive()
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="hedgerow-delivery", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._nudge()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
            try:
                with self.meta.write() as conn:
                    claims.retire(conn, self.worker)
            except StoreError:  # its claims pass to the others once it is stale
                log.exception("could not release this process's delivery claims")

    def _alive(self) -> None:
        with self.meta.write() as conn:
            claims.alive(conn, self.worker, clock.now())

    async def _heartbeat(self) -> None:
        """Mark this worker alive every :data:`HEARTBEAT_SECONDS`, apart from the matcher
        (whose queries may take longer than that)."""
        while not self._stop.is_set():
            try:
                await asyncio.to_thread(self._alive)
            except Exception:  # noqa: BLE001 - retried at the next beat
                log.exception("could not mark this delivery worker alive")
            await asyncio.sleep(HEARTBEAT_SECONDS)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        lanes: dict[str, asyncio.Task[None]] = {}
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while not self._stop.is_set():
                try:
                    if time.monotonic() - self._loaded_at >= RELOAD_SECONDS:
                        await asyncio.to_thread(self.load)
                    matched = await asyncio.to_thread(self.match_once)
                except Exception:  # noqa: BLE001 - a store error or a bug: retried, never fatal
                    log.exception("matching events against destinations failed; will retry")
                    matched = 0
                    await asyncio.sleep(1.0)
                for fn_id in list(lanes):
                    if fn_id not in self._by_id or lanes[fn_id].done():
                        lanes.pop(fn_id).cancel()
                for fn_id in self._by_id:
                    if fn_id not in lanes:
                        lanes[fn_id] = asyncio.create_task(self._lane(fn_id))
                if not matched:
                    self._wake.clear()
                    try:
                        await asyncio.wait_for(self._wake.wait(), IDLE_SECONDS)
                    except asyncio.TimeoutError:
                        pass
        finally:
            for task in (*lanes.values(), heartbeat):
                task.cancel()
            await asyncio.gather(*lanes.values(), heartbeat, return_exceptions=True)

    # -- matching ----------------------------------------------------------------------------

    def match_once(self) -> int:
        """Match one batch of the outbox; returns how many outbox rows it consumed."""
        batch = self.outbox.claim(OUTBOX_BATCH)
        if batch is None:
            return 0
        by_team: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
        for team_id, uuid, created_at in batch.rows:
            by_team[team_id].append((uuid, created_at))
        if not by_team.keys() <= self._destinations.keys():
            self.load()  # another process queued them for a destination this one has not read yet
        outcomes = Outcomes()
        owed: list[NewDelivery] = []
        for team_id, events in by_team.items():
            destinations = self._destinations.get(team_id, [])
            project = self.project(team_id) if destinations else None
            if project is None:
                continue
            for fn in destinations:
                owed.extend(self._match(fn, project, events, outcomes))
        with self.meta.write() as conn:
            store.enqueue(conn, owed)
            store.record(conn, outcomes, trim=True)
            self.outbox.settle(conn, batch)
        self.outbox.settled(batch)
        return len(batch.rows)

    def _match(self, fn: HogFunctionRecord, project: Project, events: list[tuple[str, datetime]],
               outcomes: Outcomes) -> list[NewDelivery]:  # fmt: skip
        try:
            matched = self._query(fn, project, events)
        except (EventStoreError, StoreError):
            raise  # the batch is matched again, for every destination
        except Exception as exc:  # noqa: BLE001 - this destination's filters fail, not the others'
            if not isinstance(exc, Exposed):
                log.exception("filtering events for destination %s failed", fn.id)
            detail = exc.detail if isinstance(exc, Exposed) else f"internal error ({type(exc).__name__})"
            outcomes.count(fn.id, fn.project_id, "filtering_failed", "failure", len(events))
            outcomes.logs.append(LogLine(fn.id, fn.project_id, events[0][0], "ERROR",
                                         f"Error filtering {len(events)} events: {detail}"))  # fmt: skip
            return []
        if len(matched) < len(events):
            outcomes.count(fn.id, fn.project_id, "filtered", "other", len(events) - len(matched))
        owed = []
        for event in matched:
            try:
                request = self._request(fn, event, project)
            except templating.TemplateError as exc:
                outcomes.count(fn.id, fn.project_id, "inputs_failed", "failure")
                outcomes.logs.append(
                    LogLine(fn.id, fn.project_id, event.uuid, "ERROR", f"Error rendering inputs: {exc}"))
                continue
            owed.append(NewDelivery(fn.id, fn.project_id, event.uuid, request))
        return owed

    def _request(self, fn: HogFunctionRecord, event: MatchedEvent, project: Project) -> dict[str, Any]:
        """The request ``fn`` makes for ``event``: its webhook template's, or the legacy
        action webhook's message."""
        legacy = self._legacy.get(fn.id)
        if legacy is None:
            return render_request(fn, invocation_globals(fn, event, project, self.settings.site_url))
        action, url = legacy
        names = project.settings.get("person_display_name_properties")
        return webhook_request(
            url,
            WebhookAction(action.id or 0, action.name, action.slack_message_format),
            WebhookEvent(event.uuid, event.event, event.distinct_id, _iso(event.timestamp), event.properties,
                         event.person_properties if event.person_id else None),  # fmt: skip
            WebhookProject(project.id, self.settings.site_url, tuple(names) if names else None),
        )

    def _query(self, fn: HogFunctionRecord, project: Project, events: list[tuple[str, datetime]]) -> list[MatchedEvent]:
        """The batch's events that meet the destination's trigger condition, in event time."""
        condition = trigger_condition(fn.filters, test_account_filters=project.settings.get("test_account_filters"))
        wanted = {uuid for uuid, _ in events}
        # By the batch's ingestion-time range (which the engine prunes on), keeping its uuids
        # in Python: cheaper than a thousand literals. A range that holds more events than one
        # read (a slow request's old ``created_at`` among new ones) is read by uuid instead.
        created = [created_at for _, created_at in events]
        in_range = exp.and_(exp.GTE(this=field("created_at"), expression=Value(this=min(created))),
                            exp.LTE(this=field("created_at"), expression=Value(this=max(created))))  # fmt: skip
        rows = self._select(project, exp.and_(in_range, condition), MATCH_ROWS)
        if len(rows) >= MATCH_ROWS:
            ids = sorted(wanted)
            rows = []
            for start in range(0, len(ids), UUIDS_PER_READ):
                chunk = [literal(uuid) for uuid in ids[start : start + UUIDS_PER_READ]]
                by_uuid = exp.In(this=exp.Anonymous(this="toString", expressions=[field("uuid")]), expressions=chunk)
                rows.extend(self._select(project, exp.and_(by_uuid, condition), len(chunk)))
        out = []
        for uuid, event, distinct_id, props, timestamp, chain, person_id, person_props, _ in rows:
            if str(uuid) not in wanted:
                continue
            if isinstance(timestamp, str):
                timestamp = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
            out.append(MatchedEvent(str(uuid), event, distinct_id, _json(props), timestamp, chain or "",
                                    str(person_id) if person_id else None, _json(person_props)))  # fmt: skip
        out.sort(key=lambda e: e.timestamp)
        return out

    def _select(self, project: Project, where: exp.Expression, limit: int) -> list[list[Any]]:
        """``_COLUMNS`` of the project's events meeting ``where`` (a HogQL tree), compiled
        like any HogQL query (team guard, property types, person properties)."""
        tree = exp.Select(expressions=[field(*name.split(".")) for name in _COLUMNS])
        tree = tree.from_(exp.Table(this=exp.Identifier(this="events", quoted=True))).where(where, copy=False)
        tree = tree.order_by(exp.Ordered(this=field("timestamp")), copy=False).limit(limit, copy=False)
        with self.meta.read() as conn:
            property_types = definitions.property_types(conn, project.id)
        ctx = CompileContext(team_id=project.id, timezone="UTC", property_types=property_types,
                             modifiers={"convertToProjectTimezone": False}, actions=self.actions(project.id))  # fmt: skip
        compiled = compile_hogql(tree, ctx, engine=self.events.engine)
        return self.events.execute(compiled, MATCH_TIMEOUT_SECONDS).results

    # -- sending -----------------------------------------------------------------------------

    async def _lane(self, fn_id: str) -> None:
        """Deliver one destination's due requests, ``LANE_CONCURRENCY`` at a time, over
        connections of its own."""
        limit = asyncio.Semaphore(LANE_CONCURRENCY)
        sender = Sender(allow_private=self.settings.webhooks_allow_private, max_connections=LANE_CONCURRENCY)
        try:
            await self._deliver(fn_id, sender, limit)
        finally:
            await sender.close()

    async def _deliver(self, fn_id: str, sender: Sender, limit: asyncio.Semaphore) -> None:
        async def attempt(delivery: store.Delivery) -> tuple[store.Delivery, Sent]:
            async with limit:
                return delivery, await sender.send(delivery.request)

        while not self._stop.is_set() and fn_id in self._by_id:
            try:
                due = await asyncio.to_thread(self._due, fn_id)
                if not due:
                    await asyncio.sleep(IDLE_SECONDS)
                    continue
                results = await asyncio.gather(*(attempt(d) for d in due))
                await asyncio.to_thread(self._record, results)
            except Exception:  # noqa: BLE001 - a store error or a bug: retried, never fatal
                log.exception("delivery lane of %s failed; will retry", fn_id)
                await asyncio.sleep(1.0)

    def _due(self, fn_id: str) -> list[store.Delivery]:
        with self.meta.write() as conn:
            return claims.claim_due(conn, fn_id, self.worker, clock.now(), LANE_BATCH, WORKER_STALE)

    def _record(self, results: list[tuple[store.Delivery, Sent]]) -> None:
        outcomes = Outcomes()
        now = clock.now()
        max_attempts = self.settings.webhooks_max_attempts
        for delivery, sent in results:
            fn_id, project_id = delivery.hog_function_id, delivery.project_id
            attempt = delivery.attempts + 1
            line = f"{delivery.request.get('method', 'POST')} {delivery.request.get('url')}"
            if sent.ok:
                outcomes.done.append(delivery.id)
                outcomes.count(fn_id, project_id, "succeeded", "success")
                message = f"Delivered event {delivery.event_uuid}: {line} answered {sent.reason} (attempt {attempt})"
                if delivery.request.get("debug"):
                    message += f". Response: {sent.body[:1000]}"
                outcomes.logs.append(LogLine(fn_id, project_id, delivery.event_uuid, "INFO", message))
            elif sent.retryable and attempt < max_attempts:
                wait = min(timedelta(seconds=self.settings.webhooks_retry_seconds * 2 ** (attempt - 1)), MAX_BACKOFF)
                outcomes.retry.append((delivery.id, attempt, now + wait))
                outcomes.logs.append(LogLine(fn_id, project_id, delivery.event_uuid, "WARN",
                                             f"Attempt {attempt} of {max_attempts} failed: {line}: {sent.reason}. "
                                             f"Retrying in {wait.total_seconds():g}s"))  # fmt: skip
            else:
                outcomes.done.append(delivery.id)
                outcomes.count(fn_id, project_id, "failed", "failure")
                tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
                outcomes.logs.append(LogLine(fn_id, project_id, delivery.event_uuid, "ERROR",
                                             f"Delivery of event {delivery.event_uuid} failed after {tries}: "
                                             f"{line}: {sent.reason}"))  # fmt: skip
        self._rounds += 1
        with self.meta.write() as conn:
            store.record(conn, outcomes, trim=self._rounds % TRIM_EVERY == 0)
