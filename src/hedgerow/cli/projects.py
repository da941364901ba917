"""``hedgerow projects create|list``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from hedgerow.services.catalogue import wire
from hedgerow.services.operations.projects import ProjectDetail
from hedgerow.cli.display import console, shown
from hedgerow.cli.options import DatabaseURL, DataDir, JSONFlag, opened_services, print_json

app = typer.Typer(help="Projects.", no_args_is_help=True)


@app.command("create")
def create(
    name: str = typer.Option(..., "--name"),
    timezone: str = typer.Option("UTC", "--timezone"),
    organization: Optional[str] = typer.Option(None, "--organization", help="Organization id (default: the first)."),
    data_dir: Optional[Path] = DataDir,
    database_url: Optional[str] = DatabaseURL,
    as_json: bool = JSONFlag,
) -> None:
    """Create a project; prints its id and project API token."""
    with opened_services(data_dir, database_url) as services:
        org_id = organization or services.projects.bootstrap().organization.id
        project = services.projects.create(org_id, name, timezone)
    if as_json:
        print_json(wire(ProjectDetail.of(project)))
    else:
        typer.echo(f"{project.id}\t{project.api_token}\t{project.name}")


@app.command("list")
def list_projects(
    data_dir: Optional[Path] = DataDir,
    database_url: Optional[str] = DatabaseURL,
    as_json: bool = JSONFlag,
) -> None:
    """Every project."""
    with opened_services(data_dir, database_url) as services:
        projects = services.projects.list_all()
    if as_json:
        print_json([wire(ProjectDetail.of(p)) for p in projects])
        return
    table = Table("id", "name", "api_token", "timezone", "organization")
    for p in projects:
        table.add_row(str(p.id), shown(p.name), p.api_token, shown(p.timezone), p.organization_id)
    console().print(table)
