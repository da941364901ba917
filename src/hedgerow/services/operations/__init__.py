"""The operation catalogue: every use case, declared once, by resource."""

from hedgerow.services.catalogue import Catalogue
from hedgerow.services.operations import (
    agents,
    annotations,
    audit,
    cohorts,
    dashboards,
    definitions,
    feature_flags,
    flag_definitions,
    insights,
    organizations,
    persons,
    personal_api_keys,
    projects,
    query,
)

CATALOGUE = Catalogue().merge(
    projects.operations,
    organizations.operations,
    personal_api_keys.operations,
    feature_flags.operations,
    flag_definitions.operations,
    cohorts.operations,
    persons.operations,
    definitions.operations,
    query.operations,
    agents.operations,
    audit.operations,
    annotations.operations,
    insights.operations,
    dashboards.operations,
)
