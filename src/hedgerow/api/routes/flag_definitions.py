"""Local-evaluation definitions for server SDKs, with a weak ETag and 304 when unchanged.

``GET /flags/definitions?token=phc_…`` (current SDKs) and the older
``/api/feature_flag/local_evaluation/?token=…`` and ``/api/projects/:id/feature_flags/local_evaluation/``.
A personal API key with ``feature_flag:read`` or the project's secret key (``phs_…``) may call them.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from hedgerow.api.call import Call
from hedgerow.api.routing import RouteTable
from hedgerow.errors import NotFound
from hedgerow.ids import is_digits
from hedgerow.services.flag_definitions import etag

routes = RouteTable()

_COMMON = dict(
    scope="feature_flag:read",
    rate="flag_definitions",
    accepts_project_secret=True,
)


def _answer(call: Call, with_cohorts: bool) -> Response:
    document = call.services.flag_definitions.document(call.project_id, with_cohorts)
    tag = etag(document)
    headers = {"ETag": tag, "Cache-Control": "private, must-revalidate"}
    presented = call.headers.get("if-none-match", "")
    if presented and tag.removeprefix("W/") in {t.strip().removeprefix("W/") for t in presented.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(orjson.dumps(document), media_type="application/json", headers=headers)


def _wants_cohorts(call: Call) -> bool:
    return "send_cohorts" in call.query


@routes.get("/flags/definitions/", name="flags_definitions", project_from_token=True, **_COMMON)
def definitions(call: Call) -> Any:
    """Flags, group types and cohorts for local evaluation (cohorts always included)."""
    return _answer(call, with_cohorts=True)


@routes.get(
    "/api/feature_flag/local_evaluation/", name="feature_flag_local_evaluation", project_from_token=True, **_COMMON
)
def legacy_local_evaluation(call: Call) -> Any:
    """The older path; cohorts only with ``send_cohorts``."""
    return _answer(call, with_cohorts=_wants_cohorts(call))


@routes.get(
    "/api/projects/{project_id}/feature_flags/local_evaluation/",
    name="feature_flags_local_evaluation_retrieve",
    project_from_token=True,
    **_COMMON,
)
def project_local_evaluation(call: Call) -> Any:
    """The project-scoped path; cohorts only with ``send_cohorts``."""
    return _answer(call, with_cohorts=_wants_cohorts(call))


@routes.get(
    "/api/projects/{project_id}/feature_flags/{flag_ref}/remote_config/",
    name="feature_flags_remote_config_retrieve",
    project_from_token=True,
    **_COMMON,
)
def remote_config(call: Call) -> Any:
    """A remote-configuration flag's payload (by id or key), as server SDKs fetch it."""
    ref = call.path_params["flag_ref"]
    flags = call.services.flags
    flag = flags.get(call.project_id, ref) if is_digits(ref) else flags.by_key(call.project_id, ref)
    if flag.deleted:
        raise NotFound()
    return (flag.filters.get("payloads") or {}).get("true")
