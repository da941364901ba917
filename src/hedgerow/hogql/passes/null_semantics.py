"""HogQL's comparison semantics over NULL (spec §3.4): comparisons never yield NULL.

``a = b`` / ``<`` / ``LIKE`` / ``=~`` with a Nullable side become false on NULL; ``!=``,
``NOT LIKE``, ``NOT IN``, ``!~`` become true; ``x = NULL`` / ``x != NULL`` test nullness.
Comparison functions (``notLike(a, b)``, ``equals(a, b)``...) are their operators first.
Positive comparisons directly in a WHERE/HAVING/ON conjunction are left bare: there a NULL
already filters the row out, and bare predicates keep the engine's pruning.
"""

from __future__ import annotations

from sqlglot import exp

from hedgerow.hogql.compilation import Compilation
from hedgerow.hogql.dialect import RegexMatch
from hedgerow.hogql.functions.registry import lookup
from hedgerow.hogql.functions.spec import ENGINE_CALL
from hedgerow.hogql.nodes import type_of, typed
from hedgerow.hogql.types import UINT8

POSITIVE = (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.ILike)
NEGATED_INNER = (exp.Like, exp.ILike, exp.In, RegexMatch)


def _nullable(node: exp.Expression) -> bool:
    hog_type = type_of(node)
    return hog_type.nullable


def _operands(node: exp.Expression) -> list[exp.Expression]:
    operands = [node.this]
    if node.args.get("expression") is not None:
        operands.append(node.expression)
    operands += list(node.args.get("expressions") or [])
    return operands


def _in_filter_position(node: exp.Expression) -> bool:
    parent = node.parent
    while isinstance(parent, (exp.And, exp.Paren)):
        parent = parent.parent
    return isinstance(parent, (exp.Where, exp.Having)) or (
        isinstance(parent, exp.Join) and node.arg_key != "this"
    )


def _wrap(node: exp.Expression, default: bool) -> exp.Expression:
    wrapped = exp.Coalesce(this=node.copy(), expressions=[exp.Boolean(this=default)])
    return typed(exp.Paren(this=wrapped), UINT8)


def _is_null_test(node: exp.Expression, negate: bool) -> exp.Expression | None:
    for side, other in ((node.this, node.expression), (node.expression, node.this)):
        if isinstance(other, exp.Null):
            test: exp.Expression = exp.Is(this=side, expression=exp.Null())
            return typed(exp.Not(this=test) if negate else test, UINT8)
    return None


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, (exp.EQ, exp.NEQ)):
        test = _is_null_test(node, isinstance(node, exp.NEQ))
        if test is not None:
            return test
    if isinstance(node, exp.NEQ) and any(_nullable(o) for o in _operands(node)):
        return _wrap(node, True)
    if isinstance(node, RegexMatch) and any(_nullable(o) for o in _operands(node)):
        negated = bool(node.args.get("negated"))
        if negated or not _in_filter_position(node):
            return _wrap(node, negated)
        return node
    if isinstance(node, (exp.Like, exp.ILike)) and node.args.get("negate"):  # NOT LIKE
        if any(_nullable(o) for o in _operands(node)):
            return _wrap(node, True)
        return node
    if isinstance(node, exp.Not) and isinstance(node.this, NEGATED_INNER):
        inner = node.this
        operands = [inner.this] if isinstance(inner, exp.In) else _operands(inner)
        if any(_nullable(o) for o in operands):
            return _wrap(node, True)
        return node
    if isinstance(node, POSITIVE) and any(_nullable(o) for o in _operands(node)):
        if not _in_filter_position(node):
            return _wrap(node, False)
    return node


COMPARISON_FUNCTIONS: dict[str, tuple[type[exp.Expression], bool]] = {
    "equals": (exp.EQ, False), "notEquals": (exp.NEQ, False), "less": (exp.LT, False),
    "greater": (exp.GT, False), "lessOrEquals": (exp.LTE, False),
    "greaterOrEquals": (exp.GTE, False), "like": (exp.Like, False), "ilike": (exp.ILike, False),
    "notLike": (exp.Like, True), "notILike": (exp.ILike, True), "in": (exp.In, False),
    "notIn": (exp.In, True),
}  # fmt: skip
"""Comparison functions that are their operators, null semantics included (as in PostHog)."""


def _as_operator(node: exp.Anonymous) -> exp.Expression | None:
    if node.meta.get(ENGINE_CALL):
        return None
    spec = lookup(node.name)
    entry = COMPARISON_FUNCTIONS.get(spec.name) if spec is not None else None
    if entry is None or len(node.expressions) != 2:
        return None
    cls, negate = entry
    left, right = node.expressions
    if cls is exp.In:
        operator: exp.Expression = _in(left, right)
        return typed(exp.Not(this=operator) if negate else operator, UINT8)
    operator = cls(this=left, expression=right)
    if negate:
        operator.set("negate", True)
    return typed(operator, UINT8)


def _in(left: exp.Expression, right: exp.Expression) -> exp.Expression:
    if isinstance(right, exp.Subquery):
        return typed(exp.In(this=left, query=right), UINT8)
    values = right.expressions if isinstance(right, (exp.Array, exp.Tuple)) else [right]
    return typed(exp.In(this=left, expressions=list(values)), UINT8)


def run(c: Compilation) -> None:
    for call in list(c.tree.find_all(exp.Anonymous)):
        operator = _as_operator(call)
        if operator is not None:
            if call is c.tree:
                c.tree = operator
            else:
                call.replace(operator)
    targets = (exp.EQ, exp.NEQ, exp.Not, RegexMatch, *POSITIVE)
    for node in reversed(list(c.tree.walk(bfs=False))):
        if not isinstance(node, targets):
            continue
        if isinstance(node.parent, exp.Not) and isinstance(node, NEGATED_INNER):
            continue
        replacement = _rewrite(node)
        if replacement is not node:
            node.replace(replacement)
