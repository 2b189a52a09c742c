"""The shipped data files: each row names its family, language and source; the build refuses
frozen-test and external-dev texts; the manifest and coverage table are up to date; several
writers cover every high-risk family."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from training_jobs.datasets import build
from training_jobs.ml import data as datasets
from training_jobs.ml.labels import HIGH_FAMILIES, LANGS


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _row(text, level="none", family="everyday", source="writer-a", history=()):
    category = "" if level == "none" else "crisis"
    return {
        "text": text,
        "history": list(history),
        "risk_level": level,
        "category": category,
        "family": family if level != "low" else "distress",
        "lang": "en",
        "source": source,
    }


@pytest.fixture
def data_dir(tmp_path):
    _write(
        tmp_path / "safety_test.jsonl",
        [dict(_row("a frozen test message about my week"), id="t1", tags=[])],
    )
    _write(
        tmp_path / "intent" / "writer-i.jsonl",
        [{"id": "i1", "text": "How was it?", "intent": "other"}],
    )
    _write(tmp_path / "intent_test.jsonl", [{"id": "i2", "text": "Hello there", "intent": "other"}])
    return tmp_path


def test_the_build_refuses_frozen_test_and_external_dev_texts_and_near_copies(data_dir):
    dev = ["an external message nobody on the team wrote, about the weekend"]
    _write(
        data_dir / "safety" / "writer-a.jsonl",
        [
            _row("A frozen test message about my week!"),  # same normalised text
            _row("An external message nobody on the team wrote about the weekend."),
            _row("an external message nobody in the team wrote, about the weekends"),  # near copy
            _row("ok", history=["an external message nobody on the team wrote, about the weekend"]),
            _row("something of my own about cooking dinner"),
        ],
    )
    refused = build.refusals(data_dir, dev_texts=dev)
    assert refused == [
        "writer-a.jsonl:1: repeats a frozen test row",
        "writer-a.jsonl:2: repeats a text of the external dev set",
        "writer-a.jsonl:3: is a near copy of an external dev text",
        "writer-a.jsonl:4: repeats a text of the external dev set",
    ]
    build.drop_refused(build.refused_rows(data_dir, dev_texts=dev))
    assert build.refusals(data_dir, dev_texts=dev) == []
    kept = datasets.read_rows(data_dir / "safety", kind="safety")
    assert [r["text"] for r in kept] == ["something of my own about cooking dinner"]


def test_the_build_refuses_a_text_of_a_benchmark_probe(data_dir, monkeypatch):
    """The benchmarks' check sets (coach answers) are measured, never trained on."""
    probe = data_dir / "probes"
    _write(probe / "p.jsonl", [{"text": "My shoulders dropped a bit after that", "history": []}])
    monkeypatch.setattr(build, "PROBE_DIR", probe)
    _write(
        data_dir / "safety" / "writer-a.jsonl",
        [_row("my shoulders dropped a bit after that."), _row("my jaw let go a little")],
    )
    assert build.refusals(data_dir, dev_texts=[]) == [
        "writer-a.jsonl:1: repeats a text of a frozen evaluation set"
    ]


def test_the_shipped_coach_answers_probe_is_ordinary_and_held_out():
    from training_jobs.ml.external import COACH_ANSWERS_PROBE

    rows = [json.loads(line) for line in COACH_ANSWERS_PROBE.read_text("utf-8").splitlines()]
    assert len(rows) >= 200
    assert {r["risk_level"] for r in rows} <= {"none", "low"}
    assert build.refusals() == []  # no training row repeats one of them


def test_the_build_refuses_a_bad_schema_and_conflicting_labels(data_dir):
    bad_family = dict(_row("pills saved", level="high"), family="everyday")
    _write(data_dir / "safety" / "writer-b.jsonl", [bad_family])
    refused = build.refusals(data_dir, dev_texts=[])
    assert len(refused) == 1 and "family 'everyday' is not a high family" in refused[0]
    missing_source = {k: v for k, v in _row("hello").items() if k != "source"}
    conflicting = [_row("it is decided", level="low"), _row("It is decided!", level="none")]
    _write(data_dir / "safety" / "writer-b.jsonl", [missing_source, *conflicting])
    assert build.refusals(data_dir, dev_texts=[]) == [
        "writer-b.jsonl:1: missing source",
        "writer-b.jsonl:3: same input as writer-b.jsonl:2 with another level",
    ]


def test_the_build_refuses_intent_rows_that_repeat_the_test_split_or_disagree(data_dir):
    _write(data_dir / "safety" / "writer-a.jsonl", [_row("something of my own")])
    _write(
        data_dir / "intent" / "writer-j.jsonl",
        [
            {"text": "hello there!", "intent": "other"},  # the frozen intent test reply
            {"text": "How was it", "intent": "probe_story"},  # writer-i's reply, another intent
            {"text": "That sounds exhausting.", "intent": "validate"},
        ],
    )
    assert build.refusals(data_dir, dev_texts=[]) == [
        "writer-j.jsonl:1: repeats a frozen test row",
        "writer-j.jsonl:2: same reply as writer-i.jsonl:1 with another intent",
    ]


def test_the_shipped_data_pass_the_build_check_and_the_manifest_is_current(capsys):
    assert build.main(["--check"]) == 0, capsys.readouterr().out


def test_external_dev_fingerprints_ship_without_the_texts():
    shipped = (datasets.DATASET_DIR / "external_dev_fingerprints.txt").read_text("utf-8")
    hashes = [h for h in shipped.split() if len(h) == 64]
    assert len(hashes) >= 150
    assert all(int(h, 16) >= 0 for h in hashes)


def test_the_safety_data_are_big_multilingual_and_several_writers_cover_every_high_family():
    rows = datasets.load_training_rows("safety")
    assert len(rows) >= 20_000
    for level in ("high", "medium", "low", "none"):
        langs = {r["lang"] for r in rows if r["risk_level"] == level}
        assert langs == set(LANGS), level
    sources = defaultdict(set)
    for row in rows:
        if row["risk_level"] == "high":
            sources[row["family"]].add(row["source"])
    assert set(sources) == set(HIGH_FAMILIES)
    thin = {family: s for family, s in sources.items() if len(s) < 2}
    assert not thin, f"high-risk families with a single source: {thin}"
