from tests.api.conftest import _clear_api_counters, outsider_api, read_api  # noqa: F401 - the API's key fixtures
