"""Fixtures of the training app tests: a tiny dataset, trained models, admin clients."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from conversations.backends.classifiers import clear_cache
from tests.training_jobs.fixtures import activate_trained_models, trained_models  # noqa: F401
from training_jobs.ml.data import DatasetPaths, read_jsonl, read_rows


@pytest.fixture(autouse=True)
def _artifact_dir(settings, tmp_path):
    """Every test writes model artifacts to its own directory, with a cold classifier cache."""
    settings.MODEL_ARTIFACT_DIR = tmp_path / "models"
    clear_cache()
    yield
    clear_cache()


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def tiny_rows(kind: str, split: str, per_label: int, seed: int = 7) -> list[dict]:
    """A few shipped rows per label (the test split stays the test split)."""
    shipped = DatasetPaths.shipped(kind)
    rows = (
        read_rows(shipped.train, kind=kind)
        if split == "train"
        else read_jsonl(shipped.test, kind=kind)
    )
    key = "risk_level" if kind == "safety" else "intent"
    rng = random.Random(seed)
    rng.shuffle(rows)
    picked, counts = [], {}
    for row in rows:
        if counts.get(row[key], 0) < per_label:
            counts[row[key]] = counts.get(row[key], 0) + 1
            picked.append(row)
    return picked


@pytest.fixture(scope="session")
def tiny_dataset_dir(tmp_path_factory) -> Path:
    """safety/intent train and test files of a few rows each, in the shipped layout."""
    root = tmp_path_factory.mktemp("tiny_dataset")
    write_jsonl(root / "safety_train.jsonl", tiny_rows("safety", "train", 20))
    write_jsonl(root / "safety_test.jsonl", tiny_rows("safety", "test", 8))
    write_jsonl(root / "intent_train.jsonl", tiny_rows("intent", "train", 8))
    write_jsonl(root / "intent_test.jsonl", tiny_rows("intent", "test", 3))
    return root


@pytest.fixture
def tiny_dataset(settings, tiny_dataset_dir) -> Path:
    settings.TRAINING_DATASET_DIR = tiny_dataset_dir
    return tiny_dataset_dir


@pytest.fixture
def active_models(db, trained_models):  # noqa: F811
    return activate_trained_models(trained_models)
