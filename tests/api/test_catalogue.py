"""Tests generated from the operation catalogue: every operation decides through
``authorize()`` on every door, and has a door."""

from __future__ import annotations

import pytest

from hedgerow.api.routes import all_routes
from hedgerow.auth.authenticate import principal_for_key
from hedgerow.auth.principal import Principal
from hedgerow.errors import Exposed
from hedgerow.services.catalogue import Where, invoke
from hedgerow.services.operations import CATALOGUE

OPERATIONS = list(CATALOGUE)


def _stranger(api) -> Principal:
    """A live key of the organization that holds one unrelated scope."""
    key = api.key(["notebook:read"], label="stranger")
    principal, _ = principal_for_key(api.services.meta, key)
    assert principal is not None
    return principal


@pytest.mark.parametrize("channel", ["rest", "mcp", "cli"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
def test_no_operation_escapes_the_decision_on_any_door(api, operation, channel) -> None:
    principal = _stranger(api)
    before = len(api.services.audit.newest(100_000))
    with pytest.raises(Exposed) as refused:
        invoke(api.services, principal, operation, {}, channel=channel, where=Where(project=str(api.project_id)))
    assert refused.value.status == 403
    rows = api.services.audit.newest(100_000)
    assert len(rows) == before + 1
    assert rows[0].decision == "denied" and rows[0].via == channel and rows[0].object == operation.object


def test_every_operation_has_a_door() -> None:
    bound = {route.operation.name for route in all_routes() if route.operation is not None}
    tools = {op.name for op in OPERATIONS if op.tool is not None}
    assert {op.name for op in OPERATIONS} == bound | tools


def test_tool_names_are_unique_and_valid() -> None:
    names = [op.tool.name for op in OPERATIONS if op.tool is not None]
    assert len(names) == len(set(names))
    assert all(name.replace("-", "").isalnum() and len(name) <= 128 for name in names)
