"""Reading the shipped datasets, fingerprints and hashes, and the validation folds.

Training code reads only the training data through :func:`load_training_rows`: for safety, every
``datasets/safety/*.jsonl`` file (one file per source: a writer, a batch, a template family); for
intent, every ``datasets/intent/*.jsonl`` file (the same, for replies). The frozen test split is
read only by :mod:`training_jobs.ml.evaluate` through :func:`load_frozen_test_rows`.

Validation is leave-source-out (:func:`source_folds`): a fold never splits a source, so a
threshold is chosen on phrasings from writers the model never trained on.
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

from training_jobs.ml.labels import FAMILIES, LANGS

DATASET_DIR = Path(__file__).resolve().parent.parent / "datasets"
LABEL_KEY = {"safety": "risk_level", "intent": "intent"}


class DatasetError(Exception):
    """A dataset file is missing or malformed (the message names the file and line)."""


@dataclass(frozen=True)
class DatasetPaths:
    train: Path  # a JSONL file, or a directory of them
    test: Path

    @classmethod
    def shipped(cls, kind: str) -> DatasetPaths:
        return cls(train=DATASET_DIR / kind, test=DATASET_DIR / f"{kind}_test.jsonl")


def data_files(path: Path) -> list[Path]:
    """``path`` itself, or the ``*.jsonl`` files of a directory in name order."""
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise DatasetError(f"no *.jsonl dataset file in {path}")
        return files
    return [path]


def read_rows(path: Path, *, kind: str) -> list[dict]:
    """Every row of a dataset file or directory of files."""
    return [row for file in data_files(path) for row in read_jsonl(file, kind=kind)]


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
        family = row.get("family")
        if family is not None and family not in FAMILIES.get(row[LABEL_KEY[kind]], ()):
            raise DatasetError(
                f"{where}: family {family!r} is not a {row[LABEL_KEY[kind]]} family "
                f"(one of {sorted(FAMILIES[row[LABEL_KEY[kind]]])})"
            )
        lang = row.get("lang")
        if lang is not None and lang not in LANGS:
            raise DatasetError(f"{where}: 'lang' must be one of {list(LANGS)}")
    source = row.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise DatasetError(f"{where}: 'source' must be a non-empty string")


def load_training_rows(
    kind: str, *, paths: DatasetPaths | None = None, extra_rows: Iterable[dict] = ()
) -> list[dict]:
    """The shipped training rows plus ``extra_rows`` (database labels). Never the test split."""
    paths = paths or DatasetPaths.shipped(kind)
    rows = read_rows(paths.train, kind=kind)
    for number, row in enumerate(extra_rows, 1):
        _validate_row(row, kind=kind, where=f"database label {row.get('id', number)}")
        rows.append(row)
    return rows


def load_frozen_test_rows(kind: str, *, paths: DatasetPaths | None = None) -> list[dict]:
    """The frozen test split. Only evaluation code calls this."""
    paths = paths or DatasetPaths.shipped(kind)
    return read_jsonl(paths.test, kind=kind)


def row_source(row: dict) -> str:
    """Who or what wrote a row; rows without one are each their own (variants: their group)."""
    return row.get("source") or row.get("group") or row.get("id") or row["text"]


def source_folds(rows: Sequence[dict], *, folds: int, seed: int) -> list[int]:
    """A fold per row such that no source is split between folds (leave-source-out).

    Sources are dealt, largest first, to the fold with the fewest rows so far (ties broken by a
    seeded shuffle), so folds are about the same size. With fewer sources than ``folds``, each
    source is a fold of its own.
    """
    by_source: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        by_source[row_source(row)].append(index)
    names = sorted(by_source)
    random.Random(seed).shuffle(names)
    names.sort(key=lambda n: -len(by_source[n]))
    folds = max(1, min(folds, len(names)))
    sizes = [0] * folds
    assignment = [0] * len(rows)
    for name in names:
        fold = min(range(folds), key=lambda f: (sizes[f], f))
        sizes[fold] += len(by_source[name])
        for index in by_source[name]:
            assignment[index] = fold
    return assignment


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


def text_fingerprint(text: str) -> str:
    """sha256 of a normalised message text (no history): how measurement-only texts are named."""
    return hashlib.sha256(_norm(text).encode("utf-8")).hexdigest()


def external_dev_fingerprints() -> frozenset[str]:
    """Fingerprints of the external dev set's texts, which no training row may repeat.

    The shipped list (``datasets/external_dev_fingerprints.txt``: hashes, never texts) works
    without ``../shared/data``; when the folder is present its files are hashed too.
    """
    from training_jobs.ml.external import external_dev_texts

    shipped = DATASET_DIR / "external_dev_fingerprints.txt"
    hashes = set()
    if shipped.exists():
        hashes |= {h for h in shipped.read_text("utf-8").split() if len(h) == 64}
    hashes |= {text_fingerprint(t) for t in external_dev_texts()}
    return frozenset(hashes)


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
