"""The bucketing hash: worked vectors and the empty-identifier quirk."""

from __future__ import annotations

import hashlib

import pytest

from hedgerow.flags import hashing

VECTORS = [
    # (prefix, identifier, salt, expected) checked against plain hashlib in the reference notes
    ("simple-flag.", "distinct_id_0", "", 0.78370),
    ("simple-flag.", "distinct_id_1", "", 0.33971),
    ("multivariate-flag.", "distinct_id_0", "", 0.50204),
    ("multivariate-flag.", "distinct_id_0", "variant", 0.61865),
    ("holdout-", "user-1", "", 0.17806),
]


@pytest.mark.parametrize(("prefix", "identifier", "salt", "expected"), VECTORS)
def test_worked_vectors(prefix: str, identifier: str, salt: str, expected: float) -> None:
    assert hashing.hash(prefix, identifier, salt) == pytest.approx(expected, abs=5e-6)


@pytest.mark.parametrize("identifier", ["a", "user@example.com", "ünïcødé", "x" * 300])
def test_same_as_fifteen_hex_digits(identifier: str) -> None:
    digest = hashlib.sha1(f"flag.{identifier}".encode()).hexdigest()
    assert hashing.hash("flag.", identifier) == int(digest[:15], 16) / 0xFFFFFFFFFFFFFFF


def test_empty_identifier_is_zero_for_buckets_only() -> None:
    assert hashing.bucket("flag.", "") == 0.0
    assert hashing.bucket("flag.", "", "variant") == 0.0
    assert hashing.hash("holdout-", "") > 0.0  # holdouts hash "holdout-" as usual
