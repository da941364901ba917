"""HogQL value types and their ClickHouse type strings.

Types are small frozen values. The compiler infers one for every expression; it drives
null-semantics wrapping, timezone handling, type defaults and the ``types`` response field.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class HogType:
    """A HogQL type: a ClickHouse base name, nullability and, for arrays, an item type.

    ``zone`` is a DateTime's own time zone (``toTimeZone(ts, 'America/New_York')``): calendar
    functions of the value read its wall clock there. None means the project's zone.
    """

    name: str
    nullable: bool = False
    item: "HogType | None" = None
    zone: str | None = None
    unit: str | None = None
    """An Interval's unit (``day``, ``hour``...), when known at compile time."""

    def as_nullable(self, nullable: bool = True) -> "HogType":
        return self if self.nullable == nullable else replace(self, nullable=nullable)

    def in_zone(self, zone: str | None) -> "HogType":
        """This DateTime type shown and read in ``zone`` (other types are unchanged)."""
        return replace(self, zone=zone) if self.is_datetime and self.zone != zone else self

    @property
    def is_datetime(self) -> bool:
        return self.name == "DateTime64"

    @property
    def is_date(self) -> bool:
        return self.name == "Date"

    @property
    def is_temporal(self) -> bool:
        return self.name in ("DateTime64", "Date")

    @property
    def is_numeric(self) -> bool:
        return self.name in NUMERIC_NAMES

    @property
    def is_string(self) -> bool:
        return self.name == "String"

    def clickhouse(self, timezone: str = "UTC") -> str:
        """The ClickHouse type string shown in the API's ``types`` field."""
        if self.name == "DateTime64":
            base = f"DateTime64(6, '{self.zone or timezone}')"
        elif self.name == "Array":
            inner = self.item.clickhouse(timezone) if self.item else "Nothing"
            return f"Array({inner})"
        elif self.name == "Interval" and self.unit:
            base = f"Interval{self.unit.capitalize()}"
        elif self.name in ("Unknown", "JSON"):
            base = "String"
        else:
            base = self.name
        return f"Nullable({base})" if self.nullable else base


NUMERIC_NAMES = frozenset(
    {"UInt8", "UInt16", "UInt32", "UInt64", "Int8", "Int16", "Int32", "Int64", "Float64", "Float32"}
)

STRING = HogType("String")
NULLABLE_STRING = HogType("String", nullable=True)
UINT8 = HogType("UInt8")
UINT64 = HogType("UInt64")
INT64 = HogType("Int64")
FLOAT64 = HogType("Float64")
BOOL = HogType("Bool")
DATE = HogType("Date")
DATETIME = HogType("DateTime64")
UUID = HogType("UUID")
JSON = HogType("JSON")
NOTHING = HogType("Nothing", nullable=True)
UNKNOWN = HogType("Unknown")
INTERVAL = HogType("Interval")


def interval_of(unit: str | None) -> HogType:
    """The type of an interval of ``unit``s (ClickHouse's ``IntervalDay``...)."""
    return HogType("Interval", unit=unit)


def array_of(item: HogType) -> HogType:
    return HogType("Array", item=item)


def common(types: list[HogType]) -> HogType:
    """A supertype good enough for result typing: first non-null type, nullable if any is."""
    concrete = [t for t in types if t.name not in ("Nothing",)]
    nullable = any(t.nullable for t in types)
    if not concrete:
        return NOTHING
    numeric = [t for t in concrete if t.is_numeric]
    if len(numeric) == len(concrete) and len({t.name for t in numeric}) > 1:
        name = "Float64" if any(t.name.startswith("Float") for t in numeric) else "Int64"
        return HogType(name, nullable)
    return concrete[0].as_nullable(nullable or concrete[0].nullable)
