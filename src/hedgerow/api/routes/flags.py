"""Remote flag evaluation: ``/flags/`` and the legacy ``/decide/``, every version's shape.

The SDKs send the project token (body ``token``/``api_key``/``$token``, or the query) and
a distinct id, as JSON, gzip or a base64 form. Not rate limited. Shapes, by route and ``v``:

| route | v | body |
|---|---|---|
| /flags | absent or 1 (or not a number) | legacy ``featureFlags`` / ``featureFlagPayloads`` |
| /flags | >= 2 | detailed ``flags`` records |
| /decide | absent or 1 | ``featureFlags``: list of enabled keys |
| /decide | 2 | ``featureFlags``: {enabled key: value} |
| /decide | 3 | legacy /flags body |
| /decide | >= 4 | detailed ``flags`` records |

With neither ``v`` nor ``config``, ``/flags`` answers as ``v=2&config=true``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from hedgerow.api.dispatch import read_body
from hedgerow.api.routes.capture import first_values
from hedgerow.api.routes.remote_config import remote_config
from hedgerow.api.routing import RouteTable
from hedgerow.errors import AuthenticationFailed, Exposed, NotAuthenticated
from hedgerow.flags import FlagResult
from hedgerow.flags.patterns import WouldBlock
from hedgerow.ingest.decode import INLINE_BYTES, decode_body
from hedgerow.services.container import Services
from hedgerow.services.flag_evaluation import FlagsRequest

routes = RouteTable()

MAX_BODY = 2 * 1024 * 1024
MAX_DISTINCT_ID = 200


class BadFlagsRequest(Exposed):
    """/flags answers malformed requests with a 400 in plain text, as PostHog's service does."""

    status = 400
    default_code = "bad_request"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return orjson.dumps(value).decode()


def parse(payload: Any, query: dict[str, str]) -> tuple[str | None, FlagsRequest]:
    """The token and the request, with PostHog's field aliases."""
    if not isinstance(payload, dict):
        raise BadFlagsRequest("Failed to parse request: expected a JSON object")
    token = payload.get("token") or payload.get("api_key") or payload.get("$token") or query.get("token")
    raw_id = payload.get("distinct_id", payload.get("$distinct_id"))
    if raw_id is None:
        raise BadFlagsRequest("Missing distinct_id")
    distinct_id = (_text(raw_id) or "")[:MAX_DISTINCT_ID]

    def mapping(*names: str) -> dict[str, Any]:
        for name in names:
            value = payload.get(name)
            if isinstance(value, dict):
                return value
        return {}

    person_properties = mapping("person_properties", "$properties")
    device_id = payload.get("device_id") or payload.get("$device_id") or person_properties.get("$device_id")
    keys = payload.get("flag_keys", payload.get("flag_keys_to_evaluate"))
    return (
        token if isinstance(token, str) else None,
        FlagsRequest(
            distinct_id=distinct_id,
            groups={k: v for k, v in mapping("groups", "$groups").items()},
            person_properties=person_properties,
            group_properties={k: v for k, v in mapping("group_properties", "$group_properties").items()
                              if isinstance(v, dict)},
            anon_distinct_id=_text(payload.get("$anon_distinct_id", payload.get("anon_distinct_id"))),
            device_id=_text(device_id),
            flag_keys=tuple(str(k) for k in keys) if isinstance(keys, list) else None,
        ),
    )


def _version(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        return int(float(raw))
    except ValueError:
        return 1  # a version that is not a number gets the legacy shape


def _payload_value(payload: str | None) -> Any:
    if payload is None:
        return None
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload


def render(results: dict[str, FlagResult], route: str, version: int | None, errors: bool) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    evaluated_at = int(time.time() * 1000)
    if route == "decide" and (version is None or version <= 1):
        return {"featureFlags": [k for k, r in results.items() if r.enabled], "errorsWhileComputingFlags": errors,
                "requestId": request_id, "evaluatedAt": evaluated_at}
    if route == "decide" and version == 2:
        return {"featureFlags": {k: r.variant or True for k, r in results.items() if r.enabled},
                "errorsWhileComputingFlags": errors, "requestId": request_id, "evaluatedAt": evaluated_at}
    detailed = (route == "flags" and version is not None and version >= 2) or (
        route == "decide" and version is not None and version >= 4
    )
    if detailed:
        return {"flags": {k: r.to_v2() for k, r in results.items()}, "errorsWhileComputingFlags": errors,
                "requestId": request_id, "evaluatedAt": evaluated_at}
    return {
        "featureFlags": {k: (r.variant or True) if r.enabled else False for k, r in results.items()},
        # every payload the detailed answer carries, even of a flag that is off (an early-access
        # or legacy super condition answers with the payload whatever the person's enrolment)
        "featureFlagPayloads": {k: _payload_value(r.payload) for k, r in results.items() if r.payload is not None},
        "errorsWhileComputingFlags": errors,
        "requestId": request_id,
        "evaluatedAt": evaluated_at,
    }


JSON = "application/json"
TEXT = "text/plain; charset=utf-8"


Answer = tuple[int, str, bytes]
"""(status, content type, body)"""


@dataclass(slots=True)
class Evaluation:
    """An authenticated request whose flags are still to be evaluated; call it for the answer.

    ``costly`` when the project's flags hold work that may take a while (backtracking regexes,
    many conditions): the caller then runs it on a worker thread rather than on the event loop.
    """

    services: Services
    project: Any
    request: FlagsRequest
    route: str
    version: int | None
    wants_config: bool
    costly: bool

    def __call__(self, on_loop: bool = False) -> Answer:
        """The answer; ``on_loop`` raises :class:`WouldBlock` rather than start slow work."""
        results = self.services.flag_evaluation.evaluate(self.project, self.request, on_loop=on_loop)
        errors = any(r.failed for r in results.values())
        body = render(results, self.route, self.version, errors)
        if self.wants_config:
            config = remote_config(self.project, bool(results))
            config.pop("token", None)
            config.pop("hasFeatureFlags", None)
            body = {**config, **body}
        return 200, JSON, orjson.dumps(body)


def prepare(
    services: Services, route: str, method: str, query: dict[str, str], headers: Mapping[str, str], raw: bytes
) -> Answer | Evaluation:
    """Parse and authenticate one request: the answer when that settles it, else the
    :class:`Evaluation` to run. Shared by the routed endpoint and the hot path that serves
    the SDKs without the router (see :mod:`hedgerow.api.hotpaths`)."""
    version = _version(query.get("v"))
    wants_config = route == "decide" or "config" in query
    if route == "flags" and version is None:
        # neither v nor config: the current SDKs' default, v=2 with config
        version, wants_config = (1, wants_config) if "config" in query else (2, True)
    if method == "GET" and not query.get("data"):
        empty_key = "flags" if route == "flags" else "featureFlags"
        return 200, JSON, orjson.dumps({empty_key: {}, "errorsWhileComputingFlags": False})
    try:
        if len(raw) > MAX_BODY:
            return 413, TEXT, b"Request body is too large"
        payload = decode_body(
            raw,
            content_type=headers.get("content-type"),
            content_encoding=headers.get("content-encoding"),
            query=query,
            method=method,
            max_size=MAX_BODY,
        )
        token, flags_request = parse(payload, query)
        if not token:  # the token may also come as a bearer header
            bearer = headers.get("authorization", "")
            token = bearer[7:].strip() if bearer[:7].lower() == "bearer " else None
    except Exposed as error:
        return (413 if error.status == 413 else 400), TEXT, error.detail.encode()
    if not token:
        raise NotAuthenticated("API key not provided. You can find your project API key in PostHog project settings.")
    project = services.project_for_token(token)
    if project is None:
        raise AuthenticationFailed("API key is not valid. You can find your project API key in PostHog project settings.")
    costly = services.flag_evaluation.flag_set(project).costly
    return Evaluation(services, project, flags_request, route, version, wants_config, costly)


async def answer_async(
    services: Services, route: str, method: str, query: dict[str, str], headers: Mapping[str, str], raw: bytes
) -> Answer:
    """The answer to one request, on the event loop: a cheap evaluation runs here (the hand-over
    to a thread would cost more), one that is costly or meets slow work runs on a worker thread.
    A body that is costly to decode (lz-string, or large) is decoded on the worker too."""
    if len(raw) > INLINE_BYTES or (query.get("compression") or "").lower() in ("lz64", "lz-string"):
        outcome = await run_in_threadpool(prepare, services, route, method, query, headers, raw)
    else:
        try:
            outcome = prepare(services, route, method, query, headers, raw)
        except WouldBlock:  # the flags' group types were not cached (scale-out mode)
            outcome = await run_in_threadpool(prepare, services, route, method, query, headers, raw)
    if isinstance(outcome, tuple):
        return outcome
    if not outcome.costly:
        try:
            return outcome(on_loop=True)
        except WouldBlock:
            pass  # evaluated again from the start (its only write, hash keys, is idempotent)
    return await run_in_threadpool(outcome)


async def evaluate(request: Request, services: Services, route: str) -> Response:
    raw = b"" if request.method == "GET" else await read_body(request, MAX_BODY + 1)
    status, media_type, body = await answer_async(
        services, route, request.method, first_values(request), request.headers, raw
    )
    return Response(body, status_code=status, media_type=media_type)


async def flags(request: Request, services: Services) -> Response:
    """Evaluate every active flag of the token's project for one distinct id."""
    return await evaluate(request, services, "flags")


async def decide(request: Request, services: Services) -> Response:
    """The older endpoint, in each of its versions' shapes."""
    return await evaluate(request, services, "decide")


for _method in ("get", "post"):
    routes.public(_method.upper(), "/flags/", name=f"flags_{_method}")(flags)
    routes.public(_method.upper(), "/decide/", name=f"decide_{_method}")(decide)
