"""Options every command shares, and opening the stores for a command."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

import typer

from hedgerow.config import Settings
from hedgerow.errors import Exposed, HedgerowError
from hedgerow.services.container import Services

DataDir = typer.Option(
    None, "--data-dir", envvar="HEDGEROW_DATA_DIR", help="Where Hedgerow keeps its data."
)
DatabaseURL = typer.Option(
    None, "--database-url", envvar="HEDGEROW_DATABASE_URL", help="Metadata database URL."
)
JSONFlag = typer.Option(False, "--json", help="Print JSON instead of a table.")


@contextmanager
def opened_services(data_dir: Optional[Path], database_url: Optional[str]) -> Iterator[Services]:
    """The metadata side of the services (never the events store: the server owns that file),
    closed when the command is done; an exposed error becomes a clear message and exit 1."""
    try:
        services = Services.open(Settings.from_env(data_dir=data_dir, database_url=database_url))
    except HedgerowError as error:
        fail(str(error))
        raise  # unreachable: fail() exits
    try:
        yield services
    except Exposed as error:
        fail(f"{error.attr + ': ' if error.attr else ''}{error.detail}")
    finally:
        services.close()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def fail(message: str) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code=1)
