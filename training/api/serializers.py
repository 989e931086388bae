"""API input and output shapes. Output serializers are read-only; input serializers list
exactly the fields a caller may set, so nothing else can be mass-assigned."""

from decimal import Decimal

from rest_framework import serializers

from training.models import (
    Attendance,
    AttendanceStatus,
    Course,
    DeliveryMode,
    Organisation,
    Profession,
    StaffMember,
    Team,
    Topic,
    TrainingSession,
)


class OrganisationOutput(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "slug", "kind", "partnership"]
        read_only_fields = fields


class OrganisationInput(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["name", "slug", "kind", "partnership"]


class TeamOutput(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "slug", "organisation", "managers"]
        read_only_fields = fields


class TeamInput(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["name", "slug", "organisation", "managers"]


class StaffMemberOutput(serializers.ModelSerializer):
    class Meta:
        model = StaffMember
        fields = ["id", "name", "work_email", "profession", "team", "start_date_in_role", "active"]
        read_only_fields = fields


class StaffMemberInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    work_email = serializers.EmailField()
    profession = serializers.ChoiceField(choices=Profession.choices)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.none())
    start_date_in_role = serializers.DateField(required=False, allow_null=True)
    active = serializers.BooleanField(default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only teams within the caller's scope can be chosen: another team is "does not exist".
        self.fields["team"].queryset = Team.objects.for_user(self.context["request"].user)


class CourseOutput(serializers.ModelSerializer):
    class Meta:
        model = Course
        fields = [
            "id",
            "title",
            "slug",
            "topic",
            "learning_outcomes",
            "target_professions",
            "delivery_mode",
            "duration_hours",
            "organisation",
            "owner",
            "trainers",
            "created_at",
        ]
        read_only_fields = fields


class CourseInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    topic = serializers.ChoiceField(choices=Topic.choices)
    delivery_mode = serializers.ChoiceField(choices=DeliveryMode.choices)
    duration_hours = serializers.DecimalField(max_digits=5, decimal_places=1, min_value=Decimal("0.5"))
    learning_outcomes = serializers.CharField(required=False, allow_blank=True, default="")
    target_professions = serializers.ListField(
        child=serializers.ChoiceField(choices=Profession.choices), required=False, default=list
    )


class TrainingSessionOutput(serializers.ModelSerializer):
    # Empty for sessions that are not online: a plain string in the schema, because "" is not a
    # valid "uri" (found by the API fuzz test, tests/security/test_api_fuzz.py).
    online_link = serializers.CharField(read_only=True, help_text="A web address, or empty.")

    class Meta:
        model = TrainingSession
        fields = ["id", "course", "start", "end", "trainer", "venue", "online_link", "capacity"]
        read_only_fields = fields


class TrainingSessionInput(serializers.Serializer):
    course = serializers.PrimaryKeyRelatedField(queryset=Course.objects.none())
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    venue = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    online_link = serializers.URLField(required=False, allow_blank=True, default="")
    capacity = serializers.IntegerField(min_value=1, max_value=1000, default=20)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = Course.objects.managed_by(self.context["request"].user)

    def validate(self, attrs):
        start = attrs.get("start", getattr(self.instance, "start", None))
        end = attrs.get("end", getattr(self.instance, "end", None))
        if start and end and end <= start:
            raise serializers.ValidationError({"end": "The session must end after it starts."})
        return attrs


class AttendanceOutput(serializers.ModelSerializer):
    class Meta:
        model = Attendance
        fields = ["id", "session", "staff", "status", "updated_at"]
        read_only_fields = fields


class AttendanceInput(serializers.Serializer):
    session = serializers.PrimaryKeyRelatedField(queryset=TrainingSession.objects.none())
    staff = serializers.PrimaryKeyRelatedField(queryset=StaffMember.objects.none())
    status = serializers.ChoiceField(choices=AttendanceStatus.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.context["request"].user
        self.fields["session"].queryset = TrainingSession.objects.managed_by(user)
        self.fields["staff"].queryset = StaffMember.objects.for_user(user)
