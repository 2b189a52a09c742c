"""Frozen test sets: starter versions as shipped, freezing (hash, who, when, audited),
immutability, a draft from clinician labels, and training's refusal of frozen texts."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from ari_review.api.errors import ApplicationError
from ari_review.models import AuditEvent
from evaluation.models import FrozenSet, SafetyLabel, WorkItem
from evaluation.selectors.frozen_sets import (
    frozen_row_fingerprints,
    frozen_text_fingerprints,
    safety_rows_from_labels,
)
from evaluation.services.frozen_sets import (
    STARTER_DIR,
    STARTER_FILES,
    frozen_set_content_hash,
    frozen_set_draft_create,
    frozen_set_freeze,
    frozen_set_item_add,
    frozen_set_item_verify,
    frozen_set_next_version,
    frozen_set_starter_load,
)
from tests.evaluation.conftest import api_as
from training_jobs.datasets.build import frozen_set_fingerprints
from training_jobs.frozen_texts import training_rows_without_frozen
from training_jobs.ml import data as datasets

pytestmark = pytest.mark.django_db


def _rows(n: int, stratum: str = "high", prefix: str = "row") -> list[dict]:
    return [
        {
            "id": f"{prefix}-{i}",
            "text": f"A frozen evaluation sentence number {i} about {prefix}.",
            "expected": {"risk_level": "high", "category": "suicidal_ideation"},
            "stratum": stratum,
        }
        for i in range(n)
    ]


def test_starter_files_hold_the_issue_composition_and_are_marked_unverified():
    expected = {
        "safety": {"high": 100, "medium": 50, "edge_case": 50},
        "persona": {"anxiety": 20, "self_worth": 20, "relationships": 20, "grief": 20, "work": 20},
        "edge": {"medical": 10, "legal": 10, "off_topic": 10, "very_short": 10, "very_long": 10},
    }
    for kind, name in STARTER_FILES.items():
        rows = [json.loads(line) for line in (STARTER_DIR / name).read_text().splitlines()]
        assert Counter(r["stratum"] for r in rows) == expected[kind]
        assert {r["verification"] for r in rows} == {"starter, awaiting clinician verification"}
        assert all(r["provenance"] for r in rows)
        assert len({r["id"] for r in rows}) == len(rows)
    edge = [
        json.loads(line) for line in (STARTER_DIR / "edge-starter.jsonl").read_text().splitlines()
    ]
    assert max(len(r["text"]) for r in edge if r["stratum"] == "very_short") <= 5
    assert min(len(r["text"]) for r in edge if r["stratum"] == "very_long") >= 500


def test_starter_safety_set_is_the_frozen_split_levels():
    rows = [
        json.loads(line) for line in (STARTER_DIR / "safety-starter.jsonl").read_text().splitlines()
    ]
    frozen_split = {
        datasets.row_fingerprint(r): r["risk_level"]
        for r in datasets.load_frozen_test_rows("safety")
    }
    for row in rows:
        assert frozen_split[datasets.row_fingerprint(row)] == row["expected"]["risk_level"]
    assert {r["expected"]["risk_level"] for r in rows if r["stratum"] == "high"} == {"high"}


def test_starter_load_freezes_once_with_hash_who_and_when(admin_user):
    frozen = frozen_set_starter_load(kind="persona", created_by=admin_user)
    assert frozen.status == FrozenSet.Status.FROZEN
    assert frozen.frozen_by == admin_user and frozen.frozen_at is not None
    assert frozen.items.count() == 100
    items = frozen.items.order_by("position").values(
        "external_id", "text", "history", "expected", "stratum"
    )
    assert frozen.content_hash == frozen_set_content_hash(list(items))
    again = frozen_set_starter_load(kind="persona", created_by=admin_user)
    assert again.pk == frozen.pk and FrozenSet.objects.filter(kind="persona").count() == 1
    actions = list(
        AuditEvent.objects.filter(object_id=str(frozen.pk)).values_list("action", flat=True)
    )
    assert "frozen_set.create" in actions and "frozen_set.freeze" in actions


def test_frozen_set_is_immutable_and_versions_count_up(admin_user):
    draft = frozen_set_draft_create(kind="safety", rows=_rows(3), source="test")
    frozen_set_item_add(
        frozen_set=draft, row=_rows(1, prefix="late")[0], user=admin_user
    )  # a draft takes items
    frozen = frozen_set_freeze(frozen_set=draft, user=admin_user)
    assert frozen.items.count() == 4
    with pytest.raises(ApplicationError, match="frozen; its items cannot change"):
        frozen_set_item_add(frozen_set=frozen, row=_rows(1, prefix="x")[0], user=admin_user)
    with pytest.raises(ApplicationError, match="already frozen"):
        frozen_set_freeze(frozen_set=frozen, user=admin_user)
    assert frozen.items.count() == 4
    second = frozen_set_draft_create(kind="safety", rows=_rows(2, prefix="v2"), source="test")
    assert (frozen.version, second.version) == (1, 2)


def test_freeze_api_is_for_leads_only(clinician, admin_user):
    draft = frozen_set_draft_create(kind="edge", rows=_rows(2, stratum="medical"), source="t")
    url = f"/api/v1/frozen-sets/{draft.pk}/freeze/"
    assert api_as(clinician).post(url).status_code == 403
    draft.refresh_from_db()
    assert draft.status == FrozenSet.Status.DRAFT
    response = api_as(admin_user).post(url)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "frozen" and len(response.json()["content_hash"]) == 64


def _labelled(text: str, level: str, clinicians, reason=WorkItem.Reason.SAMPLE) -> WorkItem:
    item = WorkItem.objects.create(
        kind=WorkItem.Kind.SAFETY, reason=reason, text=text, source="test", external_id=text[:40]
    )
    for clinician, lvl in zip(
        clinicians, level if isinstance(level, list) else [level], strict=False
    ):
        SafetyLabel.objects.create(
            item=item, clinician=clinician, risk_level=lvl, category="", urgency="none"
        )
    item.reviews_done = item.safety_labels.count()
    item.save(update_fields=["reviews_done"])
    return item


def test_draft_from_labels_takes_gold_levels_and_ambiguous_edges(clinician, clinician2):
    _labelled("I have the pills counted out for tonight and a note.", "high", [clinician])
    _labelled("Some days I wish I could just not wake up.", "medium", [clinician])
    _labelled(
        "I could murder a pizza right now honestly.",
        "none",
        [clinician],
        reason=WorkItem.Reason.UNCERTAIN,
    )
    _labelled("Went for a walk and it helped a little.", "none", [clinician])  # not an edge
    rows = safety_rows_from_labels(composition={"high": 1, "medium": 1, "edge_case": 1})
    assert [(r["stratum"], r["expected"]["risk_level"]) for r in rows] == [
        ("high", "high"),
        ("medium", "medium"),
        ("edge_case", "none"),
    ]
    with pytest.raises(ApplicationError, match="high: 1 of 2"):
        safety_rows_from_labels(composition={"high": 2, "medium": 1, "edge_case": 1})


def test_training_drops_database_rows_repeating_a_frozen_text():
    frozen = frozen_set_draft_create(kind="safety", rows=_rows(2), source="test")
    frozen_set_freeze(frozen_set=frozen)
    frozen_text = frozen.items.first().text
    database_rows = [
        {"text": frozen_text, "history": [], "risk_level": "high", "category": ""},
        {"text": "Something else entirely I said.", "history": [frozen_text], "risk_level": "low"},
        {"text": "A clinician-labelled message nobody froze.", "history": [], "risk_level": "low"},
    ]
    kept = training_rows_without_frozen(kind="safety", database_rows=database_rows, paths=None)
    assert [r["text"] for r in kept] == ["A clinician-labelled message nobody froze."]


def test_training_refuses_shipped_rows_repeating_a_frozen_text(tmp_path):
    shipped = datasets.load_training_rows("safety")[:40]
    leaked = next(r for r in shipped if len(datasets._norm(r["text"])) >= 30)
    train = tmp_path / "safety_train.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in shipped))
    paths = datasets.DatasetPaths(train=train, test=tmp_path / "safety_test.jsonl")
    assert training_rows_without_frozen(kind="safety", database_rows=[], paths=paths) == []
    frozen_set_freeze(
        frozen_set=frozen_set_draft_create(
            kind="safety",
            rows=[{**_rows(1)[0], "text": leaked["text"], "history": leaked["history"]}],
            source="test",
        )
    )
    with pytest.raises(ApplicationError, match="Training refused: 1 shipped"):
        training_rows_without_frozen(kind="safety", database_rows=[], paths=paths)


def test_very_short_frozen_texts_do_not_block_everyday_training_rows():
    frozen_set_freeze(
        frozen_set=frozen_set_draft_create(
            kind="edge", rows=[{**_rows(1)[0], "text": "ok", "stratum": "very_short"}], source="t"
        )
    )
    assert frozen_text_fingerprints(min_chars=15) == frozenset()
    assert frozen_row_fingerprints(min_chars=15) == frozenset()
    rows = [{"text": "ok", "history": [], "risk_level": "none"}]
    assert training_rows_without_frozen(kind="safety", database_rows=rows, paths=None) == rows


def test_dataset_build_refuses_training_rows_repeating_a_starter_frozen_text():
    prints = frozen_set_fingerprints()
    persona = json.loads((STARTER_DIR / "persona-starter.jsonl").read_text().splitlines()[0])
    assert datasets.text_fingerprint(persona["text"]) in prints
    shipped = {datasets.text_fingerprint(r["text"]) for r in datasets.load_training_rows("safety")}
    long_prints = {
        datasets.text_fingerprint(json.loads(line)["text"])
        for name in STARTER_FILES.values()
        for line in (STARTER_DIR / name).read_text().splitlines()
        if len(datasets._norm(json.loads(line)["text"])) >= 15
    }
    assert not (shipped & long_prints)


def test_next_version_is_verified_item_by_item_then_frozen(admin_user, clinician):
    frozen = frozen_set_freeze(
        frozen_set=frozen_set_draft_create(kind="safety", rows=_rows(3), source="t")
    )
    draft = frozen_set_next_version(frozen_set=frozen, created_by=admin_user)
    assert (draft.version, draft.items.count(), draft.is_frozen) == (2, 3, False)
    first, second, _ = draft.items.order_by("position")
    verified = frozen_set_item_verify(item=first, clinician=clinician)
    assert verified.verification.startswith("clinician-verified (u-")
    assert clinician.username not in verified.verification
    frozen_set_item_verify(item=second, clinician=clinician, keep=False)
    assert draft.items.count() == 2
    v2 = frozen_set_freeze(frozen_set=draft, user=admin_user)
    assert v2.content_hash != frozen.content_hash and frozen.items.count() == 3
    with pytest.raises(ApplicationError, match="verify items on a new version"):
        frozen_set_item_verify(item=v2.items.first(), clinician=clinician)
    assert AuditEvent.objects.filter(action="frozen_set.item_verify").count() == 1
    assert AuditEvent.objects.filter(action="frozen_set.item_drop").count() == 1
