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

Rooms: ``rules`` (the sentence rules, read from ``conversations/content/filter_rules.yaml``),
``contacts`` (numbers, addresses and hotlines outside the catalogue, ``conversations.catalogue``),
``cues`` (distress, validation, safety question), ``apply`` (one reply through all of it).
"""

from conversations.services.filter.apply import response_filter_apply
from conversations.services.filter.cues import text_has_safety_question

# The chat turn (conversations/services/turn/) and the composed backend import these two from
# here; everything else imports the room it needs.
__all__ = ["response_filter_apply", "text_has_safety_question"]
