"""Every API resource, one module per area; each module registers its viewsets on the one router."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()  # every route ends with a slash, as the schema and the URLs the API gives out do

from . import account, activity, catalogue, codes, epcis, hooks, imports, owners, supply, vrs  # noqa: E402,F401 - they register
