"""The ``composed`` backend (the default): a reply built from clinician-approved parts that
listens to what this user said.

1. Understand the message, offline: the feeling (``conversations.understanding.emotions`` when
   a model is trained, else its lexicon), the user's own key clause turned to the second person
   ("my dad forgot my birthday" -> "your dad forgot your birthday") and the topic.
2. Compose: a validation that names the feeling and reflects the situation in the user's words,
   then the move of the flow step (``conversations/content/reply_bank``). Parts are chosen so
   that no sentence repeats within the session (the history's replies are read).
3. An explicit "I'm safe" answer to Ari's safety question is thanked for (never reflected
   back as a feeling) and the flow goes on; after a direct question about disclosed suicidal or
   self-harm thoughts, Ari stays with the thoughts instead (support kept on offer).
4. What the user asked of Ari (advice, just to be heard, whether the feeling is normal) gets
   its answer between the validation and the move; advice is two small ideas for the user's
   topic, offered as options (``advice.<topic>`` parts), asking which fits: the move waits.
5. A situation the user discloses (``understanding/disclosures.yaml``: drinking or using to
   cope, losing one's home, sleepless nights and feeling unreal, being mistreated, someone else
   in danger, fear of losing control) is acknowledged by its own part instead of the move, once
   per family in a session; for medium-level families the part asks gently whether the user is
   safe (left out once they have said so). When Ari asked whether another person is in danger
   and the next message speaks of something else, Ari comes back to that person once.
6. Medium risk: one gentle safety question from the bank, unless the user already said they
   are safe after an earlier one (nobody is asked twice).

The words are the bank's, filled with the user's own; the response filter still runs on them.
"""

from __future__ import annotations

import hashlib
import random
import re

from conversations.backends.base import GenerationRequest
from conversations.backends.generation import Generated, GenerationError
from conversations.content.bank import Part, ReplyBank, reply_bank, split_sentences
from conversations.understanding.answers import Answer, answer_kind
from conversations.understanding.message import understand

# Risk families whose medium-level disclosure gets a direct question of its own.
DIRECT_QUESTION_CATEGORIES = ("suicidal_ideation", "self_harm")


def asked_directly(bank: ReplyBank, history: tuple[tuple[str, str], ...]) -> bool:
    """Was Ari's last reply a direct question about a disclosure (the bank's
    ``medium.<family>`` safety questions)?"""
    last = next((text for role, text in reversed(history) if role == "assistant"), "")
    return any(
        part.text in last
        for family in DIRECT_QUESTION_CATEGORIES
        for part in bank.get("safety_question", f"medium.{family}")
    )


def family_acknowledged(bank: ReplyBank, family: str, history: tuple[tuple[str, str], ...]) -> bool:
    """Did one of Ari's earlier replies in the session acknowledge ``family`` already?"""
    said = [text for role, text in history if role == "assistant"]
    openings = [split_sentences(part.text)[0] for part in bank.get("disclosure", family)]
    return any(opening in text for opening in openings for text in said)


def unheard_disclosure(user_text: str, history: tuple[tuple[str, str], ...]) -> str | None:
    """The family of a situation the user disclosed (``disclosures.yaml``) that no reply of
    Ari's has acknowledged yet: in this message, or in an earlier one whose reply could not
    (the crisis reply or safety-check mode answered it)."""
    from conversations.understanding.disclosures import disclosure_of

    bank = reply_bank()
    told = [user_text, *(text for role, text in reversed(history) if role == "user")]
    for text in told:
        family = disclosure_of(text)
        if family is not None and not family_acknowledged(bank, family, history):
            return family
    return None


# Words by which an answer speaks of the other person or their safety ("she's with her mum",
# "they called me", "I think he's okay"): anything else leaves Ari's question unanswered.
_ABOUT_THEM = re.compile(
    r"\b(?:he|she|they|him|her|them|his|their|hers|theirs|he's|she's|they're|"
    r"friend|mate|brother|sister|son|daughter|mum|mom|dad|mother|father|partner|husband|wife|"
    r"boyfriend|girlfriend|cousin|colleague|student|neighbou?r|gran|grandma|grandpa|"
    r"safe|danger|okay|ok|alright|fine|police|ambulance|someone|somebody|nobody|anyone|"
    r"called|texted|messaged|checked)\b",
    re.I,
)


def other_person_unanswered(user_text: str, history: tuple[tuple[str, str], ...]) -> bool:
    """Did Ari's last reply ask about another person who may be in danger (the
    ``someone_at_risk`` acknowledgement) and this message leave it unanswered: no yes or no,
    not a word about them or their safety? Ari comes back to it once in a session."""
    bank = reply_bank()
    last = next((text for role, text in reversed(history) if role == "assistant"), "")
    asked = any(
        split_sentences(part.text)[0] in last for part in bank.get("disclosure", "someone_at_risk")
    )
    if not asked or answer_kind(user_text) is not Answer.CONTENT:
        return False
    if _ABOUT_THEM.search((user_text or "").replace("\u2019", "'")):
        return False
    said = [text for role, text in history if role == "assistant"]
    return not any(
        part.text in text
        for part in bank.get("disclosure", "someone_at_risk.unanswered")
        for text in said
    )


def discloses_unheard(request: GenerationRequest) -> bool:
    """Is there a disclosure in the session that Ari has not yet acknowledged, or a question
    about another person's safety left unanswered?"""
    return unheard_disclosure(
        request.user_text, request.history
    ) is not None or other_person_unanswered(request.user_text, request.history)


def without_safety_question(part: Part) -> Part:
    """``part`` without its sentence that asks whether the user is safe (they have said so)."""
    from conversations.services.filter.cues import text_has_safety_question

    kept = [s for s in split_sentences(part.text) if not text_has_safety_question(s)]
    return Part(part.id, part.slot, part.key, " ".join(kept), part.source)


class ComposedGenerator:
    name = "composed"

    def generate(self, request: GenerationRequest) -> Generated:
        from conversations.services.safety_mode import (
            answers_safety_question,
            safety_question_answered,
        )

        bank = reply_bank()
        understood = understand(request.user_text, request.history)
        feeling, phrase, topic = understood.feeling, understood.phrase, understood.topic
        values = {"phrase": phrase or "", "topic": topic[1] if topic else ""}
        used = {
            sentence.lower()
            for role, text in request.history
            if role == "assistant"
            for sentence in split_sentences(text)
        }
        seed = hashlib.sha256(f"{len(request.history)}|{request.user_text}".encode()).digest()
        rng = random.Random(int.from_bytes(seed[:8], "big"))  # noqa: S311 - variety, not secrecy

        def usable(part: Part) -> bool:
            if "phrase" in part.placeholders and not phrase:
                return False
            if "topic" in part.placeholders and not topic:
                return False
            return not any(s.lower() in used for s in part.sentences(**values))

        story = " ".join([*(t for role, t in request.history if role == "user"), request.user_text])

        def pick(slot: str, key: str, prefer_phrase: bool = False) -> Part | None:
            candidates = [p for p in bank.get(slot, key) if usable(p) and p.fits(story)]
            # A part written for this user's situation ("when": "sister") before a general one.
            candidates = [p for p in candidates if p.when] or candidates
            if prefer_phrase:  # the user's own words, when a clause could be taken
                own = [p for p in candidates if "phrase" in p.placeholders]
                candidates = own or candidates
            return rng.choice(candidates) if candidates else None

        step_key = f"{request.session_type}.{request.flow_step}"
        # An answer to Ari's safety question is thanked for, not reflected back as a feeling.
        acknowledged = answers_safety_question(request.user_text, request.history)
        validation = (
            (pick("safety_question", "answered_safe") if acknowledged else None)
            or pick("validation", feeling, prefer_phrase=True)
            or pick("validation", "mixed", prefer_phrase=True)
        )
        move = pick("move", step_key)
        if validation is None or move is None:
            raise GenerationError("bank_exhausted", f"no unused part for {feeling}/{step_key}")
        # What the user asked of Ari (advice, to be heard, is this normal) is answered before
        # the flow's move.
        answer = None
        if understood.request == "advice":
            # Two small ideas for this user's topic (said now or earlier), offered as options.
            about = topic or _earlier_topic(request.history)
            answer = pick("request", f"advice.{about[0] if about else 'general'}") or pick(
                "request", "advice.general"
            )
        if understood.request and answer is None:
            answer = pick("request", understood.request)
        chosen = [validation, *([answer] if answer else []), move]
        if answer is not None and understood.request == "advice":
            # The ideas end with their own question (which fits?): the flow's move waits a turn,
            # so the reply asks one thing.
            chosen = [validation, answer]
        if (
            answer is not None
            and understood.request == "resources"
            and answer_kind(request.user_text) is Answer.YES
        ):
            # A yes to Ari's offer of support services: the services, nothing to validate.
            chosen = [answer]
        answered = safety_question_answered([*request.history, ("user", request.user_text)])
        disclosed = ""
        unheard = None if acknowledged else unheard_disclosure(request.user_text, request.history)
        if unheard and (told := pick("disclosure", unheard)) is not None:
            # Heard before any exercise: the disclosure is acknowledged instead of the move.
            disclosed = unheard
            chosen = [validation, without_safety_question(told) if answered else told]
        elif other_person_unanswered(request.user_text, request.history) and (
            again := pick("disclosure", "someone_at_risk.unanswered")
        ):
            # Ari asked whether another person is in danger and the answer spoke of something
            # else: Ari comes back to them once, before any exercise.
            disclosed = "someone_at_risk.unanswered"
            chosen = [validation, again]
        if acknowledged and asked_directly(bank, request.history):
            # "Safe" after a disclosure of suicidal or self-harm thoughts: the thoughts are not
            # dropped for the flow's exercise; Ari stays with them and keeps support offered.
            chosen = [pick("safety_question", "answered_safe.disclosure") or validation]
        plain = _plain_answer(request.user_text, told_something=bool(phrase or topic))
        if len(chosen) > 1 and chosen[0] is validation and validation.key == "mixed" and plain:
            # "Yes, let's do it", "Not sure", "That's all for today": no feeling to name, and a
            # "mixed feelings" line would name one nobody expressed.
            chosen = chosen[1:]
        if request.risk_level == "medium" and not answered:
            # Thoughts of suicide or self-harm disclosed: acknowledge them and ask about them
            # directly, instead of the flow's move (no exercise over a disclosure).
            direct = None
            if request.risk_category in DIRECT_QUESTION_CATEGORIES:
                direct = pick("safety_question", f"medium.{request.risk_category}")
            if direct is not None:
                chosen = [direct]
            elif not _asks_safety(chosen) and (question := pick("safety_question", "medium")):
                chosen.append(question)
        text = " ".join(part.text.format(**values).strip() for part in chosen)
        return Generated(
            text=text,
            backend=self.name,
            model=bank.version,
            details={
                "feeling": feeling,
                "feeling_source": understood.feeling_source,
                "parts": [part.id for part in chosen],
                "own_words": "phrase" in validation.placeholders,
                "answered_safe": acknowledged,
                "topic": topic[0] if topic else "",
                "request": understood.request,
                "disclosure": disclosed,
                # The reply's first part: a validation part lets the filter's validation-first
                # rule stand (the part is an approved validation in words of its own).
                "opens_with": chosen[0].slot,
                # A plain answer needs no validation (the filter adds none before the move).
                "plain_answer": chosen[0] is not validation and plain,
                # The flow's move was not said: the step waits for the next turn.
                "hold_flow": move not in chosen,
            },
        )


def _plain_answer(text: str, *, told_something: bool) -> bool:
    """A short yes, no, not sure or goodbye that tells no feeling and no situation
    (``told_something``: a key phrase or a topic was found, as in "Sure. Unfortunately, my
    company is downsizing.")."""
    from conversations.services.filter.cues import user_expresses_distress
    from conversations.understanding.answers import user_wants_to_close

    short = len((text or "").split()) <= 12
    answers = user_wants_to_close(text) or answer_kind(text) is not Answer.CONTENT
    return short and answers and not told_something and not user_expresses_distress(text)


def _earlier_topic(history: tuple[tuple[str, str], ...]) -> tuple[str, str] | None:
    """The topic of the user's latest earlier message that names one."""
    from conversations.understanding.phrases import topic_of

    return next(
        (found for role, text in reversed(history) if role == "user" and (found := topic_of(text))),
        None,
    )


def _asks_safety(parts: list[Part]) -> bool:
    from conversations.services.filter.cues import text_has_safety_question

    return any(text_has_safety_question(part.text) for part in parts)
