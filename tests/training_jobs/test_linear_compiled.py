"""The compiled linear scorer (serving) gives scikit-learn's probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from training_jobs.ml import linear
from training_jobs.ml.artifact import ArtifactError
from training_jobs.ml.linear import MODEL_FILE, LinearTextModel, compile_tfidf

TEXTS = [
    "I want to end my life tonight",
    "this homework is killing me lol",
    "Estoy cansada de todo.",
    "Ich bin heute sehr müde.",
    "thanks ari, talk tomorrow",
    "I feel so alone since the move",
    "my phone died again",
    "I keep hurting myself when it gets bad",
]
LEVELS = ["high", "none", "low", "none", "none", "low", "none", "high"]
CATEGORY = ["suicidal_ideation", None, "crisis", None, None, "crisis", None, "self_harm"]


@pytest.fixture(scope="module")
def model():
    # "category" has three labels (softmax), "level" three; "binary" two (sigmoid); one label of
    # each head is never seen in training, so column mapping is exercised too.
    heads = {
        "level": ("none", "low", "medium", "high"),
        "category": ("suicidal_ideation", "self_harm", "harm_to_others", "crisis"),
        "binary": ("no", "yes"),
    }
    targets = {
        "level": LEVELS,
        "category": CATEGORY,
        "binary": ["yes" if level == "high" else "no" for level in LEVELS],
    }
    return LinearTextModel(heads, C=4.0).fit(TEXTS, targets)


def _assert_same(model, texts):
    fast, reference = model.predict_proba(texts), model.predict_proba_sklearn(texts)
    assert fast.keys() == reference.keys()
    for head in fast:
        assert fast[head].shape == reference[head].shape == (len(texts), len(model.heads[head]))
        np.testing.assert_allclose(fast[head], reference[head], atol=1e-6)


def test_compiled_scorer_matches_sklearn_on_seen_and_unseen_texts(model):
    _assert_same(model, [*TEXTS, "", "   ", "zzz qqq", "ÄÖÜ ñ ß 🙂", "killing " * 500])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=200), min_size=1, max_size=4))
def test_compiled_scorer_matches_sklearn_on_any_text(model, texts):
    _assert_same(model, texts)


def test_compiled_scorer_survives_a_save_and_load(model, tmp_path):
    model.save(tmp_path)
    loaded = LinearTextModel.load(tmp_path, {})
    np.testing.assert_allclose(
        loaded.predict_proba(TEXTS)["level"], model.predict_proba(TEXTS)["level"], atol=1e-12
    )


def test_an_artifact_without_fitted_features_is_a_clear_error(model, tmp_path):
    import joblib

    model.save(tmp_path)
    state = joblib.load(tmp_path / MODEL_FILE)
    state["features"] = None
    joblib.dump(state, tmp_path / MODEL_FILE)
    with pytest.raises(ArtifactError, match="not a usable linear model"):
        LinearTextModel.load(tmp_path, {})


def test_char_ngram_columns_are_remembered_per_word_within_a_bounded_cache(model, monkeypatch):
    monkeypatch.setattr(linear, "WORD_CACHE_SIZE", 5)
    char = model._compile()[0][1]
    assert char.per_word and not model._compile()[0][0].per_word
    text = "so tired,\tso TIRED of\n\neverything  so"
    _assert_same(model, [text, text])  # worked out, then from the cache
    assert 0 < len(char._word_columns) <= 5
    _assert_same(model, ["one two three four five six seven eight nine", text, "Tired so"])
    assert len(char._word_columns) <= 5


@pytest.mark.parametrize(
    "options",
    [
        {"analyzer": "char_wb", "ngram_range": (3, 5), "sublinear_tf": True},
        {"ngram_range": (1, 2), "sublinear_tf": True, "token_pattern": r"(?u)\b\w[\w']*\b"},
        {"analyzer": "char_wb", "ngram_range": (2, 3), "lowercase": False},
    ],
)
def test_a_compiled_vectorizer_gives_transform_s_rows(options):
    vectorizer = TfidfVectorizer(**options).fit(TEXTS)
    compiled = compile_tfidf(vectorizer)
    texts = [*TEXTS, "", "  \n ", "I I I want want", "Ünïcödé ÄÖÜ straße", "zzz"]
    for text in [*texts, *texts]:
        np.testing.assert_allclose(
            compiled.dense(text), vectorizer.transform([text]).toarray()[0], atol=1e-12
        )
