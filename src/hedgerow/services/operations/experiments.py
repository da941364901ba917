"""Experiments: list, create, retrieve, update, soft delete (``/api/projects/:id/experiments/``),
and their results as PostHog's MCP tool reads them."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from hedgerow import clock
from hedgerow.errors import Exposed, ValidationError
from hedgerow.services.catalogue import Catalogue, Context, Listed, Output, Tool
from hedgerow.services.catalogue.paging import Paged, shown
from hedgerow.services.experiments import ExperimentRecord, status
from hedgerow.services.flag_definitions import flag_definition
from hedgerow.services.operations.organizations import UserBasic, user_lookup
from hedgerow.services.operations.query import refused_data

operations = Catalogue()


class Experiment(Output):
    """An experiment as PostHog's serializer shows it, with the flag behind it."""

    id: int | None
    name: str
    description: str | None
    start_date: str | None
    end_date: str | None
    feature_flag_key: str
    feature_flag: dict[str, Any]
    holdout: None = None
    holdout_id: None = None
    exposure_cohort: None = None
    parameters: dict[str, Any] | None
    secondary_metrics: list[Any]
    saved_metrics: list[Any] = []
    filters: dict[str, Any]
    archived: bool
    deleted: bool
    created_by: UserBasic | None
    created_at: str | None
    updated_at: str | None
    type: str
    exposure_criteria: dict[str, Any] | None
    metrics: list[Any]
    metrics_secondary: list[Any]
    stats_config: dict[str, Any] | None
    scheduling_config: dict[str, Any] | None
    conclusion: str | None
    conclusion_comment: str | None
    primary_metrics_ordered_uuids: list[str] | None
    secondary_metrics_ordered_uuids: list[str] | None
    exposure_preaggregation_enabled: bool = False
    only_count_matured_users: bool = False
    status: str
    user_access_level: str = "editor"

    @classmethod
    def of(cls, ctx: Context, experiment: ExperimentRecord, users: Any = None) -> "Experiment":
        users = users or user_lookup(ctx)
        flag = ctx.services.experiments.flag(experiment)
        return cls(
            id=experiment.id,
            name=experiment.name,
            description=experiment.description,
            start_date=clock.iso(experiment.start_date),
            end_date=clock.iso(experiment.end_date),
            feature_flag_key=flag.key,
            feature_flag=flag_definition(flag),
            parameters=experiment.parameters,
            secondary_metrics=experiment.secondary_metrics,
            filters=experiment.filters,
            archived=experiment.archived,
            deleted=experiment.deleted,
            created_by=UserBasic.of(users(experiment.created_by_id)),
            created_at=clock.iso(experiment.created_at),
            updated_at=clock.iso(experiment.updated_at),
            type=experiment.type,
            exposure_criteria=experiment.exposure_criteria,
            metrics=experiment.metrics,
            metrics_secondary=experiment.metrics_secondary,
            stats_config=experiment.stats_config,
            scheduling_config=experiment.scheduling_config,
            conclusion=experiment.conclusion,
            conclusion_comment=experiment.conclusion_comment,
            primary_metrics_ordered_uuids=experiment.primary_metrics_ordered_uuids,
            secondary_metrics_ordered_uuids=experiment.secondary_metrics_ordered_uuids,
            status=status(experiment),
        )


class ExperimentList(Paged):
    DEFAULT_LIMIT: ClassVar[int] = 100
    search: str | None = None
    archived: str | None = None
    status: str | None = Field(default=None, json_schema_extra={"enum": ["draft", "running", "complete", "all"]})
    created_by_id: str | None = None
    order: str | None = None


class ExperimentFields(BaseModel):
    """The writable fields (the main ones named for agents' tools); checked by the experiment
    service in PostHog's words, first error first."""

    model_config = ConfigDict(extra="allow")
    name: Any = None
    description: Any = None
    feature_flag_key: Any = None
    parameters: Any = Field(None, description="{'feature_flag_variants': [{'key': 'control', "
                                              "'rollout_percentage': 50}, ...], 'ensure_experience_continuity': bool}")
    metrics: Any = None
    metrics_secondary: Any = None
    start_date: Any = None
    end_date: Any = None
    exposure_criteria: Any = None
    stats_config: Any = None

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class ExperimentId(BaseModel):
    model_config = ConfigDict(extra="ignore")
    experiment_id: int = Field(validation_alias=AliasChoices("experiment_id", "experimentId", "id"))


class ExperimentUpdate(ExperimentFields):
    model_config = ConfigDict(extra="allow")
    experiment_id: int = Field(validation_alias=AliasChoices("experiment_id", "experimentId", "id"))


STATUSES = ("draft", "running", "complete", "all")
ORDERABLE = ("created_at", "name", "start_date", "end_date", "updated_at", "id")


def _listed(args: ExperimentList, experiments: list[ExperimentRecord]) -> list[ExperimentRecord]:
    """PostHog's list filters: archived ones only on ``archived=true``, status, search, creator."""
    archived = args.archived == "true"
    found = [e for e in experiments if e.archived == archived]
    if args.status is not None:
        if args.status not in STATUSES:
            raise ValidationError(f'"{args.status[:100]}" is not a valid choice.', code="invalid_choice", attr="status")
        wanted = {"draft": "draft", "running": "running", "complete": "stopped"}.get(args.status)
        found = [e for e in found if wanted is None or status(e) == wanted]
    if args.search:
        needle = args.search.lower()
        found = [e for e in found if needle in e.name.lower()]
    if args.created_by_id:
        found = [e for e in found if str(e.created_by_id) == args.created_by_id]
    order = (args.order or "-created_at").strip()
    name = order.lstrip("-")
    if name in ORDERABLE:
        present = [e for e in found if getattr(e, name) is not None]
        missing = [e for e in found if getattr(e, name) is None]
        present.sort(key=lambda e: (getattr(e, name), e.id), reverse=order.startswith("-"))
        found = present + missing
    return found


@operations.operation("experiment.list", "experiment:read", input=ExperimentList, output=Experiment,
                      tool=Tool("experiment-get-all", "Get all experiments", read_only=True))  # fmt: skip
def list_experiments(ctx: Context, args: ExperimentList) -> Listed:
    """The project's experiments (not deleted), newest first, each with its flag."""
    experiments = _listed(args, ctx.services.experiments.live(ctx.project_id))
    users = user_lookup(ctx)
    return shown(args, experiments, lambda e: Experiment.of(ctx, e, users))


@operations.operation("experiment.create", "experiment:write", output=Experiment, input=ExperimentFields,
                      tool=Tool("experiment-create", "Create an experiment", read_only=False))  # fmt: skip
def create_experiment(ctx: Context, args: ExperimentFields) -> Experiment:
    """A new experiment (a draft unless ``start_date`` is given) and the flag behind it."""
    return Experiment.of(ctx, ctx.services.experiments.create(ctx.project_id, ctx.user_id, args.given()))


@operations.operation("experiment.retrieve", "experiment:read", output=Experiment, input=ExperimentId,
                      tool=Tool("experiment-get", "Get an experiment", read_only=True))  # fmt: skip
def retrieve_experiment(ctx: Context, args: ExperimentId) -> Experiment:
    """One experiment (a deleted one answers 404)."""
    return Experiment.of(ctx, ctx.services.experiments.get(ctx.project_id, args.experiment_id))


@operations.operation("experiment.update", "experiment:write", output=Experiment, input=ExperimentUpdate)
def update_experiment(ctx: Context, args: ExperimentUpdate) -> Experiment:
    """Change an experiment; a ``start_date`` on a draft launches it (its flag is activated),
    ``deleted: true`` soft-deletes it."""
    changes = {k: v for k, v in args.given().items() if k != "experiment_id"}
    updated = ctx.services.experiments.update(ctx.project_id, args.experiment_id, ctx.user_id, changes)
    return Experiment.of(ctx, updated)


operations.soft_delete_only("experiment.destroy", "experiment:write", input=ExperimentId)


# -- results (PostHog's MCP tool) --------------------------------------------------------------


class ResultsRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    experiment_id: int = Field(validation_alias=AliasChoices("experiment_id", "experimentId", "id"))
    refresh: bool = False


class ResultsExperiment(Output):
    """The experiment as PostHog's ``experiment-results-get`` tool summarises it."""

    id: int | None
    name: str
    description: str | None
    feature_flag_key: str
    metrics: list[Any]
    metrics_secondary: list[Any]
    start_date: str | None
    end_date: str | None
    status: str
    variants: list[Any]


class MetricResult(Output):
    index: int
    data: dict[str, Any]


class MetricResults(Output):
    count: int
    results: list[MetricResult]


class ExperimentResults(Output):
    """An experiment, its exposures and its metrics' results (the query service's answers)."""

    experiment: ResultsExperiment
    exposures: dict[str, Any]
    metrics: dict[str, MetricResults]


def _query(ctx: Context, query: dict[str, Any], refresh: bool) -> dict[str, Any]:
    assert ctx.project is not None
    request = {"query": query, "refresh": "force_blocking" if refresh else "blocking"}
    _, body = ctx.services.query.run(ctx.project, request, refused=refused_data(ctx))
    return body


@operations.operation("experiment.results", "experiment:read", input=ResultsRequest, rate="query",
                      also=("query:read",), output=ExperimentResults,
                      tool=Tool("experiment-results-get", "Get experiment results", read_only=True))  # fmt: skip
def experiment_results(ctx: Context, args: ResultsRequest) -> ExperimentResults:
    """An experiment, its exposures and its primary and secondary metrics' results (a metric whose
    query fails is left out), as PostHog's ``experiment-results-get`` tool answers."""
    experiment = ctx.services.experiments.get(ctx.project_id, args.experiment_id)
    if experiment.start_date is None:
        raise ValidationError(
            f'Experiment "{experiment.name}" has not started yet. Results will be available once the experiment '
            "is launched."
        )
    flag = ctx.services.experiments.flag(experiment)
    exposures = _query(ctx, {"kind": "ExperimentExposureQuery", "experiment_id": experiment.id,
                             "experiment_name": experiment.name}, args.refresh)  # fmt: skip
    metrics: dict[str, MetricResults] = {}
    for name, listed in (("primary", experiment.metrics), ("secondary", experiment.metrics_secondary)):
        found = []
        for index, metric in enumerate(listed):
            try:
                data = _query(ctx, {"kind": "ExperimentQuery", "experiment_id": experiment.id, "metric": metric},
                              args.refresh)  # fmt: skip
            except Exposed:
                continue
            found.append(MetricResult(index=index, data=data))
        metrics[name] = MetricResults(count=len(found), results=found)
    variants = [v.get("key") for v in (flag.filters.get("multivariate") or {}).get("variants") or []]
    summary = ResultsExperiment(
        id=experiment.id, name=experiment.name, description=experiment.description, feature_flag_key=flag.key,
        metrics=experiment.metrics, metrics_secondary=experiment.metrics_secondary,
        start_date=clock.iso(experiment.start_date), end_date=clock.iso(experiment.end_date),
        status="running" if experiment.end_date is None else "completed", variants=variants,
    )  # fmt: skip
    return ExperimentResults(experiment=summary, exposures=exposures, metrics=metrics)
