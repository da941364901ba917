"""Dashboards: validation in DRF's words, tiles (insights and text cards), duplication,
soft deletion that takes the tiles (and, when asked, the insights only they hold) along."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Connection

from hedgerow import clock
from hedgerow.errors import NotFound, ValidationError
from hedgerow.ids import parse_id
from hedgerow.services.dashboard_limits import check_dashboard_room, check_tile_room
from hedgerow.services.fields import boolean, json_object, optional_text, tag_list
from hedgerow.services.insights import insert_insight
from hedgerow.store.meta import dashboards as store
from hedgerow.store.meta import insights as insight_store
from hedgerow.store.meta.dashboards import DashboardQuery, DashboardRecord, TextRecord, TileRecord
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.insights import InsightRecord
from hedgerow.store.meta.tenancy import Project

__all__ = ["DashboardQuery", "DashboardRecord", "DashboardService", "TextRecord", "TileRecord"]

RESTRICTION_LEVELS = (21, 37)
MAX_NAME = 400
MAX_TEXT_BODY = 4000
MAX_TILES_PER_PATCH = 500
TILE_DISPLAY_FIELDS = ("layouts", "color", "filters_overrides", "show_description", "transparent_background",
                       "deleted")  # fmt: skip


def _optional_pk(value: Any, attr: str) -> int | None:
    if value is None:
        return None
    number = parse_id(value) if isinstance(value, (int, str)) else None
    if number is None:
        raise ValidationError("A valid integer is required.", code="invalid", attr=attr)
    return number


def _clean(given: Any) -> dict[str, Any]:
    """The writable fields given, in the serializer's field order (first error wins)."""
    if not isinstance(given, dict):
        raise ValidationError("Invalid data. Expected a dictionary, but got "
                              f"{type(given).__name__}.", attr="non_field_errors")  # fmt: skip
    out: dict[str, Any] = {}
    if "name" in given:
        out["name"] = optional_text(given["name"], "name", MAX_NAME)
    if "description" in given:
        out["description"] = optional_text(given["description"], "description", 100_000) or ""
    for name in ("pinned", "deleted"):
        if name in given:
            out[name] = boolean(given[name], name)
    if "filters" in given and given["filters"]:
        out["filters"] = json_object(given["filters"], "filters", "Filters must be a dictionary")
    if "variables" in given and given["variables"]:
        out["variables"] = json_object(given["variables"], "variables", "Variables must be a dictionary")
    if "breakdown_colors" in given:
        out["breakdown_colors"] = given["breakdown_colors"]
    if "data_color_theme_id" in given:
        out["data_color_theme_id"] = _optional_pk(given["data_color_theme_id"], "data_color_theme_id")
    if "tags" in given:
        out["tags"] = tag_list(given["tags"])
    if "restriction_level" in given:
        level = given["restriction_level"]
        if isinstance(level, bool) or level not in RESTRICTION_LEVELS:
            shown = level if isinstance(level, (int, str)) and len(str(level)) <= 100 else "value"
            raise ValidationError(f'"{shown}" is not a valid choice.', code="invalid_choice",
                                  attr="restriction_level")  # fmt: skip
        out["restriction_level"] = int(level)
    if given.get("use_template"):
        template = optional_text(given["use_template"], "use_template", 400)
        raise ValidationError(f"Invalid template provided: {template}", attr="use_template")
    if "use_dashboard" in given:
        out["use_dashboard"] = _optional_pk(given["use_dashboard"], "use_dashboard")
    if "delete_insights" in given:
        out["delete_insights"] = boolean(given["delete_insights"], "delete_insights")
    if "duplicate_tiles" in given:
        out["duplicate_tiles"] = bool(given["duplicate_tiles"])
    if "tiles" in given:
        out["tiles"] = _tiles(given["tiles"])
    return out


def _tiles(raw: Any) -> list[dict[str, Any]]:
    """``tiles`` of a dashboard PATCH: text cards to add or edit, display fields to change."""
    if not isinstance(raw, list):
        raise ValidationError(f'Expected a list of items but got type "{type(raw).__name__}".',
                              code="not_a_list", attr="tiles")  # fmt: skip
    if len(raw) > MAX_TILES_PER_PATCH:
        raise ValidationError(f"Ensure this field has no more than {MAX_TILES_PER_PATCH} elements.",
                              code="max_length", attr="tiles")  # fmt: skip
    tiles = []
    for item in raw:
        if not isinstance(item, dict):
            raise ValidationError("Each tile must be an object.", code="invalid", attr="tiles")
        tile: dict[str, Any] = {"id": _optional_pk(item.get("id"), "tiles")}
        if "layouts" in item:
            tile["layouts"] = json_object(item["layouts"] or {}, "layouts", "Layouts must be a dictionary")
        if "color" in item:
            tile["color"] = optional_text(item["color"], "color", 400)
        if "filters_overrides" in item:
            overrides = item["filters_overrides"]
            tile["filters_overrides"] = None if overrides is None else json_object(overrides, "filters_overrides")
        for name in ("show_description", "transparent_background"):
            if name in item:
                tile[name] = None if item[name] is None else boolean(item[name], name)
        if "deleted" in item:
            tile["deleted"] = boolean(item["deleted"], "deleted")
        text = item.get("text")
        if text:
            if not isinstance(text, dict):
                raise ValidationError("Text must be an object.", code="invalid", attr="text")
            body = text.get("body")
            if isinstance(body, str) and len(body) > MAX_TEXT_BODY:
                raise ValidationError("Text body cannot exceed 4000 characters", code="max_length", attr="text")
            tile["text"] = {"id": _optional_pk(text.get("id"), "text"), "body": optional_text(body, "text", MAX_TEXT_BODY)}
        tiles.append(tile)
    return tiles


class DashboardService:
    """Use cases over a project's dashboards and their tiles."""

    def __init__(self, db: MetaDB) -> None:
        self._db = db

    # -- reads -------------------------------------------------------------------------------

    def search(self, project: Project, query: DashboardQuery) -> list[DashboardRecord]:
        with self._db.read() as conn:
            return store.search(conn, project.id, query)

    def opened(self, project: Project, dashboard_id: int) -> DashboardRecord:
        """A dashboard someone opens (PostHog stamps its ``last_accessed_at``)."""
        with self._db.write() as conn:
            found = store.get(conn, project.id, dashboard_id)
            if found is None:
                raise NotFound()
            now = clock.now()
            store.update(conn, found.id, {"last_accessed_at": now})
        return replace(found, last_accessed_at=now)

    def find(self, project: Project, raw_id: Any) -> DashboardRecord | None:
        """The live dashboard a parameter names (``from_dashboard``), or None."""
        number = parse_id(raw_id) if isinstance(raw_id, (int, str)) else None
        if number is None:
            return None
        with self._db.read() as conn:
            return store.get(conn, project.id, number)

    def contents(self, project: Project, dashboard_id: int
                 ) -> tuple[list[TileRecord], dict[int, InsightRecord], dict[int, TextRecord]]:  # fmt: skip
        """A dashboard's live tiles, in PostHog's order (by layout, top to bottom, left to
        right), with the live insights and the text cards they hold."""
        with self._db.read() as conn:
            tiles = store.tiles_of_dashboards(conn, [dashboard_id])
            insights = insight_store.by_ids(conn, project.id, [t.insight_id for t in tiles if t.insight_id])
            texts = store.texts(conn, project.id, [t.text_id for t in tiles if t.text_id])
        live = {k: v for k, v in insights.items() if not v.deleted}
        tiles = [t for t in tiles if (t.insight_id in live) or (t.text_id in texts)]
        return sorted(tiles, key=_position), live, texts

    # -- writes ------------------------------------------------------------------------------

    def create(self, project: Project, user_id: int | None, given: Any) -> DashboardRecord:
        fields = _clean(given)
        fields.pop("tiles", None)
        fields.pop("delete_insights", None)
        source_id = fields.pop("use_dashboard", None)
        deep = fields.pop("duplicate_tiles", False)
        with self._db.write() as conn:
            check_dashboard_room(conn, project.id)
            source = None
            if source_id is not None:
                source = store.get(conn, project.id, source_id)
                if source is None:
                    raise ValidationError("Invalid value provided", attr="use_dashboard")
            values = {
                "project_id": project.id, "name": fields.get("name"), "description": fields.get("description", ""),
                "pinned": fields.get("pinned", False), "deleted": fields.get("deleted", False),
                "creation_mode": "duplicate" if source else "default",
                "restriction_level": fields.get("restriction_level", 21),
                "filters": fields.get("filters") or (source.filters if source else {}),
                "variables": source.variables if source else fields.get("variables"),
                "breakdown_colors": source.breakdown_colors if source else fields.get("breakdown_colors"),
                "data_color_theme_id": source.data_color_theme_id if source else fields.get("data_color_theme_id"),
                "tags": fields.get("tags", []), "created_by_id": user_id, "created_at": clock.now(),
                "last_accessed_at": None,
            }  # fmt: skip
            dashboard = store.insert(conn, values)
            if source is not None:
                self._copy_tiles(conn, project, source.id, dashboard.id, user_id, deep=deep)
        return dashboard

    def _copy_tiles(self, conn: Connection, project: Project, source_id: int, target_id: int,
                    user_id: int | None, *, deep: bool) -> None:  # fmt: skip
        """PostHog's duplicate: the same insights and text cards on new tiles, or (deep) copies."""
        for tile in store.tiles_of_dashboards(conn, [source_id]):
            values: dict[str, Any] = {
                "dashboard_id": target_id, "layouts": tile.layouts, "color": tile.color,
                "filters_overrides": tile.filters_overrides, "show_description": tile.show_description,
                "transparent_background": tile.transparent_background,
                "insight_id": tile.insight_id, "text_id": tile.text_id,
            }  # fmt: skip
            if deep and tile.insight_id is not None:
                original = insight_store.get(conn, project.id, tile.insight_id)
                if original is None:
                    continue
                copy = insert_insight(conn, project.id, user_id, {
                    "name": f"{original.name} (Copy)" if original.name else None,
                    "derived_name": original.derived_name, "description": original.description,
                    "query": original.query, "filters": original.filters, "order": original.order,
                    "saved": original.saved, "favorited": original.favorited, "tags": original.tags,
                })  # fmt: skip
                values["insight_id"] = copy.id
            elif deep and tile.text_id is not None:
                text = store.texts(conn, project.id, [tile.text_id]).get(tile.text_id)
                if text is None:
                    continue
                values["text_id"] = store.insert_text(conn, {
                    "project_id": project.id, "body": text.body, "created_by_id": user_id,
                    "last_modified_by_id": None, "last_modified_at": clock.now(),
                }).id  # fmt: skip
            store.insert_tile(conn, values)

    def update(self, project: Project, dashboard_id: int, user_id: int | None, given: Any) -> DashboardRecord:
        fields = _clean(given)
        tiles = fields.pop("tiles", [])
        delete_insights = fields.pop("delete_insights", False)
        fields.pop("use_dashboard", None)
        fields.pop("duplicate_tiles", None)
        with self._db.write() as conn:
            found = store.get(conn, project.id, dashboard_id, include_deleted=fields.get("deleted") is False)
            if found is None:
                raise NotFound()
            if fields.get("deleted") and not found.deleted:
                self._delete_tiles(conn, project, found.id, delete_insights)
            elif fields.get("deleted") is False and found.deleted:
                self._restore_tiles(conn, project, found.id)
            if fields:
                store.update(conn, found.id, fields)
            for tile in tiles:
                self._apply_tile(conn, project, found.id, user_id, tile)
            updated = store.get(conn, project.id, found.id, include_deleted=True)
        assert updated is not None
        return updated

    def _delete_tiles(self, conn: Connection, project: Project, dashboard_id: int, delete_insights: bool) -> None:
        if delete_insights:
            held = [t.insight_id for t in store.tiles_of_dashboards(conn, [dashboard_id]) if t.insight_id]
            elsewhere = {t.insight_id for t in store.tiles_of_insights(conn, held) if t.dashboard_id != dashboard_id}
            for insight_id in held:
                if insight_id not in elsewhere:
                    insight_store.update(conn, insight_id, {"deleted": True})
        store.set_tiles_deleted(conn, True, dashboard_id=dashboard_id)

    def _restore_tiles(self, conn: Connection, project: Project, dashboard_id: int) -> None:
        tiles = store.tiles_of_dashboards(conn, [dashboard_id], include_deleted=True)
        store.set_tiles_deleted(conn, False, dashboard_id=dashboard_id)
        for insight_id in {t.insight_id for t in tiles if t.insight_id}:
            insight_store.update(conn, insight_id, {"deleted": False})

    def _apply_tile(self, conn: Connection, project: Project, dashboard_id: int, user_id: int | None,
                    tile: dict[str, Any]) -> None:  # fmt: skip
        """One entry of ``tiles``: a text card (new, or edited by its text id), or display
        fields of an existing tile (an unknown tile id is skipped, as PostHog does)."""
        display = {k: tile[k] for k in TILE_DISPLAY_FIELDS if k in tile}
        text = tile.get("text")
        if text is not None:
            now = clock.now()
            if text["id"] is not None:
                holders = [t for t in store.tiles_of_dashboards(conn, [dashboard_id], include_deleted=True)
                           if t.text_id == text["id"]]  # fmt: skip
                if not holders:
                    raise ValidationError("Text tile not found.", attr="text")
                store.update_text(conn, text["id"], {"body": text["body"], "last_modified_by_id": user_id,
                                                     "last_modified_at": now})  # fmt: skip
                if display:
                    store.update_tile(conn, holders[0].id, display)
                return
            check_tile_room(conn, dashboard_id, "tiles")
            created = store.insert_text(conn, {"project_id": project.id, "body": text["body"],
                                               "created_by_id": user_id, "last_modified_by_id": None,
                                               "last_modified_at": now})  # fmt: skip
            store.insert_tile(conn, {"dashboard_id": dashboard_id, "text_id": created.id, **display})
            return
        if tile["id"] is None or not display:
            return
        if store.tile(conn, dashboard_id, tile["id"]) is not None:
            store.update_tile(conn, tile["id"], display)


def _position(tile: TileRecord) -> tuple[int, int, int]:
    small = tile.layouts.get("sm") if isinstance(tile.layouts.get("sm"), dict) else {}
    y, x = small.get("y", 100), small.get("x", 100)
    return (y if isinstance(y, int) else 100, x if isinstance(x, int) else 100, tile.id)
