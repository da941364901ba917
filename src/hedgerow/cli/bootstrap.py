"""``hedgerow bootstrap``: the first organization and project, and a new admin key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from hedgerow.cli.options import DatabaseURL, DataDir, JSONFlag, opened_services, print_json
from hedgerow.services.container import Services


def bootstrap_admin(services: Services, label: str = "admin") -> dict[str, Any]:
    """Idempotent set-up plus a new ``*`` key for the owner (a stored secret is never shown)."""
    tenancy = services.projects.bootstrap()
    record, value = services.keys.create(tenancy.user.id, label, ["*"], enforce_limit=False)
    return {
        "organization_id": tenancy.organization.id,
        "project_id": tenancy.project.id,
        "project_api_key": tenancy.project.api_token,
        "personal_api_key": value,
        "personal_api_key_id": record.id,
    }


def bootstrap(
    data_dir: Optional[Path] = DataDir,
    database_url: Optional[str] = DatabaseURL,
    as_json: bool = JSONFlag,
) -> None:
    """Create the organization, default project and owner if missing; mint an admin key."""
    with opened_services(data_dir, database_url) as services:
        result = bootstrap_admin(services)
    if as_json:
        print_json(result)
    else:
        typer.echo(f"Project API key:   {result['project_api_key']}")
        typer.echo(f"Personal API key:  {result['personal_api_key']}  (shown once)")
        typer.echo(f"Project id:        {result['project_id']}")
