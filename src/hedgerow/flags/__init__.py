"""Pure feature-flag evaluator, bit-exact with PostHog's ``/flags`` service.

No I/O: callers load definitions and person data, then::

    flag_set = compile_flags(flags, cohorts=..., group_type_mapping=..., timezone=...)
    results = evaluate_flags(flag_set, EvaluationContext(distinct_id="u1", ...))
    body = {"flags": {key: result.to_v2() for key, result in results.items()}}

Where this knowingly differs from the server copy it was read from:

* inactive flags come back as ``flag_disabled`` records (the server skips them);
* regexes run on the ``regex`` module with a 50 ms search limit instead of fancy-regex
  with a 10 000-step backtrack limit (syntax edge cases may differ);
* absolute dates in unusual shapes: only a subset of the ``dateparser`` crate's formats;
* cohort trees: ``{}`` matches and deeper nesting is evaluated (the server reads exactly
  two levels and fails on anything else); behavioural cohorts must be precomputed by the
  caller (``cohorts={id: None}`` plus ``static_cohort_ids``).
"""

from hedgerow.flags.compile import CompiledFlag, FlagSet, compile_flags
from hedgerow.flags.evaluate import evaluate_flag, evaluate_flags
from hedgerow.flags.model import EvaluationContext, FlagDefinition, FlagResult
from hedgerow.flags.reasons import Reason

__all__ = [
    "CompiledFlag",
    "EvaluationContext",
    "FlagDefinition",
    "FlagResult",
    "FlagSet",
    "Reason",
    "compile_flags",
    "evaluate_flag",
    "evaluate_flags",
]
