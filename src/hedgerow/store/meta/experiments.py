"""Experiment rows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hedgerow import clock
from hedgerow.store.meta.tables import experiments


@dataclass(frozen=True)
class ExperimentRecord:
    id: int | None
    project_id: int
    name: str
    description: str | None
    feature_flag_id: int
    type: str
    start_date: datetime | None
    end_date: datetime | None
    parameters: dict[str, Any] | None
    filters: dict[str, Any]
    metrics: list[Any]
    metrics_secondary: list[Any]
    secondary_metrics: list[Any]
    stats_config: dict[str, Any] | None
    exposure_criteria: dict[str, Any] | None
    scheduling_config: dict[str, Any] | None
    primary_metrics_ordered_uuids: list[str] | None
    secondary_metrics_ordered_uuids: list[str] | None
    archived: bool
    deleted: bool
    conclusion: str | None
    conclusion_comment: str | None
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime


_DATES = ("start_date", "end_date", "created_at", "updated_at")


def _record(row: Any) -> ExperimentRecord:
    values = dict(row._mapping)
    for name in _DATES:
        values[name] = clock.as_utc(values[name]) if values[name] else None
    return ExperimentRecord(**values)


def insert(conn: Connection, experiment: ExperimentRecord) -> ExperimentRecord:
    values = asdict(experiment)
    values.pop("id")
    new_id = conn.execute(experiments.insert().values(**values)).inserted_primary_key[0]
    return replace(experiment, id=new_id)


def get(conn: Connection, project_id: int, experiment_id: int) -> ExperimentRecord | None:
    """A live (not deleted) experiment of the project (None for ids no row can have)."""
    if not 0 < experiment_id < 2**63:
        return None
    query = sa.select(experiments).where(
        experiments.c.id == experiment_id, experiments.c.project_id == project_id, experiments.c.deleted.is_(False)
    )
    row = conn.execute(query).first()
    return _record(row) if row else None


def live(conn: Connection, project_id: int) -> list[ExperimentRecord]:
    """The project's experiments that are not deleted, newest first."""
    query = (
        sa.select(experiments)
        .where(experiments.c.project_id == project_id, experiments.c.deleted.is_(False))
        .order_by(experiments.c.created_at.desc(), experiments.c.id.desc())
    )
    return [_record(row) for row in conn.execute(query)]


def save(conn: Connection, experiment: ExperimentRecord) -> None:
    values = asdict(experiment)
    conn.execute(experiments.update().where(experiments.c.id == values.pop("id")).values(**values))
