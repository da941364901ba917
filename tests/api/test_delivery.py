"""Delivery to real receivers on loopback: exactly as templated, only what the filters match
(one HogQL condition), retried then logged as failed, one slow receiver holding nobody else up,
private addresses refused unless allowed, and the outbox surviving a restart before matching."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from hedgerow.config import Settings
from hedgerow.store.events.clickhouse_connection import ChdbConnection
from hedgerow.store.events.duckdb import DuckDBEventStore
from hedgerow.store.meta import delivery_claims, tables
from hedgerow.store.meta.db import MetaDB
from tests.conftest import make_harness
from tests.webhook_receiver import Receiver, wait_for


@pytest.fixture(params=["duckdb", "chdb"])
def dapi(request, settings: Settings):
    """A server delivering, with events in DuckDB or in the embedded ClickHouse (whose one
    in-memory server per process holds the ``hedgerow`` database, dropped afterwards)."""
    settings = settings.with_(webhooks_allow_private=True, webhooks_retry_seconds=0.05)
    if request.param == "duckdb":
        yield from make_harness(settings)
        return
    try:
        yield from make_harness(settings.with_(events_url="chdb:///:memory:"))
    finally:
        chdb = ChdbConnection(":memory:")
        chdb.command("DROP DATABASE IF EXISTS hedgerow")
        chdb.close()


def destination(api, target: str, **body) -> dict:
    inputs = {"url": {"value": target}, **body.pop("inputs", {})}
    response = api.post(f"/api/projects/{api.project_id}/hog_functions/",
                        {"type": "destination", "template_id": "template-webhook", "enabled": True,
                         "inputs": inputs, **body})  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json()


def capture(api, event: str, distinct_id: str = "user-1", **properties) -> str:
    event_uuid = str(uuid.uuid4())
    response = api.client.post("/e/", json={"api_key": api.project_token, "event": event, "uuid": event_uuid,
                                            "distinct_id": distinct_id, "properties": properties})  # fmt: skip
    assert response.status_code == 200, response.text
    return event_uuid


def logs(api, fn: dict, *params: str) -> list[dict]:
    query = "?" + "&".join(params) if params else ""
    response = api.get(f"/api/projects/{api.project_id}/hog_functions/{fn['id']}/logs/{query}")
    assert response.status_code == 200, response.text
    return response.json()["results"]


def totals(api, fn: dict) -> dict:
    path = f"/api/projects/{api.project_id}/hog_functions/{fn['id']}/metrics/totals/?breakdown_by=name"
    return api.get(path).json()["totals"]


def test_every_matching_event_delivered_exactly_as_templated(dapi) -> None:
    with Receiver() as receiver:
        fn = destination(
            dapi, receiver.url + "/orders/{event.properties.shop}",
            name="Orders",
            inputs={
                "method": {"value": "PUT"},
                "headers": {"value": {"X-Event": "{event.event}", "Authorization": "Bearer s3cret"}},
                "body": {"value": {"id": "{event.uuid}", "total": "{event.properties.total}",
                                   "line": "{person.properties.email} paid {event.properties.total} in {project.name}",
                                   "items": ["{event.properties.items[0]}", "{event.properties['$lib']}"],
                                   "person": "{person.name}", "source": "{source.name}",
                                   "missing": "{event.properties.nope}"}},
            },
            filters={"events": [{"id": "order", "type": "events",
                                 "properties": [{"key": "total", "value": 10, "operator": "gt", "type": "event"}]}],
                     "properties": [{"key": "email", "value": "@shop.io", "operator": "icontains", "type": "person"}]},
        )  # fmt: skip
        capture(dapi, "$identify", "user-1", **{"$set": {"email": "ana@shop.io"}})
        capture(dapi, "$identify", "user-2", **{"$set": {"email": "bob@elsewhere.com"}})
        wanted = capture(dapi, "order", "user-1", total=25, shop="north", items=["tea", "cups"], **{"$lib": "web"})
        capture(dapi, "order", "user-1", total=5, shop="north")  # total too small
        capture(dapi, "order", "user-2", total=50, shop="north")  # person does not match
        capture(dapi, "refund", "user-1", total=50, shop="north")  # another event
        last = capture(dapi, "order", "user-1", total=11.5, shop="south")
        wait_for(lambda: len(receiver.answered) >= 2, what="two deliveries")
        wait_for(lambda: totals(dapi, fn).get("filtered", 0) >= 5, what="the other events counted as filtered")
    assert len(receiver.received) == 2
    first, second = sorted(receiver.received, key=lambda r: r.json()["total"], reverse=True)
    assert first.method == "PUT" and first.path == "/orders/north" and second.path == "/orders/south"
    assert first.headers["x-event"] == "order" and first.headers["authorization"] == "Bearer s3cret"
    assert first.headers["content-type"] == "application/json"
    assert first.json() == {"id": wanted, "total": 25, "line": "ana@shop.io paid 25 in Default project",
                            "items": ["tea", "web"], "person": "ana@shop.io", "source": "Orders",
                            "missing": None}  # fmt: skip
    assert second.json()["id"] == last and second.json()["total"] == 11.5
    assert totals(dapi, fn) == {"succeeded": 2, "filtered": 5}
    assert {line["instance_id"] for line in logs(dapi, fn)} == {wanted, last}


def test_failures_are_retried_with_backoff_then_logged(dapi) -> None:
    with Receiver(answer=lambda request, n: (503, 0.0)) as down, Receiver(
        answer=lambda request, n: (500 if n == 1 else 200, 0.0)
    ) as flaky, Receiver(answer=lambda request, n: (400, 0.0)) as refusing:
        dead = destination(dapi, down.url + "/")
        recovering = destination(dapi, flaky.url + "/")
        bad_request = destination(dapi, refusing.url + "/")
        event_uuid = capture(dapi, "anything")
        wait_for(lambda: totals(dapi, dead).get("failed"), what="the dead receiver's delivery to fail")
        wait_for(lambda: totals(dapi, recovering).get("succeeded"), what="the flaky receiver's delivery")
        wait_for(lambda: totals(dapi, bad_request).get("failed"), what="the 400 to fail")
    assert len(down.received) == 3  # the first try and two retries (HEDGEROW_WEBHOOKS_MAX_ATTEMPTS)
    assert len(flaky.received) == 2 and len(refusing.received) == 1  # a 4xx is not retried
    failed = logs(dapi, dead, "level=ERROR")
    assert len(failed) == 1 and failed[0]["instance_id"] == event_uuid
    assert "failed after 3 attempts" in failed[0]["message"] and "HTTP 503" in failed[0]["message"]
    assert [line["level"] for line in logs(dapi, dead)] == ["ERROR", "WARN", "WARN"]
    assert "HTTP 400" in logs(dapi, bad_request, "level=error")[0]["message"]
    assert totals(dapi, recovering) == {"succeeded": 1}


def test_a_slow_receiver_holds_up_only_its_own_deliveries(dapi) -> None:
    with Receiver(answer=lambda request, n: (200, 60.0), hang_up=True) as slow, Receiver() as fast:
        destination(dapi, slow.url + "/")
        quick = destination(dapi, fast.url + "/")
        sent = [capture(dapi, "tick", n=i) for i in range(30)]
        wait_for(lambda: len(fast.answered) == 30, what="the fast receiver to get every event")
        assert slow.received and not slow.answered  # still hanging on its first requests
        assert len(slow.received) <= 8  # bounded concurrency per destination
    assert {r.json()["event"]["uuid"] for r in fast.answered} == set(sent)
    assert totals(dapi, quick) == {"succeeded": 30}


def test_private_addresses_are_refused_unless_allowed(api) -> None:
    with Receiver() as receiver:
        by_ip = destination(api, receiver.url + "/")
        by_name = destination(api, f"http://localhost:{receiver.port}/")
        capture(api, "signup")
        for fn in (by_ip, by_name):
            wait_for(lambda: totals(api, fn).get("failed"), what="the refused delivery to be recorded")
    assert receiver.received == []
    message = logs(api, by_name, "level=ERROR")[0]["message"]
    assert "non-public address" in message and "localhost" in message


def test_redirects_are_not_followed(dapi) -> None:
    with Receiver(answer=lambda request, n: (302, 0.0)) as receiver:
        fn = destination(dapi, receiver.url + "/")
        capture(dapi, "signup")
        wait_for(lambda: totals(dapi, fn).get("failed"), what="the redirect to count as a failure")
    assert len(receiver.received) == 1
    assert "redirects are not followed" in logs(dapi, fn, "level=ERROR")[0]["message"]


def test_disabled_and_deleted_destinations_get_nothing(dapi) -> None:
    with Receiver() as receiver, Receiver() as control:
        off = destination(dapi, receiver.url + "/off")
        dapi.patch(f"/api/projects/{dapi.project_id}/hog_functions/{off['id']}/", {"enabled": False})
        gone = destination(dapi, receiver.url + "/gone")
        dapi.patch(f"/api/projects/{dapi.project_id}/hog_functions/{gone['id']}/", {"deleted": True})
        destination(dapi, control.url + "/")
        capture(dapi, "signup")
        wait_for(lambda: control.answered, what="the enabled destination's delivery")
    assert receiver.received == []


def test_acknowledged_events_wait_in_the_outbox_across_a_restart(tmp_path: Path) -> None:
    """Stopped between commit and matching: the events are in the outbox when it opens again."""
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'meta.sqlite3'}",
                        rate_limits_enabled=False, webhooks_allow_private=True)  # fmt: skip
    with Receiver() as receiver:
        for api in make_harness(settings):
            destination(api, receiver.url + "/")
            api.services.delivery.close()  # matching stops; ingestion goes on
            sent = [capture(api, "order", n=i) for i in range(5)]
            assert receiver.received == []
        events = DuckDBEventStore(settings.data_dir / "events.duckdb")
        meta = MetaDB(settings.database_url)
        try:
            assert [row[2] for row in events.read_outbox(0, 100)] == sent
            with meta.read() as conn:
                assert delivery_claims.cursor(conn, events.store_id) is None
        finally:
            events.close()
            meta.dispose()
        for api in make_harness(settings):  # the server again: the outbox is matched and sent
            wait_for(lambda: len(receiver.answered) == 5, what="the outbox to be delivered")
            assert sorted(r.json()["event"]["uuid"] for r in receiver.answered) == sorted(sent)
            capture(api, "later")  # the next commit prunes what was matched
            wait_for(lambda: len(receiver.answered) == 6, what="the next event")
            capture(api, "later")
            outbox = api.services.events.read_outbox
            wait_for(lambda: not outbox(0, 100) or outbox(0, 100)[0][0] > 5, what="matched outbox rows pruned")


def test_a_range_too_wide_for_one_read_is_matched_by_uuid(dapi, monkeypatch) -> None:
    from hedgerow.services import delivery

    monkeypatch.setattr(delivery, "MATCH_ROWS", 2)  # one read holds 2 events: 5 overflow it
    with Receiver() as receiver:
        destination(dapi, receiver.url + "/", filters={"events": [{"id": "order", "type": "events"}]})
        dapi.services.delivery.close()  # the 5 events wait in the outbox, to be matched as one batch
        sent = [capture(dapi, "order", n=i) for i in range(5)]
        capture(dapi, "view")
        dapi.services.delivery.start()
        wait_for(lambda: len(receiver.answered) >= 5, what="all five matched despite the small reads")
    assert sorted(r.json()["event"]["uuid"] for r in receiver.answered) == sorted(sent)


def test_filter_test_accounts_uses_the_projects_filters(dapi) -> None:
    internal = [{"key": "email", "value": "@hedgerow.test", "operator": "not_icontains", "type": "person"}]
    changed = dapi.patch(f"/api/projects/{dapi.project_id}/", {"test_account_filters": internal})
    assert changed.status_code == 200, changed.text
    with Receiver() as receiver:
        destination(dapi, receiver.url + "/", filters={"filter_test_accounts": True})
        capture(dapi, "$identify", "staff", **{"$set": {"email": "qa@hedgerow.test"}})
        capture(dapi, "$identify", "customer", **{"$set": {"email": "ana@shop.io"}})
        staff = capture(dapi, "order", "staff")
        customer = capture(dapi, "order", "customer")
        wait_for(lambda: any(r.json()["event"]["uuid"] == customer for r in receiver.answered), what="the customer")
        capture(dapi, "done", "customer")
        wait_for(lambda: any(r.json()["event"]["event"] == "done" for r in receiver.answered), what="a later event")
    delivered = {r.json()["event"]["uuid"] for r in receiver.answered}
    assert customer in delivered and staff not in delivered
    assert all(r.json()["person"]["properties"]["email"] == "ana@shop.io" for r in receiver.answered)


def test_a_destination_whose_filters_cannot_run_holds_up_no_other(dapi) -> None:
    """Action triggers compile to ``matchesAction(id)``; where it cannot run (no such action,
    or no actions yet), that destination gets nothing and the others go on."""
    with Receiver() as by_action, Receiver() as by_event:
        action_fn = destination(dapi, by_action.url + "/", filters={"actions": [{"id": 999, "type": "actions"}]})
        destination(dapi, by_event.url + "/", filters={"events": [{"id": "order", "type": "events"}]})
        first = capture(dapi, "order")
        wait_for(lambda: by_event.answered, what="the event destination's delivery")
        second = capture(dapi, "order")
        wait_for(lambda: len(by_event.answered) == 2, what="the next batch, matched too")
    assert by_action.received == []
    assert [r.json()["event"]["uuid"] for r in by_event.answered] == [first, second]
    assert totals(dapi, action_fn).get("succeeded") is None


def action(api, name: str, steps: list[dict], **fields) -> dict:
    response = api.post(f"/api/projects/{api.project_id}/actions/", {"name": name, "steps": steps, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_destination_triggered_by_an_action_gets_exactly_the_events_the_action_matches(dapi) -> None:
    """The action's steps decide (one definition of matching, ``matchesAction``): any step."""
    checkout = action(dapi, "Checkout", [{"event": "$pageview", "url": "/checkout", "url_matching": "contains"},
                                         {"event": "purchase"}])  # fmt: skip
    with Receiver() as receiver:
        destination(dapi, receiver.url + "/", filters={"actions": [{"id": checkout["id"], "type": "actions"}]})
        on_page = capture(dapi, "$pageview", **{"$current_url": "https://shop.io/checkout?step=2"})
        capture(dapi, "$pageview", **{"$current_url": "https://shop.io/home"})
        bought = capture(dapi, "purchase")
        capture(dapi, "refund")
        marker = capture(dapi, "$pageview", **{"$current_url": "https://shop.io/checkout/done"})
        # Not in capture order: on ClickHouse an event queued while its insert runs waits a moment.
        wait_for(lambda: {r.json()["event"]["uuid"] for r in receiver.answered} >= {on_page, bought, marker},
                 what="the three matches")  # fmt: skip
    assert sorted(r.json()["event"]["uuid"] for r in receiver.answered) == sorted([on_page, bought, marker])


def test_legacy_action_webhook_posts_the_formatted_message_to_the_projects_incoming_webhook(dapi) -> None:
    """``post_to_slack`` + the project's ``slack_incoming_webhook`` (§9.2): a non-Slack
    receiver gets ``{"text"}`` in Markdown; actions without ``post_to_slack`` post nothing;
    turning it off stops the posts."""
    with Receiver() as receiver:
        response = dapi.patch(f"/api/projects/{dapi.project_id}/", {"slack_incoming_webhook": receiver.url + "/hook"})
        assert response.status_code == 200, response.text
        assert response.json()["slack_incoming_webhook"] == receiver.url + "/hook"
        signed = action(dapi, "Signed up", [{"event": "signup"}], post_to_slack=True,
                        slack_message_format="[action.name] by [person] with plan [event.properties.plan]")  # fmt: skip
        action(dapi, "Quiet", [{"event": "signup"}])  # matches too, but does not post
        capture(dapi, "$identify", "ana", **{"$set": {"email": "ana@shop.io"}})
        event_uuid = capture(dapi, "signup", "ana", plan="pro")
        wait_for(lambda: receiver.answered, what="the legacy webhook's post")
        assert dapi.patch(f"/api/projects/{dapi.project_id}/actions/{signed['id']}/",
                          {"post_to_slack": False}).status_code == 200  # fmt: skip
        capture(dapi, "signup", "ana", plan="free")
        sentinel_fn = destination(dapi, receiver.url + "/sentinel", filters={"events": [{"id": "signup", "type": "events"}]})
        capture(dapi, "signup", "ana", plan="team")
        wait_for(lambda: any(r.path == "/sentinel" for r in receiver.answered), what="a later delivery")
    posts = [r for r in receiver.answered if r.path == "/hook"]
    assert len(posts) == 1
    text = posts[0].json()["text"]
    base = f"{dapi.services.settings.site_url.rstrip('/')}/project/{dapi.project_id}"
    assert text == f"[Signed up]({base}/data-management/actions/{signed['id']}) by [ana@shop.io]({base}/person/ana) with plan pro"
    assert posts[0].headers["content-type"] == "application/json"
    assert sentinel_fn["id"] and event_uuid


def test_a_process_matching_events_another_queued_reads_the_destination_first(settings, monkeypatch) -> None:
    """Two servers on one metadata database and one ClickHouse database (the embedded one,
    shared in this process): events queued by the server that knows a new destination, and
    matched by the other, which has not read it yet, are delivered all the same."""
    from hedgerow.services import delivery

    monkeypatch.setattr(delivery, "RELOAD_SECONDS", 3600.0)  # no periodic reload to hide behind
    settings = settings.with_(webhooks_allow_private=True, events_url="chdb:///:memory:")
    try:
        with Receiver() as receiver:
            for matcher in make_harness(settings):
                for api in make_harness(settings):
                    fn = destination(api, receiver.url + "/")
                    api.services.delivery.close()  # only the other server matches
                    assert fn["id"] not in matcher.services.delivery._by_id
                    sent = [capture(api, "order", n=i) for i in range(3)]
                    wait_for(lambda: len(receiver.answered) == 3, what="the events delivered by the other server")
                    assert sorted(r.json()["event"]["uuid"] for r in receiver.answered) == sorted(sent)
    finally:
        chdb = ChdbConnection(":memory:")
        chdb.command("DROP DATABASE IF EXISTS hedgerow")
        chdb.close()


def test_two_servers_on_one_clickhouse_database_deliver_each_event_once(settings) -> None:
    """Both match the one outbox of the shared events database and both send from the one
    queue of deliveries owed: every event arrives, once."""
    settings = settings.with_(webhooks_allow_private=True, events_url="chdb:///:memory:")
    try:
        with Receiver(answer=lambda request, n: (200, 0.01)) as receiver:
            for one in make_harness(settings):
                for other in make_harness(settings):
                    destination(one, receiver.url + "/")
                    other.services.delivery.changed()  # rather than wait for its next reload
                    sent = [capture(api, "order", n=i) for i in range(15) for api in (one, other)]
                    wait_for(lambda: len(receiver.answered) >= len(sent), what="every event delivered")
                    with one.services.meta.read() as conn:
                        wait_for(lambda: not conn.execute(sa.select(tables.hog_function_deliveries.c.id)).all()
                                 and not conn.execute(sa.select(tables.delivery_outbox.c.id)).all(),
                                 what="nothing left owed or queued")  # fmt: skip
    finally:
        chdb = ChdbConnection(":memory:")
        chdb.command("DROP DATABASE IF EXISTS hedgerow")
        chdb.close()
    assert sorted(r.json()["event"]["uuid"] for r in receiver.received) == sorted(sent)
