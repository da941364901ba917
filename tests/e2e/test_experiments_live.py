"""An experiment end to end against a live server: created and launched over REST, persons
exposed through real ``/flags/`` calls by posthog-python (which sends ``$feature_flag_called``
itself), conversions captured by the SDK, results read back over REST and over MCP — one
experiment whose test variant clearly converts better, one where it does not."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from posthog import Posthog

from hedgerow.testing import LiveServer
from tests.e2e.test_agents_mcp import _agent, mcp

pytestmark = pytest.mark.e2e

PERSONS = 240
CONVERSION = {"big-win": {"control": 10, "test": 2}, "no-change": {"control": 3, "test": 3}}
"""Flag key -> variant -> a person converts when its number is a multiple of this."""


def funnel(flag_key: str) -> dict:
    """Each experiment's own conversion event, so the two experiments' purchases do not mix."""
    return {"kind": "ExperimentMetric", "metric_type": "funnel", "uuid": f"{flag_key}-rate",
            "series": [{"kind": "EventsNode", "event": f"purchase {flag_key}"}]}  # fmt: skip


@pytest.fixture
def server(tmp_path):
    with LiveServer(tmp_path / "data") as live:
        live.boot = live.bootstrap()
        live.admin = {"Authorization": f"Bearer {live.boot['personal_api_key']}"}
        live.api = f"{live.url}/api/projects/{live.boot['project_id']}"
        yield live


def launch(server, flag_key: str) -> dict:
    made = httpx.post(f"{server.api}/experiments/", headers=server.admin, json={
        "name": f"Experiment {flag_key}", "feature_flag_key": flag_key, "metrics": [funnel(flag_key)],
        "exposure_criteria": {"filterTestAccounts": False}})  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["feature_flag"]["active"] is False
    started = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).isoformat()
    launched = httpx.patch(f"{server.api}/experiments/{made.json()['id']}/", headers=server.admin,
                           json={"start_date": started})  # fmt: skip
    assert launched.status_code == 200, launched.text
    assert launched.json()["feature_flag"]["active"] is True and launched.json()["status"] == "running"
    return launched.json()


def expose_and_convert(server) -> dict[str, dict[str, int]]:
    """Every person asks for both flags through the SDK; converters then purchase."""
    ph = Posthog(server.boot["project_api_key"], host=server.url, sync_mode=True)
    seen: dict[str, dict[str, int]] = {key: {"control": 0, "test": 0} for key in CONVERSION}
    for i in range(PERSONS):
        person = f"person-{i}"
        for key, every in CONVERSION.items():
            variant = ph.get_feature_flag(key, person)
            assert variant in ("control", "test"), variant
            seen[key][variant] += 1
            if i % every[variant] == 0:
                ph.capture(f"purchase {key}", distinct_id=person)
    ph.shutdown()
    return seen


def results(server, experiment: dict) -> dict:
    response = httpx.post(f"{server.api}/query/", headers=server.admin, timeout=60, json={
        "query": {"kind": "ExperimentQuery", "experiment_id": experiment["id"],
                  "metric": funnel(experiment["feature_flag_key"])},
        "refresh": "force_blocking"})  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


def test_significant_and_insignificant_outcomes(server) -> None:
    win, flat = launch(server, "big-win"), launch(server, "no-change")
    seen = expose_and_convert(server)
    for experiment in (win, flat):
        key = experiment["feature_flag_key"]
        exposures = httpx.post(f"{server.api}/query/", headers=server.admin, timeout=60, json={
            "query": {"kind": "ExperimentExposureQuery", "experiment_id": experiment["id"]}}).json()  # fmt: skip
        assert exposures["total_exposures"] == seen[key]
        assert exposures["sample_ratio_mismatch"]["p_value"] > 0.001

    body = results(server, win)
    assert body["baseline"]["number_of_samples"] == seen["big-win"]["control"]
    [test] = body["variant_results"]
    assert test["number_of_samples"] == seen["big-win"]["test"] and test["validation_failures"] == []
    assert test["sum"] > 3 * body["baseline"]["sum"]
    assert test["significant"] is True and test["chance_to_win"] > 0.99
    assert test["credible_interval"][0] > 0

    body = results(server, flat)
    [test] = body["variant_results"]
    assert test["validation_failures"] == [] and test["significant"] is False
    assert 0.05 < test["chance_to_win"] < 0.95
    assert test["credible_interval"][0] < 0 < test["credible_interval"][1]

    agent = _agent(server, "experiment-reader", "experiment=read,query=read")
    tools, (listed, read) = mcp(server.url, agent["key"], ("experiment-get-all", {}),
                                ("experiment-results-get", {"experimentId": win["id"]}))  # fmt: skip
    assert {"experiment-get-all", "experiment-get", "experiment-results-get"} <= tools
    assert "experiment-create" not in tools
    assert not listed.is_error and listed.structured_content["count"] == 2
    assert not read.is_error, read
    found = read.structured_content
    assert found["experiment"]["feature_flag_key"] == "big-win" and found["experiment"]["status"] == "running"
    assert found["exposures"]["total_exposures"] == seen["big-win"]
    [primary] = found["metrics"]["primary"]["results"]
    assert primary["index"] == 0 and primary["data"]["variant_results"][0]["significant"] is True


def test_agent_creates_and_reads_an_experiment_over_mcp(server) -> None:
    agent = _agent(server, "experiment-writer", "experiment=full")
    tools, (made, bad) = mcp(server.url, agent["key"],
                             ("experiment-create", {"name": "Pricing", "feature_flag_key": "pricing-test"}),
                             ("experiment-create", {"name": "No control", "feature_flag_key": "bad", "parameters": {
                                 "feature_flag_variants": [{"key": "a", "rollout_percentage": 50},
                                                           {"key": "b", "rollout_percentage": 50}]}}))  # fmt: skip
    assert {"experiment-create", "experiment-get"} <= tools
    assert not made.is_error, made
    created = made.structured_content
    assert created["feature_flag"]["key"] == "pricing-test" and created["status"] == "draft"
    assert bad.is_error and "control variant" in bad.content[0].text
    _, (read,) = mcp(server.url, agent["key"], ("experiment-get", {"experimentId": created["id"]}))
    assert not read.is_error and read.structured_content["name"] == "Pricing"
    listed = httpx.get(f"{server.api}/experiments/", headers=server.admin).json()
    assert [e["name"] for e in listed["results"]] == ["Pricing"]
