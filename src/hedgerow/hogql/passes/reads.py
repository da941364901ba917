"""What the query reads, decided from the resolved tree: its tables and person fields.

Kinds of data a principal may be refused: ``persons`` (the persons and distinct-id tables,
person properties read through events), ``cohorts`` (cohort membership) and ``actions``
(events matched against saved actions, ``matchesAction``). Read after
every rewrite, just before rendering, so lazy joins and ``IN COHORT`` are counted.
"""

from __future__ import annotations

from sqlglot import exp

from hedgerow.hogql.compilation import Compilation

PERSON_TABLES = frozenset({"persons", "person_distinct_ids"})
COHORT_TABLES = frozenset({"cohort_people", "static_cohort_people"})
PERSON_COLUMNS = frozenset({"person_properties"})


def run(c: Compilation) -> None:
    assert c.tree is not None
    tables = {table.name for table in c.tree.find_all(exp.Table)}
    reads = {"events"} if "events" in tables else set()
    if tables & PERSON_TABLES or any(col.name in PERSON_COLUMNS for col in c.tree.find_all(exp.Column)):
        reads.add("persons")
    if tables & COHORT_TABLES:
        reads.add("cohorts")
    if c.actions_used:
        reads.add("actions")
    c.reads = frozenset(reads)
