"""The ``hedgerow`` command."""

from __future__ import annotations

import os

import typer

from hedgerow.cli import agents, audit, bootstrap, keys, mcp, projects, serve

app = typer.Typer(help="Hedgerow: a self-hostable server that speaks PostHog's API.", no_args_is_help=True)


@app.callback()
def private_files() -> None:
    """Hedgerow: a self-hostable server that speaks PostHog's API."""
    # Whatever a command creates in the data dir (SQLite and DuckDB files, their WAL and
    # journal files, logs) is readable by its owner only; the directory itself is made 0700
    # when the stores open (hedgerow.store.data_dir).
    os.umask(0o077)


app.command("serve")(serve.serve)
app.command("bootstrap")(bootstrap.bootstrap)
app.command("mcp")(mcp.mcp)
app.add_typer(audit.app, name="audit")
app.add_typer(keys.app, name="keys")
app.add_typer(projects.app, name="projects")
app.add_typer(agents.app, name="agents")

if __name__ == "__main__":
    app()
