"""Pure feature-flag evaluator, bit-exact with PostHog's ``/flags`` service.

No I/O: callers load definitions and person data, then::

    flag_set = compile_flags(flags, cohorts=..., group_type_mapping=..., timezone=...)
    results = evaluate_flags(flag_set, EvaluationContext(distinct_id="u1", ...))
    body = {"flags": {key: result.to_v2() for key, result in results.items()}}
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
