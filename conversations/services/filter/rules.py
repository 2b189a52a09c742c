"""The sentence rules of the response filter (a data table): each hard line, the patterns that
detect it and the safe sentence that replaces a sentence crossing it. Bump ``RULESET_VERSION``
whenever a rule, its pattern or its replacement changes."""

from __future__ import annotations

import re
from dataclasses import dataclass

RULESET_VERSION = "rf-2026.12.1"
MAX_REPLY_CHARS = 1200

# --------------------------------------------------------------------------------------------
# Vocabulary. These lists detect unsafe text; they describe no method and give no instruction.
# --------------------------------------------------------------------------------------------
_DIRECTIVE = (
    r"\b(?:you\s+(?:should|could|can|might|may|need\s+to|have\s+to|must|ought\s+to|"
    r"might\s+as\s+well|could\s+just|should\s+just)|just|go\s+ahead\s+and|why\s+not|"
    r"try(?:\s+to)?|it'?s\s+(?:ok|okay|fine|alright)\s+to|feel\s+free\s+to|i\s+(?:suggest|"
    r"recommend)\s+(?:you|that\s+you)|maybe|consider)"
)
_HARM_VERB = (
    r"(?:kill|hurt|harm|cut|injure|starve|punish|burn|poison|hang|drown|stab|shoot|beat\s+up|"
    r"beat|hit|attack|strangle|choke|smother|scratch|bruise)"
)
_SELF = r"(?:yourself|your\s*self|oneself|your\s+(?:own\s+)?(?:body|skin|wrists?|arms?|legs?))"
_OTHERS = (
    r"(?:him|her|them|someone|somebody|people|anyone|everyone|that\s+person|"
    r"your\s+(?:partner|boss|mother|father|mom|mum|dad|ex|wife|husband|boyfriend|girlfriend|"
    r"brother|sister|family|kids?|children|baby|neighbou?r|coworkers?|co-workers?|"
    r"classmates?|teacher|roommate|friend))"
)
_SELF_HARM_TOPIC = (
    r"(?:(?:kill\w*|hurt\w*|harm\w*|cut\w*|injur\w*|starv\w*|poison\w*|burn\w*|punish\w*)\s+"
    + _SELF
    + r"|end(?:ing)?\s+(?:your|one'?s|a)\s+life|end(?:ing)?\s+it\s+all|suicide|overdos\w*|"
    r"self[-\s]?harm\w*)"
)
_SUBSTANCE = (
    r"(?:alcohol|booze|vodka|whiskey|wine|beer|liquor|drugs?|weed|cannabis|pot|cocaine|coke|"
    r"meth|heroin|opioids?|opiates?|fentanyl|mdma|ecstasy|lsd|acid|ketamine|benzos?|xanax|"
    r"valium|pills|painkillers?|oxy\w*|adderall|sleeping\s+pills)"
)
_MEDICATION = (
    r"(?:medication|medicine|meds|pills|tablets|dosage|antidepressants?|ssris?|snris?|"
    r"benzos?|xanax|valium|zoloft|prozac|lexapro|paxil|wellbutrin|sertraline|fluoxetine|"
    r"citalopram|escitalopram|bupropion|lithium|adderall|ritalin|seroquel|quetiapine|"
    r"melatonin|ibuprofen|painkillers?|sleeping\s+pills|antipsychotics?|mood\s+stabili[sz]ers?)"
)
_CONDITION = (
    r"(?:(?:clinical|major|severe|mild|chronic|high-functioning)\s+)?(?:depression|"
    r"depressive\s+disorder|bipolar(?:\s+disorder)?|bpd|borderline(?:\s+personality)?(?:\s+"
    r"disorder)?|ptsd|c-?ptsd|adhd|ocd|(?:an?\s+)?anxiety\s+disorder|generali[sz]ed\s+anxiety|"
    r"gad|panic\s+disorder|social\s+anxiety\s+disorder|schizophrenia|psychosis|"
    r"(?:an?\s+)?eating\s+disorder|anorexia|bulimia|(?:a\s+)?personality\s+disorder|"
    r"narcissistic\s+personality\s+disorder|npd|autism|asperger'?s|dissociative\s+\w+\s+"
    r"disorder|(?:a\s+)?mental\s+illness|(?:a\s+)?(?:mental|psychiatric)\s+disorder|"
    r"insomnia\s+disorder|(?:an?\s+)?addiction)"
)
# Up to three words between a directive and a harm verb, none of them a negation.
_GAP = r"\s+(?:(?!(?:not|never|don'?t|no|stop|avoid|without)\b)[\w']+\s+){0,3}?"
# "cut yourself some slack", "burn yourself out" are kind, not harmful.
_SELF_END = r"(?!\s+(?:some\s+|a\s+(?:little\s+|bit\s+of\s+)?)?(?:slack|break)\b)(?!\s+out\b)"


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    patterns: tuple[re.Pattern, ...]
    replacement: str

    def matches(self, text: str) -> bool:
        return any(p.search(text) for p in self.patterns)


def _rx(*patterns: str) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


_CARE = "I care about your safety, so I won't suggest anything that could hurt you."
_CARE_OTHERS = (
    "I won't suggest anything that could hurt anyone, and I'm still here to help you "
    "with what you're feeling."
)

# Sentence rules, in priority order: the first matching rule's replacement is used, every
# matching rule is recorded.
SENTENCE_RULES: tuple[Rule, ...] = (
    Rule(
        "RF-SH-01",
        "self_harm_howto",
        _rx(
            _DIRECTIVE + _GAP + _HARM_VERB + r"\w*\s+" + _SELF + _SELF_END,
            r"\b(?:kill|end)\s+yourself\b",
            r"\bkys\b",
            r"\byou\s+(?:should|could|might\s+as\s+well|can)\s+(?:just\s+)?end\s+"
            r"(?:it|it\s+all|your\s+life|things)\b",
            r"\b(?:how|ways?|methods?|steps?|best\s+way|easiest\s+way|quickest\s+way|"
            r"painless\s+way|tips?|instructions?|guide)\b[^.?!\n]{0,25}\b(?:to|for|of|on)\b"
            r"[^.?!\n]{0,10}" + _SELF_HARM_TOPIC,
            r"\b(?:take|swallow)\b[^.?!\n]{0,20}\b(?:all|whole|entire|many|lot\s+of|extra|"
            r"more|handful)\b[^.?!\n]{0,15}\b(?:pills|tablets|meds|medication)\b",
            _DIRECTIVE + _GAP + r"(?:overdos\w*|self[-\s]?harm\w*)",
            r"\b(?:pills|tablets|meds|medication)\b[^.?!\n]{0,15}\b(?:with|and)\s+"
            r"(?:alcohol|vodka|whiskey|wine|beer|liquor|booze)\b",
        ),
        _CARE,
    ),
    Rule(
        "RF-VI-01",
        "violence_howto",
        _rx(
            _DIRECTIVE + _GAP + _HARM_VERB + r"\w*\s+" + _OTHERS + r"\b",
            r"\b(?:how|ways?|methods?|steps?|best\s+way|easiest\s+way|tips?|instructions?)\b"
            r"[^.?!\n]{0,25}\b(?:to|for|of|on)\b[^.?!\n]{0,10}(?:kill\w*|hurt\w*|harm\w*|"
            r"attack\w*|poison\w*|stab\w*|shoot\w*|beat\w*|strangl\w*|chok\w*)\s+" + _OTHERS,
            r"\b(?:get|buy|grab|bring|use)\s+(?:a|an|your|some)\s+(?:gun|knife|weapon|"
            r"firearm|rifle|pistol|blade|bat)\b",
            r"\bmake\s+(?:him|her|them|that\s+person)\s+(?:pay|suffer|bleed)\b",
            _DIRECTIVE + _GAP + r"(?:get\s+revenge|take\s+revenge|retaliate)",
        ),
        _CARE_OTHERS,
    ),
    Rule(
        "RF-SU-01",
        "substance_howto",
        _rx(
            r"\b(?:how|ways?|where|best\s+way|easiest\s+way|tips?)\b[^.?!\n]{0,20}\b(?:to|for|"
            r"of|on)\s+(?:get\s+(?:high|drunk|wasted|stoned|hammered)|buy\s+"
            + _SUBSTANCE
            + r"|get\s+(?:some\s+)?"
            + _SUBSTANCE
            + r")",
            _DIRECTIVE + _GAP + r"(?:get\s+(?:high|drunk|wasted|stoned|hammered)|"
            r"drink\s+(?:more|until|a\s+lot|heavily)|(?:use|smoke|snort|inject|take|try|mix)\s+"
            r"(?:some\s+|a\s+little\s+|more\s+)?" + _SUBSTANCE + r")",
            r"\b(?:have|grab|pour|take|down)\s+(?:yourself\s+)?(?:a|some|another|a\s+few)\s+"
            r"(?:drinks?|shots?|beers?|glass(?:es)?\s+of\s+(?:wine|whiskey)|joint|hit|xanax|"
            r"benzo|valium)\b(?!\s+of\s+water)",
            r"\b(?:mix|combine)\w*\s+" + _SUBSTANCE + r"\s+(?:with|and)\s+" + _SUBSTANCE,
        ),
        "I'd rather not suggest anything that could make things harder on your body or mind.",
    ),
    Rule(
        "RF-DX-01",
        "diagnosis",
        _rx(
            r"\byou(?:'ve|\s+have|\s+probably\s+have|\s+clearly\s+have|\s+definitely\s+have|"
            r"\s+likely\s+have|\s+might\s+have|\s+may\s+have|\s+must\s+have|'?re\s+suffering"
            r"\s+from|\s+are\s+suffering\s+from|\s+suffer\s+from|\s+have\s+got|'ve\s+got|"
            r"\s+got)\s+(?:a\s+case\s+of\s+|signs\s+of\s+|symptoms\s+of\s+)?" + _CONDITION + r"\b",
            r"\byou(?:'re|\s+are)\s+(?:clearly\s+|probably\s+|definitely\s+|obviously\s+)?"
            r"(?:clinically\s+depressed|depressed|bipolar|schizophrenic|psychotic|"
            r"narcissistic|a\s+narcissist|autistic|anorexic|bulimic|an\s+addict|"
            r"an\s+alcoholic|mentally\s+ill|borderline|manic)\b",
            r"\b(?:sounds|seems|looks)\s+like\s+(?:you\s+have\s+|classic\s+|textbook\s+)?"
            + _CONDITION
            + r"\b",
            r"\b(?:this|that|it|these|those)\s+(?:is|are)\s+(?:a\s+)?(?:clear\s+|classic\s+|"
            r"textbook\s+)?(?:signs?|symptoms?)\s+of\s+" + _CONDITION + r"\b",
            r"\bi\s+(?:would\s+|'d\s+|can\s+)?diagnose\s+you\b",
            r"\byou\s+meet\s+the\s+criteria\b",
            r"\byour\s+diagnosis\s+is\b",
        ),
        "I can't diagnose anything, but what you're describing sounds really hard, and it matters.",
    ),
    Rule(
        "RF-MD-01",
        "medical_directive",
        _rx(
            r"\b(?:you\s+should|you\s+need\s+to|you\s+must|you\s+have\s+to|you\s+could|"
            r"try|start|stop|quit|increase|decrease|double|halve|lower|raise|cut\s+back\s+on|"
            r"skip|come\s+off|get\s+off|switch)\b[^.?!\n]{0,30}\b" + _MEDICATION + r"\b",
            r"\b\d+(?:\.\d+)?\s?(?:mg|milligrams?|ml|mcg)\b",
            r"\bi(?:'d|\s+would)?\s+(?:prescribe|recommend\s+taking)\b",
            r"\btake\s+(?:an?\s+|some\s+|your\s+)?" + _MEDICATION + r"\b",
            r"\b(?:increase|decrease|double|halve|lower|raise|change|adjust|skip|stop|up)\s+"
            r"(?:your|the)\s+dos(?:e|age)\b",
        ),
        "Questions about medication or treatment are best taken to a doctor or pharmacist "
        "you trust.",
    ),
    Rule(
        "RF-LG-01",
        "legal_directive",
        _rx(
            r"\b(?:you\s+should|you\s+need\s+to|you\s+must|you\s+have\s+to|go\s+ahead\s+and|"
            r"i(?:'d|\s+would)\s+advise\s+you\s+to|i\s+advise\s+you\s+to)\b[^.?!\n]{0,30}\b"
            r"(?:sue|lawsuit|press\s+charges|file\s+(?:a\s+|for\s+)?(?:restraining\s+order|"
            r"police\s+report|divorce|custody|claim|complaint)|get\s+a\s+restraining\s+order|"
            r"take\s+(?:him|her|them)\s+to\s+court|break\s+(?:the|your)\s+(?:lease|contract)|"
            r"stop\s+paying|sign\s+(?:the|a)\s+(?:contract|agreement)|plead\s+\w+)\b",
            r"\blegally,?\s+you\s+(?:must|should|can|are\s+(?:entitled|required|allowed))\b",
            r"\b(?:under|according\s+to)\s+(?:the\s+)?law,?\s+you\s+(?:must|should|can)\b",
        ),
        "For legal questions, a qualified lawyer or a legal aid service can advise you.",
    ),
    Rule(
        "RF-CO-01",
        "coercion",
        _rx(
            r"\byou\s+(?:must|have\s+to|need\s+to|are\s+required\s+to|are\s+obligated\s+to)"
            r"\s+(?:immediately\s+|now\s+|right\s+now\s+)?(?:call|text|contact|reach\s+out|"
            r"tell\s+(?:someone|somebody|your|a|the)|talk\s+to\s+(?:someone|somebody|a|your|the)|"
            r"promise|agree|dial|phone|report|check\s+yourself|obey|listen\s+to\s+me|"
            r"go\s+to\s+(?:the\s+|a\s+)?(?:hospital|er|emergency|police|doctor|therapy)|"
            r"get\s+help|seek\s+help|see\s+(?:a|the)\s+(?:doctor|therapist|professional|"
            r"psychiatrist|counsel+or))\b",
            r"\byou\s+have\s+no\s+(?:other\s+)?choice\b",
            r"\bi\s+insist\b",
            r"\bif\s+you\s+don'?t\b[^.?!\n]{0,40}\bi\s*(?:will|'ll)\s+(?:have\s+to|need\s+to|"
            r"call|report|tell|stop|leave|end)\b",
            r"\b(?:do\s+it|call|text)\s+(?:right\s+)?now\s+or\b",
            r"\bthis\s+is\s+not\s+optional\b",
        ),
        "If it feels right for you, reaching out to someone you trust or to one of the crisis "
        "resources listed here is an option, and I'm still here with you.",
    ),
)

# One search tells whether a text needs the rule-by-rule checks at all (most replies do not).
ANY_SENTENCE_RULE_RX = re.compile(
    "|".join(f"(?:{p.pattern})" for rule in SENTENCE_RULES for p in rule.patterns), re.IGNORECASE
)
