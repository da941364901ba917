"""``hedgerow keys create|list|revoke``: mint and manage personal API keys."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from hedgerow.cli.display import console, shown
from hedgerow.services.catalogue import wire
from hedgerow.services.operations.personal_api_keys import PersonalAPIKey
from hedgerow.cli.options import DatabaseURL, DataDir, JSONFlag, fail, opened_services, print_json

app = typer.Typer(help="Personal API keys.", no_args_is_help=True)


@app.command("create")
def create(
    label: str = typer.Option(..., "--label", help="A name for the key (who or what uses it)."),
    scopes: str = typer.Option(..., "--scopes", help='Comma-separated, e.g. "insight:read,query:read" or "*".'),
    project: Optional[List[int]] = typer.Option(None, "--project", help="Limit the key to this project (repeatable)."),
    organization: Optional[List[str]] = typer.Option(
        None, "--organization", help="Limit the key to this organization (repeatable)."
    ),
    data_dir: Optional[Path] = DataDir,
    database_url: Optional[str] = DatabaseURL,
    as_json: bool = JSONFlag,
) -> None:
    """Mint a key for the organization owner; the value is printed once and never stored."""
    with opened_services(data_dir, database_url) as services:
        owner = services.projects.bootstrap().user
        scope_list = [s.strip() for s in scopes.split(",") if s.strip()]
        record, value = services.keys.create(
            owner.id, label, scope_list, list(project or []) or None, list(organization or []) or None,
            enforce_limit=False,
        )
    if as_json:
        print_json({**wire(PersonalAPIKey.of(record, value)), "key": value})
    else:
        typer.echo(value)


@app.command("list")
def list_keys(
    data_dir: Optional[Path] = DataDir,
    database_url: Optional[str] = DatabaseURL,
    as_json: bool = JSONFlag,
) -> None:
    """Every key (masked), newest first."""
    with opened_services(data_dir, database_url) as services:
        records = services.keys.list()
    if as_json:
        print_json([wire(PersonalAPIKey.of(r)) for r in records])
        return
    table = Table("id", "label", "key", "scopes", "projects", "last used")
    for r in records:
        table.add_row(
            r.id, shown(r.label), shown(r.mask_value), shown(",".join(r.scopes)),
            ",".join(map(str, r.scoped_teams or [])) or "all", str(r.last_used_at or "never"),
        )
    console().print(table)


@app.command("revoke")
def revoke(
    key_id: str = typer.Argument(..., help="The key's id (see `hedgerow keys list`)."),
    data_dir: Optional[Path] = DataDir,
    database_url: Optional[str] = DatabaseURL,
) -> None:
    """Revoke a key; a running server refuses it from the next request."""
    with opened_services(data_dir, database_url) as services:
        if key_id not in {k.id for k in services.keys.list()}:
            fail(f"no key with id {key_id}")
        services.keys.revoke(key_id)
    typer.echo(f"revoked {key_id}")
