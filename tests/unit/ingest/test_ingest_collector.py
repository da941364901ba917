"""The collector pause big requests share: nested and concurrent uses, and someone else's
disabled collector left alone."""

from __future__ import annotations

import gc

from hedgerow.ingest.collector import collector_paused


def test_nested_pauses_resume_once_and_a_disabled_collector_stays_disabled():
    was = gc.isenabled()
    gc.enable()
    try:
        with collector_paused():
            assert not gc.isenabled()
            with collector_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()  # the outer pause still holds
        assert gc.isenabled()
        gc.disable()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable() if was else gc.disable()
