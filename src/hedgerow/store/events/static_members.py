"""Adding to and removing from a static cohort, for any store that can read and replace members."""

from __future__ import annotations


class StaticMembers:
    """Mixin: static cohort edits as read-modify-replace of the whole member list."""

    def cohort_members(self, team_id: int, cohort_id: int, *, static: bool) -> list[str]:
        raise NotImplementedError

    def replace_cohort_members(self, team_id: int, cohort_id: int, person_uuids: list[str], *,
                               static: bool, version: int = 0) -> None:  # fmt: skip
        raise NotImplementedError

    def add_static_members(self, team_id: int, cohort_id: int, person_uuids: list[str]) -> None:
        current = set(self.cohort_members(team_id, cohort_id, static=True))
        self.replace_cohort_members(team_id, cohort_id, sorted(current | set(person_uuids)), static=True)

    def remove_static_member(self, team_id: int, cohort_id: int, person_uuid: str) -> None:
        current = set(self.cohort_members(team_id, cohort_id, static=True))
        current.discard(person_uuid)
        self.replace_cohort_members(team_id, cohort_id, sorted(current), static=True)
