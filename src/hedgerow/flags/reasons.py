"""Why a flag came out the way it did: codes, priority scores and descriptions.

When no condition matches, the evaluator keeps the highest-scoring reason seen across
the conditions (a later condition wins a tie). The scores are the server's.
"""

from __future__ import annotations

import enum


class Reason(enum.Enum):
    """A flag match reason: ``(code, score, description)``."""

    SUPER_CONDITION_VALUE = ("super_condition_value", 6, "Super condition value")
    HOLDOUT_CONDITION_VALUE = ("holdout_condition_value", 5, "Holdout condition value")
    CONDITION_MATCH = ("condition_match", 4, "Matched condition set {number}")
    OUT_OF_ROLLOUT_BOUND = ("out_of_rollout_bound", 3, "Out of rollout bound")
    NO_CONDITION_MATCH = ("no_condition_match", 2, "No matching condition set")
    NO_CONDITION_MATCH_GROUPS_NOT_EVALUATED = (
        "no_condition_match",
        2,
        "No matching condition set (group conditions were not evaluated because no group type was provided)",
    )
    NO_GROUP_TYPE = ("no_group_type", 1, "No group type")
    FLAG_DISABLED = ("flag_disabled", 0, "Feature flag is disabled")
    MISSING_DEPENDENCY = ("missing_dependency", -1, "Flag cannot be evaluated due to missing dependency")

    def __init__(self, code: str, score: int, template: str) -> None:
        self.code = code
        self.score = score
        self.template = template
        self.slot = template  # unique per member and cheap to hash (Enum.__hash__ is slow)

    def describe(self, condition_index: int | None) -> str:
        """The human description the server sends with this reason."""
        if self is Reason.CONDITION_MATCH:
            return self.template.format(number=(condition_index or 0) + 1)
        return self.template
