"""Hot properties: the keys stored a second time as their own column, on both engines.

PostHog materialises the properties most queries filter or break down on, so a read of one
skips parsing the JSON document. A column ``mat_<key>`` (``pmat_<key>`` for person
properties stored on events) holds HogQL's text of the value: NULL when the key is missing or
JSON null, a string unquoted, any other value as its JSON text. The compiler reads the column
instead of the document for a single-key read of the storage ``events`` table.
"""

from __future__ import annotations

MATERIALIZED: dict[str, str] = {
    key: f"mat_{key}"
    for key in ("$browser", "$os", "$device_type", "$current_url", "$pathname", "$host", "$referring_domain",
                "$screen_name", "$session_id", "$window_id")
}  # fmt: skip
"""Event properties with a materialised column on ClickHouse (``events.mat_<key>``)."""

MATERIALIZED_PERSON: dict[str, str] = {key: f"pmat_{key}" for key in ("email", "name", "plan")}
"""Person properties (as stored on each event) with a materialised column on ClickHouse
(``events.pmat_<key>``, PostHog's prefix)."""

DUCKDB_MATERIALIZED: dict[str, str] = {
    key: column for key, column in MATERIALIZED.items() if key not in ("$session_id", "$window_id")
}
"""Event properties with a materialised column on DuckDB. ``$session_id`` and ``$window_id``
are left out: DuckDB's columns of those names are not the property's text (ingestion keeps
only a string there, so ``{"$session_id": 5}`` gives NULL, not ``'5'``), and reading the
property from JSON stays exact."""
