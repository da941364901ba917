"""``hedgerow mcp``: the MCP tools over stdio, for one key (from ``POSTHOG_API_KEY`` or
``HEDGEROW_API_KEY``), with the same operations, decisions and audit as the HTTP door.

The events store has one owner: while ``hedgerow serve`` runs on the same data dir, this
process opens the metadata side only, and tools that read events answer that the analytics
store is unavailable (point the agent at the server's ``/mcp`` instead).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Optional

import anyio
import typer

from hedgerow.cli.options import DatabaseURL, DataDir, fail
from hedgerow.config import Settings
from hedgerow.errors import HedgerowError
from hedgerow.services.container import Services

KEY_VARIABLES = ("POSTHOG_API_KEY", "HEDGEROW_API_KEY")


def mcp(data_dir: Optional[Path] = DataDir, database_url: Optional[str] = DatabaseURL) -> None:
    """Serve MCP over stdin/stdout with the key in POSTHOG_API_KEY (or HEDGEROW_API_KEY)."""
    key = next((os.environ[name] for name in KEY_VARIABLES if os.environ.get(name)), None)
    if key is None:
        fail("set POSTHOG_API_KEY (or HEDGEROW_API_KEY) to a personal API key")
        return
    settings = Settings.from_env(data_dir=data_dir, database_url=database_url)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    try:
        services = Services.open(settings, analytics=True)
    except HedgerowError:
        raise
    except Exception:  # noqa: BLE001 - the events file is held by a running server: metadata only
        services = Services.open(settings)
    from hedgerow.mcp.server import serve_stdio  # here: the other commands run without the MCP SDK

    try:
        anyio.run(serve_stdio, services, key)
    finally:
        services.close()
