"""Hostile destinations do not slow anyone else down: with a receiver that never answers, one
that trickles its answer a byte a second, filters heavy with regexes over long values, a
property filter nested as deep as allowed and an action with a pathological regex step all
live on one server, capture, ``/flags/`` and a HogQL query keep answering.

Each request gets 10 s (the client's timeout): the hostile receivers would hold a request for
minutes, so only a real stall fails it. The rounds go on until the hostile destinations are
seen at work (the hanging receiver holds its lanes' requests, including those the action
matched, the trickling one is being read, the heavy filters have filtered events out).
"""

from __future__ import annotations

import socketserver
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from hedgerow.testing import LiveServer
from tests.api.test_nested_filters import nested as nested_filters
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.e2e

BOUND = 10.0
"""Seconds any one request may take: generous on a loaded machine, far below a stall."""
LONG_URL = "https://shop.example/" + "a" * 4_000 + "!"
LEAF = {"key": "$current_url", "value": "^(a|aa)*(b|ab)+x{2,40}$", "operator": "regex", "type": "event"}


def nested(depth: int) -> dict[str, Any]:
    return nested_filters(depth, LEAF, {**LEAF, "value": "(a+)+(b+)+c$"}, how="OR")


@contextmanager
def trickler() -> Iterator[tuple[str, list[int]]]:
    """A receiver that answers 200 with headers, then a byte a second, never finishing."""
    stop = threading.Event()
    served: list[int] = []

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            served.append(1)
            self.request.settimeout(1.0)
            try:
                self.request.recv(65536)
                self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                while not stop.wait(1.0):
                    self.request.sendall(b"x")
            except OSError:  # the sender gave up
                pass

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", served
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def test_hostile_destinations_do_not_slow_capture_flags_or_queries(tmp_path) -> None:
    env = {"HEDGEROW_WEBHOOKS_ALLOW_PRIVATE": "1", "HEDGEROW_WEBHOOKS_RETRY_SECONDS": "0.2"}
    with LiveServer(tmp_path / "data", env=env) as server, Receiver(answer=lambda r, n: (200, 600.0)) as hanging, \
            trickler() as (trickle_url, trickled):  # fmt: skip
        boot = server.bootstrap()
        api = httpx.Client(base_url=f"{server.url}/api/projects/{boot['project_id']}", timeout=BOUND,
                           headers={"Authorization": f"Bearer {boot['personal_api_key']}"})  # fmt: skip
        public = httpx.Client(base_url=server.url, timeout=BOUND)
        token = boot["project_api_key"]

        action = api.post("/actions/", json={"name": "Pathological", "steps": [
            {"event": "$pageview", "url": "(a+)+$", "url_matching": "regex",
             "selector": " ".join(["div > span"] * 30), "properties": [nested(5)]},
            {"event": "$pageview", "href": "(x|xx)*y$", "href_matching": "regex"}]})  # fmt: skip
        assert action.status_code == 201, action.text
        regexes = [{**LEAF, "value": f"^(a|aa)*{i}(b|ab)+$"} for i in range(150)]
        hostile = {
            "never answers": (hanging.url + "/", {}),
            "trickles": (trickle_url, {}),
            "heavy regexes": (hanging.url + "/heavy", {"events": [
                {"id": None, "type": "events", "properties": regexes[i : i + 5]} for i in range(0, 150, 5)]}),
            "deep filter": (trickle_url, {"properties": [nested(18)]}),
            "pathological action": (hanging.url + "/action", {"actions": [{"id": action.json()["id"], "type": "actions"}]}),
        }  # fmt: skip
        ids = {}
        for name, (url, filters) in hostile.items():
            made = api.post("/hog_functions/", json={
                "type": "destination", "template_id": "template-webhook", "enabled": True, "name": name,
                "inputs": {"url": {"value": url}}, "filters": filters})  # fmt: skip
            assert made.status_code == 201, made.text
            ids[name] = made.json()["id"]
        flag = api.post("/feature_flags/", json={"key": "steady", "filters": {"groups": [{"rollout_percentage": 100}]}})
        assert flag.status_code == 201, flag.text

        sent = 0

        def filtered(name: str) -> int:
            return api.get(f"/hog_functions/{ids[name]}/metrics/totals/?breakdown_by=name").json()["totals"].get("filtered", 0)

        def hostile_at_work() -> bool:
            """Both hanging receivers hold requests, and every hostile filter has been run."""
            paths = {request.path for request in hanging.received}
            return (len(hanging.received) >= 8 and bool(trickled) and "/action" in paths
                    and filtered("heavy regexes") > 0 and filtered("deep filter") > 0)  # fmt: skip

        rounds = 0
        while rounds < 5 or not hostile_at_work():
            assert rounds < 200, "the hostile destinations never got to work"
            batch = [{"event": "$pageview", "distinct_id": f"user-{rounds}-{i}", "uuid": str(uuid.uuid4()),
                      "properties": {"$current_url": LONG_URL, "n": i}} for i in range(25)]  # fmt: skip
            captured = public.post("/batch/", json={"api_key": token, "batch": batch})
            assert captured.status_code == 200 and captured.json() == {"status": 1}, captured.text
            sent += len(batch)
            flags = public.post("/flags/?v=2", json={"api_key": token, "distinct_id": f"user-{rounds}-0"})
            assert flags.status_code == 200 and flags.json()["flags"]["steady"]["enabled"] is True, flags.text
            counted = api.post("/query/", json={"query": {"kind": "HogQLQuery", "query": "select count() from events"},
                                                "refresh": "force_blocking"})  # fmt: skip
            assert counted.status_code == 200, counted.text
            assert counted.json()["results"][0][0] == sent  # an acknowledged event is readable at once
            rounds += 1

        assert len(hanging.received) >= 8 and not hanging.answered
        for name in ("heavy regexes", "deep filter", "pathological action"):
            totals = api.get(f"/hog_functions/{ids[name]}/metrics/totals/?breakdown_by=name").json()["totals"]
            assert "filtering_failed" not in totals, (name, totals)  # each filter was run, not given up on
        assert public.get("/_health").status_code == 200
