"""No mass assignment, for every writable operation in the OpenAPI schema.

For each POST, PUT and PATCH operation the schema at /api/schema/ documents, a caller allowed to use
it (the least privileged role in the authorization matrix) sends a valid body three ways, each in a
savepoint rolled back afterwards so all three meet the same database:

1. as is (the control): it must succeed, so the comparisons below are not vacuous;
2. with every read-only field of the resource set to a bogus value: what the schema marks
   ``readOnly`` in the operation's response, and every field of the resource's representation that
   the request body does not take (``owner``, ``is_rereferral``, ``auditor``, ``status``...);
3. once for each foreign key the request body takes, set to the other organisation's object.

The whole database (every table but sign-in sessions and the access log) is then compared with the
control's. Rows the request created are matched by their order, not their ids, and timestamps taken
during the request are masked, so two requests that stored the same thing compare equal. A request
with forbidden fields must store exactly what the control stored (the fields were ignored) or
nothing at all (it was refused with 400/404). Any bogus value or out-of-scope key that reached the
database makes the stores differ.

Out-of-scope keys are not tried for the operations only administrators may use: an administrator's
scope is everything, so no key is out of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.security.world import build_world

pytestmark = pytest.mark.django_db

NOT_STORED_DATA = {"sessions.Session", "training.AccessLog"}
WRITES = ("post", "put", "patch")


def _schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


SCHEMA = _schema()
COMPONENTS = SCHEMA["components"]["schemas"]
WRITABLE = sorted(
    f"{method.upper()} {path}"
    for path, operations in SCHEMA["paths"].items()
    for method in operations
    if method in WRITES
)


def _resolve(schema: dict | None) -> dict:
    """A schema with its $ref, allOf or oneOf wrappers followed (the first branch)."""
    while schema:
        if "$ref" in schema:
            schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[1]]
        elif "allOf" in schema or "oneOf" in schema:
            schema = (schema.get("allOf") or schema["oneOf"])[0]
        else:
            return schema
    return {}


def _json_schema(operation: dict, part: str, status: str | None = None) -> dict:
    holder = operation.get("requestBody") if part == "request" else operation["responses"].get(status, {})
    return _resolve((holder or {}).get("content", {}).get("application/json", {}).get("schema"))


def _read_only_fields(method: str, path: str) -> dict[str, dict]:
    """{name: property schema} of the fields a caller may not set with this operation."""
    operations = SCHEMA["paths"][path]
    operation = operations[method.lower()]
    accepted = set(_json_schema(operation, "request").get("properties", {}))
    representations = [_json_schema(operation, "response", status) for status in ("200", "201")]
    detail = path if path.endswith("{id}/") else path + "{id}/"
    if "get" in SCHEMA["paths"].get(detail, {}):
        representations.append(_json_schema(SCHEMA["paths"][detail]["get"], "response", "200"))
    found: dict[str, dict] = {}
    for representation in representations:
        for name, prop in representation.get("properties", {}).items():
            if name not in accepted:
                found.setdefault(name, {**_resolve(prop), **{k: v for k, v in prop.items() if k != "allOf"}})
    return found


# --- The database, compared ------------------------------------------------------------------------


def _tables() -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy and m._meta.label not in NOT_STORED_DATA
    ]


def _rows() -> dict[str, dict]:
    """{model label: {pk: row as a dict of column values}} for every table."""
    found = {}
    for model in _tables():
        columns = [f.attname for f in model._meta.concrete_fields]
        found[model._meta.label] = {
            row[model._meta.pk.attname]: row for row in model._base_manager.order_by("pk").values(*columns)
        }
    return found


def _normalised(rows: dict[str, dict], before: dict[str, dict], since: dt.datetime) -> str:
    """A digest of ``rows`` in which the rows created since ``before`` are named by their order
    (and keys pointing at them likewise), and timestamps from ``since`` on are masked."""
    created = {
        label: {pk: f"<new {label} {n}>" for n, pk in enumerate(sorted(set(table) - set(before[label])))}
        for label, table in rows.items()
    }
    by_model = {m._meta.label: m for m in _tables()}
    digest = hashlib.sha256()
    for label in sorted(rows):
        model = by_model[label]
        targets = {
            f.attname: f.related_model._meta.label
            for f in model._meta.concrete_fields
            if f.is_relation and f.related_model is not None
        }
        for pk, row in rows[label].items():
            shown = {}
            for column, value in row.items():
                if column == model._meta.pk.attname:
                    value = created[label].get(pk, pk)
                elif column in targets and value in created.get(targets[column], {}):
                    value = created[targets[column]][value]
                elif isinstance(value, dt.datetime) and value >= since:
                    value = "<during the request>"
                shown[column] = value
            digest.update(repr((label, sorted(shown.items(), key=lambda kv: kv[0]))).encode())
    return digest.hexdigest()


def _send(client, method: str, url: str, body: dict, before: dict):
    """(the response, the store after the request, the store before it), normalised the same way;
    the request is rolled back after."""
    since = dt.datetime.now(dt.UTC)
    with transaction.atomic():
        response = client.generic(method, url, data=_json(body), content_type="application/json")
        stored = _normalised(_rows(), before, since)
        transaction.set_rollback(True)
    return response, stored, _normalised(before, before, since)


def _json(body: dict) -> str:
    import json

    return json.dumps(body, default=str)


# --- The callers, objects and valid bodies ---------------------------------------------------------


def _theirs(model: type[models.Model], w):
    """The other organisation's object of this model, for bogus and out-of-scope keys."""
    from surveys.models import InstrumentVersion
    from training.models import Partnership, User

    for value in w.theirs.values():
        if isinstance(value, model):
            return value
    if model is Partnership:
        return w.theirs["organisation"].partnership
    if model is User:
        return w.theirs["audit"].auditor
    if model is InstrumentVersion:
        return w.theirs["instrument"].versions.first()
    return None


def _fresh_referral(w, reference: str):
    from tests.factories import ReferralFactory

    return ReferralFactory(staff=w.staff, case_reference=reference)


def _draft_audit(w):
    from practice import services as practice_services

    return practice_services.audit_start(referral=_fresh_referral(w, "NB555002"), by=w.users["manager"])


def _new_person(w):
    from tests.factories import StaffMemberFactory

    return StaffMemberFactory(team=w.team, name="Not Yet Booked", work_email="unbooked@council.example")


def _referral_body(referral) -> dict:
    return {
        "made_on": referral.made_on.isoformat(),
        "route": referral.route,
        "concerns": list(referral.concerns),
        "outcome": referral.outcome,
        "notes": "Checked",
    }


def _session_times() -> dict:
    start = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    return {"start": start.isoformat(), "end": (start + dt.timedelta(hours=3)).isoformat()}


# "METHOD path": (role, the object in the path, or None, and a valid body). Each is a function of
# the world, so it can make the object it needs (a draft audit, a referral not yet audited).
OPERATIONS = {
    "POST /api/v1/organisations/": lambda w: (
        "admin",
        None,
        {
            "name": "Posted",
            "slug": "posted",
            "kind": w.organisation.kind,
            "partnership": w.organisation.partnership_id,
        },
    ),
    "PUT /api/v1/organisations/{id}/": lambda w: (
        "admin",
        w.organisation,
        {
            "name": "Renamed",
            "slug": "council",
            "kind": w.organisation.kind,
            "partnership": w.organisation.partnership_id,
        },
    ),
    "PATCH /api/v1/organisations/{id}/": lambda w: ("admin", w.organisation, {"name": "Renamed"}),
    "POST /api/v1/teams/": lambda w: (
        "admin",
        None,
        {"name": "Posted", "slug": "posted", "organisation": w.organisation.pk, "managers": []},
    ),
    "PUT /api/v1/teams/{id}/": lambda w: (
        "admin",
        w.team,
        {"name": "Renamed", "slug": "north", "organisation": w.organisation.pk, "managers": []},
    ),
    "PATCH /api/v1/teams/{id}/": lambda w: ("admin", w.team, {"name": "Renamed"}),
    "POST /api/v1/staff/": lambda w: (
        "lead",
        None,
        {
            "name": "Posted",
            "work_email": "posted@council.example",
            "profession": "social_worker",
            "team": w.team.pk,
        },
    ),
    "PUT /api/v1/staff/{id}/": lambda w: (
        "lead",
        w.staff,
        {
            "name": "Renamed",
            "work_email": w.staff.work_email,
            "profession": w.staff.profession,
            "team": w.team.pk,
        },
    ),
    "PATCH /api/v1/staff/{id}/": lambda w: ("lead", w.staff, {"name": "Renamed"}),
    "POST /api/v1/courses/": lambda w: (
        "trainer",
        None,
        {"title": "Posted", "topic": "cse", "delivery_mode": "face_to_face", "duration_hours": "2.0"},
    ),
    "PUT /api/v1/courses/{id}/": lambda w: (
        "trainer",
        w.course,
        {"title": "Renamed", "topic": "cse", "delivery_mode": "face_to_face", "duration_hours": "2.0"},
    ),
    "PATCH /api/v1/courses/{id}/": lambda w: ("trainer", w.course, {"title": "Renamed"}),
    "POST /api/v1/sessions/": lambda w: ("trainer", None, {"course": w.course.pk, **_session_times()}),
    "PUT /api/v1/sessions/{id}/": lambda w: (
        "trainer",
        w.session,
        {"course": w.course.pk, **_session_times(), "venue": "Town Hall"},
    ),
    "PATCH /api/v1/sessions/{id}/": lambda w: ("trainer", w.session, {"venue": "Town Hall"}),
    "POST /api/v1/attendance/": lambda w: (
        "trainer",
        None,
        {"session": w.session.pk, "staff": _new_person(w).pk, "status": "booked"},
    ),
    "PUT /api/v1/attendance/{id}/": lambda w: (
        "trainer",
        w.attendance,
        {"session": w.session.pk, "staff": w.staff.pk, "status": "partial"},
    ),
    "PATCH /api/v1/attendance/{id}/": lambda w: ("trainer", w.attendance, {"status": "partial"}),
    "POST /api/v1/responses/": lambda w: ("trainee", None, {"token": w.token, "answers": _answers(w)}),
    "POST /api/v1/referrals/": lambda w: (
        "manager",
        None,
        {
            "staff": w.staff.pk,
            "made_on": "2025-01-10",
            "route": "police",
            "concerns": ["neglect"],
            "outcome": "pending",
            "case_reference": "NB555001",
        },
    ),
    "PUT /api/v1/referrals/{id}/": lambda w: ("manager", w.referral, _referral_body(w.referral)),
    "PATCH /api/v1/referrals/{id}/": lambda w: ("manager", w.referral, {"notes": "Checked"}),
    "POST /api/v1/audits/": lambda w: ("manager", None, {"referral": _fresh_referral(w, "NB555003").pk}),
    "PUT /api/v1/audits/{id}/": lambda w: (
        "manager",
        (draft := _draft_audit(w)),
        {"revision": draft.revision, "grades": {"timely": "2"}, "evidence": {}},
    ),
    "PATCH /api/v1/audits/{id}/": lambda w: (
        "manager",
        (draft := _draft_audit(w)),
        {"revision": draft.revision, "grades": {"timely": "2"}},
    ),
}


def _answers(w) -> dict:
    from tests.surveys.conftest import answers_for

    return answers_for(w.administration)


MODELS = {
    "organisations": "training.Organisation",
    "teams": "training.Team",
    "staff": "training.StaffMember",
    "courses": "training.Course",
    "sessions": "training.TrainingSession",
    "attendance": "training.Attendance",
    "responses": "surveys.Response",
    "referrals": "practice.Referral",
    "audits": "practice.Audit",
}


def _model(path: str) -> type[models.Model]:
    return apps.get_model(MODELS[path.split("/")[3]])


def _client(role: str, w) -> APIClient:
    client = APIClient()
    if role in w.users:
        client.credentials(
            HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=w.users[role])[0].key}"
        )
    return client


def _field(model: type[models.Model], name: str):
    """The model field behind an API field, or None (``criteria``, ``case_reference``, ``grades``,
    and reverse relations such as a response's ``answers``, which are not keys the caller sends)."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return None if field.auto_created and not field.concrete else field


def _bogus(name: str, prop: dict, model: type[models.Model], w, obj):
    """A value for a read-only field that the server would not have chosen itself."""
    field = _field(model, name)
    if field is not None and field.is_relation and field.related_model is not None:
        other = _theirs(field.related_model, w)
        if other is None:
            return None
        return [other.pk] if field.many_to_many else other.pk
    if name == "id":
        return 987654
    kind, fmt = prop.get("type"), prop.get("format")
    if "enum" in prop:
        current = getattr(obj, name, None) if obj is not None else None
        choices = [v for v in prop["enum"] if v not in (current, "", None)]
        return choices[-1] if choices else None
    if kind == "boolean":
        return not getattr(obj, name) if obj is not None and hasattr(obj, name) else True
    if kind == "integer":
        return 97
    if kind == "number":
        return 97.5
    if kind == "array":
        return ["bogus"]
    if kind == "object":
        return {"bogus": "value"}
    if fmt == "date":
        return "1999-09-09"
    if fmt == "date-time":
        return "1999-09-09T09:09:09Z"
    return "bogus-read-only"


@pytest.fixture
def world():
    return build_world()


def test_every_writable_operation_in_the_schema_is_walked(client):
    assert set(OPERATIONS) == set(WRITABLE), "writable operations without an entry, or entries without one"
    # The schema walked here is the one served at /api/schema/.
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="reader"))
    served = client.get("/api/schema/", {"format": "json"}).json()
    assert served["paths"].keys() == SCHEMA["paths"].keys()


def test_read_only_fields_come_from_the_schema():
    """The fields are found, not listed by hand: spot-check a few the API must never take."""
    assert {"owner", "organisation", "slug", "trainers"} <= set(_read_only_fields("POST", "/api/v1/courses/"))
    assert {"is_rereferral", "created_at"} <= set(_read_only_fields("POST", "/api/v1/referrals/"))
    audit = set(_read_only_fields("PUT", "/api/v1/audits/{id}/"))
    assert {"auditor", "referral", "status", "score_0_100", "overall_grade", "is_second"} <= audit
    assert "revision" not in audit  # the client sends back the revision it loaded


@pytest.mark.parametrize("operation", WRITABLE)
def test_read_only_fields_and_out_of_scope_keys_are_never_stored(world, operation):
    method, path = operation.split(" ", 1)
    role, obj, body = OPERATIONS[operation](world)
    url = path.replace("{id}", str(obj.pk)) if obj is not None else path
    client = _client(role, world)
    model = _model(path)
    before = _rows()

    response, control, unchanged = _send(client, method, url, body, before)
    assert response.status_code in (200, 201), f"the valid body was refused: {response.content!r}"
    assert control != unchanged, "the control request stored nothing"

    read_only = {
        name: value
        for name, prop in _read_only_fields(method, path).items()
        if (value := _bogus(name, prop, model, world, obj)) is not None
    }
    assert read_only, "no read-only field found to send"
    response, stored, unchanged = _send(client, method, url, {**body, **read_only}, before)
    status = response.status_code
    assert status in (200, 201, 400), response.content
    assert stored == (control if status < 300 else unchanged), f"a read-only field was stored: {read_only}"

    if role == "admin":
        return
    request_fields = _json_schema(SCHEMA["paths"][path][method.lower()], "request").get("properties", {})
    for name in request_fields:
        field = _field(model, name)
        if field is None or not (field.is_relation and field.related_model is not None):
            continue
        other = _theirs(field.related_model, world)
        assert other is not None, f"no out-of-scope {field.related_model.__name__} in the world"
        value = [other.pk] if field.many_to_many else other.pk
        response, stored, unchanged = _send(client, method, url, {**body, name: value}, before)
        status = response.status_code
        assert status in (200, 201, 400, 404), (name, response.content)
        assert stored == (control if status < 300 else unchanged), f"an out-of-scope {name} was stored"
