"""Feature flag management: PostHog's fields, validation rules, versions, soft deletion, lists."""

from __future__ import annotations

import pytest

GROUP = {"properties": [], "rollout_percentage": 50}
STORED_GROUP = {**GROUP, "aggregation_group_type_index": None}  # each condition set carries its aggregation


def flags_url(api) -> str:
    return f"/api/projects/{api.project_id}/feature_flags/"


def create(api, **body):
    body.setdefault("filters", {"groups": [GROUP]})
    return api.post(flags_url(api), body)


def test_create_and_retrieve(api) -> None:
    response = create(api, key="new-checkout", name="New checkout")
    assert response.status_code == 201, response.text
    flag = response.json()
    assert flag["key"] == "new-checkout" and flag["version"] == 1 and flag["active"] is True
    assert flag["deleted"] is False and flag["is_simple_flag"] is True and flag["rollout_percentage"] == 50
    assert flag["created_by"]["email"] == "admin@hedgerow.local"
    assert flag["filters"]["groups"] == [STORED_GROUP] and flag["filters"]["payloads"] == {}
    for field in ("ensure_experience_continuity", "experiment_set", "tags", "status", "usage_dashboard",
                  "evaluation_runtime", "has_encrypted_payloads", "is_remote_configuration", "last_modified_by"):
        assert field in flag
    again = api.get(flags_url(api) + f"{flag['id']}/").json()
    assert again == flag


BAD = [
    ({"filters": {"groups": [GROUP]}}, "key", "required", "This field is required."),
    ({"key": "a b"}, "key", "invalid_key", "Only letters, numbers, hyphens (-) & underscores (_) are allowed."),
    ({"key": ""}, "key", "blank", "This field may not be blank."),
    ({"key": 12}, "key", "invalid_input", "Not a valid string."),
    ({"key": "x", "filters": {"groups": []}}, "filters", "invalid_input",
     "Feature flags must have at least one condition set (group)."),
    ({"key": "x", "filters": []}, "filters", "not_a_dict", 'Expected a dictionary of items but got type "list".'),
    ({"key": "x", "filters": {"groups": [{"properties": [{"key": "$browser", "type": "event", "value": "x"}]}]}},
     "filters", "invalid_input", "Filters are not valid (person-aggregated conditions can only use person, cohort, and flag properties)"),
    ({"key": "x", "filters": {"groups": [{"properties": [], "variant": "nope"}],
                              "multivariate": {"variants": [{"key": "a", "rollout_percentage": 100}]}}},
     "filters", "invalid_input", "Filters are not valid (variant override does not exist)"),
    ({"key": "x", "filters": {"groups": [GROUP], "multivariate": {"variants": [
        {"key": "a", "rollout_percentage": 50}, {"key": "b", "rollout_percentage": 49}]}}},
     "filters", "invalid_input", "Invalid variant definitions: Variant rollout percentages must sum to 100."),
    ({"key": "x", "filters": {"groups": [{"properties": [{"key": "id", "type": "cohort", "value": 98765}]}]}},
     "filters", "cohort_does_not_exist", "Cohort with id 98765 does not exist"),
    ({"key": "x", "filters": {"groups": [{"properties": [
        {"key": "signup", "type": "person", "operator": "is_date_before", "value": "not a date"}]}]}},
     "filters", "invalid_date", "Invalid date value: not a date"),
    ({"key": "x", "filters": {"groups": [{"properties": [
        {"key": "age", "type": "person", "operator": "gt", "value": 5}]}]}},
     "filters", "invalid_value", "Invalid value for operator gt: 5"),
    ({"key": "x", "filters": {"groups": [{"properties": [
        {"key": "email", "type": "person", "operator": "in", "value": ["a"]}]}]}},
     "filters", "invalid_operator", None),
    ({"key": "x", "filters": {"groups": [GROUP], "payloads": {"true": "{not json"}}},
     "filters", "invalid_input", "Payload value is not valid JSON"),
    ({"key": "x", "filters": {"groups": [GROUP], "payloads": {"false": "1"}}},
     "filters", "invalid_input", "Payload keys must be 'true' for boolean flags"),
    ({"key": "x", "filters": {"groups": [GROUP], "payloads": "nope"}},
     "filters", "invalid_input", "Payloads must be passed as a dictionary"),
    ({"key": "x", "filters": {"groups": [GROUP], "multivariate": {"variants": [{"key": "a", "rollout_percentage": 100}]},
                              "payloads": {"b": "1"}}},
     "filters", "invalid_input", "Payload keys must match a variant key for multivariate flags"),
    ({"key": "x", "filters": {"aggregation_group_type_index": 0, "groups": [{"properties": [
        {"key": "email", "type": "person", "value": "a"}]}]}},
     "filters", "invalid_input", "Filters are not valid (group-aggregated conditions can only use group properties)"),
    ({"key": "x", "filters": {"groups": [{"properties": [{"key": "flag-key", "type": "flag", "operator": "flag_evaluates_to", "value": True}]}]}},
     "filters", "invalid_input", "Flag dependencies must reference flag IDs (integers), not flag keys. Invalid reference: 'flag-key'"),
    ({"key": "x", "filters": {"groups": [{"properties": [{"key": "4242", "type": "flag", "operator": "flag_evaluates_to", "value": True}]}]}},
     "filters", "invalid_input", "Flag dependency references non-existent flag with ID 4242"),
    ({"key": "x", "filters": {"groups": [{"properties": [{"key": "1", "type": "flag", "operator": "exact", "value": True}]}]}},
     "filters", "invalid_input", "Flag properties must use the 'flag_evaluates_to' operator"),
    ({"key": "x", "filters": {"groups": [{"properties": [], "rollout_percentage": 150}]}},
     "filters", "invalid_input", "groups[0].rollout_percentage must be between 0 and 100, got 150"),
    ({"key": "x", "filters": {"groups": [GROUP, {"properties": [], "rollout_percentage": "50"}]}},
     "filters", "invalid_input", "groups[1].rollout_percentage must be a number or null, got str"),
    ({"key": "x", "filters": {"groups": [{"properties": [], "variant": 3}]}},
     "filters", "invalid_input", "groups[0].variant must be a string or null, got int"),
    ({"key": "x", "filters": {"groups": [GROUP], "multivariate": {"variants": [{"key": "a"}]}}},
     "filters", "invalid_input", "multivariate.variants[0].rollout_percentage must be a number, got null"),
    ({"key": "x", "filters": {"groups": [{"properties": [
        {"key": "plan", "type": "group", "group_type_index": "0", "value": "pro"}], "aggregation_group_type_index": 0}]}},
     "filters", "invalid_input", "groups[0].properties[0].group_type_index must be an integer or null, got str"),
    ({"key": "x", "filters": {"groups": [{"properties": [], "aggregation_group_type_index": True}]}},
     "filters", "invalid_input", "groups[0].aggregation_group_type_index must be an integer or null, got bool"),
    ({"key": "x", "active": "yes"}, "active", "invalid_input", "Must be a valid boolean."),
    ({"key": "x", "evaluation_runtime": "moon"}, "evaluation_runtime", "invalid_choice", '"moon" is not a valid choice.'),
]


@pytest.mark.parametrize("body, attr, code, detail", BAD)
def test_create_validation(api, body, attr, code, detail) -> None:
    if "filters" not in body and attr != "filters":
        body = {**body, "filters": {"groups": [GROUP]}}
    response = api.post(flags_url(api), body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["type"] == "validation_error" and error["attr"] == attr and error["code"] == code
    if detail:
        assert error["detail"] == detail
    assert api.get(flags_url(api)).json()["count"] == 0  # nothing stored


def test_unique_key_among_live_flags(api) -> None:
    first = create(api, key="dup").json()
    response = create(api, key="dup")
    assert response.status_code == 400
    assert response.json() == {"type": "validation_error", "code": "unique",
                                "detail": "There is already a feature flag with this key.", "attr": "key"}
    # a soft-deleted flag frees its key; creating again purges the deleted one
    assert api.patch(flags_url(api) + f"{first['id']}/", {"deleted": True}).status_code == 200
    assert create(api, key="dup").status_code == 201
    assert api.get(flags_url(api) + f"{first['id']}/").status_code == 404


def test_variant_percentages_summing_to_100_and_payloads(api) -> None:
    response = create(api, key="mv", filters={
        "groups": [{"properties": [{"key": "plan", "type": "person", "value": ["pro"], "operator": "exact"}],
                    "rollout_percentage": 100, "variant": "test"}],
        "multivariate": {"variants": [{"key": "control", "rollout_percentage": 50},
                                      {"key": "test", "rollout_percentage": 50}]},
        "payloads": {"test": {"color": "blue"}, "control": "\"red\""},
    })
    assert response.status_code == 201, response.text
    payloads = response.json()["filters"]["payloads"]
    assert payloads == {"test": '{"color": "blue"}', "control": '"red"'}
    assert response.json()["is_simple_flag"] is False


def test_update_bumps_version_and_409_on_conflicting_edit(api) -> None:
    flag = create(api, key="v").json()
    url = flags_url(api) + f"{flag['id']}/"
    first = api.patch(url, {"name": "one", "version": 1}).json()
    assert first["version"] == 2 and first["name"] == "one"
    # someone edited from version 1 while we moved to 2, changing the same field
    conflict = api.patch(url, {"name": "two", "version": 1, "original_flag": {"name": ""}})
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "conflict"
    assert api.get(url).json()["name"] == "one"
    # a stale version without conflicting changes goes through
    assert api.patch(url, {"active": False, "version": 1, "original_flag": {"active": True, "name": "one"}}).status_code == 200
    assert api.get(url).json()["version"] == 3


def test_patch_without_groups_keeps_filters(api) -> None:
    flag = create(api, key="keep").json()
    updated = api.patch(flags_url(api) + f"{flag['id']}/", {"filters": {"payloads": {}}}).json()
    assert updated["filters"]["groups"] == [STORED_GROUP]


def test_delete_is_405_with_empty_body(api) -> None:
    flag = create(api, key="del").json()
    response = api.delete(flags_url(api) + f"{flag['id']}/")
    assert response.status_code == 405 and response.content == b""
    assert api.get(flags_url(api) + f"{flag['id']}/").status_code == 200


def test_dependencies_and_cycles(api) -> None:
    base = create(api, key="base").json()
    dependent = create(api, key="dependent", filters={"groups": [{"properties": [
        {"key": str(base["id"]), "type": "flag", "operator": "flag_evaluates_to", "value": True}]}]})
    assert dependent.status_code == 201
    cycle = api.patch(flags_url(api) + f"{base['id']}/", {"filters": {"groups": [{"properties": [
        {"key": str(dependent.json()["id"]), "type": "flag", "operator": "flag_evaluates_to", "value": True}]}]}})
    assert cycle.status_code == 400
    assert cycle.json()["detail"] == "Circular dependency detected: base → dependent → base"
    self_dep = api.patch(flags_url(api) + f"{base['id']}/", {"filters": {"groups": [{"properties": [
        {"key": str(base["id"]), "type": "flag", "operator": "flag_evaluates_to", "value": True}]}]}})
    assert self_dep.json()["detail"] == "Feature flag 'base' cannot depend on itself"
    refused = api.patch(flags_url(api) + f"{base['id']}/", {"deleted": True})
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("Cannot delete this feature flag because other flags depend on it: dependent")


def test_list_filters_and_pagination(api) -> None:
    create(api, key="alpha", name="First", tags=["web"])
    create(api, key="beta", active=False)
    create(api, key="gamma", filters={"groups": [GROUP], "multivariate": {"variants": [
        {"key": "a", "rollout_percentage": 100}]}})
    keys = lambda **params: [f["key"] for f in api.get(flags_url(api), params=params).json()["results"]]
    assert keys() == ["gamma", "beta", "alpha"]
    assert keys(active="false") == ["beta"]
    assert keys(search="ALP") == ["alpha"] and keys(search="first") == ["alpha"]
    assert keys(type="multivariant") == ["gamma"]
    assert keys(type="boolean") == ["beta", "alpha"]
    assert keys(tags='["web"]') == ["alpha"]
    assert keys(order="key") == ["alpha", "beta", "gamma"]
    assert keys(excluded_properties='["beta"]') == ["gamma", "alpha"]
    page = api.get(flags_url(api), params={"limit": 1, "offset": 1}).json()
    assert page["count"] == 3 and [f["key"] for f in page["results"]] == ["beta"]


def test_cohort_condition_gets_cohort_name(api) -> None:
    cohort = api.post(f"/api/projects/{api.project_id}/cohorts/", {"name": "Pros", "filters": {"properties": {
        "type": "AND", "values": [{"type": "person", "key": "plan", "operator": "exact", "value": "pro"}]}}}).json()
    flag = create(api, key="c", filters={"groups": [{"properties": [
        {"key": "id", "type": "cohort", "value": cohort["id"]}], "rollout_percentage": 100}]}).json()
    assert flag["filters"]["groups"][0]["properties"][0]["cohort_name"] == "Pros"
    refused = api.patch(f"/api/projects/{api.project_id}/cohorts/{cohort['id']}/", {"deleted": True})
    assert refused.status_code == 400 and "used in 1 active feature flag" in refused.json()["detail"]


def test_behavioral_cohort_refused_in_flags(api) -> None:
    cohort = api.post(f"/api/projects/{api.project_id}/cohorts/", {"name": "Viewers", "filters": {"properties": {
        "type": "OR", "values": [{"type": "behavioral", "key": "$pageview", "value": "performed_event",
                                  "event_type": "events", "time_value": 30, "time_interval": "day"}]}}}).json()
    response = create(api, key="b", filters={"groups": [{"properties": [
        {"key": "id", "type": "cohort", "value": cohort["id"]}]}]})
    assert response.status_code == 400 and response.json()["code"] == "behavioral_cohort_found"


def _depends_on(flag_id: int, value: object = True) -> dict:
    return {"groups": [{"properties": [
        {"key": str(flag_id), "type": "flag", "operator": "flag_evaluates_to", "value": value}]}]}


def test_create_without_filters_gets_posthogs_default(api) -> None:
    response = api.post(flags_url(api), {"key": "bare"})
    assert response.status_code == 201, response.text
    flag = response.json()
    assert flag["filters"] == {"groups": [{"properties": [], "rollout_percentage": None}]}
    assert api.get(flags_url(api) + f"{flag['id']}/").json()["filters"] == flag["filters"]
    remote = api.post(flags_url(api), {"key": "settings", "is_remote_configuration": True}).json()
    assert remote["filters"]["groups"] == [{"properties": [], "rollout_percentage": 100, "variant": None}]


def test_dependency_on_a_disabled_flag_is_refused(api) -> None:
    off = create(api, key="off", active=False).json()
    refused = create(api, key="needs-off", filters=_depends_on(off["id"]))
    assert refused.status_code == 400
    assert refused.json()["detail"] == (
        f"Cannot create dependency on disabled flag 'off' (ID: {off['id']}). "
        "Flag dependencies must reference active flags only."
    )
    assert refused.json()["attr"] == "filters"
    # an inactive flag may not name one either, and nothing is stored
    assert create(api, key="also-off", active=False, filters=_depends_on(off["id"], False)).status_code == 400
    assert api.get(flags_url(api)).json()["count"] == 1


def test_enable_and_disable_refusals_name_the_flags(api) -> None:
    base = create(api, key="base").json()
    dependent = create(api, key="dependent", filters=_depends_on(base["id"])).json()
    refused = api.patch(flags_url(api) + f"{base['id']}/", {"active": False})
    assert refused.json()["detail"] == (
        f"Cannot disable this feature flag because other flags depend on it: dependent (ID: {dependent['id']}). "
        "Please update or disable the dependent flags first."
    )
    assert api.patch(flags_url(api) + f"{dependent['id']}/", {"active": False}).status_code == 200
    assert api.patch(flags_url(api) + f"{base['id']}/", {"active": False}).status_code == 200
    refused = api.patch(flags_url(api) + f"{dependent['id']}/", {"active": True})
    assert refused.status_code == 400
    assert refused.json()["detail"] == (
        f"Cannot enable this feature flag because it depends on disabled flags: base (ID: {base['id']}). "
        "Please enable the dependency flags first."
    )


def test_mixed_aggregation_is_accepted_condition_by_condition(api) -> None:
    filters = {"groups": [
        {"properties": [{"key": "email", "type": "person", "operator": "icontains", "value": "@corp"}],
         "rollout_percentage": 100},
        {"properties": [{"key": "plan", "type": "group", "group_type_index": 0, "operator": "exact", "value": "pro"}],
         "rollout_percentage": 100, "aggregation_group_type_index": 0},
    ]}
    response = create(api, key="mixed", filters=filters)
    assert response.status_code == 201, response.text
    stored = response.json()["filters"]
    assert stored["aggregation_group_type_index"] is None  # mixed: evaluated per condition
    assert [g["aggregation_group_type_index"] for g in stored["groups"]] == [None, 0]
    # all condition sets on one group type: the flag-level index follows them
    same = create(api, key="all-groups", filters={"aggregation_group_type_index": 0, "groups": [filters["groups"][1]]})
    assert same.json()["filters"]["aggregation_group_type_index"] == 0
    wrong = create(api, key="wrong", filters={"groups": [
        {"properties": [{"key": "plan", "type": "group", "group_type_index": 1, "value": "pro"}],
         "aggregation_group_type_index": 0}]})
    assert wrong.json()["detail"] == "Filters are not valid (group properties must match the condition set's group type)"


@pytest.mark.parametrize("pattern, detail", [
    ("(unclosed", "groups[0].properties[0].value: invalid regex pattern"),
    ("a" * 4097, "groups[0].properties[0].value: regex pattern is longer than 4096 characters"),
])
def test_regex_patterns_are_checked_on_save(api, pattern, detail) -> None:
    response = create(api, key="re", filters={"groups": [{"properties": [
        {"key": "email", "type": "person", "operator": "regex", "value": pattern}]}]})
    assert response.status_code == 400
    assert response.json()["detail"] == detail and response.json()["attr"] == "filters"
    assert api.get(flags_url(api)).json()["count"] == 0
