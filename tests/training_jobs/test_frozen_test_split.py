"""The frozen test split never reaches training (checked on row hashes)."""

from __future__ import annotations

import pytest

from training_jobs.ml import data as datasets
from training_jobs.ml import train as train_module
from training_jobs.ml.data import DatasetPaths, row_fingerprint, rows_hash
from training_jobs.ml.train import TrainSettings, train_and_evaluate


@pytest.mark.parametrize("kind", ["safety", "intent"])
def test_shipped_training_rows_share_no_input_with_the_frozen_test_split(kind):
    train = datasets.load_training_rows(kind)
    test = datasets.load_frozen_test_rows(kind)
    train_prints = {row_fingerprint(r) for r in train}
    train_prints |= {row_fingerprint({"text": h}) for r in train for h in r.get("history") or []}
    assert not train_prints & {row_fingerprint(r) for r in test}
    assert rows_hash(train, kind=kind) != rows_hash(test, kind=kind)


@pytest.mark.parametrize("kind", ["safety", "intent"])
def test_rows_fitted_by_training_exclude_the_test_split_and_match_the_stored_hash(
    kind, tiny_dataset_dir, tmp_path, monkeypatch
):
    fitted: list[dict] = []
    real_fit = train_module.fit_model

    def spy(kind_, backend, rows, settings, progress=None):
        fitted.extend(rows)
        return real_fit(kind_, backend, rows, settings, progress)

    monkeypatch.setattr(train_module, "fit_model", spy)
    paths = DatasetPaths(
        tiny_dataset_dir / f"{kind}_train.jsonl", tiny_dataset_dir / f"{kind}_test.jsonl"
    )
    test_rows = datasets.load_frozen_test_rows(kind, paths=paths)
    # A database label that repeats a frozen test text must be dropped, not trained on.
    leaked = dict(test_rows[0], id="db-leak", group="db-leak")
    outcome = train_and_evaluate(
        kind=kind,
        backend="linear",
        out_dir=tmp_path / "m",
        version="v",
        paths=paths,
        extra_rows=[leaked],
        settings=TrainSettings(cv_folds=2, latency_samples=0, esconv_intent=False),
    )

    test_prints = {row_fingerprint(r) for r in test_rows}
    assert fitted and not {row_fingerprint(r) for r in fitted} & test_prints
    assert outcome.excluded_rows == 1
    training_rows = datasets.load_training_rows(kind, paths=paths)
    assert outcome.train_data_hash == rows_hash(training_rows, kind=kind)
    assert {row_fingerprint(r) for r in fitted} == {row_fingerprint(r) for r in training_rows}
    assert outcome.test_data_hash == rows_hash(test_rows, kind=kind)
    assert outcome.train_data_hash != outcome.test_data_hash
    assert outcome.manifest["train_data_hash"] == outcome.train_data_hash


def test_evaluation_on_the_test_split_happens_after_the_last_fit(
    tiny_dataset_dir, tmp_path, monkeypatch
):
    events: list[str] = []
    real_read = datasets.read_jsonl
    real_fit = train_module.fit_model
    real_eval = train_module.evaluate_safety

    def read_spy(path, *, kind):
        events.append(f"read:{path.name}")
        return real_read(path, kind=kind)

    def fit_spy(*args, **kwargs):
        events.append("fit")
        return real_fit(*args, **kwargs)

    def eval_spy(*args, **kwargs):
        events.append("evaluate")
        return real_eval(*args, **kwargs)

    monkeypatch.setattr(datasets, "read_jsonl", read_spy)
    monkeypatch.setattr(train_module, "fit_model", fit_spy)
    monkeypatch.setattr(train_module, "evaluate_safety", eval_spy)
    paths = DatasetPaths(
        tiny_dataset_dir / "safety_train.jsonl", tiny_dataset_dir / "safety_test.jsonl"
    )
    train_and_evaluate(
        kind="safety",
        backend="linear",
        out_dir=tmp_path / "m",
        version="v",
        paths=paths,
        settings=TrainSettings(cv_folds=2, latency_samples=0),
    )
    last_fit = max(i for i, e in enumerate(events) if e == "fit")
    test_reads = [i for i, e in enumerate(events) if e == "read:safety_test.jsonl"]
    # (Before fitting, only row hashes of the test file are taken, to drop repeated texts.)
    assert any(i > last_fit for i in test_reads)
    assert events.index("evaluate") > last_fit


def test_intent_training_adds_esconv_only_to_the_shipped_data_and_only_when_present(
    tiny_dataset_dir,
):
    from training_jobs.ml.external import esconv_intent_rows
    from training_jobs.ml.train import external_intent_rows

    caller_paths = DatasetPaths(
        tiny_dataset_dir / "intent_train.jsonl", tiny_dataset_dir / "intent_test.jsonl"
    )
    assert external_intent_rows(TrainSettings(), caller_paths) == []
    assert external_intent_rows(TrainSettings(esconv_intent=False), None) == []
    shipped = external_intent_rows(TrainSettings(), None)
    if not esconv_intent_rows("heldout"):
        assert shipped == []  # ../shared/data absent: the shipped rows alone
        return
    held_out = {r["id"] for r in esconv_intent_rows("heldout")}
    assert shipped and not held_out & {r["id"] for r in shipped}
