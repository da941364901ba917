"""Insights over a real ``hedgerow serve``, on events sent with the official posthog-python SDK:
an anonymous visitor identified after their first pageview, and a personless event."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from posthog import Posthog

from hedgerow.testing import LiveServer

pytestmark = pytest.mark.e2e

DAY = dt.datetime(2024, 5, 6, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def server(tmp_path):
    with LiveServer(tmp_path / "data") as live:
        yield live


def test_trends_and_funnel_on_sdk_events(server) -> None:
    boot = server.bootstrap()
    errors: list = []
    ph = Posthog(boot["project_api_key"], host=server.url, sync_mode=True, on_error=lambda e, b: errors.append(e))
    ph.capture("$pageview", distinct_id="anon-1", timestamp=DAY, properties={"$browser": "Chrome"})
    ph.capture("$identify", distinct_id="ada", timestamp=DAY + dt.timedelta(minutes=5),
               properties={"$anon_distinct_id": "anon-1"})
    ph.capture("signed_up", distinct_id="ada", timestamp=DAY + dt.timedelta(minutes=10))
    ph.capture("$pageview", distinct_id="bob", timestamp=DAY + dt.timedelta(days=1), properties={"$browser": "Safari"})
    ph.capture("$pageview", distinct_id="ghost", timestamp=DAY + dt.timedelta(days=1),
               properties={"$process_person_profile": False})
    ph.flush()
    ph.shutdown()
    assert errors == []

    headers = {"Authorization": f"Bearer {boot['personal_api_key']}"}
    url = f"{server.url}/api/projects/{boot['project_id']}/query/"
    rng = {"date_from": "2024-05-06", "date_to": "2024-05-07"}

    def run(query):
        response = httpx.post(url, json={"query": query}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()["results"]

    [users] = run({"kind": "TrendsQuery", "dateRange": rng,
                   "series": [{"kind": "EventsNode", "event": None, "math": "dau"}]})
    assert users["data"] == [1, 2]  # anon-1 and ada are one person; the ghost counts on its own
    steps = run({"kind": "FunnelsQuery", "dateRange": rng, "series": [
        {"kind": "EventsNode", "event": "$pageview"}, {"kind": "EventsNode", "event": "signed_up"}]})
    # the pageview was sent as anon-1 and the signup as ada: one person, converted in 10 minutes
    # (give or take the clock-skew correction capture applies to each request's timestamps)
    assert [s["count"] for s in steps] == [3, 1] and steps[0]["average_conversion_time"] is None
    assert steps[1]["average_conversion_time"] == pytest.approx(600, abs=1)
