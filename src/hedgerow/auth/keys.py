"""Secrets: personal API keys and project tokens. Generated here, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets

PERSONAL_KEY_PREFIX = "phx_"
PROJECT_TOKEN_PREFIX = "phc_"
PROJECT_SECRET_PREFIX = "phs_"


def _token(prefix: str, nbytes: int = 32) -> str:
    return prefix + secrets.token_urlsafe(nbytes).replace("-", "").replace("_", "")[:43]


def new_personal_key() -> str:
    """A fresh personal API key value (shown to its owner once, never stored)."""
    return _token(PERSONAL_KEY_PREFIX)


def new_project_token() -> str:
    """A project's public ingestion token (not a secret: it ships inside web pages)."""
    return _token(PROJECT_TOKEN_PREFIX)


def new_project_secret() -> str:
    """A project's secret token, accepted for local-evaluation flag definitions."""
    return _token(PROJECT_SECRET_PREFIX)


def hash_key(value: str) -> str:
    """The stored form of a key: ``sha256$<hex>`` (PostHog's format)."""
    return "sha256$" + hashlib.sha256(value.encode("utf-8")).hexdigest()


def mask_key(value: str) -> str:
    """What lists show of a key: its first and last four characters."""
    return f"{value[:4]}...{value[-4:]}"
