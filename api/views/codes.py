"""Codes (lookup, list, status changes, bulk changes) and recalls.

Reads go through the access layer (`for_actor`); the code table is read by its two indexes only, (product,
ordinal) and (product, serial): a batch is an ordinal range of its product, so a list by batch is a range scan
in print order, and nothing counts the table. Writes are codes.recalls' status changes, the audit rows the
dashboard makes.
"""

from collections import defaultdict

import django_filters
from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from codes import gs1, packstates, recalls
from codes.models import Code, CodeBatch, CodeStatus, Product, StatusChange
from codes.serials import SerialFormat
from core.errors import ServiceError
from owners import recall_messages
from scans import recall_report
from scans.products import product_cache

from ..base import BrandScopedViewSet
from ..pagination import Cursor
from ..problems import Conflict
from ..serializers import codes as shapes
from . import router


class PrintOrder(Cursor):
    ordering = "ordinal"  # within one product (a batch's): the (product, ordinal) index, in print order


def _visible_batches(request):
    return CodeBatch.objects.for_actor(request.actor) if hasattr(request, "actor") else CodeBatch.objects.none()


class CodeFilter(django_filters.FilterSet):
    batch = django_filters.ModelChoiceFilter(
        queryset=_visible_batches,
        required=True,
        method="in_batch",
        help_text="The batch, by id (required)",
        error_messages={
            "required": "Give `batch`: the id of a batch of yours (codes are listed a batch at a time).",
            "invalid_choice": "No batch of yours has this id: give `batch` as the id of a batch of yours.",
        },
    )
    status = django_filters.ChoiceFilter(choices=CodeStatus.choices, help_text="Stored pack state")

    class Meta:
        model = Code
        fields = ["batch", "status"]

    def in_batch(self, codes, _name, batch: CodeBatch):
        # Its ordinal range, not batch_id (which has no index): a range scan of (product, ordinal).
        return codes.filter(
            product_id=batch.product_id, ordinal__gte=batch.first_ordinal, ordinal__lt=batch.end_ordinal
        )


LOOKUP_PARAMETERS = [
    OpenApiParameter("serial", str, description="A serial, with `gtin` or `product`"),
    OpenApiParameter("gtin", str, description="The serial's product by GTIN"),
    OpenApiParameter("product", int, description="The serial's product by id"),
    OpenApiParameter("batch", int, description="A batch, with `position`"),
    OpenApiParameter("position", int, description="1-based place in the batch's print order"),
    OpenApiParameter("url", str, description="A whole verify URL (GS1 Digital Link, or a product ref's)"),
]


class CodeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BrandScopedViewSet):
    """A brand's codes: by batch (and status), by id, or looked up as people and systems name them."""

    model = Code
    serializer_class = shapes.CodeSerializer
    parser_classes = [JSONParser]  # lists of serials and ids: JSON only
    pagination_class = PrintOrder
    filterset_class = CodeFilter
    action_permissions = {
        "status": ("brand.view", "codes.status"),  # as the dashboard's code page: one unit, any state
        "bulk_status": ("brand.view", "statuses.change"),  # as the dashboard's change of many units
    }

    def scope(self, rows):
        return rows.select_related("product", "batch__lot")

    def filter_queryset(self, rows):
        return super().filter_queryset(rows) if self.action == "list" else rows  # a batch is the list's to ask

    @extend_schema(parameters=LOOKUP_PARAMETERS, responses=shapes.CodeSerializer, summary="Look a code up")
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def lookup(self, request):
        query = request.query_params
        if query.get("url"):
            code = self._by_url(query["url"])
        elif query.get("serial"):
            code = self._by_serial(query["serial"], self._product(query))
        elif query.get("batch") or query.get("position"):
            code = self._by_position(_number(query, "batch"), _number(query, "position"))
        else:
            raise ServiceError("serial", "Give `serial` (with `gtin` or `product`), `batch` and `position`, or `url`.")
        if code is None:
            raise NotFound("No such code.")
        return Response(self.get_serializer(code).data)

    def _product(self, query) -> tuple[int, SerialFormat] | None:
        """The product a query names (`gtin` or `product`), as its id and serial format, if it is the actor's."""
        if query.get("gtin"):
            return self._known(_gtin(query["gtin"]))
        if query.get("product"):
            product = Product.objects.for_actor(self.actor).filter(pk=_number(query, "product")).first()
            return (product.pk, product.serial_format) if product else None
        raise ServiceError("gtin", "A serial needs its product: `gtin` or `product`.")

    def _known(self, lookup: str) -> tuple[int, SerialFormat] | None:
        """A product by GTIN-14 or ref from verify's per-process product cache (no query once warm), if it is
        the actor's brand's (the code's read below is the access layer's in any case)."""
        info = product_cache.get(lookup)
        if info is None or info.brand.pk != self.actor.brand.pk:
            return None
        return info.product_id, info.codec.format

    def _by_serial(self, serial: str, product: tuple[int, SerialFormat] | None) -> Code | None:
        if product is None:
            return None
        product_id, serial_format = product
        return self.get_queryset().filter(product_id=product_id, serial=serial_format.normalise(serial.strip())).first()

    def _by_position(self, batch_id: int, position: int) -> Code | None:
        batch = CodeBatch.objects.for_actor(self.actor).filter(pk=batch_id).first()
        if batch is None:
            return None
        if not 1 <= position <= batch.quantity:
            raise ServiceError("position", f"Positions run from 1 to {batch.quantity:,}.")
        ordinal = batch.first_ordinal + position - 1
        return self.get_queryset().filter(product_id=batch.product_id, ordinal=ordinal).first()

    def _by_url(self, url: str) -> Code | None:
        """As verify reads a scan: the link parsed strictly, its product by GTIN or ref, the serial in its
        product's spelling, and a lot or expiry that is not the unit's own is no code of ours (an altered label)."""
        try:
            link = gs1.parse_verify_url(url)
        except gs1.GS1Error as exc:
            raise ServiceError("url", exc.message) from None
        if link.serial is None:
            raise ServiceError("url", "The URL names a product, not one unit: it has no serial (/21/).")
        code = self._by_serial(link.serial, self._known(link.key))
        if code is None or (link.lot is not None and link.lot != code.batch.lot.number):
            return None
        if link.expiry is not None and link.expiry != code.batch.lot.expires_on:
            return None
        return code

    @extend_schema(request=shapes.UnitStatusSerializer, responses=shapes.UnitStatusResultSerializer)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def status(self, request, code_id=None):
        """Change one unit's pack state (409 when the rules leave it as it is, saying why)."""
        code = self.get_object()
        asked = shapes.UnitStatusSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        before = code.status
        change = recalls.change_unit_status(
            brand=self.actor.brand,
            code=code,
            to_status=asked.validated_data["status"],
            reason=asked.validated_data["reason"],
            created_by=self.actor.user,
        )
        code.refresh_from_db()
        if not change.codes_changed:
            raise Conflict(packstates.refusal(code.status or before, change.to_status) or "The unit was not changed.")
        return Response({"change_id": change.pk, "code": self.get_serializer(code).data})

    @extend_schema(
        request=shapes.BulkStatusSerializer,
        responses={200: shapes.BulkResultSerializer, 202: shapes.JobSerializer},
        summary="Change many units' pack state: up to 1,000 at once, more as a job",
    )
    @action(detail=False, methods=["post"], url_path="bulk-status", filter_backends=[], pagination_class=None)
    def bulk_status(self, request):
        asked = shapes.BulkStatusSerializer(data=request.data, context=self.get_serializer_context())
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        change_args = {
            "brand": self.actor.brand,
            "to_status": data["status"],
            "reason": data["reason"],
            "consumer_message": data.get("consumer_message", ""),
            "created_by": self.actor.user,
        }
        if "codes" in data:
            return self._bulk_by_ids(data["codes"], change_args)
        product = _product(Product.objects.for_actor(self.actor), data)
        if len(data["serials"]) > recalls.APPLY_NOW_LIMIT:
            change = recalls.plan_change(product=product, serials=data["serials"], **change_args)
            url = _status_url(request, change)
            body = {"change_id": change.pk, "state": change.state, "quantity": change.quantity, "status_url": url}
            return Response(body, status=http.HTTP_202_ACCEPTED, headers={"Location": url})
        with transaction.atomic():
            change, results = recalls.change_units_now(product=product, serials=data["serials"], **change_args)
        return Response(_bulk_answer([change], results))

    def _bulk_by_ids(self, ids: list[int], change_args: dict) -> Response:
        """Codes by id, of any of the brand's products: one change per product, all in one transaction."""
        serials_by_product = defaultdict(list)
        for product_id, serial in self.get_queryset().filter(pk__in=set(ids)).values_list("product_id", "serial"):
            serials_by_product[product_id].append(serial)
        products = Product.objects.in_bulk(list(serials_by_product))
        changes, results = [], []
        with transaction.atomic():
            for product_id, serials in serials_by_product.items():
                change, done = recalls.change_units_now(product=products[product_id], serials=serials, **change_args)
                changes.append(change)
                results += done
        by_id = {r.code_id: r for r in results}
        ordered = [by_id.get(i) or recalls.UnitResult("", i, None, False, "No such code.") for i in ids]
        return Response(_bulk_answer(changes, ordered))


def _bulk_answer(changes: list[StatusChange], results: list[recalls.UnitResult]) -> dict:
    def outcome(r: recalls.UnitResult) -> str:
        return "changed" if r.changed else "not_found" if r.status is None else "unchanged"

    return {
        "changes": [c.pk for c in changes],
        "changed": sum(c.codes_changed for c in changes),
        "results": [
            {"serial": r.serial, "code_id": r.code_id, "status": r.status, "outcome": outcome(r), "detail": r.refusal}
            for r in results
        ],
    }


def _number(query, name: str) -> int:
    value = query.get(name, "")
    if not value.isdigit() or len(value) > 18:
        raise ServiceError(name, f"`{name}` must be a positive whole number.")
    return int(value)


class RecallFilter(django_filters.FilterSet):
    # Ids as plain numbers: a choice filter would check them against every brand's rows (an oracle).
    product = django_filters.NumberFilter(field_name="product_id")
    batch = django_filters.NumberFilter(field_name="batch_id")
    lot = django_filters.NumberFilter(field_name="lot_id")

    class Meta:
        model = StatusChange
        fields = ["to_status", "state", "scope", "product", "batch", "lot"]


class RecallViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BrandScopedViewSet):
    """Recalls, and every other status change of many units (their audit rows): create, progress, report."""

    model = StatusChange
    serializer_class = shapes.RecallSerializer
    parser_classes = [JSONParser]
    filterset_class = RecallFilter
    write_permission = "recalls.create"

    def scope(self, rows):
        return rows.select_related("product", "lot").defer("serials")  # up to a million serials: never shipped

    @extend_schema(request=shapes.RecallCreateSerializer, responses={202: shapes.RecallCreatedSerializer})
    def create(self, request):
        """Recall a lot, a batch (or a range of its positions) or listed serials; a worker applies it."""
        asked = shapes.RecallCreateSerializer(data=request.data, context=self.get_serializer_context())
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        change = recalls.recall(
            brand=self.actor.brand,
            reason=data["reason"],
            consumer_message=data.get("consumer_message", ""),
            consumer_messages=data.get("consumer_messages"),
            created_by=self.actor.user,
            **self._scope(data),
        )
        url = _status_url(request, change)
        body = shapes.RecallCreatedSerializer(change, context={"status_url": url}).data
        return Response(body, status=http.HTTP_202_ACCEPTED, headers={"Location": url})

    def _scope(self, data) -> dict:
        """The service's scope arguments (ids were read through the access layer by the serializer's fields:
        another brand's is no such row)."""
        if "batch" in data:
            positions = {name: data.get(name) for name in ("first_position", "last_position")}
            return {"batch": data["batch"], **positions}
        if "lot" in data:
            return {"lot": data["lot"]}
        if "lot_number" not in data and "serials" not in data:
            return {}  # no scope: the service says which to choose
        product = _product(Product.objects.for_actor(self.actor), data)
        if "lot_number" in data:
            return {"lot": recalls.lot_by_number(product=product, number=data["lot_number"])}
        return {"product": product, "serials": data["serials"]}

    @extend_schema(responses=shapes.RecallReportSerializer, summary="The dashboard's report on a recall")
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def report(self, request, recall_id=None):
        change = self.get_object()
        owners = recall_messages.report(change) if change.is_recall else None
        report = {"change": change, "report": recall_report.summary(change), "owners": owners}
        return Response(shapes.RecallReportSerializer(report).data)


def _one(rows, field: str, **lookup):
    found = rows.filter(**lookup).first()
    if found is None:
        raise ServiceError(field, f"No such {field}.")
    return found


def _product(products, data: dict) -> Product:
    """The product a body names by `gtin` or by `product` (its id), among the actor's."""
    if data.get("gtin"):
        return _one(products, "gtin", gtin=_gtin(data["gtin"]))
    if data.get("product"):
        return data["product"]  # read through the access layer by the serializer's field
    raise ServiceError("gtin", "Name the product: `gtin` or `product`.")


def _status_url(request, change: StatusChange) -> str:
    path = reverse("recall-detail", args=[change.pk])
    return request.build_absolute_uri(path if path.endswith("/") else path + "/")


def _gtin(text: str) -> str:
    try:
        return gs1.normalize_gtin(text)
    except gs1.GS1Error as exc:
        raise ServiceError("gtin", exc.message) from None


router.register("codes", CodeViewSet, basename="code")
router.register("recalls", RecallViewSet, basename="recall")
