"""The per-person walk of funnel *trends* (conversion rate by the period people entered).

Follows PostHog's funnel-trends UDF: a person's first step-1 event in a period opens an attempt
for that period (one per period); every later matching event advances every open attempt whose
window (from its first step) it falls in. An attempt reaching the last step makes its period a
success; attempts still open at the end are failures if they reached ``from_step``. Strict funnels
forget, after each event, every step it does not match. An exclusion inside an attempt's window
stops the walk: periods already successful stay, the rest are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass
class _Attempt:
    entered: list[float | None]
    """Per step, the start of the attempt once it reached that step (None: not reached)."""
    max_step: int = 1


def walk(events: Sequence[tuple[float, Sequence[int]]], period_of: Callable[[float], str], num_steps: int,
         from_step: int, window: float, *, strict: bool = False) -> dict[str, bool]:
    """One person's periods -> True (converted) / False (reached ``from_step``, did not convert);
    ``events`` are (seconds, 1-based steps; negative = exclusion), sorted."""
    open_attempts: dict[str, _Attempt] = {}
    results: dict[str, bool] = {}
    for timestamp, steps in events:
        period = None
        for raw in sorted(steps, key=abs, reverse=True):
            step = abs(raw)
            if step > num_steps:
                continue
            if step == 1:
                period = period or period_of(timestamp)
                if period not in open_attempts and period not in results:
                    entered: list[float | None] = [None] * (num_steps + 1)
                    entered[1] = timestamp
                    open_attempts[period] = _Attempt(entered)
                continue
            for key, attempt in open_attempts.items():
                start = attempt.entered[step - 1]
                if start is not None and timestamp - start <= window and attempt.entered[step] != start:
                    if raw < 0:
                        return results
                    attempt.entered[step] = start
                    if attempt.entered[num_steps] is not None:
                        results[key] = True
                    elif step > attempt.max_step:
                        attempt.max_step = step
        if strict:
            matched = {abs(s) for s in steps}
            for attempt in open_attempts.values():
                for index in range(1, num_steps + 1):
                    if index not in matched:
                        attempt.entered[index] = None
    for key, attempt in open_attempts.items():
        if key not in results and attempt.max_step >= from_step + 1:
            results[key] = False
    return results
