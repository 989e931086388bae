"""Settings for Closing the Loop.

Development defaults (DEBUG on, SQLite, console email) need no environment at all. With
DJANGO_DEBUG=false the service is in production mode and refuses to start without a real
secret key, allowed hosts and the keyed-hash secret for case references.
"""

from pathlib import Path

import dj_database_url

from config.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", default=True)

if DEBUG:
    # Only ever used on a developer's machine or in tests; production has no default.
    SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-development-key-not-for-production")
    CASE_REFERENCE_HASH_KEY = env_str("CASE_REFERENCE_HASH_KEY", "insecure-development-hash-key")
    SURVEY_PERSON_KEY_SECRET = env_str("SURVEY_PERSON_KEY_SECRET", "insecure-development-person-key")
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
else:
    SECRET_KEY = env_secret("DJANGO_SECRET_KEY")
    CASE_REFERENCE_HASH_KEY = env_secret("CASE_REFERENCE_HASH_KEY")
    # Keys the pseudonymous person keys in exports. Its own secret: rotating DJANGO_SECRET_KEY (which
    # signs sessions) must not change every key, and holding one secret must not undo the other.
    SURVEY_PERSON_KEY_SECRET = env_secret("SURVEY_PERSON_KEY_SECRET")
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])

INSTALLED_APPS = [
    # django.contrib.admin, opened by the administrator role rather than is_staff (config/admin_site.py).
    "config.apps.AdministratorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "training",
    "surveys",
    "practice",
    "analysis",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "training.mfa.AdministratorMFAMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

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
                "training.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env_bool(
    "DATABASE_JIT", default=False
):
    # PostgreSQL's JIT compiles any plan whose estimated cost passes jit_above_cost; for the scoped
    # list queries (correlated EXISTS) that estimate is high, and compiling took 1-3 s for a query
    # that runs in 70 ms (BENCHMARKS.md, API list endpoints). Off per connection unless asked for.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The answers' covering index (INCLUDE columns) is for PostgreSQL's report reads; SQLite keeps
    # the index on its key column, which is all the embedded default needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "training.User"
# Administrators hold every permission by their role, as superusers do by their flag, so an
# administrator needs no per-model permissions to use the admin (training/auth_backends.py).
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "training.auth_backends.AdministratorRoleBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions end after a period of inactivity measured in hours: every request renews the
# cookie, so an idle browser on a shared office machine is signed out.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_TIMEOUT_SECONDS", 2 * 60 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Sign-in lockout (training/lockout.py): failures are counted over a sliding window in the
# database, so every app server sees them. Per address the limit is higher because a council's
# whole office may reach us through one address.
LOGIN_LOCKOUT_WINDOW_SECONDS = env_int("LOGIN_LOCKOUT_WINDOW_SECONDS", 15 * 60)
LOGIN_LOCKOUT_USERNAME_FAILURES = env_int("LOGIN_LOCKOUT_USERNAME_FAILURES", 5)
LOGIN_LOCKOUT_IP_FAILURES = env_int("LOGIN_LOCKOUT_IP_FAILURES", 20)
# How many reverse proxies append to X-Forwarded-For in front of the app (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Administrators sign in with a password and a TOTP code (training/mfa.py). The issuer is the
# name authenticator apps show next to the code.
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "Closing the Loop")

# Content-Security-Policy (config/security.py). No inline scripts or styles anywhere: the
# GOV.UK start-up scripts are static files and the API docs use the split Swagger view.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}
# Responses on these paths are never cached even without a signed-in user: the trainee's
# questionnaire links and the sign-in pages. Responses to signed-in users are never cached anyway.
NO_STORE_PATH_PREFIXES = env_list("NO_STORE_PATH_PREFIXES", ["/q/", "/accounts/", "/api/"])

# Retention periods in days (python manage.py purge_expired). Questionnaire answers and audits
# are purged by the surveys and practice apps' purgers; leavers are anonymised, not deleted,
# because their attendance rows count in the aggregate results.
RETENTION_QUESTIONNAIRE_DAYS = env_int("RETENTION_QUESTIONNAIRE_DAYS", 3 * 365)
RETENTION_AUDIT_DAYS = env_int("RETENTION_AUDIT_DAYS", 6 * 365)
RETENTION_ACCESS_LOG_DAYS = env_int("RETENTION_ACCESS_LOG_DAYS", 6 * 365)
RETENTION_LEAVER_DAYS = env_int("RETENTION_LEAVER_DAYS", 2 * 365)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Closing the Loop <no-reply@closing-the-loop.invalid>")
# Links in emails (questionnaire invitations) need the public address of the service.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first so that an anonymous caller is told how to authenticate (401, not 403).
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.BoundedPageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Closing the Loop API",
    "DESCRIPTION": (
        "Courses, sessions, attendance, questionnaires, referral audits and impact reports for the "
        "children's safeguarding workforce. Every operation needs an authenticated user and returns "
        "only what that user's role and scope allow; objects outside scope are 404."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from the drf-spectacular-sidecar package, not a CDN: the CSP allows only 'self'.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Choice sets that share a field name get stable names in the schema (and no check warnings).
    "ENUM_NAME_OVERRIDES": {
        "ProfessionEnum": "training.models.Profession",
        "OrganisationKindEnum": "training.models.Organisation.Kind",
        "InstrumentKindEnum": "surveys.models.InstrumentKind",
        "ItemKindEnum": "surveys.models.ItemKind",
        "AttendanceStatusEnum": "training.models.AttendanceStatus",
        "AuditStatusEnum": "practice.models.AuditStatus",
        "AssignmentStatusEnum": "practice.models.AssignmentStatus",
    },
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{asctime} {levelname} {name} {message}", "style": "{"}},
    "filters": {"redact_tokens": {"()": "config.logfilters.RedactInvitationTokens"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_tokens"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own defaults add a second, unfiltered console handler when DEBUG is on.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs every SVG presentation attribute it does not style; only errors matter.
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "ERROR"},
    },
}
