"""A URLconf with one view that crashes, to see what a 500 shows and logs."""

from django.urls import include, path


def crash(request):
    raise RuntimeError("boom")


urlpatterns = [path("crash/", crash), path("", include("serialize_saas.urls"))]
