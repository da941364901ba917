"""Benchmark: how many 20-flag evaluations per second the pure evaluator does.

One "evaluation" is what one ``/flags`` request needs: all 20 flags of a team for one
person (fresh EvaluationContext each time). The baseline, measured in the same run on
the same flags and people, is posthog-python's local evaluator (``Client._compute_flag_locally``).

Run: ``.venv/bin/python bench/flags_eval.py``
"""

from __future__ import annotations

import random
import time
import warnings

from hedgerow.flags import EvaluationContext, compile_flags, evaluate_flags

SECONDS = 2.0
COHORTS = {
    1: {"type": "OR", "values": [{"type": "AND", "values": [
        {"key": "email", "value": "@acme.com", "operator": "icontains", "type": "person"},
        {"key": "plan", "value": "free", "operator": "is_not", "type": "person"}]}]},
}  # fmt: skip
GROUP_TYPES = {0: "company"}


def _flags() -> list[dict]:
    def flag(i: int, groups: list, **filters) -> dict:
        return {"id": i, "key": f"flag-{i}", "active": True, "filters": {"groups": groups, **filters}}

    person = "person"
    return [
        flag(1, [{"properties": [], "rollout_percentage": 50}]),
        flag(2, [{"properties": [], "rollout_percentage": 100}]),
        flag(3, [{"properties": [{"key": "plan", "value": ["pro", "team"], "operator": "exact", "type": person}]}]),
        flag(4, [{"properties": [{"key": "email", "value": "@acme.com", "operator": "icontains", "type": person}], "rollout_percentage": 30}]),
        flag(5, [{"properties": [{"key": "email", "value": r"^[a-z]+@example\.(com|org)$", "operator": "regex", "type": person}]}]),
        flag(6, [{"properties": [{"key": "app_version", "value": "2.1.0", "operator": "semver_gte", "type": person}]}]),
        flag(7, [{"properties": [{"key": "age", "value": 30, "operator": "gt", "type": person}]}]),
        flag(8, [{"properties": [{"key": "signup", "value": "-30d", "operator": "is_date_after", "type": person}]}]),
        flag(9, [{"properties": [{"key": "country", "value": "US", "type": person}]}, {"properties": [], "rollout_percentage": 10}]),
        flag(10, [{"properties": [], "rollout_percentage": 60}], multivariate={"variants": [
            {"key": "control", "rollout_percentage": 50}, {"key": "test", "rollout_percentage": 50}]},
            payloads={"test": '{"color": "blue"}'}),
        flag(11, [{"properties": [{"key": "id", "value": 1, "type": "cohort", "operator": "in"}]}]),
        flag(12, [{"properties": [{"key": "tier", "value": "gold", "type": "group", "group_type_index": 0}], "rollout_percentage": 50}],
             aggregation_group_type_index=0),
        flag(13, [{"properties": [{"key": "1", "type": "flag", "value": True, "operator": "flag_evaluates_to"}]}]),
        flag(14, [{"properties": [], "rollout_percentage": 100}], holdout={"id": 3, "exclusion_percentage": 10}),
        flag(15, [{"properties": [{"key": "plan", "operator": "is_set", "type": person},
                                  {"key": "country", "value": ["FR", "DE"], "operator": "is_not", "type": person}], "rollout_percentage": 75}]),
        flag(16, [{"properties": [{"key": "$browser", "value": "Chrome", "type": person}]}]),
        flag(17, [{"properties": [{"key": "app_version", "value": "2.*", "operator": "semver_wildcard", "type": person}]}]),
        flag(18, [{"properties": [], "rollout_percentage": 5}, {"properties": [], "rollout_percentage": 15}]),
        flag(19, [{"properties": [{"key": "email", "value": "admin", "operator": "not_icontains", "type": person}]}]),
        flag(20, [{"properties": [], "rollout_percentage": 100}], feature_enrollment=True),
    ]  # fmt: skip


def _people(count: int) -> list[dict]:
    rng = random.Random(7)
    return [
        {
            "distinct_id": f"user-{i}",
            "person_properties": {
                "email": rng.choice(["ada@acme.com", "bob@example.com", "eve@admin.io"]),
                "plan": rng.choice(["free", "pro", "team"]),
                "country": rng.choice(["US", "FR", "DE", "JP"]),
                "age": rng.randint(18, 70),
                "app_version": rng.choice(["1.9.3", "2.1.0", "2.4.1", "3.0.0"]),
                "signup": rng.choice(["2026-01-01T00:00:00Z", "2020-05-05T00:00:00Z"]),
                "$browser": rng.choice(["Chrome", "Firefox"]),
            },
            "groups": {"company": f"org-{i % 50}"},
            "group_properties": {"company": {"tier": rng.choice(["gold", "silver"])}},
        }
        for i in range(count)
    ]


def _rate(run, people: list[dict]) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < SECONDS:
        for person in people:
            run(person)
        done += len(people)
    return done / (time.perf_counter() - start)


def main() -> None:
    flags, people = _flags(), _people(500)
    flag_set = compile_flags(flags, cohorts=COHORTS, group_type_mapping=GROUP_TYPES)

    def ours(person: dict) -> None:
        evaluate_flags(flag_set, EvaluationContext(**person))

    ours_rate = _rate(ours, people)
    print(f"hedgerow.flags: {ours_rate:,.0f} evaluations/s of 20 flags ({ours_rate * 20:,.0f} flags/s)")

    try:
        from posthog.client import Client
        from posthog.feature_flags import InconclusiveMatchError, RequiresServerEvaluation
    except ImportError:
        return
    client = Client("phc_bench", send=False, sync_mode=True)
    client.feature_flags = flags
    client.cohorts = {str(k): v for k, v in COHORTS.items()}
    client.group_type_mapping = {str(k): v for k, v in GROUP_TYPES.items()}

    def sdk(person: dict) -> None:
        for flag in flags:
            try:
                client._compute_flag_locally(
                    flag, person["distinct_id"], groups=person["groups"], person_properties=person["person_properties"],
                    group_properties=person["group_properties"], warn_on_unknown_groups=False,
                )  # fmt: skip
            except (InconclusiveMatchError, RequiresServerEvaluation):
                pass

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sdk_rate = _rate(sdk, people)
    client.shutdown()
    print(f"baseline posthog-python local evaluation: {sdk_rate:,.0f} evaluations/s of 20 flags")
    print(f"ratio: {ours_rate / sdk_rate:.2f}x the baseline")


if __name__ == "__main__":
    main()
