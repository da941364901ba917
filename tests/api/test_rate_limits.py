"""Org-wide budgets per category, only for personal-API-key calls, with 429 and Retry-After."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from hedgerow.testing import free_port
from tests.conftest import make_harness


def _harness(settings, **limits):
    return make_harness(settings.with_(rate_limits_enabled=True, rate_limits=limits))


def test_burst_limit_gives_429_with_retry_after(settings) -> None:
    for api in _harness(settings, default="3/minute"):
        statuses = [api.get(f"/api/projects/{api.project_id}/").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        response = api.get(f"/api/projects/{api.project_id}/")
        assert response.status_code == 429
        body = response.json()
        assert body["type"] == "throttled_error" and body["code"] == "throttled" and body["attr"] is None
        wait = int(response.headers["Retry-After"])
        assert 1 <= wait <= 60
        assert body["detail"] == f"Request was throttled. Expected available in {wait} second{'s' if wait != 1 else ''}."


def test_buckets_are_per_category_and_org_wide(settings) -> None:
    for api in _harness(settings, default="2/minute", write="1/minute"):
        other_key = api.key(["*"], label="second-key")
        # two keys of one organization share the bucket
        assert api.get("/api/projects/").status_code == 200
        assert api.get("/api/projects/", key=other_key).status_code == 200
        assert api.get("/api/projects/").status_code == 429
        # writes have a bucket of their own
        assert api.patch(f"/api/projects/{api.project_id}/", {"name": "A"}).status_code == 200
        assert api.patch(f"/api/projects/{api.project_id}/", {"name": "B"}).status_code == 429


def test_hourly_window_applies_too(settings) -> None:
    for api in _harness(settings, default="100/minute;2/hour"):
        assert [api.get("/api/projects/").status_code for _ in range(3)] == [200, 200, 429]
        assert int(api.get("/api/projects/").headers["Retry-After"]) > 60


def test_requests_without_a_key_are_not_counted(settings) -> None:
    for api in _harness(settings, default="1/minute"):
        for _ in range(3):
            assert api.client.get("/api/projects/").status_code == 401
        assert api.get("/api/projects/").status_code == 200


def test_switched_off(settings) -> None:
    for api in make_harness(settings.with_(rate_limits_enabled=False, rate_limits={"default": "1/minute"})):
        assert all(api.get("/api/projects/").status_code == 200 for _ in range(5))


def test_throttled_calls_are_audited(settings) -> None:
    for api in _harness(settings, default="1/minute"):
        api.get("/api/projects/")
        api.get("/api/projects/")
        newest = api.services.audit.newest(1)[0]
        assert newest.status == 429
        assert "throttled" in newest.sentence


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
def test_redis_storage_is_shared_between_processes(settings, tmp_path) -> None:
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        import redis as redis_client

        client = redis_client.Redis(port=port)
        while True:
            try:
                client.ping()
                break
            except redis_client.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        url = f"redis://127.0.0.1:{port}/0"
        limited = settings.with_(rate_limits_enabled=True, rate_limits={"default": "2/minute"}, redis_url=url)
        for first in make_harness(limited):
            assert first.get("/api/projects/").status_code == 200
            # a second app (another API process) charges the same Redis bucket
            second_settings = limited.with_(data_dir=tmp_path / "second", events_url="")
            for second in make_harness(second_settings):
                assert second.get("/api/projects/").status_code == 200
                assert second.get("/api/projects/").status_code == 429
        assert any(key.startswith(b"LIMITS") for key in client.keys("*"))
    finally:
        redis.terminate()
        redis.wait()
