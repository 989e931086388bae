"""Version freezing holds in the Django admin too: a frozen version's items and scales are shown,
never changed, added or deleted, and the models refuse it whatever the way in."""

import json

import pytest
from django.core.exceptions import ValidationError

from surveys import services
from surveys.models import Item, Scale
from tests.surveys.conftest import valid_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen(default_instrument):
    version = services.version_latest(default_instrument)
    services.response_save(version=version, values=valid_answers(version.items.all()))
    version.refresh_from_db()
    assert version.is_frozen
    return version


@pytest.fixture
def editable(default_instrument, trainer):
    copy = services.instrument_copy(instrument=default_instrument, owner=trainer)
    return copy.versions.get()


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _item_form(item: Item, **changes) -> dict:
    data = {
        "version": item.version_id,
        "scale": item.scale_id or "",
        "position": item.position,
        "code": item.code,
        "text": item.text,
        "help_text": item.help_text,
        "kind": item.kind,
        "options": json.dumps(item.options),
        "correct_answer": item.correct_answer,
        "reverse_coded": "on" if item.reverse_coded else "",
        "required": "on" if item.required else "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def _scale_inline_form(version, **changes) -> dict:
    scales = list(version.scales.order_by("id"))
    data = {
        "instrument": version.instrument_id,
        "number": version.number,
        "scales-TOTAL_FORMS": len(scales),
        "scales-INITIAL_FORMS": len(scales),
        "scales-MIN_NUM_FORMS": 0,
        "scales-MAX_NUM_FORMS": 1000,
    }
    for n, scale in enumerate(scales):
        data.update(
            {
                f"scales-{n}-id": scale.pk,
                f"scales-{n}-version": version.pk,
                f"scales-{n}-code": scale.code,
                f"scales-{n}-name": changes.get("name", scale.name),
                f"scales-{n}-construct": scale.construct,
                f"scales-{n}-min_answered_share": changes.get("min_answered_share", scale.min_answered_share),
            }
        )
    return data


def test_an_admin_post_to_change_a_frozen_item_leaves_it_unchanged(admin_client, frozen):
    item = frozen.items.get(code="k_boys")
    before = (item.text, item.correct_answer)
    page = admin_client.get(f"/admin/surveys/item/{item.pk}/change/")
    assert page.status_code == 200
    assert 'name="text"' not in page.content.decode()  # shown read-only, no inputs
    response = admin_client.post(
        f"/admin/surveys/item/{item.pk}/change/", _item_form(item, text="Reworded", correct_answer="true")
    )
    assert response.status_code == 403
    item.refresh_from_db()
    assert (item.text, item.correct_answer) == before


def test_a_frozen_item_cannot_be_deleted_in_the_admin(admin_client, frozen):
    item = frozen.items.get(code="k_boys")
    assert admin_client.post(f"/admin/surveys/item/{item.pk}/delete/", {"post": "yes"}).status_code == 403
    admin_client.post(
        "/admin/surveys/item/",
        {"action": "delete_selected", "_selected_action": [item.pk], "post": "yes"},
    )
    assert Item.objects.filter(pk=item.pk).exists()


def test_no_item_can_be_added_to_a_frozen_version_in_the_admin(admin_client, frozen):
    template = frozen.items.get(code="k_boys")
    count = frozen.items.count()
    page = admin_client.post(
        "/admin/surveys/item/add/", _item_form(template, code="k_new", position=99, text="New question")
    )
    assert page.status_code == 200  # the form again, with an error on the version
    assert "Select a valid choice" in page.content.decode()
    assert frozen.items.count() == count


def test_a_frozen_versions_scales_cannot_be_changed_added_or_deleted_in_the_admin(admin_client, frozen):
    scales = {s.pk: (s.name, s.min_answered_share) for s in frozen.scales.all()}
    page = admin_client.get(f"/admin/surveys/instrumentversion/{frozen.pk}/change/")
    assert page.status_code == 200
    assert 'name="scales-0-name"' not in page.content.decode()
    changed = _scale_inline_form(frozen, name="Renamed", min_answered_share="0.10")
    assert (
        admin_client.post(f"/admin/surveys/instrumentversion/{frozen.pk}/change/", changed).status_code == 403
    )
    assert {s.pk: (s.name, s.min_answered_share) for s in frozen.scales.all()} == scales


def test_an_unanswered_versions_items_and_scales_stay_editable_in_the_admin(admin_client, editable):
    item = editable.items.get(code="k_boys")
    response = admin_client.post(f"/admin/surveys/item/{item.pk}/change/", _item_form(item, text="Reworded"))
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.text == "Reworded"
    changed = _scale_inline_form(editable, name="Renamed")
    response = admin_client.post(f"/admin/surveys/instrumentversion/{editable.pk}/change/", changed)
    assert response.status_code == 302
    assert set(editable.scales.values_list("name", flat=True)) == {"Renamed"}


def test_the_models_refuse_to_change_a_frozen_version(frozen, editable):
    item = frozen.items.get(code="k_boys")
    item.text = "Reworded"
    with pytest.raises(ValidationError, match="frozen"):
        item.save()
    with pytest.raises(ValidationError, match="frozen"):
        item.full_clean()
    with pytest.raises(ValidationError, match="frozen"):
        item.delete()
    # Moving an item out of a frozen version changes that version too.
    item.refresh_from_db()
    item.version, item.scale, item.code = editable, None, "k_moved"
    with pytest.raises(ValidationError, match="frozen"):
        item.save()
    scale = frozen.scales.first()
    scale.name = "Renamed"
    with pytest.raises(ValidationError, match="frozen"):
        scale.save()
    with pytest.raises(ValidationError, match="frozen"):
        scale.delete()
    with pytest.raises(ValidationError, match="frozen"):
        Scale.objects.create(version=frozen, code="new", name="New", construct="other")
    item.refresh_from_db()
    assert item.version == frozen and item.text != "Reworded"
    assert frozen.scales.filter(name="Renamed").count() == 0


def test_anonymity_cannot_be_switched_off_in_the_admin_once_invitations_are_out(
    admin_client, make_session, attach
):
    pre = next(a for a in attach(make_session(), anonymous=True) if a.phase == "pre")
    services.invitations_create(administration=pre)
    url = f"/admin/surveys/administration/{pre.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    assert b'name="anonymous"' not in page.content
    admin_client.post(
        url,
        {
            "session": pre.session_id,
            "phase": "pre",
            "version": pre.version_id,
            "opens_at_0": pre.opens_at.date().isoformat(),
            "opens_at_1": "00:00:00",
            "closes_at_0": pre.closes_at.date().isoformat(),
            "closes_at_1": "00:00:00",
            "created_by": pre.created_by_id,
        },
    )
    pre.refresh_from_db()
    assert pre.anonymous is True


def test_anonymity_can_be_changed_in_the_admin_before_any_invitation(admin_client, make_session, attach):
    pre = next(a for a in attach(make_session(), anonymous=True) if a.phase == "pre")
    page = admin_client.get(f"/admin/surveys/administration/{pre.pk}/change/")
    assert b'name="anonymous"' in page.content
