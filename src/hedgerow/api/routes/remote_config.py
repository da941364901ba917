"""The browser SDK's remote config: ``/array/{token}/config`` (JSON) and ``config.js``.

posthog-js asks for it at start-up; it turns compression on, says whether there are flags to
fetch, where events go, and which optional features (recordings, heatmaps, surveys) are on.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import orjson
from starlette.requests import Request
from starlette.responses import Response

from hedgerow.api.responses import JSONResponse
from hedgerow.api.routing import RouteTable
from hedgerow.errors import NotFound
from hedgerow.services.container import Services
from hedgerow.services.records import Project

routes = RouteTable()


def remote_config(project: Project, has_flags: bool) -> dict[str, Any]:
    settings = project.settings
    recording: Any = False
    if settings.get("session_recording_opt_in"):
        recording = {
            "endpoint": "/s/",
            "consoleLogRecordingEnabled": bool(settings.get("capture_console_log_opt_in", True)),
            "recorderVersion": "v2",
            "sampleRate": None,
            "minimumDurationMilliseconds": None,
            "linkedFlag": None,
            "networkPayloadCapture": None,
            "urlTriggers": [],
            "urlBlocklist": [],
            "eventTriggers": [],
            "scriptConfig": None,
        }
    return {
        "token": project.api_token,
        "supportedCompression": ["gzip", "gzip-js"],
        "hasFeatureFlags": has_flags,
        "captureDeadClicks": False,
        "capturePerformance": {"network_timing": True, "web_vitals": False, "web_vitals_allowed_metrics": None}
        if settings.get("capture_performance_opt_in", True)
        else False,
        "autocapture_opt_out": bool(settings.get("autocapture_opt_out", False)),
        "autocaptureExceptions": bool(settings.get("autocapture_exceptions_opt_in", False)),
        "analytics": {"endpoint": "/i/v0/e/"},
        "elementsChainAsString": True,
        "sessionRecording": recording,
        "heatmaps": bool(settings.get("heatmaps_opt_in", True)),
        "surveys": False,
        "defaultIdentifiedOnly": True,
        "siteApps": [],
        "isAuthenticated": False,
        "toolbarParams": {},
        "config": {"enable_collect_everything": True},
    }


def _document(services: Services, token: str) -> dict[str, Any]:
    project = services.projects.by_token(token)
    if project is None:
        raise NotFound()
    has_flags = any(flag.active for flag in services.flags.live(project.id))
    return remote_config(project, has_flags)


@routes.public("GET", "/array/{token}/config/", name="remote_config")
async def config_json(request: Request, services: Services) -> Response:
    """The project's remote config as JSON."""
    document = await anyio.to_thread.run_sync(_document, services, request.path_params["token"])
    return JSONResponse(document)


@routes.public("GET", "/array/{token}/config.js/", name="remote_config_js")
async def config_js(request: Request, services: Services) -> Response:
    """The same config as a script that registers it for the SDK."""
    token = request.path_params["token"]
    document = await anyio.to_thread.run_sync(_document, services, token)
    body = (
        "(function() {\n"
        "  window._POSTHOG_REMOTE_CONFIG = window._POSTHOG_REMOTE_CONFIG || {};\n"
        f"  window._POSTHOG_REMOTE_CONFIG[{orjson.dumps(token).decode()}] = "
        f"{{config: {orjson.dumps(document).decode()}, siteApps: []}};\n"
        "})();\n"
    )
    return Response(body, media_type="application/javascript")
