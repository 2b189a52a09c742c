"""Reading the shipped datasets, fingerprints and hashes, and the grouped validation split.

Training code reads only ``*_train.jsonl`` through :func:`load_training_rows`; the frozen test
split is read only by :mod:`training_jobs.ml.evaluate` through :func:`load_frozen_test_rows`.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

DATASET_DIR = Path(__file__).resolve().parent.parent / "datasets"
LABEL_KEY = {"safety": "risk_level", "intent": "intent"}


class DatasetError(Exception):
    """A dataset file is missing or malformed (the message names the file and line)."""


@dataclass(frozen=True)
class DatasetPaths:
    train: Path
    test: Path

    @classmethod
    def shipped(cls, kind: str) -> DatasetPaths:
        return cls(
            train=DATASET_DIR / f"{kind}_train.jsonl", test=DATASET_DIR / f"{kind}_test.jsonl"
        )


def read_jsonl(path: Path, *, kind: str) -> list[dict]:
    if not path.exists():
        raise DatasetError(f"dataset file not found: {path}")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            _validate_row(row, kind=kind, where=f"{path}:{number}")
            rows.append(row)
    return rows


def _validate_row(row: dict, *, kind: str, where: str) -> None:
    from training_jobs.ml.labels import HEADS

    if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not row["text"].strip():
        raise DatasetError(f"{where}: a row needs a non-empty 'text'")
    label = row.get(LABEL_KEY[kind])
    first_head = next(iter(HEADS[kind].values()))
    if label not in first_head:
        raise DatasetError(f"{where}: '{LABEL_KEY[kind]}' must be one of {list(first_head)}")
    if kind == "safety":
        history = row.get("history") or []
        if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
            raise DatasetError(f"{where}: 'history' must be a list of strings")
        category = row.get("category") or ""
        if category and category not in HEADS["safety"]["category"]:
            raise DatasetError(
                f"{where}: 'category' must be one of {list(HEADS['safety']['category'])}"
            )


def load_training_rows(
    kind: str, *, paths: DatasetPaths | None = None, extra_rows: Iterable[dict] = ()
) -> list[dict]:
    """The shipped training rows plus ``extra_rows`` (database labels). Never the test split."""
    paths = paths or DatasetPaths.shipped(kind)
    rows = read_jsonl(paths.train, kind=kind)
    for number, row in enumerate(extra_rows, 1):
        _validate_row(row, kind=kind, where=f"database label {row.get('id', number)}")
        rows.append(row)
    return rows


def load_frozen_test_rows(kind: str, *, paths: DatasetPaths | None = None) -> list[dict]:
    """The frozen test split. Only evaluation code calls this."""
    paths = paths or DatasetPaths.shipped(kind)
    return read_jsonl(paths.test, kind=kind)


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text)).strip()


def row_fingerprint(row: dict) -> str:
    """Identity of a row's *input* (normalised text and history), independent of its label."""
    payload = json.dumps(
        [_norm(row["text"]), [_norm(h) for h in row.get("history") or []]], ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def rows_hash(rows: Sequence[dict], *, kind: str) -> str:
    """Order-independent sha256 of the rows' inputs and labels."""
    key = LABEL_KEY[kind]
    digests = sorted(
        hashlib.sha256(
            f"{row_fingerprint(r)}|{r[key]}|{r.get('category') or ''}".encode()
        ).hexdigest()
        for r in rows
    )
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()


def grouped_split(
    rows: Sequence[dict], *, kind: str, val_fraction: float, seed: int
) -> tuple[list[dict], list[dict]]:
    """Split by ``group`` (variants of one sentence stay together), stratified by label."""
    key = LABEL_KEY[kind]
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for index, row in enumerate(rows):
        group = row.get("group") or row.get("id") or f"row-{index}"
        groups[(row[key], group)].append(row)
    by_label: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for label, group in groups:
        by_label[label].append((label, group))
    rng = random.Random(seed)
    train: list[dict] = []
    val: list[dict] = []
    for label in sorted(by_label):
        names = sorted(by_label[label])
        rng.shuffle(names)
        n_rows = sum(len(groups[n]) for n in names)
        wanted = n_rows * val_fraction
        taken = 0
        for name in names:
            if taken < wanted and len(names) > 1:
                val.extend(groups[name])
                taken += len(groups[name])
            else:
                train.extend(groups[name])
        if not any(r[key] == label for r in train):  # keep every label trainable
            moved = [r for r in val if r[key] == label][:1]
            for r in moved:
                val.remove(r)
                train.append(r)
    return train, val


def frozen_test_fingerprints(kind: str, *, paths: DatasetPaths | None = None) -> frozenset[str]:
    """Fingerprints (hashes) of the frozen test inputs, used to keep them out of training.

    Returns hashes only: no test text or label is handed to training code.
    """
    paths = paths or DatasetPaths.shipped(kind)
    if not paths.test.exists():
        return frozenset()
    return frozenset(row_fingerprint(r) for r in read_jsonl(paths.test, kind=kind))


def grouped_folds(rows: Sequence[dict], *, kind: str, folds: int, seed: int) -> list[int]:
    """A fold per row, stratified by label; a group (paraphrase variants) stays in one fold."""
    key = LABEL_KEY[kind]
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        groups[(row[key], row.get("group") or row.get("id") or f"row-{index}")].append(index)
    rng = random.Random(seed)
    assignment = [0] * len(rows)
    by_label: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name in groups:
        by_label[name[0]].append(name)
    for label in sorted(by_label):
        names = sorted(by_label[label])
        rng.shuffle(names)
        names.sort(key=lambda n: -len(groups[n]))  # largest groups first, then greedy balance
        sizes = [0] * folds
        for name in names:
            fold = min(range(folds), key=lambda f: (sizes[f], f))
            sizes[fold] += len(groups[name])
            for index in groups[name]:
                assignment[index] = fold
    return assignment
