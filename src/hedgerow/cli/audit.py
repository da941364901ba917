"""``hedgerow audit``: the newest authorization decisions, in plain English."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hedgerow import clock
from hedgerow.cli.display import console, shown
from hedgerow.cli.options import DatabaseURL, DataDir, JSONFlag, opened_services, print_json


app = typer.Typer(help="The audit trail: every decision, in plain English.")


@app.callback(invoke_without_command=True)
def audit(
    ctx: typer.Context,
    limit: int = typer.Option(50, "--limit", min=1, help="How many entries."),
    key: Optional[str] = typer.Option(None, "--key", help="Only this key's entries (key id)."),
    data_dir: Optional[Path] = DataDir,
    database_url: Optional[str] = DatabaseURL,
    as_json: bool = JSONFlag,
) -> None:
    """Print the newest audit entries, newest first (stored text shown escaped, one line each)."""
    if ctx.invoked_subcommand is not None:
        return
    with opened_services(data_dir, database_url) as services:
        entries = services.audit.newest(limit, key_id=key)
    if as_json:
        print_json([e.as_json() for e in entries])
        return
    out = console()
    for e in entries:
        out.print(f"{clock.iso(e.created_at)}  {e.status or '-':>3}  {shown(e.sentence)}")


@app.command("verify")
def verify(data_dir: Optional[Path] = DataDir, database_url: Optional[str] = DatabaseURL) -> None:
    """Check the hash chain: exit 1 naming the first row that was altered or removed."""
    with opened_services(data_dir, database_url) as services:
        result = services.audit.verify()
    if result.ok:
        typer.echo(f"ok: {result.checked} entries, chain intact")
        return
    typer.secho(f"broken at entry {result.first_bad_id}: {result.problem} ({result.checked} entries intact before it)",
                err=True, fg=typer.colors.RED)  # fmt: skip
    raise typer.Exit(code=1)
