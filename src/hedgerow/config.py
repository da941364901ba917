"""Settings: frozen, validated once at start-up, read from flags and ``HEDGEROW_*`` variables.

Every flag of ``hedgerow serve`` has an environment variable of the same name
(``--data-dir`` -> ``HEDGEROW_DATA_DIR``); a flag given on the command line wins.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from hedgerow.errors import HedgerowError
from hedgerow.store.events.urls import parse_events_url
from hedgerow.store.events.memory import memory_bytes

# Org-wide request budgets per category, PostHog's numbers (personal API key requests only).
DEFAULT_RATE_LIMITS: Mapping[str, str] = {
    "analytics": "240/minute;1200/hour",
    "query": "240/minute;2400/hour",
    "write": "480/minute;4800/hour",
    "default": "480/minute;4800/hour",
    "flag_definitions": "600/minute",
}


class ConfigError(HedgerowError):
    """A setting is missing or malformed."""


def _truthy(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"expected a boolean, got {value!r}")


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to know, decided before it starts."""

    data_dir: Path = Path(".hedgerow")
    database_url: str = ""
    events_url: str = ""
    redis_url: str = ""
    events_memory: str = "384MB"
    """The embedded DuckDB engine's buffer pool (hash tables, sorts and joins spill past it); a
    query may grow the process by this much and 64 MB more before it is stopped. Raise it on a
    machine with memory to spare: big insights run faster when they do not spill."""
    persons: str = "local"
    """Where person identity is decided: ``local`` (this process's memory, the embedded
    default) or ``shared`` (the PostgreSQL metadata database, for several processes)."""
    host: str = "127.0.0.1"
    port: int = 8000
    rate_limits_enabled: bool = True
    rate_limits: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    log_level: str = "warning"
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or CIDRs of the proxies whose ``X-Forwarded-For`` is believed."""
    site_url: str = ""
    """The address users reach the server at, for links in deliveries (default: host and port)."""
    webhooks_allow_private: bool = False
    """Let deliveries go to loopback, link-local and private addresses."""
    webhooks_retry_seconds: float = 5.0
    """The first retry's delay; each further one waits twice as long."""
    webhooks_max_attempts: int = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        proxies = tuple(str(proxy).strip() for proxy in self.trusted_proxies if str(proxy).strip())
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ConfigError(f"trusted proxy is not an address or a CIDR: {proxy!r}") from None
        object.__setattr__(self, "trusted_proxies", proxies)
        if not self.database_url:
            url = f"sqlite:///{(self.data_dir / 'meta.sqlite3').resolve()}"
            object.__setattr__(self, "database_url", url)
        if not self.events_url:
            url = f"duckdb:///{(self.data_dir / 'events.duckdb').resolve()}"
            object.__setattr__(self, "events_url", url)
        if not self.site_url:
            object.__setattr__(self, "site_url", f"http://{self.host}:{self.port}")
        if self.persons not in ("local", "shared"):
            raise ConfigError(f"persons must be 'local' or 'shared', not {self.persons!r}")
        if self.persons == "shared" and not self.database_url.startswith(("postgresql", "postgres:")):
            raise ConfigError("shared persons need a PostgreSQL metadata database (--database-url)")
        if self.webhooks_retry_seconds < 0 or self.webhooks_max_attempts < 1:
            raise ConfigError("webhook retries need a delay >= 0 and at least one attempt")
        try:
            memory_bytes(self.events_memory)
        except ValueError as exc:
            raise ConfigError(f"events memory: {exc}") from None
        try:
            parse_events_url(self.events_url)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if not 0 < self.port < 65536:
            raise ConfigError(f"port out of range: {self.port}")
        unknown = set(self.rate_limits) - set(DEFAULT_RATE_LIMITS)
        if unknown:
            raise ConfigError(f"unknown rate-limit categories: {', '.join(sorted(unknown))}")
        merged = dict(DEFAULT_RATE_LIMITS)
        merged.update(self.rate_limits)
        object.__setattr__(self, "rate_limits", merged)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Build settings from ``HEDGEROW_*`` variables, then apply non-None ``overrides``."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        converters = {"port": int, "rate_limits_enabled": _truthy, "data_dir": Path,
                      "webhooks_allow_private": _truthy, "webhooks_retry_seconds": float,
                      "webhooks_max_attempts": int,
                      "trusted_proxies": lambda raw: tuple(raw.split(","))}  # fmt: skip
        for f in fields(cls):
            if f.name == "rate_limits":
                continue
            raw = env.get(f"HEDGEROW_{f.name.upper()}")
            if raw is not None:
                try:
                    values[f.name] = converters.get(f.name, str)(raw)
                except ValueError as exc:
                    raise ConfigError(f"HEDGEROW_{f.name.upper()}: {exc}") from exc
        limits = {
            category: env[f"HEDGEROW_RATE_LIMIT_{category.upper()}"]
            for category in DEFAULT_RATE_LIMITS
            if f"HEDGEROW_RATE_LIMIT_{category.upper()}" in env
        }
        if limits:
            values["rate_limits"] = limits
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> "Settings":
        """A copy with some settings changed (tests use this)."""
        return replace(self, **changes)
