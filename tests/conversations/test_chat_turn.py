"""One chat turn through the whole pipeline, with the real (linear) classifiers."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from ari_review.api.errors import ApplicationError
from conversations.models import (
    ChatSession,
    ClinicianAlert,
    EmergencyReply,
    Escalation,
    Intent,
    Message,
    PersonaPrompt,
)
from conversations.services import (
    chat_turn_run,
    escalation_close,
    session_create,
    session_end,
)
from conversations.services import pipeline as pipeline_module
from conversations.services.filter.rules import RULESET_VERSION
from evaluation.models import SeedDialogue
from tests.conversations.conftest import FixedRisk, RecordingGenerator
from tests.conversations.openai_server import OpenAICompatibleServer
from tests.factories import UserFactory

HIGH_RISK = "I want to end my life tonight"
NEUTRAL = "I keep feeling like I'm not good enough at work."


def scripted(level="none"):
    """Deterministic risk for tests of the pipeline's mechanics (the model is tested elsewhere)."""
    return FixedRisk(level, overrides={HIGH_RISK: "high"})


def approved_texts() -> set[str]:
    texts = set()
    for d in SeedDialogue.objects.filter(state=SeedDialogue.State.APPROVED):
        texts |= {m["content"] for m in d.messages if m["role"] == "assistant"}
    return texts


def test_reply_is_stored_with_every_piece_of_turn_metadata(chat_ready, session):
    result = chat_turn_run(session=session, text=f"  {NEUTRAL}  ")

    user, reply = result.user_message, result.reply
    assert user.role == Message.Role.USER and user.text == NEUTRAL  # trimmed
    assert user.risk_level in ("none", "low")
    assert user.risk_score is not None
    assert reply.role == Message.Role.ASSISTANT and reply.reply_to_id == user.pk
    assert reply.text in approved_texts()
    assert reply.intent in Intent.values
    assert reply.filter_version == RULESET_VERSION
    assert reply.flow_step == "validate"
    assert set(reply.latency_ms) >= {
        "persist_user",
        "safety",
        "generation",
        "intent",
        "filter",
        "persist_reply",
        "total",
    }
    assert all(value >= 0 for value in reply.latency_ms.values())
    assert reply.model_versions["safety"] == chat_ready["safety"].name
    assert reply.model_versions["intent"] == chat_ready["intent"].name
    assert reply.model_versions["generator"].startswith("approved:approved-index:")
    assert reply.model_versions["persona"] == "v1"
    assert reply.model_versions["filter"] == RULESET_VERSION
    assert reply.provenance["backend"] == "approved"
    source = SeedDialogue.objects.get(pk=reply.provenance["dialogue_id"])
    assert source.state == SeedDialogue.State.APPROVED
    assert not reply.emergency and reply.resources == []
    session.refresh_from_db()
    assert session.flow_step == "consent"
    assert session.min_safety_confidence is not None


def test_generator_failure_keeps_the_message_and_falls_back_to_approved(chat_ready, session):
    broken = RecordingGenerator(fail=RuntimeError("model server exploded"))
    result = chat_turn_run(session=session, text=NEUTRAL, generator=broken)

    assert Message.objects.filter(pk=result.user_message.pk, text=NEUTRAL).exists()
    assert len(broken.requests) == 1
    assert result.reply.text in approved_texts()
    assert result.reply.provenance["backend"] == "approved"
    assert result.reply.provenance["fallback_from"] == "recording"
    assert result.reply.provenance["fallback_reason"] == "error:RuntimeError"


def test_openai_server_error_falls_back_to_approved(chat_ready, session, settings):
    server = OpenAICompatibleServer().start()
    server.configure(mode="error500")
    settings.ARI_GENERATOR = "openai"
    settings.OPENAI_BASE_URL = server.base_url
    settings.OPENAI_MAX_RETRIES = 1
    try:
        result = chat_turn_run(session=session, text=NEUTRAL)
    finally:
        server.stop()

    assert len(server.requests) == 2
    assert result.reply.provenance["fallback_from"] == "openai"
    assert result.reply.provenance["fallback_reason"] == "http_500"
    assert result.reply.text in approved_texts()
    assert Message.objects.filter(session=session, role="user").count() == 1


def _openai_turn(settings, session, reply: str, text: str = NEUTRAL, **configure):
    server = OpenAICompatibleServer().start()
    server.configure(mode="stream", reply=reply, **configure)
    settings.ARI_GENERATOR = "openai"
    settings.OPENAI_BASE_URL = server.base_url
    settings.OPENAI_STREAM = True
    try:
        return chat_turn_run(session=session, text=text), server
    finally:
        server.stop()


def test_a_model_reply_over_a_hard_line_is_never_read_the_composed_reply_answers(
    chat_ready, session, settings
):
    model_words = "That sounds hard. It sounds like you have depression. Call 555-201-3344 today."
    result, _ = _openai_turn(settings, session, model_words)
    reply = result.reply
    assert reply.provenance["backend"] == "composed"
    assert reply.provenance["fallback_from"] == "openai"
    assert reply.provenance["fallback_reason"] == "filter"
    assert "depression" not in reply.text and "555" not in reply.text
    assert reply.provenance["rejected_text"] == model_words  # kept for reviewers


def test_a_model_reply_that_does_not_validate_a_distressed_user_is_replaced(
    chat_ready, session, settings
):
    sad = "I feel so lonely since my sister moved away."
    result, _ = _openai_turn(settings, session, "Have you tried joining a club?", text=sad)
    assert result.reply.provenance["backend"] == "composed"
    assert result.reply.provenance["fallback_reason"] == "not_validating"
    assert "club" not in result.reply.text


def test_a_model_reply_that_listens_is_served_and_its_prompt_carries_the_understanding(
    chat_ready, session, settings
):
    sad = "I feel so lonely since my sister moved away."
    words = "It sounds really lonely without your sister close by. What do you miss most?"
    result, server = _openai_turn(settings, session, words, text=sad)
    assert result.reply.provenance["backend"] == "openai"
    assert result.reply.text == words
    system = server.requests[-1]["body"]["messages"][0]["content"]
    assert "seem to feel lonely" in system or "seems to feel lonely" in system
    assert "your sister moved away" in system  # the user's words, turned to the second person
    assert "Replies clinicians approved for this step" in system


def test_when_nothing_can_generate_the_fixed_text_is_used(active_models, session):
    # No approved dialogues at all and a broken generator: the fixed last-resort reply.
    broken = RecordingGenerator(fail=RuntimeError("down"))
    result = chat_turn_run(session=session, text=NEUTRAL, generator=broken)

    assert result.reply.provenance["backend"] == "fixed"
    assert result.reply.provenance["approved_error"] == "no_approved_content"
    assert result.reply.text.startswith("I'm here with you")
    assert Message.objects.filter(pk=result.user_message.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_user_message_survives_a_crash_and_a_retry_finishes_the_turn(
    starter_content, trained_models, enduser, monkeypatch
):
    from tests.training_jobs.fixtures import activate_trained_models

    activate_trained_models(trained_models)
    session = session_create(user=enduser, session_type="check_in")

    def crash(*args, **kwargs):
        raise RuntimeError("process died while writing the reply")

    monkeypatch.setattr(pipeline_module, "turn_persist", crash)
    with pytest.raises(RuntimeError):
        chat_turn_run(session=session, text="Hello Ari", idempotency_key="k-1")
    stored = Message.objects.get(session=session)  # committed in its own transaction
    assert stored.text == "Hello Ari"
    assert not Message.objects.filter(reply_to=stored).exists()

    monkeypatch.undo()
    result = chat_turn_run(session=session, text="Hello Ari", idempotency_key="k-1")
    assert result.user_message.pk == stored.pk
    assert result.reply.reply_to_id == stored.pk
    assert Message.objects.filter(session=session).count() == 2


def test_same_idempotency_key_returns_the_first_result(chat_ready, session):
    first = chat_turn_run(session=session, text=NEUTRAL, idempotency_key="abc")
    again = chat_turn_run(session=session, text=NEUTRAL, idempotency_key="abc")

    assert again.replayed and not first.replayed
    assert again.reply.pk == first.reply.pk
    assert Message.objects.filter(session=session).count() == 2


def test_idempotency_key_reused_for_other_text_is_refused(chat_ready, session):
    chat_turn_run(session=session, text=NEUTRAL, idempotency_key="abc")
    with pytest.raises(ApplicationError) as error:
        chat_turn_run(session=session, text="Something else", idempotency_key="abc")
    assert error.value.status_code == 422
    assert Message.objects.filter(session=session).count() == 2


@pytest.mark.parametrize("text", ["", "   \n\t ", "x" * 4001])
def test_bad_text_is_refused_and_nothing_is_stored(chat_ready, session, text):
    with pytest.raises(ApplicationError):
        chat_turn_run(session=session, text=text)
    assert not Message.objects.filter(session=session).exists()


def test_message_to_an_ended_session_is_refused(chat_ready, session):
    session_end(session=session)
    with pytest.raises(ApplicationError, match="ended"):
        chat_turn_run(session=session, text=NEUTRAL)
    assert not Message.objects.filter(session=session).exists()


# --- The emergency flow ------------------------------------------------------------------------


@pytest.fixture
def on_call(db):
    clinician = UserFactory(username="dr_on_call", role="clinician")
    clinician.email = "oncall-clinician@example.org"
    clinician.save()
    clinician.groups.add(Group.objects.get_or_create(name="oncall")[0])
    return clinician


def test_high_risk_message_gets_the_fixed_emergency_reply_and_no_generation(
    chat_ready, session, on_call, recording_generator
):
    result = chat_turn_run(session=session, text=HIGH_RISK, generator=recording_generator)

    reply = result.reply
    assert recording_generator.requests == []  # no generated text at all
    assert reply.emergency
    assert reply.text == EmergencyReply.objects.get(active=True).text
    assert reply.intent == Intent.EMERGENCY
    assert reply.provenance["backend"] == "fixed" and reply.provenance["kind"] == "emergency"
    assert [r["name"] for r in reply.resources] == [
        "988 Suicide & Crisis Lifeline",
        "Crisis Text Line",
    ]
    assert result.user_message.risk_level == "high"
    session.refresh_from_db()
    assert session.flagged and session.safety_mode and session.max_risk_level == "high"
    escalation = Escalation.objects.get(session=session)
    assert escalation.status == Escalation.Status.OPEN
    assert escalation.message_id == result.user_message.pk
    assert reply.provenance["escalation_id"] == escalation.pk
    assert ClinicianAlert.objects.filter(escalation=escalation, recipient=on_call).exists()


def test_emergency_text_is_admin_editable(chat_ready, session):
    EmergencyReply.objects.update(active=False)
    EmergencyReply.objects.create(
        text="I'm so sorry it hurts this much. I'm here with you. Are you safe right now?",
        safety_mode_text="Still here. Are you safe right now?",
    )
    result = chat_turn_run(session=session, text=HIGH_RISK)
    assert result.reply.text == (
        "I'm so sorry it hurts this much. I'm here with you. Are you safe right now?"
    )


def test_on_call_clinicians_get_an_email_without_message_text(
    chat_ready,
    session,
    on_call,
    settings,
    mailoutbox,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    settings.ONCALL_EMAILS = ["pager@example.org"]
    with django_capture_on_commit_callbacks(execute=True):
        chat_turn_run(session=session, text=HIGH_RISK)

    # One e-mail per recipient (the outbox: conversations.models.Notification).
    assert sorted(email.to for email in mailoutbox) == [
        ["oncall-clinician@example.org"],
        ["pager@example.org"],
    ]
    for email in mailoutbox:
        assert "Escalation #" in email.subject
        assert HIGH_RISK not in email.body and "alice" not in email.body
    escalation = Escalation.objects.get(session=session)
    assert escalation.notified_at is not None

    from conversations.services import notifications_dispatch

    assert notifications_dispatch(escalation_id=escalation.pk).sent == 0  # sent once only
    assert len(mailoutbox) == 2


def test_without_an_on_call_group_every_clinician_is_alerted(chat_ready, session, clinician):
    chat_turn_run(session=session, text=HIGH_RISK)
    assert ClinicianAlert.objects.filter(recipient=clinician).count() == 1


def test_later_high_risk_messages_do_not_open_a_second_escalation(chat_ready, session):
    chat_turn_run(session=session, text=HIGH_RISK)
    first = Message.objects.filter(role="assistant", emergency=True).get()
    second = chat_turn_run(session=session, text="I really don't want to be alive anymore")
    assert second.reply.emergency
    # Short, pointing back to the resources: not the whole block again, verbatim.
    assert second.reply.text == EmergencyReply.objects.get(active=True).safety_reminder_text
    assert second.reply.text != first.text and second.reply.resources
    assert Escalation.objects.filter(session=session).count() == 1
    assert second.reply.provenance["escalation_created"] is False


def test_safety_mode_keeps_checking_until_the_user_says_they_are_safe(
    chat_ready, session, recording_generator
):
    fixed = EmergencyReply.objects.get(active=True)
    risk = scripted()

    def turn(text):
        return chat_turn_run(
            session=session, text=text, generator=recording_generator, safety_classifier=risk
        )

    turn(HIGH_RISK)
    later = turn("I don't know.")
    assert later.reply.text == fixed.safety_clarify_text  # asked once more, explicitly
    assert later.reply.intent == Intent.SAFETY_CHECK
    assert later.reply.resources  # the resources stay visible
    assert later.reply.suggested_replies == [
        "I'm safe right now",
        "I'm not safe",
        "Show me the resources again",
    ]
    assert not later.reply.emergency
    assert recording_generator.requests == []

    unsafe = turn("I'm not safe")
    assert unsafe.reply.text == fixed.safety_reminder_text
    session.refresh_from_db()
    assert session.safety_mode

    safe = turn("Yes, I'm safe now")
    assert safe.reply.text == fixed.safety_resolved_text
    assert safe.reply.resources
    session.refresh_from_db()
    assert not session.safety_mode and session.safety_resolution == "user_safe"
    assert session.flagged  # still in the clinicians' queue

    turn(NEUTRAL)
    assert len(recording_generator.requests) == 1  # back to normal generation
    assert Escalation.objects.get(session=session).status == Escalation.Status.OPEN


def test_clinician_closing_the_escalation_ends_safety_mode(chat_ready, session, clinician):
    chat_turn_run(session=session, text=HIGH_RISK)
    escalation = Escalation.objects.get(session=session)

    escalation_close(escalation=escalation, clinician=clinician, note="Called, user is safe.")

    session.refresh_from_db()
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.CLOSED and escalation.closed_by == clinician
    assert not session.safety_mode and session.safety_resolution == "clinician_closed"
    reply = chat_turn_run(session=session, text=NEUTRAL).reply
    assert reply.provenance["backend"] == "approved"


def test_only_clinicians_close_escalations(chat_ready, session, enduser):
    chat_turn_run(session=session, text=HIGH_RISK)
    with pytest.raises(ApplicationError):
        escalation_close(escalation=Escalation.objects.get(session=session), clinician=enduser)


@pytest.mark.parametrize(("rule_hits", "told"), [((), ""), (("RS-SH-ACT",), "self_harm")])
def test_the_reply_hears_the_risk_family_only_when_the_users_words_named_it(
    chat_ready, session, recording_generator, rule_hits, told
):
    """A model's guess of self-harm alone must not become "what you described about hurting
    yourself" to someone who described nothing of the kind; a risk signal's hit does."""
    risk = FixedRisk("medium", category="self_harm", rule_hits=rule_hits)
    reply = chat_turn_run(
        session=session, text=NEUTRAL, safety_classifier=risk, generator=recording_generator
    ).reply
    if told:  # named: the direct question, in the composed responder's approved words
        assert reply.provenance["direct_question"] is True
        assert reply.provenance["parts"][0].startswith(f"r4-safety_question-medium-{told}")
        assert not recording_generator.requests
    else:
        assert recording_generator.requests[0].risk_category == ""


def test_medium_risk_reply_gets_a_gentle_safety_check(chat_ready, session, recording_generator):
    result = chat_turn_run(
        session=session,
        text=NEUTRAL,
        safety_classifier=FixedRisk("medium"),
        generator=recording_generator,
    )
    fixed = EmergencyReply.objects.get(active=True)
    assert result.reply.text.endswith(fixed.medium_risk_text)
    assert result.reply.provenance["safety_check_added"] is True
    assert not result.reply.emergency
    assert recording_generator.requests[0].risk_level == "medium"


def test_safety_classifier_reads_the_last_user_turns(chat_ready, session, settings):
    settings.ARI_SAFETY_HISTORY_TURNS = 2
    risk = scripted()
    for text in ("first", "second", "third", "fourth"):
        chat_turn_run(session=session, text=text, safety_classifier=risk)
    assert risk.calls[-1] == ("fourth", ("second", "third"))


def test_risk_already_escalated_is_not_counted_again(chat_ready, session):
    risk = scripted()
    for text in ("first", HIGH_RISK, "It was a long day.", "thank you"):
        chat_turn_run(session=session, text=text, safety_classifier=risk)
    assert risk.calls[1] == (HIGH_RISK, ("first",))
    assert risk.calls[2] == ("It was a long day.", ())
    assert risk.calls[3] == ("thank you", ("It was a long day.",))


def test_without_an_active_model_the_rule_net_still_catches_explicit_risk(starter_content, session):
    emergency = chat_turn_run(session=session, text="I want to kill myself")
    assert emergency.reply.emergency
    assert emergency.reply.model_versions["safety"].startswith("rules-only:")
    assert emergency.reply.provenance["safety_error"] == "ClassifierUnavailable"


def test_without_an_active_model_ordinary_replies_still_check_safety(starter_content, enduser):
    session = session_create(user=enduser, session_type="check_in")
    result = chat_turn_run(session=session, text="Hi Ari, I'm feeling kind of flat today.")
    assert result.user_message.risk_level == "medium"  # careful while blind
    assert "safe" in result.reply.text


# --- Flow, persona, preferences, memory --------------------------------------------------------


def _flow_steps(session, texts) -> list[str]:
    """The flow step of Ari's reply to each of ``texts`` (no message is risky)."""
    return [
        chat_turn_run(session=session, text=text, safety_classifier=scripted()).reply.flow_step
        for text in texts
    ]


def test_gentle_deep_flow_advances_and_waits_for_consent(chat_ready, enduser):
    session = session_create(user=enduser, session_type="gentle_deep")
    steps = _flow_steps(
        session,
        (
            "I always feel like I'm not good enough, no matter what I do.",
            "Yeah, it's been like this for years.",
            "No, not today. I don't think I can go there.",
            "It's just how I feel most days.",
            "I guess I just want it to stop.",
            "Yes, I'm ready.",
            "Last week my boss criticized my report in front of everyone and I just froze.",
            "That I'm a failure.",
            "I'd tell her she's doing her best.",
            "Yes, I'll try it.",
        ),
    )
    assert steps == [
        "validate",
        "consent",
        "consent_declined",
        "validate",
        "consent",
        "story",
        "root_belief",
        "reframe",
        "experiment",
        "close",
    ]
    consent_replies = Message.objects.filter(session=session, flow_step="consent")
    assert all(m.text.endswith("Are you ready to look at this together?") for m in consent_replies)


def test_gentle_deep_never_asks_what_was_already_answered(chat_ready, enduser):
    """Ready before being asked is consent given; a story already told is not asked for again:
    the dive reaches the experiment on the user's fifth message."""
    session = session_create(user=enduser, session_type="gentle_deep")
    steps = _flow_steps(
        session,
        (
            "I keep feeling like I'm letting everyone down at work.",
            "Yes, I'm ready to look at it.",
            "On Monday my manager asked for the figures, I hadn't finished them, and I apologised "
            "three times in front of the whole team and then hid in the toilets for ten minutes "
            "because my face was burning.",
            "That I'm useless.",
            "A friend would say one late report doesn't make me useless.",
            "Okay, I'll try that.",
        ),
    )
    assert steps == ["validate", "story", "root_belief", "reframe", "experiment", "close"]

    told = session_create(user=enduser, session_type="gentle_deep")
    steps = _flow_steps(
        told,
        (
            "My sister stopped calling me after the wedding.",
            "When I texted her last Sunday she said she was busy, so I sat in the car outside her "
            "flat and cried, because we used to talk every single day and now it's nothing.",
            "Yes.",
        ),
    )
    assert steps == ["validate", "consent", "root_belief"]


def test_generator_receives_persona_type_step_preferences_and_last_summary(
    chat_ready, enduser, recording_generator
):
    first = session_create(user=enduser, session_type="check_in")
    chat_turn_run(session=first, text="Stressed. Work is a lot this week.")
    ended = session_end(session=first)
    PersonaPrompt.objects.create(version=2, text="Persona version two.", active=True)

    second = session_create(
        user=enduser, session_type="micro_practice", preferences={"tone": "direct"}
    )
    chat_turn_run(
        session=second,
        text="I need a reset",
        generator=recording_generator,
        safety_classifier=scripted(),
    )

    (request,) = recording_generator.requests
    assert request.persona == "Persona version two."
    assert request.session_type == "micro_practice"
    assert request.flow_step == "invite"
    assert request.preferences["tone"] == "direct"
    assert request.previous_summary == ended.summary != ""
    assert request.user_text == "I need a reset"


def test_session_state_fields_stay_consistent(chat_ready, enduser):
    session = session_create(user=enduser, session_type="check_in")
    risk = scripted()
    for text in ("Hi", HIGH_RISK, "yes I'm safe"):
        chat_turn_run(session=session, text=text, safety_classifier=risk)
    session = ChatSession.objects.get(pk=session.pk)
    assert session.max_risk_level == "high"  # never goes down
    assert session.safety_mode_since is not None and session.safety_resolved_at is not None


def test_a_model_version_labels_the_same_reply_text_once(chat_ready, enduser):
    from conversations.backends.base import IntentPrediction

    class CountingIntent:
        version = "counting-v1"
        calls = 0

        def predict(self, text):
            CountingIntent.calls += 1
            return IntentPrediction("validate", 0.9, self.version)

    generator = RecordingGenerator(text="That sounds heavy. What feels most important right now?")
    for _ in range(3):
        session = session_create(user=enduser, session_type="check_in")
        reply = chat_turn_run(
            session=session,
            text="Hi",
            generator=generator,
            intent_classifier=CountingIntent(),
            safety_classifier=scripted(),
        ).reply
        assert reply.intent == "validate"
        assert reply.model_versions["intent"] == "counting-v1"
    assert CountingIntent.calls == 1
