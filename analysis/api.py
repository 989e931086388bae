from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis.frames import report_roles, selection_from_params
from analysis.rendering import report_to_dict
from analysis.reports import impact_report_get


class ReportRolePermission(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.has_role(*report_roles()))


class ImpactReportView(APIView):
    """The impact report for a selection, as JSON. Suppressed figures are the string "c"."""

    permission_classes = [ReportRolePermission]

    @extend_schema(
        parameters=[
            OpenApiParameter("course", str, description="Course slug"),
            OpenApiParameter("session", int, description="Training session id"),
            OpenApiParameter("organisation", str, description="Organisation slug"),
            OpenApiParameter("partnership", str, description="Partnership slug"),
            OpenApiParameter("team", str, description="Team slug"),
            OpenApiParameter("from", str, description="First day, YYYY-MM-DD"),
            OpenApiParameter("to", str, description="Last day, YYYY-MM-DD"),
            OpenApiParameter("profession", str, many=True, description="Profession code (repeatable)"),
            OpenApiParameter("agency", str, many=True, description="Kind of organisation (repeatable)"),
        ],
        responses={200: dict},
    )
    def get(self, request):
        try:
            selection = selection_from_params(user=request.user, params=request.query_params)
        except ValidationError as error:
            raise exceptions.ValidationError(error.message_dict) from None
        report = impact_report_get(user=request.user, selection=selection, charts=False)
        return Response(report_to_dict(report))
