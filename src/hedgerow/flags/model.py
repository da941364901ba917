"""Inputs and outputs of the evaluator: plain frozen data, no behaviour beyond rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from hedgerow.flags.reasons import Reason


@dataclass(frozen=True, eq=False)
class FlagDefinition:
    """One feature flag as PostHog stores it (``filters`` is PostHog's JSON, untouched)."""

    id: int
    key: str
    filters: Mapping[str, Any]
    team_id: int | None = None
    active: bool = True
    deleted: bool = False
    ensure_experience_continuity: bool = False
    version: int | None = None
    bucketing_identifier: str | None = None
    has_experiment: bool = False
    description: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FlagDefinition":
        """Build from a PostHog flag object (API, local-evaluation or cache JSON)."""
        filters = data.get("filters") or {}
        return cls(
            id=int(data["id"]),
            key=str(data["key"]),
            filters=filters,
            team_id=data.get("team_id"),
            active=bool(data.get("active", True)),
            deleted=bool(data.get("deleted", False)),
            ensure_experience_continuity=bool(data.get("ensure_experience_continuity") or False),
            version=data.get("version"),
            bucketing_identifier=data.get("bucketing_identifier") or filters.get("bucketing_identifier"),
            has_experiment=bool(data.get("has_experiment") or False),
            description=data.get("description"),
        )


@dataclass(frozen=True, eq=False)
class EvaluationContext:
    """Everything about the one person (and their groups) a request evaluates flags for.

    ``person_properties`` are the stored properties, or stored properties already
    overlaid with the request's; ``person_property_overrides`` (the request's
    ``person_properties``) are laid over them after ``distinct_id`` is added, which is
    the server's order. The evaluator also fills ``$initial_*`` from their current
    counterparts when missing.

    ``group_properties`` maps a group type *name* to that group's properties (stored
    overlaid by request). ``static_cohort_ids`` are the cohorts whose membership was
    worked out elsewhere (static and behavioural cohorts) that the person belongs to.
    ``hash_key_overrides`` are the stored experience-continuity hash keys by flag key;
    ``anon_distinct_id`` is the request's ``$anon_distinct_id``, used for
    experience-continuity flags that have none stored. ``now`` defaults to the clock.
    """

    distinct_id: str
    person_properties: Mapping[str, Any] = field(default_factory=dict)
    person_property_overrides: Mapping[str, Any] = field(default_factory=dict)
    groups: Mapping[str, Any] = field(default_factory=dict)
    group_properties: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    static_cohort_ids: frozenset[int] = frozenset()
    hash_key_overrides: Mapping[str, str] = field(default_factory=dict)
    anon_distinct_id: str | None = None
    device_id: str | None = None
    now: datetime | None = None


@dataclass(frozen=True)
class FlagResult:
    """The outcome for one flag, ready to render as PostHog's ``/flags`` v2 record.

    ``reason_code`` is a :class:`Reason` code, or an error code when ``failed``.
    ``payload`` is the stored payload (PostHog keeps a JSON-encoded string).
    """

    key: str
    enabled: bool
    variant: str | None
    reason_code: str
    condition_index: int | None
    reason_description: str | None
    payload: Any = None
    failed: bool = False
    id: int = 0
    version: int | None = None
    description: str | None = None
    has_experiment: bool = False

    @property
    def value(self) -> bool | str:
        """The flag value SDKs see: the variant, else the boolean."""
        if self.enabled and self.variant is not None:
            return self.variant
        return self.enabled

    def to_v2(self) -> dict[str, Any]:
        """The record under ``flags[key]`` in a ``/flags?v=2`` response."""
        record: dict[str, Any] = {"key": self.key, "enabled": self.enabled, "variant": self.variant}
        if self.failed:
            record["failed"] = True
        record["reason"] = {
            "code": self.reason_code,
            "condition_index": self.condition_index,
            "description": self.reason_description,
        }
        record["metadata"] = {
            "id": self.id,
            "version": self.version if self.version is not None else 0,
            "description": self.description,
            "payload": self.payload,
            "has_experiment": self.has_experiment,
        }
        return record


def result_for_reason(
    flag: FlagDefinition,
    reason: Reason,
    *,
    enabled: bool = False,
    variant: str | None = None,
    condition_index: int | None = None,
    payload: Any = None,
) -> FlagResult:
    """A :class:`FlagResult` for ``flag`` with ``reason``'s code and description."""
    return FlagResult(
        key=flag.key,
        enabled=enabled,
        variant=variant,
        reason_code=reason.code,
        condition_index=condition_index,
        reason_description=reason.describe(condition_index),
        payload=payload,
        id=flag.id,
        version=flag.version,
        description=flag.description,
        has_experiment=flag.has_experiment,
    )


def failed_result(flag: FlagDefinition, code: str, description: str) -> FlagResult:
    """A :class:`FlagResult` for a flag whose evaluation hit an error."""
    return FlagResult(
        key=flag.key,
        enabled=False,
        variant=None,
        reason_code=code,
        condition_index=None,
        reason_description=description,
        failed=True,
        id=flag.id,
        version=flag.version,
        description=flag.description,
        has_experiment=flag.has_experiment,
    )
