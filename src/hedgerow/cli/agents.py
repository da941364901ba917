"""``hedgerow agents create|list|set|revoke``: the operator manages agents (through the same
operations as the REST API, so every change is decided and audited the same way)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hedgerow.cli.options import DatabaseURL, DataDir, JSONFlag, fail, opened_services, print_json
from hedgerow.services.catalogue import Where, invoke, wire
from hedgerow.services.container import Services
from hedgerow.services.operations import CATALOGUE

app = typer.Typer(help="Agents: keys with an owner, projects, expiry and an access matrix.", no_args_is_help=True)

Access = typer.Option(None, "--access", help='Levels by resource, e.g. "feature_flag=read,query=full".')
Projects = typer.Option(None, "--project", help="A project the agent may reach (repeatable).")
Expires = typer.Option(None, "--expires", help="When the key stops working (ISO 8601).")


def run(services: Services, operation: str, args: dict[str, Any]) -> Any:
    """Run an agent operation as the operator; its answer as JSON values."""
    return wire(invoke(services, services.projects.operator(), CATALOGUE[operation], args, channel="cli",
                       where=Where(organization="@current")))  # fmt: skip


def parse_access(text: str) -> dict[str, str]:
    access: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        resource, sep, level = part.partition("=")
        if not sep:
            fail(f'"{part}" is not resource=level (levels: off, read, full)')
        access[resource.strip()] = level.strip()
    return access


def _changes(name: str | None, access: str | None, project: list[int] | None, expires: datetime | None) -> dict:
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    if access is not None:
        changes["access"] = parse_access(access)
    if project:
        changes["projects"] = list(project)
    if expires is not None:
        changes["expires_at"] = expires.isoformat()
    return changes


@app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="The agent's name (unique in the organization)."),
    access: Optional[str] = Access,
    project: Optional[List[int]] = Projects,
    expires: Optional[datetime] = Expires,
    data_dir: Optional[Path] = DataDir,
    database_url: Optional[str] = DatabaseURL,
    as_json: bool = JSONFlag,
) -> None:
    """Create an agent; its key is printed once and never stored."""
    with opened_services(data_dir, database_url) as services:
        created = run(services, "agent.create", {"access": {}, **_changes(name, access, project, expires)})
    if as_json:
        print_json(created)
    else:
        typer.echo(created["key"])


@app.command("list")
def list_agents(
    data_dir: Optional[Path] = DataDir,
    database_url: Optional[str] = DatabaseURL,
    as_json: bool = JSONFlag,
) -> None:
    """The organization's agents, newest first."""
    with opened_services(data_dir, database_url) as services:
        listed = run(services, "agent.list", {"limit": 10_000})
    if as_json:
        print_json(listed.results)
        return
    table = Table("id", "name", "owner", "access", "projects", "expires")
    for a in listed.results:
        granted = ", ".join(f"{r}={lvl}" for r, lvl in a["access"].items() if lvl != "off") or "nothing"
        table.add_row(*(escape(str(v)) for v in (a["id"], a["name"], a["owner"]["email"], granted,
                                                  ",".join(map(str, a["projects"] or [])) or "all",
                                                  a["expires_at"] or "never")))  # fmt: skip
    Console().print(table)


@app.command("set")
def set_agent(
    agent: str = typer.Argument(..., help="The agent's name or id."),
    name: Optional[str] = typer.Option(None, "--name", help="A new name."),
    access: Optional[str] = Access,
    project: Optional[List[int]] = Projects,
    expires: Optional[datetime] = Expires,
    data_dir: Optional[Path] = DataDir,
    database_url: Optional[str] = DatabaseURL,
    as_json: bool = JSONFlag,
) -> None:
    """Change an agent's name, access (merged), projects or expiry; its key follows at once."""
    with opened_services(data_dir, database_url) as services:
        changed = run(services, "agent.update", {"agent_id": agent, **_changes(name, access, project, expires)})
    if as_json:
        print_json(changed)
    else:
        typer.echo(f"updated {changed['name']}")


@app.command("revoke")
def revoke(
    agent: str = typer.Argument(..., help="The agent's name or id."),
    data_dir: Optional[Path] = DataDir,
    database_url: Optional[str] = DatabaseURL,
) -> None:
    """Revoke an agent: a running server refuses its key from the next request."""
    with opened_services(data_dir, database_url) as services:
        run(services, "agent.revoke", {"agent_id": agent})
    typer.echo(f"revoked {agent}")
