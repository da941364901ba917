"""Dynamic cohort membership, computed through HogQL and refreshed in the background.

A cohort's filter tree becomes one HogQL query over ``persons``: person-property leaves are
property filters, behavioural leaves are ``id IN (SELECT person_id FROM events ...)``
subqueries, nested cohorts are ``IN COHORT``. The compiler adds the team guard, so a cohort
only ever sees its own project. Results replace the cohort's rows in ``cohort_people``, and
``count``, ``is_calculating`` and ``last_calculation`` are updated.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlglot import exp

from hedgerow.hogql import CompileContext, compile_hogql
from hedgerow.hogql.context import LimitContext
from hedgerow.hogql.errors import HogQLError
from hedgerow.hogql.parse import parse_expr
from hedgerow.hogql.property_filters import FilterEnv, literal, property_filter, to_hogql
from hedgerow.services.cohort_tree import referenced_cohort_ids
from hedgerow.store.meta.cohorts import CohortRecord

log = logging.getLogger(__name__)

EVERYONE = LimitContext(default=50_000_000, maximum=50_000_000)
REFRESH_SECONDS = 15 * 60
CALCULATION_TIMEOUT_SECONDS = 600
PERSON = FilterEnv(scope="person")
_INTERVALS = {"hour": "HOUR", "day": "DAY", "week": "WEEK", "month": "MONTH", "year": "YEAR"}
_COUNT_OPERATORS = {"gte": ">=", "lte": "<=", "eq": "=", "gt": ">", "lt": "<", "exact": "="}


class UnsupportedCohortFilter(HogQLError):
    default_code = "unsupported_cohort_filter"


def _performed(leaf: dict[str, Any]) -> exp.Expression:
    """Which events a behavioural leaf counts: its event, or its action's (``matchesAction``)."""
    kind = leaf.get("event_type", "events")
    if kind == "actions":
        action_id = leaf.get("key")
        if isinstance(action_id, bool) or not isinstance(action_id, (int, str)) or not str(action_id).isdigit():
            raise UnsupportedCohortFilter("An action behavioral filter needs an action id")
        return exp.Anonymous(this="matchesAction", expressions=[exp.Literal.number(int(action_id))])
    if kind != "events":
        raise UnsupportedCohortFilter("Only event and action behavioral filters are supported")
    return exp.EQ(this=exp.Column(this=exp.Identifier(this="event", quoted=True)), expression=literal(str(leaf["key"])))


def _behavioral(leaf: dict[str, Any]) -> exp.Expression:
    """``id IN (SELECT person_id FROM events WHERE ...)`` for a behavioural leaf."""
    value = leaf.get("value")
    if value not in ("performed_event", "performed_event_multiple"):
        raise UnsupportedCohortFilter(f"Behavioral cohort filter '{value}' is not supported yet")
    interval = _INTERVALS.get(str(leaf.get("time_interval") or "day"))
    amount = leaf.get("time_value") if leaf.get("time_value") is not None else 30
    if interval is None or not isinstance(amount, int):
        raise UnsupportedCohortFilter("Behavioral cohort filter needs time_value and time_interval")
    conditions = [
        _performed(leaf),
        parse_expr(f"timestamp > now() - INTERVAL {int(amount)} {interval}", what="cohort filter"),
    ]
    if leaf.get("event_filters"):
        conditions.append(property_filter(leaf["event_filters"], FilterEnv(scope="event")))
    where = " AND ".join(to_hogql(c) for c in conditions)
    having = ""
    if value == "performed_event_multiple":
        operator = _COUNT_OPERATORS.get(str(leaf.get("operator") or "gte"))
        times = leaf.get("operator_value")
        if operator is None or not isinstance(times, int):
            raise UnsupportedCohortFilter("performed_event_multiple needs operator and operator_value")
        having = f" GROUP BY person_id HAVING count() {operator} {int(times)}"
    return parse_expr(f"id IN (SELECT person_id FROM events WHERE {where}{having})", what="cohort filter")


def _node(node: Any) -> exp.Expression:
    if not isinstance(node, dict):
        raise UnsupportedCohortFilter("A cohort filter must be an object")
    kind = node.get("type")
    if kind in ("AND", "OR"):
        parts = [_node(child) for child in node.get("values") or []]
        if not parts:
            return exp.true()
        joined = exp.and_(*parts) if kind == "AND" else exp.or_(*parts)
        return exp.Paren(this=joined)
    if kind == "behavioral":
        condition = _behavioral(node)
    elif kind == "cohort":
        condition = property_filter({**node, "negation": False}, PERSON)
    else:
        condition = property_filter({k: v for k, v in node.items() if k != "negation"}, PERSON)
    return exp.Not(this=exp.Paren(this=condition)) if node.get("negation") else condition


def _legacy_groups(groups: list[Any]) -> dict[str, Any]:
    """Legacy ``groups`` (OR of property lists or action/event windows) as a filter tree."""
    values = []
    for group in groups:
        if not isinstance(group, dict):
            continue
        props = [p for p in group.get("properties") or [] if isinstance(p, dict)]
        for key, event_type in (("event_id", "events"), ("action_id", "actions")):
            if group.get(key):
                props.append({"type": "behavioral", "key": group[key], "value": "performed_event",
                              "event_type": event_type, "time_value": int(group.get("days") or 30),
                              "time_interval": "day"})
        if props:
            values.append({"type": "AND", "values": props})
    return {"type": "OR", "values": values}


def cohort_query(cohort: CohortRecord) -> str:
    """The HogQL that lists a dynamic cohort's members."""
    tree = (cohort.filters or {}).get("properties") if cohort.filters else _legacy_groups(cohort.groups)
    condition = _node(tree or {"type": "AND", "values": []})
    return f"SELECT id FROM persons WHERE {to_hogql(condition)}"


class CohortCalculator:
    """Calculates dynamic cohorts one at a time on a background thread."""

    def __init__(self, services: Any) -> None:
        self._services = services
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cohorts")
        self._stop = threading.Event()
        self._timer = threading.Thread(target=self._refresh_loop, name="cohort-refresh", daemon=True)
        self._timer.start()

    def schedule(self, project_id: int, cohort_id: int) -> None:
        if not self._stop.is_set():
            self._pool.submit(self._calculate_safely, project_id, cohort_id)

    def calculate(self, project_id: int, cohort_id: int) -> int:
        """Recompute now (nested dynamic cohorts first); return the member count."""
        services = self._services
        cohort = services.cohorts.get(project_id, cohort_id)
        for nested_id in referenced_cohort_ids(cohort.filters):
            nested = services.cohorts.get(project_id, nested_id)
            if not nested.is_static and nested.id != cohort.id and nested.last_calculation is None:
                self.calculate(project_id, nested.id)
        project = services.projects.get(project_id)
        assert project is not None
        ctx = CompileContext(
            team_id=project_id,
            timezone=project.timezone,
            property_types=services.definitions.property_types(project_id),
            actions=services.actions.definitions(project_id),
            limit_context=EVERYONE,
        )
        compiled = compile_hogql(cohort_query(cohort), ctx, engine=services.events.engine)
        result = services.events.execute(compiled, CALCULATION_TIMEOUT_SECONDS)
        members = [str(row[0]) for row in result.results]
        version = (cohort.version or 0) + 1
        services.membership.replace_calculated(project_id, cohort.id, members, version)
        services.cohorts.record_calculation(project_id, cohort.id, len(members), version)
        return len(members)

    def _calculate_safely(self, project_id: int, cohort_id: int) -> None:
        try:
            self.calculate(project_id, cohort_id)
        except Exception:  # noqa: BLE001 - recorded on the cohort; the loop goes on
            log.warning("cohort %s of project %s failed to calculate", cohort_id, project_id, exc_info=True)
            try:
                self._services.cohorts.record_calculation(project_id, cohort_id, None, None, failed=True)
            except Exception:  # noqa: BLE001
                log.exception("could not record a failed cohort calculation")

    def _refresh_loop(self) -> None:
        while not self._stop.wait(REFRESH_SECONDS):
            for project in self._services.projects.list_all():
                for cohort in self._services.cohorts.all(project.id):
                    if not cohort.is_static:
                        self.schedule(project.id, cohort.id)

    def close(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
