"""Keeping the cyclic garbage collector off a big request's objects while it is processed.

A 16 MB ``/batch/`` holds ~300k parsed events alive for a few seconds; every full collection
meanwhile walks all of them with the GIL held (measured: 150-200 ms stalls of the event loop,
against 20-50 ms with the collector paused). Parsed JSON holds no reference cycles, so
reference counting frees it all the same; the collector is paused only while at least one big
request is in flight (they are few at a time: see ``DECODE_WORKERS``) and resumed after.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_paused_by_us = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause automatic collection for the block (nested and concurrent uses share one pause;
    a collector someone else disabled stays disabled)."""
    global _holders, _paused_by_us
    with _lock:
        if _holders == 0 and gc.isenabled():
            gc.disable()
            _paused_by_us = True
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _paused_by_us:
                _paused_by_us = False
                gc.enable()
