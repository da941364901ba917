"""Trends formulas: ``A + B * 2`` over series results, element by element.

A small arithmetic language parsed with Python's ``ast`` and evaluated by walking only the
allowed nodes (numbers, series letters, ``+ - * / %``, unary minus, parentheses), so a
formula can never reach anything else. Division by zero gives 0, as in PostHog.
"""

from __future__ import annotations

import ast
import operator
from typing import Callable, Sequence

from hedgerow.errors import ValidationError

_BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Mod: operator.mod,
}  # fmt: skip
MAX_LENGTH = 500


def parse(formula: str) -> ast.expr:
    """The checked tree of ``formula`` (400 on anything but arithmetic over series letters)."""
    if len(formula) > MAX_LENGTH:
        raise ValidationError("The formula is too long", attr="formula")
    try:
        tree = ast.parse(formula.strip().upper(), mode="eval").body
    except SyntaxError:
        raise ValidationError(f"Invalid formula '{formula}'", attr="formula") from None
    for node in ast.walk(tree):
        allowed = isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load, *_BINARY,
                                    ast.USub, ast.UAdd))
        if not allowed or (isinstance(node, ast.Name) and not (len(node.id) == 1 and node.id.isalpha())) or (
            isinstance(node, ast.Constant) and not isinstance(node.value, (int, float))
        ):
            raise ValidationError(f"Invalid formula '{formula}'", attr="formula")
    return tree


def _evaluate(node: ast.expr, values: dict[str, float]) -> float:
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return values.get(node.id, 0.0)
    if isinstance(node, ast.UnaryOp):
        inner = _evaluate(node.operand, values)
        return -inner if isinstance(node.op, ast.USub) else inner
    assert isinstance(node, ast.BinOp)
    left, right = _evaluate(node.left, values), _evaluate(node.right, values)
    try:
        return _BINARY[type(node.op)](left, right)
    except ZeroDivisionError:
        return 0.0


def apply(tree: ast.expr, series: Sequence[Sequence[float]]) -> list[float]:
    """The formula at each index over ``series`` (A = series[0], ...; missing values are 0)."""
    length = max((len(s) for s in series), default=0)
    out = []
    for i in range(length):
        values = {chr(ord("A") + n): float(s[i]) if i < len(s) else 0.0 for n, s in enumerate(series)}
        out.append(_evaluate(tree, values))
    return out
