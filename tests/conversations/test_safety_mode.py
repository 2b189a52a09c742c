"""Safety-check mode as a person lives it: the transitions as one table, leaving only on an
explicit answer, resuming the flow afterwards, and one turn at a time per session."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections

from conversations.backends.base import IntentPrediction
from conversations.content.bank import split_sentences
from conversations.models import ChatSession, Escalation, Message
from conversations.selectors import fixed_replies_get
from conversations.services import chat_turn_run, session_create
from conversations.services.filter.cues import text_has_safety_question
from conversations.services.safety_mode import (
    SUGGESTED_REPLIES,
    SafetyAnswer,
    is_suggested_safe,
    safety_answer,
    safety_mode_end_by_clinician,
    user_says_safe,
)
from tests.conversations.conftest import FixedRisk, RecordingGenerator

HIGH = "I have the pills in my hand and I am going to take them all tonight"
HIGH_JOKE = "I was joking about the pills, you misunderstood me"


class FixedIntent:
    version = "fixed-intent"

    def predict(self, text):
        return IntentPrediction("validate", 0.9, self.version)


def risk():
    return FixedRisk("none", overrides={HIGH: "high", HIGH_JOKE: "high"})


def _turn(session, text, generator=None, classifier=None):
    return chat_turn_run(
        session=session,
        text=text,
        generator=generator or RecordingGenerator(),
        safety_classifier=classifier or risk(),
        intent_classifier=FixedIntent(),
    )


def _kind(reply: Message) -> str:
    return reply.provenance.get("kind", "generate")


# (in safety-check mode before, message) -> (in safety-check mode after, reply kind)
TRANSITIONS = [
    (False, "Work was a lot today.", False, "generate"),
    (False, HIGH, True, "emergency"),
    (True, HIGH, True, "safety_reminder"),
    (True, "I'm not safe", True, "safety_reminder"),
    (True, "no", True, "safety_reminder"),
    (True, "Show me the resources again", True, "safety_resources"),
    (True, "who can I call?", True, "safety_resources"),
    (True, "you misunderstood me", True, "safety_clarify"),
    (True, "I was joking", True, "safety_clarify"),
    (True, HIGH_JOKE, True, "safety_clarify"),
    (True, "I'm fine.", True, "safety_clarify"),
    (True, "not sure", True, "safety_clarify"),
    (True, "for now, I guess", True, "safety_clarify"),
    (True, "yeah totally safe lol", True, "safety_clarify"),
    (True, "I think I'm safe", True, "safety_clarify"),
    (True, "I don't think I'm safe", True, "safety_reminder"),
    (True, "What's for dinner?", True, "safety_clarify"),
    (True, "Work has been so heavy lately.", True, "safety_mode"),
    (True, "I'm safe right now", False, "safety_resolved"),
    (True, "Yes, I'm safe now", False, "safety_resolved"),
    (True, "yes", False, "safety_resolved"),
    (True, "I'm not going to hurt myself", False, "safety_resolved"),
]


# How an answer to the safety question reads (the table above, one level down, and the edges).
ANSWERS = [
    ("  I'm safe right now  ", SafetyAnswer.SAFE),
    ("Yes, I'm safe now", SafetyAnswer.SAFE),
    ("yes", SafetyAnswer.SAFE),
    ("I'm not going to hurt myself", SafetyAnswer.SAFE),
    ("I won't hurt myself, I promise", SafetyAnswer.SAFE),
    ("I'm not safe", SafetyAnswer.NOT_SAFE),
    ("no", SafetyAnswer.NOT_SAFE),
    ("I don't think I'm safe", SafetyAnswer.NOT_SAFE),
    ("I'm not going to hurt myself... I don't know, I'm not okay", SafetyAnswer.NOT_SAFE),
    ("Show me the resources again", SafetyAnswer.RESOURCES),
    ("who can I call?", SafetyAnswer.RESOURCES),
    ("you misunderstood me", SafetyAnswer.MISUNDERSTOOD),
    ("I was joking", SafetyAnswer.MISUNDERSTOOD),
    ("I'm fine.", SafetyAnswer.UNCLEAR),
    ("not sure", SafetyAnswer.UNCLEAR),
    ("for now, I guess", SafetyAnswer.UNCLEAR),
    ("yeah totally safe lol", SafetyAnswer.UNCLEAR),
    ("I think I'm safe", SafetyAnswer.UNCLEAR),
    ("I'm not going to hurt myself, probably", SafetyAnswer.UNCLEAR),
    ("I won't hurt myself lol", SafetyAnswer.UNCLEAR),
    ("What's for dinner?", SafetyAnswer.UNCLEAR),
    ("Work has been so heavy lately.", SafetyAnswer.OTHER),
    ("", SafetyAnswer.OTHER),
    (None, SafetyAnswer.OTHER),
]


@pytest.mark.parametrize(("text", "answer"), ANSWERS)
def test_an_answer_to_the_safety_question_reads_as(text, answer):
    assert safety_answer(text) is answer
    assert user_says_safe(text) is (answer is SafetyAnswer.SAFE)


@pytest.mark.parametrize(
    ("text", "suggested"),
    [
        ("I'm safe right now", True),
        ("  i'm   SAFE right now!  ", True),
        ("I'm safe right now.", True),
        ("I'm safe right now but I still have the pills", False),
        ("I'm safe", False),
        ("", False),
        (None, False),
    ],
)
def test_the_safe_suggested_reply_is_recognised_only_as_offered(text, suggested):
    assert is_suggested_safe(text) is suggested


@pytest.mark.parametrize(("in_mode", "text", "mode_after", "kind"), TRANSITIONS)
def test_safety_mode_transitions(starter_content, enduser, in_mode, text, mode_after, kind):
    session = session_create(user=enduser, session_type="check_in")
    if in_mode:
        assert _kind(_turn(session, HIGH).reply) == "emergency"
    generator = RecordingGenerator()
    reply = _turn(session, text, generator).reply
    session.refresh_from_db()

    assert (session.safety_mode, _kind(reply)) == (mode_after, kind)
    if kind != "generate":
        assert generator.requests == []  # safety replies are fixed texts, never generated
        assert reply.resources  # the resources stay visible
    # Suggested replies while the mode lasts, and only then.
    assert reply.suggested_replies == (SUGGESTED_REPLIES if mode_after else [])
    # One escalation at most, however often risk comes back.
    assert Escalation.objects.filter(session=session).count() == (1 if in_mode or mode_after else 0)
    assert session.flagged == (in_mode or mode_after)  # the flag outlives the mode


def test_each_suggested_reply_reads_as_its_answer(starter_content, enduser):
    expected = {
        "I'm safe right now": "safety_resolved",
        "I'm not safe": "safety_reminder",
        "Show me the resources again": "safety_resources",
    }
    assert list(expected) == SUGGESTED_REPLIES
    for text, kind in expected.items():
        session = session_create(user=enduser, session_type="gentle_deep")
        _turn(session, HIGH)
        assert _kind(_turn(session, text).reply) == kind


def test_a_misunderstanding_is_acknowledged_once_without_a_new_emergency(starter_content, enduser):
    session = session_create(user=enduser, session_type="gentle_deep")
    first = _turn(session, HIGH).reply
    clarify = _turn(session, "you misunderstood me").reply
    assert not clarify.emergency and clarify.text != first.text
    assert clarify.text.rstrip().endswith("?")  # one clarifying safety question
    session.refresh_from_db()
    assert session.safety_mode  # no instant exit
    assert _kind(_turn(session, "yes").reply) == "safety_resolved"


def test_after_leaving_the_check_in_resumes_where_it_was(starter_content, enduser):
    session = session_create(user=enduser, session_type="check_in")
    first = _turn(session, "Hi, rough morning.").reply
    assert first.flow_step == "mood"
    _turn(session, HIGH)
    _turn(session, "I'm fine.")
    _turn(session, "I'm safe right now")
    resumed = _turn(session, "Thanks. Work is just heavy.").reply
    assert _kind(resumed) == "generate"
    assert resumed.flow_step == "reflect"  # the next step of the check-in, not its goodbye
    session.refresh_from_db()
    assert session.flagged and not session.safety_mode


def test_a_clinician_closing_the_escalation_ends_the_mode_with_a_calm_message(
    starter_content, enduser, clinician
):
    from conversations.services import escalation_close

    session = session_create(user=enduser, session_type="gentle_deep")
    _turn(session, HIGH)
    escalation_close(
        escalation=Escalation.objects.get(session=session), clinician=clinician, note="Called."
    )
    session.refresh_from_db()
    assert not session.safety_mode and session.safety_resolution == "clinician_closed"
    assert session.safety_resolved_at is not None
    calm = Message.objects.filter(session=session).last()
    assert calm is not None
    assert calm.role == "assistant" and calm.provenance["kind"] == "safety_closed"
    assert calm.reply_to_id is None and not calm.emergency
    assert calm.text == fixed_replies_get().safety_closed_text
    assert calm.model_versions == {"generator": "fixed"}
    assert calm.provenance == {"backend": "fixed", "kind": "safety_closed"}


def test_ending_the_mode_by_clinician_touches_only_a_session_still_in_it(starter_content, enduser):
    in_mode = session_create(user=enduser, session_type="gentle_deep")
    _turn(in_mode, HIGH)
    other = session_create(user=enduser, session_type="gentle_deep")
    _turn(other, HIGH)
    left = session_create(user=enduser, session_type="gentle_deep")
    _turn(left, HIGH)
    _turn(left, "I'm safe right now")
    messages_left = Message.objects.filter(session=left).count()

    assert safety_mode_end_by_clinician(session_id=in_mode.pk) is True
    assert safety_mode_end_by_clinician(session_id=left.pk) is False  # already out of it
    assert ChatSession.objects.get(pk=other.pk).safety_mode  # another session stays in it
    assert Message.objects.filter(session=left).count() == messages_left  # no calm message
    assert ChatSession.objects.get(pk=left.pk).safety_resolution != "clinician_closed"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_never_get_a_coaching_reply_after_an_emergency(starter_content, enduser):
    """10 threads x 20 trials on PostgreSQL: one thread sends a high-risk message while nine
    send ordinary ones at the same moment. Once the emergency reply is stored, every later reply
    in that session is a safety reply."""
    trials, threads = 20, 10
    violations = []
    for trial in range(trials):
        session = session_create(user=enduser, session_type="gentle_deep")
        start = threading.Barrier(threads)
        errors = []

        def send(i, session=session, start=start, errors=errors):
            try:
                start.wait()
                _turn(session, HIGH if i == 3 else f"ordinary message {i}")
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(repr(exc))
            finally:
                close_old_connections()

        workers = [threading.Thread(target=send, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        assert errors == []
        replies = list(Message.objects.filter(session=session, role="assistant").order_by("id"))
        assert len(replies) == threads
        first_emergency = next(i for i, r in enumerate(replies) if _kind(r) == "emergency")
        later = [_kind(r) for r in replies[first_emergency + 1 :]]
        violations += [(trial, k) for k in later if k == "generate"]
        assert ChatSession.objects.get(pk=session.pk).safety_mode
        assert Escalation.objects.filter(session=session).count() == 1
    assert violations == []


def test_the_safe_suggested_reply_leaves_the_mode_even_if_the_classifier_reads_it_as_high(
    starter_content, enduser
):
    """The button's words are an explicit answer; anything added to them is screened as usual
    (the screen reads what was added: "but I still have the pills")."""
    added = "I'm safe right now but I still have the pills"
    classifier = FixedRisk(
        "none",
        overrides={
            HIGH: "high",
            "I'm safe right now": "high",
            "but I still have the pills": "high",
        },
    )

    def turn(session, text):
        return _turn(session, text, classifier=classifier).reply

    for text, kind, mode_after in (
        ("I'm safe right now", "safety_resolved", False),
        (added, "safety_reminder", True),
    ):
        session = session_create(user=enduser, session_type="check_in")
        turn(session, HIGH)
        assert _kind(turn(session, text)) == kind
        session.refresh_from_db()
        assert session.safety_mode is mode_after
        assert session.flagged  # the flag outlives the mode


MEDIUM = "Some nights I wish I could just disappear for a while."
SAFE_ANSWER = "I'm safe, thanks for asking."


@pytest.mark.parametrize("in_mode", [True, False])
def test_an_explicit_safe_answer_is_not_screened_by_its_words(starter_content, enduser, in_mode):
    """A model reads the words "I'm safe" as high risk (they belong to risky conversations): the
    person answering Ari's safety question must not get the crisis response for answering it.
    The screen reads what else they wrote; the answer itself ends safety-check mode."""
    classifier = FixedRisk(
        "none",
        overrides={HIGH: "high", MEDIUM: "medium", SAFE_ANSWER: "high", "I'm safe": "high"},
    )

    def turn(session, text):
        return _turn(session, text, classifier=classifier)

    session = session_create(user=enduser, session_type="check_in")
    asked = turn(session, HIGH if in_mode else MEDIUM).reply
    assert "safe right now?" in asked.text  # Ari asked
    calls = len(classifier.calls)
    result = turn(session, SAFE_ANSWER)
    # Thanks for asking is nothing to read either (read with the story before it, the story's
    # risk, already answered, came back as a crisis).
    assert len(classifier.calls) == calls
    assert not result.reply.emergency
    assert result.user_message.risk_level == "none"
    assert result.reply.provenance.get("safe_answer_apart") is True
    assert _kind(result.reply) == ("safety_resolved" if in_mode else "generate")
    session.refresh_from_db()
    assert not session.safety_mode
    # Nothing but "I'm safe": nothing for the model to read.
    calls = len(classifier.calls)
    fresh = session_create(user=enduser, session_type="check_in")
    turn(fresh, HIGH if in_mode else MEDIUM)
    assert not turn(fresh, "I'm safe").reply.emergency
    assert len(classifier.calls) == calls + 1  # the question's turn only


def test_once_the_user_said_they_are_safe_nobody_asks_again(starter_content, enduser):
    """After "I'm safe" to the gentle safety question, a later medium-risk message gets a
    listening reply without the question (neither the responder nor the filter adds it)."""
    later = "Some nights I still wish I could vanish for a bit."
    # The answer itself may read as medium (what is left of it, with the story before it).
    classifier = FixedRisk(
        "none", overrides={MEDIUM: "medium", later: "medium", "thanks for asking": "medium"}
    )

    def turn(session, text):
        return _turn(session, text, classifier=classifier).reply

    session = session_create(user=enduser, session_type="check_in")
    assert text_has_safety_question(turn(session, MEDIUM).text)
    assert not text_has_safety_question(turn(session, SAFE_ANSWER).text)
    again = turn(session, later)
    assert again.risk_level == "medium"
    assert not text_has_safety_question(again.text)
    assert not any(hit["rule"] == "RF-SAFE-01" for hit in again.filter_hits)


def test_a_disclosure_at_medium_gets_the_direct_question_whichever_backend_serves(
    starter_content, enduser
):
    """Suicidal thoughts disclosed at medium: the reply asks about them directly (the approved
    wording), not the serving backend's flow reply with a generic check added (approved
    content met such a disclosure with a breathing exercise; the reviewers rated it harmful)."""
    from conversations.content.bank import reply_bank

    disclosure = "I'm having a lot of suicidal thoughts lately and no one to talk to."
    classifier = FixedRisk(  # the user's own words named the family (a risk signal hit)
        "none",
        overrides={disclosure: "medium"},
        category="suicidal_ideation",
        rule_hits=("si.suicidal_thoughts",),
    )
    generator = RecordingGenerator()
    session = session_create(user=enduser, session_type="micro_practice")
    reply = chat_turn_run(
        session=session,
        text=disclosure,
        generator=generator,
        safety_classifier=classifier,
        intent_classifier=FixedIntent(),
    ).reply
    direct = [p.text for p in reply_bank().get("safety_question", "medium.suicidal_ideation")]
    assert any(text in reply.text for text in direct), (reply.text, reply.provenance)
    assert reply.provenance["direct_question"] is True
    assert not generator.requests
    assert not reply.emergency


def test_a_safe_answer_is_read_apart_only_when_ari_asked(starter_content, enduser):
    """Unasked, the same words are read whole (the model decides), and whatever follows the
    answer is read: "I'm safe but I still want to die" is a crisis."""
    classifier = FixedRisk(
        "none", overrides={SAFE_ANSWER: "high", "but I still want to die": "high", MEDIUM: "medium"}
    )

    def turn(session, text):
        return _turn(session, text, classifier=classifier).reply

    unasked = session_create(user=enduser, session_type="check_in")
    assert turn(unasked, SAFE_ANSWER).emergency
    assert classifier.calls[-1][0] == SAFE_ANSWER
    asked = session_create(user=enduser, session_type="check_in")
    turn(asked, MEDIUM)
    assert turn(asked, "I'm safe but I still want to die").emergency
    assert classifier.calls[-1][0] == "but I still want to die"
    told = session_create(user=enduser, session_type="check_in")
    turn(told, MEDIUM)
    turn(told, "I'm safe right now, thank you. I just needed to get it out.")
    assert classifier.calls[-1][0] == "thank you. I just needed to get it out"


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ("Work has been so heavy lately.", "safety_mode_text"),
        ("you misunderstood me", "safety_clarify_text"),
        ("I'm not safe", "safety_reminder_text"),
    ],
)
def test_safety_mode_never_says_the_same_words_twice_in_a_row(
    starter_content, enduser, answer, field
):
    """Turn after turn in safety-check mode, Ari uses an admin-written wording not said yet in
    the session (then the one said longest ago), and every wording asks about safety."""
    from conversations.services.filter.cues import text_has_safety_question

    wordings = fixed_replies_get().wordings(field)
    assert len(wordings) >= 3 and all(text_has_safety_question(w) for w in wordings)
    session = session_create(user=enduser, session_type="check_in")
    _turn(session, HIGH)
    replies = [_turn(session, answer).reply for _ in range(len(wordings) + 1)]
    said = [next(w for w in wordings if w in r.text) for r in replies]
    assert said[: len(wordings)] == wordings  # each once, in order
    assert said[-1] == wordings[0]  # then the one said longest ago
    assert all(r.resources for r in replies) or field == "safety_clarify_text"
    assert all(text_has_safety_question(r.text) for r in replies)
    assert [r.text for r in replies] == said  # each wording as written: nothing added to it
    assert ChatSession.objects.get(pk=session.pk).safety_mode


def test_a_second_resolution_in_a_session_is_said_in_other_words(starter_content, enduser):
    """Two false alarms in one conversation: each "I'm safe right now" is answered, but not with
    the very same words twice."""
    wordings = fixed_replies_get().wordings("safety_resolved_text")
    assert len(wordings) >= 3
    assert not any(text_has_safety_question(w) for w in wordings)  # the mode has ended
    session = session_create(user=enduser, session_type="check_in")
    resolved, emergencies = [], []
    for _ in range(2):
        emergencies.append(_turn(session, HIGH).reply)
        reply = _turn(session, "I'm safe right now").reply
        assert _kind(reply) == "safety_resolved"
        resolved.append(reply.text)
    assert resolved == wordings[:2]
    # The crisis reply too: the second is an admin-written wording of its own, asking about
    # safety, with the crisis resources and the session back in safety-check mode.
    emergency_wordings = fixed_replies_get().wordings("text")
    assert len(emergency_wordings) >= 3
    assert all(text_has_safety_question(w) for w in emergency_wordings)
    assert [r.text for r in emergencies] == emergency_wordings[:2]
    first, second = (set(split_sentences(r.text.lower())) for r in emergencies)
    assert not first & second  # no sentence said twice in the session
    assert all(r.emergency and r.resources for r in emergencies)
    assert ChatSession.objects.get(pk=session.pk).safety_mode is False


def test_the_admin_refuses_a_wording_that_does_not_ask_about_safety(starter_content):
    from conversations.admin import EmergencyReplyForm

    fixed = fixed_replies_get()
    data = {f.name: getattr(fixed, f.name) for f in fixed._meta.concrete_fields if f.name != "id"}
    data["safety_mode_variants"] = "I'm here with you.\nAre you safe right now?"
    data["emergency_variants"] = "Are you safe right now?\nThe services are below."
    form = EmergencyReplyForm(data=data, instance=fixed)
    assert not form.is_valid()
    assert "does not ask whether the person is safe" in str(form.errors["safety_mode_variants"])
    assert "The services are below." in str(form.errors["emergency_variants"])
