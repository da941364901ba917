"""Inputs that PostHog's MCP tools send wrapped in ``data`` (``{"data": {...}}``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, model_validator


class ToolData(BaseModel):
    """An input that may arrive as ``{"data": {...}, ...}``: the ``data`` object is read as
    the input's own fields (fields beside it, such as ids, win)."""

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and isinstance(raw.get("data"), dict):
            return {**raw["data"], **{k: v for k, v in raw.items() if k != "data"}}
        return raw
