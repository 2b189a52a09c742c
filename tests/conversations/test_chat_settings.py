"""Chat runtime settings fail at start-up with a one-line message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start(**env) -> subprocess.CompletedProcess:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "DEBUG": "1",
        "DATABASE_URL": "sqlite:///var/settings-check.sqlite3",
        **env,
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']="
            "'ari_review.settings'; django.setup()",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"ARI_GENERATOR": "gpt"}, "ARI_GENERATOR"),
        ({"ARI_GENERATOR": "openai", "OPENAI_BASE_URL": "localhost:8000/v1"}, "OPENAI_BASE_URL"),
        ({"ARI_GENERATOR": "transformers"}, "TRANSFORMERS_MODEL_DIR"),
        ({"OPENAI_TIMEOUT": "soon"}, "OPENAI_TIMEOUT"),
        ({"OPENAI_STREAM": "maybe"}, "OPENAI_STREAM"),
    ],
)
def test_bad_chat_setting_stops_start_up_naming_it(env, name):
    result = start(**env)
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith(f"ari_review: configuration error: {name}")


def test_defaults_start():
    assert start().returncode == 0
