"""The actions service's per-project snapshot: read again only when the project's actions
changed, whichever process changed them (two services on two engines over one SQLite file
stand for two server processes), and bounded in the number of projects it keeps."""

from __future__ import annotations

import datetime as dt

import pytest

from hedgerow import clock
from hedgerow.services import actions as actions_module
from hedgerow.services.actions import ActionService
from hedgerow.services.tenancy import ProjectService
from hedgerow.store.meta.db import MetaDB

NOW = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def two(tmp_path):
    """(this process's service, another process's service, a project) on one database."""
    url = f"sqlite:///{tmp_path / 'meta.sqlite3'}"
    here_db, there_db = MetaDB(url), MetaDB(url)
    here_db.migrate()
    project = ProjectService(here_db).bootstrap().project
    yield ActionService(here_db), ActionService(there_db), project
    here_db.engine.dispose()
    there_db.engine.dispose()


def steps_of(service: ActionService, project_id: int, action_id: int) -> list[str]:
    return [step["event"] for step in service.snapshot(project_id).definitions[action_id].steps]


def test_an_unchanged_project_is_not_read_again(two) -> None:
    here, there, project = two
    there.create(project, None, {"name": "Bought", "steps": [{"event": "purchase"}]})
    first = here.snapshot(project.id)
    assert here.snapshot(project.id) is first
    assert [a.name for a in first.definitions.values()] == ["Bought"]


def test_another_process_s_change_is_seen_by_the_next_read(two) -> None:
    here, there, project = two
    made = there.create(project, None, {"name": "Bought", "steps": [{"event": "purchase"}]})
    assert steps_of(here, project.id, made.id) == ["purchase"]
    there.update(project, made.id, {"steps": [{"event": "checkout"}]})
    assert steps_of(here, project.id, made.id) == ["checkout"]
    there.update(project, made.id, {"name": "Checked out"})
    assert here.name(project.id, made.id) == "Checked out"
    there.create(project, None, {"name": "Viewed", "steps": [{"event": "$pageview"}]})
    assert sorted(a.name for a in here.snapshot(project.id).definitions.values()) == ["Checked out", "Viewed"]


def test_changes_within_one_clock_tick_are_still_seen(two, monkeypatch) -> None:
    """The version is (count, latest change): writes stamp a change later than every stored
    one, so a stopped (or skewed) clock cannot hide a change."""
    here, there, project = two
    monkeypatch.setattr(clock, "now", lambda: NOW)
    made = there.create(project, None, {"name": "Bought", "steps": [{"event": "purchase"}]})
    for event in ("checkout", "refund", "purchase"):
        before = here.snapshot(project.id)
        there.update(project, made.id, {"steps": [{"event": event}]})
        assert here.snapshot(project.id) is not before
        assert steps_of(here, project.id, made.id) == [event]


def test_this_process_s_change_drops_its_snapshot(two) -> None:
    here, _, project = two
    made = here.create(project, None, {"name": "Bought", "steps": [{"event": "purchase"}]})
    before = here.snapshot(project.id)
    here.update(project, made.id, {"steps": [{"event": "checkout"}]})
    assert here.snapshot(project.id) is not before and steps_of(here, project.id, made.id) == ["checkout"]


def test_the_snapshots_are_bounded(two, monkeypatch) -> None:
    """Only the most recently read projects are kept: the least recently read one is dropped."""
    here, _, project = two
    monkeypatch.setattr(actions_module, "MAX_SNAPSHOTS", 2)
    first = here.snapshot(project.id)
    here.snapshot(1002)
    third = here.snapshot(1003)  # the first project was the least recently read: dropped
    assert here.snapshot(project.id) is not first  # read again (and 1002 dropped in its turn)
    assert here.snapshot(1003) is third
