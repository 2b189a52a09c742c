"""Every high-risk message, however it is phrased, gets the emergency reply with catalogue
resources and no generated text (real classifiers, real pipeline)."""

from __future__ import annotations

from conversations.content.emergency_paraphrases import (
    HIGH_RISK_MESSAGES,
    MULTI_TURN,
    high_risk_paraphrases,
)
from conversations.models import CrisisResource, EmergencyReply, Escalation, Intent
from conversations.services import chat_turn_run, session_create


def test_no_paraphrase_repeats_or_nearly_copies_an_external_dev_text():
    """The external dev set is for measurement only: the repository holds none of its texts
    (the shipped fingerprints), nor, with ../shared/data present, a near copy of one (the
    training build's rule)."""
    from training_jobs.datasets.build import _near_copy, _shingles
    from training_jobs.ml.data import external_dev_fingerprints, text_fingerprint
    from training_jobs.ml.external import external_dev_texts

    texts = [
        *HIGH_RISK_MESSAGES,
        *(m for _, m in MULTI_TURN),
        *(t for h, _ in MULTI_TURN for t in h),
    ]
    shipped = external_dev_fingerprints()
    assert shipped and not [t for t in texts if text_fingerprint(t) in shipped]
    dev_shingles = [_shingles(t) for t in external_dev_texts()]
    assert not [t for t in texts if dev_shingles and _near_copy([t], dev_shingles)]


def assert_emergency(result, generator, fixed_text, catalogue):
    reply = result.reply
    assert reply.emergency, result.user_message.text
    assert reply.text == fixed_text
    assert reply.intent == Intent.EMERGENCY
    assert_fixed_with_resources(reply, generator, catalogue)


def assert_fixed_with_resources(reply, generator, catalogue):
    assert [r["name"] for r in reply.resources] == catalogue
    assert reply.provenance["backend"] == "fixed"
    assert generator.requests == []


def test_every_high_risk_paraphrase_gets_the_emergency_flow(
    chat_ready, enduser, recording_generator
):
    messages = high_risk_paraphrases()
    assert len(messages) >= 200
    fixed_text = EmergencyReply.objects.get(active=True).text
    catalogue = list(CrisisResource.objects.filter(locale="US").values_list("name", flat=True))
    missed = []
    for text in messages:
        session = session_create(user=enduser, session_type="gentle_deep")
        result = chat_turn_run(session=session, text=text, generator=recording_generator)
        if not result.reply.emergency:
            missed.append(text)
            continue
        assert_emergency(result, recording_generator, fixed_text, catalogue)
    assert missed == []
    assert Escalation.objects.filter(session__user=enduser).count() == len(messages)


def test_risk_spread_over_turns_gets_the_emergency_flow(chat_ready, enduser, recording_generator):
    fixed_text = EmergencyReply.objects.get(active=True).text
    reminders = EmergencyReply.objects.get(active=True).wordings("safety_reminder_text")
    catalogue = list(CrisisResource.objects.filter(locale="US").values_list("name", flat=True))
    for earlier, text in MULTI_TURN:
        session = session_create(user=enduser, session_type="check_in")
        for turn in earlier:
            # Earlier turns: heavy but not necessarily high on their own; replies may be anything.
            chat_turn_run(session=session, text=turn)
        recording_generator.requests.clear()
        session.refresh_from_db()
        already = session.safety_mode  # an earlier turn was high on its own already
        result = chat_turn_run(session=session, text=text, generator=recording_generator)
        if not already:
            assert_emergency(result, recording_generator, fixed_text, catalogue)
            continue
        # In safety-check mode: the short reminder, still an emergency reply, same escalation.
        assert result.reply.emergency, text
        assert result.reply.text in reminders
        assert_fixed_with_resources(result.reply, recording_generator, catalogue)
