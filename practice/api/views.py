"""REST API for referrals, audits, rubrics and the audit schedule. Querysets go through
``for_user`` (so a blind second auditor gets 404 for the first audit); writes go through the
services, which re-check rights. A stale audit save is 409 Conflict."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.response import Response

from practice import selectors, services
from practice.api import serializers as s
from practice.models import Audit, AuditAssignment, Referral
from surveys.models import Answer, Instrument, InstrumentKind, InstrumentVersion
from training.access_log import AccessLoggedMixin
from training.api.views import WriteRolePermission, _as_drf_error
from training.models import Role


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _call(fn, **kwargs):
    """Run a service, translating its exceptions into API errors."""
    try:
        return fn(**kwargs)
    except services.StaleEditError as stale:
        raise Conflict(str(stale)) from None
    except DjangoValidationError as error:
        raise _as_drf_error(error) from None
    except DjangoPermissionDenied as error:
        raise exceptions.PermissionDenied(str(error)) from None


class ReferralViewSet(
    AccessLoggedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [WriteRolePermission]
    write_roles = (Role.MANAGER, Role.WORKFORCE_LEAD)
    access_log_type = "practice.referral"
    filterset_fields = {
        "staff": ["exact"],
        "outcome": ["exact"],
        "made_on": ["gte", "lte"],
        "is_rereferral": ["exact"],
    }
    ordering_fields = ["made_on"]

    def get_queryset(self):
        return (
            Referral.objects.for_user(self.request.user).select_related("staff").order_by("-made_on", "-id")
        )

    def get_serializer_class(self):
        if self.request is not None and self.request.method not in permissions.SAFE_METHODS:
            return s.ReferralInput if self.action == "create" else s.ReferralUpdateInput
        return s.ReferralOutput

    def get_serializer_context(self):
        context = super().get_serializer_context()
        user = self.request.user if self.request else None
        if user is not None and user.is_authenticated:
            context["label_teams"] = "all" if user.is_administrator else selectors.managed_team_ids(user=user)
        return context

    def _respond(self, referral, code):
        return Response(s.ReferralOutput(referral, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=s.ReferralInput, responses={201: s.ReferralOutput})
    def create(self, request, *args, **kwargs):
        serializer = s.ReferralInput(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return self._respond(
            _call(services.referral_create, by=request.user, **serializer.validated_data), 201
        )

    @extend_schema(request=s.ReferralUpdateInput, responses={200: s.ReferralOutput})
    def update(self, request, *args, **kwargs):
        referral = self.get_object()
        partial = kwargs.pop("partial", False)
        serializer = s.ReferralUpdateInput(
            data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        current = {
            "made_on": referral.made_on,
            "route": referral.route,
            "concerns": referral.concerns,
            "exploitation_flag": referral.exploitation_flag,
            "outcome": referral.outcome,
            "outcome_on": referral.outcome_on,
            "notes": referral.notes,
        }
        data = {**current, **serializer.validated_data} if partial else serializer.validated_data
        return self._respond(_call(services.referral_update, referral=referral, by=request.user, **data), 200)


class AuditViewSet(
    AccessLoggedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [WriteRolePermission]
    write_roles = (Role.MANAGER,)
    access_log_type = "practice.audit"
    filterset_fields = ["referral", "status", "is_second", "auditor"]
    ordering_fields = ["submitted_at", "created_at"]

    def get_queryset(self):
        answers = Answer.objects.select_related("item").order_by("item__position")
        return (
            Audit.objects.for_user(self.request.user)
            .select_related("response")
            .prefetch_related(Prefetch("response__answers", queryset=answers))
            .order_by("-created_at", "-id")
        )

    def get_serializer_class(self):
        if self.request is not None and self.request.method not in permissions.SAFE_METHODS:
            return s.AuditCreateInput if self.action == "create" else s.AuditSaveInput
        return s.AuditOutput

    def _respond(self, audit, code):
        return Response(s.AuditOutput(self.get_queryset().get(pk=audit.pk)).data, status=code)

    @extend_schema(request=s.AuditCreateInput, responses={201: s.AuditOutput})
    def create(self, request, *args, **kwargs):
        serializer = s.AuditCreateInput(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        audit = _call(
            services.audit_start, referral=data["referral"], by=request.user, second=data["is_second"]
        )
        return self._respond(audit, 201)

    @extend_schema(request=s.AuditSaveInput, responses={200: s.AuditOutput, 409: None})
    def update(self, request, *args, **kwargs):
        audit = self.get_object()
        kwargs.pop("partial", None)
        serializer = s.AuditSaveInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        audit = _call(
            services.audit_save,
            audit=audit,
            by=request.user,
            grades=data["grades"],
            evidence=data["evidence"],
            revision=data["revision"],
            submit=data["submit"],
        )
        return self._respond(audit, 200)


class RubricViewSet(viewsets.ReadOnlyModelViewSet):
    """Audit rubrics with every version's criteria and grade descriptors. Read-only."""

    serializer_class = s.RubricOutput

    def get_queryset(self):
        versions = InstrumentVersion.objects.prefetch_related("items").order_by("number")
        return (
            Instrument.objects.filter(kind=InstrumentKind.AUDIT_RUBRIC)
            .prefetch_related(Prefetch("versions", queryset=versions))
            .order_by("name")
        )


class AuditAssignmentViewSet(AccessLoggedMixin, viewsets.ReadOnlyModelViewSet):
    """The audit schedule: referrals proposed for audit, by whom and by when."""

    # Which referrals are being audited, and by whom, is part of the audit record.
    access_log_type = "practice.auditassignment"

    serializer_class = s.AuditAssignmentOutput
    filterset_fields = ["status", "reason", "assigned_manager", "referral"]
    ordering_fields = ["due_on"]

    def get_queryset(self):
        return AuditAssignment.objects.for_user(self.request.user).order_by("due_on", "id")
