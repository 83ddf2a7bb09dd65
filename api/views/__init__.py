"""Every API resource, one module per area; each module registers its viewsets on the one router."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter(trailing_slash="/?")

from . import account, activity, catalogue, codes, hooks, imports, supply  # noqa: E402,F401 - they register
