"""Ordered and strict funnels computed in the engine, set-based: the walk of
:mod:`.funnel_steps` restated as window functions over each actor's events.

The walk keeps, per step k, the attempt that most recently reached k (``entered[k]``). Here each
event row carries, per step, the attempt it makes reach that step (``c_k``: the array
``[start, start - t2, ..., start - tk]``, empty when none), and ``entered[k]`` before a row is the largest
``c_k`` of the rows before it: attempts only ever move to later starts, and among arrays with
the same start the first one set (the earliest ``tk``) wins, as the walk keeps the first. An
event advances ``entered[k-1]`` to step k when it matches step k and lies within the window of
the attempt's start; using the rows strictly *before* it keeps one event from serving two
consecutive steps. Strict funnels forget a step at every event that does not match it, so there
``entered[k]`` is the largest ``c_k`` within the current run of events matching k.

Two-step funnels need no running maximum: only the previous row's attempt counts. Ordered:
every row matches a step, and the first row that converts (a step-2 row within the window of the
latest step-1 row before it) has that step-1 row right before it, since a row between them would
match only step 2 and convert earlier; rows after something else may be skipped, as none of them
is that first one. Strict: any row between them resets step 1 anyway.

Step 3 of ordered funnels of four steps or more needs no arrays either: ``entered[2]`` is two
numbers, its start and its step-2 time. A row's ``c_2`` starts at the latest step-1 row before it, so along the rows the
starts of the ``c_2`` only grow, and the largest ``c_2`` before a row has the latest start
(``q3``, the largest start before) and the step-2 time of the first row reaching step 2 from it
(``f3``, the latest such first row before: it is the one with that start). A ``c_2`` row is the
first from its start when no step-2 row lies between that start and it (``l2``, the latest step-2
row before, is not after the start): any such row would reach step 2 from the same start, being
earlier and so within the window.

Three-step ordered funnels need no second window at all. A step-3 row converts when it lies
within the window of some ``c_2`` row's start before it (the largest ``c_2`` has the latest start,
so the nearest one), so the first row to convert is the earliest ``n3`` (the next step-3 row after
a row) over the ``c_2`` rows whose start it lies within the window of: a later step-3 row would
only lie further. The attempt it takes has the latest start S of the ``c_2`` rows before it, and
the first row from S has that same ``n3`` (a step-3 row between would be nearer S and convert
earlier). The first rows from their start (no step-2 row between) that are within the window
with the earliest ``n3`` start at or before S, so the latest of them is S's: hence the aggregate
picks, among first rows, the least ``[n3, -t]``. The first step-2 row to reach step 2 is a first
row from its start too (an earlier one from the same start would reach it before), so one
running max (``m``: the latest row matching step 1 or 2, and whether it matches step 1) gives
both the first rows and their start.

Two things the walk does that rows in an order cannot: events sharing a timestamp (the walk
tries their orders), and, in strict funnels, one event matching several steps. Actors with either
(and an event beyond the first step) are left out here and walked in Python; ``fallback`` is the
condition that picks them. Exclusions and unordered funnels are walked in Python throughout.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from sqlglot import exp

from hedgerow.insights.templates import expr, select


def supported(order: str, exclusions: list) -> bool:
    """Whether the funnel is computed here (ordered or strict, without exclusions)."""
    return order in ("ordered", "strict") and not exclusions


def fallback(steps: list[exp.Expression], strict: bool, time: exp.Expression,
             ties: exp.Expression | None = None) -> exp.Expression:
    """The per-actor aggregate condition of actors walked in Python instead (see module doc);
    ``ties``: how to tell tied timestamps when not by counting them."""
    ties = ties or expr("count() != count(DISTINCT {t})", t=time)
    if not strict:
        return ties
    matched = exp.Add(this=_flag(steps[0]), expression=exp.Literal.number(0))
    for condition in steps[1:]:
        matched = exp.Add(this=matched, expression=_flag(condition))
    return expr("{ties} OR max({matched}) > 1", ties=ties, matched=matched)


def _flag(condition: exp.Expression) -> exp.Expression:
    return expr("if({c}, 1, 0)", c=condition)


def query(*, steps: list[exp.Expression], where: exp.Expression, actor: exp.Expression, value: exp.Expression,
          attribution: str, by_value: bool, time: exp.Expression, later: exp.Expression, window_units: int,
          strict: bool, with_ids: bool, holes: dict, totals: bool = False) -> exp.Expression:
    """Per actor who did the first step: their breakdown value, the furthest step they reached
    (0-based; -1 for actors to walk in Python) and the times of the steps after the first of the
    attempt that reached it, after its start in encoded time units. Grouped with a count per
    (value, step, times), or with ``with_ids`` one row per actor, or with ``totals`` summed up
    into the one row :func:`totals_of` reads (breakdown values are not told apart there).

    ``attribution`` is the aggregate giving an actor's value (see ``funnels.ATTRIBUTION``) over
    the rows' value ``bv`` and time ``t``, its other holes in ``holes``; with ``by_value`` each
    (actor, value) is a funnel of its own.
    """
    num = len(steps)
    one_pass = num == 3 and not strict  # step 3 read from the step-2 rows (module doc)
    part = "actor, bv" if by_value else "actor"
    ordered_by = f"PARTITION BY {part} ORDER BY t ROWS BETWEEN"
    flags = ", ".join(f"if({{s{k}}}, 1, 0) AS s{k}" for k in range(1, num + 1))
    text = ("SELECT {actor} AS actor, {value} AS bv, {time} AS t, {later_flag} AS later, " + flags +
            " FROM events WHERE {where}")
    # the previous row's t + 1, 0 on the first (t >= 0): a lag, cheaper than a max over a frame
    firsts = [f"lagInFrame(t + 1, 1, 0) OVER ({ordered_by} 1 PRECEDING AND CURRENT ROW) AS prev"]
    if num == 2:
        # two steps: only the previous row's attempt counts (module doc), so one lag does
        firsts.append(f"lagInFrame({_attempt(1)}, 1, 0) OVER ({ordered_by} 1 PRECEDING AND CURRENT ROW) AS p2")
    elif strict:
        firsts += [f"sum(if(s{k} = 1, 0, 1)) OVER ({ordered_by} UNBOUNDED PRECEDING AND CURRENT ROW) AS run{k}"
                   for k in range(1, num)]
    elif one_pass:
        # the latest row before matching step 1 or 2: its time + 1, doubled, + 1 if it matches step 1
        firsts.append(f"coalesce(max(if(s1 = 1 OR s2 = 1, t * 2 + 2 + s1, 0)) OVER ({ordered_by} UNBOUNDED PRECEDING"
                      " AND 1 PRECEDING), 0) AS m")
        # the next step-3 row after, + 1 (0: none)
        firsts.append(f"coalesce(min(if(s3 = 1, t + 1, NULL)) OVER ({ordered_by} 1 FOLLOWING AND UNBOUNDED"
                      " FOLLOWING), 0) AS n3")
    elif num > 1:
        firsts.append(f"coalesce(max({_attempt(1)}) OVER ({ordered_by} UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS p2")
        # the latest step-2 row before, + 1: tells the first row to reach step 2 from each start
        firsts.append(f"coalesce(max(if(s2 = 1, t + 1, 0)) OVER ({ordered_by} UNBOUNDED PRECEDING AND 1 PRECEDING), 0)"
                      " AS l2")
    carried = ["actor", "bv", "t", "later"] + [f"s{k}" for k in range(1, num + 1)]
    text = f"SELECT {', '.join(carried)}, {', '.join(firsts)} FROM ({text})"
    carried += [name.rsplit(" ", 1)[1] for name in firsts]
    for k in range(2 if strict and num > 2 else 4 if one_pass else 3, num + 1):
        cols = ", ".join(carried)
        if strict:
            text = (f"SELECT {cols}, max({_attempt(k - 1, strict)}) OVER (PARTITION BY {part}, run{k - 1} ORDER BY t"
                    f" ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS latest FROM ({text})")
            before = f"max(latest) OVER ({ordered_by} 1 PRECEDING AND 1 PRECEDING)"
            text = (f"SELECT {cols}, {f'coalesce({before}, 0)' if k == 2 else before} AS p{k} FROM ({text})")
        elif k == 3:
            # entered[2] as two numbers, its start + 1 and its step-2 time + 1 (module doc)
            text = (f"SELECT {cols}, coalesce(max(if({_condition(2)}, p2, 0)) OVER ({ordered_by} UNBOUNDED PRECEDING"
                    f" AND 1 PRECEDING), 0) AS q3, coalesce(max(if({_condition(2)} AND l2 <= p2, t + 1, 0)) OVER"
                    f" ({ordered_by} UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS f3 FROM ({text})")
            carried += ["q3", "f3"]
            continue
        else:
            text = (f"SELECT {cols}, max({_attempt(k - 1)}) OVER ({ordered_by} UNBOUNDED PRECEDING AND 1 PRECEDING)"
                    f" AS p{k} FROM ({text})")
        carried.append(f"p{k}")
    # per step, the first attempt to reach it (step 2: its offset, > 0 as ties are walked apart)
    reached = [f"coalesce(argMinIf(t - (p2 - 1), t, {_condition(2)}), 0) AS b2"] if num > 1 and not one_pass else []
    if one_pass:
        # the first rows from their start (m odd) are the ones that count, and there m / 2 is p2
        first, p2 = "s2 = 1 AND m % 2 = 1", "intDiv(m, 2)"
        reached += [f"coalesce(argMinIf(t - ({p2} - 1), t, {first} AND t - ({p2} - 1) <= {{window}}), 0) AS b2",
                    f"argMinIf([{p2} - 1, {p2} - 1 - t, {p2} - n3], [n3, -t], {first} AND n3 > 0"
                    f" AND n3 - {p2} <= {{window}}) AS b3"]
    else:
        reached += [f"argMinIf({_value(k, strict)}, t, {_condition(k, strict)}) AS b{k}" for k in range(3, num + 1)]
    step, offsets = "0", "[]"
    for k in range(2, num + 1):
        has = "b2 > 0" if k == 2 else f"length(b{k}) > 0"
        step = f"if({has}, {k - 1}, {step})"
        offsets = f"if({has}, {'[b2]' if k == 2 else f'arrayMap(x -> -x, arraySlice(b{k}, 2))'}, {offsets})"
    per_actor = (f"SELECT actor, value, if(walk, -1, {step}) AS step, {offsets} AS offsets"
                 f" FROM (SELECT actor, {attribution} AS value, {''.join(r + ', ' for r in reached)}"
                 f"max(later) = 1 AND ({{fallback}}) AS walk FROM ({text}) GROUP BY {part} HAVING max(s1) = 1)")
    if totals:
        text = _totals(num, per_actor)
    elif with_ids:
        text = f"SELECT value, step, offsets, 1, actor FROM ({per_actor})"
    else:
        text = f"SELECT value, step, offsets, count(), NULL FROM ({per_actor}) GROUP BY value, step, offsets"
    step_holes = {f"s{k}": steps[k - 1] for k in range(1, num + 1)}
    return select(text, actor=actor, value=value, time=time, where=where, window=window_units,
                  later_flag=_flag(later),
                  fallback=fallback([expr(f"s{k} = 1") for k in range(1, num + 1)], strict, exp.column("t"),
                                    expr("max(if(prev = t + 1, 1, 0)) = 1")),
                  **step_holes, **holes)


_SPLIT = 1 << 32
"""Conversion times are summed in two parts (quotient and remainder by this), so neither sum
can overflow 64 bits however many actors convert."""


def _totals(num: int, per_actor: str) -> str:
    """One row over every actor: how many are to walk in Python, how many reached each step,
    and per step after the first the count, sum (in two parts, see :data:`_SPLIT`) and middle
    values (the lower and upper median) of the positive times between it and the step before."""
    gaps = ", ".join(f"if(step >= {k} AND {_gap(k)} > 0, {_gap(k)}, NULL) AS d{k}" for k in range(1, num))
    columns = ["countIf(step < 0) AS to_walk"] + [f"countIf(step >= {k})" for k in range(num)]
    for k in range(1, num):
        columns += [f"count(d{k})", f"sum(intDiv(d{k}, {_SPLIT}))", f"sum(d{k} % {_SPLIT})",
                    f"-quantileExact(0.5)(-d{k})", f"quantileExact(0.5)(d{k})",
                    f"if(to_walk > 0, groupArray(d{k}), [])"]
    return f"SELECT {', '.join(columns)} FROM (SELECT step, {gaps} FROM ({per_actor}))"


def _gap(k: int) -> str:
    """Step k+1's time after step k's in a row's ``offsets`` (1-based steps)."""
    return "offsets[1]" if k == 1 else f"offsets[{k}] - offsets[{k - 1}]"


@dataclass(frozen=True)
class StepTotal:
    """One step of a funnel summed up in the engine: who reached it, and the mean and median
    of the positive seconds from the step before (None when there are none)."""

    count: int
    average: float | None
    median: float | None


@dataclass(frozen=True)
class Totals:
    """A ``totals`` query's row read: how many actors are left to walk in Python, each step's
    total over the others, and (only when some are left to walk) their conversion times per
    step after the first, in encoded time units, for the caller to merge with the walk's."""

    to_walk: int
    steps: list[StepTotal]
    gaps: list[list[int]]


def totals_of(row: Sequence, num: int, scale: int) -> Totals:
    """Read the row of a ``totals`` query."""
    to_walk, reached = row[0], row[1:num + 1]
    steps, gaps = [StepTotal(reached[0], None, None)], []
    for k in range(1, num):
        count, high, low, lower, upper, values = row[num + 1 + 6 * (k - 1):num + 1 + 6 * k]
        gaps.append(values)
        if not count:
            steps.append(StepTotal(reached[k], None, None))
            continue
        # the exact mean, rounded once; the median as statistics.median takes it from seconds
        average = float(Fraction((high * _SPLIT + low) * scale, count * 1_000_000))
        median = (lower * scale / 1e6 + upper * scale / 1e6) / 2
        steps.append(StepTotal(reached[k], average, median))
    return Totals(to_walk, steps, gaps)


def durations(offsets: list[int], scale: int) -> tuple[float, ...]:
    """Seconds between consecutive steps, from the steps' times after the first (in units of
    ``scale`` microseconds)."""
    if len(offsets) == 1:  # two-step funnels: the common case, made once per converted person
        return (offsets[0] * scale / 1e6,)
    return tuple((b - a) * scale / 1e6 for a, b in zip([0, *offsets], offsets))


def _condition(k: int, strict: bool = False) -> str:
    """Whether a row takes the attempt before it (``p{k}``) to step k (1: starts one); step 3 of
    ordered funnels reads that attempt from ``q3`` and ``f3`` (module doc)."""
    if k == 1:
        return "s1 = 1"
    if k == 2:
        return "s2 = 1 AND p2 > 0 AND t - (p2 - 1) <= {window}"
    if k == 3 and not strict:
        return "s3 = 1 AND q3 > 0 AND t - (q3 - 1) <= {window}"
    return f"s{k} = 1 AND length(p{k}) > 0 AND t - p{k}[1] <= {{window}}"


def _value(k: int, strict: bool = False) -> str:
    """The attempt a row takes to step k (when :func:`_condition` holds)."""
    if k == 1:
        return "t + 1"
    if k == 2:
        return "[p2 - 1, p2 - 1 - t]"
    if k == 3 and not strict:
        return "[q3 - 1, q3 - f3, q3 - 1 - t]"
    return f"arrayPushBack(p{k}, p{k}[1] - t)"


def _attempt(k: int, strict: bool = False) -> str:
    """``c_k`` of the module docstring: the attempt a row takes to step k, or none. Step 1's is
    a number, its start + 1 (0: none), so the first window works on numbers, not arrays."""
    return f"if({_condition(k, strict)}, {_value(k, strict)}, {'0' if k == 1 else '[]'})"
