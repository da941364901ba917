"""The running server's parts, opened once at start-up and shared by every request."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from hedgerow.auth.audit import AuditLog
from hedgerow.auth.ratelimit import RateLimiter
from hedgerow.config import ConfigError, Settings
from hedgerow.ingest.persons import Changes
from hedgerow.ingest.pipeline import Ingestor
from hedgerow.ingest.pipeline import Project as IngestProject
from hedgerow.ingest.person_replica import CaughtUpEvents, PersonReplica
from hedgerow.ingest.shared_persons import SharedPersons
from hedgerow.services.actions import ActionService
from hedgerow.services.agents import AgentService
from hedgerow.services.annotations import AnnotationService
from hedgerow.services.dashboards import DashboardService
from hedgerow.services.insights import InsightService
from hedgerow.services.cohort_calculation import CohortCalculator
from hedgerow.services.cohort_membership import CohortMembership
from hedgerow.services.cohorts import CohortService
from hedgerow.services.definitions import DefinitionsService, MetaDefinitionSink
from hedgerow.services.experiments import ExperimentService
from hedgerow.services.feature_flags import FlagService
from hedgerow.services.flag_definitions import FlagDefinitions
from hedgerow.services.delivery import Delivery
from hedgerow.services.flag_evaluation import FlagEvaluation, PeopleLookup
from hedgerow.services.hog_functions import HogFunctionService
from hedgerow.services.keys import KeyService
from hedgerow.services.group_cache import SharedGroupCache
from hedgerow.services.person_cache import SharedPersonCache
from hedgerow.services.persons import PersonsService
from hedgerow.services.query import QueryService
from hedgerow.services.recordings import Recordings
from hedgerow.services.tenancy import ProjectService
from hedgerow.store.data_dir import prepare_data_dir
from hedgerow.store.events.engines import open_event_store
from hedgerow.store.events.protocol import EventStore
from hedgerow.store.meta.db import MetaDB
from hedgerow.store.meta.identity import SharedIdentityStore
from hedgerow.store.meta.identity_feed import IdentityFeed
from hedgerow.store.meta.tenancy import Project

TOKEN_CACHE_SECONDS = 5.0


class TokenCache:
    """Project token -> project, cached briefly (a new project is found on its first use)."""

    def __init__(self, projects: ProjectService) -> None:
        self._projects = projects
        self._cache: dict[str, tuple[float, Project]] = {}

    def __call__(self, token: str) -> Project | None:
        now = time.monotonic()
        hit = self._cache.get(token)
        if hit is not None and hit[0] > now:
            return hit[1]
        project = self._projects.by_token(token)
        if project is not None:
            self._cache[token] = (now + TOKEN_CACHE_SECONDS, project)
        return project

    def for_ingestion(self, token: str) -> IngestProject | None:
        project = self(token)
        if project is None:
            return None
        settings = project.settings
        return IngestProject(project.id, anonymize_ips=bool(settings.get("anonymize_ips")),
                             ingested_event=bool(settings.get("ingested_event")))  # fmt: skip


@dataclass
class Services:
    """Stores and use cases, wired together from :class:`Settings`.

    The analytics parts (``events``, ``ingestor``, ``persons``) exist only in the server
    process: the DuckDB file has one owner, so CLI commands open the metadata side only.
    """

    settings: Settings
    meta: MetaDB
    audit: AuditLog
    limiter: RateLimiter
    projects: ProjectService
    keys: KeyService
    agents: AgentService
    annotations: AnnotationService
    actions: ActionService
    insights: InsightService
    dashboards: DashboardService
    flags: FlagService
    experiments: ExperimentService
    cohorts: CohortService
    flag_definitions: FlagDefinitions
    definitions: DefinitionsService
    flag_evaluation: FlagEvaluation
    project_for_token: TokenCache
    query: QueryService
    hog_functions: HogFunctionService
    events: EventStore | None = None
    ingestor: Ingestor | None = None
    persons: PersonsService | None = None
    definition_sink: MetaDefinitionSink | None = None
    recordings: Recordings | None = None
    membership: CohortMembership | None = None
    cohort_calculator: CohortCalculator | None = None
    delivery: Delivery | None = None

    @classmethod
    def open(cls, settings: Settings, *, analytics: bool = False) -> "Services":
        prepare_data_dir(settings.data_dir)
        meta = MetaDB(settings.database_url)
        meta.migrate()
        projects = ProjectService(meta)
        people = PeopleLookup(None)
        evaluation = FlagEvaluation(meta, people)
        actions = ActionService(meta)
        query = QueryService(meta, None, actions=actions)
        flags = FlagService(meta, on_change=evaluation.changed)
        services = cls(
            settings=settings,
            meta=meta,
            audit=AuditLog(meta),
            limiter=RateLimiter(settings),
            projects=projects,
            keys=KeyService(meta),
            agents=AgentService(meta),
            annotations=AnnotationService(meta),
            actions=actions,
            insights=InsightService(meta, query.check),
            dashboards=DashboardService(meta),
            flags=flags,
            experiments=ExperimentService(meta, flags),
            cohorts=CohortService(meta, on_change=evaluation.changed),
            flag_definitions=FlagDefinitions(meta, people),
            definitions=DefinitionsService(meta),
            flag_evaluation=evaluation,
            project_for_token=TokenCache(projects),
            query=query,
            hog_functions=HogFunctionService(meta),
        )
        if analytics:
            services._open_analytics()
        return services

    def _open_analytics(self) -> None:
        self.events = open_event_store(self.settings.events_url, self.settings.events_memory)
        self.query.events = self.events
        self.definition_sink = MetaDefinitionSink(self.meta)
        resolve_token = self.project_for_token.for_ingestion
        shared, cache, groups = None, None, None
        if self.settings.persons == "shared":
            shared = SharedPersons(SharedIdentityStore(self.meta))
            cache, groups = SharedPersonCache(shared.store), SharedGroupCache(shared.store)
            shared.on_change = _both(cache.changed, groups.changed)
        self.ingestor = Ingestor(self.events, resolve_token, definitions=self.definition_sink,
                                 on_first_event=self.projects.mark_ingested, shared=shared)  # fmt: skip
        replica = None
        if shared is not None:
            # Reads of persons answer from the shared truth: the events store catches up first.
            replica = PersonReplica(IdentityFeed(self.meta), self.ingestor)
            self.events = CaughtUpEvents(self.events, replica)
            self.query.events = self.events
        self.recordings = Recordings(self.events, resolve_token, offload=self.ingestor.in_worker)
        self.membership = CohortMembership(self.events, self.ingestor, self.flag_evaluation.changed)
        self.flag_evaluation.people.attach(self.ingestor, self.membership, cache, groups)
        self.cohort_calculator = CohortCalculator(self)
        self.ingestor.definitions.seed(*self.definition_sink.known())
        self.ingestor.start()
        if replica is not None:
            replica.catch_up()  # a new process replays the feed before it answers
        self.persons = PersonsService(self.ingestor, self.events)
        # Before the server answers: the outbox must be filled from the first event on.
        self.delivery = Delivery(self.settings, self.meta, self.events, self.projects.get, self.actions.definitions)
        self.hog_functions.on_change = self.delivery.changed
        self.actions.on_change = self.delivery.changed
        self.projects.on_change = self.delivery.changed
        self.delivery.start()

    def close(self) -> None:
        if self.delivery is not None:
            self.delivery.close()
        if self.cohort_calculator is not None:
            self.cohort_calculator.close()
        self.query.close()
        if self.ingestor is not None:
            self.ingestor.close()
        if self.definition_sink is not None:
            self.definition_sink.close()
        if self.events is not None:
            self.events.close()
        self.audit.close()
        self.meta.dispose()


def _both(first: Callable[[int, Changes], None],
          second: Callable[[int, Changes], None]) -> Callable[[int, Changes], None]:  # fmt: skip
    def changed(team_id: int, changes: Changes) -> None:
        first(team_id, changes)
        second(team_id, changes)

    return changed
