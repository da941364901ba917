"""Who is calling: a personal API key and the user it belongs to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Agent:
    """What a principal is when its key belongs to an agent."""

    name: str
    owner_email: str
    access: dict[str, str]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a personal API key (and its user; an agent's key carries its
    :class:`Agent`), a project's secret key, or the operator at the command line.

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
    agent: Agent | None = None

    @property
    def is_operator(self) -> bool:
        return self.kind == "operator"

    @property
    def organization_ids(self) -> list[str]:
        """Organizations the key may reach: the user's, narrowed by the key's limits."""
        orgs = list(self.memberships)
        if self.scoped_organizations:
            orgs = [org for org in orgs if org in self.scoped_organizations]
        return orgs
