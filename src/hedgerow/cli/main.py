"""The ``hedgerow`` command."""

from __future__ import annotations

import typer

from hedgerow.cli import agents, audit, bootstrap, keys, projects, serve

app = typer.Typer(help="Hedgerow: a self-hostable server that speaks PostHog's API.", no_args_is_help=True)
app.command("serve")(serve.serve)
app.command("bootstrap")(bootstrap.bootstrap)
app.add_typer(audit.app, name="audit")
app.add_typer(keys.app, name="keys")
app.add_typer(projects.app, name="projects")
app.add_typer(agents.app, name="agents")

if __name__ == "__main__":
    app()
