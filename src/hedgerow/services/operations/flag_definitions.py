"""Local-evaluation definitions for server SDKs, and remote-configuration payloads.

A personal API key with ``feature_flag:read`` or the project's secret key (``phs_…``) may read
them. The answer carries a weak ETag; the REST door turns a matching ``If-None-Match`` into 304.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from hedgerow.errors import NotFound
from hedgerow.ids import is_digits
from hedgerow.services.catalogue import Catalogue, Context, Reply
from hedgerow.services.flag_definitions import etag

operations = Catalogue()


class DefinitionsInput(BaseModel):
    model_config = ConfigDict(extra="ignore")
    send_cohorts: str | None = None


class AllDefinitions(DefinitionsInput):
    """The current path always includes cohorts."""

    send_cohorts: str | None = ""


class RemoteConfigInput(BaseModel):
    model_config = ConfigDict(extra="ignore")
    flag_ref: str


def _definitions(ctx: Context, args: DefinitionsInput) -> Reply:
    document = ctx.services.flag_definitions.document(ctx.project_id, args.send_cohorts is not None)
    return Reply(200, document, {"ETag": etag(document), "Cache-Control": "private, must-revalidate"})


operations.operation("feature_flag.local_evaluation", "feature_flag:read", input=AllDefinitions,
                     rate="flag_definitions", accepts_project_secret=True)(_definitions)  # fmt: skip
operations.operation("feature_flag.local_evaluation_legacy", "feature_flag:read", input=DefinitionsInput,
                     rate="flag_definitions", accepts_project_secret=True)(_definitions)  # fmt: skip


@operations.operation("feature_flag.remote_config", "feature_flag:read", input=RemoteConfigInput,
                      rate="flag_definitions", accepts_project_secret=True)  # fmt: skip
def remote_config(ctx: Context, args: RemoteConfigInput) -> Any:
    """A remote-configuration flag's payload (by id or key), as server SDKs fetch it."""
    ref = args.flag_ref
    flags = ctx.services.flags
    flag = flags.get(ctx.project_id, ref) if is_digits(ref) else flags.by_key(ctx.project_id, ref)
    if flag.deleted:
        raise NotFound()
    return (flag.filters.get("payloads") or {}).get("true")
