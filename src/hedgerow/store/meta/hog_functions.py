"""Hog function records, the deliveries they owe, their logs and metrics."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hedgerow import clock
from hedgerow.store.meta.tables import (
    hog_function_deliveries,
    hog_function_logs,
    hog_function_metrics,
    hog_functions,
)

LOGS_KEPT = 5_000
"""Log lines kept per function (older ones are dropped as new ones are written)."""


@dataclass(frozen=True)
class HogFunctionRecord:
    id: str
    project_id: int
    type: str
    name: str | None
    description: str
    enabled: bool
    deleted: bool
    hog: str
    inputs_schema: list[Any]
    inputs: dict[str, Any]
    filters: dict[str, Any]
    masking: dict[str, Any] | None
    mappings: list[Any] | None
    icon_url: str | None
    template_id: str | None
    execution_order: int | None
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Delivery:
    """One request owed to a receiver for one event."""

    id: int
    hog_function_id: str
    project_id: int
    event_uuid: str
    request: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class NewDelivery:
    hog_function_id: str
    project_id: int
    event_uuid: str
    request: dict[str, Any]


@dataclass(frozen=True)
class LogLine:
    hog_function_id: str
    project_id: int
    instance_id: str
    level: str
    message: str
    timestamp: datetime = field(default_factory=clock.now)


@dataclass
class Outcomes:
    """What a round of deliveries changed, written in one transaction."""

    done: list[int] = field(default_factory=list)
    retry: list[tuple[int, int, datetime]] = field(default_factory=list)
    """(delivery id, attempts so far, next attempt at)"""
    logs: list[LogLine] = field(default_factory=list)
    metrics: dict[tuple[str, int, str, str], int] = field(default_factory=dict)
    """(function id, project id, metric name, metric kind) -> count"""

    def count(self, function_id: str, project_id: int, name: str, kind: str, n: int = 1) -> None:
        key = (function_id, project_id, name, kind)
        self.metrics[key] = self.metrics.get(key, 0) + n

    def __bool__(self) -> bool:
        return bool(self.done or self.retry or self.logs or self.metrics)


def _contains(text: str) -> str:
    """A LIKE pattern for ``text`` anywhere, its wildcards escaped with ``\\``."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _record(row: Any) -> HogFunctionRecord:
    values = dict(row._mapping)
    for name in ("created_at", "updated_at"):
        values[name] = clock.as_utc(values[name])
    return HogFunctionRecord(**values)


# -- configuration ---------------------------------------------------------------------------


def insert(conn: Connection, record: HogFunctionRecord) -> None:
    conn.execute(hog_functions.insert().values(**asdict(record)))


def save(conn: Connection, record: HogFunctionRecord) -> None:
    values = asdict(record)
    conn.execute(hog_functions.update().where(hog_functions.c.id == values.pop("id")).values(**values))


def get(conn: Connection, project_id: int, function_id: str, *, deleted_too: bool = False) -> HogFunctionRecord | None:
    query = sa.select(hog_functions).where(hog_functions.c.id == function_id, hog_functions.c.project_id == project_id)
    if not deleted_too:
        query = query.where(hog_functions.c.deleted.is_(False))
    row = conn.execute(query).first()
    return _record(row) if row else None


def search(conn: Connection, project_id: int, *, types: list[str], enabled: bool | None = None,
           search: str | None = None) -> list[HogFunctionRecord]:  # fmt: skip
    """A project's live functions of ``types``, in PostHog's order (execution order, then age)."""
    query = sa.select(hog_functions).where(
        hog_functions.c.project_id == project_id,
        hog_functions.c.deleted.is_(False),
        hog_functions.c.type.in_(types),
    )
    if enabled is not None:
        query = query.where(hog_functions.c.enabled.is_(enabled))
    if search:
        pattern = _contains(search)
        query = query.where(sa.or_(hog_functions.c.name.ilike(pattern, escape="\\"),
                                   hog_functions.c.description.ilike(pattern, escape="\\")))  # fmt: skip
    query = query.order_by(hog_functions.c.execution_order.asc().nulls_last(), hog_functions.c.created_at,
                           hog_functions.c.id)  # fmt: skip
    return [_record(row) for row in conn.execute(query)]


def running(conn: Connection, types: Iterable[str]) -> list[HogFunctionRecord]:
    """Every project's enabled, live functions of ``types``."""
    query = sa.select(hog_functions).where(
        hog_functions.c.deleted.is_(False), hog_functions.c.enabled.is_(True), hog_functions.c.type.in_(list(types))
    )
    return [_record(row) for row in conn.execute(query.order_by(hog_functions.c.created_at))]


# -- the deliveries owed -----------------------------------------------


def enqueue(conn: Connection, deliveries: list[NewDelivery]) -> None:
    if not deliveries:
        return
    now = clock.now()
    conn.execute(hog_function_deliveries.insert(), [
        {**asdict(d), "attempts": 0, "next_attempt_at": now, "created_at": now} for d in deliveries
    ])  # fmt: skip


def owed(conn: Connection, function_id: str) -> int:
    t = hog_function_deliveries
    return conn.execute(sa.select(sa.func.count()).where(t.c.hog_function_id == function_id)).scalar() or 0


def drop_owed(conn: Connection, function_id: str) -> None:
    """Forget what a deleted or disabled function still owed."""
    conn.execute(hog_function_deliveries.delete().where(hog_function_deliveries.c.hog_function_id == function_id))


def record(conn: Connection, outcomes: Outcomes, *, trim: bool = True) -> None:
    """Write a round's outcomes: finished deliveries, rescheduled ones, logs and metrics
    (and, with ``trim``, drop each function's log lines beyond :data:`LOGS_KEPT`)."""
    t = hog_function_deliveries
    if outcomes.done:
        conn.execute(t.delete().where(t.c.id.in_(outcomes.done)))
    for delivery_id, attempts, next_at in outcomes.retry:
        conn.execute(t.update().where(t.c.id == delivery_id).values(attempts=attempts, next_attempt_at=next_at,
                                                                    claimed_by=None))
    if outcomes.logs:
        conn.execute(hog_function_logs.insert(), [asdict(line) for line in outcomes.logs])
        if trim:
            for function_id in {line.hog_function_id for line in outcomes.logs}:
                _trim_logs(conn, function_id)
    hour = clock.now().replace(minute=0, second=0, microsecond=0)
    m = hog_function_metrics
    for (function_id, project_id, name, kind), n in outcomes.metrics.items():
        key = (m.c.hog_function_id == function_id, m.c.hour == hour, m.c.metric_name == name)
        if conn.execute(m.update().where(*key).values(count=m.c.count + n)).rowcount == 0:
            conn.execute(m.insert().values(hog_function_id=function_id, hour=hour, metric_name=name,
                                           metric_kind=kind, project_id=project_id, count=n))  # fmt: skip


def _trim_logs(conn: Connection, function_id: str) -> None:
    t = hog_function_logs
    oldest_kept = conn.execute(
        sa.select(t.c.id).where(t.c.hog_function_id == function_id).order_by(t.c.id.desc()).offset(LOGS_KEPT).limit(1)
    ).scalar()
    if oldest_kept is not None:
        conn.execute(t.delete().where(t.c.hog_function_id == function_id, t.c.id <= oldest_kept))


# -- logs and metrics ------------------------------------------------------------------------


@dataclass(frozen=True)
class LogQuery:
    limit: int = 50
    after: datetime | None = None
    before: datetime | None = None
    search: str | None = None
    levels: tuple[str, ...] = ()
    instance_id: str | None = None


def logs(conn: Connection, function_id: str, q: LogQuery) -> list[tuple[str, datetime, str, str]]:
    """(instance id, timestamp, level, message), newest first."""
    t = hog_function_logs
    query = sa.select(t.c.instance_id, t.c.timestamp, t.c.level, t.c.message).where(t.c.hog_function_id == function_id)
    if q.instance_id:
        query = query.where(t.c.instance_id == q.instance_id)
    if q.after:
        query = query.where(t.c.timestamp > q.after)
    if q.before:
        query = query.where(t.c.timestamp < q.before)
    if q.search:
        query = query.where(t.c.message.ilike(_contains(q.search), escape="\\"))
    if q.levels:
        query = query.where(sa.func.upper(t.c.level).in_([level.upper() for level in q.levels]))
    query = query.order_by(t.c.timestamp.desc(), t.c.id.desc()).limit(q.limit)
    return [(i, clock.as_utc(ts), level, message) for i, ts, level, message in conn.execute(query)]


def metrics(
    conn: Connection, function_id: str, *, breakdown: str, after: datetime | None, before: datetime | None,
    names: list[str], kinds: list[str],
) -> list[tuple[datetime, str, int]]:
    """(hour, breakdown value, count) rows of a function's metrics."""
    m = hog_function_metrics
    column = m.c.metric_name if breakdown == "name" else m.c.metric_kind
    query = sa.select(m.c.hour, column, m.c.count).where(m.c.hog_function_id == function_id)
    if after is not None:
        query = query.where(m.c.hour >= after.replace(minute=0, second=0, microsecond=0))
    if before is not None:
        query = query.where(m.c.hour <= before)
    if names:
        query = query.where(m.c.metric_name.in_(names))
    if kinds:
        query = query.where(m.c.metric_kind.in_(kinds))
    return [(clock.as_utc(hour), value, n) for hour, value, n in conn.execute(query.order_by(m.c.hour))]
