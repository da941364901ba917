"""Random queries over a grammar of tables, joins, subqueries, unions and predicates never
return another team's rows."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Each table with an expression that reveals a row's team (team 2 rows say "team2"/"9999...").
TABLES = {
    "events": "concat(toString(properties), toString(person_id), toString(person.properties))",
    "persons": "concat(toString(properties), toString(id))",
    "person_distinct_ids": "toString(person_id)",
    "groups": "toString(properties)",
    "cohort_people": "toString(person_id)",
    "static_cohort_people": "toString(person_id)",
    "sessions": "concat(toString(session_id), toString(distinct_id))",
}
PREDICATES = ["1 = 1", "1 = 1 OR 1 = 1", "true", "NOT (1 = 2)", "1 != 2 OR 'a' = 'a'", "2 > 1"]
JOINS = ["JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL OUTER JOIN", "INNER JOIN"]


@st.composite
def queries(draw, depth: int = 0, branch: bool = False) -> str:
    """A valid query; ``branch``: it is an arm of a UNION (where a WITH may not start)."""
    kinds = ["plain", "join", "sub", "union", "in"] + ([] if branch else ["cte"])
    kind = draw(st.sampled_from(kinds if depth < 2 else ["plain"]))
    table = draw(st.sampled_from(sorted(TABLES)))
    reveal = TABLES[table]
    pred = draw(st.sampled_from(PREDICATES))
    if kind == "plain":
        return f"SELECT {reveal} AS r FROM {table} AS t WHERE {pred}"
    if kind == "join":
        other = draw(st.sampled_from(sorted(TABLES)))
        join = draw(st.sampled_from(JOINS))
        return (
            f"SELECT concat(toString(a.r), toString(b.r)) AS r FROM "
            f"({draw(queries(depth + 1))}) AS a {join} (SELECT {TABLES[other]} AS r FROM {other}) AS b "
            f"ON a.r = b.r OR 1 = 1"
        ).replace("ON a.r = b.r OR 1 = 1", "ON 1 = 1")
    if kind == "sub":
        return f"SELECT r FROM ({draw(queries(depth + 1))}) AS s WHERE {pred}"
    if kind == "union":
        return f"SELECT r FROM ({draw(queries(depth + 1, True))} UNION ALL {draw(queries(depth + 1, True))}) AS u"
    if kind == "cte":
        return f"WITH c AS ({draw(queries(depth + 1))}) SELECT r FROM c WHERE {pred}"
    return f"SELECT {reveal} AS r FROM {table} WHERE toString({reveal}) IN (SELECT r FROM ({draw(queries(depth + 1))}) AS i) OR {pred}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries())
def test_random_queries_stay_in_team(query, run_on):
    """The grammar only builds valid queries: a compile refusal is a failure, not a pass."""
    run = run_on
    compiled, result = run(query)
    text = repr(result.results)
    assert "team2" not in text and "99999999" not in text, (query, compiled.sql)
