"""Distributors, assignments (assign, move, return, receive) and cartons (pack, assign, receive).

Distributors are the brand's alone. Assignments and cartons are also the portal's: a distributor's key asks the
portal's permissions for what the portal offers (seeing its rows, receiving) and sees only its own rows (the
models' `distributor_path` / `distributor_scope`, applied by `for_actor`); what the portal does not offer asks
the brand's permissions, which are of no distributor's world: a 404 for such a key.
"""

from contextlib import contextmanager

from django.db.models import F, Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from distributors import queries, services
from distributors.models import Assignment, AssignmentEnd, Carton, Distributor

from ..base import BrandScopedViewSet, PortalScopedViewSet
from ..problems import Conflict
from ..serializers.supply import (
    AssignmentReceivedSerializer,
    AssignmentSerializer,
    AssignmentState,
    AssignSerializer,
    CartonAssignSerializer,
    CartonReceivedSerializer,
    CartonSerializer,
    DistributorSerializer,
    MoveSerializer,
    PackedSerializer,
    PackSerializer,
    ReassignedSerializer,
    ReturnSerializer,
)
from . import router

# --- distributors -----------------------------------------------------------------------------------------


class DistributorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BrandScopedViewSet):
    model = Distributor
    serializer_class = DistributorSerializer
    write_permission = "distributors.manage"
    filterset_fields = ["code"]

    @extend_schema(responses={201: DistributorSerializer}, summary="Add a distributor with its territory")
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        distributor = services.create_distributor(brand=self.actor.brand, **serializer.validated_data)
        return Response(self.get_serializer(distributor).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change a distributor's name, code, territory or contact")
    def partial_update(self, request, distributor_id=None):
        distributor = self.get_object()
        serializer = self.get_serializer(distributor, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        current = {f: getattr(distributor, f) for f in ("name", "code", "territory")}
        distributor = services.update_distributor(distributor, **(current | serializer.validated_data))
        return Response(self.get_serializer(distributor).data)


# --- assignments ------------------------------------------------------------------------------------------

STATES = {
    AssignmentState.HELD: Q(ended_at__isnull=True, all_received=False),
    AssignmentState.RECEIVED: Q(ended_at__isnull=True, all_received=True),
    AssignmentState.MOVED: Q(end_reason=AssignmentEnd.MOVED),
    AssignmentState.RETURNED: Q(end_reason=AssignmentEnd.RETURNED),
}


class AssignmentFilter(filters.FilterSet):
    batch = filters.NumberFilter(field_name="batch_id")  # an id, not a choice: no hint of others' batches
    distributor = filters.NumberFilter(field_name="distributor_id")
    state = filters.ChoiceFilter(choices=AssignmentState.CHOICES, method="in_state")
    current = filters.BooleanFilter(field_name="ended_at", lookup_expr="isnull", help_text="Held now (not ended)")

    def in_state(self, rows, name, value):
        return rows.filter(STATES[value])


class AssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalScopedViewSet):
    model = Assignment
    serializer_class = AssignmentSerializer
    write_permission = "assignments.manage"
    portal_permissions = {"list": "portal.view", "retrieve": "portal.view", "receive": "portal.receive"}
    filterset_class = AssignmentFilter

    def scope(self, rows):
        rows = rows.select_related("distributor").annotate(replaces_distributor_id=F("replaces__distributor_id"))
        return queries.with_receipt(rows)

    @extend_schema(
        request=AssignSerializer,
        responses={201: AssignmentSerializer},
        summary="Assign positions of a batch to a distributor (refused, naming the holder, if any is held)",
    )
    def create(self, request):
        serializer = AssignSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        assignment = services.assign_range(**serializer.validated_data, assigned_by=self.actor.user)
        return Response(self.get_serializer(self._fresh(assignment)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=MoveSerializer,
        responses={200: ReassignedSerializer},
        summary="Move this assignment, or part of it, to another distributor",
    )
    @action(detail=True, methods=["post"])
    def move(self, request, assignment_id=None):
        return self._reassign(MoveSerializer)

    @extend_schema(
        request=ReturnSerializer,
        responses={200: ReassignedSerializer},
        summary="Return this assignment, or part of it, to the brand",
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, assignment_id=None):
        return self._reassign(ReturnSerializer)

    @extend_schema(
        request=None,
        responses={200: AssignmentReceivedSerializer},
        summary="Mark this assignment received, with its units (they go live if the brand activates on receipt)",
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, assignment_id=None):
        assignment = self.get_object()
        with ended_is_a_conflict():
            units = services.receive_assignment(assignment=assignment, by=self.actor.user)
        return Response({"units": units, "assignment": self.get_serializer(self._fresh(assignment)).data})

    def _reassign(self, serializer_class):
        assignment = self.get_object()
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = {"to": None} | serializer.validated_data
        with ended_is_a_conflict():
            created = services.reassign_assignment(assignment=assignment, by=self.actor.user, **data)
        rows = self.get_queryset().filter(pk__in=[assignment.pk, *(a.pk for a in created)]).order_by("first_position")
        by_pk = {row.pk: row for row in rows}
        return Response(
            {
                "ended": self.get_serializer(by_pk[assignment.pk]).data,
                "created": self.get_serializer([by_pk[a.pk] for a in created], many=True).data,
            }
        )

    def _fresh(self, assignment: Assignment) -> Assignment:
        return self.get_queryset().get(pk=assignment.pk)


@contextmanager
def ended_is_a_conflict():
    """An assignment moved or returned since is no longer in a state to act on: 409, with the reason."""
    try:
        yield
    except services.AssignmentEnded as exc:
        raise Conflict(exc.message) from exc


# --- cartons ----------------------------------------------------------------------------------------------


class CartonFilter(filters.FilterSet):
    batch = filters.NumberFilter(field_name="batch_id")
    sscc = filters.CharFilter()
    received = filters.BooleanFilter(field_name="all_received")


class CartonViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalScopedViewSet):
    model = Carton
    serializer_class = CartonSerializer
    write_permission = "assignments.manage"
    portal_permissions = {"list": "portal.view", "retrieve": "portal.view", "receive": "portal.receive"}
    filterset_class = CartonFilter

    def scope(self, rows):
        return queries.with_receipt(rows)

    @extend_schema(
        request=PackSerializer,
        responses={201: PackedSerializer},
        summary="Pack positions of a batch into cartons of `size` units, each with a new SSCC",
    )
    def create(self, request):
        serializer = PackSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        cartons = services.pack_cartons(**serializer.validated_data, packed_by=self.actor.user)
        rows = self.get_queryset().filter(pk__in=[c.pk for c in cartons]).order_by("first_position")
        return Response({"cartons": self.get_serializer(rows, many=True).data}, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=CartonAssignSerializer,
        responses={201: AssignmentSerializer},
        summary="Assign exactly this carton's units to a distributor",
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, carton_id=None):
        carton = self.get_object()
        serializer = CartonAssignSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        assignment = services.assign_carton(
            carton=carton, distributor=serializer.validated_data["distributor"], assigned_by=self.actor.user
        )
        assignment = queries.with_receipt(Assignment.objects.for_actor(self.actor)).get(pk=assignment.pk)
        context = self.get_serializer_context()
        return Response(AssignmentSerializer(assignment, context=context).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: CartonReceivedSerializer},
        summary="Mark this carton received, with exactly its units",
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, carton_id=None):
        carton = self.get_object()
        units = services.receive_carton(carton=carton, by=self.actor.user)
        return Response({"units": units, "carton": self.get_serializer(self.get_queryset().get(pk=carton.pk)).data})


router.register("distributors", DistributorViewSet, basename="distributor")
router.register("assignments", AssignmentViewSet, basename="assignment")
router.register("cartons", CartonViewSet, basename="carton")
