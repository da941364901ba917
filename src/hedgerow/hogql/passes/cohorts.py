"""``x IN COHORT <id | 'name'>`` becomes a membership subquery over both cohort tables."""

from __future__ import annotations

from sqlglot import exp

from hedgerow.hogql.compilation import Compilation
from hedgerow.hogql.dialect import InCohort
from hedgerow.hogql.errors import HogQLError
from hedgerow.hogql.parse import span_of
from hedgerow.ids import parse_id


def _cohort_id(node: InCohort, c: Compilation) -> int:
    target = node.expression
    if isinstance(target, exp.Literal) and not target.is_string and parse_id(target.name) is not None:
        return int(target.name)
    if isinstance(target, exp.Literal) and target.is_string:
        cohort = c.ctx.cohort_lookup.get(target.name)
        if cohort is not None:
            return int(cohort)
        start, end = span_of(target)
        raise HogQLError(f"Could not find a cohort with the name '{target.name}'", start=start, end=end)
    start, end = span_of(node)
    raise HogQLError("IN COHORT needs a cohort id or a quoted cohort name", start=start, end=end)


def _members(table: str, cohort_id: int) -> exp.Select:
    return (
        exp.select(exp.column("person_id"))
        .from_(exp.to_table(table))
        .where(exp.EQ(this=exp.column("cohort_id"), expression=exp.Literal.number(cohort_id)))
    )


def run(c: Compilation) -> None:
    for node in list(c.tree.find_all(InCohort)):
        cohort_id = _cohort_id(node, c)
        members = exp.union(
            _members("cohort_people", cohort_id), _members("static_cohort_people", cohort_id),
            distinct=False,
        )
        test: exp.Expression = exp.In(this=node.this, query=exp.Subquery(this=members))
        if node.args.get("negated"):
            test = exp.Not(this=test)
        node.replace(test)
