"""Bucketing hash shared by rollouts, variants and holdouts.

PostHog hashes ``sha1(prefix + identifier + salt)``, takes the first 15 hex digits
(60 bits) and divides by ``0xFFFFFFFFFFFFFFF`` to get a float in [0, 1]. Taking the
first 8 digest bytes and shifting right by 4 bits is the same 60-bit number.
"""

from __future__ import annotations

from hashlib import sha1

LONG_SCALE = float(0xFFFFFFFFFFFFFFF)


def hash(prefix: str, identifier: str, salt: str = "") -> float:  # noqa: A001 - PostHog's name
    """Return the bucketing value of ``prefix + identifier + salt`` in [0, 1].

    Rollouts use ``prefix = f"{flag_key}."`` with ``salt = ""``, variants the same prefix
    with ``salt = "variant"``, and holdouts ``prefix = "holdout-"``.
    """
    digest = sha1(f"{prefix}{identifier}{salt}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> 4) / LONG_SCALE


def bucket(prefix: str, identifier: str, salt: str = "") -> float:
    """Like :func:`hash` but with the server's quirk: an empty identifier gives 0.0.

    The server cannot bucket without an identifier and returns 0.0 without hashing,
    which falls inside every rollout (``0.0 <= pct/100``) and picks the first variant
    with a non-zero share. Holdouts do not apply this quirk; they call :func:`hash`.
    """
    if not identifier:
        return 0.0
    return hash(prefix, identifier, salt)
