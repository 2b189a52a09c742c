"""The project's rules on top of django-environ (ari_review/env.py), one variable at a time;
tests/ari_review/test_settings_env.py starts the real settings with bad values."""

from __future__ import annotations

import pytest

from ari_review.env import Env, EnvError


def env_of(**values: str) -> Env:
    env = Env()
    env.ENVIRON = values
    return env


def error_line(excinfo) -> str:
    return str(excinfo.value.code)


def test_an_empty_value_is_unset_and_its_default_applies():
    env = env_of(PORT="", NAME="  ")
    assert env.int("PORT", 587) == 587
    assert env.str("NAME", "x") == "x"


def test_a_missing_required_value_names_the_variable():
    with pytest.raises(EnvError) as excinfo:
        env_of().str("SECRET_KEY")
    assert (
        error_line(excinfo) == "ari_review: configuration error: SECRET_KEY is required but not set"
    )


@pytest.mark.parametrize("word", ["maybe", "enabled", "2"])
def test_a_boolean_that_is_no_known_word_is_refused_not_read_as_false(word):
    with pytest.raises(EnvError, match=f"FLAG must be a boolean .* got '{word}'"):
        env_of(FLAG=word).bool("FLAG", default=True)


@pytest.mark.parametrize(("word", "value"), [("1", True), ("Yes", True), ("off", False)])
def test_boolean_words(word, value):
    assert env_of(FLAG=word).bool("FLAG", default=not value) is value


def test_numbers_are_parsed_and_bounded():
    env = env_of(N="7", LOW="0", F="2.5", NAN="nan", WORD="soon")
    assert env.int("N", 1, minimum=1) == 7
    assert env.float("F", 1.0, maximum=3) == 2.5
    with pytest.raises(EnvError, match="LOW must be at least 1, got 0"):
        env.int("LOW", 1, minimum=1)
    with pytest.raises(EnvError, match="F must be at most 2"):
        env.float("F", 1.0, maximum=2)
    with pytest.raises(EnvError, match="NAN must be a number"):
        env.float("NAN", 1.0)
    with pytest.raises(EnvError, match="WORD must be an integer, got 'soon'"):
        env.int("WORD", 1)


def test_lists_are_stripped_and_a_leading_dollar_is_kept():
    env = env_of(HOSTS=" a.org , b.org,", KEY="$not-a-reference")
    assert env.list("HOSTS", default=[]) == ["a.org", "b.org"]
    assert env.str("KEY") == "$not-a-reference"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mysql://db/x", "unsupported scheme 'mysql'"),
        ("postgres://host-without-db", "must look like postgres://"),
        ("postgres://h:notaport/db", "port that is not a number"),
        ("sqlite://relative", "must look like sqlite:///"),
    ],
)
def test_bad_database_urls_are_refused(url, problem):
    with pytest.raises(EnvError, match=problem):
        env_of(DATABASE_URL=url).database("DATABASE_URL", "sqlite:///x", base_dir="/srv")


def test_database_urls_become_django_settings():
    env = env_of(DATABASE_URL="postgres://ari:pw@db.internal/ari")
    config = env.database("DATABASE_URL", "sqlite:///x", base_dir="/srv")
    assert (config["ENGINE"], config["NAME"], config["USER"], config["HOST"], config["PORT"]) == (
        "django.db.backends.postgresql",
        "ari",
        "ari",
        "db.internal",
        "5432",
    )
    assert config["CONN_MAX_AGE"] == 60
    sqlite = env_of().database("DATABASE_URL", "sqlite:///db.sqlite3", base_dir="/srv")
    assert (sqlite["ENGINE"], sqlite["NAME"]) == ("django.db.backends.sqlite3", "/srv/db.sqlite3")


def test_rates_and_redis_urls_are_checked():
    env = env_of(RATE="30/min", BAD="3/fortnight", REDIS="http://h:6379")
    assert env.rate("RATE", "1/s") == "30/min"
    with pytest.raises(EnvError, match="BAD must look like 30/min"):
        env.rate("BAD", "1/s")
    with pytest.raises(EnvError, match="REDIS must look like redis://"):
        env.redis_url("REDIS")
    assert env_of().redis_url("REDIS") is None
