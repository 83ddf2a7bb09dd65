"""Admin pages that save through the apps' services: the admin cannot break a rule the dashboard keeps."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from .errors import ServiceError


class ServiceAdmin(admin.ModelAdmin):
    """A ModelAdmin whose `save_model` / `delete_model` call services. A refusal (ServiceError) rolls the
    whole change back (the admin wraps it in a transaction) and comes back as a message on the same page.
    Bulk deletion is off: it would skip the services."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as exc:
            return self._refused(request, exc, request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceError as exc:
            return self._refused(request, exc, request.get_full_path())

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @staticmethod
    def _refused(request, exc: ServiceError, url: str) -> HttpResponseRedirect:
        messages.error(request, f"{exc.field}: {exc.message}" if exc.field else exc.message)
        return HttpResponseRedirect(url)
