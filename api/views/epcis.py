"""EPCIS 2.0 (JSON-LD): a batch's or an assignment's events as one streamed EPCISDocument, and the EPCIS 2.0 REST
query binding's `GET …/epcis/events` with its standard filters, paged by `perPage` and `nextPageToken`.

Events are derived from the brand's rows by `epcis.queries`, read through the access layer as every API view reads:
another brand's batch is a 404, a key without `read` a 403.
"""

from datetime import datetime

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from codes.models import CodeBatch
from core.errors import ServiceError
from distributors.models import Assignment
from epcis import builder, queries

from ..base import BrandScopedViewSet
from . import router

LD_JSON = "application/ld+json"


class JsonLdRenderer(JSONRenderer):
    media_type = LD_JSON
    format = "jsonld"


DOCUMENT = {
    (200, LD_JSON): OpenApiResponse(OpenApiTypes.OBJECT, description="An EPCIS 2.0 EPCISDocument, streamed"),
    (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="The same document"),
}


def _document(actor, filters: queries.Filters, name: str) -> StreamingHttpResponse:
    """The events as one EPCISDocument, written while the serials are read, window by window."""
    found = (event for _key, event in queries.events(actor, filters))
    pieces = builder.document_pieces(found, created=timezone.now(), sender=actor.brand.name)
    response = StreamingHttpResponse(pieces, content_type=LD_JSON)
    response["Content-Disposition"] = f'attachment; filename="{name}.epcis.jsonld"'
    return response


class BatchEpcisViewSet(BrandScopedViewSet):
    model = CodeBatch
    renderer_classes = [JSONRenderer, JsonLdRenderer]

    @extend_schema(
        summary="The batch's EPCIS 2.0 events (commissioning, packing, shipping, receiving, status changes)",
        responses=DOCUMENT,
    )
    @action(detail=True, methods=["get"])
    def epcis(self, request, batch_id=None):
        batch = self.get_queryset().select_related("product", "lot").get(pk=batch_id)
        return _document(self.actor, queries.Filters(batch=batch), f"batch{batch.number}")


class AssignmentEpcisViewSet(BrandScopedViewSet):
    model = Assignment
    renderer_classes = [JSONRenderer, JsonLdRenderer]

    @extend_schema(
        summary="The EPCIS 2.0 events of this assignment's units: their commissioning, cartons, shipping, receipt",
        responses=DOCUMENT,
    )
    @action(detail=True, methods=["get"])
    def epcis(self, request, assignment_id=None):
        assignment = self.get_queryset().select_related("batch__product", "batch__lot").get(pk=assignment_id)
        filters = queries.Filters(batch=assignment.batch, assignment=assignment)
        return _document(self.actor, filters, f"assignment{assignment.pk}")


def _values(request, name: str) -> list[str]:
    """A list parameter: repeated, or its values separated by `|` as the EPCIS 2.0 REST binding writes lists."""
    return [v for raw in request.query_params.getlist(name) for v in raw.split("|") if v]


def _time(request, name: str) -> datetime | None:
    text = request.query_params.get(name)
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ServiceError(name, f"`{name}` must be a date and time (RFC 3339), e.g. 2026-01-31T00:00:00Z.") from None
    if timezone.is_naive(at):
        raise ServiceError(name, f"`{name}` needs its time zone (Z or ±hh:mm).")
    return at


def _per_page(request) -> int:
    text = request.query_params.get("perPage", "30")
    if not text.isdigit() or not 1 <= int(text) <= queries.MAX_PER_PAGE:
        raise ServiceError("perPage", f"`perPage` is a whole number from 1 to {queries.MAX_PER_PAGE}.")
    return int(text)


QUERY_PARAMETERS = [
    OpenApiParameter("EQ_bizStep", str, description="CBV business steps (bare or as URI), `|`-separated"),
    OpenApiParameter("GE_eventTime", OpenApiTypes.DATETIME, description="Events at or after this time"),
    OpenApiParameter("LT_eventTime", OpenApiTypes.DATETIME, description="Events before this time"),
    OpenApiParameter("MATCH_epc", str, description="GS1 Digital Link URIs of units or SSCCs, `|`-separated"),
    OpenApiParameter("perPage", int, description=f"Events a page, 1 to {queries.MAX_PER_PAGE} (30)"),
    OpenApiParameter("nextPageToken", str, description="The `Link: rel=next` token of the previous page"),
]


class EventViewSet(BrandScopedViewSet):
    """The EPCIS 2.0 REST query binding's event resource over the brand's events."""

    model = CodeBatch  # the events are derived; the access layer still decides who may ask
    renderer_classes = [JSONRenderer, JsonLdRenderer]

    @extend_schema(
        summary="EPCIS 2.0 events (SimpleEventQuery) as an EPCISQueryDocument, oldest first, paged",
        parameters=QUERY_PARAMETERS,
        responses={(200, LD_JSON): OpenApiTypes.OBJECT, (200, "application/json"): OpenApiTypes.OBJECT},
    )
    def list(self, request):
        filters, per_page = self._filters(request), _per_page(request)
        found, token = queries.page(self.actor, filters, per_page)
        body = builder.query_document(found, created=timezone.now(), query_name="SimpleEventQuery")
        response = Response(body, content_type=LD_JSON)
        if token:
            query = request.query_params.copy()
            query["nextPageToken"] = token
            response["Link"] = f'<{request.build_absolute_uri(request.path)}?{query.urlencode()}>; rel="next"'
            response["GS1-Next-Page-Token"] = token
        return response

    def _filters(self, request) -> queries.Filters:
        steps = _values(request, "EQ_bizStep")
        unknown = [s for s in steps if builder.biz_step_word(s) not in builder.BIZ_STEPS]
        epcs = _values(request, "MATCH_epc")
        units, ssccs = queries.units_named(self.actor, epcs)
        token = request.query_params.get("nextPageToken")
        return queries.Filters(
            # A business step no event of ours has matches nothing (a standard step we never record is no error).
            biz_steps=frozenset(builder.biz_step_word(s) for s in steps if s not in unknown) if steps else None,
            since=_time(request, "GE_eventTime"),
            before=_time(request, "LT_eventTime"),
            units=units,
            ssccs=ssccs,
            epcs_asked=bool(epcs),
            after=queries.parse_page_token(token) if token else (),
        )


router.register("batches", BatchEpcisViewSet, basename="batch-epcis")
router.register("assignments", AssignmentEpcisViewSet, basename="assignment-epcis")
router.register("epcis/events", EventViewSet, basename="epcis-event")
