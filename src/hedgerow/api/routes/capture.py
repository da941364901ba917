"""Event capture, as the official SDKs call it: every path, GET and POST, every encoding.

Answers exactly ``200 {"status": 1}`` once the request's events are durably stored (the SDKs
retry anything else). Decoding, parsing, identity and the durable write are ingestion's job
(:mod:`hedgerow.ingest.pipeline`); this module only moves bytes in and the answer out. The
event paths are also served without the router by :mod:`hedgerow.api.hotpaths`, which
behaves the same and shares these helpers.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hedgerow.api.client_address import ClientAddress
from hedgerow.api.dispatch import read_body
from hedgerow.api.routing import RouteTable
from hedgerow.errors import PayloadTooLarge as BodyTooLarge
from hedgerow.ingest.errors import PayloadTooLarge
from hedgerow.ingest.pipeline import body_limit
from hedgerow.services.container import Services
from hedgerow.services.recordings import RECORDINGS_LIMIT

routes = RouteTable()

CAPTURE_PATHS = ("/e/", "/i/v0/e/", "/capture/", "/track/", "/engage/", "/batch/")
OK = b'{"status":1}'


def client_ip(request: Request) -> str | None:
    """The caller's address (``X-Forwarded-For`` only from trusted proxies)."""
    resolve: ClientAddress = request.app.state.client_address
    return resolve(request.headers.get("x-forwarded-for"),
                   request.client.host if request.client else None)  # fmt: skip


def too_large(limit: int) -> PayloadTooLarge:
    """Capture's own 413 (not the private API's)."""
    return PayloadTooLarge(f"request body is over {limit} bytes")


def first_values(request: Request) -> dict[str, str]:
    """Query parameters, first value of each (what capture reads)."""
    query: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        query.setdefault(key, value)
    return query


async def capture(request: Request, services: Services) -> Response:
    """Decode, normalise and durably store the events of one SDK request."""
    path = request.url.path
    limit = body_limit(path)
    try:
        body = await read_body(request, limit)
    except BodyTooLarge:
        raise too_large(limit) from None
    await services.ingestor.ingest(
        body, request.headers, first_values(request), client_ip(request), path, request.method
    )
    return Response(OK, media_type="application/json")


async def recordings(request: Request, services: Services) -> Response:
    """Session recording snapshots, stored apart from events."""
    assert services.recordings is not None
    try:
        body = await read_body(request, RECORDINGS_LIMIT)
    except BodyTooLarge:
        raise too_large(RECORDINGS_LIMIT) from None
    await services.recordings.capture(body, request.headers, first_values(request), request.method)
    return Response(OK, media_type="application/json")


routes.public("GET", "/s/", name="capture_recordings_get")(recordings)
routes.public("POST", "/s/", name="capture_recordings_create")(recordings)

for _path in CAPTURE_PATHS:
    _name = "capture_" + (_path.strip("/").replace("/", "_") or "root")
    routes.public("GET", _path, name=_name + "_get")(capture)
    routes.public("POST", _path, name=_name + "_create")(capture)
