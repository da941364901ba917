"""The per-person funnel walk (pure Python): which step a person reached, and when.

Events arrive sorted by time as ``(timestamp seconds, breakdown, steps)`` where ``steps`` are
1-based step numbers the event matches, and negative numbers mark exclusions. For ordered and
strict funnels this follows PostHog's funnel UDF: ``entered[k]`` holds the attempt that most
recently reached step k, as (start time, step times); an event matching step k advances
``entered[k-1]`` when it lies within the window of that attempt's *first* step, and steps are
visited in reverse so one event never satisfies two consecutive steps. Strict funnels forget
progress at every step an event does not match. Events sharing a timestamp are tried in every
order (up to a few) and the furthest outcome kept. An exclusion event inside an attempt's window,
after its from-step and before its to-step, drops the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby, permutations
from typing import Any, NamedTuple, Sequence

MAX_PERMUTED = 4


@dataclass(frozen=True)
class Entered:
    start: float
    times: tuple[float, ...]


class Outcome(NamedTuple):
    """The furthest 0-based step reached, and the seconds between consecutive steps (a named
    tuple: the engine's funnels make one per converted person, and a tuple is the cheapest)."""

    step: int
    durations: tuple[float, ...]


NOWHERE = Entered(0.0, ())


class _Excluded(Exception):
    pass


def _process(event: tuple[float, Any, Sequence[int]], entered: list[Entered], window: float, strict: bool,
             best: list) -> None:
    timestamp, _, steps = event
    for raw in sorted(steps, key=abs, reverse=True):
        exclusion = raw < 0
        step = -raw if exclusion else raw
        previous = entered[step - 1]
        in_window = previous.times != () or step == 1
        in_window = in_window and timestamp - previous.start <= window
        already = entered[step].start == previous.start and entered[step].times != ()
        if in_window and not already:
            if exclusion:
                raise _Excluded()
            entered[step] = Entered(previous.start, previous.times + (timestamp,))
            if step > best[0]:
                best[0], best[1] = step, entered[step]
    if strict:
        matched = {abs(s) for s in steps}
        for index in range(1, len(entered)):
            if index not in matched:
                entered[index] = NOWHERE


def ordered(events: Sequence[tuple[float, Any, Sequence[int]]], num_steps: int, window: float,
            *, strict: bool = False) -> Outcome | None:
    """Walk one person's events (ordered or strict); None when the person is excluded."""
    entered = [NOWHERE] * (num_steps + 1)
    best: list = [0, NOWHERE]
    try:
        for timestamp, group_iter in groupby(events, key=lambda e: e[0]):
            group = tuple(group_iter)
            entered[0] = Entered(timestamp, ())
            if len(group) == 1 or len(group) > MAX_PERMUTED:
                for event in group:
                    _process(event, entered, window, strict, best)
            else:
                trials = []
                for order in permutations(group):
                    trial = list(entered)
                    for event in order:
                        _process(event, trial, window, strict, best)
                    trials.append(trial)
                for index in range(len(entered)):
                    entered[index] = max((t[index] for t in trials), key=lambda e: (len(e.times) > 0, e.start))
            if entered[num_steps].times:
                break
    except _Excluded:
        return None
    step, final = best[0], best[1]
    if step == 0:
        return Outcome(-1, ())
    times = final.times
    return Outcome(step - 1, tuple(times[i] - times[i - 1] for i in range(1, len(times))))


def unordered(events: Sequence[tuple[float, Any, Sequence[int]]], num_steps: int, window: float) -> Outcome | None:
    """Steps in any order within the window from the first: the most distinct steps done."""
    best = Outcome(-1, ())
    for start, (timestamp, _, steps) in enumerate(events):
        if not any(s > 0 for s in steps):
            continue
        done: set[int] = set()
        times: list[float] = []
        for other_time, _, other_steps in events[start:]:
            if other_time - timestamp > window:
                break
            if any(s < 0 for s in other_steps) and done:
                return None
            fresh = [s for s in other_steps if s > 0 and s not in done]
            if fresh:
                done.add(fresh[0])
                times.append(other_time)
            if len(done) == num_steps:
                break
        outcome = Outcome(len(done) - 1, tuple(times[i] - times[i - 1] for i in range(1, len(times))))
        if outcome.step > best.step:
            best = outcome
        if best.step == num_steps - 1:
            break
    return best
