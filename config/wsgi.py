import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# Django imports the URLconf, and with it every view module (the report's pandas, scipy, statsmodels
# and matplotlib among them), on the first request. Doing it here instead means the first trainee a
# new worker serves does not wait seconds for those imports, and under gunicorn's preload_app the
# master imports them once, before forking, for every worker to share.
get_resolver().url_patterns  # noqa: B018
