from tests.api.conftest import outsider_api, read_api  # noqa: F401 - the API's key fixtures
