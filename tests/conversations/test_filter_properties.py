"""Property tests: whatever a generator writes, nothing unsafe and no invented phone number,
hotline or URL reaches the user.

Replies are composed from safe coaching sentences, unsafe snippets (directives and labels; no
method detail), invented phone numbers, short codes, e-mail addresses and URLs, in any order.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.services.filter.apply import response_filter_apply, violations
from tests.conversations.helpers import shipped_catalogue

CATALOGUE = shipped_catalogue()

SAFE = [
    "That sounds really heavy to carry.",
    "It makes sense that you feel this way.",
    "What do you notice in your body right now?",
    "Are you ready to look at this together?",
    "Let's take three slow breaths together.",
    "Cut yourself some slack today.",
    "Try not to punish yourself for this.",
    "You don't have to figure it all out today.",
    "What would you say to a friend in the same place?",
    "You can call or text 988 any time.",
    "Text HOME to 741741 if you'd like to talk to someone.",
]
DIRECTIVES = ["you should", "you could", "just", "maybe", "why not", "go ahead and", "try to"]
SELF_HARM = ["hurt yourself", "harm yourself", "punish yourself", "kill yourself"]
OTHERS_HARM = ["hurt him", "hurt them", "attack her", "hit your boss", "kill someone"]
SUBSTANCE = ["get drunk", "get high", "use drugs", "take some xanax"]
LABELS = [
    "you have depression",
    "you have bipolar disorder",
    "you're clearly depressed",
    "it sounds like you have PTSD",
    "you are suffering from an anxiety disorder",
    "you're a narcissist",
]
MEDICAL = [
    "you should stop taking your medication",
    "increase your dose",
    "take 20mg tonight",
    "you need to quit your antidepressants",
]
LEGAL = ["you should sue your employer", "legally, you must report it", "you need to press charges"]
COERCION = [
    "you must call them right now",
    "you have no choice",
    "I insist",
    "you have to go to the hospital",
]
HOTLINES = ["the Samaritans", "a suicide hotline", "the Hopeline", "your local helpline"]
TLDS = ["com", "org", "net", "io", "info", "app", "help", "co", "us", "health"]
SEPARATORS = ["-", " ", ".", ""]


@st.composite
def unsafe_snippet(draw):
    kind = draw(st.sampled_from(["self", "others", "substance", "label", "med", "legal", "coerce"]))
    if kind in ("self", "others", "substance"):
        pool = {"self": SELF_HARM, "others": OTHERS_HARM, "substance": SUBSTANCE}[kind]
        return f"{draw(st.sampled_from(DIRECTIVES))} {draw(st.sampled_from(pool))}"
    pool = {"label": LABELS, "med": MEDICAL, "legal": LEGAL, "coerce": COERCION}[kind]
    return draw(st.sampled_from(pool))


@st.composite
def phone_number(draw):
    groups = draw(st.lists(st.integers(min_value=1, max_value=4), min_size=2, max_size=4))
    digits = [draw(st.text("0123456789", min_size=n, max_size=n)) for n in groups]
    total = "".join(digits)
    if len(total) < 7:
        digits.append(draw(st.text("0123456789", min_size=7 - len(total), max_size=7)))
    separator = draw(st.sampled_from(SEPARATORS))
    number = separator.join(digits)
    if draw(st.booleans()):
        number = "+" + number
    return number


@st.composite
def short_code(draw):
    code = draw(
        st.text("0123456789", min_size=3, max_size=6).filter(lambda c: c not in ("988", "741741"))
    )
    template = draw(
        st.sampled_from(["call {}", "text HOME to {}", "dial {}", "phone {}", "reach them at {}"])
    )
    return code, template.format(code)


@st.composite
def url(draw):
    labels = draw(
        st.lists(st.from_regex(r"[a-z][a-z0-9]{1,10}", fullmatch=True), min_size=1, max_size=2)
    )
    host = ".".join([*labels, draw(st.sampled_from(TLDS))])
    scheme = draw(st.sampled_from(["https://", "http://", "www.", ""]))
    path = draw(st.sampled_from(["", "/", "/help", "/a/b?c=1"]))
    return host, f"{scheme}{host}{path}"


@st.composite
def reply_with_injections(draw):
    parts: list[str] = []
    injected = {"snippets": [], "phones": [], "codes": [], "hosts": [], "emails": []}
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        kind = draw(st.sampled_from(["safe", "unsafe", "phone", "code", "url", "email", "hotline"]))
        if kind == "safe":
            parts.append(draw(st.sampled_from(SAFE)))
        elif kind == "unsafe":
            snippet = draw(unsafe_snippet())
            injected["snippets"].append(snippet)
            parts.append(snippet[0].upper() + snippet[1:] + ".")
        elif kind == "phone":
            number = draw(phone_number())
            injected["phones"].append(re.sub(r"\D", "", number))
            parts.append(f"You can call {number} for support.")
        elif kind == "code":
            code, phrase = draw(short_code())
            injected["codes"].append(code)
            parts.append(f"If it helps, {phrase}.")
        elif kind == "url":
            host, address = draw(url())
            injected["hosts"].append(host)
            parts.append(f"Have a look at {address} for ideas.")
        elif kind == "email":
            host, _ = draw(url())
            address = f"care@{host}"
            injected["emails"].append(address)
            parts.append(f"Write to {address}.")
        else:
            parts.append(f"You could reach out to {draw(st.sampled_from(HOTLINES))}.")
    separator = draw(st.sampled_from([" ", "\n", "  "]))
    return separator.join(parts), injected


RISKS = st.sampled_from(["none", "low", "medium", "high"])
USER_TEXTS = st.sampled_from(["", "I feel hopeless", "I had a nice walk", "I'm so anxious"])
PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(case=reply_with_injections(), risk=RISKS, user_text=USER_TEXTS)
def test_no_rule_violation_ever_survives(case, risk, user_text):
    text, _ = case
    result = response_filter_apply(
        text=text, catalogue=CATALOGUE, risk_level=risk, user_text=user_text
    )
    assert violations(result.text, CATALOGUE) == []
    assert result.text.strip()


@PROPERTY_SETTINGS
@given(case=reply_with_injections(), risk=RISKS)
def test_injected_unsafe_text_and_invented_contacts_are_gone(case, risk):
    text, injected = case
    out = response_filter_apply(text=text, catalogue=CATALOGUE, risk_level=risk).text
    lowered = out.lower()
    for snippet in injected["snippets"]:
        assert snippet.lower() not in lowered
    out_digits = re.sub(r"\D", "", out)
    for digits in injected["phones"]:
        assert digits not in out_digits
    for code in injected["codes"]:
        assert not re.search(rf"(?<!\d){code}(?!\d)", out)
    for host in injected["hosts"]:
        assert host not in lowered
    for address in injected["emails"]:
        assert address not in lowered
    assert "@" not in out


@PROPERTY_SETTINGS
@given(case=reply_with_injections())
def test_filtering_twice_changes_nothing_more(case):
    text, _ = case
    once = response_filter_apply(text=text, catalogue=CATALOGUE).text
    twice = response_filter_apply(text=once, catalogue=CATALOGUE)
    assert twice.text == once
    assert twice.hits == ()


@PROPERTY_SETTINGS
@given(
    sentences=st.lists(st.sampled_from(SAFE), min_size=1, max_size=5),
    separator=st.sampled_from([" ", "\n"]),
)
def test_safe_coaching_text_passes_unchanged(sentences, separator):
    text = separator.join(sentences)
    result = response_filter_apply(text=text, catalogue=CATALOGUE)
    assert result.text == text
    assert result.hits == ()


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=400))
def test_any_text_at_all_comes_out_clean(text):
    result = response_filter_apply(text=text, catalogue=CATALOGUE, risk_level="medium")
    assert violations(result.text, CATALOGUE) == []
    assert result.text.strip()
