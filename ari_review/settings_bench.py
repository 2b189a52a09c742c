"""Settings of the gunicorn that ``bench_chat --floor`` starts: production's, plus the
benchmark's floor endpoint (conversations.bench_urls). Never deploy with these."""

from ari_review.settings import *  # noqa: F403

ROOT_URLCONF = "conversations.bench_urls"
