"""Products, lots, batches (idempotent orders), print jobs and their files."""

from contextlib import contextmanager

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from codes import links, printing, services
from codes.models import (
    BatchState,
    CodeBatch,
    Lot,
    PrintFormat,
    PrintJob,
    PrintState,
    Product,
    ProductLink,
    SerialAlphabet,
)
from codes.printing.download import serve_print_file
from core.errors import ServiceError

from ..base import BrandScopedViewSet, PortalScopedViewSet
from ..idempotency import HEADER, MAX_KEY_LENGTH, idempotent
from ..serializers.catalogue import (
    BatchOrderSerializer,
    BatchSerializer,
    LotSerializer,
    PrintJobSerializer,
    PrintRequestSerializer,
    ProductLinkSerializer,
    ProductSerializer,
)
from . import router

IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    OpenApiParameter.HEADER,
    description="Send one with each new request; a retry with the same key gets the first answer and orders "
    "nothing twice. The same key with another body is a 422.",
)


def accepted(serializer) -> Response:
    """202: the work is queued; its status URL (also the Location) shows its progress."""
    body = serializer.data
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})


@contextmanager
def fields_named(names: dict[str, str]):
    """A service's refusal named by the API's field where the two names differ (the service's `lot` is `number`)."""
    try:
        yield
    except ServiceError as exc:
        if exc.field not in names:
            raise
        raise type(exc)(names[exc.field], exc.message) from exc


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """A row's id, not a choice among rows: an id of another brand finds nothing, as an unknown one does."""

    field_class = forms.IntegerField


class ProductFilter(filters.FilterSet):
    gtin = filters.CharFilter()
    ref = filters.CharFilter()
    serial_alphabet = filters.ChoiceFilter(choices=SerialAlphabet.choices)


class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BrandScopedViewSet):
    model = Product
    serializer_class = ProductSerializer
    write_permission = "products.manage"
    filterset_class = ProductFilter

    @extend_schema(responses={201: ProductSerializer}, summary="Add a product (a GTIN of yours, or none: a ref)")
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.create_product(brand=self.actor.brand, **serializer.validated_data)
        return Response(self.get_serializer(product).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change a product; its serial format and GTIN are frozen once it has codes (400)")
    def partial_update(self, request, product_id=None):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        product = services.update_product(product=serializer.instance, changes=serializer.validated_data)
        return Response(self.get_serializer(product).data)


class LotFilter(filters.FilterSet):
    product = IdFilter(field_name="product_id")
    number = filters.CharFilter()


class LotViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BrandScopedViewSet):
    model = Lot
    serializer_class = LotSerializer
    write_permission = "codes.order"
    filterset_class = LotFilter

    @extend_schema(
        responses={201: LotSerializer, 200: OpenApiResponse(LotSerializer, description="The lot existed already")},
        summary="Make a lot of a product, or find the one of that number",
    )
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with fields_named({"lot": "number", "expiry": "expires_on"}):
            number = services.clean_lot(number=data["number"], expires_on=data.get("expires_on"))
            existed = Lot.objects.filter(product=data["product"], number=number).exists()
            lot = services.get_or_create_lot(
                product=data["product"],
                number=number,
                expires_on=data.get("expires_on"),
                manufactured_on=data.get("manufactured_on"),
            )
        return Response(
            self.get_serializer(lot).data, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        )


class ProductLinkFilter(filters.FilterSet):
    product = IdFilter(field_name="product_id")
    link_type = filters.CharFilter()


class ProductLinkViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BrandScopedViewSet):
    """The links a product's GS1 Digital Link resolves to for machine clients (`?linkType=`, linksets)."""

    model = ProductLink
    serializer_class = ProductLinkSerializer
    write_permission = "products.manage"
    filterset_class = ProductLinkFilter

    @extend_schema(responses={201: ProductLinkSerializer}, summary="Attach a GS1 link (leaflet, product page …)")
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link = links.add_link(**serializer.validated_data)
        return Response(self.get_serializer(link).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None}, summary="Remove a link")
    def destroy(self, request, link_id=None):
        links.remove_link(link=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class BatchFilter(filters.FilterSet):
    product = IdFilter(field_name="product_id")
    lot = IdFilter(field_name="lot_id")
    state = filters.ChoiceFilter(choices=BatchState.choices)


class BatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BrandScopedViewSet):
    model = CodeBatch
    serializer_class = BatchSerializer
    write_permission = "codes.order"
    filterset_class = BatchFilter

    @extend_schema(
        request=BatchOrderSerializer,
        responses={202: BatchSerializer},
        parameters=[IDEMPOTENCY_KEY],
        summary="Order a batch of codes: generated by a worker, poll `status_url`",
    )
    @idempotent
    def create(self, request):
        order = BatchOrderSerializer(data=request.data, context=self.get_serializer_context())
        order.is_valid(raise_exception=True)
        data = order.validated_data
        values = {"product": data["product"], "quantity": data["quantity"], "with_pin": data["with_pin"]}
        values["ordered_by"] = self.actor.user
        if "lot" in data:
            batch = services.order_batch(lot=data["lot"], **values)
        else:
            with fields_named({"lot": "lot_number", "expiry": "expires_on"}):
                batch = services.order_batch_in_lot(
                    lot_number=data["lot_number"],
                    expires_on=data.get("expires_on"),
                    manufactured_on=data.get("manufactured_on"),
                    **values,
                )
        return accepted(self.get_serializer(batch))


class PrintJobFilter(filters.FilterSet):
    batch = IdFilter(field_name="batch_id")
    format = filters.ChoiceFilter(choices=PrintFormat.choices)
    state = filters.ChoiceFilter(choices=PrintState.choices)


FILE_TYPES = {"application/json", *printing.CONTENT_TYPES.values()}


class PrintJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalScopedViewSet):
    model = PrintJob
    serializer_class = PrintJobSerializer
    write_permission = "print.create"
    action_permissions = {"file": "print.download"}  # viewers may download, as in the dashboard
    # A distributor's key: the print jobs of the ranges it holds, as its portal lists them (ordering is the brand's).
    portal_permissions = {"list": "portal.print", "retrieve": "portal.print", "file": "portal.print"}
    filterset_class = PrintJobFilter

    def scope(self, rows):
        return rows.select_related("batch__product__brand", "batch__lot").prefetch_related("files")

    @extend_schema(
        request=PrintRequestSerializer,
        responses={202: PrintJobSerializer},
        parameters=[IDEMPOTENCY_KEY],
        summary="Print a batch (or positions of it): files rendered by workers, poll `status_url`",
    )
    @idempotent
    def create(self, request):
        asked = PrintRequestSerializer(data=request.data, context=self.get_serializer_context())
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        job = printing.create_print_job(
            batch=data["batch"],
            fmt=data["format"],
            options=data["options"],
            first_position=data.get("first_position"),
            last_position=data.get("last_position"),
            requested_by=self.actor.user,
        )
        return accepted(self.get_serializer(job))

    @extend_schema(
        responses={
            **{(200, kind): OpenApiTypes.BINARY for kind in FILE_TYPES},
            **{(206, kind): OpenApiTypes.BINARY for kind in FILE_TYPES},
            302: OpenApiResponse(description="Files on S3: a short-lived presigned URL in Location"),
            416: OpenApiResponse(description="The Range asked for lies outside the file"),
        },
        parameters=[OpenApiParameter("part", int, OpenApiParameter.PATH, description="1…n, or 0: the manifest")],
        summary="Download one file of a ready print job (resumable with Range; every download is logged)",
    )
    @action(detail=True, methods=["get"], url_path=r"files/(?P<part>[0-9]+)", url_name="file")
    def file(self, request, part, print_job_id=None):
        return serve_print_file(request, self.get_object(), int(part), actor=self.actor)


router.register("products", ProductViewSet, basename="product")
router.register("lots", LotViewSet, basename="lot")
router.register("product-links", ProductLinkViewSet, basename="product-link")
router.register("batches", BatchViewSet, basename="batch")
router.register("print-jobs", PrintJobViewSet, basename="print-job")
