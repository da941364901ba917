"""Exactly-once by event uuid: an event uuid is stored once per team, however often it is sent.

Two layers, so the hot path never queries the store:

* **recent** events are remembered exactly: Python sets of ``team << 128 | uuid`` for the last
  ``recent_limit`` admitted events (two generations). A hit is a certain duplicate; retries
  almost always land here.
* **older** events are remembered as 64-bit fingerprints of (team, uuid) in sorted numpy
  arrays (8 bytes per event: 80 MB for 10M events), checked a request at a time with one
  vectorised ``searchsorted``. A hit there is only *probably* a duplicate (a false hit has a
  chance of about n / 2^64), so such events are marked ``maybe`` and the writer confirms them
  against the store inside the commit transaction, which keeps the guarantee exact.

On start the fingerprints of every stored event are loaded (one column scan). When a commit
fails, the writer calls :meth:`forget` for its events so a retry is not taken for a duplicate.
"""

from __future__ import annotations

import threading

import numpy as np

_MASK = (1 << 64) - 1
_K1 = 0x9E3779B97F4A7C15
_K2 = 0xC2B2AE3D27D4EB4F

NEW = 0
DUPLICATE = 1
MAYBE = 2


def fingerprint(team_id: int, uuid_int: int) -> int:
    """64-bit mix of the team and both halves of the uuid."""
    return (((uuid_int >> 64) * _K1) ^ (uuid_int & _MASK) ^ (team_id * _K2)) & _MASK


def fingerprints(team_ids: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """:func:`fingerprint` over arrays (uint64 arithmetic wraps like ``& _MASK``)."""
    with np.errstate(over="ignore"):
        return (hi.astype(np.uint64) * np.uint64(_K1)) ^ lo.astype(np.uint64) ^ (
            team_ids.astype(np.uint64) * np.uint64(_K2)
        )


class Deduplicator:
    """Remembers admitted event uuids per team (see the module docstring)."""

    def __init__(self, recent_limit: int = 1_000_000, max_runs: int = 8) -> None:
        self.recent_limit = max(2, recent_limit)
        self.max_runs = max_runs
        self._current: set[int] = set()
        self._previous: set[int] = set()
        self._runs: list[np.ndarray] = []
        self._lock = threading.Lock()
        self._merging = False

    def load(self, team_ids: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> None:
        """Remember stored events (columns of team id and uuid high/low 64 bits)."""
        if len(team_ids):
            run = np.sort(fingerprints(team_ids, hi, lo))
            with self._lock:
                self._runs.append(run)

    def check(self, team_id: int, uuid_ints: list[int]) -> list[int]:
        """Classify a request's uuids as NEW, DUPLICATE or MAYBE, and remember the new ones.

        Duplicates inside ``uuid_ints`` itself are DUPLICATE from their second occurrence.
        """
        base = team_id << 128
        current, previous = self._current, self._previous
        out = [NEW] * len(uuid_ints)
        unknown: list[int] = []
        for i, n in enumerate(uuid_ints):
            key = base | n
            if key in current or key in previous:
                out[i] = DUPLICATE
            else:
                current.add(key)
                unknown.append(i)
        runs = self._runs
        if runs and unknown:
            fps = np.fromiter(
                (fingerprint(team_id, uuid_ints[i]) for i in unknown), np.uint64, len(unknown)
            )
            hit = np.zeros(len(unknown), dtype=bool)
            for run in runs:
                pos = np.searchsorted(run, fps)
                pos[pos == len(run)] = 0
                hit |= run[pos] == fps
            for j in np.flatnonzero(hit):
                out[unknown[j]] = MAYBE
        if len(current) >= self.recent_limit // 2:
            self._rotate()
        return out

    def forget(self, team_id: int, uuid_ints: list[int]) -> None:
        """Un-remember uuids whose commit failed."""
        base = team_id << 128
        for n in uuid_ints:
            self._current.discard(base | n)
            self._previous.discard(base | n)

    def _rotate(self) -> None:
        old = self._previous
        self._previous = self._current
        self._current = set()
        if not old:
            return
        mask = (1 << 128) - 1
        fps = np.fromiter(
            (fingerprint(k >> 128, k & mask) for k in old), np.uint64, len(old)
        )
        fps.sort()
        with self._lock:
            self._runs.append(fps)
            merge = len(self._runs) > self.max_runs and not self._merging
            if merge:
                self._merging = True
                snapshot = list(self._runs)
        if merge:
            threading.Thread(target=self._merge, args=(snapshot,), daemon=True).start()

    def _merge(self, snapshot: list[np.ndarray]) -> None:
        merged = np.sort(np.concatenate(snapshot))  # numpy releases the GIL while sorting
        with self._lock:
            self._runs = [merged] + self._runs[len(snapshot):]
            self._merging = False

    def __len__(self) -> int:
        return len(self._current) + len(self._previous) + sum(len(r) for r in self._runs)
