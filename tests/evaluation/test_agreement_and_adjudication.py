"""Agreement per label set, clinician pair and month; disagreements and their adjudication."""

import io
import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from evaluation import exports
from evaluation.label_sets import LABEL_SETS
from evaluation.models import IntentLabel, SafetyLabel
from evaluation.selectors.agreement import agreement_compute, disagreements_list
from evaluation.services import (
    CandidateScoreInput,
    adjudication_create,
    intent_label_create,
    preference_judgement_create,
    safety_label_create,
)
from tests.evaluation.conftest import api_as
from tests.factories import LabelItemFactory, PreferenceItemFactory

pytestmark = pytest.mark.django_db


def _double(a, b, values, kind="intent"):
    items = []
    for va, vb in values:
        item = LabelItemFactory(kind=kind, text="x", required_reviews=2)
        intent_label_create(item=item, clinician=a, intent=va)
        intent_label_create(item=item, clinician=b, intent=vb)
        items.append(item)
    return items


def test_agreement_per_label_set_pair_and_class(clinician, clinician2, clinician3):
    # Same table as the hand-computed three-class example: kappa 0.5.
    values = [
        ("validate", "validate"),
        ("validate", "validate"),
        ("reframe", "reframe"),
        ("reframe", "close"),
        ("close", "close"),
        ("close", "validate"),
    ]
    _double(clinician, clinician2, values)
    LabelItemFactory(kind="intent", text="single")  # single-labelled: ignored
    result = agreement_compute("intent.intent")
    assert result["items"] == 6 and result["kappa"] == pytest.approx(0.5)
    assert result["per_pair"] == [
        {"clinicians": [clinician.username, clinician2.username], "items": 6, "kappa": 0.5}
    ]
    per_class = {row["value"]: row["kappa"] for row in result["per_class"]}
    assert per_class["reframe"] == pytest.approx(round(8 / 14, 3))


def test_three_raters_use_alpha_and_pairwise_kappa(clinician, clinician2, clinician3):
    item = LabelItemFactory(kind="intent", text="x", required_reviews=3)
    for who, value in ((clinician, "validate"), (clinician2, "validate"), (clinician3, "reframe")):
        intent_label_create(item=item, clinician=who, intent=value)
    other = LabelItemFactory(kind="intent", text="y", required_reviews=2)
    intent_label_create(item=other, clinician=clinician, intent="close")
    intent_label_create(item=other, clinician=clinician2, intent="close")
    result = agreement_compute("intent.intent")
    assert result["items_more_than_two_raters"] == 1
    # Units (v, v, r) and (c, c), each pair weighted 1/(m-1): o_vv = 2 * 1/2 = 1,
    # o_vr = o_rv = 2 * 1/2 = 1, o_cc = 2; n_v = 2, n_r = 1, n_c = 2, n = 5;
    # alpha = 1 - (5 - 1) * 2 / (2 * (2*1 + 2*2 + 1*2)) = 1 - 8/16 = 0.5.
    assert result["alpha"] == pytest.approx(0.5)
    assert len(result["per_pair"]) == 3


def test_agreement_over_time_groups_by_month_of_the_second_label(clinician, clinician2):
    old, new = _double(clinician, clinician2, [("validate", "close"), ("close", "close")])
    past = timezone.now() - timedelta(days=62)
    IntentLabel.objects.filter(item=old).update(created_at=past)
    months = agreement_compute("intent.intent")["over_time"]
    assert [row["month"] for row in months] == [
        past.strftime("%Y-%m"),
        timezone.now().strftime("%Y-%m"),
    ]
    assert [row["items"] for row in months] == [1, 1]
    assert new.pk


def test_disagreements_are_listed_until_a_senior_clinician_decides(
    clinician, clinician2, admin_user
):
    agree, differ = _double(
        clinician, clinician2, [("validate", "validate"), ("validate", "reframe")]
    )
    rows = disagreements_list(label_set="intent.intent")
    assert [(r.item.pk, r.labels) for r in rows] == [
        (differ.pk, [(clinician.username, "validate"), (clinician2.username, "reframe")])
    ]
    with pytest.raises(ApplicationError, match="senior"):
        adjudication_create(
            item=differ, label_set="intent.intent", value="reframe", decided_by=clinician
        )
    with pytest.raises(ApplicationError, match="must be one of"):
        adjudication_create(
            item=differ, label_set="intent.intent", value="hug", decided_by=admin_user
        )
    adjudication_create(
        item=differ,
        label_set="intent.intent",
        value="reframe",
        decided_by=admin_user,
        reason="Reflects and reframes.",
    )
    assert disagreements_list(label_set="intent.intent") == []
    out = io.StringIO()
    exports.labels_export_jsonl(out, kind="intent")
    gold = {
        json.loads(line)["item_id"]: json.loads(line)["gold"]
        for line in out.getvalue().splitlines()
    }
    assert gold == {agree.pk: {"intent": "validate"}, differ.pk: {"intent": "reframe"}}


def test_safety_disagreements_per_field_and_senior_permission(clinician, clinician2):
    item = LabelItemFactory(kind="safety", required_reviews=2)
    safety_label_create(
        item=item, clinician=clinician, risk_level="high", category="self_harm", urgency="high"
    )
    safety_label_create(
        item=item,
        clinician=clinician2,
        risk_level="high",
        category="self_harm",
        urgency="immediate",
    )
    rows = disagreements_list()
    assert [r.label_set.key for r in rows] == ["safety.urgency"]
    clinician.user_permissions.add(Permission.objects.get(codename="adjudicate"))
    senior = type(clinician).objects.get(pk=clinician.pk)
    adjudication_create(item=item, label_set="safety.urgency", value="immediate", decided_by=senior)
    assert SafetyLabel.objects.count() == 2


def test_preference_disagreement_and_adjudicated_export(clinician, clinician2, admin_user):
    item = PreferenceItemFactory(texts=("First.", "Second."), required_reviews=2)
    a, b = item.candidates.order_by("position")
    scores = [CandidateScoreInput(a.pk, 2, 2, 2, 2), CandidateScoreInput(b.pk, 2, 2, 2, 2)]
    preference_judgement_create(
        item=item, clinician=clinician, chosen_id=a.pk, tie=False, scores=scores
    )
    preference_judgement_create(
        item=item, clinician=clinician2, chosen_id=None, tie=True, scores=scores
    )
    rows = disagreements_list(label_set="preference.choice")
    assert [sorted(v for _, v in r.labels) for r in rows] == [["1", "tie"]]
    assert agreement_compute("preference.choice")["items"] == 1
    response = api_as(admin_user).post(
        f"/api/v1/work-items/{item.pk}/adjudication/",
        {"label_set": "preference.choice", "value": "2", "reason": "Second is warmer."},
        format="json",
    )
    assert response.status_code == 201
    out = io.StringIO()
    assert exports.preferences_export(out) == 1
    pair = json.loads(out.getvalue())
    assert (pair["chosen"][0]["content"], pair["rejected"][0]["content"]) == ("Second.", "First.")


def test_agreement_api_lists_every_label_set(clinician):
    body = api_as(clinician).get("/api/v1/agreement/").json()
    assert [row["label_set"] for row in body] == [
        "review.appropriateness",
        "safety.risk_level",
        "safety.category",
        "safety.urgency",
        "intent.intent",
        "preference.choice",
    ]
    assert api_as(clinician).get("/api/v1/agreement/?label_set=nope").status_code == 400


def test_grouping_in_python_matches_grouping_in_postgresql(clinician, clinician2, monkeypatch):
    from django.db import connection

    _double(
        clinician, clinician2, [("validate", "close"), ("close", "close"), ("reframe", "reframe")]
    )
    in_db = agreement_compute("intent.intent")
    monkeypatch.setattr(connection, "vendor", "sqlite")  # the SQLite quick-start path
    assert agreement_compute("intent.intent") == in_db


def test_adjudication_pre_selects_nothing_and_refuses_a_missing_value(
    client, clinician, clinician2, admin_user
):
    _, differ = _double(clinician, clinician2, [("validate", "validate"), ("validate", "reframe")])
    client.force_login(admin_user)
    url = reverse("evaluation:adjudication") + "?label_set=intent.intent"
    page = client.get(url).content.decode()
    assert '<option value="" disabled selected>Choose the final value</option>' in page
    assert page.count(" selected>") == page.count("disabled selected>")  # nothing else chosen
    # A form sent without choosing (the placeholder is not submitted) decides nothing.
    response = client.post(
        url, {"item_id": differ.pk, "label_set": "intent.intent", "reason": "x"}, follow=True
    )
    assert "Choose the final value first." in response.content.decode()
    assert [r.item.pk for r in disagreements_list(label_set="intent.intent")] == [differ.pk]


def test_agreement_pages_read_the_figures_the_beat_job_stored(client, clinician, clinician2):
    """The beat job stores the figures; the page reads them whatever happened to the cache
    (one query, nothing recomputed), shows the next job's figures, and recomputes (and stores)
    only figures the job left older than ``AGREEMENT_MAX_AGE``."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from evaluation.models import AgreementFigures
    from evaluation.selectors.agreement import AGREEMENT_MAX_AGE
    from evaluation.tasks import agreement_refresh_task

    _double(clinician, clinician2, [("validate", "validate"), ("close", "close")])
    assert agreement_refresh_task() == list(LABEL_SETS)
    assert AgreementFigures.objects.count() == len(LABEL_SETS)
    api = api_as(clinician)

    def kappa() -> float | None:
        (row,) = api.get("/api/v1/agreement/?label_set=intent.intent").json()
        return row["kappa"]

    _double(clinician, clinician2, [("validate", "close"), ("reframe", "reframe")])
    cache.clear()  # a Redis restart or flush: the stored figures are still read
    with CaptureQueriesContext(connection) as ctx:
        assert kappa() == 1.0  # the job's figures, not recomputed from the new labels
    assert sum("evaluation_intentlabel" in q["sql"] for q in ctx.captured_queries) == 0
    client.force_login(clinician)
    page = client.get(reverse("evaluation:agreement") + "?label_set=intent.intent")
    assert page.status_code == 200

    agreement_refresh_task()  # the next run of the job
    fresh = kappa()
    assert fresh is not None and fresh < 1.0

    _double(clinician, clinician2, [("close", "validate")])
    AgreementFigures.objects.update(computed_at=timezone.now() - AGREEMENT_MAX_AGE * 2)
    stale = kappa()  # the job stopped: the page recomputes from every label, and stores
    assert stale is not None and stale < fresh
    stored = AgreementFigures.objects.get(label_set="intent.intent")
    assert stored.figures["kappa"] == stale
    assert stored.computed_at > timezone.now() - AGREEMENT_MAX_AGE
