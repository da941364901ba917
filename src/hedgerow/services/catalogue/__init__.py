"""The operation catalogue's machinery: declaring operations and running them."""

from hedgerow.services.catalogue.invoke import Detail, Where, invoke
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

__all__ = [
    "Catalogue", "Channel", "Context", "Detail", "Listed", "NoInput", "Operation", "Reply",
    "Tool", "Where", "invoke",
]
