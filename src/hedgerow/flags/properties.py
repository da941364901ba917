"""The person property map the server matches person filters against.

It is the stored properties, then ``distinct_id`` (always the request's), then the
request's overrides, and finally ``$initial_<x>`` copied from ``<x>`` where the initial
property is still missing (ingestion may not have written it yet).
"""

from __future__ import annotations

from typing import Any, Mapping

#: Properties whose first value ingestion keeps as ``$initial_<name>`` (PostHog's taxonomy:
#: person properties adapted from events, and campaign properties).
INITIAL_PROPERTY_KEYS: Mapping[str, str] = {
    key: f"$initial_{key.removeprefix('$')}"
    for key in (
        "$app_build", "$app_name", "$app_namespace", "$app_version", "$browser",
        "$browser_version", "$device_type", "$current_url", "$pathname", "$os",
        "$os_version", "$referring_domain", "$referrer", "$screen_height",
        "$screen_width", "$viewport_height", "$viewport_width", "$raw_user_agent",
        "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "gclid",
        "gad_source", "gclsrc", "dclid", "gbraid", "wbraid", "fbclid", "msclkid",
        "twclid", "li_fat_id", "mc_cid", "igshid", "ttclid", "rdt_cid", "epik", "qclid",
        "sccid", "irclid", "_kx",
    )
}  # fmt: skip


def person_properties(
    distinct_id: str,
    stored: Mapping[str, Any],
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the full property map for person filters (see the module notes)."""
    props = dict(stored)
    props["distinct_id"] = distinct_id
    if overrides:
        props.update(overrides)
    missing = [
        (initial, props[key]) for key, initial in INITIAL_PROPERTY_KEYS.items() if key in props and initial not in props
    ]
    for initial, value in missing:
        props[initial] = value
    return props
