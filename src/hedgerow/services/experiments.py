"""Experiments: validation in PostHog's words, the flag behind each one, launch, soft deletion.

Creating an experiment creates its multivariate feature flag (``control``/``test`` at 50/50
unless variants are given, inactive while the experiment is a draft) or reuses an existing flag
with a ``control`` variant and at least one other. Setting ``start_date`` on a draft launches it:
its flag is activated. Every field is checked before anything is written, so a refused request
changes nothing.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import replace
from datetime import datetime
from typing import Any

import pydantic

from hedgerow import clock
from hedgerow.errors import NotFound, ValidationError
from hedgerow.experiments.models import ExperimentMetric
from hedgerow.ids import parse_id
from hedgerow.services.annotations import parse_datetime
from hedgerow.services.feature_flags import FlagService
from hedgerow.store.meta import experiments as store
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.experiments import ExperimentRecord
from hedgerow.store.meta.flags import FlagRecord

__all__ = ["ExperimentRecord", "ExperimentService", "status"]

DEFAULT_VARIANTS = [
    {"key": "control", "name": "Control Group", "rollout_percentage": 50},
    {"key": "test", "name": "Test Variant", "rollout_percentage": 50},
]
METRIC_KINDS = ("ExperimentMetric", "ExperimentTrendsQuery", "ExperimentFunnelsQuery")
CONCLUSIONS = ("won", "lost", "inconclusive", "stopped_early", "invalid")
TYPES = ("web", "product")
MAX_VARIANTS = 20
MAX_NAME = 400
UPDATABLE = {
    "name", "description", "start_date", "end_date", "filters", "parameters", "archived", "deleted",
    "secondary_metrics", "holdout_id", "exposure_criteria", "metrics", "metrics_secondary", "stats_config",
    "scheduling_config", "conclusion", "conclusion_comment", "primary_metrics_ordered_uuids",
    "secondary_metrics_ordered_uuids", "saved_metrics_ids",
}  # fmt: skip
"""Serializer fields an update may change (others, like ``type``, are refused by name)."""
FIELDS = UPDATABLE | {"feature_flag_key", "type", "exposure_preaggregation_enabled",
                      "only_count_matured_users"}  # fmt: skip


def status(experiment: ExperimentRecord) -> str:
    """``draft`` until launched, ``running`` until it has an end date, then ``stopped``."""
    if experiment.start_date is None:
        return "draft"
    return "running" if experiment.end_date is None else "stopped"


# -- field checks (DRF's words) --------------------------------------------------------------


def _text(raw: Any, attr: str, *, required: bool = False, limit: int | None = None) -> str | None:
    if raw is None:
        if required:
            raise ValidationError("This field may not be null.", code="null", attr=attr)
        return None
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise ValidationError("Not a valid string.", code="invalid", attr=attr)
    text = str(raw)
    if "\x00" in text:
        raise ValidationError("Null characters are not allowed.", code="null_characters_not_allowed", attr=attr)
    if required and not text.strip():
        raise ValidationError("This field may not be blank.", code="blank", attr=attr)
    if limit is not None and len(text) > limit:
        raise ValidationError(f"Ensure this field has no more than {limit} characters.", code="max_length", attr=attr)
    return text


def _bool(raw: Any, attr: str) -> bool:
    if not isinstance(raw, bool):
        raise ValidationError("Must be a valid boolean.", code="invalid", attr=attr)
    return raw


def _date(raw: Any, attr: str) -> datetime | None:
    return None if raw is None else parse_datetime(raw, attr)


def _object(raw: Any, attr: str, *, nullable: bool = True) -> dict[str, Any] | None:
    if raw is None and nullable:
        return None
    if not isinstance(raw, dict):
        got = "list" if isinstance(raw, list) else type(raw).__name__
        raise ValidationError(f'Expected a dictionary of items but got type "{got}".', code="not_a_dict", attr=attr)
    return raw


def _choice(raw: Any, choices: tuple[str, ...], attr: str, *, nullable: bool = False) -> str | None:
    if raw is None and nullable:
        return None
    if not isinstance(raw, str) or raw not in choices:
        shown = raw if isinstance(raw, str) and len(raw) <= 100 else "value"
        raise ValidationError(f'"{shown}" is not a valid choice.', code="invalid_choice", attr=attr)
    return raw


def _parameters(raw: Any) -> dict[str, Any] | None:
    value = _object(raw, "parameters")
    if not value:
        return value
    variants = value.get("feature_flag_variants", [])
    if variants is None:
        variants = []
    if not isinstance(variants, list) or not all(isinstance(v, dict) for v in variants):
        raise ValidationError("Feature flag variants must be a list of objects", attr="parameters")
    if len(variants) > MAX_VARIANTS:
        raise ValidationError("Feature flag variants must be less than 21", attr="parameters")
    if variants:
        if len(variants) < 2:
            raise ValidationError("Feature flag must have at least 2 variants (control and at least one test variant)",
                                  attr="parameters")  # fmt: skip
        if "control" not in [v.get("key") for v in variants]:
            raise ValidationError("Feature flag variants must contain a control variant", attr="parameters")
    if "ensure_experience_continuity" in value and value["ensure_experience_continuity"] is not None:
        _bool(value["ensure_experience_continuity"], "parameters")
    return value


def _exposure_criteria(raw: Any) -> dict[str, Any] | None:
    value = _object(raw, "exposure_criteria")
    if not value:
        return value
    if "filterTestAccounts" in value and not isinstance(value["filterTestAccounts"], bool):
        raise ValidationError("filterTestAccounts must be a boolean", attr="exposure_criteria")
    config = value.get("exposure_config")
    if "exposure_config" in value and config is not None:
        kind = config.get("kind") if isinstance(config, dict) else None
        event = config.get("event") if isinstance(config, dict) else None
        properties = config.get("properties", []) if isinstance(config, dict) else None
        valid = kind == "ActionsNode" and isinstance(config.get("id"), int) or (
            kind in (None, "ExperimentEventExposureConfig") and isinstance(event, str) and isinstance(properties, list)
        )
        if not valid:
            raise ValidationError("Invalid exposure criteria", attr="exposure_criteria")
    handling = value.get("multiple_variant_handling")
    if handling is not None and handling not in ("exclude", "first_seen"):
        raise ValidationError("Invalid exposure criteria", attr="exposure_criteria")
    return value


def _metrics(raw: Any, attr: str) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationError("Metrics must be a list", attr=attr)
    for index, metric in enumerate(raw):
        if not isinstance(metric, dict):
            raise ValidationError(f"Invalid metric at index {index}: must be a dict", attr=attr)
        kind = metric.get("kind")
        if kind not in METRIC_KINDS:
            shown = kind if isinstance(kind, str) and len(kind) <= 100 else str(type(kind).__name__)
            raise ValidationError(f"Invalid metric at index {index}: unknown kind '{shown}'", attr=attr)
        if kind == "ExperimentMetric":
            try:
                ExperimentMetric.model_validate(metric)
            except pydantic.ValidationError as error:
                errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()]
                raise ValidationError(f"Invalid metric at index {index}: {errors}", attr=attr) from None
    return copy.deepcopy(raw)


def _uuid_free_list(raw: Any, attr: str) -> list[Any]:
    """A legacy JSON list field (``secondary_metrics``), kept as given."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationError("Expected a list of items.", code="not_a_list", attr=attr)
    return copy.deepcopy(raw)


def _uuid_list(raw: Any, attr: str) -> list[str] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(u, str) for u in raw):
        raise ValidationError("Expected a list of items.", code="not_a_list", attr=attr)
    return list(raw)


def _clean(given: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """The given serializer fields, checked in the serializer's order (first error wins)."""
    out: dict[str, Any] = {}
    if creating and "name" not in given:
        raise ValidationError("This field is required.", code="required", attr="name")
    if "name" in given:
        out["name"] = _text(given["name"], "name", required=True, limit=MAX_NAME)
    if "description" in given:
        out["description"] = _text(given["description"], "description", limit=MAX_NAME)
    for name in ("start_date", "end_date"):
        if name in given:
            out[name] = _date(given[name], name)
    if creating and "feature_flag_key" not in given:
        raise ValidationError("This field is required.", code="required", attr="feature_flag_key")
    if "feature_flag_key" in given:
        out["feature_flag_key"] = _text(given["feature_flag_key"], "feature_flag_key", required=True, limit=MAX_NAME)
    if given.get("holdout_id") is not None:
        number = parse_id(str(given["holdout_id"]))
        raise ValidationError(f'Invalid pk "{number if number is not None else "value"}" - object does not exist.',
                              code="does_not_exist", attr="holdout_id")  # fmt: skip
    if "parameters" in given:
        out["parameters"] = _parameters(given["parameters"])
    if "secondary_metrics" in given:
        out["secondary_metrics"] = _uuid_free_list(given["secondary_metrics"], "secondary_metrics")
    if given.get("saved_metrics_ids"):
        ids = given["saved_metrics_ids"]
        if not isinstance(ids, list):
            raise ValidationError("Saved metrics must be a list", attr="saved_metrics_ids")
        raise ValidationError("Saved metric does not exist or does not belong to this project", attr="saved_metrics_ids")
    if "filters" in given:
        out["filters"] = _object(given["filters"], "filters", nullable=False)
    for name in ("archived", "deleted"):
        if name in given:
            out[name] = _bool(given[name], name)
    if "type" in given:
        out["type"] = _choice(given["type"], TYPES, "type")
    if "exposure_criteria" in given:
        out["exposure_criteria"] = _exposure_criteria(given["exposure_criteria"])
    for name in ("metrics", "metrics_secondary"):
        if name in given:
            out[name] = _metrics(given[name], name)
    for name in ("stats_config", "scheduling_config"):
        if name in given:
            out[name] = _object(given[name], name)
    if "conclusion" in given:
        out["conclusion"] = _choice(given["conclusion"], CONCLUSIONS, "conclusion", nullable=True)
    if "conclusion_comment" in given:
        out["conclusion_comment"] = _text(given["conclusion_comment"], "conclusion_comment")
    for name in ("primary_metrics_ordered_uuids", "secondary_metrics_ordered_uuids"):
        if name in given:
            out[name] = _uuid_list(given[name], name)
    for name in ("exposure_preaggregation_enabled", "only_count_matured_users"):
        if name in given:
            out[name] = _bool(given[name], name)
    start, end = out.get("start_date"), out.get("end_date")
    if start and end and start >= end:
        raise ValidationError("End date must be after start date", attr="non_field_errors")
    return out


def fingerprint(metric: dict[str, Any], start_date: datetime | None, stats_config: dict[str, Any] | None,
                exposure_criteria: dict[str, Any] | None) -> str:  # fmt: skip
    """A digest of a metric and the experiment settings its results depend on (server-set)."""
    payload = {
        "metric": {k: v for k, v in metric.items() if k not in ("fingerprint", "name", "uuid")},
        "start_date": clock.iso(start_date),
        "stats_method": (stats_config or {}).get("method") or "bayesian",
        "exposure_criteria": exposure_criteria,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _ordering(current: list[str] | None, metrics: list[dict[str, Any]]) -> list[str]:
    uuids = [m["uuid"] for m in metrics if isinstance(m.get("uuid"), str)]
    kept = [u for u in (current or []) if u in uuids]
    return kept + [u for u in uuids if u not in kept]


class ExperimentService:
    """Use cases over a project's experiments and the flags behind them."""

    def __init__(self, db: MetaDB, flags: FlagService) -> None:
        self._db = db
        self._flags = flags

    def live(self, project_id: int) -> list[ExperimentRecord]:
        with self._db.read() as conn:
            return store.live(conn, project_id)

    def get(self, project_id: int, experiment_id: int) -> ExperimentRecord:
        with self._db.read() as conn:
            found = store.get(conn, project_id, experiment_id)
        if found is None:
            raise NotFound()
        return found

    def flag(self, experiment: ExperimentRecord) -> FlagRecord:
        return self._flags.get(experiment.project_id, experiment.feature_flag_id)

    def create(self, project_id: int, user_id: int | None, given: dict[str, Any]) -> ExperimentRecord:
        fields = _clean(given, creating=True)
        start = fields.get("start_date")
        flag = self._flag_for(project_id, user_id, fields, draft=start is None)
        now = clock.now()
        exposure_criteria = dict(fields.get("exposure_criteria") or {})
        if exposure_criteria.get("filterTestAccounts") is None:
            exposure_criteria["filterTestAccounts"] = True
        stats_config = dict(fields.get("stats_config") or {})
        stats_config.setdefault("method", "bayesian")
        metrics = self._fingerprinted(fields.get("metrics") or [], start, stats_config, exposure_criteria)
        secondary = self._fingerprinted(fields.get("metrics_secondary") or [], start, stats_config, exposure_criteria)
        experiment = ExperimentRecord(
            id=None, project_id=project_id, name=fields["name"], description=fields.get("description") or "",
            feature_flag_id=flag.id, type=fields.get("type") or "product", start_date=start,
            end_date=fields.get("end_date"), parameters=fields.get("parameters"), filters=fields.get("filters") or {},
            metrics=metrics, metrics_secondary=secondary, secondary_metrics=fields.get("secondary_metrics") or [],
            stats_config=stats_config, exposure_criteria=exposure_criteria,
            scheduling_config=fields.get("scheduling_config"),
            primary_metrics_ordered_uuids=_ordering(fields.get("primary_metrics_ordered_uuids"), metrics),
            secondary_metrics_ordered_uuids=_ordering(fields.get("secondary_metrics_ordered_uuids"), secondary),
            archived=fields.get("archived", False), deleted=fields.get("deleted", False),
            conclusion=fields.get("conclusion"), conclusion_comment=fields.get("conclusion_comment"),
            created_by_id=user_id, created_at=now, updated_at=now,
        )  # fmt: skip
        with self._db.write() as conn:
            return store.insert(conn, experiment)

    def _flag_for(self, project_id: int, user_id: int | None, fields: dict[str, Any], *, draft: bool) -> FlagRecord:
        """The existing flag named by ``feature_flag_key`` (if fit for an experiment), else a new one."""
        key = fields["feature_flag_key"]
        try:
            existing = self._flags.by_key(project_id, key)
        except NotFound:
            existing = None
        if existing is not None:
            variants = (existing.filters.get("multivariate") or {}).get("variants") or []
            if len(variants) < 2:
                raise ValidationError(
                    "Feature flag must have at least 2 variants (control and at least one test variant)")
            if "control" not in [v.get("key") for v in variants if isinstance(v, dict)]:
                raise ValidationError("Feature flag must have a variant with key 'control'")
            return existing
        parameters = fields.get("parameters") or {}
        rollout = parameters.get("rollout_percentage", 100)
        data: dict[str, Any] = {
            "key": key,
            "name": f"Feature Flag for Experiment {fields['name']}",
            "filters": {
                "groups": [{"properties": [], "rollout_percentage": rollout}],
                "multivariate": {"variants": parameters.get("feature_flag_variants") or copy.deepcopy(DEFAULT_VARIANTS)},
                "aggregation_group_type_index": parameters.get("aggregation_group_type_index"),
            },
            "active": not draft,
            "creation_context": "experiments",
        }
        if parameters.get("ensure_experience_continuity") is not None:
            data["ensure_experience_continuity"] = parameters["ensure_experience_continuity"]
        return self._flags.create(project_id, user_id, data)

    def _fingerprinted(self, metrics: list[dict[str, Any]], start: datetime | None, stats_config: Any,
                       exposure_criteria: Any) -> list[dict[str, Any]]:  # fmt: skip
        return [{**m, "fingerprint": fingerprint(m, start, stats_config, exposure_criteria)} for m in metrics]

    def update(self, project_id: int, experiment_id: int, user_id: int | None,
               given: dict[str, Any]) -> ExperimentRecord:  # fmt: skip
        current = self.get(project_id, experiment_id)
        flag = self.flag(current)
        extra = set(given) - UPDATABLE - ({"feature_flag_key"} if given.get("feature_flag_key") == flag.key else set())
        extra &= FIELDS
        if extra:
            raise ValidationError(f"Can't update keys: {', '.join(sorted(extra))} on Experiment")
        fields = _clean({k: v for k, v in given.items() if k in UPDATABLE}, creating=False)
        start = fields.get("start_date", current.start_date)
        draft = current.start_date is None
        variants = (fields.get("parameters") or {}).get("feature_flag_variants")
        if not draft and variants is not None:
            known = [v.get("key") for v in (flag.filters.get("multivariate") or {}).get("variants") or []]
            if len(variants) != len(known) or any([k for k in known if k == v.get("key")] == [] for v in variants):
                raise ValidationError("Can't update feature_flag_variants on Experiment")
        if ((fields.get("filters") or {}).get("properties")):
            raise ValidationError("Experiments do not support global filter properties")
        flag_changes: dict[str, Any] = {}
        if draft and fields.get("parameters"):
            parameters = fields["parameters"]
            filters = copy.deepcopy(flag.filters)
            groups = filters.get("groups") or [{"properties": [], "rollout_percentage": 100}]
            if parameters.get("rollout_percentage") is not None:
                groups[0]["rollout_percentage"] = parameters["rollout_percentage"]
            filters.update(groups=groups, multivariate={"variants": variants or copy.deepcopy(DEFAULT_VARIANTS)},
                           aggregation_group_type_index=parameters.get("aggregation_group_type_index"))  # fmt: skip
            flag_changes["filters"] = filters
        if draft and start is not None:
            flag_changes["active"] = True  # launching activates the flag
        stats_config = fields.get("stats_config", current.stats_config)
        exposure_criteria = fields.get("exposure_criteria", current.exposure_criteria)
        for name in ("metrics", "metrics_secondary"):
            if name in fields or "start_date" in fields or "stats_config" in fields or "exposure_criteria" in fields:
                fields[name] = self._fingerprinted(fields.get(name, getattr(current, name)), start, stats_config,
                                                   exposure_criteria)  # fmt: skip
        if "metrics" in fields:
            fields["primary_metrics_ordered_uuids"] = _ordering(
                fields.get("primary_metrics_ordered_uuids", current.primary_metrics_ordered_uuids), fields["metrics"])
        if "metrics_secondary" in fields:
            fields["secondary_metrics_ordered_uuids"] = _ordering(
                fields.get("secondary_metrics_ordered_uuids", current.secondary_metrics_ordered_uuids),
                fields["metrics_secondary"])  # fmt: skip
        fields.pop("saved_metrics_ids", None)
        if fields.get("description") is None and "description" in fields:
            fields["description"] = ""
        if flag_changes:
            self._flags.update(project_id, flag.id, user_id, flag_changes)
        changed = replace(current, **fields, updated_at=clock.now())
        with self._db.write() as conn:
            store.save(conn, changed)
        return changed
