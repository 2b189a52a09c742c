"""The response filter: hard, rule-based, versioned lines every reply passes before a user sees it.

Each rule has a stable id; every time a rule changes what the user will read, the reply stores
a hit ``{"rule", "category", "action", "version"}``. Bump ``RULESET_VERSION`` whenever a rule,
its pattern or its replacement changes, so stored hits can be traced to the rules that made them.

How it works, in order:

1. The reply is split into sentences. A sentence that breaks a hard line (self-harm, violence
   or substance how-to, harm directives, diagnoses, medical or legal directives, coercion) or
   that names a phone number, hotline, e-mail address or URL outside the crisis-resource
   catalogue is replaced by a safe sentence written for that rule.
2. When the user expressed distress and the reply does not open by validating it, a validating
   sentence is put first. At medium and high risk, a safety check is added if missing.
3. A final guard re-checks the whole text (across sentence boundaries too); if anything still
   matches, the reply becomes a fixed safe text. So nothing a rule detects can ever survive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from urllib.parse import urlsplit

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

_CONTACT_POINTER = (
    "If you'd like to talk with someone right now, the crisis resources listed here are available."
)

# Contact detection.
_TLDS = (
    "com|org|net|gov|edu|mil|int|io|co|us|uk|ca|au|nz|ie|de|es|fr|it|nl|be|ch|at|se|no|dk|fi|"
    "pl|pt|br|mx|ar|in|jp|cn|ru|eu|info|biz|app|ai|me|ly|tv|cc|ws|xyz|online|site|website|"
    "store|shop|club|life|live|health|help|care|support|chat|link|page|blog|news|world|today|"
    "top|vip|pro|dev|tech|email|space|fun|one|global|social|services|center|foundation|ngo"
)
_URL_RX = re.compile(
    r"(?i)(?:\b(?:https?|ftp)://[^\s<>\"'\]\)]+|\bwww\.[^\s<>\"'\]\)]+|"
    r"(?<![@\w.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:" + _TLDS + r")\b"
    r"(?:/[^\s<>\"'\]\)]*)?)"
)
_EMAIL_RX = re.compile(r"(?i)[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Seven or more digits in one run (spaces, dots, dashes, parentheses between them).
_PHONE_RX = re.compile(r"(?<![\w])\+?\(?\d(?:[\s().\-/]{0,3}\d){6,}(?![\w])")
# Short codes (3-6 digits) where the text tells the reader to call/text/dial them.
_SHORT_CODE_RX = re.compile(
    r"(?i)\b(?:call|calling|text|texting|dial|dialing|dialling|phone|ring|sms|message|"
    r"reach|contact|hotline|helpline|line|number|whatsapp)\b[^.?!\n\d]{0,30}?"
    r"(?<![\w])(\d(?:[\s.\-]?\d){2,5})(?![\w])"
)
# "Lifeline" as a name (capitalised) is a resource; "a lifeline" in lower case is a metaphor.
_NAMED_LINE_RX = re.compile(r"\b(?:Lifeline|LIFELINE|Hopeline|HOPELINE)s?\b")
_HOTLINE_RX = re.compile(
    r"(?i)\b(?:hot\s?lines?|help\s?lines?|crisis\s+(?:text\s+)?lines?|"
    r"warm\s?lines?|text\s+lines?|samaritans|befrienders|crisis\s+cent(?:er|re)s?|"
    r"suicide\s+prevention\s+(?:lines?|services?|cent(?:er|re)s?)|"
    r"emergency\s+(?:number|line|services)|crisis\s+(?:number|service|team))\b"
)

# Validation and safety prompts.
_DISTRESS_RX = re.compile(
    r"(?i)\b(?:sad|sadness|depressed|hopeless|helpless|worthless|useless|anxious|anxiety|"
    r"panic\w*|scared|afraid|terrified|overwhelm\w*|stressed|stressful|exhausted|tired\s+of|"
    r"lonely|(?:so|all|feel|feeling|felt)\s+alone|isolated|hurting|hurts|it\s+hurt|pain|"
    r"painful|cry|crying|cried|tears|grief|griev\w*|(?:feel|feeling|felt)\s+(?:lost|empty|"
    r"numb|low|down|awful|terrible|horrible|broken|stuck|small)|so\s+down|empty|numb|awful|"
    r"terrible|horrible|miserable|broken|ashamed|shame|guilty|guilt|angry|furious|rage|"
    r"frustrated|upset|struggl\w*|can'?t\s+cope|cannot\s+cope|falling\s+apart|not\s+okay|"
    r"not\s+ok|heartbroken|devastated|failure|worried|worry|worrying|nervous|dread\w*|"
    r"burn(?:ed|t)\s*out|want\s+to\s+die|give\s+up|giving\s+up|no\s+point|can'?t\s+go\s+on|"
    r"suicid\w*|self[-\s]harm|rough\s+(?:day|week|time)|hard\s+time|bad\s+day|"
    r"not\s+good\s+enough|hate\s+myself|unlovable|too\s+much)\b"
)
_VALIDATION_RX = re.compile(
    r"(?i)(?:\b(?:that|this|it|which)\s+(?:sounds|seems|must\s+(?:be|feel)|feels|is\s+"
    r"(?:a\s+lot|so\s+hard|really\s+hard|hard|heavy|painful|tough|understandable))|"
    r"\bsounds\s+(?:like|really|so|incredibly|very)|\bi\s+(?:can\s+)?(?:hear|see|sense|"
    r"imagine)\b|\bi'?m\s+(?:so\s+|really\s+|truly\s+|very\s+)?(?:sorry|glad\s+you|"
    r"here\s+with\s+you|really\s+glad)|\bthank\s+you\s+for\s+(?:sharing|telling|trusting|"
    r"letting|being|reaching|saying|opening)|\b(?:it|that)\s+makes\s+(?:a\s+lot\s+of\s+|so\s+"
    r"much\s+|complete\s+|total\s+)?sense|\bmakes\s+(?:a\s+lot\s+of\s+|so\s+much\s+)?sense|"
    r"\bit'?s\s+(?:understandable|okay\s+to|ok\s+to|natural|human|completely\s+"
    r"understandable|no\s+wonder)|\bno\s+wonder\b|\bof\s+course\s+you|\byou'?re\s+not\s+alone|"
    r"\bthat'?s\s+(?:a\s+lot|so\s+hard|really\s+hard|hard|heavy|painful|tough|"
    r"understandable|completely\s+understandable)|\bwhat\s+a\s+(?:heavy|hard|painful|tough)|"
    r"\byou'?ve\s+been\s+carrying|\bthank\s+you\b|\bi'?m\s+(?:still\s+|right\s+)?here\b|\bhow\s+(?:hard|painful|"
    r"heavy|exhausting)|\byour\s+feelings\s+(?:are|make)|\bfeeling\s+\w+\s+makes\s+sense)"
)
_SAFETY_QUESTION_RX = re.compile(
    r"(?i)(?:\bsafe\b[^.!?\n]*\?|\bare\s+you\s+(?:thinking|having\s+thoughts)\s+(?:about|of)\s+"
    r"(?:ending|hurting|harming|suicide)[^.!?\n]*\?)"
)
# A sentence that names how something feels or weighs ("is an exhausting loop", "would make
# anyone angry", "lovely news") validates too, in words of its own.
_EMPATHIC_RX = re.compile(
    r"(?i)\b(?:hard(?:er|est)?|heavy|painful|hurt(?:s|ing)?|ache|aching|sore|raw|tender|"
    r"exhausting|draining|tiring|wearing|frightening|scary|frustrating|discouraging|"
    r"upsetting|unsettling|overwhelming|lonely|loneliness|sadness|grief|brave|courage|"
    r"lovely|wonderful|glad|relief|relieved|proud|sad|upset|angry|anger|furious|scared|"
    r"afraid|fear|frightened|nervous|nerves|worry|worried|anxious|panicky|horrible|terrible|"
    r"awful|embarrass\w*|ashamed|shame|guilt|guilty|hopeless|helpless|left\s+out|excit\w*|"
    r"happy|chuffed|understandable|harsh|(?:completely|totally|perfectly)\s+okay|"
    r"makes?\s+(?:\w+\s+)?sense|(?:would|could|can)\s+(?:\w+\s+)?"
    r"(?:anyone|anybody)|(?:is|are|be)\s+allowed|okay\s+to\s+feel|a\s+lot\s+to\s+carry)\b"
)
_GREETING_RX = re.compile(
    r"(?i)^\W*(?:hi|hello|hey|welcome|good\s+(?:morning|afternoon|evening))\b[\w\s,']{0,24}"
    r"[.!]?\s*$"
)
VALIDATION_SENTENCE = "That sounds really hard, and it makes sense that you feel this way."
SAFE_FALLBACK = "I hear you, and I'm here with you. Would you like to tell me a little more?"
SAFE_FALLBACK_WITH_CHECK = (
    "I hear you, and I'm here with you. I want to gently check in: are you safe right now?"
)
_SENTENCE_SPLIT_RX = re.compile(r"((?<=[.!?…])[\"')\]]*\s+|\n+)")


@dataclass(frozen=True)
class Catalogue:
    """What the filter may let through: the crisis-resource catalogue's contacts."""

    phones: frozenset[str] = frozenset()  # digit strings: "988", "741741"
    urls: tuple[tuple[str, str], ...] = ()  # (host without www., path prefix)
    names: tuple[str, ...] = ()  # resource names, lower case

    @classmethod
    def from_resources(cls, resources: Iterable) -> Catalogue:
        phones: set[str] = set()
        urls: set[tuple[str, str]] = set()
        names: set[str] = set()
        for resource in resources:
            for value in (resource.phone, resource.sms, resource.contact):
                for match in re.finditer(r"\d(?:[\s.\-]?\d)*", value or ""):
                    digits = _digits(match.group(0))
                    if len(digits) >= 3:
                        phones.add(digits)
            for value in (resource.url, resource.source_url):
                if value:
                    urls.add(_url_key(value))
            if resource.name:
                names.add(resource.name.lower())
        return cls(frozenset(phones), tuple(sorted(urls)), tuple(sorted(names, key=len)[::-1]))

    def allows_phone(self, text: str) -> bool:
        return _digits(text) in self.phones

    @cached_property
    def names_rx(self) -> re.Pattern | None:
        if not self.names:
            return None
        return re.compile("|".join(re.escape(n) for n in self.names), re.IGNORECASE)

    def without_names(self, text: str) -> str:
        return self.names_rx.sub(" ", text) if self.names_rx is not None else text

    def allows_url(self, text: str) -> bool:
        host, path = _url_key(text)
        return any(host == h and path.startswith(p) for h, p in self.urls)


@dataclass(frozen=True)
class FilterHit:
    rule: str
    category: str
    action: str  # replaced | added | truncated | fallback
    version: str = RULESET_VERSION

    def as_dict(self) -> dict:
        return {
            "rule": self.rule,
            "category": self.category,
            "action": self.action,
            "version": self.version,
        }


@dataclass(frozen=True)
class FilterResult:
    text: str
    hits: tuple[FilterHit, ...] = ()
    version: str = RULESET_VERSION
    # True when a replaced sentence points the user at the crisis resources.
    needs_resources: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.hits)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _url_key(url: str) -> tuple[str, str]:
    raw = url.strip().rstrip(".,;:!?")
    if not re.match(r"(?i)^[a-z][a-z0-9+.-]*://", raw):
        raw = "http://" + raw
    parts = urlsplit(raw)
    host = (parts.hostname or "").lower()
    host = host[4:] if host.startswith("www.") else host
    return host, (parts.path or "/").rstrip("/") or "/"


def user_expresses_distress(text: str) -> bool:
    return bool(_DISTRESS_RX.search(text or ""))


def text_validates(text: str) -> bool:
    return bool(_VALIDATION_RX.search(text or "") or _EMPATHIC_RX.search(text or ""))


def opening_validates(text: str) -> bool:
    """Does the reply open by validating: its first sentence, or the one after a short
    greeting ("Hi, welcome.")?"""
    sentences = [s for s in _split_sentences(text)[0::2] if s.strip()]
    if not sentences:
        return False
    if text_validates(sentences[0]):
        return True
    return (
        bool(_GREETING_RX.match(sentences[0]))
        and len(sentences) > 1
        and text_validates(sentences[1])
    )


def text_has_safety_question(text: str) -> bool:
    return bool(_SAFETY_QUESTION_RX.search(text or ""))


def _contact_violations(text: str, catalogue: Catalogue) -> list[str]:
    """Rule ids of contact rules ``text`` breaks (URLs, e-mails, numbers, hotline names)."""
    found: list[str] = []
    masked = text
    for match in _URL_RX.finditer(text):
        if not catalogue.allows_url(match.group(0)):
            found.append("RF-CT-02")
        masked = masked.replace(match.group(0), " ")
    if _EMAIL_RX.search(text):
        found.append("RF-CT-03")
    masked = _EMAIL_RX.sub(" ", masked)
    for match in _PHONE_RX.finditer(masked):
        if not catalogue.allows_phone(match.group(0)):
            found.append("RF-CT-01")
    for match in _SHORT_CODE_RX.finditer(masked):
        if not catalogue.allows_phone(match.group(1)):
            found.append("RF-CT-01")
    unnamed = catalogue.without_names(masked)
    if _HOTLINE_RX.search(unnamed) or _NAMED_LINE_RX.search(unnamed):
        found.append("RF-CT-04")
    return sorted(set(found))


# One search tells whether a text needs the rule-by-rule checks at all (most replies do not).
_ANY_SENTENCE_RULE_RX = re.compile(
    "|".join(f"(?:{p.pattern})" for rule in SENTENCE_RULES for p in rule.patterns), re.IGNORECASE
)
_CONTACT_HINTS = (_URL_RX, _EMAIL_RX, _PHONE_RX, _SHORT_CODE_RX, _HOTLINE_RX, _NAMED_LINE_RX)


def _may_have_contacts(text: str) -> bool:
    return any(rx.search(text) for rx in _CONTACT_HINTS)


_CONTACT_CATEGORIES = {
    "RF-CT-01": "uncatalogued_phone",
    "RF-CT-02": "uncatalogued_url",
    "RF-CT-03": "uncatalogued_email",
    "RF-CT-04": "uncatalogued_hotline",
}


def violations(text: str, catalogue: Catalogue) -> list[str]:
    """Every rule id ``text`` breaks, checked over the whole text (used by the final guard)."""
    found = []
    if _ANY_SENTENCE_RULE_RX.search(text):
        found = [rule.id for rule in SENTENCE_RULES if rule.matches(text)]
    if _may_have_contacts(text):
        found.extend(_contact_violations(text, catalogue))
    return found


def _split_sentences(text: str) -> list[str]:
    """Sentences and the whitespace between them, alternating: [s0, sep0, s1, sep1, s2...]."""
    return _SENTENCE_SPLIT_RX.split(text)


def response_filter_apply(
    *,
    text: str,
    catalogue: Catalogue,
    risk_level: str = "none",
    user_text: str = "",
    safety_prompt_text: str = "",
) -> FilterResult:
    """Return the text a user may read, and the rule hits that changed it.

    The user's words matter only through whether they express distress, so the result is a
    function of (reply, catalogue, risk level, distress, safety prompt) and is remembered for
    the last ``FILTER_CACHE_SIZE`` such inputs: approved and fixed replies repeat, and a
    repeated reply is filtered once. Results are immutable.
    """
    distressed = risk_level in ("low", "medium", "high") or user_expresses_distress(user_text)
    return _filter(text or "", catalogue, risk_level, distressed, safety_prompt_text or "")


FILTER_CACHE_SIZE = 4096


@lru_cache(maxsize=FILTER_CACHE_SIZE)
def _filter(
    text: str, catalogue: Catalogue, risk_level: str, distressed: bool, safety_prompt_text: str
) -> FilterResult:
    hits: list[FilterHit] = []
    needs_resources = False
    text = (text or "").strip()

    if len(text) > MAX_REPLY_CHARS:
        cut = text[:MAX_REPLY_CHARS]
        end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
        text = cut[: end + 1] if end > 0 else cut
        hits.append(FilterHit("RF-LEN-01", "too_long", "truncated"))

    check_rules = bool(_ANY_SENTENCE_RULE_RX.search(text))
    check_contacts = _may_have_contacts(text)
    parts = _split_sentences(text)
    sentences, separators = parts[0::2], [*parts[1::2], ""]
    kept: list[tuple[str, str]] = []
    for sentence, separator in zip(sentences, separators, strict=True):
        if not sentence.strip():
            continue
        replacement = None
        if check_rules:
            for rule in SENTENCE_RULES:
                if rule.matches(sentence):
                    hits.append(FilterHit(rule.id, rule.category, "replaced"))
                    replacement = replacement or rule.replacement
        contact_rules = _contact_violations(sentence, catalogue) if check_contacts else []
        for rule_id in contact_rules:
            hits.append(FilterHit(rule_id, _CONTACT_CATEGORIES[rule_id], "replaced"))
        if contact_rules and replacement is None:
            replacement = _CONTACT_POINTER
        if contact_rules:
            needs_resources = True
        if replacement is not None and kept and kept[-1][0] == replacement:
            continue  # one safe sentence is enough for several replaced in a row
        kept.append((replacement or sentence, separator or " "))
    text = "".join(sentence + separator for sentence, separator in kept).strip()

    if distressed and text and not opening_validates(text):
        text = f"{VALIDATION_SENTENCE} {text}"
        hits.append(FilterHit("RF-VAL-01", "validation_first", "added"))
    if risk_level in ("medium", "high") and not text_has_safety_question(text):
        prompt = (safety_prompt_text or "").strip() or SAFE_FALLBACK_WITH_CHECK
        text = f"{text} {prompt}".strip()
        hits.append(FilterHit("RF-SAFE-01", "safety_prompt", "added"))

    if not text or violations(text, catalogue):
        needs_check = risk_level in ("medium", "high")
        text = SAFE_FALLBACK_WITH_CHECK if needs_check else SAFE_FALLBACK
        hits.append(FilterHit("RF-GUARD-01", "guard", "fallback"))

    return FilterResult(
        text=text,
        hits=tuple(hits),
        needs_resources=needs_resources,
    )
