"""The answers of insights, dashboards, actions, experiments and destinations, byte for byte.

A seeded scenario of reads and writes runs against a live server; each answer's raw body (REST)
or ``structuredContent`` (MCP) is compared with the recording in
``tests/data/output_bytes.txt``, taken before these resources answered through output models.
Only values that differ from run to run are masked (instants, uuids, short ids, the user's
distinct id), in place, so key order, spacing and every other byte still count.

Re-record (only when an answer is meant to change): ``HEDGEROW_RECORD_OUTPUT_BYTES=1``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from hedgerow.testing import LiveServer
from tests.e2e.test_agents_mcp import mcp

pytestmark = pytest.mark.e2e

RECORDING = Path(__file__).parent.parent / "data" / "output_bytes.txt"
INSTANT = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?")
SHORT_ID = re.compile(rb'("short_id": ?")[0-9A-Za-z]+"')
UUID = re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

TRENDS = {"kind": "InsightVizNode", "source": {
    "kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview", "math": "total"}],
    "dateRange": {"date_from": "2026-01-01", "date_to": "2026-01-03"}, "interval": "day"}}  # fmt: skip
SQL = {"kind": "DataVisualizationNode", "source": {"kind": "HogQLQuery", "query": "select 1 + 2 as three"}}
METRIC = {"kind": "ExperimentMetric", "metric_type": "funnel", "uuid": "rate",
          "series": [{"kind": "EventsNode", "event": "purchase"}]}  # fmt: skip
ACTION = {"name": "Signed up", "description": "the form", "tags": ["growth"], "steps": [
    {"event": "$autocapture", "selector": "form > button.signup", "text": "Sign up", "text_matching": "exact"},
    {"event": "signed_up", "url": "/welcome", "url_matching": "contains",
     "properties": [{"key": "plan", "value": "pro", "operator": "exact", "type": "event"}]}]}  # fmt: skip
DESTINATION = {"type": "destination", "template_id": "template-webhook", "name": "Orders hook", "enabled": False,
               "inputs": {"url": {"value": "https://example.com/hook"}},
               "filters": {"events": [{"id": "order", "type": "events"}]}}  # fmt: skip


class Recorder:
    """Runs the calls and keeps each answer, masked."""

    def __init__(self, server: LiveServer, boot: dict[str, Any]) -> None:
        self.http = httpx.Client(base_url=f"{server.url}/api/projects/{boot['project_id']}", timeout=60,
                                 headers={"Authorization": f"Bearer {boot['personal_api_key']}"})  # fmt: skip
        self.url, self.key = server.url, boot["personal_api_key"]
        self.volatile: list[bytes] = []
        self.answers: list[bytes] = []

    def rest(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, path, json=body)
        assert response.status_code < 400, response.text
        self._keep(f"{method} {path} {response.status_code}", response.content)
        return response.json() if response.content else None

    def tools(self, *calls: tuple[str, dict[str, Any]]) -> None:
        _, results = mcp(self.url, self.key, *calls)
        for (name, arguments), result in zip(calls, results):
            assert not result.is_error, result
            self._keep(f"MCP {name} {json.dumps(arguments)}", json.dumps(result.structured_content).encode())

    def _keep(self, title: str, body: bytes) -> None:
        self.answers.append(f"### {title}\n".encode() + body + b"\n")

    def masked(self) -> str:
        """Every answer, with the values that differ from run to run masked in place."""
        text = b"".join(self.answers)
        for value in self.volatile:
            text = text.replace(value, b"<volatile>")
        text = SHORT_ID.sub(rb'\1<short_id>"', text)
        return UUID.sub(b"<uuid>", INSTANT.sub(b"<instant>", text)).decode()


def scenario(rec: Recorder) -> None:
    me = rec.http.get(f"{rec.url}/api/users/@me/").json()
    rec.volatile.append(json.dumps(me["distinct_id"]).encode())

    action = rec.rest("POST", "/actions/", ACTION)
    rec.rest("GET", "/actions/")
    rec.rest("GET", f"/actions/{action['id']}/")
    rec.rest("PATCH", f"/actions/{action['id']}/", {"name": "Signed up (v2)", "pinned_at": "2026-01-05T00:00:00Z"})

    trends = rec.rest("POST", "/insights/", {"name": "Views", "query": TRENDS, "description": "daily", "tags": ["web"]})
    sql = rec.rest("POST", "/insights/", {"name": "Three", "query": SQL})
    rec.rest("GET", "/insights/")
    rec.rest("GET", "/insights/?basic=true")
    rec.rest("GET", f"/insights/{trends['id']}/?refresh=blocking")
    rec.rest("PATCH", f"/insights/{sql['id']}/", {"name": "Three!", "favorited": True})

    dashboard = rec.rest("POST", "/dashboards/", {"name": "Overview", "description": "main", "pinned": True})
    for insight in (trends, sql):
        rec.rest("PATCH", f"/insights/{insight['id']}/", {"dashboards": [dashboard["id"]]})
    rec.rest("PATCH", f"/dashboards/{dashboard['id']}/", {"tiles": [{"text": {"body": "## Notes"},
                                                                    "layouts": {"sm": {"x": 0, "y": 9}}}]})  # fmt: skip
    rec.rest("GET", "/dashboards/")
    rec.rest("GET", f"/dashboards/{dashboard['id']}/?refresh=blocking")

    experiment = rec.rest("POST", "/experiments/", {"name": "Checkout", "feature_flag_key": "checkout",
                                                    "description": "new flow", "metrics": [METRIC]})  # fmt: skip
    one = f"/experiments/{experiment['id']}/"
    rec.rest("PATCH", one, {"start_date": "2026-01-01T00:00:00Z"})
    rec.rest("PATCH", one, {"end_date": "2026-01-10T00:00:00Z", "conclusion": "won", "conclusion_comment": "ship"})
    rec.rest("GET", "/experiments/")
    rec.rest("GET", one)

    destination = rec.rest("POST", "/hog_functions/", DESTINATION)
    rec.rest("GET", "/hog_functions/")
    rec.rest("GET", f"/hog_functions/{destination['id']}/")
    rec.rest("PATCH", f"/hog_functions/{destination['id']}/", {"name": "Orders webhook", "enabled": True})

    rec.tools(
        ("actions-get-all", {}), ("action-get", {"id": action["id"]}),
        ("insights-get-all", {}), ("insight-get", {"insightId": str(sql["id"])}),
        ("insight-query", {"insightId": str(sql["id"])}),
        ("dashboard-get", {"dashboardId": dashboard["id"]}), ("dashboards-get-all", {}),
        ("experiment-get-all", {}), ("experiment-get", {"experimentId": experiment["id"]}),
        ("experiment-results-get", {"experimentId": experiment["id"]}),
        ("cdp-functions-list", {}), ("cdp-functions-retrieve", {"id": destination["id"]}),
        ("dashboard-delete", {"dashboardId": dashboard["id"]}), ("insight-delete", {"insightId": str(trends["id"])}),
        ("action-delete", {"id": action["id"]}),
    )  # fmt: skip


def test_answers_are_byte_identical_to_the_recording(tmp_path) -> None:
    with LiveServer(tmp_path / "data") as server:
        rec = Recorder(server, server.bootstrap())
        scenario(rec)
    answers = rec.masked()
    if os.environ.get("HEDGEROW_RECORD_OUTPUT_BYTES"):
        RECORDING.write_text(answers)
    recorded = RECORDING.read_text().split("### ")
    for got, want in zip(answers.split("### "), recorded):
        assert got == want
    assert len(answers.split("### ")) == len(recorded)
