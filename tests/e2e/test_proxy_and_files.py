"""A real server believes X-Forwarded-For only from its trusted proxies, and keeps its data
directory private (0700) with private files (0600)."""

from __future__ import annotations

import stat
import uuid
from pathlib import Path

import httpx
import pytest

from hedgerow.testing import LiveServer, cli


def stored_ip(live: LiveServer, keys: dict, forwarded_for: str) -> str:
    name = f"ip_{uuid.uuid4().hex[:8]}"
    response = httpx.post(f"{live.url}/e/", headers={"X-Forwarded-For": forwarded_for},
                          json={"api_key": keys["project_api_key"], "event": name, "distinct_id": "u"})
    assert response.status_code == 200, response.text
    query = {"kind": "HogQLQuery", "query": f"select properties.$ip from events where event = '{name}'"}
    answer = httpx.post(f"{live.url}/api/projects/{keys['project_id']}/query/", json={"query": query},
                        headers={"Authorization": f"Bearer {keys['personal_api_key']}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    (row,) = answer.json()["results"]
    return row[0]


@pytest.mark.parametrize("how", ["flag", "env"])
def test_forwarded_for_is_believed_only_from_trusted_proxies(tmp_path: Path, how: str) -> None:
    with LiveServer(tmp_path / "plain") as plain:
        keys = plain.bootstrap()
        assert stored_ip(plain, keys, "203.0.113.7") == "127.0.0.1"
    trusted = (
        LiveServer(tmp_path / "proxied", args=("--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "127.0.0.1"))
        if how == "flag"
        else LiveServer(tmp_path / "proxied", env={"HEDGEROW_TRUSTED_PROXIES": "10.0.0.0/8,127.0.0.1"})
    )
    with trusted as proxied:
        keys = proxied.bootstrap()
        assert stored_ip(proxied, keys, "203.0.113.7") == "203.0.113.7"
        assert stored_ip(proxied, keys, "198.51.100.9, 203.0.113.7, 10.1.2.3") == "203.0.113.7"
        assert stored_ip(proxied, keys, "10.0.0.5, 10.1.2.3") == "10.0.0.5"


def test_data_dir_is_private_and_so_are_its_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)  # as an operator's mkdir would leave it
    old = data / "meta.sqlite3"  # a store file left readable by an older version (SQLite
    old.touch()                   # takes an empty file for a new database)
    old.chmod(0o644)
    with LiveServer(data) as live:
        keys = live.bootstrap()
        cli("keys", "create", "--data-dir", str(data), "--label", "k", "--scopes", "query:read", "--json")
        event = {"api_key": keys["project_api_key"], "event": "private", "distinct_id": "u"}
        assert httpx.post(f"{live.url}/e/", json=event).status_code == 200
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in data.rglob("*") if path.is_file()}
    assert {"meta.sqlite3", "events.duckdb"} <= modes.keys()
    assert {name: mode for name, mode in modes.items() if mode & 0o077} == {}
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
