"""Keys are shown once and stored only as hashes: no key value is anywhere under the data dir."""

from __future__ import annotations

from pathlib import Path


def _all_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_no_key_value_in_clear_under_data_dir(api, settings) -> None:
    created = api.post("/api/personal_api_keys/", {"label": "ci", "scopes": ["query:read"]})
    assert created.status_code == 201
    value = created.json()["value"]
    assert value.startswith("phx_")
    assert api.get("/api/projects/", key=value).status_code == 403  # works, lacks the scope
    api.get("/api/projects/", key=api.admin_key)
    rolled = api.post(f"/api/personal_api_keys/{created.json()['id']}/roll/").json()["value"]
    api.services.meta.dispose()  # flush SQLite's WAL into the file set we scan
    blob = _all_bytes(settings.data_dir)
    for secret in (value, api.admin_key, rolled):
        assert secret.encode() not in blob
        assert secret[4:].encode() not in blob


def test_value_is_only_in_the_create_answer(api) -> None:
    created = api.post("/api/personal_api_keys/", {"label": "once", "scopes": ["*"]}).json()
    listed = api.get("/api/personal_api_keys/").json()
    retrieved = api.get(f"/api/personal_api_keys/{created['id']}/").json()
    assert all(k["value"] is None for k in listed)
    assert retrieved["value"] is None
    assert retrieved["mask_value"] == created["value"][:4] + "..." + created["value"][-4:]
