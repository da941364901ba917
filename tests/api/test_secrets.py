"""Keys are shown once and stored only as hashes: no key value is anywhere under the data dir."""

from __future__ import annotations

from pathlib import Path


def _all_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def _owner(api) -> int:
    return api.services.projects.bootstrap().user.id


def test_no_key_value_in_clear_under_data_dir(api, settings) -> None:
    record, value = api.services.keys.create(_owner(api), "ci", ["query:read"])
    assert value.startswith("phx_")
    assert api.get("/api/projects/", key=value).status_code == 403  # works, lacks the scope
    api.get("/api/projects/", key=api.admin_key)
    _, rolled = api.services.keys.roll(record.id, _owner(api))
    api.services.meta.dispose()  # flush SQLite's WAL into the file set we scan
    blob = _all_bytes(settings.data_dir)
    for secret in (value, api.admin_key, rolled):
        assert secret.encode() not in blob
        assert secret[4:].encode() not in blob


def test_value_is_only_in_the_create_answer(api) -> None:
    record, value = api.services.keys.create(_owner(api), "once", ["*"])
    retrieved = api.get(f"/api/personal_api_keys/{record.id}/", key=value).json()
    assert retrieved["value"] is None
    assert retrieved["mask_value"] == value[:4] + "..." + value[-4:]
