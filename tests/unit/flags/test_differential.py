"""Differential test: our evaluator against posthog-python's local evaluator.

Random flags and people (seeded, see random_flags.py) are evaluated by both. Wherever
the SDK gives an answer (it raises InconclusiveMatchError or RequiresServerEvaluation
where it defers to the server) the two must agree.

Two refinements keep the comparison honest:

* the SDK skips a condition it cannot decide and may then match a later one. Its "on"
  is still right, but the variant is only trustworthy when every earlier condition was
  decided, which is checked by evaluating the flag cut after the matching condition;
  The same holds for a flag whose dependency got such an untrustworthy variant;
* a group flag with a holdout, evaluated without the group, is a known divergence: the
  server checks the holdout first (hashing an empty group key), the SDK returns off.
"""

from __future__ import annotations

import random
import warnings
from collections import Counter

import pytest

from hedgerow.flags import EvaluationContext, compile_flags, evaluate_flags
from hedgerow.flags.properties import person_properties

from . import random_flags

feature_flags = pytest.importorskip("posthog.feature_flags")
posthog_client = pytest.importorskip("posthog.client")

WORLDS = 1500
SEED = 20260101


@pytest.fixture(scope="module")
def sdk():
    client = posthog_client.Client("phc_differential", send=False, sync_mode=True)
    yield client
    client.shutdown()


def _sdk_value(client, flag: dict, world: dict):
    person = world["person"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return client._compute_flag_locally(
                flag,
                person["distinct_id"],
                groups=person["groups"],
                person_properties=person_properties(person["distinct_id"], person["person_properties"]),
                group_properties=person["group_properties"],
                warn_on_unknown_groups=False,
                device_id=person["device_id"],
            )
    except (feature_flags.InconclusiveMatchError, feature_flags.RequiresServerEvaluation):
        return None


def _with_conditions(flag: dict, count: int) -> dict:
    return {**flag, "filters": {**flag["filters"], "groups": flag["filters"]["groups"][:count]}}


def _sdk_answer(client, flag: dict, world: dict):
    """``(value, variant_reliable)`` from the SDK, or None where it defers."""
    value = _sdk_value(client, flag, world)
    if value is None or value is False:
        return None if value is None else (False, True)
    conditions = flag["filters"]["groups"]
    for count in range(1, len(conditions) + 1):
        if _sdk_value(client, _with_conditions(flag, count), world) not in (None, False):
            # condition count-1 matched; the answer is exact only if all earlier were decided
            return value, _sdk_value(client, _with_conditions(flag, count - 1), world) is False
    return value, True  # decided before the conditions (holdout, early access)


def _parents(flag: dict) -> set[str]:
    return {p["key"] for g in flag["filters"]["groups"] for p in g["properties"] if p.get("type") == "flag"}


def _known_divergence(flag: dict, world: dict) -> bool:
    filters = flag["filters"]
    return (
        filters.get("aggregation_group_type_index") is not None
        and filters.get("holdout") is not None
        and not world["person"]["groups"]
    )


def test_agrees_with_posthog_python_local_evaluation(sdk) -> None:
    rng = random.Random(SEED)
    tally: Counter[str] = Counter()
    disagreements = []
    for _ in range(WORLDS):
        world = random_flags.random_world(rng)
        sdk.feature_flags = world["flags"]
        sdk.cohorts = {str(k): v for k, v in world["cohorts"].items()}
        sdk.group_type_mapping = random_flags.GROUP_TYPE_MAPPING
        flag_set = compile_flags(
            world["flags"], cohorts=world["cohorts"], group_type_mapping=random_flags.GROUP_TYPE_MAPPING
        )
        person = world["person"]
        ours = evaluate_flags(
            flag_set,
            EvaluationContext(
                distinct_id=person["distinct_id"],
                person_properties=person["person_properties"],
                groups=person["groups"],
                group_properties=person["group_properties"],
                device_id=person["device_id"],
            ),
        )
        answers: dict[str, tuple | None] = {}
        for flag in world["flags"]:  # parents come before the flags that depend on them
            answer = None if _known_divergence(flag, world) else _sdk_answer(sdk, flag, world)
            if any(answers.get(parent) is None or not answers[parent][1] for parent in _parents(flag)):
                answer = None  # the SDK used a dependency value it could not vouch for
            answers[flag["key"]] = answer
            if answer is None:
                tally["sdk deferred"] += 1
                continue
            expected, variant_reliable = answer
            tally["compared"] += 1
            tally["on" if expected is not False else "off"] += 1
            got = ours[flag["key"]].value
            if not variant_reliable:
                tally["enabled only"] += 1
                got, expected = got is not False, True
            if got != expected:
                disagreements.append(
                    {"flag": flag, "person": person, "cohorts": world["cohorts"], "sdk": expected, "ours": got}
                )
    assert disagreements == [], f"{len(disagreements)} disagreements; first: {disagreements[:1]}"
    # the comparison must be meaningful: many decided cases, both outcomes well represented
    assert tally["compared"] > 3000, tally
    assert tally["on"] > 500 and tally["off"] > 500, tally
