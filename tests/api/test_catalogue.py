"""Tests generated from the operation catalogue: every operation decides through
``authorize()`` on every door, and has a door."""

from __future__ import annotations

import re

import anyio
import jsonschema
import mcp_types as types
import pytest

from hedgerow.api.routes import all_routes
from hedgerow.auth.access import RESOURCES, scopes_for
from hedgerow.mcp.server import MCPDoor
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
def test_no_operation_escapes_the_decision_on_any_door(shared_api, operation, channel) -> None:
    api = shared_api  # each test is refused: it changes nothing but the audit log, counted from its own start
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


# -- every read operation answers the same over REST and MCP, for the same key -----------------

READ_TOOLS = [op for op in OPERATIONS if op.tool is not None and op.tool.read_only]
NO_REST = {"event_definition.schema", "query.sql", "insight.query", "experiment.results"}
"""Read tools with no REST route of their own (``execute-sql`` is REST's ``query/`` with a
HogQLQuery, ``read-data-schema`` is the definitions lists together, ``insight-query`` is an
insight's ``query`` run through ``query/``, ``experiment-results-get`` the experiment's
queries through ``query/``)."""

VOLATILE = {"query.run": ("last_refresh", "next_allowed_client_refresh", "is_cached", "cache_key", "timings",
                          "cache_target_age", "query_status"),
            "dashboard.retrieve": ("last_accessed_at",)}  # fmt: skip
"""Fields of an answer that say when or how it was computed, not what it is."""

SQL = "select event, count() from events group by event order by event"


def _seed(api) -> dict[str, object]:
    """One of everything a read tool can name, made by the admin over REST."""
    batch = [{"event": "$identify", "distinct_id": "ada", "$set": {"email": "ada@acme.io"}},
             {"event": "purchase", "distinct_id": "bob", "properties": {"amount": 3}}]  # fmt: skip
    assert api.client.post("/batch/", json={"api_key": api.project_token, "batch": batch}).status_code == 200
    api.services.definition_sink.flush()
    base = f"/api/projects/{api.project_id}"
    flag = api.post(f"{base}/feature_flags/", {"key": "new-checkout", "filters": {"groups": [{"rollout_percentage": 5}]}})
    cohort = api.post(f"{base}/cohorts/", {"name": "buyers", "groups": [{"properties": [
        {"key": "email", "value": "ada@acme.io", "type": "person"}]}]})  # fmt: skip
    assert api.post(f"{base}/annotations/", {"content": "launch", "date_marker": "2026-01-02T03:04:05Z"}).status_code == 201
    person = api.get(f"{base}/persons/", params={"distinct_id": "ada"}).json()["results"][0]
    action = api.post(f"{base}/actions/", {"name": "Bought", "steps": [{"event": "purchase"}]})
    insight = api.post(f"{base}/insights/", {"name": "Buys", "query": {"kind": "InsightVizNode", "source": {
        "kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "purchase"}]}}})  # fmt: skip
    dashboard = api.post(f"{base}/dashboards/", {"name": "Sales"})
    hook = api.post(f"{base}/hog_functions/", {"type": "destination", "template_id": "template-webhook",
                                               "enabled": False, "inputs": {"url": {"value": "https://hooks.acme.io/"}}})
    experiment = api.post(f"{base}/experiments/", {"name": "Checkout test", "feature_flag_key": "checkout-test"})
    made = {"action_id": action, "insight_id": insight, "dashboard_id": dashboard, "hog_function_id": hook,
            "experiment_id": experiment}  # fmt: skip
    assert all(answer.status_code == 201 for answer in made.values()), {k: v.text for k, v in made.items()}
    return {"flag_id": flag.json()["id"], "cohort_id": cohort.json()["id"], "person_id": person["uuid"],
            **{name: answer.json()["id"] for name, answer in made.items()}}  # fmt: skip


ARGUMENTS = {
    "feature_flag.retrieve": lambda ids: {"flag_id": ids["flag_id"]},
    "cohort.retrieve": lambda ids: {"cohort_id": ids["cohort_id"]},
    "person.retrieve": lambda ids: {"person_id": ids["person_id"]},
    "action.retrieve": lambda ids: {"action_id": ids["action_id"]},
    "insight.retrieve": lambda ids: {"insight_id": str(ids["insight_id"])},  # an id or a short id
    "dashboard.retrieve": lambda ids: {"dashboard_id": ids["dashboard_id"]},
    "hog_function.retrieve": lambda ids: {"hog_function_id": ids["hog_function_id"]},
    "hog_function.logs": lambda ids: {"hog_function_id": ids["hog_function_id"]},
    "experiment.retrieve": lambda ids: {"experiment_id": ids["experiment_id"]},
    "query.run": lambda ids: {"query": {"kind": "HogQLQuery", "query": SQL}},
    "audit.list": lambda ids: {"cursor": 4},  # rows older than the calls compared: the same on both doors
}


def _rest(api, key: str, operation, arguments: dict) -> tuple[int, object]:
    route = next(r for r in all_routes() if r.operation is operation and r.method in ("GET", "POST"))
    path = route.path.replace("{project_id}", str(api.project_id)).replace("{organization_id}", "@current")
    query = dict(arguments)
    for name in [n for n in query if "{" + n in path]:
        path = re.sub(r"{%s(:[a-z]+)?}" % name, str(query.pop(name)), path)
    if route.method == "POST":
        answer = api.post(path, query, key=key)
    else:
        answer = api.get(path, key=key, params=query)
    return answer.status_code, answer.json()


def _mcp(api, key: str, operation, arguments: dict) -> tuple[bool, dict]:
    door = MCPDoor(api.services, key=lambda: key)
    binding = door.tools[operation.tool.name]
    params = types.CallToolRequestParams(name=binding.name, arguments={**arguments, "project_id": api.project_id})
    result = anyio.run(door.call_tool, None, params)
    if not result.is_error:  # what the official client checks: the result against the tool's schema
        jsonschema.validate(result.structured_content, binding.describe().output_schema)
    return result.is_error, result.structured_content or {"text": result.content[0].text}


def _same_answer(operation, rest: object, mcp: dict) -> None:
    if isinstance(rest, dict) and "results" in rest and "next" in rest:  # a page: the same rows, counted alike
        assert mcp["results"] == rest["results"]
        assert mcp.get("count") == rest.get("count")
        return
    drop = VOLATILE.get(operation.name, ())
    strip = lambda body: {k: v for k, v in body.items() if k not in drop} if isinstance(body, dict) else body
    assert strip(mcp) == strip(rest)


@pytest.mark.parametrize("who", ["admin", "agent"])
@pytest.mark.parametrize("operation", READ_TOOLS, ids=lambda op: op.name)
def test_every_read_tool_answers_as_rest_does(api, operation, who) -> None:
    if operation.name in NO_REST:
        assert not [r for r in all_routes() if r.operation is operation]
        return
    ids = _seed(api)
    key, matrix = api.admin_key, {resource: "read" for resource in RESOURCES}
    if who == "agent":  # an agent that may read everything it can be given
        key = invoke(api.services, api.services.projects.operator(), CATALOGUE["agent.create"],
                     {"name": "reader", "access": matrix}, channel="cli", where=Where(organization="@current")).key
    arguments = ARGUMENTS.get(operation.name, lambda ids: {})(ids)
    status, rest = _rest(api, key, operation, arguments)
    refused, mcp = _mcp(api, key, operation, arguments)
    granted = who == "admin" or f"{operation.object}:read" in scopes_for(matrix)
    if not granted:  # outside any agent's matrix (organizations): refused alike, for the same reason
        assert status == 403 and refused and rest["detail"] in mcp["text"], (status, rest, mcp)
        return
    assert status == 200 and not refused, (status, rest, mcp)
    _same_answer(operation, rest, mcp)


def test_every_read_tool_is_compared() -> None:
    """A new read tool without a REST route must be named in NO_REST, knowingly."""
    bound = {r.operation.name for r in all_routes() if r.operation is not None}
    assert {op.name for op in READ_TOOLS} - bound == NO_REST


# -- outputs: one model per shape, and every door's description of it comes from the model ---------


def test_the_document_and_the_tools_describe_answers_with_the_output_models() -> None:
    from hedgerow.api import openapi
    from hedgerow.mcp.tools import ToolBinding
    from hedgerow.services.operations.feature_flags import FeatureFlag

    fields = list(FeatureFlag.model_fields)
    paths = openapi.build(all_routes())["paths"]
    one = paths["/api/projects/{project_id}/feature_flags/{flag_id}/"]
    body = one["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert list(body["properties"]) == fields and set(body["required"]) <= set(fields)
    page = paths["/api/projects/{project_id}/feature_flags/"]["get"]["responses"]["200"]["content"]
    assert list(page["application/json"]["schema"]["properties"]["results"]["items"]["properties"]) == fields
    assert one["delete"]["responses"]["405"] == {"description": openapi.NO_BODY}  # PostHog's bodiless 405
    tool = ToolBinding(CATALOGUE["feature_flag.retrieve"]).describe().output_schema
    assert list(tool["properties"]) == fields and "$defs" in tool  # created_by is a UserBasic
    listing = ToolBinding(CATALOGUE["feature_flag.list"]).describe().output_schema
    assert list(listing["properties"]["results"]["items"]["properties"]) == fields


def test_the_wire_keeps_the_models_field_order(api) -> None:
    from hedgerow.services.operations.feature_flags import FeatureFlag

    made = api.post(f"/api/projects/{api.project_id}/feature_flags/", {"key": "ordered"})
    assert made.status_code == 201
    assert list(made.json()) == list(FeatureFlag.model_fields)
    assert made.text.startswith('{"id":') and '"key":"ordered"' in made.text


def test_an_answer_whose_shape_the_input_picks_is_described_as_either_model(api) -> None:
    """``insight.retrieve`` answers the full insight, or the basic one with ``basic=true``: the
    document and the tool describe both, and each answer is exactly one of them, in order."""
    from hedgerow.api import openapi
    from hedgerow.mcp.tools import ToolBinding
    from hedgerow.services.operations.insights import Insight, InsightBasic

    one = openapi.build(all_routes())["paths"]["/api/projects/{project_id}/insights/{insight_id}/"]
    body = one["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert body == {"anyOf": [{"$ref": "#/components/schemas/Insight"}, {"$ref": "#/components/schemas/InsightBasic"}]}
    tool = ToolBinding(CATALOGUE["insight.retrieve"]).describe().output_schema
    assert tool["type"] == "object" and {"Insight", "InsightBasic"} <= set(tool["$defs"])
    made = api.post(f"/api/projects/{api.project_id}/insights/", {"name": "Either", "query": {
        "kind": "DataVisualizationNode", "source": {"kind": "HogQLQuery", "query": "select 1"}}})  # fmt: skip
    assert made.status_code == 201, made.text
    full = api.get(f"/api/projects/{api.project_id}/insights/{made.json()['id']}/").json()
    basic = api.get(f"/api/projects/{api.project_id}/insights/{made.json()['id']}/?basic=true").json()
    assert list(full) == list(Insight.model_fields) and list(basic) == list(InsightBasic.model_fields)
    for answer in (full, basic):
        jsonschema.validate(answer, tool)


MODELLED = ("insight", "dashboard", "action", "experiment", "hog_function", "cohort", "annotation")


@pytest.mark.parametrize("operation", [op for op in OPERATIONS if op.name.split(".")[0] in MODELLED],
                         ids=lambda op: op.name)  # fmt: skip
def test_the_resources_answer_through_output_models(operation) -> None:
    """Every operation of these resources declares its answer (a model, a union of models, or
    no body), so REST, MCP and the document all render and describe it from the model."""
    assert operation.output is not None
