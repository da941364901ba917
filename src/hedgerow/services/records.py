"""The records the services hand to their callers (the API, MCP, the CLI).

The stores define and persist them; callers name them through this module so that nothing
above the services imports a store.
"""

from __future__ import annotations

from hedgerow.store.meta.cohorts import CohortRecord
from hedgerow.store.meta.definitions import EventDefinitionRow, PropertyDefinitionRow
from hedgerow.store.meta.flags import FlagRecord
from hedgerow.store.meta.keys import PersonalAPIKeyRecord
from hedgerow.store.meta.tenancy import Organization, Project, User

__all__ = [
    "CohortRecord",
    "EventDefinitionRow",
    "FlagRecord",
    "Organization",
    "PersonalAPIKeyRecord",
    "Project",
    "PropertyDefinitionRow",
    "User",
]
