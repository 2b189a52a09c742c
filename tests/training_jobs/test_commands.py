"""The command-line interface: train_classifier, classify_risk, classify_intent, ensure_models."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from training_jobs.ml.train import TrainSettings
from training_jobs.models import ModelVersion
from training_jobs.services import model_version_train


def _run(tmp_path, command: str, lines: list[str]) -> tuple[list[dict], str]:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = tmp_path / "out.jsonl"
    err = io.StringIO()
    call_command(
        command, "--input", str(source), "--output", str(target), "--batch-size", "2", stderr=err
    )
    return [json.loads(x) for x in target.read_text(encoding="utf-8").splitlines()], err.getvalue()


def test_classify_risk_survives_bad_lines(active_models, tmp_path):
    out, summary = _run(
        tmp_path,
        "classify_risk",
        [
            json.dumps({"id": 1, "text": "I want to kill myself tonight"}),
            "{not json",
            json.dumps({"id": "b", "text": ""}),
            json.dumps({"text": "no id here"}),
            json.dumps(
                {
                    "id": "c",
                    "text": "it's decided",
                    "history": ["nobody would miss me", "I wrote the letters"],
                }
            ),
            json.dumps({"id": "d", "text": "hi", "history": "not a list"}),
            json.dumps(["a", "list"]),
            json.dumps({"id": "e", "text": "My phone died again."}),
        ],
    )
    assert [row.get("id") for row in out] == [1, None, "b", None, "c", "d", None, "e"]
    good = {row["id"]: row for row in out if "error" not in row}
    assert set(good) == {1, "c", "e"}
    for row in good.values():
        assert set(row) == {"id", "risk_level", "category", "score", "model_version"}
        assert row["model_version"] == active_models["safety"].name
    assert good[1]["risk_level"] == "high"
    assert good["e"]["risk_level"] != "high"
    errors = [row for row in out if "error" in row]
    assert len(errors) == 5
    assert "line 2" in errors[0]["error"] and "JSON" in errors[0]["error"]
    assert "text" in errors[1]["error"]
    assert "history" in errors[3]["error"]
    assert "3 line(s)" in summary and "5 error" in summary


def test_classify_intent_writes_one_line_per_input(active_models, tmp_path):
    out, _ = _run(
        tmp_path,
        "classify_intent",
        [
            json.dumps(
                {"id": "x", "text": "Would you like to try a short breathing exercise together?"}
            ),
            json.dumps({"id": "y"}),
            "",
            json.dumps({"id": "z", "text": "Thank you for today, let's stop here. Take care."}),
        ],
    )
    assert [row["id"] for row in out] == ["x", "y", "z"]
    assert out[0]["intent"] == "offer_mindfulness"
    assert out[0]["model_version"] == active_models["intent"].name
    assert "error" in out[1]
    assert out[2]["intent"] == "close"


def test_classify_risk_fails_when_the_input_cannot_be_read(active_models, tmp_path):
    with pytest.raises(CommandError, match="cannot read .*missing.jsonl"):
        call_command(
            "classify_risk",
            "--input",
            str(tmp_path / "missing.jsonl"),
            "--output",
            str(tmp_path / "o"),
        )


def test_classify_risk_fails_when_the_output_cannot_be_written(active_models, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "text": "hello"}\n', encoding="utf-8")
    with pytest.raises(CommandError, match="cannot write"):
        call_command(
            "classify_risk", "--input", str(source), "--output", str(tmp_path / "no" / "dir" / "o")
        )


@pytest.mark.django_db
def test_classify_risk_without_an_active_model_says_how_to_get_one(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "text": "hello"}\n', encoding="utf-8")
    with pytest.raises(CommandError, match="ensure_models"):
        call_command("classify_risk", "--input", str(source), "--output", str(tmp_path / "o"))


@pytest.mark.django_db
def test_train_classifier_activates_only_when_the_gate_passes(tiny_dataset, monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr("training_jobs.management.commands.train_classifier.GATE_HIGH_RECALL", 1.01)
    call_command("train_classifier", "safety", "--activate", stdout=out, stderr=io.StringIO())
    version = ModelVersion.objects.get()
    assert not version.gate_passed and not version.is_active
    assert "Not activated: high-risk recall" in out.getvalue()
    assert "below the required 1.01" in out.getvalue()
    assert version.artifact_dir.is_dir()
    assert version.metrics["levels"]["confusion_matrix"]["labels"] == [
        "none",
        "low",
        "medium",
        "high",
    ]


@pytest.mark.django_db
def test_train_classifier_stores_thresholds_hashes_and_activates(tiny_dataset, monkeypatch):
    monkeypatch.setattr("training_jobs.management.commands.train_classifier.GATE_HIGH_RECALL", 0.0)
    out = io.StringIO()
    call_command("train_classifier", "safety", "--activate", stdout=out, stderr=io.StringIO())
    version = ModelVersion.objects.get()
    assert version.is_active and version.gate_passed
    assert 0.0 < version.thresholds["high"] <= 1.0
    assert len(version.train_data_hash) == len(version.test_data_hash) == 64
    assert "Activated" in out.getvalue() and "high recall" in out.getvalue()


@pytest.mark.django_db
def test_activation_is_refused_for_a_version_below_the_gate(tiny_dataset):
    from ari_review.api.errors import ApplicationError
    from training_jobs.releases.registry import model_version_activate

    version = model_version_train(
        kind="safety",
        train_settings=TrainSettings(gate_high_recall=1.01, cv_folds=2, latency_samples=0),
    ).version
    with pytest.raises(ApplicationError, match="cannot be activated: high-risk recall"):
        model_version_activate(version=version)


@pytest.mark.django_db
def test_ensure_models_trains_once_and_is_idempotent(tiny_dataset, monkeypatch):
    monkeypatch.setattr("training_jobs.services.GATE_HIGH_RECALL", 0.0)
    monkeypatch.setattr("training_jobs.services.GATE_INTENT_ACCURACY", 0.0)
    call_command("ensure_models", stdout=io.StringIO())
    active = set(ModelVersion.objects.filter(is_active=True).values_list("kind", flat=True))
    assert active == {"safety", "intent"}
    # the quick start's first release: put live by the system (no incumbent), audited
    from ari_review.models import AuditEvent
    from conversations.models import Release

    first = Release.objects.get(stage="live")
    assert {first.safety_version.kind, first.intent_version.kind} == {"safety", "intent"}
    assert first.safety_version.is_active and first.intent_version.is_active
    assert AuditEvent.objects.get(action="release.bootstrap").actor_name == "system"
    out = io.StringIO()
    call_command("ensure_models", stdout=out)
    assert ModelVersion.objects.count() == 2
    assert out.getvalue().count("already active") == 2
    assert Release.objects.count() == 1


@pytest.mark.django_db
def test_with_a_live_release_a_new_version_waits_in_a_draft_release(tiny_dataset, monkeypatch):
    from conversations.models import Release

    monkeypatch.setattr("training_jobs.management.commands.train_classifier.GATE_HIGH_RECALL", 0.0)
    call_command(
        "train_classifier", "safety", "--activate", stdout=io.StringIO(), stderr=io.StringIO()
    )
    first = ModelVersion.objects.get(is_active=True)
    out = io.StringIO()
    call_command("train_classifier", "safety", "--activate", stdout=out, stderr=io.StringIO())
    assert ModelVersion.objects.get(is_active=True) == first  # nothing switched
    draft = Release.objects.get(stage="draft")
    assert draft.safety_version != first and "drafted" in out.getvalue()
