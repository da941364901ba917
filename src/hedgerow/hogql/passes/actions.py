"""``matchesAction(id | 'name')`` becomes the action's condition over the events in scope.

The action is looked up among the compiling project's actions only (the context holds no
other), so another project's action id is "not found". The condition is PostHog's (see
:mod:`hedgerow.hogql.actions`), over the events table of the enclosing SELECT (by its alias
when it has one), and then compiled like the rest of the query: typed, null-safe, team-guarded.
"""

from __future__ import annotations

from sqlglot import exp

from hedgerow.hogql.actions import ActionDefinition, action_condition
from hedgerow.hogql.compilation import Compilation
from hedgerow.hogql.errors import HogQLError
from hedgerow.hogql.parse import span_of

NAME = "matchesAction"


def _fail(message: str, node: exp.Expression) -> HogQLError:
    start, end = span_of(node)
    return HogQLError(message, start=start, end=end)


def _action(call: exp.Anonymous, c: Compilation) -> ActionDefinition:
    if len(call.expressions) != 1:
        raise _fail("matchesAction() takes exactly one string or integer argument", call)
    arg = call.expressions[0]
    if not isinstance(arg, exp.Literal):
        raise _fail("action() takes only constant arguments", arg)
    actions = c.ctx.actions
    if not arg.is_string:
        try:
            action_id = int(float(arg.name))
        except (ValueError, OverflowError):
            raise _fail("action() takes exactly one string or integer argument", arg) from None
        found = actions.get(action_id)
        if found is None:
            raise _fail(f"Could not find an action with ID {arg.name}", arg)
        return found
    named = [a for a in actions.values() if a.name == arg.name]
    if len(named) > 1:
        raise _fail(f"Found multiple actions with name '{arg.name}'", arg)
    if not named:
        raise _fail(f"Could not find an action with the name '{arg.name}'", arg)
    return named[0]


def _events_alias(call: exp.Expression) -> str | None:
    """The alias of the enclosing SELECT's ``events`` table, when it is aliased."""
    select = call.find_ancestor(exp.Select)
    source = select.args.get("from_") or select.args.get("from") if select is not None else None
    table = source.this if source is not None else None
    if isinstance(table, exp.Table) and table.name == "events" and table.alias and table.alias != "events":
        return table.alias
    return None


MAX_DEPTH = 8
"""How deep actions may refer to actions (a HogQL step filter calling ``matchesAction``)."""


def run(c: Compilation) -> None:
    for _ in range(MAX_DEPTH + 1):
        calls = [call for call in c.tree.find_all(exp.Anonymous) if call.name == NAME]
        if not calls:
            return
        c.actions_used = True
        for call in calls:
            action = _action(call, c)
            condition = action_condition(action, _events_alias(call), c.ctx.timezone)
            call.replace(exp.Paren(this=condition))
    raise HogQLError(f"Actions refer to actions more than {MAX_DEPTH} levels deep (or to themselves)")
