from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django_otp.admin import OTPAdminSite

from brands.health import healthz
from brands.two_factor import two_factor, two_factor_remove
from brands.views import ThrottledPasswordResetView, landing

from .metrics import metrics

# The admin asks staff for a code from their authenticator app as well as the password (approving a claim
# makes a brand's codes verify as authentic).
admin.site.__class__ = OTPAdminSite


def favicon(request):
    """Browsers and apps that ask for /favicon.ico without reading the page's <link rel="icon">."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


favicon.public = True

urlpatterns = [
    path("", include("scans.urls")),  # first: the public verify route is by far the busiest
    path("", landing, name="landing"),  # anonymous visitors: what Serialize is; people signed in: their dashboard
    path("healthz", healthz, name="healthz"),  # also answered early by HealthCheckMiddleware
    path("metrics", metrics, name="metrics"),
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("accounts/password_reset/", ThrottledPasswordResetView.as_view(), name="password_reset"),
    path("accounts/two-factor/", two_factor, name="two_factor"),
    path("accounts/two-factor/remove/", two_factor_remove, name="two_factor_remove"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("brands.urls")),  # sign-up, invitations, the verify page's logo and colour
    path("", include("notifications.urls")),  # an e-mail address's owner confirms or leaves
    path("", include("owners.urls")),  # an owner registers a unit from its verify page
    # The back office: every signed-in page, by area.
    path("", include("backoffice.urls.scans")),
    path("", include("backoffice.urls.brands")),
    path("", include("backoffice.urls.codes")),
    path("", include("backoffice.urls.distributors")),
    path("", include("backoffice.urls.alerts")),
    path("", include("backoffice.urls.recalls")),
    path("", include("backoffice.urls.notifications")),
    path("", include("backoffice.urls.vrs")),
    path("", include("vrs.urls")),  # trading partners' verification requests (DSCSA)
    path("", include("backoffice.urls.owners")),
    path("", include("backoffice.urls.rewards")),
    path("", include("api.urls")),  # /api/v1/, its schema and docs
]
