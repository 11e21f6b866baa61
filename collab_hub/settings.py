"""Settings for the collaboration hub, read from the environment only.

Every variable is documented in `.env.example`. In production mode (DJANGO_DEBUG off) the
secrets have no default and a missing or malformed one stops start-up with a clear message.
"""

import ipaddress
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from collab_hub.hostnames import public_hosts

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is a developer convenience; real deployments set the environment itself.
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))


def _required(name: str, message: str) -> str:
    value = env.str(name, default="").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} is not set. {message}")
    return value


DEBUG = env.bool("DJANGO_DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
    # Development mode shows tracebacks and signs sessions with the published development key: a
    # `.env` copied from `.env.example` onto a server must not turn it into that.
    _public = public_hosts(ALLOWED_HOSTS)
    if _public:
        raise ImproperlyConfigured(
            f"DJANGO_DEBUG is on while ALLOWED_HOSTS names {', '.join(_public)}: development mode is for "
            "this machine only (localhost, 127.0.0.1, [::1]). On a server, leave DJANGO_DEBUG off and set "
            "SECRET_KEY."
        )
else:
    SECRET_KEY = _required(
        "SECRET_KEY",
        "Production mode (DJANGO_DEBUG off) needs a long random secret, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`.",
    )
    if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("dev-only"):
        raise ImproperlyConfigured(
            "SECRET_KEY is too short or is the development key: use 50+ random characters."
        )
    ALLOWED_HOSTS = [
        h.strip()
        for h in _required(
            "ALLOWED_HOSTS",
            "Production mode (DJANGO_DEBUG off) needs the host names the hub is served on, comma-separated, "
            "e.g. `ALLOWED_HOSTS=hub.example.nl`.",
        ).split(",")
        if h.strip()
    ]

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# No form of the hub needs more than a few pages of text: a request body over 256 KB (files apart) is
# refused with the 400 page before any view reads it, so a megabyte of "letter" is neither stored nor
# crashed on (Django's default allows 2.5 MB).
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_filters",
    "django_celery_beat",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "collab_hub.accounts",
    "collab_hub.core",
    "collab_hub.audit",
    "collab_hub.notifications",
    "teams",
    "patients",
    "referrals",
    "evaluations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "collab_hub.accounts.middleware.SessionRulesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "collab_hub.urls"
WSGI_APPLICATION = "collab_hub.wsgi.application"
ASGI_APPLICATION = "collab_hub.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "referrals.context_processors.inbox_counts",
                "collab_hub.notifications.context_processors.unread",
            ],
        },
    },
]

try:
    DATABASES = {"default": env.db_url("DATABASE_URL", default="postgres:///collab_hub")}
except (ImproperlyConfigured, ValueError) as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
if DATABASES["default"].get("ENGINE") != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        "DATABASE_URL must point at PostgreSQL, e.g. postgres:///collab_hub or "
        "postgres://user:password@host:5432/collab_hub; the hub relies on it."
    )
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
if not REDIS_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured("REDIS_URL must start with redis:// or rediss://.")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "collab_hub",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: a locked-out user or address is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Reverse proxies in front of the hub that append the client's address to X-Forwarded-For (0: none,
# the header is ignored). One helper (collab_hub.audit.services.client_address) reads it for the
# lockout, the log-in throttle, the access log and the security log. See docs/security.md.
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", default=0)
if not 0 <= TRUSTED_PROXY_HOPS <= 5:
    raise ImproperlyConfigured("TRUSTED_PROXY_HOPS must be a whole number from 0 (no proxy) to 5.")
# The proxies' own addresses (networks): the header is believed only from them, so a request that
# reaches gunicorn directly cannot claim an address. Default: loopback and private networks.
TRUSTED_PROXY_ADDRESSES = env.list(
    "TRUSTED_PROXY_ADDRESSES",
    default=["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
)
try:
    TRUSTED_PROXY_NETWORKS = [
        ipaddress.ip_network(net.strip(), strict=False) for net in TRUSTED_PROXY_ADDRESSES
    ]
except ValueError as exc:
    raise ImproperlyConfigured(
        f"TRUSTED_PROXY_ADDRESSES holds something that is not a network: {exc}"
    ) from exc

# Lockout (django-axes, collab_hub.accounts.lockout): a user name is locked for 30 minutes after
# AXES_FAILURE_LIMIT failures from one address, or AXES_USERNAME_FAILURE_LIMIT failures from all
# addresses together (guessing spread over many machines). Never per address alone: behind a proxy or
# a practice's shared connection that would lock everybody out. Admins unlock in Django admin
# (Axes → access attempts) or with `manage.py axes_reset_username`.
AXES_HANDLER = "collab_hub.accounts.lockout.LockoutHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_USERNAME_FAILURE_LIMIT = env.int("AXES_USERNAME_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
# The handler reads these two in this order: (user name, address), then user name.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
# A successful log-in clears the failures of that user name only (both parameters name it), never
# those of other people behind the same address.
AXES_RESET_ON_SUCCESS = True
# Failures during a lockout do not extend it: one guess every half hour must not keep a name locked.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A flood of failures from one address (many user names tried) is slowed down, not locked out:
# after this many failed log-ins in a minute the address waits until the minute has passed.
LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE = env.int("LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE", default=20)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "collab_hub.audit.services.client_address"
AXES_VERBOSE = False
# Two-factor login (django-otp): the issuer shown in authenticator apps; keys never shown in the admin.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Samenwerkingshub")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if env.bool("FAST_PASSWORD_HASHING", default=False):
    # Only for the test run (pyproject's pytest env): PBKDF2's million rounds per test user would
    # dominate the suite. Never set in production; `check --deploy` runs without it.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
MEDIA_URL = "media/"
# Researchers' exports: outside MEDIA_ROOT and never served directly (a view checks access first).
EXPORT_ROOT = env.path("EXPORT_ROOT", default=str(BASE_DIR / "var" / "exports"))

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.nl:587; without it mail goes to the console.
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    _email = env.email_url("EMAIL_URL")
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email.get("EMAIL_HOST", "")
    EMAIL_PORT = _email.get("EMAIL_PORT") or 25
    EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS", False))
    EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL", False))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Samenwerkingshub <noreply@localhost>")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Need-to-know (docs/security.md): the receiving side of a closed referral keeps access this many days
# to finish the file; emergency access ("break the glass") allows this many lookups per person per day.
REFERRAL_ACCESS_GRACE_DAYS = env.int("REFERRAL_ACCESS_GRACE_DAYS", default=30)
EMERGENCY_LOOKUPS_PER_DAY = env.int("EMERGENCY_LOOKUPS_PER_DAY", default=5)

# /health/: anyone gets the overall status, cached this many seconds; the per-component detail is for
# callers on this machine or with `Authorization: Bearer <HEALTH_TOKEN>` (unset: no token accepted).
HEALTH_CACHE_SECONDS = env.int("HEALTH_CACHE_SECONDS", default=15)
if not 10 <= HEALTH_CACHE_SECONDS <= 30:
    raise ImproperlyConfigured("HEALTH_CACHE_SECONDS must be between 10 and 30.")
HEALTH_TOKEN = env.str("HEALTH_TOKEN", default="")
if HEALTH_TOKEN and len(HEALTH_TOKEN) < 32:
    raise ImproperlyConfigured("HEALTH_TOKEN must be at least 32 random characters (or unset).")

# Celery: JSON only, late acknowledgement, one task at a time per process, bounded run time.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Installed into django-celery-beat's tables at beat start-up; edit or pause them in Django admin.
CELERY_BEAT_SCHEDULE = {
    "beat-heartbeat": {"task": "collab_hub.core.tasks.beat_heartbeat", "schedule": 60.0},
    "reminder-sweep": {"task": "collab_hub.notifications.tasks.sweep", "schedule": 180.0},
    "daily-digests": {"task": "collab_hub.notifications.tasks.send_digests", "schedule": crontab(minute=0)},
}

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Sessions: ended after 30 idle minutes (every request renews the cookie) and 12 hours after log-in
# whatever happens (collab_hub.accounts.middleware); a new session id at every log-in (Django).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_HOURS", default=12) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Only our own origin: no inline scripts or styles anywhere (chart data travels in json_script blocks).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # Bootstrap's form controls draw their arrows as data: SVG
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    # The __Host- prefix binds the cookies to this host and path /, over HTTPS only.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="demo-wachtwoord-2026")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"escape": {"()": "collab_hub.core.logging.EscapeControlCharacters"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["escape"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

DEFAULT_EXCEPTION_REPORTER_FILTER = "collab_hub.core.debug.PatientSafeExceptionReporterFilter"
