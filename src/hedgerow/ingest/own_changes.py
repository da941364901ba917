"""Scale-out mode: the change feed numbers this process wrote itself, so its replica skips them.

A process commits its own identity changes to its events store as it admits them; reading
them back from the shared feed would write the same rows again. The numbers are remembered
with the pipeline's *generation*: when a commit fails, every submission of that generation
fails with it, so their changes never reached the events store and the replica must read
them after all (:meth:`OwnChanges.failed`). Bounded: past :data:`MAX_NUMBERS` the oldest are
forgotten, which only costs a harmless re-read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

MAX_NUMBERS = 200_000


class OwnChanges:
    """Feed numbers written by this process and committed (or queued) to its events store."""

    def __init__(self, max_numbers: int = MAX_NUMBERS) -> None:
        self._numbers: dict[int, int] = {}
        """number -> generation of the submission that carries it (insertion = feed order)."""
        self._failed_generation = -1
        self._max = max_numbers
        self._lock = threading.Lock()

    def add(self, numbers: Iterable[int], generation: int) -> None:
        """Remember ``numbers``, submitted to the writer in ``generation``."""
        with self._lock:
            if generation <= self._failed_generation:
                return  # its submission fails: the replica must read these changes
            for n in numbers:
                self._numbers[n] = generation
            while len(self._numbers) > self._max:
                del self._numbers[next(iter(self._numbers))]

    def failed(self, generation: int) -> None:
        """A commit of ``generation`` failed: it and every earlier submission are lost."""
        with self._lock:
            self._failed_generation = max(self._failed_generation, generation)
            self._numbers = {n: g for n, g in self._numbers.items() if g > generation}

    def forget_through(self, number: int) -> None:
        """The replica has applied the feed through ``number``: drop those at or below it."""
        with self._lock:
            self._numbers = {n: g for n, g in self._numbers.items() if n > number}

    def __contains__(self, number: object) -> bool:
        return number in self._numbers

    def __len__(self) -> int:
        return len(self._numbers)
