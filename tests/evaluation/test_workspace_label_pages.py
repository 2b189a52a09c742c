"""Label pages: the queue page's export buttons (CSV, JSONL) with the page's filters
(source, labelled since), audited with those filters, a malformed filter refused by name;
and "Accept the suggestion" without JavaScript."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.urls import reverse

from ari_review.models import AuditEvent
from evaluation.models import SafetyLabel, WorkItem
from evaluation.services.labels import safety_label_create
from tests.factories import LabelItemFactory, PreferenceItemFactory

pytestmark = pytest.mark.django_db


def _labelled(clinician, *, source: str) -> WorkItem:
    item = LabelItemFactory(kind=WorkItem.Kind.SAFETY, text="I can't sleep, write to me at a@b.org")
    WorkItem.objects.filter(pk=item.pk).update(source=source)
    safety_label_create(
        item=item, clinician=clinician, risk_level="low", category="", urgency="low"
    )
    return item


def test_queue_page_exports_labels_with_its_filters_and_audits_them(client, clinician):
    kept = _labelled(clinician, source="imported")
    _labelled(clinician, source="other")
    client.force_login(clinician)
    queue = client.get(reverse("evaluation:safety-labelling")).content.decode()
    assert "Export CSV" in queue and "Export JSONL" in queue

    url = reverse("evaluation:label-export", args=["safety"])
    response = client.get(url, {"format": "csv", "source": "imported"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="safety-labels-')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {int(r["item_id"]) for r in rows} == {kept.pk}
    assert "a@b.org" not in response.content.decode()  # masked

    today = dt.date.today().isoformat()
    jsonl = client.get(url, {"format": "jsonl", "since": today}).content.decode()
    assert len(jsonl.splitlines()) == 2
    assert json.loads(jsonl.splitlines()[0])["labels"][0]["risk_level"] == "low"
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert client.get(url, {"format": "jsonl", "since": tomorrow}).content == b""

    events = list(AuditEvent.objects.filter(action="export.safety_labels").order_by("id"))
    assert [(e.actor, e.after["format"], e.after["filters"], e.after["rows"]) for e in events] == [
        (clinician, "csv", {"source": "imported"}, 1),
        (clinician, "jsonl", {"since": today}, 2),
        (clinician, "jsonl", {"since": tomorrow}, 0),
    ]
    assert all(e.after["via"] == "workspace" for e in events)


@pytest.mark.parametrize(
    ("params", "message"),
    [({"format": "xls"}, "format must be one of"), ({"format": "csv", "since": "May"}, "since:")],
)
def test_a_malformed_export_request_is_refused_by_name(client, clinician, params, message):
    client.force_login(clinician)
    url = reverse("evaluation:label-export", args=["safety"])
    response = client.get(url, params, follow=True)
    assert message in response.content.decode()
    assert not AuditEvent.objects.filter(action__startswith="export.").exists()


def test_only_label_queues_export_and_only_clinicians(client, clinician, enduser):
    client.force_login(clinician)
    assert client.get(reverse("evaluation:label-export", args=["review"])).status_code == 404
    client.force_login(enduser)
    response = client.get(reverse("evaluation:label-export", args=["safety"]), {"format": "csv"})
    assert response.status_code in (302, 403)


def test_accept_the_suggestion_without_javascript_saves_the_models_values(client, clinician):
    item = LabelItemFactory(
        kind=WorkItem.Kind.SAFETY,
        suggestion={"risk_level": "low", "category": "", "urgency": "low", "score": 0.3},
    )
    client.force_login(clinician)
    url = reverse("evaluation:safety-item", args=[item.pk])
    page = client.get(url).content.decode()
    assert 'name="accept_suggestion"' in page and "Label guidelines" in page
    client.post(url, {"accept_suggestion": "1", "suggestion_shown": "1"})
    label = SafetyLabel.objects.get(item=item)
    assert (label.risk_level, label.category, label.urgency) == ("low", "", "low")
    assert label.suggestion_shown is True


def test_undo_the_last_label_and_edit_ones_own_labels_with_history_in_the_audit_log(
    client, clinician, clinician2
):
    first = _labelled(clinician, source="imported")
    last = _labelled(clinician, source="imported")
    theirs = _labelled(clinician2, source="imported")
    client.force_login(clinician)

    response = client.post(reverse("evaluation:label-undo", args=["safety"]))
    assert response["Location"] == reverse("evaluation:safety-item", args=[last.pk])
    assert not SafetyLabel.objects.filter(item=last, clinician=clinician).exists()
    last.refresh_from_db()
    assert (last.reviews_done, last.status, last.completed_at) == (0, "open", None)
    (undo,) = AuditEvent.objects.filter(action="safety_label.undo")
    assert undo.actor == clinician and undo.before == {
        "item_id": last.pk, "risk_level": "low", "category": "", "urgency": "low"
    }  # fmt: skip

    mine = reverse("evaluation:my-labels", args=["safety"])
    page = client.get(mine).content.decode()
    assert f'name="label_id" value="{SafetyLabel.objects.get(item=first).pk}"' in page
    assert "a@b.org" not in page
    label = SafetyLabel.objects.get(item=first)
    client.post(
        mine,
        {"label_id": label.pk, "risk_level": "high", "category": "suicidal_ideation",
         "urgency": "immediate"},
    )  # fmt: skip
    label.refresh_from_db()
    assert (label.risk_level, label.category, label.urgency) == (
        "high", "suicidal_ideation", "immediate"
    )  # fmt: skip
    (update,) = AuditEvent.objects.filter(action="safety_label.update")
    assert update.before["risk_level"] == "low" and update.after["risk_level"] == "high"

    # A medium risk without a category is refused as on the label page; theirs is not mine.
    refused = client.post(
        mine, {"label_id": label.pk, "risk_level": "medium", "category": "", "urgency": "low"},
        follow=True,
    )  # fmt: skip
    assert "Choose a risk category" in refused.content.decode()
    other = SafetyLabel.objects.get(item=theirs)
    denied = client.post(mine, {"label_id": other.pk, "risk_level": "none"}, follow=True)
    assert "No such label of yours." in denied.content.decode()
    other.refresh_from_db()
    assert other.risk_level == "low"


def test_the_comparison_page_defines_each_dimension_beside_the_scores(client, clinician):
    item = PreferenceItemFactory()  # three replies: each scored 0-3
    client.force_login(clinician)
    page = client.get(reverse("evaluation:preference-item", args=[item.pk])).content.decode()
    assert "What the scores mean" in page
    for dimension in ("Empathy", "Presence", "Stabilization", "Safety"):
        assert f"<dt>{dimension}</dt>" in page
    pair = PreferenceItemFactory(texts=("Reply A.", "Reply B."))  # a pair: compared per dimension
    page = client.get(reverse("evaluation:preference-item", args=[pair.pk])).content.decode()
    for dimension in ("empathy", "presence", "stabilization", "safety"):
        assert f'aria-describedby="def-{dimension}"' in page
        assert f'<p class="dim-def" id="def-{dimension}">' in page
