"""The one template served: PostHog's ``template-webhook`` ("HTTP Webhook")."""

from __future__ import annotations

from typing import Any

WEBHOOK_ID = "template-webhook"
METHODS = ("POST", "PUT", "PATCH", "GET", "DELETE")

WEBHOOK_HOG = """let payload := {
  'headers': inputs.headers,
  'body': inputs.body,
  'method': inputs.method
}

if (inputs.debug) {
  print('Request', inputs.url, payload)
}

let res := fetch(inputs.url, payload);

if (inputs.debug) {
  print('Response', res.status, res.body);
}"""
"""The template's Hog source, shown as PostHog shows it; the server runs its meaning natively
(one fetch of ``url`` with ``method``, ``headers`` and ``body``)."""

WEBHOOK_INPUTS_SCHEMA: list[dict[str, Any]] = [
    {"key": "url", "type": "string", "label": "Webhook URL", "secret": False, "required": True},
    {
        "key": "method", "type": "choice", "label": "Method", "secret": False,
        "choices": [{"label": m, "value": m} for m in METHODS], "default": "POST", "required": False,
    },
    {
        "key": "body", "type": "json", "label": "JSON Body",
        "default": {"event": "{event}", "person": "{person}"}, "secret": False, "required": False,
    },
    {
        "key": "headers", "type": "dictionary", "label": "Headers", "secret": False, "required": False,
    },
    {
        "key": "debug", "type": "boolean", "label": "Log responses",
        "description": "Logs the response of http calls for debugging.", "secret": False,
        "required": False, "default": False,
    },
]  # fmt: skip

WEBHOOK_TEMPLATE: dict[str, Any] = {
    "id": WEBHOOK_ID,
    "name": "HTTP Webhook",
    "description": "Sends a webhook templated by the incoming event data",
    "code": WEBHOOK_HOG,
    "code_language": "hog",
    "inputs_schema": WEBHOOK_INPUTS_SCHEMA,
    "type": "destination",
    "status": "stable",
    "category": ["Custom"],
    "free": True,
    "icon_url": "/static/posthog-icon.svg",
    "filters": None,
    "masking": None,
    "mapping_templates": None,
}
"""The template as PostHog's template serializer shows it in a function's ``template``."""

TEMPLATES: dict[str, dict[str, Any]] = {WEBHOOK_ID: WEBHOOK_TEMPLATE}
