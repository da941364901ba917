"""The catalogue of virtual tables HogQL exposes, as data.

A :class:`VirtualTable` maps user-visible fields onto a storage table (``physical``) or onto
an aggregate view over another virtual table (``view``). Field kinds:

* :class:`Column` — a storage column.
* :class:`JsonColumn` — JSON text readable by path (``properties.a.b``).
* :class:`Expr` — a HogQL expression over the same table's fields (e.g. the person id with
  merges applied); resolved like user text, so it may use hidden fields and lazy joins.
* :class:`Struct` — a group of fields under one name read from the same row
  (``events.person`` when person properties are stored on events).
* :class:`LazyJoin` — a join added only when one of its fields is referenced.
* :class:`Aggregate` — a field of a view table, computed by an aggregate over the base table.

The storage layout itself lives in :mod:`hedgerow.store.events.schema`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping, Union

from hedgerow.hogql import types as T
from hedgerow.hogql.types import HogType


@dataclass(frozen=True)
class Column:
    physical: str
    type: HogType
    hidden: bool = False


@dataclass(frozen=True)
class JsonColumn:
    physical: str
    scope: str
    """Property scope for typing and filters: ``event``, ``person``, ``group`` or ``session``."""
    hidden: bool = False


@dataclass(frozen=True)
class Expr:
    hogql: str
    type: HogType
    hidden: bool = False


@dataclass(frozen=True)
class Struct:
    fields: Mapping[str, "Field"]
    hidden: bool = False


@dataclass(frozen=True)
class LazyJoin:
    target: str
    local: str
    """HogQL expression over the owning table giving the join key."""
    remote: str
    """Field of the target table equal to ``local``."""
    constants: tuple[tuple[str, object], ...] = ()
    """Extra ``target.field = constant`` conditions (e.g. the group type index)."""
    kind: str = "LEFT"
    hidden: bool = False


@dataclass(frozen=True)
class Aggregate:
    hogql: str
    type: HogType
    hidden: bool = False


Field = Union[Column, JsonColumn, Expr, Struct, LazyJoin, Aggregate]


@dataclass(frozen=True)
class View:
    """An aggregate view: ``SELECT key AS key_name, aggregates... FROM base [WHERE] GROUP BY key``."""

    base: str
    key_name: str
    key: str
    where: str | None = None


@dataclass(frozen=True)
class VirtualTable:
    name: str
    fields: Mapping[str, Field]
    physical: str | None = None
    view: View | None = None
    guards: tuple[tuple[str, object], ...] = ()
    """Extra ``storage column = constant`` predicates applied with the team guard."""
    star: tuple[str, ...] = ()
    timestamp_field: str | None = None
    """The field ``{filters}`` date ranges apply to."""
    property_scope: str | None = None
    hidden: bool = False

    def field(self, name: str) -> Field | None:
        return self.fields.get(name)


def _cols(**spec: HogType) -> dict[str, Field]:
    return {name: Column(name, typ) for name, typ in spec.items()}


NULL_STRING = T.NULLABLE_STRING
NULL_DATETIME = T.DATETIME.as_nullable()

PERSON_ID_WITH_OVERRIDE = Expr("coalesce(_override.person_id, _person_id)", T.UUID)


ELEMENTS_CHAIN_FIELDS: dict[str, Field] = {
    # PostHog materialises these from elements_chain with the same regexes.
    "elements_chain_href": Expr("""extract(elements_chain, '(?::|")href="(.*?)"')""", T.STRING),
    "elements_chain_texts": Expr(
        """arrayDistinct(extractAll(elements_chain, '(?::|")text="(.*?)"'))""", T.array_of(T.STRING)
    ),
    "elements_chain_ids": Expr(
        """arrayDistinct(extractAll(elements_chain, '(?::|")attr_id="(.*?)"'))""", T.array_of(T.STRING)
    ),
    "elements_chain_elements": Expr(
        r"""arrayDistinct(extractAll(elements_chain, '(?:^|;)(a|button|form|input|select|textarea|label)(?:\\.|$|:)'))""",
        T.array_of(T.STRING),
    ),
}
"""The elements chain's derived columns: first href, distinct texts, ids and useful tags."""


def _events(persons_joined: bool) -> VirtualTable:
    person: Field
    if persons_joined:
        person = LazyJoin("persons", local="person_id", remote="id")
    else:
        person = Struct(
            {
                "id": Expr("person_id", T.UUID),
                "created_at": Column("person_created_at", NULL_DATETIME),
                "properties": JsonColumn("person_properties", "person"),
            }
        )
    fields: dict[str, Field] = {
        **_cols(uuid=T.UUID, event=T.STRING, distinct_id=T.STRING),
        "properties": JsonColumn("properties", "event"),
        "timestamp": Column("timestamp", T.DATETIME),
        "created_at": Column("created_at", T.DATETIME),
        "elements_chain": Column("elements_chain", T.STRING),
        **ELEMENTS_CHAIN_FIELDS,
        "$session_id": Column("$session_id", NULL_STRING),
        "$window_id": Column("$window_id", NULL_STRING),
        **{f"$group_{i}": Column(f"$group_{i}", T.STRING) for i in range(5)},
        "person_id": PERSON_ID_WITH_OVERRIDE,
        "_person_id": Column("person_id", T.UUID, hidden=True),
        "_override": LazyJoin(
            "person_distinct_id_overrides", local="distinct_id", remote="distinct_id", hidden=True
        ),
        "person": person,
        "pdi": LazyJoin("person_distinct_ids", local="distinct_id", remote="distinct_id"),
        "session": LazyJoin("sessions", local="$session_id", remote="session_id"),
        **{
            f"group_{i}": LazyJoin(
                "groups", local=f"$group_{i}", remote="key", constants=(("index", i),)
            )
            for i in range(5)
        },
    }
    star = (
        "uuid", "event", "properties", "timestamp", "distinct_id", "elements_chain",
        "created_at", "$session_id", "$window_id", "person_id",
        "$group_0", "$group_1", "$group_2", "$group_3", "$group_4",
    )  # fmt: skip
    return VirtualTable(
        "events",
        fields,
        physical="events",
        star=star,
        timestamp_field="timestamp",
        property_scope="event",
    )


PERSONS = VirtualTable(
    "persons",
    {
        **_cols(id=T.UUID, created_at=T.DATETIME, is_identified=T.BOOL),
        "properties": JsonColumn("properties", "person"),
    },
    physical="persons",
    guards=(("is_deleted", False),),
    star=("id", "created_at", "properties", "is_identified"),
    timestamp_field="created_at",
    property_scope="person",
)

PERSON_DISTINCT_IDS = VirtualTable(
    "person_distinct_ids",
    {
        **_cols(distinct_id=T.STRING, person_id=T.UUID),
        "person": LazyJoin("persons", local="person_id", remote="id"),
    },
    physical="person_distinct_ids",
    guards=(("is_deleted", False),),
    star=("distinct_id", "person_id"),
)

RAW_OVERRIDES = VirtualTable(
    "raw_person_distinct_id_overrides",
    _cols(distinct_id=T.STRING, person_id=T.UUID, version=T.INT64),
    physical="person_distinct_id_overrides",
    star=("distinct_id", "person_id", "version"),
    hidden=True,
)

OVERRIDES = VirtualTable(
    "person_distinct_id_overrides",
    {"person_id": Aggregate("argMax(person_id, version)", T.UUID)},
    view=View("raw_person_distinct_id_overrides", "distinct_id", "distinct_id"),
    star=("distinct_id", "person_id"),
)


def _session_url(which: str, prop: str) -> Aggregate:
    fn = "argMinIf" if which == "entry" else "argMaxIf"
    return Aggregate(
        f"{fn}(properties.{prop}, timestamp, properties.{prop} IS NOT NULL)", NULL_STRING
    )


_SESSION_DURATION = "dateDiff('second', min(timestamp), max(timestamp))"

SESSIONS = VirtualTable(
    "sessions",
    {
        "id": Aggregate("any($session_id)", T.STRING),
        "distinct_id": Aggregate("argMax(distinct_id, timestamp)", T.STRING),  # PostHog keeps the last
        "$start_timestamp": Aggregate("min(timestamp)", T.DATETIME),
        "$end_timestamp": Aggregate("max(timestamp)", T.DATETIME),
        "$session_duration": Aggregate(_SESSION_DURATION, T.INT64),
        "duration": Aggregate(_SESSION_DURATION, T.INT64),
        "$pageview_count": Aggregate("countIf(event = '$pageview')", T.UINT64),
        "$autocapture_count": Aggregate("countIf(event = '$autocapture')", T.UINT64),
        "$screen_count": Aggregate("countIf(event = '$screen')", T.UINT64),
        "$urls": Aggregate(
            "groupUniqArrayIf(properties.$current_url, properties.$current_url IS NOT NULL)",
            T.array_of(T.STRING),
        ),
        "$num_uniq_urls": Aggregate("uniqExact(properties.$current_url)", T.UINT64),
        "$entry_current_url": _session_url("entry", "$current_url"),
        "$end_current_url": _session_url("end", "$current_url"),
        "$exit_current_url": _session_url("end", "$current_url"),
        "$entry_pathname": _session_url("entry", "$pathname"),
        "$end_pathname": _session_url("end", "$pathname"),
        "$exit_pathname": _session_url("end", "$pathname"),
        "$entry_hostname": _session_url("entry", "$host"),
        "$entry_referrer": _session_url("entry", "$referrer"),
        "$entry_referring_domain": _session_url("entry", "$referring_domain"),
        **{
            f"$entry_utm_{k}": _session_url("entry", f"utm_{k}")
            for k in ("source", "campaign", "medium", "term", "content")
        },
        "$entry_gclid": _session_url("entry", "gclid"),
        "$entry_fbclid": _session_url("entry", "fbclid"),
        "$is_bounce": Aggregate(
            "if(countIf(event = '$pageview') + countIf(event = '$screen') <= 1"
            " AND countIf(event = '$autocapture') = 0"
            f" AND {_SESSION_DURATION} < 10, true, false)",
            T.BOOL,
        ),
    },
    view=View("events", "session_id", "$session_id", where="$session_id IS NOT NULL"),
    star=("session_id", "distinct_id", "$start_timestamp", "$end_timestamp", "$session_duration"),
    timestamp_field="$start_timestamp",
    property_scope="session",
)

GROUPS = VirtualTable(
    "groups",
    {
        "index": Column("group_type_index", T.INT64),
        "key": Column("group_key", T.STRING),
        "created_at": Column("created_at", T.DATETIME),
        "updated_at": Column("updated_at", T.DATETIME),
        "properties": JsonColumn("properties", "group"),
    },
    physical="groups",
    star=("index", "key", "created_at", "updated_at", "properties"),
    timestamp_field="created_at",
    property_scope="group",
)

COHORT_PEOPLE = VirtualTable(
    "cohort_people",
    {
        **_cols(person_id=T.UUID, cohort_id=T.INT64),
        "person": LazyJoin("persons", local="person_id", remote="id"),
    },
    physical="cohort_people",
    star=("person_id", "cohort_id"),
)

STATIC_COHORT_PEOPLE = VirtualTable(
    "static_cohort_people",
    {
        **_cols(person_id=T.UUID, cohort_id=T.INT64),
        "person": LazyJoin("persons", local="person_id", remote="id"),
    },
    physical="static_cohort_people",
    star=("person_id", "cohort_id"),
)


@dataclass(frozen=True)
class Database:
    """The tables one compilation resolves against."""

    tables: Mapping[str, VirtualTable] = field(default_factory=dict)

    def table(self, name: str, *, internal: bool = False) -> VirtualTable | None:
        table = self.tables.get(name)
        if table is None or (table.hidden and not internal):
            return None
        return table


PERSONS_JOINED_MODES = frozenset({"disabled", "person_id_override_properties_joined"})


@lru_cache(maxsize=8)
def database(persons_on_events_mode: str | None = None) -> Database:
    """The catalogue for a ``personsOnEventsMode`` (default: properties stored on events)."""
    joined = persons_on_events_mode in PERSONS_JOINED_MODES
    tables = [
        _events(joined),
        PERSONS,
        PERSON_DISTINCT_IDS,
        RAW_OVERRIDES,
        OVERRIDES,
        SESSIONS,
        GROUPS,
        COHORT_PEOPLE,
        STATIC_COHORT_PEOPLE,
    ]
    return Database({t.name: t for t in tables})
