"""A test OpenID Connect provider: just enough Django for django-oauth-toolkit's device
authorization grant and ID tokens. Never for production (a fixed secret key, DEBUG)."""
import os
from pathlib import Path

STATE = Path(os.environ["OIDC_STATE"])
SECRET_KEY = "test-provider-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "oidc_site.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["OIDC_DB"]}}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": os.environ["OIDC_ISSUER"],
    "OIDC_RSA_PRIVATE_KEY": (STATE / "oidc.key").read_text(),
    "SCOPES": {"openid": "OpenID Connect", "email": "Email", "profile": "Profile"},
    "OAUTH2_SERVER_CLASS": "oidc_site.server.Server",
    "OAUTH2_VALIDATOR_CLASS": "oidc_site.server.Validator",
    "OAUTH_DEVICE_VERIFICATION_URI": os.environ["OIDC_ISSUER"] + "/device/",
    "DEVICE_FLOW_INTERVAL": 1,
    "DEVICE_FLOW_EXPIRES": int(os.environ.get("OIDC_DEVICE_EXPIRES", "600")),
}
# Errors to stderr (the test keeps the provider's log).
LOGGING = {
    "version": 1,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR"}},
}
