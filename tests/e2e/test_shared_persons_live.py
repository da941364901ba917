"""Scale-out persons: three ``hedgerow serve --persons shared`` processes on one PostgreSQL
(a throwaway server), each with its own DuckDB events file, take identify / alias / merge
traffic for the same people at once and end with the persons one process would produce;
every event carries the person the shared state decided; flags on any process read the
person properties another process set.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterator

import httpx
import orjson
import pytest
import sqlalchemy as sa

from hedgerow.ingest.persons import derived_person_uuid
from hedgerow.testing import LiveServer
from tests.throwaway_postgres import database, required

pytestmark = pytest.mark.e2e

PEOPLE = 40
ANONS = 3
MERGES = ("$identify", "$create_alias", "$merge_dangerously")


@pytest.fixture(scope="module")
def postgres(postgres_admin_url: str | None) -> str:
    return required(postgres_admin_url)


@pytest.fixture(scope="module")
def cluster(postgres: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[LiveServer], dict, str]]:
    root = tmp_path_factory.mktemp("cluster")
    with database(postgres) as url:
        env = {"HEDGEROW_DATABASE_URL": url, "HEDGEROW_PERSONS": "shared",
               "HEDGEROW_RATE_LIMITS_ENABLED": "false"}  # fmt: skip
        servers: list[LiveServer] = []
        try:
            servers.append(LiveServer(root / "p0", env=env).start())  # migrates the database
            boot = servers[0].bootstrap()
            more = [LiveServer(root / f"p{i}", env=env) for i in (1, 2)]
            servers += more
            with ThreadPoolExecutor(len(more)) as pool:  # started side by side: starts are slow
                list(pool.map(LiveServer.start, more))
            yield servers, boot, url
        finally:
            for server in servers:
                server.stop()


def _traffic(person: int) -> list[dict]:
    """One person's events: three anonymous ids browsing, each merged into the user id by a
    different merge event, and a ``$set``. Every property key is set once, so the final
    person does not depend on the order the events are applied in (merges of anonymous,
    never-identified persons always succeed)."""
    user = f"user-{person}"
    events = []
    for j in range(ANONS):
        anon = f"anon-{person}-{j}"
        events.append({"event": "$pageview", "distinct_id": anon,
                       "properties": {"$set_once": {f"first_{j}": j}}})  # fmt: skip
        other = {"$anon_distinct_id": anon} if MERGES[j] == "$identify" else {"alias": anon}
        events.append({"event": MERGES[j], "distinct_id": user,
                       "properties": {**other, "$set": {f"via_{j}": MERGES[j]}}})  # fmt: skip
    events.append({"event": "$set", "distinct_id": user,
                   "properties": {"$set": {"email": f"p{person}@example.com"}}})  # fmt: skip
    return events


def _expected(person: int) -> tuple[frozenset[str], dict]:
    ids = frozenset([f"user-{person}", *(f"anon-{person}-{j}" for j in range(ANONS))])
    props = {f"first_{j}": j for j in range(ANONS)}
    props.update({f"via_{j}": MERGES[j] for j in range(ANONS)})
    props["email"] = f"p{person}@example.com"
    return ids, props


def _send_concurrently(servers: list[LiveServer], token: str, events: list[dict]) -> None:
    """Shuffled small batches, spread over the servers, from two threads per server."""
    rng = random.Random(12)
    rng.shuffle(events)
    batches: list[list[dict]] = []
    while events:
        size = rng.randint(1, 3)
        batches.append(events[:size])
        del events[:size]
    lanes: list[list[tuple[str, list[dict]]]] = [[] for _ in range(2 * len(servers))]
    for n, batch in enumerate(batches):
        lanes[n % len(lanes)].append((servers[n % len(servers)].url, batch))
    failures: list[str] = []
    start = threading.Barrier(len(lanes))

    def lane(work: list[tuple[str, list[dict]]]) -> None:
        with httpx.Client(timeout=30) as http:
            start.wait()
            for url, batch in work:
                response = http.post(f"{url}/batch/", json={"api_key": token, "batch": batch})
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text}")

    threads = [threading.Thread(target=lane, args=(work,)) for work in lanes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def _shared_state(url: str) -> tuple[dict[str, tuple], dict[str, str], dict[str, str]]:
    """Persons by uuid, distinct id -> person uuid, and overrides, as stored in PostgreSQL."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            persons = {row.uuid: row for row in conn.execute(sa.text(
                "select uuid, properties, is_identified from identity_persons"))}  # fmt: skip
            owners = dict(conn.execute(sa.text(
                "select distinct_id, person_uuid from identity_distinct_ids")).all())  # fmt: skip
            overrides = dict(conn.execute(sa.text(
                "select distinct_id, person_uuid from identity_overrides")).all())  # fmt: skip
    finally:
        engine.dispose()
    return persons, owners, overrides


def _event_persons(server: LiveServer, boot: dict) -> list[tuple[str, str]]:
    """(distinct_id, person_id) of the events one process stored (in its own DuckDB)."""
    response = httpx.post(
        f"{server.url}/api/projects/{boot['project_id']}/query/",
        headers={"Authorization": f"Bearer {boot['personal_api_key']}"},
        json={"query": {"kind": "HogQLQuery",
                        "query": "select distinct_id, toString(person_id) from events limit 10000"}},
        timeout=60,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return [(d, p) for d, p in response.json()["results"]]


def test_three_processes_merging_the_same_people_reach_one_process_result(cluster) -> None:
    servers, boot, url = cluster
    events = [event for person in range(PEOPLE) for event in _traffic(person)]
    sent = len(events)
    _send_concurrently(servers, boot["project_api_key"], events)

    persons, owners, overrides = _shared_state(url)
    ids_of: dict[str, set[str]] = defaultdict(set)
    for distinct_id, uuid in owners.items():
        if distinct_id.startswith(("user-", "anon-")):
            ids_of[uuid].add(distinct_id)
    got = sorted((sorted(ids), orjson.loads(persons[uuid].properties), persons[uuid].is_identified)
                 for uuid, ids in ids_of.items())  # fmt: skip
    want = sorted((sorted(ids), props, True) for ids, props in map(_expected, range(PEOPLE)))
    assert got == want
    assert all(uuid in persons for uuid in owners.values())  # no distinct id points at a ghost
    assert len([u for u in persons if u in ids_of]) == PEOPLE

    # Every event carries the person decided for it then; with the overrides, its person now.
    team = boot["project_id"]
    for distinct_id, uuid in owners.items():
        if uuid != derived_person_uuid(team, distinct_id):
            assert overrides.get(distinct_id) == uuid, distinct_id
    stored = [row for server in servers for row in _event_persons(server, boot)]
    assert len(stored) == sent
    for distinct_id, person_id in stored:
        assert overrides.get(distinct_id, person_id) == owners[distinct_id], distinct_id


def _flag_enabled(server: LiveServer, token: str, distinct_id: str, key: str) -> bool:
    response = httpx.post(f"{server.url}/flags/?v=2", json={"api_key": token, "distinct_id": distinct_id})
    assert response.status_code == 200, response.text
    return response.json()["flags"][key]["enabled"]


def test_flags_on_every_process_read_the_shared_person(cluster) -> None:
    servers, boot, _url = cluster
    token = boot["project_api_key"]
    admin = {"Authorization": f"Bearer {boot['personal_api_key']}"}
    flag = {"key": "pro-beta", "active": True, "filters": {"groups": [{"rollout_percentage": 100,
            "properties": [{"key": "plan", "value": ["pro"], "operator": "exact", "type": "person"}]}]}}  # fmt: skip
    created = httpx.post(f"{servers[0].url}/api/projects/{boot['project_id']}/feature_flags/",
                         headers=admin, json=flag)  # fmt: skip
    assert created.status_code == 201, created.text

    capture = {"api_key": token, "batch": [
        {"event": "$pageview", "distinct_id": "flag-anon"},
        {"event": "$identify", "distinct_id": "flag-user", "properties": {"$anon_distinct_id": "flag-anon"}},
    ]}  # fmt: skip
    assert httpx.post(f"{servers[1].url}/batch/", json=capture).status_code == 200
    # Cached as "not pro" on the process that will make the change.
    assert _flag_enabled(servers[0], token, "flag-anon", "pro-beta") is False

    plan = {"api_key": token, "event": "$set", "distinct_id": "flag-user",
            "properties": {"$set": {"plan": "pro"}}}  # fmt: skip
    assert httpx.post(f"{servers[0].url}/e/", json=plan).status_code == 200
    # The process that made the change sees it at once (its cache entry was dropped) ...
    assert _flag_enabled(servers[0], token, "flag-anon", "pro-beta") is True
    # ... the others within the cache's lifetime (one second).
    deadline = time.monotonic() + 15
    for server in servers[1:]:
        while not _flag_enabled(server, token, "flag-anon", "pro-beta"):
            assert time.monotonic() < deadline, f"{server.url} never saw plan=pro"
            time.sleep(0.05)


def _api(server: LiveServer, boot: dict, method: str, path: str, **kwargs) -> httpx.Response:
    return httpx.request(method, f"{server.url}/api/projects/{boot['project_id']}/{path}",
                         headers={"Authorization": f"Bearer {boot['personal_api_key']}"},
                         timeout=60, **kwargs)  # fmt: skip


def _hogql(server: LiveServer, boot: dict, query: str) -> list:
    response = _api(server, boot, "POST", "query/", json={
        "query": {"kind": "HogQLQuery", "query": query}, "refresh": "force_blocking"})  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()["results"]


def _listed(server: LiveServer, boot: dict, distinct_id: str) -> list[dict]:
    response = _api(server, boot, "GET", "persons/", params={"distinct_id": distinct_id})
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_every_process_reads_the_persons_another_ingested(cluster) -> None:
    """Ingest through one process, read through the others right after: the Persons API,
    a HogQL query on persons, a cohort calculated on person properties; then changes made
    through the Persons API of one process (update, delete) seen by another."""
    servers, boot, _url = cluster
    a, b, c = servers
    capture = {"api_key": boot["project_api_key"], "batch": [
        {"event": "$pageview", "distinct_id": "reader-anon"},
        {"event": "$identify", "distinct_id": "reader-user",
         "properties": {"$anon_distinct_id": "reader-anon",
                        "$set": {"tier": "gold", "email": "reader@example.com"}}},
    ]}  # fmt: skip
    assert httpx.post(f"{a.url}/batch/", json=capture).status_code == 200

    listed = _listed(b, boot, "reader-anon")
    assert [(sorted(p["distinct_ids"]), p["properties"]) for p in listed] == [
        (["reader-anon", "reader-user"], {"tier": "gold", "email": "reader@example.com"})]
    uuid = listed[0]["uuid"]
    retrieved = _api(c, boot, "GET", f"persons/{uuid}/")
    assert retrieved.status_code == 200, retrieved.text
    assert retrieved.json()["properties"]["tier"] == "gold"
    assert _hogql(c, boot, "select toString(id), properties.email from persons "
                           "where properties.tier = 'gold'") == [[uuid, "reader@example.com"]]  # fmt: skip

    tier = {"type": "person", "key": "tier", "operator": "exact", "value": ["gold"]}
    cohort = _api(b, boot, "POST", "cohorts/", json={"name": "Gold", "filters": {"properties": {
        "type": "OR", "values": [{"type": "AND", "values": [tier]}]}}})  # fmt: skip
    assert cohort.status_code == 201, cohort.text
    deadline = time.monotonic() + 30
    while _api(b, boot, "GET", f"cohorts/{cohort.json()['id']}/").json()["last_calculation"] is None:
        assert time.monotonic() < deadline, "the cohort was never calculated"
        time.sleep(0.05)
    members = _api(b, boot, "GET", f"cohorts/{cohort.json()['id']}/persons/")
    assert members.status_code == 200, members.text
    assert [p["uuid"] for p in members.json()["results"]] == [uuid]

    static = _api(c, boot, "POST", "cohorts/", json={"name": "Picked", "is_static": True,
                                                     "_create_static_person_ids": [uuid]})  # fmt: skip
    assert static.status_code == 201, static.text
    assert static.json()["count"] == 1

    updated = _api(b, boot, "PATCH", f"persons/{uuid}/", json={"properties": {"tier": "platinum"}})
    assert updated.status_code == 202, updated.text
    assert _listed(a, boot, "reader-user")[0]["properties"]["tier"] == "platinum"
    assert _hogql(a, boot, "select properties.tier from persons where properties.email = 'reader@example.com'") == [["platinum"]]

    assert _api(c, boot, "DELETE", f"persons/{uuid}/").status_code == 202
    assert _listed(a, boot, "reader-user") == []
    assert _api(b, boot, "GET", f"persons/{uuid}/").status_code == 404


def test_group_types_and_groups_are_shared_by_every_process(cluster) -> None:
    """A group type named first on one process and another type first on a second get one
    index each, the same on every process: events' ``$group_N`` columns agree, the groups
    table and a group-aggregated flag on a third process see the group set on the first."""
    servers, boot, _url = cluster
    a, b, c = servers
    token = boot["project_api_key"]

    def send(server: LiveServer, *events: dict) -> None:
        response = httpx.post(f"{server.url}/batch/", json={"api_key": token, "batch": list(events)})
        assert response.status_code == 200, response.text

    send(a, {"event": "joined", "distinct_id": "g-user-a", "properties": {"$groups": {"company": "acme"}}},
         {"event": "$groupidentify", "distinct_id": "g-user-a",
          "properties": {"$group_type": "company", "$group_key": "acme", "$group_set": {"plan": "enterprise"}}})  # fmt: skip
    send(b, {"event": "opened", "distinct_id": "g-user-b", "properties": {"$groups": {"project": "p1"}}})
    send(b, {"event": "joined", "distinct_id": "g-user-b", "properties": {"$groups": {"company": "acme"}}})

    on_b = _hogql(b, boot, "select event, $group_0, $group_1 from events "
                           "where distinct_id = 'g-user-b' order by event")  # fmt: skip
    assert on_b == [["joined", "acme", ""], ["opened", "", "p1"]]
    assert _hogql(c, boot, "select index, key, properties.plan from groups order by index, key") == [
        [0, "acme", "enterprise"]]

    flag = {"key": "big-accounts", "active": True, "filters": {"aggregation_group_type_index": 0, "groups": [
        {"rollout_percentage": 100,
         "properties": [{"key": "plan", "value": ["enterprise"], "operator": "exact", "type": "group",
                         "group_type_index": 0}]}]}}  # fmt: skip
    created = _api(c, boot, "POST", "feature_flags/", json=flag)
    assert created.status_code == 201, created.text

    def decided_on_c() -> bool:
        decided = httpx.post(f"{c.url}/flags/?v=2", json={"api_key": token, "distinct_id": "anyone",
                                                           "groups": {"company": "acme"}})  # fmt: skip
        assert decided.status_code == 200, decided.text
        return decided.json()["flags"]["big-accounts"]["enabled"] is True

    # c may hold the team's group types from an earlier flag request (before "company" existed):
    # other processes' changes reach its cache within its lifetime (1 s), so poll past that.
    deadline = time.monotonic() + 10
    while not decided_on_c():
        assert time.monotonic() < deadline, "c never saw the group type and group set on a"
        time.sleep(0.1)
