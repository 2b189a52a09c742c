"""Masking of personal details and pseudonymous user ids."""

import pytest
from django.test import override_settings

from ari_review.privacy.masking import mask_messages, mask_text, pseudonym


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


# --- names, places, addresses, ages, dates of birth, workplaces; four languages -----------


@pytest.mark.parametrize(
    ("text", "secrets", "placeholders"),
    [
        (
            "My cousin Bartholomew lives at 8 Juniper Lane, Norwich",
            ["Bartholomew", "Juniper", "Norwich"],
            ["[name]", "[address]"],
        ),
        ("I'm 52 and I was born on 9 June 1973", ["52", "9 June 1973"], ["[age]", "[date]"]),
        ("I work at Halfords and my boss hates me", ["Halfords"], ["[org]"]),
        (
            "Mi hermana Marta vive en Granada, en la calle Alcalá 40",
            ["Marta", "Granada", "Alcalá"],
            ["[name]", "[address]"],
        ),
        (
            "Tengo 41 años y nací el 2 de abril de 1984",
            ["41", "2 de abril de 1984"],
            ["[age]", "[date]"],
        ),
        (
            "Mein Bruder Felix wohnt in der Bahnhofstraße 7, 10115 Berlin",
            ["Felix", "Bahnhofstraße", "10115"],
            ["[name]", "[address]"],
        ),
        ("Ich bin 23 Jahre alt und arbeite bei Bosch", ["23", "Bosch"], ["[age]", "[org]"]),
        (
            "Ma sœur Émilie travaille chez Renault depuis 2019",
            ["Émilie", "Renault"],
            ["[name]", "[org]"],
        ),
        ("J'ai 19 ans et j'habite à Nantes", ["19", "Nantes"], ["[age]", "[place]"]),
    ],
)
def test_people_places_and_details_are_masked_in_four_languages(text, secrets, placeholders):
    masked = mask_text(text)
    for secret in secrets:
        assert secret not in masked, masked
    for placeholder in placeholders:
        assert placeholder in masked, masked


@pytest.mark.parametrize(
    "text",
    [
        "I feel like a nobody and Mother's Day makes it worse.",
        "May I ask something? I may be overreacting, I'm 5 minutes from home.",
        "Hace 3 años que estoy así, desde mayo.",
        "Vor 2 Jahren im Mai hatte ich keinen Ausweg mehr.",
        "Il y a 3 ans, en mars, tout a changé pour moi.",
    ],
)
def test_feelings_months_and_durations_are_not_masked(text):
    assert mask_text(text) == text


def test_a_masked_detail_is_never_left_half_readable():
    masked = mask_text("My friend Priya Sharma lives at 221 Baker Street in London")
    assert masked == "My friend [name] lives at [address] in [place]"


# --- when the NER layer is down -------------------------------------------------------------


@pytest.fixture
def ner_down(monkeypatch):
    from ari_review.privacy import ner

    def broken():
        raise OSError("model files unreadable")

    ner.ner_reset()
    monkeypatch.setattr(ner, "_build", broken)
    yield
    monkeypatch.undo()
    ner.ner_reset()


def test_without_ner_every_capitalised_word_is_masked_and_the_text_is_not_logged(ner_down, caplog):
    text = "Yesterday Sarah met Tomasz in Gdansk. She said my brother John was right."
    masked = mask_text(text)
    for secret in ("Sarah", "Tomasz", "Gdansk", "John"):
        assert secret not in masked
    assert masked.startswith("Yesterday ") and "She said my brother [name]" in masked
    assert mask_text("mail me at a@b.io, I'm 34") == "mail me at [email], I'm [age]"
    assert "OSError" in caplog.text and "Sarah" not in caplog.text


def test_a_failure_on_one_message_masks_that_message_conservatively(monkeypatch):
    from ari_review.privacy import ner

    analyzer = ner._get()

    def fail(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(analyzer, "analyze", fail)
    assert mask_text("Then Okonkwo called") == "Then [masked] called"
    monkeypatch.undo()
    assert mask_text("my brother Johnathan called") == "my brother [name] called"


def test_masking_is_the_same_from_many_threads():
    from concurrent.futures import ThreadPoolExecutor

    texts = [
        "my brother John lives in Leeds",
        "Mi hermano Javier vive en Sevilla",
        "Mon frère Julien habite à Lyon",
        "Mein Bruder Jonas wohnt in der Lindenstraße 12",
    ] * 8
    expected = [mask_text(t) for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(mask_text, texts)) == expected


# --- measured on the labelled set (docs/privacy-masking.md) ---------------------------------


def test_masking_meets_its_measured_floors_on_the_labelled_messages():
    from ari_review.bench.masking_eval import masking_evaluate, messages_load

    rows = messages_load()
    assert len(rows) == 100
    report = masking_evaluate(rows)
    by_type = report["by_type"]
    assert by_type["NAME"]["recall"] >= 0.95
    assert by_type["ADDRESS"]["recall"] >= 0.95
    assert report["overall"]["recall"] >= 0.95
    assert report["overall"]["precision"] >= 0.95


def test_the_benchmark_command_prints_a_table_and_writes_json(tmp_path, capsys):
    import json

    from django.core.management import call_command

    target = tmp_path / "pii.json"
    call_command("bench_pii_masking", output=str(target))
    out = capsys.readouterr().out
    assert "NAME" in out and "precision" in out and "latency per message" in out
    report = json.loads(target.read_text())
    assert report["messages"] == 100 and report["by_type"]["ADDRESS"]["gold"] == 11
