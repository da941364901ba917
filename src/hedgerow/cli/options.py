"""Options every command shares, and opening the stores for a command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from hedgerow.config import Settings
from hedgerow.errors import HedgerowError
from hedgerow.services.container import Services

DataDir = typer.Option(
    None, "--data-dir", envvar="HEDGEROW_DATA_DIR", help="Where Hedgerow keeps its data."
)
DatabaseURL = typer.Option(
    None, "--database-url", envvar="HEDGEROW_DATABASE_URL", help="Metadata database URL."
)
JSONFlag = typer.Option(False, "--json", help="Print JSON instead of a table.")


def open_services(data_dir: Optional[Path], database_url: Optional[str]) -> Services:
    try:
        settings = Settings.from_env(data_dir=data_dir, database_url=database_url)
        return Services.open(settings, events=False)
    except HedgerowError as error:
        fail(str(error))
        raise  # unreachable


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def fail(message: str) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code=1)
