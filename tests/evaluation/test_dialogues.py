"""Seed dialogue workflow: draft -> in review -> approved/rejected, variants, checklist."""

import pytest
from django.test import override_settings

from ari_review.api.errors import ApplicationError
from ari_review.models import AuditEvent
from evaluation.models import SeedDialogue
from evaluation.selectors.dialogues import approved_dialogues_list
from evaluation.services import (
    dialogue_approve,
    dialogue_create,
    dialogue_reject,
    dialogue_submit,
    dialogue_update,
    dialogue_variant_create,
)
from evaluation.services.dialogues import CHECKLIST_KEYS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ALL_TICKED = dict.fromkeys(CHECKLIST_KEYS, True)
MESSAGES = [
    {"role": "user", "content": "I feel invisible at home."},
    {
        "role": "assistant",
        "content": "Feeling unseen by the people closest to you hurts. "
        "Thank you for saying it. Would you like to explore that together?",
    },
]


def test_full_workflow_records_reviewer_time_reason_and_audit(clinician, clinician2):
    dialogue = dialogue_create(author=clinician, messages=MESSAGES, title="Invisible")
    assert dialogue.state == "draft"
    dialogue = dialogue_submit(dialogue=dialogue, user=clinician)
    assert dialogue.state == "in_review"
    assert list(approved_dialogues_list()) == []
    dialogue = dialogue_approve(
        dialogue=dialogue, reviewer=clinician2, checklist=ALL_TICKED, reason="Warm and safe."
    )
    assert dialogue.state == "approved" and dialogue.reviewer == clinician2
    assert dialogue.reviewed_at is not None and dialogue.review_reason == "Warm and safe."
    assert list(approved_dialogues_list()) == [dialogue]
    actions = list(
        AuditEvent.objects.filter(object_type="evaluation.seeddialogue", object_id=str(dialogue.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["dialogue.create", "dialogue.submitted", "dialogue.approved"]
    approved = AuditEvent.objects.get(action="dialogue.approved")
    assert approved.before["state"] == "in_review" and approved.after["state"] == "approved"


def test_approval_needs_the_whole_checklist_and_another_clinician(clinician, clinician2):
    dialogue = dialogue_submit(
        dialogue=dialogue_create(author=clinician, messages=MESSAGES), user=clinician
    )
    with pytest.raises(ApplicationError, match="Another clinician"):
        dialogue_approve(dialogue=dialogue, reviewer=clinician, checklist=ALL_TICKED)
    partial = {**ALL_TICKED, "consent_before_probing": False}
    with pytest.raises(ApplicationError, match="Asks consent"):
        dialogue_approve(dialogue=dialogue, reviewer=clinician2, checklist=partial)
    dialogue.refresh_from_db()
    assert dialogue.state == "in_review"


def test_the_clinician_who_submitted_or_imported_a_dialogue_cannot_approve_it(
    clinician, clinician2
):
    third = UserFactory(username="third-clinician", role="clinician")
    dialogue = dialogue_create(author=clinician, messages=MESSAGES)
    dialogue = dialogue_submit(dialogue=dialogue, user=clinician2)  # submitted by another
    with pytest.raises(ApplicationError, match="a dialogue you submitted"):
        dialogue_approve(dialogue=dialogue, reviewer=clinician2, checklist=ALL_TICKED)
    imported = dialogue_create(author=clinician2, messages=MESSAGES)  # created_by: importer
    imported = dialogue_submit(dialogue=imported, user=third)
    with pytest.raises(ApplicationError, match="you wrote or imported"):
        dialogue_approve(dialogue=imported, reviewer=clinician2, checklist=ALL_TICKED)
    assert dialogue_approve(dialogue=dialogue, reviewer=third, checklist=ALL_TICKED).state == (
        "approved"
    )


@override_settings(EVALUATION_ALLOW_SELF_APPROVAL=True)
def test_self_approval_can_be_allowed(clinician):
    dialogue = dialogue_submit(
        dialogue=dialogue_create(author=clinician, messages=MESSAGES), user=clinician
    )
    assert dialogue_approve(dialogue=dialogue, reviewer=clinician, checklist=ALL_TICKED).state == (
        "approved"
    )


def test_reject_needs_a_reason_and_only_from_review(clinician, clinician2):
    dialogue = dialogue_create(author=clinician, messages=MESSAGES)
    with pytest.raises(ApplicationError, match="cannot be rejected"):
        dialogue_reject(dialogue=dialogue, reviewer=clinician2, reason="no")
    dialogue = dialogue_submit(dialogue=dialogue, user=clinician)
    with pytest.raises(ApplicationError, match="Say why"):
        dialogue_reject(dialogue=dialogue, reviewer=clinician2, reason="  ")
    dialogue = dialogue_reject(dialogue=dialogue, reviewer=clinician2, reason="Probes too fast.")
    assert dialogue.state == "rejected" and dialogue.review_reason == "Probes too fast."


def test_editing_an_approved_dialogue_sends_it_back_to_draft_with_before_and_after(
    clinician, clinician2
):
    dialogue = dialogue_submit(
        dialogue=dialogue_create(author=clinician, messages=MESSAGES), user=clinician
    )
    dialogue = dialogue_approve(dialogue=dialogue, reviewer=clinician2, checklist=ALL_TICKED)
    edited = [*MESSAGES[:1], {"role": "assistant", "content": "That sounds lonely. Tell me more?"}]
    dialogue = dialogue_update(dialogue=dialogue, editor=clinician2, messages=edited)
    assert dialogue.state == "draft"
    assert dialogue not in approved_dialogues_list()
    event = AuditEvent.objects.get(action="dialogue.update")
    assert event.before["messages"] == MESSAGES and event.after["messages"] == edited
    assert event.before["state"] == "approved" and event.after["state"] == "draft"


def test_messages_format_is_checked(clinician):
    with pytest.raises(ApplicationError, match=r"messages\[0\].role"):
        dialogue_create(author=clinician, messages=[{"role": "bot", "content": "hi"}])
    with pytest.raises(ApplicationError, match="at least one assistant"):
        dialogue_create(author=clinician, messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(ApplicationError, match="non-empty text"):
        dialogue_create(author=clinician, messages=[{"role": "assistant", "content": " "}])


def test_paraphrase_variants_group_under_the_original(clinician):
    original = dialogue_create(author=clinician, messages=MESSAGES, title="Invisible")
    variant = dialogue_variant_create(
        original=original,
        author=clinician,
        message_index=0,
        content="Nobody at home seems to notice me.",
    )
    assert variant.variant_of == original
    assert variant.messages[0]["content"] == "Nobody at home seems to notice me."
    assert variant.messages[1] == original.messages[1]
    second = dialogue_variant_create(
        original=variant, author=clinician, message_index=0, content="I feel unseen at home."
    )
    assert second.variant_of == original  # variants of variants join the original's group
    with pytest.raises(ApplicationError, match="user message"):
        dialogue_variant_create(original=original, author=clinician, message_index=1, content="x")
    assert SeedDialogue.objects.filter(variant_of=original).count() == 2
