"""API shapes. Output serializers are read-only; input serializers list exactly what a caller may
set. The case reference is write-only: it is hashed by the service and never returned."""

from rest_framework import serializers

from practice.models import Audit, AuditAssignment, Concern, Outcome, Referral, Route
from practice.services import EVIDENCE_MAX_LENGTH
from surveys.models import Instrument, InstrumentVersion, Item
from training.models import StaffMember


def _caller(serializer: serializers.Serializer):
    """The signed-in caller; absent when the schema generator builds the serializer."""
    request = serializer.context.get("request")
    return getattr(request, "user", None)


class ReferralOutput(serializers.ModelSerializer):
    local_label = serializers.SerializerMethodField()

    class Meta:
        model = Referral
        fields = [
            "id",
            "staff",
            "made_on",
            "route",
            "concerns",
            "exploitation_flag",
            "outcome",
            "outcome_on",
            "is_rereferral",
            "local_label",
            "notes",
            "created_at",
        ]
        read_only_fields = fields

    def get_local_label(self, referral: Referral) -> str | None:
        """Only for the referrer's team's managers; null for everyone else."""
        teams = self.context.get("label_teams")
        if teams is None or (teams != "all" and referral.staff.team_id not in teams):
            return None
        return referral.local_label


class _ReferralFields(serializers.Serializer):
    made_on = serializers.DateField()
    route = serializers.ChoiceField(choices=Route.choices)
    concerns = serializers.ListField(
        child=serializers.ChoiceField(choices=Concern.choices), allow_empty=False
    )
    exploitation_flag = serializers.BooleanField(default=False)
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    outcome_on = serializers.DateField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class ReferralInput(_ReferralFields):
    staff = serializers.PrimaryKeyRelatedField(queryset=StaffMember.objects.none())
    case_reference = serializers.CharField(write_only=True, max_length=60)
    local_label = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if user := _caller(self):
            self.fields["staff"].queryset = StaffMember.objects.for_user(user)


class ReferralUpdateInput(_ReferralFields):
    """The staff member is fixed; a blank case reference keeps the stored one; the local label
    changes only for those who may see it."""

    case_reference = serializers.CharField(
        write_only=True, max_length=60, required=False, allow_blank=True, default=""
    )
    local_label = serializers.CharField(
        max_length=60, required=False, allow_blank=True, allow_null=True, default=None
    )


class CriterionOutput(serializers.Serializer):
    criterion = serializers.CharField(source="item.code")
    grade = serializers.CharField(source="value")
    evidence = serializers.CharField(source="text")


class AuditOutput(serializers.ModelSerializer):
    criteria = CriterionOutput(source="response.answers", many=True, read_only=True)

    class Meta:
        model = Audit
        fields = [
            "id",
            "referral",
            "auditor",
            "version",
            "is_second",
            "status",
            "overall_grade",
            "score_0_100",
            "submitted_at",
            "revision",
            "criteria",
        ]
        read_only_fields = fields


class AuditCreateInput(serializers.Serializer):
    referral = serializers.PrimaryKeyRelatedField(queryset=Referral.objects.none())
    is_second = serializers.BooleanField(default=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if user := _caller(self):
            self.fields["referral"].queryset = Referral.objects.for_user(user)


class AuditSaveInput(serializers.Serializer):
    revision = serializers.IntegerField(
        min_value=1, help_text="The revision you loaded; a stale one is refused with 409 Conflict."
    )
    grades = serializers.DictField(child=serializers.CharField(allow_blank=True), default=dict)
    evidence = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=EVIDENCE_MAX_LENGTH), default=dict
    )
    submit = serializers.BooleanField(default=False)


class RubricItemOutput(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = ["code", "position", "text", "help_text", "kind", "options"]
        read_only_fields = fields


class RubricVersionOutput(serializers.ModelSerializer):
    items = RubricItemOutput(many=True, read_only=True)

    class Meta:
        model = InstrumentVersion
        fields = ["id", "number", "frozen_at", "items"]
        read_only_fields = fields


class RubricOutput(serializers.ModelSerializer):
    versions = RubricVersionOutput(many=True, read_only=True)

    class Meta:
        model = Instrument
        fields = ["id", "name", "slug", "description", "is_default", "versions"]
        read_only_fields = fields


class AuditAssignmentOutput(serializers.ModelSerializer):
    class Meta:
        model = AuditAssignment
        fields = [
            "id",
            "referral",
            "reason",
            "anchor_date",
            "compared_with",
            "due_on",
            "assigned_manager",
            "status",
            "seed",
            "created_at",
        ]
        read_only_fields = fields
