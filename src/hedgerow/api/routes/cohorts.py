"""Cohorts: ``/api/projects/:id/cohorts/``."""

from hedgerow.api.routing import RouteTable

routes = RouteTable()

BASE = "/api/projects/{project_id}/cohorts/"
ONE = BASE + "{cohort_id:int}/"

routes.bind("GET", BASE, "cohort.list", name="cohorts_list")
routes.bind("POST", BASE, "cohort.create", name="cohorts_create", status=201)
routes.bind("GET", ONE, "cohort.retrieve", name="cohorts_retrieve")
routes.update(ONE, "cohort.update", name="cohorts")
routes.bind("GET", ONE + "persons/", "cohort.persons", name="cohorts_persons_retrieve")
routes.bind("PATCH", ONE + "add_persons_to_static_cohort/", "cohort.add_persons",
            name="cohorts_add_persons_to_static_cohort_partial_update")  # fmt: skip
routes.bind("PATCH", ONE + "remove_person_from_static_cohort/", "cohort.remove_person",
            name="cohorts_remove_person_from_static_cohort_partial_update")  # fmt: skip
routes.bind("DELETE", ONE, "cohort.destroy", name="cohorts_destroy", status=405)
