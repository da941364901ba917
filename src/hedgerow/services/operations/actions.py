"""Actions: list, create, retrieve, update, soft delete (``/api/projects/:id/actions/``)."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from hedgerow import clock
from hedgerow.hogql.elements import selector_regex
from hedgerow.services.actions import STEP_FIELDS, ActionRecord
from hedgerow.services.catalogue import Catalogue, Context, Output, Tool
from hedgerow.services.operations.organizations import UserBasic, user_lookup

operations = Catalogue()

_MATCHING = {"type": ["string", "null"], "enum": ["exact", "contains", "regex", None]}
ACTION_CREATE_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "Name of the action (unique among the project's actions)"},
        "description": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "steps": {
            "type": "array",
            "description": "Steps, OR-ed: an event matches the action when it matches any step",
            "items": {
                "type": "object",
                "properties": {
                    "event": {"type": ["string", "null"], "description": "Event name, e.g. $pageview, $autocapture"},
                    "selector": {"type": ["string", "null"], "description": "CSS selector ($autocapture only)"},
                    "tag_name": {"type": ["string", "null"]},
                    "text": {"type": ["string", "null"]}, "text_matching": _MATCHING,
                    "href": {"type": ["string", "null"]}, "href_matching": _MATCHING,
                    "url": {"type": ["string", "null"]}, "url_matching": _MATCHING,
                    "properties": {"type": ["array", "null"], "items": {"type": "object"},
                                   "description": "Property filters: {key, value, operator, type}"},
                },
            },
        },
        "post_to_slack": {"type": "boolean"},
        "slack_message_format": {"type": "string"},
    },
}  # fmt: skip
"""PostHog's ``action-create`` arguments, typed for agents (the service checks them again)."""


class ActionStep(Output):
    """A step as PostHog's ``ActionStepJSONSerializer`` shows it, with the derived regex."""

    event: str | None
    properties: list[dict[str, Any]] | None
    selector: str | None
    selector_regex: str | None
    tag_name: str | None
    text: str | None
    text_matching: str | None
    href: str | None
    href_matching: str | None
    url: str | None
    url_matching: str | None

    @classmethod
    def of(cls, step: dict[str, Any]) -> "ActionStep":
        selector = step.get("selector")
        derived = (selector_regex(selector) or None) if selector else None
        return cls(selector_regex=derived, **{name: step.get(name) for name in STEP_FIELDS})


class Action(Output):
    """An action as PostHog's ``ActionSerializer`` shows it."""

    id: int | None
    name: str | None
    description: str
    tags: list[str]
    post_to_slack: bool
    slack_message_format: str
    steps: list[ActionStep]
    created_at: str | None
    created_by: UserBasic | None
    deleted: bool
    is_calculating: bool = False
    last_calculated_at: str | None
    team_id: int
    is_action: bool = True
    bytecode_error: None = None
    pinned_at: str | None
    creation_context: None = None
    user_access_level: str = "editor"

    @classmethod
    def of(cls, ctx: Context, action: ActionRecord, users: Any = None) -> "Action":
        users = users or user_lookup(ctx)
        return cls(
            id=action.id,
            name=action.name,
            description=action.description,
            tags=list(action.tags),
            post_to_slack=action.post_to_slack,
            slack_message_format=action.slack_message_format,
            steps=[ActionStep.of(step) for step in action.steps],
            created_at=clock.iso(action.created_at),
            created_by=UserBasic.of(users(action.created_by_id)),
            deleted=action.deleted,
            last_calculated_at=clock.iso(action.last_calculated_at),
            team_id=action.project_id,
            pinned_at=clock.iso(action.pinned_at) if action.pinned_at else None,
        )


class ActionPage(Output):
    """PostHog's action list: every action, unpaged."""

    results: list[Action]


class ActionList(BaseModel):
    """PostHog's action list takes no paging (it answers every action); ``search`` filters names."""

    model_config = ConfigDict(extra="ignore")
    search: str | None = Field(None, max_length=400)


class ActionFields(BaseModel):
    """The writable fields; checked by the action service in DRF's words."""

    model_config = ConfigDict(extra="ignore")
    name: Any = None
    description: Any = None
    tags: Any = None
    post_to_slack: Any = None
    slack_message_format: Any = None
    steps: Any = None
    deleted: Any = None
    pinned_at: Any = None

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class ActionId(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action_id: int = Field(validation_alias=AliasChoices("action_id", "id"), ge=1, lt=2**63)


class ActionUpdate(ActionFields, ActionId):
    pass


@operations.operation("action.list", "action:read", input=ActionList, output=ActionPage,
                      tool=Tool("actions-get-all", "Get all actions", read_only=True))  # fmt: skip
def list_actions(ctx: Context, args: ActionList) -> ActionPage:
    """The project's actions (not deleted), all of them: PostHog does not page this list."""
    assert ctx.project is not None
    rows = ctx.services.actions.search(ctx.project, args.search or None)
    users = user_lookup(ctx)
    return ActionPage(results=[Action.of(ctx, a, users) for a in rows])


@operations.operation("action.create", "action:write", output=Action, input=ActionFields,
                      tool=Tool("action-create", "Create action", read_only=False,
                                input_schema=ACTION_CREATE_SCHEMA))  # fmt: skip
def create_action(ctx: Context, args: ActionFields) -> Action:
    """A new action, created by the caller."""
    assert ctx.project is not None
    return Action.of(ctx, ctx.services.actions.create(ctx.project, ctx.user_id, args.given()))


@operations.operation("action.retrieve", "action:read", output=Action, input=ActionId,
                      tool=Tool("action-get", "Get action", read_only=True, input_schema={
                          "type": "object", "properties": {"id": {"type": "integer", "description": "The action's id"}},
                          "required": ["id"]}))  # fmt: skip
def retrieve_action(ctx: Context, args: ActionId) -> Action:
    """One action (a soft-deleted one too, as in PostHog)."""
    assert ctx.project is not None
    return Action.of(ctx, ctx.services.actions.get(ctx.project, args.action_id))


@operations.operation("action.update", "action:write", output=Action, input=ActionUpdate,
                      tool=Tool("action-update", "Update action", read_only=False, idempotent=True))  # fmt: skip
def update_action(ctx: Context, args: ActionUpdate) -> Action:
    """Change an action; ``deleted: true`` soft-deletes it."""
    assert ctx.project is not None
    changes = {k: v for k, v in args.given().items() if k != "action_id"}
    return Action.of(ctx, ctx.services.actions.update(ctx.project, args.action_id, changes))


@operations.operation("action.delete", "action:write", output=Action, input=ActionId,
                      tool=Tool("action-delete", "Delete action", read_only=False, destructive=True))  # fmt: skip
def delete_action(ctx: Context, args: ActionId) -> Action:
    """Soft-delete an action (``deleted: true``), as PostHog's delete tool does."""
    assert ctx.project is not None
    return Action.of(ctx, ctx.services.actions.update(ctx.project, args.action_id, {"deleted": True}))


operations.soft_delete_only("action.destroy", "action:write", input=ActionId)
