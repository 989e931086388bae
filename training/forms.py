"""Forms for trainers' and leads' pages, styled with GOV.UK Frontend classes.

Forms only validate input; the services decide what may be saved and by whom.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from config.security import client_ip
from training import lockout
from training.models import Course, DeliveryMode, Profession, StaffMember, Topic, TrainingSession, User

_WIDGET_CLASSES = {
    forms.Select: "govuk-select",
    forms.Textarea: "govuk-textarea",
    forms.CheckboxSelectMultiple: "govuk-checkboxes__input",
    forms.RadioSelect: "govuk-radios__input",
    forms.CheckboxInput: "govuk-checkboxes__input",
    forms.ClearableFileInput: "govuk-file-upload",
    forms.FileInput: "govuk-file-upload",
}


class GovukFormMixin:
    """Adds GOV.UK Frontend classes and error styles to every widget."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = next(
                (c for widget_type, c in _WIDGET_CLASSES.items() if isinstance(field.widget, widget_type)),
                "govuk-input",
            )

    def full_clean(self):
        # Error styles are added after validation, never in __init__: touching self.errors
        # there would validate the form before subclasses narrow their querysets.
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                base = widget.attrs["class"].split()[0]
                widget.attrs["class"] = f"{base} {base}--error"

    @property
    def error_list(self) -> list[tuple[str, str]]:
        """(field id, message) pairs for the GOV.UK error summary."""
        pairs = []
        for name, errors in self.errors.items():
            anchor = f"id_{name}" if name != "__all__" else ""
            pairs.extend((anchor, str(message)) for message in errors)
        return pairs


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class CourseForm(GovukFormMixin, forms.Form):
    title = forms.CharField(max_length=200)
    topic = forms.ChoiceField(choices=Topic.choices)
    delivery_mode = forms.ChoiceField(choices=DeliveryMode.choices, widget=forms.RadioSelect)
    duration_hours = forms.DecimalField(
        label="Duration in hours",
        min_value=Decimal("0.5"),
        max_value=500,
        decimal_places=1,
        help_text="For example, 3.5",
    )
    learning_outcomes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text="What people should know or do differently afterwards, one per line.",
    )
    target_professions = forms.MultipleChoiceField(
        choices=Profession.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    @classmethod
    def initial_from(cls, course: Course) -> dict:
        return {field: getattr(course, field) for field in cls.base_fields}


class TrainingSessionForm(GovukFormMixin, forms.Form):
    start = forms.DateTimeField(
        widget=DateTimeLocalInput(), help_text="Date and time, for example 2025-03-31 09:30"
    )
    end = forms.DateTimeField(widget=DateTimeLocalInput())
    trainer = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="(Me)")
    venue = forms.CharField(max_length=200, required=False, help_text="Leave blank for an online session.")
    online_link = forms.URLField(required=False, label="Online meeting link", assume_scheme="https")
    capacity = forms.IntegerField(min_value=1, max_value=1000, initial=20)

    def __init__(self, *args, trainers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if trainers is not None:
            self.fields["trainer"].queryset = trainers

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end <= start:
            self.add_error("end", "The session must end after it starts.")
        if not cleaned.get("venue") and not cleaned.get("online_link"):
            self.add_error("venue", "Enter a venue or an online meeting link.")
        return cleaned

    @classmethod
    def initial_from(cls, session: TrainingSession) -> dict:
        return {field: getattr(session, field) for field in cls.base_fields}


class CsvUploadForm(GovukFormMixin, forms.Form):
    file = forms.FileField(label="CSV file", help_text="Save the spreadsheet as CSV UTF-8. At most 20 MB.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".csv"):
            raise forms.ValidationError("The selected file must be a CSV.")
        return upload


class AddAttendeesForm(GovukFormMixin, forms.Form):
    staff = forms.ModelMultipleChoiceField(
        queryset=StaffMember.objects.none(),
        label="Add people to the register",
        help_text="Hold Ctrl (or Cmd) to choose several.",
        widget=forms.SelectMultiple(attrs={"size": 10}),
    )

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        if staff is not None:
            self.fields["staff"].queryset = staff
        self.fields["staff"].widget.attrs["class"] = "govuk-select"


class LockoutMixin:
    """Refuses sign-in, even with the right password, while the username or address is locked
    out, and counts each failure (training/lockout.py)."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip_address = client_ip(self.request) if self.request is not None else None
        if lockout.sign_in_locked(username=username, ip_address=ip_address):
            raise ValidationError(lockout.locked_message(), code="locked")
        try:
            cleaned = super().clean()
        except ValidationError:
            lockout.sign_in_failure_record(username=username, ip_address=ip_address)
            raise
        lockout.sign_in_success_record(username=username)
        return cleaned


class SignInForm(LockoutMixin, AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Enter a correct username and password. Both are case-sensitive.",
    }


class AdminSignInForm(LockoutMixin, AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": (
            "Enter a correct username and password for an administrator account. Both are case-sensitive."
        ),
    }

    def confirm_login_allowed(self, user):
        # The admin is for administrators by role (config/admin_site.py), whatever is_staff says.
        AuthenticationForm.confirm_login_allowed(self, user)
        if not user.is_administrator:
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class TOTPCodeForm(GovukFormMixin, forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=10,
        help_text="The 6-digit code, for example 123456",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )
