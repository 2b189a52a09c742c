"""The feeling in a user's message: mapping, cues, the served path, and training end to end.

The model tests train on a stratified subsample of the shipped GoEmotions copy (a few dozen
rows per label), so they run without ../shared/data; the full model's figures come from
``python manage.py train_emotions`` (docs/emotions.md).
"""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.metrics import f1_score

from conversations.understanding.emotions import (
    Feeling,
    clear_emotion_model_cache,
    decide_names,
    feeling_of,
    load_emotion_model,
    served_model,
)
from conversations.understanding.lexicon import (
    cue_hits,
    feelings_config,
    keyword_hits,
    ranked_feelings,
)
from training_jobs.ml.emotions import (
    GOEMOTIONS_DIR,
    EmotionTrainSettings,
    coaching_gold,
    read_labels,
    train_emotion_models,
)

EXAMPLES = yaml.safe_load(
    (Path(__file__).with_name("emotion_examples.yaml")).read_text(encoding="utf-8")
)
# Rows per label of the training subsample (dev and test: a quarter).
SUBSAMPLE = {"train": 60, "dev": 15, "test": 15}


@pytest.fixture(autouse=True)
def _no_artifact(settings, tmp_path):
    """Each test starts with an empty artifact directory and no loaded model."""
    settings.MODEL_ARTIFACT_DIR = tmp_path / "models"
    clear_emotion_model_cache()
    yield
    clear_emotion_model_cache()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One small model, trained end to end on a subsample (shared by the model tests)."""
    root = tmp_path_factory.mktemp("emotion_models") / "emotions"
    result = train_emotion_models(
        out_root=root,
        train_settings=EmotionTrainSettings(per_label=SUBSAMPLE, embedding_C=(2.0,)),
        log=lambda line: None,
    )
    return result


@pytest.fixture
def served(settings, trained):
    """The subsample model installed as the newest artifact."""
    settings.MODEL_ARTIFACT_DIR = trained.artifact.parent.parent
    clear_emotion_model_cache()
    return trained


# --- the mapping -----------------------------------------------------------------------------


def test_mapping_covers_all_28_goemotions_labels():
    config = feelings_config()
    labels = read_labels(GOEMOTIONS_DIR)
    assert len(labels) == 28
    assert set(config.goemotions) == set(labels)
    assert set(config.goemotions.values()) <= set(config.feelings)
    assert config.goemotions["grief"] == "grieving"
    assert config.goemotions["remorse"] == "guilty"
    assert config.goemotions["embarrassment"] == "ashamed"
    assert config.goemotions["neutral"] == "mixed"


def test_gold_feeling_of_a_goemotions_row():
    labels = read_labels(GOEMOTIONS_DIR)
    mapping = feelings_config().goemotions

    def row(*names):
        out = np.zeros(len(labels), dtype=np.int8)
        out[[labels.index(n) for n in names]] = 1
        return out

    rows = np.array(
        [
            row("sadness", "neutral"),
            row("grief", "sadness"),
            row("remorse", "sadness"),
            row("anger", "sadness"),
            row("anger", "fear", "sadness"),
            row("joy"),
            row("nervousness", "fear"),
        ]
    )
    assert coaching_gold(rows, labels, mapping) == [
        "sad",
        "grieving",
        "guilty",
        "angry",
        "mixed",
        "mixed",
        "anxious",
    ]


def test_coaching_set_is_the_documented_one():
    assert feelings_config().feelings == (
        "sad",
        "lonely",
        "anxious",
        "ashamed",
        "angry",
        "guilty",
        "hopeless",
        "grieving",
        "overwhelmed",
        "numb",
        "hopeful",
        "relieved",
        "mixed",
    )


# --- cues --------------------------------------------------------------------------------------

CUE_CASES = [
    ("I feel so guilty for shouting at him", "guilty"),
    ("I'm so relieved it's over", "relieved"),
    ("honestly I'm a bit nervous", "anxious"),
    ("I've been feeling really down", "sad"),
    ("I feel so alone since I moved here", "lonely"),
    ("honestly I have no one to talk to", "lonely"),
    ("im so lonely", "lonely"),
    ("I've never felt so alone in my life", "lonely"),
    ("nothing will change, it never does", "hopeless"),
    ("It’s all pointless", "hopeless"),
    ("what's the point anymore", "hopeless"),
    ("it's all too much right now", "overwhelmed"),
    ("I'm drowning in deadlines", "overwhelmed"),
    ("I can't keep up with any of it", "overwhelmed"),
    ("i feel numb", "numb"),
    ("I feel empty", "numb"),
    ("I feel nothing at all these days", "numb"),
    ("My mum passed away in May", "grieving"),
    ("I confided in my nana and now she is gone.", "grieving"),
]


@pytest.mark.parametrize(("text", "feeling"), CUE_CASES)
def test_cues_raise_the_feelings_goemotions_lacks(text, feeling):
    assert feeling in {hit.feeling for hit in cue_hits(text)}


NEGATED = [
    "I'm not angry with you",
    "I don't feel guilty about it",
    "I'm not alone, my sister is here",
    "I don't feel lonely anymore",
    "I'm not lonely at all",
    "I'm no longer feeling isolated",
    "I'm not overwhelmed, just a bit tired",
    "I don't feel numb today",
    "I haven't given up",
    "it's not pointless",
    "I'm not hopeless about it",
]


@pytest.mark.parametrize("text", NEGATED)
def test_negated_cues_do_not_fire(text):
    assert cue_hits(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "I ate too much cake",
        "my phone died",
        "my dad passed his driving test",
        "leave me alone",
        "I'm down for it",
        "the film was sad",
        "my dad rang, now he's gone out for the evening",
    ],
)
def test_everyday_uses_of_cue_words_do_not_fire(text):
    assert cue_hits(text) == []


def test_negation_in_another_clause_does_not_cancel_a_cue():
    assert {h.feeling for h in cue_hits("I'm not sad, but I feel so alone")} == {"lonely"}


# --- without an artifact -------------------------------------------------------------------


def test_without_artifact_cues_and_keywords_decide_and_say_so():
    assert served_model() is None
    lonely = feeling_of("I feel so alone since the move")
    assert (lonely.name, lonely.source) == ("lonely", "fallback-lexicon")
    assert lonely.cues == ("lonely.alone",)
    named = feeling_of("I'm really nervous about the interview")
    assert (named.name, named.source) == ("anxious", "fallback-lexicon")
    anxious = feeling_of("so much anxiety about the interview")
    assert (anxious.name, anxious.source) == ("anxious", "fallback-keywords")
    nothing = feeling_of("I had pasta for lunch")
    assert (nothing.name, nothing.source) == ("mixed", "fallback-none")


def test_without_artifact_a_cue_beats_a_keyword():
    feeling = feeling_of("I regret so much, and since my wife died I feel so alone")
    assert (feeling.name, feeling.runner_up) == ("lonely", "grieving")
    assert feeling.source == "fallback-lexicon"


def test_without_artifact_negated_keyword_is_not_the_feeling():
    assert keyword_hits("I'm not angry") == []
    assert feeling_of("I'm not angry").name == "mixed"


def test_several_cues_give_a_runner_up():
    feeling = feeling_of("I feel so alone and nothing will ever change")
    assert feeling.name == "hopeless"
    assert feeling.runner_up == "lonely"


def test_a_mixed_message_takes_the_feeling_of_an_earlier_turn():
    feeling = feeling_of("Yes, okay.", history=["I feel so alone since I moved abroad", "hi"])
    assert feeling.name == "lonely"
    assert feeling.from_history
    assert feeling.score < feeling_of("I feel so alone since I moved abroad").score


@pytest.mark.parametrize(
    "text",
    [
        "I did it. My shoulders feel looser.",
        "Done. I noticed my breathing slow down a bit.",
        "Thanks, I feel a bit better.",
        "Thank you, that helped.",
    ],
)
def test_easing_after_a_sad_story_is_relief_not_the_storys_feeling(text):
    feeling = feeling_of(text, history=["My dog died last week and I can't stop crying."])
    assert feeling.name == "relieved"
    assert not feeling.from_history


def test_easing_denied_is_not_relief():
    assert feeling_of("Honestly it doesn't feel better at all.").name != "relieved"


@pytest.mark.parametrize(
    "text",
    ["I just want to feel a bit lighter.", "I'd like to be calmer.", "I'm trying to feel better."],
)
def test_easing_wished_for_is_not_relief(text):
    assert "relieved" not in {hit.feeling for hit in cue_hits(text)}


# --- training end to end -----------------------------------------------------------------------


def test_training_on_a_subsample_reports_computed_figures(trained):
    report, predictions = trained.report, trained.predictions
    assert report["data"]["rows"]["train"] >= 28 * 10
    backends = [row["backend"] for row in report["rows"]]
    assert backends[:2] == ["tfidf-lr", "minilm-lr"]
    targets = predictions["test_targets"]
    supported = np.flatnonzero(targets.sum(axis=0) > 0)
    gold_feelings = predictions["test_gold_feelings"]
    for row in report["rows"]:
        decided = predictions["rows"][row["backend"]]
        # 28-label macro F1 recomputed independently (scikit-learn), labels with test rows.
        expected_28 = f1_score(
            targets[:, supported],
            decided["label_predictions"][:, supported],
            average="macro",
            zero_division=0,
        )
        assert row["label_macro_f1"]["test"] == pytest.approx(expected_28, abs=1e-4)
        present = sorted(set(gold_feelings))
        expected_coaching = f1_score(
            gold_feelings, decided["decided"], labels=present, average="macro", zero_division=0
        )
        assert row["coaching_macro_f1"]["test"] == pytest.approx(expected_coaching, abs=1e-4)
        # Better than a constant guess on both measures (the model learned something).
        assert row["label_macro_f1"]["test"] > 0.1
        assert row["coaching_macro_f1"]["test"] > 1.0 / len(present)


def test_training_writes_a_loadable_artifact(trained):
    model = load_emotion_model(trained.artifact)
    assert model.version == trained.report["version"]
    assert len(model.labels) == 28
    assert set(model.mapping) == set(model.labels)
    assert model.embedding_weights.shape == (384, 28)
    assert (trained.artifact / "manifest.json").is_file()


# --- the served path ---------------------------------------------------------------------------


def test_served_path_names_the_feeling_of_clear_messages(served):
    hits, misses = 0, []
    total = 0
    sources = Counter()
    for feeling, texts in EXAMPLES.items():
        for text in texts:
            result = feeling_of(text)
            assert isinstance(result, Feeling)
            assert result.model_version == served.report["version"]
            assert result.source in {"lexicon", "model", "none"}
            assert 0.0 <= result.score <= 1.0
            total += 1
            sources[result.source] += 1
            if result.name == feeling:
                hits += 1
            else:
                misses.append((feeling, result.name))
    assert hits / total >= 0.8, f"hit rate {hits}/{total}; misses (expected, got): {misses}"
    assert sources["model"] >= 5  # the model decides the messages without a cue


def test_training_measures_the_decision_that_serves(served):
    """The figures of train_emotions describe feeling_of: the vectorised decision used for
    tuning and measuring names the same feeling as the served path, message by message."""
    model = served_model()
    config = feelings_config()
    texts = [text for texts in EXAMPLES.values() for text in texts]
    cue_feelings = []
    for text in texts:
        ranked = ranked_feelings(cue_hits(text), config.priority)
        cue_feelings.append(ranked[0] if ranked else None)
    measured = decide_names(model.scores(texts), model.thresholds, model.feelings, cue_feelings)
    assert measured == [feeling_of(text).name for text in texts]


def test_served_path_reuses_the_vector_the_safety_screen_encoded(served):
    """The safety screen encodes the cleaned message; the emotion model asks the same encoder
    for the same string, so it finds the vector in the cache instead of encoding again."""
    from training_jobs.ml.encoder import get_encoder
    from training_jobs.ml.text import segments

    assert served_model().uses_encoder
    text = "  I’m   so worried   about my mum's operation tomorrow  "
    encoder = get_encoder()
    encoder.encode(segments(text))  # what the hybrid safety screen encodes for this message
    cached = len(encoder._cache)
    feeling_of(text)
    assert len(encoder._cache) == cached


def test_served_model_is_loaded_once_across_threads(served):
    seen, barrier = [], threading.Barrier(6)

    def load():
        barrier.wait()
        seen.append(served_model())

    threads = [threading.Thread(target=load) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 6 and seen[0] is not None
    assert all(model is seen[0] for model in seen)


def test_a_damaged_newest_artifact_is_skipped(served, settings):
    good = served.artifact
    broken = good.parent / (good.name + "-z-broken")
    shutil.copytree(good, broken)
    try:
        (broken / "heads.npz").write_bytes(b"not an npz")
        clear_emotion_model_cache()
        assert served_model().version == good.name
        assert feeling_of("I'm so nervous about tomorrow").model_version == good.name
    finally:
        shutil.rmtree(broken)
