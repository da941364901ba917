"""Actions count what posthog-js autocaptures: real clicks in headless Chromium, chains written
by the browser SDK, matched by the server's actions (selector, tag, href, text, url) in trends."""

from __future__ import annotations

import httpx
import pytest

from hedgerow.testing import LiveServer
from tests.e2e.browser_driver import drive, needs_browser

pytestmark = [pytest.mark.e2e, pytest.mark.browser, needs_browser]

BODY = """<nav class="top"><a class="nav-link" href="/pricing" onclick="event.preventDefault()">Pricing</a></nav>
<div class="card pro"><button class="buy btn" data-plan="pro">Buy <span class="label">Pro</span></button></div>
<ul class="menu"><li><a href="https://docs.example.com/start" onclick="event.preventDefault()"><span>Docs</span></a></li></ul>
<form class="signup"><button id="signup-btn" class="btn" type="button">Sign up</button></form>"""

CLICKS = [".nav-link", "button.buy", ".buy .label", "ul.menu span", "#signup-btn"]

# action name -> (steps, how many of the page's events it matches)
ACTIONS = {
    # the button itself, and the label inside it (the chain starts at the span, then the button)
    "Bought pro": ([{"event": "$autocapture", "selector": "div.card > button.buy"}], 2),
    "Signed up": ([{"event": "$autocapture", "selector": "#signup-btn"}], 1),
    "Form button": ([{"event": "$autocapture", "selector": "form button"}], 1),
    "Any button": ([{"event": "$autocapture", "tag_name": "button"}], 3),
    "Pricing link": ([{"event": "$autocapture", "href": "/pricing"}], 1),
    "Docs by text": ([{"event": "$autocapture", "text": "Docs"}], 1),
    "Docs by href": ([{"event": "$autocapture", "href": "DOCS.EXAMPLE", "href_matching": "contains"}], 1),
    "Page viewed": ([{"event": "$pageview", "url": "127.0.0.1", "url_matching": "contains"}], 1),
    "Pricing or pro": ([{"event": "$autocapture", "text": "Pricing"},
                        {"event": "$autocapture", "selector": '[data-plan="pro"]'}], 3),
    "Nothing": ([{"event": "$autocapture", "selector": "section button"}], 0),
}


def test_actions_count_real_autocaptured_clicks(tmp_path) -> None:
    with LiveServer(tmp_path / "data") as server:
        boot = server.bootstrap()
        api = f"{server.url}/api/projects/{boot['project_id']}"
        headers = {"Authorization": f"Bearer {boot['personal_api_key']}"}
        ids = {}
        for name, (steps, _) in ACTIONS.items():
            made = httpx.post(f"{api}/actions/", json={"name": name, "steps": steps}, headers=headers)
            assert made.status_code == 201, made.text
            ids[name] = made.json()["id"]
        run = drive(server.url, boot["project_api_key"], [{"do": "click", "selector": s} for s in CLICKS],
                    body=BODY, init={"rageclick": False})  # fmt: skip
        assert [r for r in run["requests"] if r["status"] != 200 and "/flags" not in r["url"]] == [], run
        query = {"kind": "TrendsQuery", "dateRange": {"date_from": "-1d"},
                 "series": [{"kind": "ActionsNode", "id": ids[name]} for name in ACTIONS]}
        response = httpx.post(f"{api}/query/", json={"query": query, "refresh": "force_blocking"}, headers=headers)
        assert response.status_code == 200, response.text
        counted = {series["label"]: series["count"] for series in response.json()["results"]}
        autocaptured = httpx.post(f"{api}/query/", headers=headers, json={"query": {
            "kind": "HogQLQuery", "query": "select count() from events where event = '$autocapture'"}}).json()
    assert autocaptured["results"] == [[len(CLICKS)]]  # every click arrived, none twice
    assert counted == {name: expected for name, (_, expected) in ACTIONS.items()}
