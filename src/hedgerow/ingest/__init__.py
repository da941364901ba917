"""Ingestion: every capture encoding and body shape, normalisation, person identity,
exactly-once by event uuid, and a durable group-commit writer.

What the HTTP layer calls (see :mod:`hedgerow.ingest.pipeline`)::

    store = DuckDBEventStore(data_dir / "events.duckdb")
    ingestor = Ingestor(store, resolve_token)          # resolve_token(token) -> Project | id | None
    ingestor.start()                                   # loads persons + uuid fingerprints, starts writer
    stored = await ingestor.ingest(body, headers, query, remote_ip, path, method)
    # -> 200 {"status": 1}; a CaptureError carries .status and .body() (or .text())
    ingestor.close()

Stages, in order: ``decode`` -> ``parse`` -> ``normalise`` -> ``dedup`` -> ``persons`` ->
``definitions`` -> ``writer`` (commits in ``store.events.duckdb``).
"""
