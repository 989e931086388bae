"""Production settings for the gunicorn benchmark, with static files collected into a scratch directory.

The benchmark runs the product as it runs in production (``DJANGO_DEBUG=false``: no query log, manifest
static files, secure cookies). Production settings collect static files into ``<checkout>/staticfiles``;
pointing ``STATIC_ROOT`` at ``BENCH_STATIC_ROOT`` instead means a benchmark never writes into the
checkout that other people are working in. Nothing else differs from ``config.settings``.
"""

import os

from config.settings import *  # noqa: F403

STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]
