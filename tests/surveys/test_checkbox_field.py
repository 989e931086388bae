"""The single-checkbox field template shows its error and links hint and error to the checkbox."""

from django import forms
from django.template.loader import render_to_string


class _Consent(forms.Form):
    anonymous = forms.BooleanField(label="Anonymous mode", required=False, help_text="Totals only.")

    def clean(self):
        self.add_error("anonymous", "Anonymous mode cannot be changed once answers exist.")


def _render(form):
    return render_to_string("surveys/_field.html", {"field": form["anonymous"]})


def test_an_error_on_a_checkbox_is_shown_and_described():
    form = _Consent(data={"anonymous": "on"})
    assert not form.is_valid()
    html = _render(form)
    assert "govuk-form-group--error" in html
    assert 'id="id_anonymous_error"' in html
    assert "Anonymous mode cannot be changed once answers exist." in html
    assert 'aria-describedby="id_anonymous_helptext id_anonymous_error"' in html
    assert " checked" in html  # the choice made is kept


def test_a_checkbox_without_an_error_describes_only_its_hint():
    html = _render(_Consent())
    assert "govuk-error-message" not in html
    assert 'aria-describedby="id_anonymous_helptext"' in html
    assert 'id="id_anonymous_helptext"' in html
