"""Forms for referral, audit and moderation pages. They only parse and check input; the services
decide what may be saved."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from practice.models import GRADE_LABELS, Concern, Outcome, Route
from practice.services import EVIDENCE_MAX_LENGTH
from training.forms import GovukFormMixin
from training.models import StaffMember, User

NO_NAMES = "Do not enter children's or family members' names, addresses or dates of birth."
EVIDENCE_NO_NAMES = "Evidence must not name the child or family members."
GRADE_CHOICES = [(str(grade), f"{label} ({grade})") for grade, label in GRADE_LABELS.items()]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class ReferralForm(GovukFormMixin, forms.Form):
    staff = forms.ModelChoiceField(queryset=StaffMember.objects.none(), label="Made by")
    made_on = forms.DateField(label="Date made", widget=DateInput())
    case_reference = forms.CharField(
        label="Child's case reference",
        max_length=60,
        help_text=(
            "Used only to recognise re-referrals of the same child: it is stored as a one-way keyed "
            "code and can never be shown again."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    route = forms.ChoiceField(choices=Route.choices, widget=forms.RadioSelect)
    concerns = forms.MultipleChoiceField(choices=Concern.choices, widget=forms.CheckboxSelectMultiple)
    exploitation_flag = forms.BooleanField(
        label="Exploitation is a concern",
        required=False,
        help_text="Sexual or criminal exploitation, even if it is not the main concern.",
    )
    outcome = forms.ChoiceField(choices=Outcome.choices, widget=forms.RadioSelect, initial=Outcome.PENDING)
    outcome_on = forms.DateField(label="Date of outcome", required=False, widget=DateInput())
    local_label = forms.CharField(
        label="Team label",
        max_length=60,
        required=False,
        help_text=f"Seen only by your team's managers, for example your own system's number. {NO_NAMES}",
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text=f"{NO_NAMES}")

    def __init__(self, *args, staff=None, editing: bool = False, show_label: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if staff is not None:
            self.fields["staff"].queryset = staff
        if editing:
            del self.fields["staff"]
            self.fields["case_reference"].required = False
            self.fields["case_reference"].help_text = (
                "Leave blank to keep the reference already recorded. It is stored as a one-way code, "
                "so it cannot be shown here."
            )
        if not show_label:
            del self.fields["local_label"]

    def clean_made_on(self):
        made_on = self.cleaned_data["made_on"]
        if made_on > timezone.localdate():
            raise forms.ValidationError("The date the referral was made must be today or in the past.")
        return made_on

    @classmethod
    def initial_from(cls, referral) -> dict:
        fields = (
            "made_on",
            "route",
            "concerns",
            "exploitation_flag",
            "outcome",
            "outcome_on",
            "local_label",
            "notes",
        )
        return {name: getattr(referral, name) for name in fields}


class AuditForm(forms.Form):
    """The audit page's input: a grade and evidence per criterion, the revision the page was
    loaded at, and which button was pressed. Rendered by hand in the template so that each
    criterion is a fieldset with its descriptors as hints."""

    revision = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"grade-{item.code}"] = forms.ChoiceField(
                choices=[(str(o["value"]), o["label"]) for o in item.options], required=False
            )
            self.fields[f"evidence-{item.code}"] = forms.CharField(
                required=False, max_length=EVIDENCE_MAX_LENGTH
            )

    @property
    def submitting(self) -> bool:
        return "submit" in self.data

    def grades(self) -> dict[str, str]:
        return {i.code: self.cleaned_data.get(f"grade-{i.code}", "") for i in self.items}

    def evidence(self) -> dict[str, str]:
        return {i.code: self.cleaned_data.get(f"evidence-{i.code}", "") for i in self.items}


class ModerationForm(GovukFormMixin, forms.Form):
    # Each required message names its question: the error summary lists them together, and three
    # links all reading "This field is required." cannot be told apart (WCAG 3.3.1).
    overall_grade = forms.TypedChoiceField(
        label="Agreed overall grade",
        choices=GRADE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the agreed overall grade."},
    )
    note = forms.CharField(
        label="Moderation note",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=f"What was agreed and why. {NO_NAMES}",
    )

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"grade-{item.code}"] = forms.TypedChoiceField(
                label=item.text,
                choices=GRADE_CHOICES,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": f"Choose the agreed grade for: {item.text}."},
            )
            self.fields[f"grade-{item.code}"].widget.attrs["class"] = "govuk-radios__input"
        # Agreed criteria first, the overall grade and note last.
        self.order_fields([f"grade-{i.code}" for i in self.items] + ["overall_grade", "note"])

    def grades(self) -> dict[str, int]:
        return {i.code: self.cleaned_data[f"grade-{i.code}"] for i in self.items}

    @property
    def error_list(self) -> list[tuple[str, str]]:
        # Radio groups are linked through their first radio, whose id Django suffixes with _0.
        radios = {name for name, f in self.fields.items() if isinstance(f.widget, forms.RadioSelect)}
        return [
            (f"{anchor}_0" if anchor[3:] in radios else anchor, message)
            for anchor, message in super().error_list
        ]


class SecondAuditForm(GovukFormMixin, forms.Form):
    manager = forms.ModelChoiceField(queryset=User.objects.none(), label="Second auditor")

    def __init__(self, *args, managers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if managers is not None:
            self.fields["manager"].queryset = managers
