"""The OpenAPI document against a live server, tested by schemathesis with every check and
every phase (examples, coverage, fuzzing, stateful): each operation's documented parameters,
bodies and statuses hold for what it is sent.

Two things the document states and schemathesis cannot read, given to it as configuration
(derived from the document where possible, never by silencing a check for all operations):

- an operation PostHog always refuses (a hard DELETE, creating persons) documents 405 as its
  answer, so 405 is an accepted answer to valid data there;
- a few operations refuse some requests the schema allows, by a rule no JSON schema states
  (listed below with the rule): they may answer those with PostHog's 400.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from hedgerow.testing import LiveServer

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 40

REFUSED_BY_RULE = {
    "annotations_list": "date_from must not be after date_to",
    "cohorts_add_persons_to_static_cohort_partial_update": "only a static cohort takes persons",
    "cohorts_remove_person_from_static_cohort_partial_update": "only a static cohort loses persons",
    "cohorts_create": "PostHog's cohort filter tree and its cross-field rules",
    "cohorts_partial_update": "PostHog's cohort filter tree and its cross-field rules",
    "cohorts_update": "PostHog's cohort filter tree and its cross-field rules",
    "feature_flags_create": "a key is unique among live flags; PostHog's filter rules",
    "feature_flags_partial_update": "a key is unique among live flags; PostHog's filter rules",
    "feature_flags_update": "a key is unique among live flags; PostHog's filter rules",
    "property_definitions_list": "type=group needs a numeric group_type_index",
    "query_create": "the query node's own language (HogQL text, series, breakdowns...)",
    "annotations_create": "PostHog's annotation rules (scope against dashboard_item, dates)",
    "annotations_partial_update": "PostHog's annotation rules (scope against dashboard_item, dates)",
    "annotations_update": "PostHog's annotation rules (scope against dashboard_item, dates)",
    **{op: "PostHog's experiment rules (a valid, unused flag key; variants summing to 100; dates in order)"
       for op in ("experiments_create", "experiments_partial_update", "experiments_update")},
    **{op: "the webhook template's inputs (an http(s) url; templates of paths only)"
       for op in ("hog_functions_create", "hog_functions_partial_update", "hog_functions_update")},
    **{op: "the saved query node's own language (as query_create)"
       for op in ("insights_create", "insights_partial_update", "insights_update")},
    # The names' pattern (no control characters) is in the schema, but schemathesis's stateful
    # phase draws names outside it; its other phases hold to it.
    **{op: "names refuse control characters (see the pattern)" for op in (
        "projects_create", "projects_partial_update", "projects_update",
        "agents_create", "agents_partial_update", "agents_update",
    )},
}
"""operationId -> the rule by which a schema-valid request may still be PostHog's 400."""

DEFAULT_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


def _config(schema: dict) -> str:
    """schemathesis.toml: accepted answers to valid data, per operation that needs more."""
    blocks = []
    for methods in schema["paths"].values():
        for operation in methods.values():
            identifier = operation["operationId"]
            documented = set(operation["responses"])
            extra = []
            if not any(status.startswith("2") for status in documented) and "405" in documented:
                extra.append("405")  # its documented answer
            if identifier in REFUSED_BY_RULE:
                extra.append("400")
            if extra:
                statuses = ", ".join(f'"{s}"' for s in DEFAULT_ACCEPTED + extra)
                blocks.append(f'[[operations]]\ninclude-operation-id = "{identifier}"\n'
                              f"checks.positive_data_acceptance.expected-statuses = [{statuses}]\n")  # fmt: skip
    return "\n".join(blocks)


def test_schemathesis_finds_nothing(tmp_path) -> None:
    binary = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))
    with LiveServer(tmp_path / "data", env={"HEDGEROW_RATE_LIMITS_ENABLED": "false"}) as server:
        boot = server.bootstrap()
        schema = httpx.get(f"{server.url}/api/schema/").json()
        assert set(REFUSED_BY_RULE) <= {op["operationId"] for m in schema["paths"].values() for op in m.values()}
        config = tmp_path / "schemathesis.toml"
        config.write_text(_config(schema))
        run = subprocess.run(
            [binary, "--config-file", str(config), "run", f"{server.url}/api/schema/", "--url", server.url,
             "-H", f"Authorization: Bearer {boot['personal_api_key']}", "--checks", "all",
             "--max-examples", str(MAX_EXAMPLES), "--generation-deterministic", "--continue-on-failure",
             "--phases", "examples,coverage,fuzzing,stateful", "--no-color"],
            capture_output=True, text=True, timeout=900, cwd=tmp_path,  # its cache stays in tmp_path
        )  # fmt: skip
    assert run.returncode == 0, run.stdout[-8000:]
    summary = run.stdout[run.stdout.rfind("Test Phases:"):]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in summary, summary  # each phase ran, and passed
