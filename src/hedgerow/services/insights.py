"""Saved insights: validation in DRF's words, short ids, dashboards membership, soft deletion.

An insight stores a query node (``InsightVizNode`` around an insight query, or a
``DataVisualizationNode`` around a ``HogQLQuery``); its results are computed by the query
service from the node it wraps (:func:`runnable`), so ``/query/`` and a saved insight share
one runner and one cache.
"""

from __future__ import annotations

import secrets
import string
from typing import Any, Callable

from sqlalchemy.engine import Connection

from hedgerow import clock
from hedgerow.errors import NotFound, ParseError, ValidationError
from hedgerow.ids import parse_id
from hedgerow.services.dashboard_limits import check_tile_room
from hedgerow.services.fields import boolean, json_object, optional_text, tag_list
from hedgerow.store.meta import dashboards as dashboard_store
from hedgerow.store.meta import insights as store
from hedgerow.store.meta.dashboards import TileRecord
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.insights import ORDERS, InsightQuery, InsightRecord
from hedgerow.store.meta.tenancy import Project

__all__ = ["ORDERS", "WRAPPERS", "InsightQuery", "InsightRecord", "InsightService", "insert_insight", "runnable"]

WRAPPERS = ("InsightVizNode", "DataVisualizationNode", "DataTableNode")
SHORT_ID_ALPHABET = string.ascii_letters + string.digits
MAX_TEXT = 400
MATERIAL = frozenset({"name", "description", "query", "filters", "derived_name", "tags"})


def runnable(query: dict[str, Any]) -> Any:
    """The node the query service runs for a saved query: a wrapper's ``source``."""
    if query.get("kind") in WRAPPERS and "source" in query:
        return query["source"]
    return query


def new_short_id(conn: Connection, project_id: int) -> str:
    """Eight random letters and digits, unused in the project (PostHog's ``short_id``)."""
    while True:
        candidate = "".join(secrets.choice(SHORT_ID_ALPHABET) for _ in range(8))
        if not store.short_id_taken(conn, project_id, candidate):
            return candidate


def insert_insight(conn: Connection, project_id: int, user_id: int | None, fields: dict[str, Any]) -> InsightRecord:
    """A new insight row from cleaned ``fields`` (the rest at their defaults), with a short id."""
    now = clock.now()
    return store.insert(conn, {
        "name": None, "derived_name": None, "description": None, "query": None, "filters": {}, "order": None,
        "deleted": False, "saved": False, "favorited": False, "is_sample": False, "tags": [], **fields,
        "project_id": project_id, "short_id": new_short_id(conn, project_id),
        "created_by_id": user_id, "last_modified_by_id": user_id,
        "created_at": now, "updated_at": now, "last_modified_at": now,
    })  # fmt: skip


def _integer(value: Any, attr: str) -> int | None:
    """DRF's ``IntegerField(allow_null=True)`` on a 32-bit column."""
    if value is None:
        return None
    try:
        number = int(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or abs(number) > 2**31 - 1:
        raise ValidationError("A valid integer is required.", code="invalid", attr=attr)
    return number


def dashboard_ids(value: Any) -> list[int]:
    """The ``dashboards`` field: a list of primary keys, in DRF's words when it is not."""
    if not isinstance(value, list):
        raise ValidationError(f'Expected a list of items but got type "{type(value).__name__}".',
                              code="not_a_list", attr="dashboards")  # fmt: skip
    ids: list[int] = []
    for item in value:
        number = parse_id(item) if isinstance(item, (int, str)) else None
        if number is None:
            shown = type(item).__name__ if not isinstance(item, (int, str)) else "str"
            raise ValidationError(f"Incorrect type. Expected pk value, received {shown}.",
                                  code="incorrect_type", attr="dashboards")  # fmt: skip
        ids.append(number)
    return list(dict.fromkeys(ids))


class InsightService:
    """Use cases over a project's saved insights. ``check_query`` refuses a query node no
    query kind accepts (the query service's parser: PostHog's 400 ``parse_error``)."""

    def __init__(self, db: MetaDB, check_query: Callable[[Any], None]) -> None:
        self._db = db
        self._check_query = check_query

    # -- validation --------------------------------------------------------------------------

    def _clean(self, given: Any) -> dict[str, Any]:
        if not isinstance(given, dict):
            raise ValidationError("Invalid data. Expected a dictionary, but got "
                                  f"{type(given).__name__}.", attr="non_field_errors")  # fmt: skip
        out: dict[str, Any] = {}
        for name in ("name", "derived_name", "description"):
            if name in given:
                out[name] = optional_text(given[name], name, MAX_TEXT)
        if "filters" in given:
            out["filters"] = {} if given["filters"] is None else json_object(
                given["filters"], "filters", "Filters must be a dictionary")  # fmt: skip
        if "query" in given:
            out["query"] = self._query(given["query"])
        if "order" in given:
            out["order"] = _integer(given["order"], "order")
        for name in ("deleted", "saved", "favorited"):
            if name in given:
                out[name] = boolean(given[name], name)
        if "tags" in given:
            out["tags"] = tag_list(given["tags"])
        if "dashboards" in given:
            out["dashboards"] = dashboard_ids(given["dashboards"])
        return out

    def _query(self, raw: Any) -> dict[str, Any] | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise ParseError("Query must be a valid JSON object")
        node = runnable(raw)
        if raw.get("kind") in WRAPPERS and not isinstance(node, dict):
            raise ParseError(f"JSON parse error - {raw.get('kind')} source must be a query object")
        self._check_query(node)
        return raw

    # -- reads -------------------------------------------------------------------------------

    def get(self, project: Project, key: int | str, *, include_deleted: bool = False) -> InsightRecord:
        with self._db.read() as conn:
            found = store.get(conn, project.id, key, include_deleted=include_deleted)
        if found is None:
            raise NotFound()
        return found

    def search(self, project: Project, query: InsightQuery) -> list[InsightRecord]:
        with self._db.read() as conn:
            return store.search(conn, project.id, query)

    def tiles(self, insight_ids: list[int]) -> dict[int, list[TileRecord]]:
        """The live tiles (on live dashboards) of each insight."""
        with self._db.read() as conn:
            found = dashboard_store.tiles_of_insights(conn, insight_ids)
        out: dict[int, list[TileRecord]] = {i: [] for i in insight_ids}
        for tile in found:
            out.setdefault(tile.insight_id or 0, []).append(tile)
        return out

    # -- writes ------------------------------------------------------------------------------

    def create(self, project: Project, user_id: int | None, given: Any) -> InsightRecord:
        fields = self._clean(given)
        dashboards = fields.pop("dashboards", None)
        with self._db.write() as conn:
            targets = self._live_dashboards(conn, project, dashboards or [])
            insight = insert_insight(conn, project.id, user_id, fields)
            for dashboard_id in targets:
                check_tile_room(conn, dashboard_id)
                dashboard_store.insert_tile(conn, {"dashboard_id": dashboard_id, "insight_id": insight.id})
        return insight

    def update(self, project: Project, key: int | str, user_id: int | None, given: Any) -> InsightRecord:
        fields = self._clean(given)
        dashboards = fields.pop("dashboards", None)
        now = clock.now()
        with self._db.write() as conn:
            # Only an update that says ``deleted: false`` reaches a deleted insight (a restore).
            found = store.get(conn, project.id, key, include_deleted=fields.get("deleted") is False)
            if found is None:
                raise NotFound()
            values = {**fields, "updated_at": now, "is_sample": False}
            values.setdefault("saved", True)  # PostHog marks any updated insight saved
            if MATERIAL & fields.keys():
                values.update(last_modified_at=now, last_modified_by_id=user_id)
            if fields.get("deleted"):
                dashboard_store.set_tiles_deleted(conn, True, insight_id=found.id)
            elif dashboards is not None:
                self._set_dashboards(conn, project, found.id, dashboards)
            store.update(conn, found.id, values)
            updated = store.get(conn, project.id, found.id, include_deleted=True)
        assert updated is not None
        return updated

    def _live_dashboards(self, conn: Connection, project: Project, ids: list[int]) -> list[int]:
        """The ids that name the project's dashboards (deleted ones are skipped, as PostHog does)."""
        known = dashboard_store.by_ids(conn, project.id, ids)
        for number in ids:
            if number not in known:
                raise ValidationError(f'Invalid pk "{number}" - object does not exist.',
                                      code="does_not_exist", attr="dashboards")  # fmt: skip
        return [number for number in ids if not known[number].deleted]

    def _set_dashboards(self, conn: Connection, project: Project, insight_id: int, ids: list[int]) -> None:
        wanted = self._live_dashboards(conn, project, ids)
        current = {t.dashboard_id: t for t in dashboard_store.tiles_of_insights(conn, [insight_id])}
        for dashboard_id in wanted:
            if dashboard_id in current:
                continue
            check_tile_room(conn, dashboard_id)
            tile = dashboard_store.insight_tile(conn, dashboard_id, insight_id)
            if tile is None:
                dashboard_store.insert_tile(conn, {"dashboard_id": dashboard_id, "insight_id": insight_id})
            else:
                dashboard_store.update_tile(conn, tile.id, {"deleted": False})
        for dashboard_id, tile in current.items():
            if dashboard_id not in wanted:
                dashboard_store.update_tile(conn, tile.id, {"deleted": True})
