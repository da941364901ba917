"""The OpenAPI document against a live server, fuzzed by schemathesis with every check:
each operation's documented parameters, bodies and statuses hold for what it is sent."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hedgerow.testing import LiveServer

pytestmark = pytest.mark.e2e


def test_schemathesis_finds_nothing(tmp_path) -> None:
    binary = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))
    with LiveServer(tmp_path / "data", env={"HEDGEROW_RATE_LIMITS_ENABLED": "false"}) as server:
        boot = server.bootstrap()
        run = subprocess.run(
            [binary, "run", f"{server.url}/api/schema/", "--url", server.url,
             "-H", f"Authorization: Bearer {boot['personal_api_key']}", "--checks", "all",
             "--max-examples", "10", "--generation-deterministic", "--continue-on-failure",
             "--phases", "examples,fuzzing", "--no-color"],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    assert run.returncode == 0, run.stdout[-6000:]
