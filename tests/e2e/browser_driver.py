"""Runs tests/e2e/browser/drive.mjs (posthog-js in headless Chromium) against a live server."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "e2e" / "browser" / "drive.mjs"


def browser_available() -> bool:
    return (
        shutil.which("node") is not None
        and Path("/usr/bin/chromium").exists()
        and (ROOT / "node_modules" / "posthog-js").exists()
        and (ROOT / "node_modules" / "playwright-core").exists()
    )


needs_browser = pytest.mark.skipif(not browser_available(), reason="node, chromium or npm packages missing")


def drive(api_host: str, token: str, steps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    scenario = {"api_host": api_host, "token": token, "steps": steps, **extra}
    out = subprocess.run(
        ["node", str(DRIVER)], input=json.dumps(scenario), capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    if out.returncode != 0:
        raise RuntimeError(f"browser driver failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout)
