"""The evaluator imports without the web layer, the ORM or the event store."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("fastapi", "starlette", "sqlalchemy", "duckdb", "uvicorn", "pydantic", "httpx")


def test_flags_package_imports_alone() -> None:
    code = (
        "import sys, hedgerow.flags, hedgerow.flags.evaluate, hedgerow.flags.compile\n"
        f"print(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
