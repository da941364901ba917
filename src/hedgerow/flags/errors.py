"""Errors that fail one flag's evaluation (the flag comes back with ``failed: true``)."""

from __future__ import annotations


class EvaluationError(Exception):
    """One flag could not be evaluated; ``code`` and ``description`` are the server's."""

    code = "internal_error"
    description = "Internal error"

    def __init__(self, code: str | None = None, description: str | None = None) -> None:
        super().__init__(description or self.description)
        if code is not None:
            self.code = code
        if description is not None:
            self.description = description


def cohort_not_found() -> EvaluationError:
    return EvaluationError("dependency_not_found_cohort", "Cohort dependency not found")


def cohort_cycle() -> EvaluationError:
    return EvaluationError("dependency_cycle_cohort", "Cohort dependency cycle detected")


def cohort_filters_unreadable() -> EvaluationError:
    return EvaluationError("cohort_filters_parsing_error", "Failed to parse cohort filters")
