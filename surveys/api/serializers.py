"""API shapes for questionnaires. Output serializers are read-only; the one input (a response given
with a token) lists exactly what a caller may send."""

from rest_framework import serializers

from surveys.models import Administration, Instrument, InstrumentVersion, Item, Scale


class ScaleOutput(serializers.ModelSerializer):
    class Meta:
        model = Scale
        fields = ["code", "name", "construct", "min_answered_share"]
        read_only_fields = fields


class ItemOutput(serializers.ModelSerializer):
    scale = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Item
        fields = [
            "code",
            "position",
            "text",
            "help_text",
            "kind",
            "scale",
            "options",
            "correct_answer",
            "reverse_coded",
            "required",
        ]
        read_only_fields = fields


class VersionOutput(serializers.ModelSerializer):
    scales = ScaleOutput(many=True, read_only=True)
    items = ItemOutput(many=True, read_only=True)

    class Meta:
        model = InstrumentVersion
        fields = ["number", "frozen_at", "scales", "items"]
        read_only_fields = fields


class InstrumentOutput(serializers.ModelSerializer):
    version_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Instrument
        fields = [
            "id",
            "name",
            "slug",
            "kind",
            "description",
            "is_default",
            "owner",
            "copied_from",
            "version_count",
        ]
        read_only_fields = fields


class InstrumentDetailOutput(InstrumentOutput):
    latest_version = serializers.SerializerMethodField()

    class Meta(InstrumentOutput.Meta):
        fields = [*InstrumentOutput.Meta.fields, "latest_version"]
        read_only_fields = fields

    def get_latest_version(self, instrument) -> dict | None:
        version = self.context["latest_version"]
        return VersionOutput(version).data if version else None


class AdministrationOutput(serializers.ModelSerializer):
    instrument = serializers.IntegerField(source="version.instrument_id", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    invited = serializers.IntegerField(read_only=True)
    answered = serializers.IntegerField(read_only=True)

    class Meta:
        model = Administration
        fields = [
            "id",
            "session",
            "phase",
            "offset_days",
            "instrument",
            "version",
            "opens_at",
            "closes_at",
            "anonymous",
            "invited",
            "answered",
        ]
        read_only_fields = fields


class ResponseRateOutput(serializers.Serializer):
    administration = serializers.IntegerField()
    phase = serializers.CharField()
    offset_days = serializers.IntegerField()
    invited = serializers.IntegerField()
    answered = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="Percentage answered of those invited.")


class ResponseInput(serializers.Serializer):
    token = serializers.CharField(max_length=100, help_text="The token from the emailed link /q/<token>/.")
    answers = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000),
        help_text="Answers keyed by item code: the option value, or the text of a free-text item.",
    )


class ResponseSubmittedOutput(serializers.Serializer):
    status = serializers.CharField()
