"""``hedgerow serve``: run the server (bootstrapping on first start)."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import List, Optional

import typer

from hedgerow.cli.bootstrap import bootstrap_admin
from hedgerow.config import Settings
from hedgerow.services.container import Services
from hedgerow.store.meta import tenancy


GC_THRESHOLDS = (50_000, 20, 20)


def tune_gc() -> None:
    """Set the cyclic GC up for a server that parses many short-lived JSON documents.

    What exists once the stores are open (modules, the identity index just loaded) lives as
    long as the server: it is moved out of the collector's reach, so full collections walk only
    what was made since (they took 115 ms each, 20% of the event loop under /batch/ load). And
    a young collection every 50,000 net allocations instead of 700: the parsed events die by
    reference counting within a request, so collecting more often only re-walks the request in
    progress (10% of the event loop at 700, 1% at 50,000; pauses stay ~15 ms). Only the server
    process does this: frozen objects are never collected, which suits a server, not a test run.
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def serve(
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", envvar="HEDGEROW_DATA_DIR"),
    host: Optional[str] = typer.Option(None, "--host", envvar="HEDGEROW_HOST"),
    port: Optional[int] = typer.Option(None, "--port", envvar="HEDGEROW_PORT"),
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="HEDGEROW_DATABASE_URL"),
    events_url: Optional[str] = typer.Option(None, "--events-url", envvar="HEDGEROW_EVENTS_URL"),
    redis_url: Optional[str] = typer.Option(None, "--redis-url", envvar="HEDGEROW_REDIS_URL"),
    events_memory: Optional[str] = typer.Option(
        None, "--events-memory", envvar="HEDGEROW_EVENTS_MEMORY",
        help="The embedded DuckDB engine's buffer pool, e.g. 384MB (default) or 2GB.",
    ),
    persons: Optional[str] = typer.Option(
        None, "--persons", envvar="HEDGEROW_PERSONS",
        help="Where person identity is decided: 'local' (this process) or 'shared' "
        "(the PostgreSQL metadata database; for several processes).",
    ),
    trusted_proxy: Optional[List[str]] = typer.Option(
        None, "--trusted-proxy",
        help="A proxy (address or CIDR) whose X-Forwarded-For is believed; repeatable "
        "(HEDGEROW_TRUSTED_PROXIES: comma-separated).",
    ),
) -> None:
    """Serve the API. On the first start, print the project API key and an admin key."""
    settings = Settings.from_env(
        data_dir=data_dir, host=host, port=port, database_url=database_url,
        events_url=events_url, redis_url=redis_url, persons=persons, events_memory=events_memory,
        trusted_proxies=tuple(trusted_proxy) if trusted_proxy else None,
    )
    services = Services.open(settings)
    try:
        with services.meta.read() as conn:
            first_start = tenancy.first_organization(conn) is None
        if first_start:
            result = bootstrap_admin(services)
            typer.echo("Hedgerow is set up. Keep these; the personal API key is not shown again.")
            typer.echo(f"  Project API key:   {result['project_api_key']}")
            typer.echo(f"  Personal API key:  {result['personal_api_key']}")
        else:
            project = services.projects.bootstrap().project
            typer.echo(f"Project API key: {project.api_token}")
    finally:
        services.close()
    typer.echo(f"Serving on http://{settings.host}:{settings.port} (data in {settings.data_dir})")
    # Imported here: the other commands (bootstrap, keys, ...) run without the HTTP stack.
    import uvicorn

    from hedgerow.api.app import create_app

    uvicorn.run(
        create_app(settings, on_started=tune_gc),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        loop="uvloop",
        http="httptools",
        access_log=False,
        proxy_headers=False,  # X-Forwarded-For is read by api/client_address.py, trusted or not
        timeout_graceful_shutdown=5,
    )
