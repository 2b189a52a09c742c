# ruff: noqa: E501  (data and patterns read better on one line)
"""The rule-based safety net: explicit phrases that must never slip past the model.

The net is combined with the safety model and can only *raise* the risk level, never lower it
(:func:`apply_safety_net`). It is deliberately narrow: explicit first-person phrases in
English (with common slang and misspellings), Spanish and German. Implicit ideation, idioms and
negations are the model's job; a few guards here (negation just before a phrase, "of
laughing"-style idioms) keep the net from firing on the most common false alarms.

It looks at the current message only; risk spread over earlier turns is scored by the model,
which sees the last few user turns.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from training_jobs.ml.labels import level_rank

# How a rule set is identified on model versions and in turn records.
RULESET_VERSION = "rules-2026.12.1"


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    category: str
    pattern: re.Pattern
    negatable: bool = True


@dataclass(frozen=True)
class RuleHit:
    rule_id: str
    level: str
    category: str


def _rule(rule_id: str, level: str, category: str, pattern: str, *, negatable: bool = True) -> Rule:
    return Rule(rule_id, level, category, re.compile(pattern, re.IGNORECASE), negatable)


SI, SH, HO, CR = "suicidal_ideation", "self_harm", "harm_to_others", "crisis"
_ME = r"my ?self"

RULES: tuple[Rule, ...] = (
    # --- suicidal ideation, explicit (English, slang, misspellings) ----------------------------
    _rule(
        "si.kill_myself",
        "high",
        SI,
        rf"\b(?:kill|k[i*1]ll|kil|off|unalive|unaliv|end)(?:ing)? {_ME}\b",
    ),
    _rule("si.kms", "high", SI, r"(?<![\d.,] )(?<!\d)\bkm+s+\b|\bkys myself\b"),
    _rule(
        "si.end_my_life",
        "high",
        SI,
        r"\b(?:end|ending|take|taking|tak) (?:my|my own) li(?:fe|ve)\b",
    ),
    _rule(
        "si.want_to_die",
        "high",
        SI,
        r"\b(?:want|wanna|wnat|wamt|ready|deserve) (?:to |2 )?(?:die|dei|diee|be dead)\b"
        r"(?! (?:of|laughing|from|for|when|if)\b)",
    ),
    _rule(
        "si.dont_want_to_live",
        "high",
        SI,
        r"\b(?:don'?t|do not|dont) (?:want|wanna) (?:to )?(?:live|be alive)(?: anymore| any more)?\b",
        negatable=False,
    ),
    _rule(
        "si.suicide_intent",
        "high",
        SI,
        r"\b(?:commit|commiting|committing|attempt) (?:suicide|sucide|suicde)\b|\bi(?:'m| am) (?:so |very |really )?suicidal\b|\b(?:planning|plan) (?:my )?(?:suicide|sucide)\b",
    ),
    _rule("si.unalive", "high", SI, r"\bunaliv(?:e|ing)\b|\bsewer ?slide\b|\bctb\b"),
    _rule(
        "si.better_off",
        "high",
        SI,
        r"\bbetter off (?:without me|dead|if i (?:was|were)n?'?t? (?:here|around|alive|gone))\b",
    ),
    _rule(
        "si.goodbye",
        "high",
        SI,
        r"\b(?:this is|it'?s) (?:my )?(?:last|final) (?:message|goodbye)\b|\bgoodbye (?:forever|world|everyone)\b|\bsuicide note\b|\bgoodbye letters?\b",
        negatable=False,
    ),
    # --- Spanish ---------------------------------------------------------------------------------
    _rule(
        "si.es",
        "high",
        SI,
        r"\b(?:quiero|voy a|me voy a) (?:morir(?:me)?|matarme|suicidarme)\b|\bme quiero (?:matar|morir|suicidar)\b|\bquitarme la vida\b|\bno quiero (?:seguir )?vivir\b|\bacabar con todo\b(?! (?:el|la|los|las|lo|este|esta)\b)|\bestar(?:í|i)an mejor sin m(?:í|i)\b",
    ),
    # A first-person reflexive form of "suicidarse" is explicit whatever the verb before it
    # ("estoy decidida a suicidarme", "pienso en suicidarme"); "matarme" is not (idioms).
    _rule("si.es_suicidarme", "high", SI, r"\bsuicidarme\b|\bme suicid(?:o|ar(?:é|e))\b"),
    # --- German ----------------------------------------------------------------------------------
    _rule(
        "si.de",
        "high",
        SI,
        r"\b(?:ich will|ich möchte|ich werde) (?:mich umbringen|sterben|nicht mehr leben|tot sein)\b(?! vor)|\bmir (?:heute (?:nacht )?)?das leben (?:zu )?nehmen\b|\bselbstmord (?:begehen|machen)\b|\bbesser dran ohne mich\b|\bmich umzubringen\b",
    ),
    # "ich bring(e) mich um" is explicit; "das bringt mich um" (third person) is an idiom, and
    # "bring mich um 8 ..." a time. Any subject with "mich (selbst) umbringen/töten" is explicit.
    _rule(
        "si.de_umbringen",
        "high",
        SI,
        r"\bich bringe? mich (?:selbst )?um\b(?! \d)|\bmich (?:selbst )?(?:umbringen|töten)\b",
    ),
    # --- self-harm -------------------------------------------------------------------------------
    _rule(
        "sh.intent",
        "high",
        SH,
        rf"\b(?:going to|gonna|about to|will) (?:cut|hurt|harm|burn) {_ME}\b",
    ),
    _rule(
        "sh.mention",
        "medium",
        SH,
        rf"\b(?:cut|cutting|hurt|hurting|harm|harming) {_ME}\b|\bself[- ]?harm(?:ing|ed)?\b|\bsh urges?\b",
    ),
    _rule(
        "sh.es_de",
        "high",
        SH,
        r"\bme voy a cortar\b|\b(?:quiero|voy a) hacerme daño\b|\b(?:will|werde) mich (?:selbst )?verletzen\b|\britze mich\b",
    ),
    # --- harm to others --------------------------------------------------------------------------
    _rule(
        "ho.intent",
        "medium",
        HO,
        r"\b(?:going to|gonna|will|want to|wanna) (?:kill|hurt|stab|shoot) (?:him|her|them|my (?:boss|ex|dad|mom|stepdad|coworker|neighbou?r|teacher))\b(?!.*\b(?:lol|haha|lmao|if (?:he|she|they) eats?)\b)",
    ),
    # --- acute crisis ----------------------------------------------------------------------------
    _rule(
        "cr.overdose",
        "high",
        CR,
        r"\boverdosed\b|\b(?:took|taken|swallowed) (?:an overdose|(?:way |far )?too many (?:of (?:my |the )?)?(?:pills|tablets|meds)|(?:way |far )?too much (?:of )?(?:my )?(?:medication|meds|pills))\b"
        r"|\bme (?:tom(?:é|e)|he tomado) demasiadas (?:pastillas|pastis)\b|\bzu viele (?:Tabletten|Pillen) (?:genommen|geschluckt)\b",
    ),
    _rule(
        "cr.being_hurt",
        "high",
        CR,
        r"\b(?:is|are|keeps) (?:hitting|beating|attacking|strangling) me\b(?! (?:at|in)\b)|\b(?:me está|me esta) (?:pegando|golpeando)\b",
    ),
)

_NEGATION = re.compile(
    r"\b(?:not|never|no|don'?t|dont|won'?t|wont|wouldn'?t|nothing|nicht|nie|kein\w*|nunca|jamás|tampoco)\b"
    r"(?:\W+\w+){0,3}\W*$",
    re.IGNORECASE,
)
_PAST = re.compile(
    r"\b(?:tried|trid|used|attempted) to\W*$|\bwhen i was (?:a )?\w+\W*$", re.IGNORECASE
)
_ACADEMIC = re.compile(
    r"\b(?:essay|paper|research|prevention|awareness|training|course|class|documentary|film|movie|book|novel|podcast|statistics)\b",
    re.IGNORECASE,
)


def _prepare(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"\s+", " ", text.replace("’", "'")).strip()


def rule_hits(text: str) -> list[RuleHit]:
    """Rules that fire on ``text`` (each rule at most once)."""
    prepared = _prepare(text)
    hits: list[RuleHit] = []
    for rule in RULES:
        for match in rule.pattern.finditer(prepared):
            before = prepared[max(0, match.start() - 40) : match.start()]
            if rule.negatable and _NEGATION.search(before):
                continue
            if rule.level == "high" and _PAST.search(before):
                continue
            if rule.id in {"sh.mention"} and _ACADEMIC.search(prepared):
                continue
            hits.append(RuleHit(rule.id, rule.level, rule.category))
            break
    return hits


def rules_level(hits: list[RuleHit]) -> tuple[str, str]:
    """The most severe ``(level, category)`` among ``hits``; ``("none", "")`` without hits."""
    if not hits:
        return "none", ""
    top = max(hits, key=lambda h: level_rank(h.level))
    return top.level, top.category


def apply_safety_net(level: str, category: str, hits: list[RuleHit]) -> tuple[str, str]:
    """Combine the model's ``(level, category)`` with the rule hits. Only ever raises."""
    rule_level, rule_category = rules_level(hits)
    if level_rank(rule_level) > level_rank(level):
        return rule_level, rule_category
    return level, category
