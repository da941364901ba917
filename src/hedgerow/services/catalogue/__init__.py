"""The operation catalogue's machinery: declaring operations and running them."""

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

__all__ = [
    "Admission", "abandon", "admit", "perform",
    "Catalogue", "Channel", "Context", "Detail", "Listed", "NoInput", "Operation", "Reply",
    "Tool", "Where", "invoke",
]
