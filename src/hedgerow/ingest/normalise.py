"""Stage 3: one parsed event to the fields the store and the person stage need.

Rules are PostHog's:

* **uuid**: kept when it parses (any form ``uuid.UUID`` reads, stored canonical); an empty
  string counts as missing and a fresh uuid7 is made; an invalid one fails the whole request
  with 400 ``request_parsing_error``, as Rust capture's ``empty_string_uuid_is_none`` does.
  (The Node ingestion also *drops* events with an invalid uuid and warns; it never sees any,
  because capture already refused them.)
* **timestamp** (``rust/.../parse_event_timestamp``): with ``sent_at`` (unless
  ``$ignore_sent_at``) ``now + (timestamp - sent_at)``; else ``timestamp``; an ``offset`` (ms)
  overrides both with ``now - offset``; more than 23 h ahead of ``now`` becomes ``now``; a year
  outside 0..9999 becomes the epoch; an unreadable timestamp becomes ``now``. Absurd values
  (``1e308``, NaN, negative or five-digit years, an ``offset`` that is not a 64-bit integer)
  are unreadable: the event is stored with the fallback and an ``ignored_invalid_timestamp``
  ingestion warning (``field``, ``value``, ``reason``), as PostHog's ingestion does; an
  unreadable ``sent_at`` is ignored with the same warning.
* **properties** must be storable as JSON: nested deeper than the JSON writer allows (254
  levels) or holding an integer over 64 bits, the request is refused with 400 before any
  state changes (the text is made here once and is what the writer stores).
* **person properties**: top-level ``$set``/``$set_once`` are merged over
  ``properties.$set``/``$set_once`` (the top level wins); ``$unset`` is a list of keys or an
  object whose keys are unset; web properties (``$browser``, ``$os``, ``utm_*``, ...) are
  ``$set`` and their ``$initial_`` twins ``$set_once`` unless the event is personless.
* ``$process_person_profile: false`` makes the event personless.
* ``$ip`` is the request's address unless the event already has one (PostHog stores it even
  when ``$geoip_disable`` is set; that flag only turns GeoIP enrichment off, which Hedgerow
  does not do).
* ``$session_id`` and ``$window_id`` become columns; ``$elements_chain`` (or ``$elements``,
  turned into a chain the way the Node ingestion writes it) becomes ``elements_chain``.
* ``$groups`` (``{type: key}``) is kept for the group-slot stage.
"""

from __future__ import annotations

import math
import os
import re
import time
import uuid as uuidlib
from datetime import datetime, timezone
from typing import Any, Mapping

import orjson

from hedgerow.ingest.errors import RequestParsingError

FUTURE_CUTOFF_US = 23 * 3600 * 1_000_000
_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_MIN_US = (datetime(1, 1, 1, tzinfo=_UTC) - _EPOCH) // _EPOCH.resolution
_MAX_US = 253402300800_000000  # 10000-01-01
_I64 = 1 << 63
INVALID_TIMESTAMP = "ignored_invalid_timestamp"
FUTURE_TIMESTAMP = "event_timestamp_in_future"
_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

# Web properties an event copies to its person ($set) and, prefixed, once ($set_once):
# PostHog's eventToPersonProperties + campaign parameters (personInitialAndUTMProperties).
PERSON_WEB_PROPERTIES = frozenset(
    {
        "$app_build", "$app_name", "$app_namespace", "$app_version", "$browser",
        "$browser_version", "$device_type", "$current_url", "$pathname", "$os", "$os_name",
        "$os_version", "$referring_domain", "$referrer", "$screen_height", "$screen_width",
        "$viewport_height", "$viewport_width", "$raw_user_agent",
        "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "gclid",
        "gad_source", "gclsrc", "dclid", "gbraid", "wbraid", "fbclid", "msclkid", "twclid",
        "li_fat_id", "mc_cid", "igshid", "ttclid", "rdt_cid", "epik", "qclid", "sccid",
        "irclid", "_kx",
    }
)  # fmt: skip
INITIAL_NAME = {
    key: "$initial_" + (key[1:] if key.startswith("$") else key) for key in PERSON_WEB_PROPERTIES
}

# PostHog's FILTERED_PERSON_UPDATE_PROPERTIES: a change to only these does not update the
# person (they change on every page view); they ride along when something else changes.
# Person events ($identify, $set, ...) update regardless.
FILTERED_PERSON_UPDATE_PROPERTIES = frozenset(
    {
        "$current_url", "$pathname", "$referring_domain", "$referrer", "$screen_height",
        "$screen_width", "$viewport_height", "$viewport_width", "$browser", "$browser_version",
        "$device_type", "$raw_user_agent", "$os", "$os_name", "$os_version",
    }
)  # fmt: skip
FORCE_PERSON_UPDATE_EVENTS = frozenset({"$identify", "$create_alias", "$merge_dangerously", "$set"})


class NormalEvent:
    """One event ready for the person stage and the writer."""

    __slots__ = (
        "uuid", "uuid_int", "event", "distinct_id", "properties", "timestamp_us",
        "set", "set_once", "unset", "personless", "session_id", "window_id",
        "elements_chain", "groups", "web", "properties_json", "warnings",
    )  # fmt: skip

    def __init__(self) -> None:
        self.set: dict[str, Any] | None = None
        self.set_once: dict[str, Any] | None = None
        self.unset: list[str] | None = None
        self.groups: dict[str, Any] | None = None
        self.web: set[str] | None = None
        """Web properties present (PERSON_WEB_PROPERTIES): $set on the person, and their
        $initial_ twins $set_once, below the event's own $set/$set_once."""
        self.warnings: list[tuple[str, dict[str, Any]]] | None = None
        """Ingestion warnings (type, details) about this event, e.g. an ignored timestamp."""


def normalise_event(
    raw: dict[str, Any],
    distinct_id: str,
    *,
    sent_at_us: int | None,
    now_us: int,
    ip: str | None,
) -> NormalEvent:
    """Normalise one parsed event (its ``properties`` dict is reused and changed in place)."""
    out = NormalEvent()
    props: dict[str, Any] = raw["properties"]
    out.event = raw["event"]
    out.distinct_id = distinct_id
    out.properties = props

    raw_uuid = raw.get("uuid")
    if raw_uuid:
        if type(raw_uuid) is str and _CANONICAL_UUID.fullmatch(raw_uuid):
            out.uuid = raw_uuid.lower()
            out.uuid_int = int(raw_uuid.replace("-", ""), 16)
        else:
            try:
                parsed = uuidlib.UUID(raw_uuid) if type(raw_uuid) is str else None
            except ValueError:
                parsed = None
            if parsed is None:
                raise RequestParsingError(f"invalid uuid {str(raw_uuid)[:64]!r}")
            out.uuid_int = parsed.int
            out.uuid = str(parsed)
    else:
        out.uuid_int = n = uuid7_int(now_us)
        out.uuid = str(uuidlib.UUID(int=n))

    warnings: list[tuple[str, dict[str, Any]]] = []
    if props.get("$ignore_sent_at") is True:
        sent_at_us = None
    elif raw.get("sent_at") is not None:
        sent_at_us = parse_time(raw["sent_at"])
        if sent_at_us is None:
            warnings.append(invalid_timestamp("sent_at", raw["sent_at"]))
    out.timestamp_us = event_timestamp(
        raw.get("timestamp"), raw.get("offset"), sent_at_us, now_us, warnings
    )
    if warnings:
        out.warnings = warnings

    personless = props.get("$process_person_profile") is False
    out.personless = personless
    if not personless:
        _person_updates(out, raw, props)
    elif "$set" in props or "$set_once" in props or "$unset" in props:
        for key in ("$set", "$set_once", "$unset"):
            props.pop(key, None)

    if ip and "$ip" not in props:
        props["$ip"] = ip

    session_id = props.get("$session_id")
    out.session_id = session_id if type(session_id) is str else None
    window_id = props.get("$window_id")
    out.window_id = window_id if type(window_id) is str else None

    chain = props.pop("$elements_chain", None)
    elements = props.pop("$elements", None)
    if type(chain) is str and chain:
        out.elements_chain = chain
    elif isinstance(elements, list) and elements:
        out.elements_chain = elements_to_chain(elements)
    else:
        out.elements_chain = ""

    groups = props.get("$groups")
    if groups and isinstance(groups, dict):
        out.groups = groups
    try:
        out.properties_json = orjson.dumps(props).decode()
    except orjson.JSONEncodeError as exc:
        raise RequestParsingError(f"properties cannot be stored: {exc}") from None
    return out


def _person_updates(out: NormalEvent, raw: Mapping[str, Any], props: dict[str, Any]) -> None:
    set_ = _merged(props.get("$set"), raw.get("$set"))
    set_once = _merged(props.get("$set_once"), raw.get("$set_once"))
    if "$set" in raw:
        props["$set"] = set_ or {}
    if "$set_once" in raw:
        props["$set_once"] = set_once or {}
    web = props.keys() & PERSON_WEB_PROPERTIES
    if web:
        out.web = web
    if set_:
        out.set = set_
    if set_once:
        out.set_once = set_once
    unset = raw.get("$unset")
    if unset is None:
        unset = props.get("$unset")
    if unset:
        if isinstance(unset, dict):
            out.unset = [str(k) for k in unset]
        elif isinstance(unset, list):
            out.unset = [k for k in unset if isinstance(k, str)]
        elif isinstance(unset, str):
            out.unset = [unset]


def _merged(inner: Any, top: Any) -> dict[str, Any] | None:
    if isinstance(top, dict) and top:
        if isinstance(inner, dict) and inner:
            merged = dict(inner)
            merged.update(top)
            return merged
        return top
    return inner if isinstance(inner, dict) and inner else None


def event_timestamp(
    timestamp: Any,
    offset: Any,
    sent_at_us: int | None,
    now_us: int,
    warnings: list[tuple[str, dict[str, Any]]] | None = None,
) -> int:
    """The event's time in microseconds since the epoch, by PostHog's skew rules.

    An unreadable ``timestamp`` or ``offset`` is ignored; when ``warnings`` is given, an
    ``ignored_invalid_timestamp`` warning is appended for it (and for an out-of-range result).
    """
    result = now_us
    if timestamp is not None:
        ts = parse_time(timestamp)
        if ts is not None:
            result = now_us + (ts - sent_at_us) if sent_at_us is not None else ts
        elif warnings is not None:
            warnings.append(invalid_timestamp("timestamp", timestamp))
    if offset is not None:
        if type(offset) is int and -_I64 <= offset < _I64:
            result = now_us - offset * 1000
        elif warnings is not None:
            warnings.append(invalid_timestamp("offset", offset, "not a 64-bit integer"))
    if result - now_us > FUTURE_CUTOFF_US:
        if warnings is not None:
            warnings.append((FUTURE_TIMESTAMP, {"timestamp": _shown(timestamp),
                                                "offset": _shown(offset)}))  # fmt: skip
        result = now_us
    if result < _MIN_US or result >= _MAX_US:  # year 1 .. 9999
        if warnings is not None:
            warnings.append(invalid_timestamp("timestamp", timestamp, "out of bounds"))
        result = 0
    return result


def invalid_timestamp(field: str, value: Any, reason: str = "invalid format") -> tuple[str, dict[str, Any]]:
    """An ``ignored_invalid_timestamp`` warning."""
    return INVALID_TIMESTAMP, {"field": field, "value": _shown(value), "reason": reason}


def _shown(value: Any) -> Any:
    """A value as a warning shows it: JSON-safe, cut to 200 characters."""
    if value is None or type(value) in (int, bool):
        return value
    if type(value) is float:
        return repr(value)  # NaN and infinities are not JSON
    return str(value)[:200]


def parse_time(value: Any) -> int | None:
    """An ISO-8601 string, or epoch seconds/milliseconds, as microseconds; None if unreadable
    or outside years 1..9999 (so a caller never sees an overflow)."""
    if type(value) is str:
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            text = value.strip()
            if len(text) <= 32 and text.replace(".", "", 1).isdigit():
                return _epoch_number(float(text))
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=_UTC)
        try:
            delta = dt - _EPOCH
        except OverflowError:  # a zone pushes year 1 or 9999 out of range
            return None
        result = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
        return result if _MIN_US <= result < _MAX_US else None
    if type(value) is int:
        return _epoch_number(float(value)) if -_I64 <= value < _I64 else None
    if type(value) is float:
        return _epoch_number(value)
    return None


def _epoch_number(number: float) -> int | None:
    # PostHog's rule for sent_at numbers: more than 11 digits are milliseconds.
    if not math.isfinite(number) or abs(number) >= 1e17:  # 1e17 ms is 3 million years
        return None
    result = int(number * 1000) if abs(number) >= 1e11 else int(number * 1_000_000)
    return result if _MIN_US <= result < _MAX_US else None


def uuid7_int(now_us: int | None = None) -> int:
    """A version-7 uuid (48-bit unix-ms time, then random bits) as an integer."""
    ms = (now_us // 1000) if now_us is not None else time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    rand_a = rand >> 68  # 12 bits
    rand_b = rand & ((1 << 62) - 1)
    return (ms & 0xFFFFFFFFFFFF) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b


def elements_to_chain(elements: list[Any]) -> str:
    """Turn an autocapture ``$elements`` list into PostHog's ``elements_chain`` text."""
    parts = []
    for el in elements:
        if not isinstance(el, dict):
            continue
        text = ""
        tag = el.get("tag_name")
        if tag:
            text += str(tag)
        classes = el.get("attr__class")
        if isinstance(classes, str):
            classes = classes.split()
        if isinstance(classes, list) and classes:
            for cls in sorted(str(c) for c in classes):
                text += "." + cls.replace('"', "")
        attrs: dict[str, Any] = {}
        if el.get("$el_text"):
            attrs["text"] = str(el["$el_text"])[:400]
        attrs["nth-child"] = el.get("nth_child") or 0
        attrs["nth-of-type"] = el.get("nth_of_type") or 0
        if el.get("attr__href"):
            attrs["href"] = str(el["attr__href"])[:2048]
        if el.get("attr__id"):
            attrs["attr_id"] = el["attr__id"]
        for key, value in el.items():
            if key.startswith("attr__"):
                attrs[key] = value
        text += ":" + "".join(
            f'{_escape(k)}="{_escape(_js_str(v))}"' for k, v in sorted(attrs.items())
        )
        parts.append(text)
    return ";".join(parts)


def _js_str(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _escape(text: str) -> str:
    return text.replace('"', '\\"')
