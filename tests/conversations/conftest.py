"""Fixtures of the chat runtime tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from conversations.backends.base import GeneratedReply, GenerationRequest, RiskAssessment
from conversations.backends.generation import generators_reset
from conversations.services import session_create
from conversations.services.filter.apply import _filter_remembered
from evaluation.services.starter import starter_content_load
from tests.conversations.helpers import shipped_catalogue
from tests.factories import UserFactory
from tests.training_jobs.fixtures import activate_trained_models, trained_models  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_chat_runtime(settings):
    """No cached configuration (tests/conftest.py clears the TTL cache), generators or response
    filter results leak from one test into another."""
    settings.ARI_CONFIG_CACHE_SECONDS = 0
    settings.ARI_GENERATOR = "approved"
    generators_reset()
    _filter_remembered.cache_clear()
    yield
    generators_reset()
    _filter_remembered.cache_clear()


@pytest.fixture
def starter_content(db):
    """The crisis catalogue, persona, fixed replies and approved starter dialogues."""
    return starter_content_load()


@pytest.fixture
def active_models(db, trained_models):  # noqa: F811
    """The real (linear) safety and intent classifiers, active in the test database."""
    return activate_trained_models(trained_models)


@pytest.fixture
def chat_ready(starter_content, active_models):
    """Everything a chat turn needs, as after the quick start."""
    return active_models


@pytest.fixture
def other_enduser(db):
    return UserFactory(username="bob", role="enduser")


@pytest.fixture
def session(enduser):
    return session_create(user=enduser, session_type="gentle_deep")


@pytest.fixture
def us_catalogue():
    """The shipped catalogue (US entries and the others) as the filter sees it (no database)."""
    return shipped_catalogue()


@dataclass
class RecordingGenerator:
    """A generator that records what it was asked and answers with fixed text (or fails)."""

    text: str = "That sounds like a lot. What feels most important right now?"
    fail: Exception | None = None
    name: str = "recording"
    requests: list[GenerationRequest] = field(default_factory=list)

    def generate(self, request: GenerationRequest) -> GeneratedReply:
        self.requests.append(request)
        if self.fail is not None:
            raise self.fail
        return GeneratedReply(text=self.text, backend=self.name, model="recording-1")


@dataclass
class FixedRisk:
    """A safety classifier double for tests about the pipeline, not the model: ``level`` for
    every message except those listed in ``overrides``; it records what it was given."""

    level: str
    overrides: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    category: str = ""  # the family below high ("" by default)
    rule_hits: tuple[str, ...] = ()

    def assess(self, text, history=()):
        self.calls.append((text, tuple(history)))
        level = self.overrides.get(text, self.level)
        score = {"none": 0.02, "low": 0.1, "medium": 0.4, "high": 0.95}[level]
        category = "suicidal_ideation" if level == "high" else self.category
        return RiskAssessment(level, category, level, score, f"fixed-{self.level}", self.rule_hits)


@pytest.fixture
def recording_generator():
    return RecordingGenerator()
