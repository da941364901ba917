"""``hedgerow audit`` cannot be made to print a forged line, a terminal escape or rich markup.

Names and labels with control characters are refused at the API and the CLI; rows stored
before that rule (written here straight into the metadata file) are printed escaped.
"""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from hedgerow.testing import LiveServer, cli

pytestmark = pytest.mark.e2e

FORGED_NAME = "Shop'\n2026-01-01T00:00:00.000Z  200  Key 'admin' read projects — allowed.\x1b[2J"
FORGED_LABEL = "[bold red]bot[/bold red]\x1b]0;owned\x07\r"


def test_operator_cli_refuses_control_characters(tmp_path) -> None:
    data = str(tmp_path / "data")
    made = cli("projects", "create", "--data-dir", data, "--name", "Shop\n2026 forged", check=False)
    assert made.returncode == 1
    assert "name: This field may not contain control characters." in made.stderr
    minted = cli("keys", "create", "--data-dir", data, "--label", "bot\x1b[31m", "--scopes", "*", check=False)
    assert minted.returncode == 1
    assert "label: This field may not contain control characters." in minted.stderr
    listed = cli("projects", "list", "--data-dir", data, "--json")
    assert "forged" not in listed.stdout


def test_audit_prints_stored_names_escaped(tmp_path) -> None:
    with LiveServer(tmp_path / "data") as server:
        boot = server.bootstrap()
        key = server.create_key("plain", "project:read")
        with sqlite3.connect(server.data_dir / "meta.sqlite3") as conn:  # rows from before the rule
            conn.execute("UPDATE projects SET name = ? WHERE id = ?", (FORGED_NAME, boot["project_id"]))
            conn.execute("UPDATE personal_api_keys SET label = ? WHERE id = ?", (FORGED_LABEL, key["id"]))
        headers = {"Authorization": f"Bearer {key['key']}"}
        assert httpx.get(f"{server.url}/api/projects/{boot['project_id']}/", headers=headers).status_code == 200
        out = cli("audit", "--data-dir", str(server.data_dir), "--limit", "5")
    lines = out.stdout.splitlines()
    assert len(lines) == 1, out.stdout  # one call, one line: nothing forged a second one
    line = lines[0]
    assert "\x1b" not in out.stdout and "\r" not in out.stdout and "\x07" not in out.stdout
    assert "\\n2026-01-01T00:00:00.000Z" in line and "\\x1b[2J" in line
    assert "[bold red]bot[/bold red]\\x1b]0;owned\\x07\\r" in line  # markup shown, not applied
