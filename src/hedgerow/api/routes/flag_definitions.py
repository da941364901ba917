"""Local-evaluation definitions for server SDKs: ``GET /flags/definitions?token=phc_…`` (current
SDKs), the older ``/api/feature_flag/local_evaluation/`` and
``/api/projects/:id/feature_flags/local_evaluation/``, and remote-configuration payloads."""

from hedgerow.api.routing import RouteTable

routes = RouteTable()
routes.bind("GET", "/flags/definitions/", "feature_flag.local_evaluation", name="flags_definitions",
            project_from_token=True)  # fmt: skip
routes.bind("GET", "/api/feature_flag/local_evaluation/", "feature_flag.local_evaluation_legacy",
            name="feature_flag_local_evaluation", project_from_token=True)  # fmt: skip
routes.bind("GET", "/api/projects/{project_id}/feature_flags/local_evaluation/",
            "feature_flag.local_evaluation_legacy", name="feature_flags_local_evaluation_retrieve",
            project_from_token=True)  # fmt: skip
routes.bind("GET", "/api/projects/{project_id}/feature_flags/{flag_ref}/remote_config/",
            "feature_flag.remote_config", name="feature_flags_remote_config_retrieve",
            project_from_token=True)  # fmt: skip
