"""The instrument engine: scoring with reverse codes and missing answers, and version freezing."""

import pytest
from django.core.exceptions import ValidationError

from surveys import services
from surveys.models import Construct, Instrument, InstrumentKind, InstrumentVersion, Item, ItemKind, Scale
from surveys.scoring import ItemRule, item_score, score_scales
from tests.surveys.conftest import answers_for

LIKERT5 = [
    {"value": str(v), "label": label}
    for v, label in enumerate(
        ["Strongly disagree", "Disagree", "Neither", "Agree", "Strongly agree"], start=1
    )
]


def test_reverse_coded_likert_item_is_flipped():
    assert item_score(ItemRule(1, 1, ItemKind.LIKERT_5, reverse_coded=True), "5") == 1
    assert item_score(ItemRule(1, 1, ItemKind.LIKERT_7, reverse_coded=True), "2") == 6
    assert item_score(ItemRule(1, 1, ItemKind.CONFIDENCE_0_10, reverse_coded=True), "3") == 7
    assert item_score(ItemRule(1, 1, ItemKind.LIKERT_5), "4") == 4


def test_out_of_range_value_is_refused():
    with pytest.raises(ValueError, match="outside 1 to 5"):
        item_score(ItemRule(1, 1, ItemKind.LIKERT_5), "6")


def test_likert_scale_mean_after_reverse_coding():
    rules = [ItemRule(i, 10, ItemKind.LIKERT_5, reverse_coded=(i == 3)) for i in (1, 2, 3, 4, 5)]
    # 4, 5, (2 -> 4), 3, 4 -> mean 4.0
    [result] = score_scales(rules, {10: 0.8}, {1: "4", 2: "5", 3: "2", 4: "3", 5: "4"})
    assert result.score == pytest.approx(4.0)
    assert (result.n_answered, result.n_items) == (5, 5)


def test_scale_needs_eighty_percent_of_items_answered():
    rules = [ItemRule(i, 10, ItemKind.LIKERT_5) for i in range(1, 6)]
    [four_of_five] = score_scales(rules, {10: 0.8}, {1: "2", 2: "4", 3: "3", 4: "5"})
    assert four_of_five.score == pytest.approx(3.5)  # mean of the answered items only
    [three_of_five] = score_scales(rules, {10: 0.8}, {1: "2", 2: "4", 3: "3"})
    assert three_of_five.score is None
    assert three_of_five.n_answered == 3


def test_knowledge_scale_is_percent_correct():
    rules = [ItemRule(i, 7, ItemKind.SINGLE_CHOICE, correct_answer="b") for i in range(1, 5)] + [
        ItemRule(5, 7, ItemKind.TRUE_FALSE, correct_answer="false")
    ]
    [result] = score_scales(rules, {7: 0.8}, {1: "b", 2: "a", 3: "b", 4: "B", 5: "False"})
    assert result.score == pytest.approx(80.0)


def test_free_text_is_never_scored():
    rules = [ItemRule(1, 3, ItemKind.FREE_TEXT), ItemRule(2, 3, ItemKind.LIKERT_5)]
    [result] = score_scales(rules, {3: 0.8}, {1: "anything", 2: "2"})
    assert (result.score, result.n_items) == (2.0, 1)


@pytest.fixture
def attitudes():
    instrument = Instrument.objects.create(
        name="Attitudes", slug="attitudes", kind=InstrumentKind.QUESTIONNAIRE
    )
    version = InstrumentVersion.objects.create(instrument=instrument, number=1)
    scale = Scale.objects.create(version=version, code="att", name="Attitudes", construct=Construct.ATTITUDES)
    for position, (code, reverse) in enumerate([("a1", False), ("a2", True), ("a3", False)], start=1):
        Item.objects.create(
            version=version,
            scale=scale,
            position=position,
            code=code,
            text=code,
            kind=ItemKind.LIKERT_5,
            options=LIKERT5,
            reverse_coded=reverse,
            required=(code == "a1"),
        )
    Item.objects.create(
        version=version, position=4, code="comment", text="Anything else?", kind=ItemKind.FREE_TEXT
    )
    return instrument


@pytest.mark.django_db
def test_submitting_scores_on_arrival_and_freezes_the_version(attitudes):
    version = attitudes.versions.get()
    response = services.response_save(
        version=version, values={"a1": "4", "a2": "1", "a3": "5", "comment": "Useful"}
    )

    version.refresh_from_db()
    assert version.is_frozen
    [score] = response.scale_scores.all()
    assert score.score == pytest.approx((4 + 5 + 5) / 3)
    assert response.answers.get(item__code="comment").text == "Useful"


@pytest.mark.django_db
def test_editing_a_frozen_version_makes_a_new_version(attitudes):
    v1 = attitudes.versions.get()
    services.response_save(version=v1, values={"a1": "3", "a2": "3", "a3": "3"})

    editable = services.version_for_editing(instrument=attitudes)
    assert editable.number == 2
    assert list(editable.items.values_list("code", flat=True)) == ["a1", "a2", "a3", "comment"]
    assert editable.items.get(code="a2").reverse_coded is True
    assert editable.items.get(code="a1").scale.version == editable
    with pytest.raises(ValidationError, match="frozen"):
        services.ensure_editable(v1)
    services.ensure_editable(editable)  # the new version can change
    assert services.version_for_editing(instrument=attitudes) == editable  # no third copy until answered


@pytest.mark.django_db
def test_invalid_answers_store_nothing(attitudes):
    version = attitudes.versions.get()
    with pytest.raises(ValidationError) as raised:
        services.response_save(version=version, values={"a2": "9", "bogus": "1"})
    assert set(raised.value.message_dict) == {"a1", "a2", "bogus"}
    assert not version.responses.exists()
    version.refresh_from_db()
    assert not version.is_frozen


@pytest.mark.django_db
def test_copying_an_instrument_for_adaptation(attitudes, django_user_model):
    owner = django_user_model.objects.create(username="t")
    copy = services.instrument_copy(instrument=attitudes, owner=owner)
    assert copy.copied_from == attitudes
    assert copy.versions.get().items.count() == 4
    assert copy.owner == owner


@pytest.fixture
def optional_copy(default_instrument, trainer):
    """A copy of the default where nothing is required, so answers can be missing."""
    copy = services.instrument_copy(instrument=default_instrument, owner=trainer)
    version = copy.versions.get()
    version.items.update(required=False)
    return version


@pytest.mark.django_db
def test_attitude_scale_with_reverse_codes_and_a_missing_answer(optional_copy):
    """Six attitude items, one unanswered (5 of 6 >= 80%): scored as the mean of five after reversing."""
    version = optional_copy
    values = {"a_knew_risks": "2", "a_lifestyle": "1", "a_returns": "4", "a_own_fault": "2", "a_boys": "5"}
    response = services.response_save(version=version, values=values)
    score = response.scale_scores.get(scale__code="attitudes")
    # reversed: 2->4, 1->5, 2->4; as given: 4, 5 -> mean 22/5
    assert score.score == pytest.approx(4.4)
    assert (score.n_answered, score.n_items) == (5, 6)
    assert response.scale_scores.get(scale__code="knowledge").score is None  # nothing answered


@pytest.mark.django_db
def test_attitude_scale_with_two_missing_answers_has_no_score(optional_copy):
    values = {"a_knew_risks": "2", "a_lifestyle": "1", "a_returns": "4", "a_own_fault": "2"}
    response = services.response_save(version=optional_copy, values=values)
    assert response.scale_scores.get(scale__code="attitudes").score is None  # 4 of 6 < 80%


@pytest.mark.django_db
def test_editing_a_copy_after_it_was_answered_leaves_sessions_on_the_old_version(
    default_instrument, trainer, make_session
):
    copy = services.instrument_copy(instrument=default_instrument, owner=trainer)
    session = make_session()
    [_, post, *_] = services.administrations_attach(
        session=session, instrument=copy, by=trainer, follow_up_offsets=[42]
    )
    v1 = post.version
    services.response_save(version=v1, values=answers_for(post))

    services.item_update(
        instrument=copy,
        code="k_boys",
        by=trainer,
        text="Boys can be exploited too.",
        options=None,
        correct_answer="true",
    )

    assert copy.versions.count() == 2
    v1.refresh_from_db()
    assert v1.is_frozen
    assert v1.items.get(code="k_boys").correct_answer == "false"  # the answered wording never changes
    assert copy.versions.get(number=2).items.get(code="k_boys").text == "Boys can be exploited too."
    post.refresh_from_db()
    assert post.version == v1


@pytest.mark.django_db
def test_the_default_instrument_cannot_be_edited_in_place(default_instrument, admin_user, trainer):
    from django.core.exceptions import PermissionDenied

    for user in (trainer, admin_user):
        with pytest.raises(PermissionDenied):
            services.item_remove(instrument=default_instrument, code="k_boys", by=user)


@pytest.mark.django_db
def test_adding_and_removing_questions_on_a_copy(default_instrument, trainer):
    copy = services.instrument_copy(instrument=default_instrument, owner=trainer)
    item = services.item_add(
        instrument=copy,
        by=trainer,
        code="k_apps",
        kind=ItemKind.SINGLE_CHOICE,
        scale_code="knowledge",
        text="Which is a sign of online grooming?",
        options=[{"value": "a", "label": "Secrecy"}, {"value": "b", "label": "Homework"}],
        correct_answer="a",
        required=True,
    )
    assert item.scale.code == "knowledge"
    assert item.version.number == 1  # nobody has answered the copy yet: edited in place
    services.item_remove(instrument=copy, code="k_boys", by=trainer)
    assert not copy.versions.get().items.filter(code="k_boys").exists()
    with pytest.raises(ValidationError, match="correct answer"):
        services.item_add(
            instrument=copy,
            by=trainer,
            code="k_bad",
            kind=ItemKind.SINGLE_CHOICE,
            scale_code="knowledge",
            text="?",
            options=[{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
            correct_answer="",
        )
