"""Experiments' query kinds for ``POST /query/``: the experiment they name, read from the
metadata store, and the runners of :mod:`hedgerow.experiments.results`."""

from __future__ import annotations

import dataclasses
from typing import Any

from hedgerow.errors import NotFound, ValidationError
from hedgerow.experiments import results
from hedgerow.experiments.models import (
    ExperimentExposureQuery,
    ExperimentFunnelsQuery,
    ExperimentQuery,
    ExperimentTrendsQuery,
)
from hedgerow.services.annotations import parse_datetime
from hedgerow.store.meta import experiments as experiment_store
from hedgerow.store.meta import flags as flag_store
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.tenancy import Project


def setup(ctx: Any, experiment_id: int | None) -> results.Setup:
    """What the experiment ``experiment_id`` of the run's project says (404 when it has none)."""
    return read_setup(ctx.meta, ctx.project, experiment_id)


def read_setup(meta: MetaDB, project: Project, experiment_id: int | None) -> results.Setup:
    """What the experiment ``experiment_id`` of ``project`` and its flag say (404 when it has none)."""
    if experiment_id is None:
        raise ValidationError("experiment_id is required", attr="experiment_id")
    with meta.read() as conn:
        experiment = experiment_store.get(conn, project.id, experiment_id)
        flag = flag_store.get(conn, project.id, experiment.feature_flag_id) if experiment else None
    if experiment is None or flag is None:
        raise NotFound(f"Experiment {experiment_id} does not exist.")
    return results.Setup(
        experiment_id=experiment_id, flag_key=flag.key, flag_filters=flag.filters, start_date=experiment.start_date,
        end_date=experiment.end_date, exposure_criteria=experiment.exposure_criteria,
        stats_config=experiment.stats_config,
        test_account_filters=list((project.settings or {}).get("test_account_filters") or []),
        timezone=project.timezone or "UTC",
    )  # fmt: skip


def state(meta: MetaDB, project: Project, node: Any) -> Any:
    """What an experiment query's result depends on besides the query: the experiment's settings
    and its flag (None when it names no experiment: such a query fails, and is never cached)."""
    try:
        return dataclasses.asdict(read_setup(meta, project, node.experiment_id))
    except (NotFound, ValidationError):
        return None


def run_exposures(ctx: Any, node: ExperimentExposureQuery) -> dict[str, Any]:
    """The exposure insight, with the query's flag, dates and criteria over the experiment's."""
    base = setup(ctx, node.experiment_id)
    changes: dict[str, Any] = {}
    if node.feature_flag:
        key, filters = node.feature_flag.get("key"), node.feature_flag.get("filters")
        if not isinstance(key, str) or not key:
            raise ValidationError("feature_flag key is required", attr="feature_flag")
        changes.update(flag_key=key, flag_filters=filters if isinstance(filters, dict) else {})
    if node.start_date:
        changes["start_date"] = parse_datetime(node.start_date, "start_date")
    if node.end_date:
        changes["end_date"] = parse_datetime(node.end_date, "end_date")
    if node.exposure_criteria is not None:
        changes["exposure_criteria"] = node.exposure_criteria
    return results.run_exposures(ctx, results.Setup(**{**base.__dict__, **changes}))


def run_metric(ctx: Any, node: ExperimentQuery) -> dict[str, Any]:
    return results.run_metric(ctx, setup(ctx, node.experiment_id), node.metric)


def run_trends(ctx: Any, node: ExperimentTrendsQuery) -> dict[str, Any]:
    return results.run_legacy(ctx, setup(ctx, node.experiment_id), "mean", node)


def run_funnels(ctx: Any, node: ExperimentFunnelsQuery) -> dict[str, Any]:
    return results.run_legacy(ctx, setup(ctx, node.experiment_id), "funnel", node)


KINDS = {
    "ExperimentQuery": (ExperimentQuery, run_metric),
    "ExperimentExposureQuery": (ExperimentExposureQuery, run_exposures),
    "ExperimentTrendsQuery": (ExperimentTrendsQuery, run_trends),
    "ExperimentFunnelsQuery": (ExperimentFunnelsQuery, run_funnels),
}
"""Query kind -> (request model, runner(run context, query))."""
