from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from .problems import not_found
from .views import router

# Swagger UI and ReDoc style their pages from script: the docs (no brand data, no form of ours) allow inline
# styles; scripts stay our own files only.
docs_policy = csp_replace({"style-src": [SELF, UNSAFE_INLINE]})

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", docs_policy(SpectacularSwaggerSplitView.as_view(url_name="api_schema")), name="api_docs"),
    path("api/docs/redoc/", docs_policy(SpectacularRedocView.as_view(url_name="api_schema")), name="api_redoc"),
    path("api/v1/", include(router.urls)),
    # Keys, not cookies: no CSRF check (as DRF's views), or a POST to no route would get Django's HTML 403.
    re_path(r"^api/", csrf_exempt(not_found)),
]
