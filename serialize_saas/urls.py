from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from brands.health import healthz

urlpatterns = [
    path("", include("scans.urls")),  # first: the public verify route is by far the busiest
    path("", RedirectView.as_view(pattern_name="dashboard", permanent=False)),
    path("healthz", healthz, name="healthz"),  # also answered early by HealthCheckMiddleware
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("brands.urls")),
    path("", include("codes.urls")),
    path("", include("distributors.urls")),
]
