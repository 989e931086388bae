"""Invitation tokens never reach a log line: not Django's (refused and failed requests are logged with
their path) and not gunicorn's access log, served with the production configuration file."""

import io
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "k3Q9-secret-token-of-a-trainee"


@pytest.fixture
def console_output():
    """What the project's console handler (the one production logs go through) writes."""
    [handler] = [h for h in logging.getLogger("django").handlers if h.name == "console"]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.mark.django_db
def test_django_logs_a_refused_questionnaire_post_without_its_token(console_output):
    refused = Client(enforce_csrf_checks=True).post(f"/q/{TOKEN}/", {})
    assert refused.status_code == 403
    logged = console_output.getvalue()
    assert "Forbidden" in logged and "/q/<token>" in logged
    assert TOKEN not in logged


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_with_the_production_config_logs_no_token():
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 (our own gunicorn and config, no outside input)
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-c",
            "config/gunicorn.conf.py",
            f"--bind=127.0.0.1:{port}",
            "--workers=1",
            "config.wsgi",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                    # DELETE is refused by the CSRF check before any view or database is reached.
                    conn.sendall(f"DELETE /q/{TOKEN}/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
                    assert b" 403 " in conn.recv(100)
                break
            except ConnectionRefusedError:
                assert server.poll() is None, "gunicorn exited during start-up"
                assert time.monotonic() < deadline, "gunicorn did not start within 60 s"
                time.sleep(0.3)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
    assert '"DELETE /q/<token>/" 403' in output
    assert TOKEN not in output
