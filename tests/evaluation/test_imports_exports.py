"""Import/export round trips with the example files, and bad files: a clear error with the line
or record number, and nothing half-imported."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ari_review.models import AuditEvent
from evaluation import exports
from evaluation.models import PreferenceCandidate, SeedDialogue, WorkItem
from evaluation.services import (
    CandidateScoreInput,
    ImportFileError,
    counsel_chat_import,
    dialogue_approve,
    dialogue_submit,
    dialogues_import,
    esconv_import,
    intent_label_create,
    kakoverse_import,
    preference_judgement_create,
    safety_label_create,
)
from evaluation.services.dialogues import CHECKLIST_KEYS

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"


def _open(name):
    return (DATA / name).open("rb")


def _import_dialogues(name="dialogues.json", **kwargs):
    with _open(name) as handle:
        return dialogues_import(fileobj=handle, filename=name, **kwargs)


def test_seed_dialogues_import_with_variants_and_skip_on_reimport():
    result = _import_dialogues()
    assert (result.created, result.skipped) == (3, 0)
    original = SeedDialogue.objects.get(external_id="seed-001")
    assert original.state == "draft" and original.tags == ["work", "overwhelm"]
    assert [v.external_id for v in original.variants.all()] == ["seed-001-v1"]
    assert SeedDialogue.objects.get(external_id="seed-002").state == "in_review"
    again = _import_dialogues()
    assert (again.created, again.skipped) == (0, 3)
    assert AuditEvent.objects.filter(action="import.dialogues").count() == 2


def test_approved_dialogues_round_trip_through_openai_jsonl(clinician, clinician2, tmp_path):
    _import_dialogues()
    for dialogue in SeedDialogue.objects.all():
        if dialogue.state == "draft":
            dialogue = dialogue_submit(dialogue=dialogue, user=clinician)
        dialogue_approve(
            dialogue=dialogue, reviewer=clinician2, checklist=dict.fromkeys(CHECKLIST_KEYS, True)
        )
    draft = SeedDialogue.objects.create(
        title="draft", messages=[{"role": "assistant", "content": "Not approved yet."}]
    )
    out = tmp_path / "dialogues.jsonl"
    call_command("export_dialogues", output=str(out))
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 3 and all(set(line) == {"messages"} for line in lines)
    exported = sorted(json.dumps(line["messages"]) for line in lines)
    assert json.dumps(draft.messages) not in exported
    expected = sorted(json.dumps(d.messages) for d in SeedDialogue.objects.filter(state="approved"))
    assert exported == expected
    # ... and back in: the OpenAI JSONL is an import format too.
    SeedDialogue.objects.all().delete()
    with out.open("rb") as handle:
        result = dialogues_import(fileobj=handle, filename="dialogues.jsonl")
    assert result.created == 3
    assert sorted(json.dumps(d.messages) for d in SeedDialogue.objects.all()) == expected


def test_seed_json_export_reimports_identically(tmp_path):
    _import_dialogues()
    out = io.StringIO()
    exports.dialogues_export_seed(out)
    before = sorted((d.title, json.dumps(d.messages)) for d in SeedDialogue.objects.all())
    SeedDialogue.objects.all().delete()
    dialogues_import(fileobj=io.BytesIO(out.getvalue().encode()), filename="x.json", source="re")
    after = sorted((d.title, json.dumps(d.messages)) for d in SeedDialogue.objects.all())
    assert after == before
    assert SeedDialogue.objects.filter(variant_of__isnull=False).count() == 1


def test_openai_jsonl_example_file_imports():
    assert _import_dialogues("dialogues_openai.jsonl").created == 2


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (
            '[{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", '
            '"content": "hello"}]}, {"messages": [{"role": "bot", "content": "x"}]}]',
            "d.json",
            r"record 2: messages\[0\].role must be one of",
        ),
        (
            '[{"messages": [{"role": "assistant", "content": "ok"}]},\n {"messages": ]',
            "d.json",
            "line 2, column",
        ),
        (
            '{"messages": [{"role": "assistant", "content": "ok"}]}\n{"messages": "nope"}\n',
            "d.jsonl",
            "line 2: messages must be a non-empty list",
        ),
        (
            '[{"messages": [{"role": "assistant", "content": "ok"}], "state": "approved"}]',
            "d.json",
            "record 1: imported dialogues start as draft",
        ),
        (
            '[{"id": "a", "messages": [{"role": "assistant", "content": "ok"}]},'
            ' {"id": "a", "messages": [{"role": "assistant", "content": "ok"}]}]',
            "d.json",
            "record 2: id 'a' already used at record 1",
        ),
    ],
)
def test_bad_dialogue_files_name_the_record_and_import_nothing(content, filename, message):
    with pytest.raises(ImportFileError, match=message):
        dialogues_import(fileobj=io.BytesIO(content.encode()), filename=filename)
    assert not SeedDialogue.objects.exists()
    assert not AuditEvent.objects.exists()


def test_counsel_chat_csv_questions_become_safety_items_and_answers_draft_dialogues():
    with _open("counsel_chat.csv") as handle:
        result = counsel_chat_import(fileobj=handle, filename="counsel_chat.csv", dialogues=True)
    assert result.details == {"safety_items": 3, "dialogues": 4}
    items = WorkItem.objects.filter(kind="safety", source="counsel_chat").order_by("external_id")
    assert [i.external_id for i in items] == ["q101", "q102", "q103"]
    assert items[0].text.startswith("Always tired of trying\n\nI keep trying")
    assert all(i.status == "open" and i.reason == "imported" for i in items)
    dialogue = SeedDialogue.objects.filter(source="counsel_chat").first()
    assert dialogue.state == "draft" and [m["role"] for m in dialogue.messages] == [
        "user",
        "assistant",
    ]
    with _open("counsel_chat.csv") as handle:
        again = counsel_chat_import(fileobj=handle, filename="counsel_chat.csv", dialogues=True)
    assert again.created == 0 and again.skipped == 7


def test_counsel_chat_bad_row_names_its_line_and_imports_nothing():
    bad = (
        "questionID,questionTitle,questionText,topic,answerText\n"
        '1,Fine,"A question that is fine.",anxiety,"An answer."\n'
        '2,"Multi\nline title","",anxiety,"An answer."\n'
    )
    with pytest.raises(ImportFileError, match="line 3: questionText must be non-empty"):
        counsel_chat_import(fileobj=io.BytesIO(bad.encode()), filename="bad.csv")
    missing = "questionID,title\n1,x\n"
    with pytest.raises(ImportFileError, match="line 1: missing column 'questionText'"):
        counsel_chat_import(fileobj=io.BytesIO(missing.encode()), filename="bad.csv")
    assert not WorkItem.objects.exists()


def test_labels_round_trip_to_jsonl_and_csv(clinician, clinician2):
    with _open("counsel_chat.csv") as handle:
        counsel_chat_import(fileobj=handle, filename="counsel_chat.csv")
    q101, q102, q103 = WorkItem.objects.filter(source="counsel_chat").order_by("external_id")
    for item in (q101, q102, q103):
        item.required_reviews = 2
        item.save()
    safety_label_create(
        item=q103,
        clinician=clinician,
        risk_level="high",
        category="suicidal_ideation",
        urgency="high",
    )
    safety_label_create(
        item=q103,
        clinician=clinician2,
        risk_level="high",
        category="suicidal_ideation",
        urgency="immediate",
    )
    safety_label_create(item=q101, clinician=clinician, risk_level="low", urgency="low")
    out = io.StringIO()
    assert exports.labels_export_jsonl(out, kind="safety") == 2
    rows = {row["external_id"]: row for row in map(json.loads, out.getvalue().splitlines())}
    assert set(rows) == {"q101", "q103"}
    high = rows["q103"]
    assert high["text"] == q103.text and high["role"] == "user"
    assert [label["urgency"] for label in high["labels"]] == ["high", "immediate"]
    assert high["gold"] == {"risk_level": "high", "category": "suicidal_ideation", "urgency": None}
    assert all(label["clinician"].startswith("u-") for label in high["labels"])
    assert clinician.username not in out.getvalue()
    text = io.StringIO()
    assert exports.labels_export_csv(text, kind="safety") == 3
    table = list(csv.DictReader(io.StringIO(text.getvalue())))
    assert [r["risk_level"] for r in table] == ["low", "high", "high"]
    assert table[1]["gold_risk_level"] == "high" and table[1]["gold_urgency"] == ""
    assert table[1]["text"] == q103.text


def test_esconv_conversations_become_draft_dialogues_and_intent_items(clinician):
    with _open("esconv.json") as handle:
        result = esconv_import(fileobj=handle, filename="esconv.json", intent_items=True)
    assert result.details == {"dialogues": 2, "intent_items": 3}
    first = SeedDialogue.objects.get(external_id="esconv-1")
    assert [m["role"] for m in first.messages] == ["user", "assistant", "user", "assistant"]
    assert first.messages[2]["content"] == (
        "They're reorganising and I might lose my job. I can't stop thinking about it."
    )
    assert first.meta["strategies"] == [None, "Question", None, "Reflection of feelings"]
    assert first.tags == ["anxiety", "job crisis"] and first.state == "draft"
    item = WorkItem.objects.get(kind="intent", external_id="esconv-1-m1")
    assert item.suggestion["intent"] == "probe_story" and item.text_role == "assistant"
    assert item.context == [first.messages[0]]
    intent_label_create(item=item, clinician=clinician, intent="probe_story")
    out = io.StringIO()
    exports.labels_export_jsonl(out, kind="intent")
    row = json.loads(out.getvalue())
    assert row["gold"] == {"intent": "probe_story"} and row["role"] == "assistant"


def test_esconv_bad_speaker_names_the_record_and_turn():
    bad = json.dumps(
        [
            {
                "dialog": [
                    {"speaker": "seeker", "content": "hi"},
                    {"speaker": "supporter", "content": "hello"},
                ]
            },
            {
                "dialog": [
                    {"speaker": "seeker", "content": "hi"},
                    {"speaker": "robot", "content": "x"},
                ]
            },
        ]
    )
    with pytest.raises(ImportFileError, match=r"record 2, dialog\[1\]: speaker 'robot'"):
        esconv_import(fileobj=io.BytesIO(bad.encode()), filename="e.json")
    assert not SeedDialogue.objects.exists()


def test_esconv_strategy_lines_become_intent_items_with_their_strategy():
    with _open("esconv_strategy.jsonl") as handle:
        result = esconv_import(fileobj=handle, filename="esconv_strategy.jsonl")
    # Four lines, one repeated: three replies to label, no seed dialogue (lines are windows).
    assert (result.created, result.details) == (3, {"intent_items": 3})
    assert not SeedDialogue.objects.exists()
    items = {i.text: i for i in WorkItem.objects.filter(kind="intent", source="esconv")}
    question = items["What was the last conversation between you like?"]
    assert [m["role"] for m in question.context] == ["user", "assistant", "user"]
    assert question.context[-1]["content"] == "It's been three weeks."
    assert question.suggestion["intent"] == "probe_story" and question.text_role == "assistant"
    assert items["That silence sounds painful to sit with."].suggestion["intent"] == "validate"
    with _open("esconv_strategy.jsonl") as handle:  # a second import adds nothing
        again = esconv_import(fileobj=handle, filename="esconv_strategy.jsonl")
    assert (again.created, again.skipped) == (0, 3)


def test_esconv_strategy_lines_are_recognised_without_the_jsonl_name():
    line = {
        "context": [{"speaker": "seeker", "text": "hi"}],
        "reply": "Hello.",
        "strategy": "Other",
    }
    result = esconv_import(fileobj=io.BytesIO(json.dumps(line).encode()), filename="upload")
    assert result.details == {"intent_items": 1}


def test_esconv_bad_strategy_line_names_the_line_and_imports_nothing():
    good = {"context": [], "reply": "Hello.", "strategy": "Other"}
    bad = {"context": [{"speaker": "robot", "text": "beep"}], "reply": "Hello again."}
    content = "\n".join(json.dumps(row) for row in (good, bad))
    with pytest.raises(ImportFileError, match=r"line 2, context\[0\]: speaker 'robot'"):
        esconv_import(fileobj=io.BytesIO(content.encode()), filename="e.jsonl")
    assert not WorkItem.objects.exists()


@pytest.mark.slow
def test_the_shipped_esconv_strategy_file_imports(capsys):
    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "esconv_strategy_dev.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} is not here (the public data sits beside the project)")
    call_command("import_esconv", str(path))
    rows = sum(1 for line in path.open(encoding="utf-8") if line.strip())
    items = WorkItem.objects.filter(kind="intent", source="esconv")
    assert 0.9 * rows <= items.count() <= rows  # exact repeats become one item
    assert not items.exclude(suggestion__has_key="intent").exists()  # every strategy is mapped
    assert "esconv: " in capsys.readouterr().out


def test_kakoverse_turns_become_blind_preference_items_and_export_as_pairs(clinician, tmp_path):
    with _open("kakoverse_conversation.json") as handle:
        result = kakoverse_import(files=[("kakoverse_conversation.json", handle)])
    assert result.created == 2
    first, second = WorkItem.objects.filter(kind="preference").order_by("external_id")
    assert first.external_id == "ari_example_001:turn1"
    assert [c.meta["style"] for c in first.candidates.all()] == ["baseline", "empathetic", "cold"]
    assert [m["role"] for m in second.context] == ["user", "assistant", "user"]
    assert second.context[1]["content"] == first.candidates.get(position=0).text  # baseline
    baseline, empathetic, cold = first.candidates.order_by("position")
    preference_judgement_create(
        item=first,
        clinician=clinician,
        chosen_id=empathetic.pk,
        tie=False,
        scores=[
            CandidateScoreInput(baseline.pk, 2, 2, 2, 3),
            CandidateScoreInput(empathetic.pk, 3, 3, 2, 3),
            CandidateScoreInput(cold.pk, 0, 0, 0, 1, unsafe=True),
        ],
    )
    out = io.StringIO()
    count = exports.preferences_export(out, with_meta=True)
    pairs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == len(pairs) == 3
    as_text = {(p["chosen"][0]["content"], p["rejected"][0]["content"]) for p in pairs}
    assert as_text == {
        (empathetic.text, baseline.text),
        (empathetic.text, cold.text),
        (baseline.text, cold.text),
    }
    assert pairs[0]["prompt"] == first.context
    assert set(pairs[0]) == {"prompt", "chosen", "rejected", "meta"}
    # Re-importing the same file skips every turn.
    with _open("kakoverse_conversation.json") as handle:
        assert kakoverse_import(files=[("k.json", handle)]).skipped == 2
    call_command("export_preferences", output=str(tmp_path / "prefs.jsonl"))
    assert len((tmp_path / "prefs.jsonl").read_text().splitlines()) == 3


def test_kakoverse_bad_turn_names_file_record_and_turn():
    bad = {
        "persona_id": "x",
        "turns": [
            {"seeker_message": "hi", "supporter_responses": [{"style": "a", "message": "one"}]}
        ],
    }
    with pytest.raises(ImportFileError, match=r"k.json, record 1, turns\[0\]: supporter_responses"):
        kakoverse_import(files=[("k.json", io.BytesIO(json.dumps(bad).encode()))])
    assert not PreferenceCandidate.objects.exists()


def test_import_commands_report_counts_and_fail_cleanly(capsys, tmp_path):
    call_command("import_dialogues", str(DATA / "dialogues.json"))
    call_command("import_counsel_chat", str(DATA / "counsel_chat.csv"))
    call_command("import_esconv", str(DATA / "esconv.json"), "--intent-items")
    with pytest.raises(CommandError, match="nothing imported: dialogues.json, record 1"):
        call_command("import_kakoverse", str(DATA))  # a folder of mixed files: all or nothing
    assert not WorkItem.objects.filter(kind="preference").exists()
    call_command("import_kakoverse", str(DATA / "kakoverse_conversation.json"))
    out = capsys.readouterr().out
    assert "dialogues: 3 created" in out and "kakoverse: 2 created" in out
    bad = tmp_path / "bad.json"
    bad.write_text('[{"messages": []}]')
    with pytest.raises(CommandError, match="nothing imported: record 1: messages must be"):
        call_command("import_dialogues", str(bad))
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_esconv", str(tmp_path / "missing.json"))
    label_out = tmp_path / "labels.csv"
    call_command("export_labels", kind="safety", format="csv", output=str(label_out))
    assert label_out.read_text().startswith("item_id,kind,source")


def test_exports_mask_personal_details(clinician, clinician2):
    dialogue = SeedDialogue.objects.create(
        title="x",
        state="approved",
        messages=[
            {"role": "user", "content": "I'm called Dana, mail dana@example.com"},
            {"role": "assistant", "content": "Thank you for sharing."},
        ],
    )
    out = io.StringIO()
    exports.dialogues_export_openai(out)
    assert "dana@example.com" not in out.getvalue() and "Dana" not in out.getvalue()
    assert "[email]" in out.getvalue() and "[name]" in out.getvalue()
    assert dialogue.pk


def test_admin_actions_export_and_the_admin_import_page(client, admin_user):
    from django.urls import reverse

    _import_dialogues()
    SeedDialogue.objects.filter(external_id="seed-002").update(state="approved")
    client.force_login(admin_user)
    ids = list(SeedDialogue.objects.values_list("id", flat=True))
    response = client.post(
        reverse("admin:evaluation_seeddialogue_changelist"),
        {"action": "export_openai_jsonl", "_selected_action": ids},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    lines = response.content.decode().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["messages"][0]["role"] == "user"
    with _open("kakoverse_conversation.json") as handle:
        response = client.post(
            reverse("admin:evaluation_seeddialogue_import"), {"format": "kakoverse", "file": handle}
        )
    assert response.status_code == 302
    assert WorkItem.objects.filter(kind="preference").count() == 2
    items = list(WorkItem.objects.values_list("id", flat=True))
    response = client.post(
        reverse("admin:evaluation_workitem_changelist"),
        {"action": "export_preferences_jsonl", "_selected_action": items},
    )
    assert response.status_code == 200 and response.content == b""  # nothing judged yet
    bad = io.BytesIO(b'[{"messages": 1}]')
    bad.name = "bad.json"
    response = client.post(
        reverse("admin:evaluation_seeddialogue_import"), {"format": "dialogues", "file": bad}
    )
    assert "Nothing was imported. record 1: messages must be" in response.content.decode()
