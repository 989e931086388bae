"""The default CSE questionnaire that the data migration loads into every deployment."""

import pytest

from surveys import services
from surveys.models import Construct, ItemKind

pytestmark = pytest.mark.django_db


def test_default_instrument_has_stable_scale_codes(default_instrument):
    version = default_instrument.versions.get()
    assert default_instrument.is_default
    assert set(version.scales.values_list("code", flat=True)) == {
        "knowledge",
        "confidence",
        "attitudes",
        "reaction",
        "intention",
    }


def test_default_instrument_covers_the_knowledge_topics(default_instrument):
    version = default_instrument.versions.get()
    knowledge = version.items.filter(scale__code="knowledge")
    assert knowledge.count() >= 10
    assert set(knowledge.values_list("kind", flat=True)) == {ItemKind.SINGLE_CHOICE, ItemKind.TRUE_FALSE}
    codes = set(knowledge.values_list("code", flat=True))
    for topic in ("indicators", "grooming", "online", "boys", "age_of_consent", "under_13", "under_18"):
        assert f"k_{topic}" in codes
    assert {"k_good_referral", "k_threshold", "k_escalation"} <= codes
    age = version.items.get(code="k_age_of_consent")
    assert next(o["label"] for o in age.options if o["value"] == age.correct_answer) == "16"
    assert version.items.get(code="k_under_13").correct_answer == "true"
    assert version.items.get(code="k_under_18").correct_answer == "false"


def test_confidence_covers_the_five_steps(default_instrument):
    codes = set(
        default_instrument.versions.get()
        .items.filter(scale__code="confidence")
        .values_list("code", flat=True)
    )
    assert codes == {"c_recognise", "c_ask", "c_record", "c_refer", "c_escalate"}


def test_victim_blaming_attitudes_are_reverse_coded(default_instrument):
    attitudes = default_instrument.versions.get().items.filter(scale__construct=Construct.ATTITUDES)
    reversed_codes = set(attitudes.filter(reverse_coded=True).values_list("code", flat=True))
    assert {"a_knew_risks", "a_lifestyle", "a_own_fault", "a_gifts"} == reversed_codes
    assert attitudes.filter(reverse_coded=False).exists()  # some items are worded the other way


def test_free_text_item_warns_against_naming_children(default_instrument):
    free = default_instrument.versions.get().items.get(kind=ItemKind.FREE_TEXT)
    assert "names of children" in free.help_text


def test_best_answers_score_best_on_every_scale(default_instrument):
    version = default_instrument.versions.get()
    values = {}
    for item in version.items.all():
        if item.kind in (ItemKind.SINGLE_CHOICE, ItemKind.TRUE_FALSE):
            values[item.code] = item.correct_answer
        elif item.kind == ItemKind.CONFIDENCE_0_10:
            values[item.code] = "10"
        elif item.kind == ItemKind.LIKERT_5:
            values[item.code] = "1" if item.reverse_coded else "5"
    response = services.response_save(version=version, values=values)
    scores = {s.scale.code: s.score for s in response.scale_scores.select_related("scale")}
    assert scores == {
        "knowledge": 100.0,
        "confidence": 10.0,
        "attitudes": 5.0,
        "reaction": 5.0,
        "intention": 5.0,
    }
