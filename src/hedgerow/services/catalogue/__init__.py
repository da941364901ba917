"""The operation catalogue's machinery: declaring operations and running them.

An operation (:mod:`.operation`) is declared once with its scope, place, input model, output
and handler; :func:`invoke` (or :func:`admit` then :func:`perform`) runs it for any door.

Outputs (:mod:`.output`): a handler returns an :class:`Output` model (or a ``Listed`` page of
them, or a ``Reply`` around one) and the operation says so with ``output=TheModel``;
``output=EMPTY`` answers with no body. The doors turn results into JSON with :func:`wire`,
and the OpenAPI responses and MCP ``outputSchema`` come from the same model, so a resource is
shaped in exactly one place. To add a resource: subclass ``Output`` with its JSON fields in
wire order, build it in a classmethod ``of(...)``, return it from the handlers, declare
``output=`` on its operations. See :mod:`hedgerow.services.catalogue.output` for details.
"""

from hedgerow.services.catalogue.invoke import Admission, Detail, Where, abandon, admit, invoke, perform
from hedgerow.services.catalogue.operation import (
    Catalogue,
    Channel,
    Context,
    Listed,
    NoInput,
    Operation,
    Reply,
    Tool,
)
from hedgerow.services.catalogue.output import EMPTY, ErrorBody, Output, Success, wire

__all__ = [
    "Admission", "abandon", "admit", "perform",
    "Catalogue", "Channel", "Context", "Detail", "EMPTY", "ErrorBody", "Listed", "NoInput", "Operation",
    "Output", "Reply", "Success", "Tool", "Where", "invoke", "wire",
]
