"""Who is calling: a personal API key and the user it belongs to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a personal API key (and its user), or a project's secret key.

    ``scoped_teams``/``scoped_organizations`` are ``None`` when the key is not limited;
    ``memberships`` maps the user's organization ids to membership levels.
    """

    key_id: str
    key_label: str
    user_id: int | None
    scopes: tuple[str, ...]
    scoped_teams: tuple[int, ...] | None
    scoped_organizations: tuple[str, ...] | None
    memberships: dict[str, int]
    current_project_id: int | None = None
    kind: str = "personal_api_key"

    @property
    def organization_ids(self) -> list[str]:
        """Organizations the key may reach: the user's, narrowed by the key's limits."""
        orgs = list(self.memberships)
        if self.scoped_organizations:
            orgs = [org for org in orgs if org in self.scoped_organizations]
        return orgs
