"""Shared loaders for the flag evaluator's data-driven tests."""

from __future__ import annotations

import json
import pathlib
from typing import Any

DATA = pathlib.Path(__file__).resolve().parents[2] / "data" / "flags"


def load(name: str) -> Any:
    """Load a JSON data file from tests/data/flags/."""
    return json.loads((DATA / name).read_text())
