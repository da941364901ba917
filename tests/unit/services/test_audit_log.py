"""The audit log's group commit: callers write their own entries (no writer thread), entries of
concurrent calls share transactions, and still every call returns only once its entry is
committed, in one unbroken hash chain — also when two processes write to the same file."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from hedgerow.auth.audit import AuditLog
from hedgerow.auth.authorize import Decision, Target
from hedgerow.auth.scopes import Scope
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.tables import audit_log

THREADS = 8
CALLS = 40


def decision(n: int) -> Decision:
    target = Target(method="POST", path=f"/api/projects/1/query/{n}", scope=Scope("query", "read"), project_id=1)
    return Decision(True, "the key has query:read", target, None, None)


@pytest.fixture
def db(tmp_path):
    meta = MetaDB(f"sqlite:///{tmp_path / 'meta.sqlite3'}")
    meta.migrate()
    yield meta
    meta.engine.dispose()


def paths(db: MetaDB) -> list[str]:
    with db.read() as conn:
        return [row.path for row in conn.execute(sa.select(audit_log.c.path).order_by(audit_log.c.id))]


def test_each_call_returns_after_its_entry_is_committed(db) -> None:
    log = AuditLog(db)
    for n in range(3):
        log.record(decision(n), 200)
        assert paths(db)[-1] == f"/api/projects/1/query/{n}"  # visible to another connection at once


def test_concurrent_calls_from_two_processes_leave_one_row_each_in_one_chain(db, tmp_path) -> None:
    other_db = MetaDB(f"sqlite:///{tmp_path / 'meta.sqlite3'}")  # a second server on the same file
    logs = [AuditLog(db), AuditLog(other_db)]
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def calls(worker: int) -> None:
        start.wait()
        for n in range(CALLS):
            try:
                logs[worker % 2].record(decision(worker * 1000 + n), 200)
            except BaseException as error:  # noqa: BLE001 - reported by the assertion below
                failures.append(error)

    threads = [threading.Thread(target=calls, args=(w,)) for w in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert not any(thread.is_alive() for thread in threads)
    expected = {f"/api/projects/1/query/{w * 1000 + n}" for w in range(THREADS) for n in range(CALLS)}
    written = paths(db)
    assert len(written) == THREADS * CALLS and set(written) == expected
    assert logs[0].verify().ok
    other_db.engine.dispose()


def test_a_failed_write_reaches_its_caller_and_later_calls_still_write(db) -> None:
    log = AuditLog(db)
    with db.write() as conn:
        conn.execute(sa.text("CREATE TRIGGER refuse BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'no'); END"))
    with pytest.raises(Exception):
        log.record(decision(1), 200)
    with db.write() as conn:
        conn.execute(sa.text("DROP TRIGGER refuse"))
    log.record(decision(2), 200)
    assert paths(db) == ["/api/projects/1/query/2"]
    assert log.verify().ok
