"""Personal API keys: ``/api/personal_api_keys/``."""

from hedgerow.api.routing import RouteTable

routes = RouteTable()

BASE = "/api/personal_api_keys/"
ONE = BASE + "{key_id}/"

routes.bind("GET", BASE, "personal_api_key.list", name="personal_api_keys_list")
routes.bind("POST", BASE, "personal_api_key.create", name="personal_api_keys_create", status=201)
routes.bind("GET", ONE, "personal_api_key.retrieve", name="personal_api_keys_retrieve")
routes.update(ONE, "personal_api_key.update", name="personal_api_keys")
routes.bind("DELETE", ONE, "personal_api_key.delete", name="personal_api_keys_destroy", status=204)
routes.bind("POST", ONE + "roll/", "personal_api_key.roll", name="personal_api_keys_roll_create")
