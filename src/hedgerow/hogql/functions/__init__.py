"""The HogQL function allow-list: one :class:`~.spec.FunctionSpec` per name, grouped by family.

Each family module exports ``FUNCTIONS``; :mod:`.registry` merges them and understands
aggregate combinator suffixes (``-If``, ``-OrNull``). A spec holds arity, the result type and
one lowering per engine (``impl["duckdb"]``), so adding a function is adding one table row.
"""
