"""Forms for trainers' questionnaire pages. They only parse input; the services decide what is allowed.

The trainee's questionnaire is not a Django form: its questions come from the instrument version
and are rendered by ``questions_for`` in the GOV.UK radios/textarea patterns.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from surveys.conf import survey_setting
from surveys.models import KNOWLEDGE_KINDS, InstrumentVersion, Item, ItemKind
from surveys.options import choice_options
from training.forms import GovukFormMixin

NO_NAMES_HINT = (
    "Do not write the names of children, families or colleagues, or details that could identify them."
)


class AttachForm(GovukFormMixin, forms.Form):
    instrument = forms.ModelChoiceField(
        queryset=None,
        label="Questionnaire",
        empty_label=None,
        help_text="The default, or one of your copies.",
    )
    follow_up_offsets = forms.CharField(
        label="Follow-ups, in days after the session",
        required=False,
        help_text="Separate with commas: 42 days is six weeks, 91 days is three months. "
        "Leave empty for none.",
    )
    anonymous = forms.BooleanField(
        label="Anonymous mode: nobody who signs in can see who answered what",
        required=False,
        help_text="Results are then shown only as totals and averages. Answers are still matched "
        "per person behind the scenes, so before-and-after changes can be measured.",
    )

    def __init__(self, *args, instruments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instrument"].queryset = instruments
        self.fields["instrument"].widget.attrs["class"] = "govuk-select"
        if not self.is_bound and "follow_up_offsets" not in self.initial:
            self.initial["follow_up_offsets"] = ", ".join(
                str(d) for d in survey_setting("SURVEY_FOLLOW_UP_OFFSETS")
            )

    def clean_follow_up_offsets(self) -> list[int]:
        raw = self.cleaned_data["follow_up_offsets"].replace(";", ",")
        try:
            return [int(part) for part in raw.split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError(
                "Enter whole numbers of days, separated by commas, like 42, 91"
            ) from None


def parse_choice_lines(text: str) -> tuple[list[dict[str, str]], str]:
    """Options typed one per line, with * before the correct one -> (options, correct value)."""
    labels, correct_index = [], None
    for line in (raw.strip() for raw in text.splitlines()):
        if not line:
            continue
        if line.startswith("*"):
            correct_index = len(labels)
            line = line.lstrip("* ").strip()
        labels.append(line)
    options = choice_options(labels)
    return options, (options[correct_index]["value"] if correct_index is not None else "")


def choice_lines(item: Item) -> str:
    return "\n".join(
        ("*" if option["value"] == item.correct_answer else "") + option["label"]
        for option in item.options
        if option["value"] != "dk"
    )


class ItemForm(GovukFormMixin, forms.Form):
    """Edit one question; the fields offered depend on the kind of question."""

    text = forms.CharField(label="Question", widget=forms.Textarea(attrs={"rows": 3}))
    help_text = forms.CharField(label="Hint", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    choices = forms.CharField(
        label="Options",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="One option per line. Put * before the correct answer. “I'm not sure” is added for you.",
    )
    true_answer = forms.ChoiceField(
        label="Correct answer", required=False, choices=[("true", "True"), ("false", "False")]
    )
    reverse_coded = forms.BooleanField(
        label="Reverse-coded: agreeing shows less of what the scale measures",
        required=False,
        help_text="For example, agreeing with a victim-blaming statement lowers the attitudes score.",
    )
    required = forms.BooleanField(label="People must answer this question", required=False)

    def __init__(self, *args, kind: str | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind is None:  # adding a question: the kind is chosen on the form, so offer every field
            return
        if kind != ItemKind.SINGLE_CHOICE:
            del self.fields["choices"]
        if kind != ItemKind.TRUE_FALSE:
            del self.fields["true_answer"]
        if kind in (*KNOWLEDGE_KINDS, ItemKind.FREE_TEXT):
            del self.fields["reverse_coded"]

    @classmethod
    def initial_from(cls, item: Item) -> dict:
        return {
            "text": item.text,
            "help_text": item.help_text,
            "choices": choice_lines(item) if item.kind == ItemKind.SINGLE_CHOICE else "",
            "true_answer": item.correct_answer,
            "reverse_coded": item.reverse_coded,
            "required": item.required,
        }

    def clean(self):
        cleaned = super().clean()
        options, correct = None, cleaned.get("true_answer", "")
        if self.kind == ItemKind.SINGLE_CHOICE:
            options, correct = parse_choice_lines(cleaned.get("choices", ""))
        cleaned["options"], cleaned["correct_answer"] = options, correct
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "text": data["text"],
            "help_text": data["help_text"],
            "options": data["options"],
            "correct_answer": data["correct_answer"],
            "reverse_coded": data.get("reverse_coded", False),
            "required": data["required"],
        }


class ItemAddForm(ItemForm):
    code = forms.SlugField(
        label="Short code",
        max_length=40,
        help_text="Letters, numbers and underscores, for example k_online_2. Exports use it.",
    )
    kind = forms.ChoiceField(label="Kind of question", choices=ItemKind.choices[:6])
    scale_code = forms.ChoiceField(label="Scale", required=False)

    field_order = ["code", "kind", "scale_code", "text", "help_text", "choices", "true_answer"]

    def __init__(self, *args, scales, **kwargs):
        super().__init__(*args, kind=None, **kwargs)
        self.fields["scale_code"].choices = [("", "None (free text)")] + [(s.code, s.name) for s in scales]

    def clean(self):
        self.kind = self.cleaned_data.get("kind", "")
        return super().clean()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        extra = {"code": data["code"], "kind": data["kind"], "scale_code": data["scale_code"]}
        return {**super().service_kwargs(), **extra}


# --- The trainee's questionnaire -----------------------------------------------------------------


# Neutral headings for the trainee, so the form does not signal which answers are "right".
SECTION_HEADINGS = {
    "knowledge": "What you know",
    "confidence": "How confident you feel",
    "attitudes": "What you think",
    "reaction": "The training",
    "intention": "Putting it into practice",
}


@dataclass
class Question:
    item: Item
    value: str
    error: str
    inline: bool

    @property
    def section(self) -> str:
        construct = self.item.scale.construct if self.item.scale_id else ""
        return SECTION_HEADINGS.get(construct, "Anything else")

    @property
    def anchor(self) -> str:
        """The id of the question's first input: where the error summary link goes."""
        return f"q-{self.item.code}"

    @property
    def is_free_text(self) -> bool:
        return self.item.kind == ItemKind.FREE_TEXT

    @property
    def hint(self) -> str:
        return self.item.help_text or (NO_NAMES_HINT if self.is_free_text else "")


def questions_for(*, items: list[Item], values: dict[str, str], errors: dict[str, str]) -> list[Question]:
    return [
        Question(
            item=item,
            value=values.get(item.code, ""),
            error=errors.get(item.code, ""),
            inline=item.kind == ItemKind.CONFIDENCE_0_10,
        )
        for item in items
    ]


# How long a frozen version's blank form is kept once rendered: see ``questions_html``.
BLANK_FORM_SECONDS = 24 * 60 * 60


def questions_html(*, version: InstrumentVersion, phase: str, questions: list[Question]) -> SafeString:
    """The questions of the trainee's form as HTML.

    Rendering thirty questions' radios was three quarters of the time of a trainee's GET. A blank
    form (no answers, no errors: every first view of the link) of a frozen version is the same for
    everyone answering that phase, and a frozen version never changes, so it is rendered once and
    kept in Django's cache (each worker's own memory, with the default cache), keyed by when the
    version was frozen. Anything else (a form sent
    back with errors and the answers given, or a version still being edited) is rendered each time.
    """

    def render() -> SafeString:
        return render_to_string("surveys/_questions.html", {"questions": questions})

    blank = not any(q.value or q.error for q in questions)
    if not (blank and version.is_frozen):
        return render()
    # The cache keeps the rendered page's safe-string type (it survives pickling), so the
    # template does not escape the HTML again.
    key = f"questionnaire-blank:{version.pk}:{version.frozen_at.isoformat()}:{phase}"
    return cache.get_or_set(key, render, BLANK_FORM_SECONDS)
