"""REST API for questionnaires. Reads go through the user's scope; submitting a response with a
token is the one operation open without signing in, because trainees have no accounts."""

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from surveys import selectors, services
from surveys.api import serializers as s
from surveys.models import Instrument
from training.access_log import AccessLoggedMixin, access_log_record
from training.models import AccessAction, Role


class QuestionnaireReaders(permissions.BasePermission):
    """Instruments are for the people who set questionnaires up or read their results."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated) and request.user.has_role(
            Role.TRAINER, Role.WORKFORCE_LEAD
        )


class InstrumentViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [QuestionnaireReaders]
    serializer_class = s.InstrumentOutput
    filterset_fields = ["is_default"]
    # Lets the schema generator see the model without a signed-in user.
    queryset = Instrument.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.instrument_list(user=self.request.user)

    def get_serializer_class(self):
        return s.InstrumentDetailOutput if self.action == "retrieve" else s.InstrumentOutput

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action == "retrieve":
            context["latest_version"] = selectors.version_with_contents(instrument=self.get_object())
        return context


class AdministrationViewSet(AccessLoggedMixin, viewsets.ReadOnlyModelViewSet):
    """Questionnaires of the sessions you can see, with how many were invited and answered."""

    # Counts of who answered are read from the responses, so reading them is logged like the
    # session's results page.
    access_log_type = "surveys.administration"
    access_log_actions = {**AccessLoggedMixin.access_log_actions, "response_rate": AccessAction.VIEW}

    serializer_class = s.AdministrationOutput
    filterset_fields = ["session", "phase"]

    def get_queryset(self):
        return selectors.administrations_for_user(user=self.request.user)

    @extend_schema(responses=s.ResponseRateOutput)
    @action(detail=True, methods=["get"], url_path="response-rate")
    def response_rate(self, request, pk=None):
        administration = self.get_object()
        data = {
            "administration": administration.pk,
            "phase": administration.phase,
            "offset_days": administration.offset_days,
            "invited": administration.invited,
            "answered": administration.answered,
            "rate": selectors.response_rate(invited=administration.invited, answered=administration.answered),
        }
        return Response(s.ResponseRateOutput(data).data)


class ResponseViewSet(mixins.CreateModelMixin, viewsets.GenericViewSet):
    """POST /api/v1/responses/: answer a questionnaire with the token from its link.

    Deliberately open without authentication (the link is the credential). It returns nothing
    about the person or their scores. 404 for an unknown token, 409 when already answered or
    outside the window, 400 with {"answers": {code: message}} for invalid answers."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    serializer_class = s.ResponseInput

    @extend_schema(
        request=s.ResponseInput,
        responses={
            201: s.ResponseSubmittedOutput,
            400: OpenApiResponse(description="Missing token or invalid answers"),
            404: OpenApiResponse(description="Unknown token"),
            409: OpenApiResponse(description="Already answered, not yet open, or closed"),
        },
        auth=[],
    )
    def create(self, request, *args, **kwargs):
        data = s.ResponseInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            invitation = selectors.invitation_for_token(token=data.validated_data["token"])
        except ObjectDoesNotExist:
            raise exceptions.NotFound("No questionnaire for this token.") from None
        try:
            response = services.invitation_respond(
                invitation=invitation, values=data.validated_data["answers"]
            )
        except services.InvitationUnavailable as refused:
            return Response({"detail": str(refused), "state": refused.state}, status=status.HTTP_409_CONFLICT)
        except DjangoValidationError as error:
            raise exceptions.ValidationError({"answers": error.message_dict}) from None
        access_log_record(user=None, action=AccessAction.SUBMIT, obj=response, request=request)
        body = s.ResponseSubmittedOutput({"status": "submitted"}).data
        return Response(body, status=status.HTTP_201_CREATED)
