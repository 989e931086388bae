"""gunicorn settings for production: ``gunicorn -c config/gunicorn.conf.py config.wsgi``.

Each setting can be overridden from the environment (GUNICORN_BIND, GUNICORN_WORKERS) or the command
line. The TLS-terminating proxy in front sets X-Forwarded-Proto (see SECURE_PROXY_SSL_HEADER)."""

import multiprocessing
import os

from gunicorn.glogging import Logger

from config.logfilters import redact_invitation_tokens

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: requests are short and database-bound; gunicorn's rule of thumb for the count.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# Load Django and the URLconf (config/wsgi.py) in the master once, then fork: workers start
# serving at once and share the imported libraries' memory pages.
preload_app = True
timeout = 60
# Recycle workers now and then so that a slow leak in a library cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


# An invitation link's token is in its path (/q/<token>/): whoever reads a log must not be able to
# answer, or opt out, in the trainee's name. Query strings are never logged (%(U)s is the path only).
class TokenRedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = redact_invitation_tokens(atoms["U"])
        return atoms


logger_class = TokenRedactingLogger
