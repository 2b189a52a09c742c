"""Build the shipped safety and intent datasets (seeded, reproducible).

    python -m training_jobs.datasets.build          # rewrite the JSONL files and MANIFEST.json
    python -m training_jobs.datasets.build --check  # fail if the committed files are stale

Training rows come from ``safety_train_bank.py`` / ``intent_train_bank.py``: hand-written
sentences, slot templates, long messages, multi-turn rows, and paraphrase / typo / slang
variants. The frozen test rows come only from ``safety_test_bank.py`` / ``intent_test_bank.py``,
written separately; the build refuses to write a test row whose normalised text appears in
training. Row schema:

- safety: ``{"id", "text", "history", "risk_level", "category", "urgency", "lang", "tags",
  "group"}``
- intent: ``{"id", "text", "intent", "group"}``

``group`` ties paraphrase variants of one base sentence together, so the validation split
(threshold tuning) never has a variant of a sentence it trained on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import unicodedata
from pathlib import Path

from training_jobs.datasets import counsel_chat_excerpts
from training_jobs.datasets import intent_test_bank as itest
from training_jobs.datasets import intent_train_bank as itrain
from training_jobs.datasets import safety_test_bank as stest
from training_jobs.datasets import safety_train_bank as strain

DATA_DIR = Path(__file__).resolve().parent
SEED = 20240611
SAFETY_TARGETS = {"high": 1000, "medium": 500, "low": 1000, "none": 2500}
INTENT_PER_CLASS = 250
INTENT_COMPOSED_PER_CLASS = 60

FILES = {
    "safety_train": DATA_DIR / "safety_train.jsonl",
    "safety_test": DATA_DIR / "safety_test.jsonl",
    "intent_train": DATA_DIR / "intent_train.jsonl",
    "intent_test": DATA_DIR / "intent_test.jsonl",
}


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^\w\s]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def urgency_for(level: str, tags: list[str]) -> str:
    if level == "high":
        return "immediate" if {"timing", "goodbye"} & set(tags) else "high"
    return level


def lang_for(tags: list[str]) -> str:
    for lang in ("es", "de"):
        if lang in tags:
            return lang
    return "en"


# --- variant operations -----------------------------------------------------------------------
_KEYBOARD_NEIGHBOURS = {
    "a": "qs",
    "e": "wr",
    "i": "uo",
    "o": "ip",
    "n": "bm",
    "t": "ry",
    "s": "ad",
    "l": "k",
    "r": "et",
    "d": "sf",
    "h": "gj",
    "m": "n",
    "y": "tu",
    "u": "yi",
}


def typo(text: str, rng: random.Random) -> str:
    words = text.split()
    candidates = [i for i, w in enumerate(words) if len(w) > 3 and w.isalpha()]
    if not candidates:
        return text
    for i in rng.sample(candidates, k=min(len(candidates), rng.choice([1, 1, 2]))):
        w = list(words[i])
        op = rng.choice(["swap", "drop", "double", "neighbour"])
        j = rng.randrange(1, len(w) - 1)
        if op == "swap":
            w[j], w[j + 1] = w[j + 1], w[j]
        elif op == "drop":
            del w[j]
        elif op == "double":
            w.insert(j, w[j])
        else:
            w[j] = rng.choice(_KEYBOARD_NEIGHBOURS.get(w[j].lower(), w[j]))
        words[i] = "".join(w)
    return " ".join(words)


_RISK_SLANG = {"kill myself", "suicide", "self harm", "die"}


def slangify(text: str, rng: random.Random, *, risky: bool) -> str:
    out = text
    for source, replacements in strain.SLANG_SUBSTITUTIONS:
        if source in _RISK_SLANG and not risky:
            continue
        pattern = re.compile(rf"\b{re.escape(source)}\b", re.IGNORECASE)
        if pattern.search(out) and rng.random() < 0.7:
            out = pattern.sub(rng.choice(replacements), out)
    return out


def casual(text: str, rng: random.Random) -> str:
    out = text.lower() if rng.random() < 0.8 else text
    if rng.random() < 0.7:
        out = re.sub(r"[.!?,;:]", "", out)
    if rng.random() < 0.2:
        out = re.sub(r"\b(so|really|tired|done)\b", lambda m: m.group(0) + m.group(0)[-1] * 2, out)
    return out


def variant(text: str, rng: random.Random, *, lang: str, risky: bool) -> str:
    out = text
    english = lang == "en"
    if english and rng.random() < 0.45:
        out = rng.choice(strain.PREFIXES) + out[0].lower() + out[1:] if out else out
    if english and rng.random() < 0.35:
        suffixes = strain.SUFFIXES if risky else strain.NONE_SUFFIXES
        out = out.rstrip() + rng.choice(suffixes)
    if english and rng.random() < 0.4:
        out = slangify(out, rng, risky=risky)
    if rng.random() < 0.5:
        out = casual(out, rng)
    if rng.random() < 0.35:
        out = typo(out, rng)
    return re.sub(r"\s+", " ", out).strip()


# --- safety training rows ---------------------------------------------------------------------
def _base_items(rng: random.Random) -> dict[str, list[dict]]:
    """Base items per level: ``{"text", "category", "tags", "history"}``."""
    items: dict[str, list[dict]] = {"high": [], "medium": [], "low": [], "none": []}

    def add(level, text, category, tags, history=None, group=None):
        items[level].append(
            {
                "text": text,
                "category": category,
                "tags": list(tags),
                "history": history or [],
                "group": group,
            }
        )

    for level, count in strain.TEMPLATE_COUNTS.items():
        seen: set[str] = set()
        attempts = 0
        while len(seen) < count and attempts < count * 40:
            attempts += 1
            index = rng.randrange(len(strain.TEMPLATES[level]))
            template, meta = strain.TEMPLATES[level][index]
            category, _, lang = meta.partition("|")
            if level == "none" and meta in ("es", "de"):
                category, lang = "", meta
            values = {}
            for slot in re.findall(r"{(\w+)}", template):
                values[slot] = rng.choice(strain.SLOTS[slot])
            text = template.format(**values)
            text = text[0].upper() + text[1:]
            if text in seen:
                continue
            seen.add(text)
            key = next((values[k] for k in strain.GROUP_SLOTS if k in values), text)
            tags = ["template"] + ([lang] if lang else [])
            if level == "none" and "{plan_verb}" in template:
                tags.append("benign_plan")
            add(level, text, category, tags, group=f"tpl-{level}-{index}-{key}")

    for text, category, tags in strain.HIGH_SENTENCES + strain.HIGH_MORE:
        add("high", text, category, tags)
    for text, tags in strain.HIGH_FAMILIES:
        if "cut" in text or "hurt myself" in text:
            category = strain.SH
        elif "hurt him" in text or "hurt my coworker" in text:
            category = strain.HO
        elif {"timing"} <= set(tags) and (
            "hitting" in text
            or "safe at home" in text
            or "threatening" in text
            or "pills" in text
            or "schlägt" in text
        ):
            category = strain.CR
        else:
            category = strain.SI
        add("high", text, category, tags)
    for text, tags in strain.HIGH_QUIET:
        category = (
            strain.SH
            if {"implicit"} <= set(tags)
            and ("bleed" in text or "cuts" in text or "arms" in text or "body" in text)
            else strain.SI
        )
        add("high", text, category, tags)
    combos = [
        (s, a, t)
        for s in strain.HIGH_INTENT_SUBJECTS
        for a in strain.HIGH_INTENT_ACTS
        for t in strain.HIGH_TIMING
    ]
    for subject, act, timing in rng.sample(combos, 120):
        tags = ["template"] + (["timing"] if timing else [])
        add("high", f"{subject} {act}{timing}.", strain.SI, tags, group=f"tpl-high-act-{act}")
    for final in strain.HIGH_CONTEXT_FINALS:
        for _ in range(4):
            history = rng.sample(strain.HIGH_CONTEXT_HISTORY, rng.choice([1, 2, 2, 3]))
            add("high", final, strain.SI, ["multi_turn"], history)
    # Risk stated in an earlier turn keeps the conversation high even if the last line is not.
    for text, category, tags in rng.sample(strain.HIGH_SENTENCES, 30):
        final = rng.choice(["never mind", "forget it", "anyway", "whatever", "it's fine"])
        add("high", final, category, ["multi_turn", *tags], [text])
    # Long messages with one risk sentence somewhere inside.
    english_high = [h for h in strain.HIGH_SENTENCES if not {"es", "de"} & set(h[2])]
    for _ in range(70):
        text, category, tags = rng.choice(english_high)
        context = rng.sample(strain.CONTEXT_SENTENCES, rng.randint(2, 5))
        context.insert(rng.randint(0, len(context)), text)
        add("high", " ".join(context), category, ["long", *tags])

    for text, category, tags in strain.MEDIUM_SENTENCES:
        add("medium", text, category, tags)
    for text, category in strain.MEDIUM_MORE:
        add("medium", text, category, [t for t in ("es", "de") if _looks(text, t)])
    english_medium = [m for m in strain.MEDIUM_SENTENCES if not {"es", "de"} & set(m[2])]
    for _ in range(35):
        text, category, tags = rng.choice(english_medium)
        context = rng.sample(strain.CONTEXT_SENTENCES, rng.randint(2, 4))
        context.insert(rng.randint(0, len(context)), text)
        add("medium", " ".join(context), category, ["long", *tags])
    for text, category, tags in rng.sample(english_medium, 15):
        add(
            "medium",
            rng.choice(["yeah", "I don't know", "it's hard to explain"]),
            category,
            ["multi_turn", *tags],
            [text],
        )

    for text, category, tags in strain.LOW_SENTENCES:
        add("low", text, category, tags)
    for text, category in strain.LOW_MORE:
        add("low", text, category, [t for t in ("es", "de") if _looks(text, t)])
    english_low = [x for x in strain.LOW_SENTENCES if not {"es", "de"} & set(x[2])]
    for _ in range(60):
        text, category, tags = rng.choice(english_low)
        context = rng.sample(strain.CONTEXT_SENTENCES, rng.randint(1, 4))
        context.insert(rng.randint(0, len(context)), text)
        add("low", " ".join(context), category, ["long", *tags])
    for text, category, tags in rng.sample(english_low, 20):
        add(
            "low",
            rng.choice(["anyway thanks for listening", "ok", "I guess"]),
            category,
            ["multi_turn", *tags],
            [text],
        )

    for qid, _topic, text, level in counsel_chat_excerpts.EXCERPTS:
        add(level, text, strain.CR, ["natural", "counsel_chat"], group=f"counsel-{qid}")
    for text, level, category in strain.NATURAL_LONG:
        tags = ["natural", "long"] + [t for t in ("es", "de") if _looks(text, t)]
        add(level, text, category, tags)
        # each sentence on its own, too: a window of a long message looks like this
        if level in ("none", "low"):
            for sentence in re.split(r"(?<=[.!?])\s+", text):
                if len(sentence.split()) >= 5:
                    add(level if level == "none" else "low", sentence, category, ["natural"])
    for text in strain.NONE_EVERYDAY:
        tags = [t for t in ("es", "de") if _looks(text, t)]
        add("none", text, "", tags)
    for text in strain.NONE_EVERYDAY_MORE:
        add("none", text, "", [])
    # In-conversation replies to a coach: alone, composed, and after benign earlier turns.
    for text in strain.NONE_CONVERSATIONAL:
        add("none", text, "", ["conversational"] + [t for t in ("es", "de") if _looks(text, t)])
    english_convo = [t for t in strain.NONE_CONVERSATIONAL if not _looks(t, "es")]
    for index, content in enumerate(strain.CONVO_CONTENTS):
        for lead in rng.sample(strain.CONVO_LEADS, 4):
            text = lead + content
            add("none", text[0].upper() + text[1:], "", ["conversational"], group=f"convo-{index}")
    convo_history = strain.NONE_EVERYDAY + strain.NONE_EVERYDAY_MORE + english_convo
    for _ in range(200):
        add(
            "none",
            rng.choice(english_convo),
            "",
            ["conversational", "multi_turn"],
            rng.sample(convo_history, rng.choice([1, 2, 3])),
        )
    for text in strain.LOW_CONVERSATIONAL:
        add("low", text, strain.CR, ["conversational"])
    for _ in range(60):
        add(
            "low",
            rng.choice(strain.LOW_CONVERSATIONAL),
            strain.CR,
            ["conversational", "multi_turn"],
            rng.sample(convo_history, rng.choice([1, 2])),
        )
    for text in strain.NONE_QUIET_TWINS:
        add("none", text, "", ["benign_twin"] + [t for t in ("es", "de") if _looks(text, t)])
    for text, lang in strain.NONE_ES_DE_MORE:
        add("none", text, "", [lang])
    for text, tags in strain.NONE_HARD_NEGATIVES:
        add("none", text, "", ["hard_negative", *tags])
    for _ in range(120):
        context = rng.sample(strain.CONTEXT_SENTENCES, rng.randint(2, 6))
        if rng.random() < 0.4:
            hard = rng.choice(
                [t for t, tg in strain.NONE_HARD_NEGATIVES if not {"es", "de"} & set(tg)]
            )
            context.insert(rng.randint(0, len(context)), hard)
        add("none", " ".join(context), "", ["long"])
    benign_history = strain.NONE_EVERYDAY[:30] + strain.CONTEXT_SENTENCES
    for final in strain.HIGH_CONTEXT_FINALS[:12]:
        add("none", final, "", ["ambiguous_alone"])
        for _ in range(2):
            add("none", final, "", ["multi_turn"], rng.sample(benign_history, rng.choice([1, 2])))
    # Later passes, hand-written (text, category, tags) rows per level, in the order written:
    # 5th: Spanish and German at every level and more implicit English high-risk families;
    # 6th: more phrasings of the implicit English families with the lowest OOF scores, and
    # everyday distress (low); 7th: relatives for the short Spanish, German and English frames
    # with the lowest OOF scores (apologetic goodbyes, a chosen night, "too late for me",
    # burden, letters, last calls, "ich mach Schluss"). Tags carry "es"/"de" (the row's lang).
    for level, rows in (
        (
            "high",
            strain.HIGH_ES_FIFTH
            + strain.HIGH_DE_FIFTH
            + strain.HIGH_EN_FIFTH
            + strain.HIGH_EN_SIXTH
            + strain.HIGH_ES_SEVENTH
            + strain.HIGH_DE_SEVENTH
            + strain.HIGH_EN_SEVENTH,
        ),
        ("medium", strain.MEDIUM_ES_DE_FIFTH),
        ("low", strain.LOW_ES_DE_FIFTH + strain.LOW_SIXTH),
    ):
        for text, category, tags in rows:
            add(level, text, category, tags)
    # ... and everyday language (none): 5th-pass Spanish/German and English benign twins of the
    # risky frames, 6th-pass broad everyday language in three languages.
    everyday = [
        *strain.NONE_ES_DE_FIFTH,
        *((text, ["benign_twin"]) for text in strain.NONE_EN_TWINS_FIFTH),
        *strain.NONE_SIXTH,
    ]
    for text, tags in everyday:
        add("none", text, "", tags)
    # Eighth pass: everyday closing thanks to the coach, alone and after everyday turns.
    for text, tags in strain.NONE_CLOSING_THANKS:
        add("none", text, "", ["conversational", *tags])
    for history, (text, tags) in zip(
        strain.CLOSING_THANKS_HISTORY, strain.NONE_CLOSING_THANKS[::3], strict=False
    ):
        add("none", text, "", ["conversational", "multi_turn", *tags], history)
    return items


def _looks(text: str, lang: str) -> bool:
    markers = {
        "es": (
            "hoy",
            "estoy",
            "quiero",
            "¿",
            "mi ",
            "muero",
            "tengo",
            "quisiera",
            "siento",
            "lloro",
        ),
        "de": ("ich ", "wie ", "mein ", "hatte", "habe"),
    }[lang]
    lowered = text.lower()
    return any(m in lowered for m in markers)


def build_safety_train(rng: random.Random) -> list[dict]:
    bases = _base_items(rng)
    rows: list[dict] = []
    for level, target in SAFETY_TARGETS.items():
        pool = bases[level]
        seen: set[str] = set()
        chosen: list[dict] = []
        for group, item in enumerate(pool):  # every base sentence once, as written
            key = normalise(" ".join(item["history"]) + " | " + item["text"])
            if key not in seen:
                seen.add(key)
                chosen.append({**item, "group": item["group"] or f"{level}-{group}"})
        # A pool larger than its target loses slot-template rows (chosen at random), never a
        # hand-written sentence, natural message, long or multi-turn row.
        excess = len(chosen) - target
        if excess > 0:
            templated = [i for i, item in enumerate(chosen) if "template" in item["tags"]]
            if excess > len(templated):
                raise SystemExit(
                    f"{level}: {len(chosen) - len(templated)} non-template base rows exceed "
                    f"the target of {target}; raise SAFETY_TARGETS or trim the bank"
                )
            dropped = set(rng.sample(templated, excess))
            chosen = [item for i, item in enumerate(chosen) if i not in dropped]
        attempts = 0
        while len(chosen) < target and attempts < target * 50:
            attempts += 1
            group = rng.randrange(len(pool))
            item = pool[group]
            lang = lang_for(item["tags"])
            text = variant(item["text"], rng, lang=lang, risky=level == "high")
            key = normalise(" ".join(item["history"]) + " | " + text)
            if not text or key in seen:
                continue
            seen.add(key)
            chosen.append(
                {
                    **item,
                    "text": text,
                    "tags": [*item["tags"], "variant"],
                    "group": item["group"] or f"{level}-{group}",
                }
            )
        if len(chosen) < target:
            raise SystemExit(f"could only build {len(chosen)} {level} rows, need {target}")
        rng.shuffle(chosen)
        for item in chosen[:target]:
            tags = sorted(set(item["tags"]))
            rows.append(
                {
                    "text": item["text"],
                    "history": item["history"],
                    "risk_level": level,
                    "category": item["category"] if level != "none" else "",
                    "urgency": urgency_for(level, tags),
                    "lang": lang_for(tags),
                    "tags": tags,
                    "group": item["group"],
                }
            )
    rng.shuffle(rows)
    for i, row in enumerate(rows, 1):
        row["id"] = f"safety-train-{i:05d}"
    return [_ordered(row, SAFETY_KEYS) for row in rows]


SAFETY_KEYS = [
    "id",
    "text",
    "history",
    "risk_level",
    "category",
    "urgency",
    "lang",
    "tags",
    "group",
]
INTENT_KEYS = ["id", "text", "intent", "group"]


def _ordered(row: dict, keys: list[str]) -> dict:
    return {k: row[k] for k in keys}


def build_safety_test() -> list[dict]:
    rows = []

    def add(text, level, category, tags, history=None, split_tag=None):
        tags = sorted(set(tags) | ({split_tag} if split_tag else set()))
        rows.append(
            {
                "text": text,
                "history": history or [],
                "risk_level": level,
                "category": category if level != "none" else "",
                "urgency": urgency_for(level, tags),
                "lang": lang_for(tags),
                "tags": tags,
                "group": "",
            }
        )

    for entry in stest.HIGH:
        text, category, tags, *rest = entry
        add(text, "high", category, tags, rest[0] if rest else None)
    for entry in stest.MEDIUM:
        text, category, tags, *rest = entry
        add(text, "medium", category, tags, rest[0] if rest else None)
    for text, level, category, tags in stest.EDGE:
        add(text, level, category, tags, split_tag="edge_case")
    for text, category, tags in stest.LOW:
        add(text, "low", category, tags)
    for text in stest.CLEARLY_SAFE:
        tags = [t for t in ("es", "de") if _looks(text, t) or (t == "es" and "¿" in text)]
        add(text, "none", "", tags, split_tag="clearly_safe")
    for i, row in enumerate(rows, 1):
        row["id"] = f"safety-test-{i:04d}"
        row["group"] = row["id"]
    return [_ordered(row, SAFETY_KEYS) for row in rows]


# --- intent rows --------------------------------------------------------------------------------
_WITH_OPENER = {
    "probe_story",
    "probe_root",
    "reframe",
    "suggest_experiment",
    "offer_mindfulness",
    "safety_check",
    "emergency",
}


def build_intent_train(rng: random.Random) -> list[dict]:
    rows = []
    for intent, bodies in itrain.BODIES.items():
        seen: set[str] = set()
        chosen: list[tuple[str, int]] = []
        for group, body in enumerate(bodies):
            seen.add(normalise(body))
            chosen.append((body, group))
        leads, contents = itrain.COMPOSED[intent]
        for _ in range(INTENT_COMPOSED_PER_CLASS):
            lead, content = rng.choice(leads), rng.choice(contents)
            text = f"{lead} {content}".strip()
            text = text[0].upper() + text[1:]
            if normalise(text) not in seen:
                seen.add(normalise(text))
                chosen.append((text, f"c{contents.index(content)}"))
        attempts = 0
        while len(chosen) < INTENT_PER_CLASS and attempts < 20000:
            attempts += 1
            group = rng.randrange(len(bodies))
            parts = []
            if intent in _WITH_OPENER:
                parts.append(rng.choice(itrain.OPENERS))
            elif intent == "close":
                parts.append(rng.choice(itrain.CLOSE_OPENERS))
            elif intent == "other":
                parts.append(rng.choice(itrain.OTHER_OPENERS))
            parts.append(bodies[group])
            if intent == "validate" and rng.random() < 0.4:
                parts.append(rng.choice(bodies))
            parts.append(rng.choice(itrain.TAILS[intent]))
            text = " ".join(p for p in parts if p)
            if rng.random() < 0.15:
                text = text.lower()
            key = normalise(text)
            if key in seen:
                continue
            seen.add(key)
            chosen.append((text, group))
        for text, group in chosen:
            rows.append({"text": text, "intent": intent, "group": f"{intent}-{group}"})
    rng.shuffle(rows)
    for i, row in enumerate(rows, 1):
        row["id"] = f"intent-train-{i:05d}"
    return [_ordered(row, INTENT_KEYS) for row in rows]


def build_intent_test() -> list[dict]:
    rows = []
    for intent, texts in itest.TEST.items():
        for text in texts:
            rows.append({"text": text, "intent": intent})
    for i, row in enumerate(rows, 1):
        row["id"] = f"intent-test-{i:04d}"
        row["group"] = row["id"]
    return [_ordered(row, INTENT_KEYS) for row in rows]


# --- checks and output --------------------------------------------------------------------------
def assert_disjoint(train: list[dict], test: list[dict], name: str) -> None:
    train_texts = {normalise(r["text"]) for r in train}
    train_texts |= {normalise(h) for r in train for h in r.get("history", [])}
    overlap = sorted({r["id"] for r in test if normalise(r["text"]) in train_texts})
    if overlap:
        raise SystemExit(f"{name}: frozen test rows also appear in training: {overlap}")


def dumps(rows: list[dict]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n" for row in rows)


def build_all() -> dict[str, str]:
    rng = random.Random(SEED)
    safety_train = build_safety_train(rng)
    safety_test = build_safety_test()
    # Its own generator, so that a change to the safety banks leaves the intent rows as they are.
    intent_train = build_intent_train(random.Random(SEED + 1))
    intent_test = build_intent_test()
    assert_disjoint(safety_train, safety_test, "safety")
    assert_disjoint(intent_train, intent_test, "intent")
    outputs = {
        "safety_train": dumps(safety_train),
        "safety_test": dumps(safety_test),
        "intent_train": dumps(intent_train),
        "intent_test": dumps(intent_test),
    }
    manifest = {
        "seed": SEED,
        "files": {
            name: {
                "path": FILES[name].name,
                "rows": content.count("\n"),
                "sha256": hashlib.sha256(content.encode("utf-8")).hexdigest(),
            }
            for name, content in outputs.items()
        },
        "safety_train_levels": _count(safety_train, "risk_level"),
        "safety_test_levels": _count(safety_test, "risk_level"),
        "safety_test_edge_cases": sum("edge_case" in r["tags"] for r in safety_test),
        "safety_test_clearly_safe": sum("clearly_safe" in r["tags"] for r in safety_test),
        "intent_train_intents": _count(intent_train, "intent"),
        "intent_test_intents": _count(intent_test, "intent"),
    }
    outputs["manifest"] = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    return outputs


def _count(rows: list[dict], key: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[key]] = counts.get(row[key], 0) + 1
    return dict(sorted(counts.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if committed files are stale")
    args = parser.parse_args(argv)
    outputs = build_all()
    paths = {**FILES, "manifest": DATA_DIR / "MANIFEST.json"}
    if args.check:
        stale = [
            n
            for n, c in outputs.items()
            if not paths[n].exists() or paths[n].read_text("utf-8") != c
        ]
        if stale:
            print(
                f"stale dataset files: {', '.join(stale)}; "
                "run python -m training_jobs.datasets.build"
            )
            return 1
        print("datasets up to date")
        return 0
    for name, content in outputs.items():
        paths[name].write_text(content, encoding="utf-8")
    print(outputs["manifest"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
