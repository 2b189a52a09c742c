"""Django settings for Ari Review. Every value from the environment is read via ``ari_review.env``.

Zero-setup default (nothing set, ``DEBUG=1``): a SQLite file in the repository and Celery tasks
run in-process. Production and tests: ``DATABASE_URL=postgres://...`` and ``REDIS_URL=redis://...``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from celery.schedules import crontab
from csp.constants import NONCE as CSP_NONCE

from ari_review.env import Env, EnvError

env = Env()

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env.bool("DEBUG", default=False)
_DEV_SECRET = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", _DEV_SECRET) if DEBUG else env.str("SECRET_KEY")
if not DEBUG and len(SECRET_KEY) < 50:
    raise EnvError("SECRET_KEY", "must be at least 50 characters when DEBUG is off")
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise EnvError("ALLOWED_HOSTS", "is required when DEBUG is off (comma-separated host names)")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "ari_review.superusers",  # before django.contrib.auth: createsuperuser with the policy
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",  # expiring, revocable API tokens (stored hashed)
    "axes",  # login lockout
    "django_otp",  # optional TOTP second factor (ari_review/two_factor.py)
    "django_otp.plugins.otp_totp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "ari_review",
    "conversations",
    "evaluation",
    "training_jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Headers of every dynamic response, then the request's edges (413, control characters).
    "csp.middleware.CSPMiddleware",
    "ari_review.headers.SecurityHeadersMiddleware",
    "ari_review.request_edges.RequestEdgesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "ari_review.audit_actor.AuditActorMiddleware",  # who made a role change (audit trail)
    "ari_review.two_factor.TwoFactorMiddleware",  # the second factor before anything else
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Rate limits of the pages that do what throttled API operations do (ari_review/throttles.py).
    "ari_review.throttles.PageThrottleMiddleware",
    # Turns a login refused by django-axes into the lockout page or JSON; keep it last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ari_review.urls"
WSGI_APPLICATION = "ari_review.wsgi.application"
ASGI_APPLICATION = "ari_review.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ari_review.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
DATABASES = {
    "default": env.database("DATABASE_URL", "sqlite:///db.sqlite3", base_dir=str(BASE_DIR))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and results, cache --------------------------------------------------
REDIS_URL = env.redis_url("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "ari",
            # A Redis that hangs must not hang a chat turn (breaker state, throttles).
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Without a broker, tasks run in-process (the zero-setup quick start).
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", 360, minimum=1)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ROUTES = {
    # Not latency-sensitive: the retention purge runs beside the other periodic jobs.
    "conversations.tasks.sessions_retention_purge_task": {"queue": "default"},
    # Masking recent messages for the workspace: off the chat queue (escalation e-mails).
    "conversations.tasks.message_masks_sweep_task": {"queue": "default"},
    "conversations.tasks.*": {"queue": "chat"},
    "training_jobs.tasks.*": {"queue": "training"},
    "evaluation.tasks.evaluation_run_task": {"queue": "training"},
}
# All periodic schedules, in one place.
CELERY_BEAT_SCHEDULE = {
    "evaluation-compute-metrics": {
        "task": "evaluation.tasks.metrics_compute_task",
        "schedule": crontab(minute="*/15"),
    },
    "evaluation-release-expired-locks": {
        "task": "evaluation.tasks.review_locks_release_task",
        "schedule": crontab(minute="*/5"),
    },
    "training-reconcile-stuck-jobs": {
        "task": "training_jobs.tasks.training_jobs_reconcile_task",
        "schedule": crontab(minute="*/10"),
    },
    "evaluation-reconcile-stuck-runs": {
        "task": "evaluation.tasks.evaluation_runs_reconcile_task",
        "schedule": crontab(minute="*/10"),
    },
    # Escalation e-mails (the outbox): sends whatever is pending and due, whether or not its
    # own task was ever queued. Expires rather than piling up while no worker runs.
    "conversations-dispatch-notifications": {
        "task": "conversations.tasks.notifications_dispatch_due_task",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}
# The workspace's masks of recent messages (docs/privacy-masking.md): every minute, off the chat
# turn; a sweep that does not run leaves them to the first page that shows the messages.
CELERY_BEAT_SCHEDULE["conversations-mask-recent-messages"] = {
    "task": "conversations.tasks.message_masks_sweep_task",
    "schedule": 60.0,
    "options": {"expires": 55},
}
# Retention (docs/privacy.md): every hour, sessions inactive for ARI_RETENTION_DAYS are deleted
# (never one with an open escalation); a no-op while the setting is 0 (off, the default).
CELERY_BEAT_SCHEDULE["conversations-retention-purge"] = {
    "task": "conversations.tasks.sessions_retention_purge_task",
    "schedule": crontab(minute=17),
    "options": {"expires": 3000},
}
ARI_RETENTION_DAYS = env.int("ARI_RETENTION_DAYS", 0, minimum=0)
# Releases (docs/releases.md): the monitor compares the canary arm with the control arm every
# few minutes and rolls back at once on a breach.
CELERY_BEAT_SCHEDULE["training-release-monitor"] = {
    "task": "training_jobs.tasks.release_monitor_task",
    "schedule": crontab(minute="*/5"),
    "options": {"expires": 240},
}
ARI_RELEASE_STAGING_DWELL_MINUTES = env.int("ARI_RELEASE_STAGING_DWELL_MINUTES", 24 * 60, minimum=0)
ARI_RELEASE_CANARY_DWELL_MINUTES = env.int("ARI_RELEASE_CANARY_DWELL_MINUTES", 24 * 60, minimum=0)
ARI_RELEASE_MIN_SAMPLE = env.int("ARI_RELEASE_MIN_SAMPLE", 300, minimum=1)
ARI_RELEASE_ALPHA = env.float("ARI_RELEASE_ALPHA", 0.01, minimum=0.0, maximum=0.5)
ARI_RELEASE_MAX_ERROR_RATE = env.float("ARI_RELEASE_MAX_ERROR_RATE", 0.01, minimum=0.0, maximum=1.0)
ARI_RELEASE_MAX_P95_MS = env.int("ARI_RELEASE_MAX_P95_MS", 3000, minimum=1)
ARI_RELEASE_MIN_REVIEWED = env.int("ARI_RELEASE_MIN_REVIEWED", 30, minimum=1)
ARI_RELEASE_MIN_RECALL = env.float("ARI_RELEASE_MIN_RECALL", 0.95, minimum=0.0, maximum=1.0)
# The approver of a promotion may not be who created the release or trained its models.
ARI_RELEASE_SEPARATE_APPROVER = env.bool("ARI_RELEASE_SEPARATE_APPROVER", default=False)
# Queueing from a chat turn (escalation e-mails) waits at most this long on the broker, then
# gives up without retrying; the sweep above sends what was not queued (ari_review/celery.py).
ARI_BROKER_PUBLISH_TIMEOUT_MS = env.int("ARI_BROKER_PUBLISH_TIMEOUT_MS", 150, minimum=1)

# --- Clinician workspace (evaluation app; documented in docs/settings-evaluation.md) ---------
# How long a clinician holds a queue item before somebody else may take it.
EVALUATION_LOCK_MINUTES = env.int("EVALUATION_LOCK_MINUTES", 15, minimum=1)
# Clinicians who must rate each session (high-risk and escalated sessions get the second number).
EVALUATION_REVIEWS_PER_SESSION = env.int("EVALUATION_REVIEWS_PER_SESSION", 1, minimum=1)
EVALUATION_REVIEWS_PER_HIGH_RISK_SESSION = env.int(
    "EVALUATION_REVIEWS_PER_HIGH_RISK_SESSION", 2, minimum=1
)
# Clinicians who must label each safety/intent item and compare each preference item
# (items the model thinks are high risk get the second number).
EVALUATION_LABELS_PER_ITEM = env.int("EVALUATION_LABELS_PER_ITEM", 1, minimum=1)
EVALUATION_LABELS_PER_HIGH_RISK_ITEM = env.int("EVALUATION_LABELS_PER_HIGH_RISK_ITEM", 2, minimum=1)
# Share (percent) of the other label items that are labelled twice anyway, for agreement.
EVALUATION_DOUBLE_LABEL_PERCENT = env.int("EVALUATION_DOUBLE_LABEL_PERCENT", 10, minimum=0)
# Random sessions added to the review queue each calendar month, at least.
EVALUATION_REVIEW_SAMPLE_PER_MONTH = env.int("EVALUATION_REVIEW_SAMPLE_PER_MONTH", 50, minimum=0)
# The random review sample picks a session of a release's canary arm this many times as often
# as another (docs/releases.md, "Review follows the canary"); 1 = no oversampling.
EVALUATION_REVIEW_CANARY_WEIGHT = env.int("EVALUATION_REVIEW_CANARY_WEIGHT", 5, minimum=1)
# Sessions whose lowest safety confidence is below this percentage are queued for review.
EVALUATION_LOW_CONFIDENCE_PERCENT = env.int("EVALUATION_LOW_CONFIDENCE_PERCENT", 60, minimum=0)
# Production messages kept open in each labelling queue (least certain first).
EVALUATION_LABEL_QUEUE_SIZE = env.int("EVALUATION_LABEL_QUEUE_SIZE", 500, minimum=0)
# Hide the model's suggestion while labelling unless the clinician turns it on.
EVALUATION_BLIND_LABELLING = env.bool("EVALUATION_BLIND_LABELLING", default=False)
# A dialogue's author may not approve it (four-eyes rule) unless this is on.
EVALUATION_ALLOW_SELF_APPROVAL = env.bool("EVALUATION_ALLOW_SELF_APPROVAL", default=False)
# Days of daily metrics recomputed by each run of the metrics job.
EVALUATION_METRICS_RECOMPUTE_DAYS = env.int("EVALUATION_METRICS_RECOMPUTE_DAYS", 2, minimum=1)
CELERY_BEAT_SCHEDULE["evaluation-refresh-work-queues"] = {
    "task": "evaluation.tasks.work_queues_refresh_task",
    "schedule": crontab(minute="*/5"),
}
# Monitoring (docs/monitoring.md): alert rules every 5 minutes; the blinded sample of sessions
# scored none/low for the live false-negative estimate every Monday at 06:00.
EVALUATION_LIVE_FN_SAMPLE_SIZE = env.int("EVALUATION_LIVE_FN_SAMPLE_SIZE", 100, minimum=0)
CELERY_BEAT_SCHEDULE["evaluation-evaluate-alerts"] = {
    "task": "evaluation.tasks.alerts_evaluate_task",
    "schedule": crontab(minute="*/5"),
    "options": {"expires": 280},
}
CELERY_BEAT_SCHEDULE["evaluation-live-fn-sample"] = {
    "task": "evaluation.tasks.live_fn_sample_task",
    "schedule": crontab(minute=0, hour=6, day_of_week=1),
}
CELERY_BEAT_SCHEDULE["evaluation-refresh-agreement"] = {
    "task": "evaluation.tasks.agreement_refresh_task",
    "schedule": crontab(minute="*/15"),
}
# --- End of clinician workspace --------------------------------------------------------------

# --- Email ------------------------------------------------------------------------------------
EMAIL_HOST = env.str("EMAIL_HOST", None)
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = env.str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# Directory of django.core.mail.backends.filebased.EmailBackend (bench_chat's fault phase).
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", None)
EMAIL_PORT = env.int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "Ari Review <no-reply@localhost>")
# Seconds an SMTP connection may block; a failed send is retried from the outbox.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", 10, minimum=1)
ONCALL_EMAILS = env.list("ONCALL_EMAILS", default=[])

# --- Auth, i18n, static -----------------------------------------------------------------------
# Every path that sets a password runs these (user_upsert, so create_user and seed_demo; the
# Django admin; changepassword and createsuperuser).
_VALIDATION = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATION}.UserAttributeSimilarityValidator"},
    {
        "NAME": f"{_VALIDATION}.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("ARI_PASSWORD_MIN_LENGTH", 12, minimum=8)},
    },
    {"NAME": f"{_VALIDATION}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATION}.NumericPasswordValidator"},
]
# django-axes: refuses logins (login page, Django admin, API token endpoint) after
# AXES_FAILURE_LIMIT failures for one username or from one client address, for the cool-off;
# an admin unlocks earlier with an audited action (ari_review/admin.py, manage.py unlock_login).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("ARI_LOGIN_FAILURE_LIMIT", 10, minimum=1)
# TOTP second factor (django-otp): optional for clinicians, admins and superusers; required of
# them all when ARI_2FA_REQUIRED=1 (ari_review/two_factor.py).
ARI_2FA_REQUIRED = env.bool("ARI_2FA_REQUIRED", default=False)
OTP_TOTP_ISSUER = "Ari Review"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the Django admin never shows a device's key
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ARI_LOGIN_LOCKOUT_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "ari_review.throttles.client_ip"
AXES_LOCKOUT_CALLABLE = "ari_review.views.login_lockout"
# The reverse proxies in front of the app that append to X-Forwarded-For (0: the socket's
# address is the client's). Login lockout and rate limits key anonymous clients on it.
ARI_PROXY_COUNT = env.int("ARI_PROXY_COUNT", 0, minimum=0)
# API tokens (django-rest-knox): stored hashed, valid this long, revoked by logout.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("ARI_API_TOKEN_TTL_HOURS", 12, minimum=1)),
    "TOKEN_LIMIT_PER_USER": env.int("ARI_API_TOKEN_LIMIT_PER_USER", 10, minimum=1),
    "AUTH_HEADER_PREFIX": "Token",
}
# Signed-in pages: the session ends this long after login, or when the browser closes.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE_MINUTES", 8 * 60, minimum=5) * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MODEL_ARTIFACT_DIR = Path(env.str("MODEL_ARTIFACT_DIR", str(BASE_DIR / "var" / "models")))

# --- Security (on by default when DEBUG is off) -----------------------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True  # pages send the token from the form field, never from the cookie
CSRF_FAILURE_VIEW = "ari_review.views.csrf_failure"  # a plain-words page, not Django's reason
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Input edges and response headers (ari_review/request_edges.py, headers.py) -------------
# Larger bodies are a 413 before they are read; multipart uploads (imports) get the second limit.
ARI_MAX_REQUEST_BYTES = env.int("ARI_MAX_REQUEST_BYTES", 1024 * 1024, minimum=1024)
ARI_MAX_UPLOAD_BYTES = env.int("ARI_MAX_UPLOAD_BYTES", 20 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = ARI_MAX_REQUEST_BYTES
# JSON nested deeper than this is a 400 (API bodies and imported files).
ARI_MAX_JSON_DEPTH = env.int("ARI_MAX_JSON_DEPTH", 20, minimum=2)
SECURE_REFERRER_POLICY = env.str("SECURE_REFERRER_POLICY", "same-origin")
ARI_PERMISSIONS_POLICY = env.str(
    "ARI_PERMISSIONS_POLICY",
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), payment=(), usb=()",
)
# Scripts only from this site or carrying the request's nonce; no inline script, no eval.
_CSP_DIRECTIVES = {
    "default-src": ["'self'"],
    "script-src": ["'self'", CSP_NONCE],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
if env.str("ARI_CSP_REPORT_URI", None):
    _CSP_DIRECTIVES["report-uri"] = [env.str("ARI_CSP_REPORT_URI", None)]
if env.bool("ARI_CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": _CSP_DIRECTIVES}
else:
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": _CSP_DIRECTIVES}

# --- REST framework ---------------------------------------------------------------------------
# Requests per user (per client address when anonymous) of each throttle scope; over it: 429
# with Retry-After. Counted in the default cache; when the cache is down, requests pass (logged).
ARI_THROTTLE_RATES = {
    "chat": env.rate("ARI_THROTTLE_CHAT", "30/min"),
    "login": env.rate("ARI_THROTTLE_LOGIN", "20/min"),
    "export": env.rate("ARI_THROTTLE_EXPORT", "60/hour"),
    "import": env.rate("ARI_THROTTLE_IMPORT", "30/hour"),
}
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "knox.auth.TokenAuthentication",
    ],
    # Per-user (else per-address) rate limits of the views that name a throttle_scope.
    "DEFAULT_THROTTLE_CLASSES": ["ari_review.throttles.ScopedThrottle"],
    "DEFAULT_THROTTLE_RATES": ARI_THROTTLE_RATES,
    "NUM_PROXIES": ARI_PROXY_COUNT,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "ari_review.api.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "ari_review.api.errors.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "ari_review.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )
SPECTACULAR_SETTINGS = {
    "TITLE": "Ari Review API",
    "DESCRIPTION": "Chat runtime, clinician workspace and model registry of Ari Review.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets used by several serializers get one name each (conversations.models).
    "ENUM_NAME_OVERRIDES": {
        "ReleaseStageEnum": "conversations.models.ReleaseStage",
        "SessionStatusEnum": "conversations.models.ChatSession.Status",
    },
}

# --- Logging: ids only, never message text ----------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    # django-axes: failures and lockouts (warnings, usernames and addresses masked), not chatter.
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Chat runtime (conversations app; documented in docs/settings-chat.md) --------------------
# Which generation backend writes Ari's replies: approved (default; clinician-approved content,
# no network, no weights), openai (any OpenAI-compatible Chat Completions server) or
# transformers (a local causal LM directory). A dotted path to a Generator class also works.
# Load the classifiers and the encoder when a server process starts (ari_review.wsgi), so the
# first turn of a fresh worker does not wait for them.
ARI_WARM_ON_START = env.bool("ARI_WARM_ON_START", default=True)
# A turn that arrives while they load waits this long for the safety model, then the rule net
# decides (at least medium risk), so a high-risk message gets its emergency reply at once.
ARI_SAFETY_WARM_WAIT_S = env.float("ARI_SAFETY_WARM_WAIT_S", 2.0, minimum=0.0)
_GENERATORS = ("composed", "approved", "openai", "transformers")
ARI_GENERATOR = env.str("ARI_GENERATOR", "composed")
# The approved backend lets the active reward model (a "reward" model version) choose among its
# best few candidates; off by default (docs/evaluation-runs.md).
ARI_REWARD_RERANK = env.bool("ARI_REWARD_RERANK", default=False)
ARI_REWARD_RERANK_TOP = env.int("ARI_REWARD_RERANK_TOP", 3, minimum=2)
ARI_CRISIS_LOCALE = env.str("ARI_CRISIS_LOCALE", "US")
# Users in this group (plus ONCALL_EMAILS) are notified of escalations; empty group: all clinicians.
ARI_ONCALL_GROUP = env.str("ARI_ONCALL_GROUP", "oncall")
# Base URL used in links of notification e-mails.
ARI_PUBLIC_URL = env.str("ARI_PUBLIC_URL", "http://127.0.0.1:8000")
# Admin-edited chat configuration (fixed replies, persona, catalogue) is cached this long.
ARI_CONFIG_CACHE_SECONDS = env.int("ARI_CONFIG_CACHE_SECONDS", 5, minimum=0)
# How many earlier user turns the safety classifier reads with the new message.
ARI_SAFETY_HISTORY_TURNS = env.int("ARI_SAFETY_HISTORY_TURNS", 3, minimum=0)
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", "https://api.openai.com/v1")
OPENAI_MODEL = env.str("OPENAI_MODEL", "gpt-4o-mini")
OPENAI_API_KEY = env.str("OPENAI_API_KEY", "")
OPENAI_TIMEOUT = env.int("OPENAI_TIMEOUT", 20, minimum=1)
OPENAI_MAX_RETRIES = env.int("OPENAI_MAX_RETRIES", 1, minimum=0)
OPENAI_STREAM = env.bool("OPENAI_STREAM", default=True)
OPENAI_MAX_TOKENS = env.int("OPENAI_MAX_TOKENS", 300, minimum=1)
# Wall-clock deadline of one generation call (connect, every chunk, parsing, retries included),
# seconds, decimals allowed; OPENAI_TIMEOUT still caps the openai backend (the smaller wins).
ARI_GENERATION_DEADLINE_S = env.float("ARI_GENERATION_DEADLINE_S", 8.0, minimum=0.1, maximum=300)
# Circuit breaker of each generation backend but approved (conversations/backends/generation/
# breaker.py): this many failures in a row open it; calls are refused for the cool-down.
ARI_GENERATION_BREAKER_FAILURES = env.int("ARI_GENERATION_BREAKER_FAILURES", 5, minimum=1)
ARI_GENERATION_BREAKER_COOLDOWN_S = env.int("ARI_GENERATION_BREAKER_COOLDOWN_S", 30, minimum=1)
# Optional second opinion on messages in the safety model's possible-risk band: an
# OpenAI-compatible guard model (conversations/backends/safety_judge.py). Off when unset.
ARI_SAFETY_JUDGE_URL = env.str("ARI_SAFETY_JUDGE_URL", "")
ARI_SAFETY_JUDGE_MODEL = env.str("ARI_SAFETY_JUDGE_MODEL", "llama-guard")
ARI_SAFETY_JUDGE_API_KEY = env.str("ARI_SAFETY_JUDGE_API_KEY", "")
ARI_SAFETY_JUDGE_TIMEOUT = env.int("ARI_SAFETY_JUDGE_TIMEOUT_MS", 2000, minimum=50) / 1000.0
if ARI_SAFETY_JUDGE_URL and not ARI_SAFETY_JUDGE_URL.startswith(("http://", "https://")):
    raise EnvError("ARI_SAFETY_JUDGE_URL", "must start with http:// or https://")
# Text sent to an LLM server is masked (ari_review.privacy.masking.mask_messages: e-mails, phone
# numbers, URLs, names) unless that server is trusted (local, under our control): ARI_LLM_TRUSTED
# is the default of both per-server settings (docs/privacy.md).
ARI_LLM_TRUSTED = env.bool("ARI_LLM_TRUSTED", default=False)
OPENAI_TRUSTED = env.bool("OPENAI_TRUSTED", default=ARI_LLM_TRUSTED)
ARI_SAFETY_JUDGE_TRUSTED = env.bool("ARI_SAFETY_JUDGE_TRUSTED", default=ARI_LLM_TRUSTED)
TRANSFORMERS_MODEL_DIR = env.str("TRANSFORMERS_MODEL_DIR", "")
TRANSFORMERS_ADAPTER_DIR = env.str("TRANSFORMERS_ADAPTER_DIR", "")
TRANSFORMERS_MAX_NEW_TOKENS = env.int("TRANSFORMERS_MAX_NEW_TOKENS", 120, minimum=1)
if ARI_GENERATOR not in _GENERATORS and "." not in ARI_GENERATOR:
    raise EnvError(
        "ARI_GENERATOR", "must be composed, approved, openai, transformers or a class path"
    )
if ARI_GENERATOR == "openai" and not OPENAI_BASE_URL.startswith(("http://", "https://")):
    raise EnvError("OPENAI_BASE_URL", "must start with http:// or https://")
if ARI_GENERATOR == "transformers" and not TRANSFORMERS_MODEL_DIR:
    raise EnvError("TRANSFORMERS_MODEL_DIR", "is required when ARI_GENERATOR=transformers")
