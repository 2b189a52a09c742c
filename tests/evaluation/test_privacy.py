"""Masking of personal details and pseudonymous user ids."""

import pytest
from django.test import override_settings

from evaluation.privacy import mask_messages, mask_text, pseudonym


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to jane.doe+work@example.co.uk please", "write to [email] please"),
        ("my site is https://example.com/me?x=1 ok", "my site is [url] ok"),
        ("see www.example.org for it", "see [url] for it"),
        ("look at example.com/path", "look at [url]"),
        ("call me on +1 (555) 123-4567 tonight", "call me on [phone] tonight"),
        ("my number is 0176 12345678", "my number is [phone]"),
        ("Hi, my name is Sarah Connor and I'm tired", "Hi, my name is [name] and I'm tired"),
        ("my name's tom", "my name's [name]"),
        ("I'm called Priya.", "I'm called [name]."),
        ("People call me Bo at work", "People call me [name] at work"),
    ],
)
def test_personal_details_are_masked(text, expected):
    assert mask_text(text) == expected


def test_catalogue_numbers_and_plain_text_survive():
    text = "You can call or text 988, or text HOME to 741741. I slept 8 hours on 3 days."
    assert mask_text(text) == text


def test_mask_messages_masks_only_content():
    messages = [{"role": "user", "content": "mail me at a@b.io"}]
    assert mask_messages(messages) == [{"role": "user", "content": "mail me at [email]"}]
    assert messages[0]["content"] == "mail me at a@b.io"  # input not modified


def test_pseudonym_is_stable_short_and_keyed():
    first = pseudonym(42)
    assert first == pseudonym(42)
    assert first.startswith("u-") and len(first) == 12
    assert pseudonym(43) != first
    assert "42" not in first[2:] or pseudonym(42) == first
    with override_settings(SECRET_KEY="another-secret-key-" + "y" * 40):
        assert pseudonym(42) != first
