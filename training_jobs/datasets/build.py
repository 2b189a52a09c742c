"""Check the shipped datasets and write their manifest and coverage table.

    python -m training_jobs.datasets.build          # check, then rewrite MANIFEST.json and the
                                                    # coverage table in README.md
    python -m training_jobs.datasets.build --check  # exit 1 on any refused row or a stale file

The data are files, not code: ``safety/*.jsonl`` (one file per source: a writer, a batch, a
template family; see README.md for the schema), ``intent/*.jsonl`` (the same for Ari's
replies), and the frozen test
splits ``safety_test.jsonl`` / ``intent_test.jsonl``. This script generates nothing. It
refuses (names the file and line of) every training row that:

- breaks the schema (level, category, family, language, source);
- repeats the input of a frozen test row;
- repeats a text of the external dev set longer than 15 characters (its fingerprints ship in
  ``external_dev_fingerprints.txt``; with ``../shared/data`` present its files are read too)
  or, with the folder present, is a near copy of one (character 4-gram Jaccard >= 0.6);
- repeats another row's input with a different label.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

from training_jobs.ml import data as datasets
from training_jobs.ml.external import external_dev_texts
from training_jobs.ml.labels import FAMILIES, HARD_NEGATIVE_FAMILIES, LANGS

DATA_DIR = Path(__file__).resolve().parent
MANIFEST = DATA_DIR / "MANIFEST.json"
README = DATA_DIR / "README.md"
COVERAGE_START = "<!-- coverage:start -->"
COVERAGE_END = "<!-- coverage:end -->"
NEAR_COPY_JACCARD = 0.6
MIN_OWN_CHARS = 15
# The frozen evaluation sets' starter files (evaluation/frozen_sets/): no training row repeats them.
FROZEN_SET_DIR = DATA_DIR.parent.parent / "evaluation" / "frozen_sets"
# Check sets the benchmarks read (``ari_review/bench/probes``): never trained on either.
PROBE_DIR = DATA_DIR.parent.parent / "ari_review" / "bench" / "probes"
REQUIRED_SAFETY_KEYS = ("text", "history", "risk_level", "category", "family", "lang", "source")


def _shingles(text: str) -> frozenset[str]:
    norm = f" {datasets._norm(text)} "
    return frozenset(norm[i : i + 4] for i in range(max(1, len(norm) - 3)))


def refusals(data_dir: Path = DATA_DIR, dev_texts: list[str] | None = None) -> list[str]:
    """Why each refused training row is refused (empty: all rows are acceptable)."""
    return [f"{path.name}:{line}: {why}" for path, line, why in refused_rows(data_dir, dev_texts)]


def refused_rows(
    data_dir: Path = DATA_DIR, dev_texts: list[str] | None = None
) -> list[tuple[Path, int, str]]:
    """``(file, row number, why)`` of every refused training row in ``data_dir``.

    ``dev_texts``: the external dev texts to check against (default: ``../shared/data``'s,
    when present, plus the shipped fingerprints).
    """
    problems: list[tuple[Path, int, str]] = []
    safety_files = datasets.data_files(data_dir / "safety")
    test_paths = datasets.DatasetPaths(data_dir / "safety", data_dir / "safety_test.jsonl")
    test_prints = datasets.frozen_test_fingerprints("safety", paths=test_paths)
    dev_texts = external_dev_texts() if dev_texts is None else dev_texts
    dev_prints = datasets.external_dev_fingerprints() | {
        datasets.text_fingerprint(t) for t in dev_texts
    }
    dev_shingles = [_shingles(t) for t in dev_texts if _long(t)]
    frozen_prints = frozen_set_fingerprints() | probe_fingerprints()
    seen: dict[str, tuple[str, str]] = {}
    for path in safety_files:
        try:
            rows = datasets.read_jsonl(path, kind="safety")
        except datasets.DatasetError as exc:
            problems.append((path, 0, str(exc)))
            continue
        for line, row in enumerate(rows, 1):
            where = f"{path.name}:{line}"

            def refuse(why: str, path=path, line=line) -> None:
                problems.append((path, line, why))

            missing = [k for k in REQUIRED_SAFETY_KEYS if k not in row]
            if missing:
                refuse(f"missing {', '.join(missing)}")
                continue
            texts = [row["text"], *row["history"]]
            if datasets.row_fingerprint(row) in test_prints or any(
                datasets.row_fingerprint({"text": turn}) in test_prints for turn in row["history"]
            ):
                refuse("repeats a frozen test row")
            if any(datasets.text_fingerprint(t) in frozen_prints for t in texts if _long(t)):
                refuse("repeats a text of a frozen evaluation set")
            if any(datasets.text_fingerprint(t) in dev_prints for t in texts if _long(t)):
                refuse("repeats a text of the external dev set")
            elif dev_shingles and _near_copy(texts, dev_shingles):
                refuse("is a near copy of an external dev text")
            key = datasets.row_fingerprint(row)
            label = f"{row['risk_level']}"
            if key in seen and seen[key][0] != label:
                refuse(f"same input as {seen[key][1]} with another level")
            seen.setdefault(key, (label, where))
    problems += _refused_intent_rows(data_dir)
    return problems


def _refused_intent_rows(data_dir: Path) -> list[tuple[Path, int, str]]:
    """Intent rows that repeat a frozen test reply, or another row's reply with another intent."""
    intent_dir = data_dir / "intent"
    if not intent_dir.is_dir():
        return []
    intent_paths = datasets.DatasetPaths(intent_dir, data_dir / "intent_test.jsonl")
    intent_test = datasets.frozen_test_fingerprints("intent", paths=intent_paths)
    problems: list[tuple[Path, int, str]] = []
    seen: dict[str, tuple[str, str]] = {}
    for path in datasets.data_files(intent_dir):
        for line, row in enumerate(datasets.read_jsonl(path, kind="intent"), 1):
            key = datasets.row_fingerprint(row)
            if key in intent_test:
                problems.append((path, line, "repeats a frozen test row"))
            if key in seen and seen[key][0] != row["intent"]:
                problems.append((path, line, f"same reply as {seen[key][1]} with another intent"))
            seen.setdefault(key, (row["intent"], f"{path.name}:{line}"))
    return problems


def frozen_set_fingerprints(directory: Path = FROZEN_SET_DIR) -> frozenset[str]:
    """Fingerprints of the texts (and earlier turns) of the frozen evaluation sets' starter
    files; the sets frozen in the database are refused by the training job itself."""
    prints = set()
    for path in sorted(directory.glob("*.jsonl")) if directory.is_dir() else []:
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                prints |= {
                    datasets.text_fingerprint(t) for t in [row["text"], *row.get("history", [])]
                }
    return frozenset(prints)


def probe_fingerprints(directory: Path | None = None) -> frozenset[str]:
    """Fingerprints of the benchmarks' check messages (their histories are ordinary context)."""
    directory = directory or PROBE_DIR
    return frozenset(
        datasets.text_fingerprint(json.loads(line)["text"])
        for path in sorted(directory.glob("*.jsonl"))
        for line in path.read_text("utf-8").splitlines()
        if line.strip()
    )


def drop_refused(problems: list[tuple[Path, int, str]]) -> None:
    """Rewrite each file without its refused rows (row numbers count non-empty lines)."""
    by_file: dict[Path, set[int]] = defaultdict(set)
    for path, line, _why in problems:
        if line:
            by_file[path].add(line)
    for path, lines in by_file.items():
        kept = [row for row in path.read_text("utf-8").splitlines() if row.strip()]
        kept = [row for number, row in enumerate(kept, 1) if number not in lines]
        path.write_text("".join(f"{row}\n" for row in kept), encoding="utf-8")
        print(f"{path.name}: dropped {len(lines)} refused rows")


def _long(text: str) -> bool:
    """Long enough to say something of its own ("ok", "yes thanks" are everybody's words)."""
    return len(datasets._norm(text)) > MIN_OWN_CHARS


def _near_copy(texts: list[str], dev_shingles: list[frozenset[str]]) -> bool:
    for text in texts:
        if not _long(text):
            continue
        mine = _shingles(text)
        for other in dev_shingles:
            union = len(mine | other)
            if union and len(mine & other) / union >= NEAR_COPY_JACCARD:
                return True
    return False


def manifest() -> dict:
    files = {}
    data_files = [
        *datasets.data_files(DATA_DIR / "safety"),
        *datasets.data_files(DATA_DIR / "intent"),
        *_other_files(),
    ]
    for path in data_files:
        content = path.read_bytes()
        files[str(path.relative_to(DATA_DIR))] = {
            "rows": content.count(b"\n"),
            "sha256": hashlib.sha256(content).hexdigest(),
        }
    safety = datasets.load_training_rows("safety")
    test = datasets.load_frozen_test_rows("safety")
    intent = datasets.load_training_rows("intent")
    return {
        "files": files,
        "safety_train_rows": len(safety),
        "safety_train_levels": _count(safety, "risk_level"),
        "safety_train_langs": _count(safety, "lang"),
        "safety_train_sources": len({datasets.row_source(r) for r in safety}),
        "safety_test_levels": _count(test, "risk_level"),
        "safety_test_edge_cases": sum("edge_case" in r["tags"] for r in test),
        "safety_test_clearly_safe": sum("clearly_safe" in r["tags"] for r in test),
        "intent_train_intents": _count(intent, "intent"),
        "intent_train_sources": _count(intent, "source"),
        "intent_test_intents": _count(datasets.load_frozen_test_rows("intent"), "intent"),
    }


def _other_files() -> list[Path]:
    names = ("safety_test.jsonl", "intent_test.jsonl")
    return [DATA_DIR / name for name in names]


def _count(rows: list[dict], key: str) -> dict[str, int]:
    return dict(sorted(Counter(r.get(key) or "" for r in rows).items()))


def coverage_table() -> str:
    """Markdown: rows, distinct sources and languages per family; one source is a gap."""
    rows = datasets.load_training_rows("safety")
    per: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        per[(row["risk_level"], row["family"])].append(row)
    lines = [
        "| level | family | rows | sources | " + " | ".join(LANGS) + " | gap |",
        "|---|---|---|---|" + "---|" * len(LANGS) + "---|",
    ]
    order = {"high": 0, "medium": 1, "low": 2, "none": 3}
    families = sorted(
        {(level, f) for level, names in FAMILIES.items() for f in names if (level, f) in per}
        | {("high", f) for f in FAMILIES["high"]}
        | {("medium", f) for f in FAMILIES["medium"]}
        | {("none", f) for f in HARD_NEGATIVE_FAMILIES},
        key=lambda k: (order[k[0]], k[1]),
    )
    for level, family in families:
        members = per.get((level, family), [])
        sources = {datasets.row_source(r) for r in members}
        langs = Counter(r["lang"] for r in members)
        gap = "**no rows**" if not members else ("one source" if len(sources) == 1 else "")
        cells = " | ".join(str(langs.get(lang, 0)) for lang in LANGS)
        lines.append(f"| {level} | {family} | {len(members)} | {len(sources)} | {cells} | {gap} |")
    return "\n".join(lines)


def readme_with_coverage(text: str) -> str:
    start, end = text.index(COVERAGE_START), text.index(COVERAGE_END)
    return text[: start + len(COVERAGE_START)] + "\n" + coverage_table() + "\n" + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail on refusals or stale files")
    parser.add_argument(
        "--drop-refused", action="store_true", help="remove refused rows from their files first"
    )
    args = parser.parse_args(argv)
    if args.drop_refused and not args.check:
        drop_refused(refused_rows())
    problems = refusals()
    for problem in problems:
        print(f"refused: {problem}")
    if problems:
        print(f"{len(problems)} training rows refused; fix or remove them (--drop-refused)")
        return 1
    new_manifest = json.dumps(manifest(), indent=2, ensure_ascii=False) + "\n"
    readme = README.read_text("utf-8")
    new_readme = readme_with_coverage(readme)
    if args.check:
        stale = [
            p.name
            for p, content in ((MANIFEST, new_manifest), (README, new_readme))
            if not p.exists() or p.read_text("utf-8") != content
        ]
        if stale:
            print(f"stale: {', '.join(stale)}; run python -m training_jobs.datasets.build")
            return 1
        print("datasets checked: no refused row, manifest and coverage table up to date")
        return 0
    MANIFEST.write_text(new_manifest, encoding="utf-8")
    README.write_text(new_readme, encoding="utf-8")
    print(new_manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
