"""What a call names, for its audit sentence: the id or key it gives, read as the name a person
knows the object by ("changed action 'Signed up'", not "changed action '12'").

The name is looked up in the call's project only, after the project is resolved and before the
call is decided, so a denied call reads as plainly as an allowed one. A name is for reading,
never for deciding: an id that names nothing (or cannot be an id) reads as itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hedgerow.control_chars import escape_controls
from hedgerow.errors import Exposed
from hedgerow.ids import parse_id

if TYPE_CHECKING:
    from hedgerow.services.container import Services
    from hedgerow.store.meta.tenancy import Project

MAX_SUBJECT = 200


@dataclass(frozen=True)
class Named:
    """The argument a call names its object by, and the value it gives."""

    field: str
    value: str


Namer = Callable[["Services", "Project", str], "str | None"]


def _flag(services: "Services", project: "Project", raw: str) -> str | None:
    return services.flags.get(project.id, raw).key


def _action(services: "Services", project: "Project", raw: str) -> str | None:
    number = parse_id(raw)
    return services.actions.name(project.id, number) if number is not None else None


def _experiment(services: "Services", project: "Project", raw: str) -> str | None:
    number = parse_id(raw)
    return services.experiments.get(project.id, number).name if number is not None else None


def _insight(services: "Services", project: "Project", raw: str) -> str | None:
    found = services.insights.get(project, raw, include_deleted=True)
    return found.name or found.derived_name


def _dashboard(services: "Services", project: "Project", raw: str) -> str | None:
    found = services.dashboards.find(project, raw)
    return found.name if found is not None else None


def _hog_function(services: "Services", project: "Project", raw: str) -> str | None:
    return services.hog_functions.get(project, raw, deleted_too=True).name


def _cohort(services: "Services", project: "Project", raw: str) -> str | None:
    return services.cohorts.get(project.id, raw).name


NAMERS: dict[str, Namer] = {
    "flag_id": _flag,
    "flagId": _flag,
    "action_id": _action,
    "experiment_id": _experiment,
    "experimentId": _experiment,
    "insight_id": _insight,
    "insightId": _insight,
    "dashboard_id": _dashboard,
    "dashboardId": _dashboard,
    "hog_function_id": _hog_function,
    "cohort_id": _cohort,
}
"""Argument naming an object by id -> how to read that object's name in a project."""

SUBJECT_FIELDS = ("flag_id", "flagId", "flag_key", "flagKey", "cohort_id", "person_id", "agent_id",
                  "definition_id", "query_id", "flag_ref", "key_id", "key", "insight_id", "insightId",
                  "dashboard_id", "dashboardId", "action_id", "experiment_id", "experimentId",
                  "hog_function_id")  # fmt: skip
"""The arguments a call may name its object by, first found wins."""


def subject(args: Any) -> Named | None:
    """What the call names (a flag's key, an id...), as it gave it."""
    if not isinstance(args, dict):
        return None
    for name in SUBJECT_FIELDS:
        value = args.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return Named(name, str(value)[:MAX_SUBJECT])
    return None


def read_name(services: "Services", project: "Project | None", named: Named | None) -> str | None:
    """The object's name in ``project`` (its id or key as given when it has none or is not found)."""
    if named is None:
        return None
    namer = NAMERS.get(named.field)
    if namer is None or project is None:
        return named.value
    try:
        name = namer(services, project, named.value)
    except Exposed:  # not found, or not an id of that kind: the call answers it, the sentence shows the id
        return named.value
    return escape_controls(name)[:MAX_SUBJECT] if name else named.value
