"""Settings for the test suite: real PostgreSQL and Redis, overridable through the environment."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 48)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ari_review")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("MODEL_ARTIFACT_DIR", "/tmp/ari_review_test_models")
# Rate limits no test reaches by accident (tests/ari_review/test_accounts_security.py sets low
# ones where it means to).
for _scope in ("CHAT", "LOGIN", "EXPORT", "IMPORT"):
    os.environ.setdefault(f"ARI_THROTTLE_{_scope}", "100000/min")

from ari_review.settings import *  # noqa: E402,F403

SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
os.makedirs(STATIC_ROOT, exist_ok=True)  # noqa: F405
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405  (worker threads must not hold connections)
# A second database, SQLite (the quick start's default), for code that writes its own SQL and
# must work on both (ari_review.rows). Created only when a test asks for it.
DATABASES["sqlite"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}  # noqa: F405
