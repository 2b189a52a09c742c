"""Contact rules of the response filter: phone numbers, web and e-mail addresses and hotline
names are let through only when the crisis-resource catalogue has them."""

from __future__ import annotations

import re

from conversations.catalogue import Catalogue

CONTACT_POINTER = (
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

CONTACT_CATEGORIES = {
    "RF-CT-01": "uncatalogued_phone",
    "RF-CT-02": "uncatalogued_url",
    "RF-CT-03": "uncatalogued_email",
    "RF-CT-04": "uncatalogued_hotline",
}
_CONTACT_HINTS = (_URL_RX, _EMAIL_RX, _PHONE_RX, _SHORT_CODE_RX, _HOTLINE_RX, _NAMED_LINE_RX)


def may_have_contacts(text: str) -> bool:
    return any(rx.search(text) for rx in _CONTACT_HINTS)


def contact_violations(text: str, catalogue: Catalogue) -> list[str]:
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
