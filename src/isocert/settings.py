"""isocert settings: one file, read from the environment.

Every value has a default that gives a working local install (SQLite under
``var/``, e-mails printed to the console). Typed helpers fail loudly on a value
they cannot read, so a typo in production stops the start instead of being
silently ignored.
"""

import os
from decimal import Decimal, InvalidOperation
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("ISOCERT_VAR_DIR", PROJECT_DIR / "var"))

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}")


def env_decimal(name: str, default: str) -> Decimal:
    raw = os.environ.get(name, default)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}")
    if not value.is_finite() or value < 0:
        raise ImproperlyConfigured(f"{name} must be a number of at least 0, not {raw!r}")
    return value


def env_fraction(name: str, default: float, *, low: float = 0.0, high: float = 1.0) -> float:
    """A fraction such as 0.90 (not 90), within ``low`` … ``high``."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a fraction such as 0.9, not {raw!r}")
    if not (low <= value <= high):
        raise ImproperlyConfigured(f"{name} must be a fraction between {low} and {high}, "
                                   f"not {raw!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_days_list(name: str, default: list[int]) -> list[int]:
    """Whole numbers of days, e.g. "180,90,30" → [180, 90, 30] (largest first, each > 0)."""
    raw = os.environ.get(name)
    if raw is None:
        return sorted(default, reverse=True)
    try:
        values = [int(item) for item in raw.split(",") if item.strip()]
    except ValueError:
        values = []
    if not values or any(value <= 0 for value in values):
        raise ImproperlyConfigured(f"{name} must be whole numbers of days above 0 separated "
                                   f"by commas, such as 180,90,30, not {raw!r}")
    return sorted(set(values), reverse=True)


def env_secret(name: str, default_file: Path) -> str:
    """A secret from the variable ``NAME``, else from the file ``NAME_FILE`` (default
    ``default_file`` when it exists). A ``NAME_FILE`` set explicitly must be readable."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    explicit = os.environ.get(f"{name}_FILE")
    path = Path(explicit) if explicit else default_file
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        if explicit:
            raise ImproperlyConfigured(f"{name}_FILE names {path}, which does not exist")
        return ""
    except OSError as exc:
        raise ImproperlyConfigured(f"{name}_FILE {path} cannot be read: {exc}")


DEBUG = env_bool("DEBUG", False)
# The key that signs sessions, e-mail confirmation and password-reset links. Never a
# default in production: with DEBUG off and no key the start is refused (isocert.E001,
# core/checks.py; the WSGI/ASGI applications run that check before serving). `make run`
# creates a random key for the local installation in var/secret-key, read from there.
DEVELOPMENT_SECRET_KEY = "insecure-development-key-for-DEBUG-only-never-in-production"
SECRET_KEY = env_secret("SECRET_KEY", VAR_DIR / "secret-key")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # Before django_tasks_db: its `db_worker` command is core's, which keeps the worker
    # running when SQLite is locked (core/management/commands/db_worker.py).
    "isocert.core",
    "django_tasks_db",
    # Its templates and static files: /api/v1/docs serves Swagger UI from /static/ (the
    # default, without the app, loads it from a CDN: no docs offline, no strict CSP).
    "ninja",
    "isocert.accounts",
    "isocert.catalog",
    "isocert.impartiality",
    "isocert.registration",
    "isocert.readiness",
    "isocert.improvement",
    "isocert.audits",
    "isocert.certification",
    "isocert.registry",
    "isocert.energy",
    "isocert.complaints",
    "isocert.notifications",
    "isocert.portal",
]

MIDDLEWARE = [
    # Outermost: the request id and the per-request log line cover every answer (issue #16).
    "isocert.core.requestlog.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Above WhiteNoise: every answer Django makes carries them.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # HTML pages: NUL in the path, query, form or cookies answers 404/400, not a 500.
    "isocert.core.input_checks.UnstorableInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "isocert.core.headers.PrivateResponsesNotStoredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "isocert.accounts.middleware.StaffMFARequiredMiddleware",
    "isocert.core.api.ApiErrorShapeMiddleware",
]

ROOT_URLCONF = "isocert.urls"
WSGI_APPLICATION = "isocert.wsgi.application"

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
                # The CSP nonce for templates that need one (the Django admin's).
                "django.template.context_processors.csp",
                "isocert.portal.context_processors.portal",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'isocert.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 600), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets readers work while one writer writes; IMMEDIATE transactions take
    # the write lock up front so concurrent writers queue (busy timeout) instead
    # of failing with "database is locked" half-way through a transaction. Reads go
    # through a memory map of up to SQLITE_MMAP_MB (no copy per page read: the public
    # registry's random lookups in a large file are a third faster).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            f"PRAGMA mmap_size={env_int('SQLITE_MMAP_MB', 1024) * 1024 * 1024};"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT_SECONDS", 20),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0 if DEBUG else DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's own cursors bind parameters on the client and are never prepared; the
    # public registry's lookups use psycopg's server-side-binding cursor, which prepares a
    # statement from its fifth run on a connection (planning the verification's query
    # cost more than running it). 0 disables (e.g. behind an old PgBouncer in transaction
    # mode, which cannot keep prepared statements).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        env_int("PG_PREPARE_THRESHOLD", 5) or None)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Authentication (django-allauth) --------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "landing"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[isocert] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
ACCOUNT_ADAPTER = "isocert.accounts.adapter.AccountAdapter"
# Failed log-ins: at most 10 a minute per IP and 5 per 5 minutes per account.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env_str("LOGIN_RATE_LIMIT", "10/m/ip,5/300s/key"),
}
ACCOUNT_RATE_LIMITS_ENABLED = env_bool("RATE_LIMITS_ENABLED", True)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "isocert")
# A right code used a second time within its window is named as such, not "Incorrect code."
MFA_ADAPTER = "isocert.accounts.mfa_adapter.MFAAdapter"
MFA_FORMS = {"authenticate": "isocert.accounts.mfa_adapter.UsedCodeAuthenticateForm",
             "reauthenticate": "isocert.accounts.mfa_adapter.UsedCodeReauthenticateForm"}
# Invitations e-mail any address from the CB's: at most this many per inviting user and
# per organization in any 24 hours (counted from the invitations table: every server).
# API lists (core/pagination.py): items per answer without ``limit``, and the most ``limit``
# may ask for — every list is paginated so its cost does not grow with the data (issue #19).
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 50)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 200)
if not 1 <= API_PAGE_SIZE <= API_MAX_PAGE_SIZE:
    raise ImproperlyConfigured("API_PAGE_SIZE must be at least 1 and at most API_MAX_PAGE_SIZE.")
INVITATIONS_PER_USER_PER_DAY = env_int("INVITATIONS_PER_USER_PER_DAY", 20)
INVITATIONS_PER_ORGANIZATION_PER_DAY = env_int("INVITATIONS_PER_ORGANIZATION_PER_DAY", 50)
# CB staff's personal access tokens reach every client's data: they live at most this long.
STAFF_TOKEN_MAX_DAYS = env_int("STAFF_TOKEN_MAX_DAYS", 90)

# Shared by every server process (log-in rate limits, used TOTP codes); in Redis with
# REDIS_URL (the scale-out block below).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "isocert_cache",
    },
    # Per server process, in memory: the public directory's short-lived search results
    # (a database write per public request would cap its throughput). With REDIS_URL a
    # version in Redis, part of each key, drops them on every server (registry/directory.py).
    "public_search": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "isocert-public-search",
        "OPTIONS": {"MAX_ENTRIES": 50_000},
    },
}

# --- Background tasks ---------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": {
            "db": "django_tasks_db.DatabaseBackend",
            "immediate": "django.tasks.backends.immediate.ImmediateBackend",
        }.get(env_str("TASKS_BACKEND", "db"), "django_tasks_db.DatabaseBackend"),
    }
}

# --- E-mail ---------------------------------------------------------------------------
_EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
MAILERS = {"default": {"BACKEND": _EMAIL_BACKEND}}
if _EMAIL_BACKEND.endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": env_str("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 25),
        "username": env_str("EMAIL_HOST_USER", ""),
        "password": env_str("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "timeout": env_int("EMAIL_TIMEOUT_SECONDS", 20),
    }
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "isocert <no-reply@isocert.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Files ----------------------------------------------------------------------------
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_MB", 20) * 1024 * 1024
# Office documents are zip archives, inspected by what they declare before anything is
# unpacked (core.files.open_checked_zip): a large report has a few hundred parts, and Office
# XML compresses about 10:1, so 20 MB unpack to ~200 MB; zeros compress 1000:1 (zip bombs).
UPLOAD_ZIP_MAX_MEMBERS = env_int("UPLOAD_ZIP_MAX_MEMBERS", 10_000)
UPLOAD_ZIP_MAX_UNCOMPRESSED_BYTES = env_int("UPLOAD_ZIP_MAX_UNCOMPRESSED_MB", 256) * 1024 * 1024
UPLOAD_ZIP_MAX_RATIO = env_int("UPLOAD_ZIP_MAX_RATIO", 100)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Scale-out: several app servers on one database (docs/configuration.md) ------------
# Without these the portal runs on one machine: the in-process state below stays in each
# process, media files on the local disk.
# REDIS_URL (redis://host:6379/0): the default cache (log-in rate limits, used TOTP codes,
# cached sessions) moves from the database to Redis, and the public registry shares its
# rate limit, its lookup counters and its directory-cache version between every process
# (core/shared_store.py). REDIS_KEY_PREFIX keeps two installations on one Redis apart.
REDIS_URL = env_str("REDIS_URL", "").strip()
REDIS_KEY_PREFIX = env_str("REDIS_KEY_PREFIX", "isocert")
if REDIS_URL:
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_KEY_PREFIX,
    }
# Sessions live in the database; "cached_db" also keeps them in the default cache (reads
# from Redis, writes to both), "cache" in the cache only (lost when Redis is flushed).
_SESSION_ENGINES = {"db": "django.contrib.sessions.backends.db",
                    "cached_db": "django.contrib.sessions.backends.cached_db",
                    "cache": "django.contrib.sessions.backends.cache"}
_session_engine = env_str("SESSION_ENGINE", "db")
if _session_engine not in _SESSION_ENGINES and _session_engine not in _SESSION_ENGINES.values():
    raise ImproperlyConfigured(
        f"SESSION_ENGINE must be one of {', '.join(_SESSION_ENGINES)}, not {_session_engine!r}")
SESSION_ENGINE = _SESSION_ENGINES.get(_session_engine, _session_engine)
# Seconds between two writes of the public lookup counts to the database (one process at a
# time does it: registry/lookups.py); a process also writes its counts when it stops.
LOOKUP_FLUSH_SECONDS = env_int("LOOKUP_FLUSH_SECONDS", 10)
if LOOKUP_FLUSH_SECONDS < 1:
    raise ImproperlyConfigured("LOOKUP_FLUSH_SECONDS must be at least 1.")
# MEDIA_STORAGE=s3: uploads, certificate PDFs and registry files in an S3-compatible bucket
# (django-storages), private: no public or signed links are handed out, every download goes
# through the portal's permission-checked views, which read the object and stream it.
MEDIA_STORAGE = env_str("MEDIA_STORAGE", "local").strip().lower()
if MEDIA_STORAGE == "s3":
    _bucket = env_str("AWS_STORAGE_BUCKET_NAME", "").strip()
    if not _bucket:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME.")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _bucket,
            # Empty: the AWS default (or, for the keys, boto3's own chain: instance roles).
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("AWS_S3_REGION_NAME", "") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID", "") or None,
            "secret_key": env_secret("AWS_SECRET_ACCESS_KEY", VAR_DIR / "aws-secret-access-key")
            or None,
            # "path" for stores that serve buckets under the address' path (MinIO, moto).
            "addressing_style": env_str("AWS_S3_ADDRESSING_STYLE", "") or None,
            "location": env_str("AWS_LOCATION", ""),
            "default_acl": "private",
            "querystring_auth": True,
            # Stored files are named by their SHA-256: the same name is the same content.
            "file_overwrite": True,
            # A file read from the bucket is kept in memory up to this size, beyond it in a
            # temporary file (a registry import of 300 MB is read by the worker).
            "max_memory_size": 20 * 1024 * 1024,
        },
    }
elif MEDIA_STORAGE != "local":
    raise ImproperlyConfigured(f"MEDIA_STORAGE must be local or s3, not {MEDIA_STORAGE!r}")
# --- End of scale-out -----------------------------------------------------------------

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# The display formats of dates and times (core/formats/<lang>/formats.py): "6 Dec 2026" and
# "6 Dec 2026, 14:30" on pages, in e-mails and in PDFs; another LANGUAGE_CODE with its own
# module there changes them everywhere (docs/configuration.md).
FORMAT_MODULE_PATH = ["isocert.core.formats"]

# --- Security -------------------------------------------------------------------------
SESSION_COOKIE_SECURE = not DEBUG and SITE_URL.startswith("https")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A failed CSRF check shows the portal's page, not Django's bare one (issue #19).
CSRF_FAILURE_VIEW = "isocert.core.errorpages.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SESSION_COOKIE_SECURE)
# Reverse proxies in front of the app whose X-Forwarded-For entries are trusted. One
# setting for every reader of the client address (core/client_address.py): allauth's
# log-in limits, the API's throttles and the public pages' limit.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(f"TRUSTED_PROXY_COUNT must be 0 or more, not {TRUSTED_PROXY_COUNT}")
NINJA_NUM_PROXIES = TRUSTED_PROXY_COUNT or None
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if SESSION_COOKIE_SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS >= 31_536_000)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy of every page: scripts, styles, fonts and requests from this
# origin only, no inline script or style, no plugins, no framing (OWASP ASVS 4.0 V14.4.3:
# a CSP that limits the harm of an injection). The portal's templates have no inline script, event handler or style
# attribute (tests/core/test_security_headers.py keeps it so); the nonce is only sent
# with a page that uses it — the Django admin's change list has a <style nonce=...>.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Browser features the portal never uses, refused to it and to anything it might embed.
PERMISSIONS_POLICY = {
    feature: [] for feature in (
        "accelerometer", "ambient-light-sensor", "autoplay", "bluetooth", "browsing-topics",
        "camera", "display-capture", "encrypted-media", "geolocation", "gyroscope", "hid",
        "idle-detection", "interest-cohort", "magnetometer", "microphone", "midi", "payment",
        "screen-wake-lock", "serial", "usb", "xr-spatial-tracking",
    )
}

# --- The certification body ---------------------------------------------------------
CB_NAME = env_str("CB_NAME", "isocert Certification Body")
CB_ADDRESS = env_str("CB_ADDRESS", "1 Assurance Street, 10115 Berlin, Germany")
REGISTRATION_NUMBER_FORMAT = env_str("REGISTRATION_NUMBER_FORMAT", "REG-{year}-{seq:06d}")
QUOTATION_NUMBER_FORMAT = env_str("QUOTATION_NUMBER_FORMAT", "QUO-{year}-{seq:06d}")
QUOTATION_DAY_RATE = env_decimal("QUOTATION_DAY_RATE", "1250.00")
QUOTATION_CURRENCY = env_str("QUOTATION_CURRENCY", "EUR")
QUOTATION_VAT_PERCENT = env_decimal("QUOTATION_VAT_PERCENT", "19")
QUOTATION_VALIDITY_DAYS = env_int("QUOTATION_VALIDITY_DAYS", 90)
# Certification audits (ISO/IEC 17021-1 §9.3–9.4; CB practice where marked [P]).
STAGE2_MAX_MONTHS_AFTER_STAGE1 = env_int("STAGE2_MAX_MONTHS_AFTER_STAGE1", 6)
CORRECTIVE_PLAN_DUE_DAYS = env_int("CORRECTIVE_PLAN_DUE_DAYS", 30)
MAJOR_VERIFICATION_DUE_DAYS = env_int("MAJOR_VERIFICATION_DUE_DAYS", 90)
IMPARTIALITY_COOLING_OFF_YEARS = env_int("IMPARTIALITY_COOLING_OFF_YEARS", 2)
# Stage 1's share of the initial audit time (the rest is stage 2), e.g. "1/3" or "1/4".
AUDIT_TIME_STAGE1_SHARE = env_str("AUDIT_TIME_STAGE1_SHARE", "1/3")
# Certificates (ISO/IEC 17021-1 §8.2, §9.6). Number fields: {std} (e.g. ISO50001, IMS
# for several standards), {year} (of the decision), {seq} (gap-free per std and year).
CERTIFICATE_NUMBER_FORMAT = env_str("CERTIFICATE_NUMBER_FORMAT", "{std}-{year}-{seq:06d}")
SUSPENSION_MAX_MONTHS = env_int("SUSPENSION_MAX_MONTHS", 6)
SUSPENSION_REMINDER_DAYS = env_int("SUSPENSION_REMINDER_DAYS", 14)
# A suspension that runs out is never left standing (ISO/IEC 17021-1 §9.6.5): the daily
# run proposes withdrawal or scope reduction to the CB, and withdraws the certificate this
# many days later unless the CB restored, reduced, withdrew or extended it.
SUSPENSION_WITHDRAWAL_GRACE_DAYS = env_int("SUSPENSION_WITHDRAWAL_GRACE_DAYS", 14)
# A suspension may be extended once, by at most this many months after its end (CB policy:
# the standard fixes no figure).
SUSPENSION_EXTENSION_MAX_MONTHS = env_int("SUSPENSION_EXTENSION_MAX_MONTHS", 3)
RESTORATION_WINDOW_MONTHS = env_int("RESTORATION_WINDOW_MONTHS", 6)
# Edition transitions (IAF transition notices, e.g. IAF MD 26:2023): the daily run warns the
# client's people and the CB this many days before the transition deadline of a certificate
# still on the superseded edition, once per lead time. The notices set the deadline, not the
# warnings: CB policy.
TRANSITION_WARNING_DAYS = env_days_list("TRANSITION_WARNING_DAYS", [180, 90, 30])
# Complaints (ISO/IEC 17021-1 §9.8) and appeals (§9.7): the standard requires time targets
# without fixing them; these are the CB's. Counted in calendar days from receipt.
COMPLAINT_ACKNOWLEDGE_DAYS = env_int("COMPLAINT_ACKNOWLEDGE_DAYS", 5)
COMPLAINT_CLIENT_NOTICE_DAYS = env_int("COMPLAINT_CLIENT_NOTICE_DAYS", 10)
COMPLAINT_OUTCOME_DAYS = env_int("COMPLAINT_OUTCOME_DAYS", 60)
# §9.8.6: the outcome communicated to the complainant is made, or reviewed and approved, by
# persons not involved. An outcome decided by the complaint's own investigator is always
# approved by another handler before it is sent; on, every outcome is (the CB's choice).
COMPLAINT_OUTCOME_APPROVAL = env_bool("COMPLAINT_OUTCOME_APPROVAL", False)
# A client may appeal a decision up to this many days after it was taken.
APPEAL_WINDOW_DAYS = env_int("APPEAL_WINDOW_DAYS", 30)
# Work queues (docs/work-queues.md): the CB's own time targets where ISO/IEC 17021-1 asks
# for the work without fixing a time, in calendar days. Application review started and
# finished (§9.1.2), audit time and quotation issued after registration (§9.1.2.2, §5.1.2);
# the team named and the plan with the client this many days before an audit's first day
# (§9.2.2, §9.2.3.3); the report after the audit's last day (§9.4.8); the client's
# corrective-action answer reviewed (§9.4.10); the decision after the audit closed (§9.5).
APPLICATION_REVIEW_START_DAYS = env_int("APPLICATION_REVIEW_START_DAYS", 5)
APPLICATION_REVIEW_DAYS = env_int("APPLICATION_REVIEW_DAYS", 20)
QUOTATION_ISSUE_DAYS = env_int("QUOTATION_ISSUE_DAYS", 10)
AUDIT_PLAN_LEAD_DAYS = env_int("AUDIT_PLAN_LEAD_DAYS", 14)
AUDIT_REPORT_DAYS = env_int("AUDIT_REPORT_DAYS", 14)
CORRECTIVE_ACTION_REVIEW_DAYS = env_int("CORRECTIVE_ACTION_REVIEW_DAYS", 10)
DECISION_DUE_DAYS = env_int("DECISION_DUE_DAYS", 30)
# How far ahead the queues show surveillance and recertification audits due, and audits
# still to be staffed (a later audit is planned in its own time).
WORK_QUEUE_HORIZON_DAYS = env_int("WORK_QUEUE_HORIZON_DAYS", 90)
for _name in ("APPLICATION_REVIEW_START_DAYS", "APPLICATION_REVIEW_DAYS", "QUOTATION_ISSUE_DAYS",
              "AUDIT_PLAN_LEAD_DAYS", "AUDIT_REPORT_DAYS", "CORRECTIVE_ACTION_REVIEW_DAYS",
              "DECISION_DUE_DAYS", "WORK_QUEUE_HORIZON_DAYS"):
    if globals()[_name] < 0:
        raise ImproperlyConfigured(f"{_name} must be 0 or more days.")
# Safeguarding impartiality (ISO/IEC 17021-1 §5.2.3): the risk register is reviewed as a
# whole at least this often (the interval is the CB's; 12 = annually), and a risk's own
# review defaults to the same interval from the day it is recorded or reviewed.
IMPARTIALITY_REVIEW_MONTHS = env_int("IMPARTIALITY_REVIEW_MONTHS", 12)
if not 1 <= IMPARTIALITY_REVIEW_MONTHS <= 12:
    raise ImproperlyConfigured("IMPARTIALITY_REVIEW_MONTHS is 1 to 12: the register is "
                               f"reviewed at least annually, not {IMPARTIALITY_REVIEW_MONTHS}")
# Remote audits (IAF MD 4): whether time audited remotely with ICT counts towards the minimum
# on-site time (IAF MD 5: at least 80 % of the audit time on site). Off by default: the CB
# turns it on when its accreditation body's rules allow it (docs/remote-audits.md).
REMOTE_COUNTS_AS_ONSITE = env_bool("REMOTE_COUNTS_AS_ONSITE", False)
# Public verification API and directory: requests per client address, "N/s", "N/min",
# "N/h" or "N/d". With REDIS_URL one budget for every server process; without it counted
# in each worker process's memory (the real limit is then the rate × the workers).
PUBLIC_API_RATE = env_str("PUBLIC_API_RATE", "120/min")
# A registry file is far larger than evidence uploads: 1,000,000 certificates ≈ 300 MB.
REGISTRY_IMPORT_MAX_BYTES = env_int("REGISTRY_IMPORT_MAX_MB", 1024) * 1024 * 1024
# A registry import or export without progress for this long is failed (its task worker
# died) and may be retried: well above the longest run (1,000,000 rows take ~2 minutes).
REGISTRY_JOB_TIMEOUT_MINUTES = env_int("REGISTRY_JOB_TIMEOUT_MINUTES", 60)
if REGISTRY_JOB_TIMEOUT_MINUTES < 1:
    raise ImproperlyConfigured("REGISTRY_JOB_TIMEOUT_MINUTES must be at least 1.")
# Energy measurement and verification (isocert.energy.mv; docs/energy.md). Fractions, not
# percentages. Defaults and sources: the baseline and the reporting period have data for at
# least 90 % of their days (CalTRACK 2.0 §2.2); CV(RMSE) at most 20 % for monthly and 25 % for
# daily or weekly models, the F-test and each variable's p-value below 0.10 (ASHRAE Guideline
# 14-2014 §5.2.11.3, Annex B); improvement is demonstrated only with a savings uncertainty
# below 50 % of the savings at 68 % confidence (ASHRAE Guideline 14 §4.1.4, Annex B);
# reporting values beyond the baseline's range by more than 10 % of it are named (ISO 50006).
ENERGY_MIN_COVERAGE = env_fraction("ENERGY_MIN_COVERAGE", 0.90)
ENERGY_MAX_CV_RMSE_MONTHLY = env_fraction("ENERGY_MAX_CV_RMSE_MONTHLY", 0.20)
ENERGY_MAX_CV_RMSE_DAILY = env_fraction("ENERGY_MAX_CV_RMSE_DAILY", 0.25)
ENERGY_MAX_F_TEST_P = env_fraction("ENERGY_MAX_F_TEST_P", 0.10)
ENERGY_MAX_VARIABLE_P = env_fraction("ENERGY_MAX_VARIABLE_P", 0.10)
ENERGY_MAX_FSU = env_fraction("ENERGY_MAX_FSU", 0.50, high=10.0)
ENERGY_CONFIDENCE = env_fraction("ENERGY_CONFIDENCE", 0.68)
if ENERGY_CONFIDENCE not in (0.68, 0.80, 0.90, 0.95):
    raise ImproperlyConfigured("ENERGY_CONFIDENCE must be one of 0.68, 0.80, 0.90, 0.95.")
ENERGY_RANGE_MARGIN = env_fraction("ENERGY_RANGE_MARGIN", 0.10)
# (CERTIFICATE_SIGNING_KEY, CERTIFICATE_SIGNING_KEY_FILE: see "Operations" below.)
# Where `isocert send-audit-trail-head` (daily) e-mails the audit trail's head signed with
# that key, to be kept outside the database; comma-separated addresses, empty = off.
AUDIT_TRAIL_HEAD_EMAIL = env_list("AUDIT_TRAIL_HEAD_EMAIL", [])
# `isocert backup`/`restore` on PostgreSQL run pg_dump/pg_restore of the server's major
# version: from this directory when set, else Debian's /usr/lib/postgresql/N/bin, else PATH.
PG_BIN_DIR = env_str("PG_BIN_DIR", "")

# (LOGGING: see "Operations" below.)

# --- Operations: signing key, health, logs, metrics, error reports (issue #16) ----------
# Ed25519 key that signs the certificate data in the QR code and the audit trail's head: a
# PEM (PKCS#8) in the variable, or a file. The same key on every server: with DEBUG off and
# neither set the start is refused (isocert.E002, core/checks.py) instead of each host
# making its own (server B then called server A's genuine certificates forged). `isocert
# signing-key generate` makes one; `make run` creates var/signing-key and passes it. With
# DEBUG on and neither set, a development key is created once in var/.
CERTIFICATE_SIGNING_KEY = env_str("CERTIFICATE_SIGNING_KEY", "")
_SIGNING_KEY_FILE = env_str("CERTIFICATE_SIGNING_KEY_FILE", "")
CERTIFICATE_SIGNING_KEY_FILE = (
    Path(_SIGNING_KEY_FILE) if _SIGNING_KEY_FILE
    else VAR_DIR / "certificate-signing-key.pem" if DEBUG else None)
# The task worker (core/worker.py): it records a heartbeat this often; a worker whose last
# beat is older than the stale limit is dead (its "running" tasks are queued again, up to
# WORKER_LOST_TASK_RETRIES times, then failed with the reason). /health/ready fails when no
# worker is alive or the oldest ready task has waited longer than TASK_QUEUE_MAX_AGE_SECONDS.
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 15)
WORKER_HEARTBEAT_STALE_SECONDS = env_int("WORKER_HEARTBEAT_STALE_SECONDS", 90)
if not 0 < WORKER_HEARTBEAT_SECONDS < WORKER_HEARTBEAT_STALE_SECONDS:
    raise ImproperlyConfigured("WORKER_HEARTBEAT_SECONDS must be at least 1 and less than "
                               "WORKER_HEARTBEAT_STALE_SECONDS.")
WORKER_LOST_TASK_RETRIES = env_int("WORKER_LOST_TASK_RETRIES", 1)
TASK_QUEUE_MAX_AGE_SECONDS = env_int("TASK_QUEUE_MAX_AGE_SECONDS", 300)
# Logs (core/requestlog.py): LOG_FORMAT=json writes one JSON object per line, text (the
# default) readable lines; every record carries the request id. One line per request on
# isocert.request (REQUEST_LOG). Errors are e-mailed to ADMINS (comma-separated addresses)
# with the request id; none when ADMINS is empty.
LOG_FORMAT = env_str("LOG_FORMAT", "text").strip().lower()
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")
LOG_LEVEL = env_str("LOG_LEVEL", "WARNING").upper()
REQUEST_LOG = env_bool("REQUEST_LOG", True)
ADMINS = env_list("ADMINS", [])
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "isocert.core.requestlog.RequestIdFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "json": {"()": "isocert.core.requestlog.JsonFormatter"},
        "text": {"()": "isocert.core.requestlog.TextFormatter"},
        "mail": {"format": "Request ID: %(request_id)s\n\n%(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                    "filters": ["request_id"]},
        "mail_admins": {"class": "django.utils.log.AdminEmailHandler", "level": "ERROR",
                        "filters": ["require_debug_false", "request_id"], "formatter": "mail"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["mail_admins"], "level": LOG_LEVEL},
        "isocert.request": {"handlers": ["console"] if REQUEST_LOG else [], "level": "INFO",
                            "propagate": False},
    },
}
# Prometheus metrics at /metrics (core/metrics.py): off (404) unless a token is set, then
# only with "Authorization: Bearer <token>". With several granian workers set the
# environment variable PROMETHEUS_MULTIPROC_DIR (an empty directory) so a scrape sees all.
METRICS_TOKEN = env_secret("METRICS_TOKEN", VAR_DIR / "metrics-token")
# Error reports to Sentry (or a compatible service): sentry-sdk is imported and started only
# when SENTRY_DSN is set (pip install 'isocert[sentry]'); no personal data is sent.
SENTRY_DSN = env_str("SENTRY_DSN", "")
if SENTRY_DSN:
    from isocert.core.errorreports import init_sentry

    init_sentry(dsn=SENTRY_DSN, environment=env_str("SENTRY_ENVIRONMENT", "production"),
                traces_sample_rate=float(env_decimal("SENTRY_TRACES_SAMPLE_RATE", "0")))
