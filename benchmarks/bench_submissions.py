"""Questionnaire submissions through gunicorn under load: 100 sessions of 30 trainees, all in one minute.

Issue 7's scenario: 100 training sessions of 30 trainees end at about the same time and every trainee
answers the post-session questionnaire on their phone within the same minute. Target: p95 under 300 ms.

What it does, on a scratch PostgreSQL database that it creates and drops (``--db``, default
``bench_load``):

1. ``migrate`` and ``seed_demo`` (demo scale) for the organisations, staff, courses, the default
   questionnaire and the demo sign-ins.
2. Through the product's services, as the demo administrator: 100 sessions that ended an hour ago
   (``session_create``), 30 trainees marked attended on each (``attendance_mark``), the default
   questionnaire attached (``administrations_attach``) and the post-session invitations sent
   (``invitations_send``, into Django's in-memory mail outbox). The 3,000 links are read from the
   emails, exactly as a trainee gets them; only the hash of a token is in the database.
3. ``collectstatic`` into a scratch directory and gunicorn on 127.0.0.1 in production mode
   (``DJANGO_DEBUG=false``, via ``benchmarks/bench_production_settings.py``), ``--workers`` sync
   workers (default 5: gunicorn's 2 x cores + 1 for this 2-core machine).
4. The load. ``open-then-submit`` (the default): a trainee opens the link while the session ends
   and spends minutes on 30 questions, so the GETs of the form ``/q/<token>/`` are spread over
   ``--open-seconds`` (default 120 s, denser than life) and then all 3,000 POSTs of the answers land
   at moments uniformly at random in one minute (fixed seed): that minute is what the target is
   about. ``same-minute`` puts each trainee's GET and POST in the same minute (harsher). Each POST
   carries the CSRF cookie and token and the answers picked from the page, as a phone behind the
   TLS-terminating proxy would (``X-Forwarded-Proto: https`` with matching ``Origin`` and
   ``Referer``, so Django's CSRF checks run in full). ``--via api`` instead POSTs JSON to
   ``/api/v1/responses/`` with the token, as an app would; there is no GET. The load is open loop:
   a request's latency is timed from its scheduled moment, so if the generator runs out of threads
   the wait counts against the server.
5. It reports latency per request kind (p50, p95, p99, max), errors, how late requests started
   relative to their schedule (if the load generator itself cannot keep up, the figures would
   understate latency, so it is shown), that exactly 3,000 responses were stored and scored, and the
   peak resident memory of gunicorn (master plus workers, sampled every 200 ms from /proc).

The load generator runs on the same 2 cores as gunicorn and PostgreSQL, so it competes with what it
measures; the figures are an upper bound for a deployment with a separate client. Not a unit test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = "postgres://postgres@127.0.0.1:5432"
# Requests arrive as they would from the TLS-terminating proxy in front of gunicorn in production;
# without this header SECURE_SSL_REDIRECT answers every request with a redirect to https.
PROXIED = {"X-Forwarded-Proto": "https"}
SESSIONS, TRAINEES = 100, 30


# Scratch database ------------------------------------------------------------------------------------


def _admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def database_create(name: str) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or name in {"test", "postgres"}:
        raise SystemExit(f"Refusing to use {name!r} as a scratch database.")
    _admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _admin_sql(f"CREATE DATABASE {name}")


def database_drop(name: str) -> None:
    _admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# Setting up 100 sessions through the product's services ---------------------------------------------


def setup(*, sessions: int, trainees: int) -> dict:
    """Returns the tokens from the invitation emails and the administrations they belong to."""
    import django

    django.setup()
    from django.conf import settings
    from django.core import mail
    from django.core.management import call_command
    from django.utils import timezone

    from surveys import services as surveys
    from surveys.models import Administration, Instrument, InstrumentKind, Phase
    from training import services as training
    from training.models import AttendanceStatus, Course, StaffMember, User

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    admin = User.objects.get(username="admin")
    course = Course.objects.order_by("pk").first()
    instrument = Instrument.objects.get(kind=InstrumentKind.QUESTIONNAIRE, is_default=True)
    staff = list(StaffMember.objects.filter(active=True).order_by("pk").values_list("pk", flat=True))
    now = timezone.now()
    post_ids = []
    for n in range(sessions):
        session = training.session_create(
            course=course,
            by=admin,
            start=now - dt.timedelta(hours=3),
            end=now - dt.timedelta(hours=1),
            venue=f"Benchmark room {n + 1}",
            capacity=trainees,
        )
        # Staff rotate through the sessions (the demo has about 220), as people attend several courses.
        group = [staff[(n * trainees + i) % len(staff)] for i in range(trainees)]
        training.attendance_mark(
            session=session, by=admin, statuses=dict.fromkeys(group, AttendanceStatus.ATTENDED)
        )
        administrations = surveys.administrations_attach(
            session=session, instrument=instrument, by=admin, follow_up_offsets=[]
        )
        post_ids += [a.pk for a in administrations if a.phase == Phase.POST]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    sent = sum(
        surveys.invitations_send(administration=a, now=now)
        for a in Administration.objects.filter(pk__in=post_ids)
    )
    tokens = [m for message in mail.outbox for m in re.findall(r"/q/([A-Za-z0-9_-]+)/\n", message.body)]
    if sent != sessions * trainees or len(tokens) != sent:
        raise SystemExit(
            f"Expected {sessions * trainees} invitations, sent {sent}, found {len(tokens)} links."
        )
    # The API path needs the answers keyed by item code; the form path reads them from the page.
    administration = Administration.objects.get(pk=post_ids[0])
    items = surveys.items_for_phase(version=administration.version, phase=administration.phase)
    options = {item.code: [str(o["value"]) for o in item.options] for item in items if item.options}
    return {"tokens": tokens, "administrations": post_ids, "options": options}


def stored_count(administrations: list[int]) -> dict:
    from surveys.models import Invitation, Response, ScaleScore

    answered = Invitation.objects.filter(administration_id__in=administrations, response__isnull=False)
    responses = Response.objects.filter(invitation__in=answered, submitted_at__isnull=False)
    return {
        "invitations_answered": answered.count(),
        "responses_submitted": responses.count(),
        "responses_scored": responses.filter(pk__in=ScaleScore.objects.values("response")).count(),
    }


# gunicorn ----------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(*, database_url: str, static_root: str, port: int) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_DEBUG="false",
        DJANGO_SETTINGS_MODULE="bench_production_settings",
        PYTHONPATH=os.pathsep.join([str(ROOT / "benchmarks"), str(ROOT)]),
        BENCH_STATIC_ROOT=static_root,
        # Scratch secrets for a scratch database; production refuses to start without real ones.
        DJANGO_SECRET_KEY="benchmark-only-" + "x" * 40,
        CASE_REFERENCE_HASH_KEY="benchmark-only-hash-key",
        SURVEY_PERSON_KEY_SECRET="benchmark-only-person-key",  # noqa: S106 (a scratch database)
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_CSRF_TRUSTED_ORIGINS=f"https://127.0.0.1:{port}",
    )
    return env


def gunicorn_start(*, env: dict, port: int, workers: int) -> subprocess.Popen:
    # The production configuration file (preload, access log with tokens redacted), with the
    # benchmark's port and worker count.
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "-c",
        "config/gunicorn.conf.py",
        "config.wsgi",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--log-level=warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _, _ = request(
                port, "GET", "/accounts/login/", headers=PROXIED | {"Host": f"127.0.0.1:{port}"}
            )
            if status == 200:
                return server
        except OSError:
            pass
        if server.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        time.sleep(0.3)
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)
    raise SystemExit("gunicorn did not answer within 60 s")


def warm_up(*, port: int, workers: int) -> list[float]:
    """The production config preloads the URLconf in the master, so workers start warm; each still
    opens its database connection and fills its caches on the first requests. Waves of concurrent
    requests reach every worker (a busy sync worker does not accept); the load starts once a whole
    wave is fast. Returns the slowest request of each wave, the cold start included."""
    headers = PROXIED | {"Host": f"127.0.0.1:{port}"}

    def timed(_: int) -> float:
        started = time.perf_counter()
        request(port, "GET", "/accounts/login/", headers=headers)
        return time.perf_counter() - started

    waves = []
    with ThreadPoolExecutor(max_workers=workers * 3) as pool:
        for _ in range(20):
            waves.append(max(pool.map(timed, range(workers * 3))))
            if waves[-1] < 0.5:
                break
    return waves


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(p) for p in children.read().split()]
    except OSError:
        return []


class MemorySampler(threading.Thread):
    """Peak RSS of the gunicorn master plus workers (sum) and of the largest single worker."""

    def __init__(self, master: int):
        super().__init__(daemon=True)
        self.master, self.stop, self.peak_total, self.peak_worker = master, threading.Event(), 0, 0
        self.workers: set[int] = set()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            workers = _children(self.master)
            self.workers.update(workers)
            sizes = [_rss_kib(p) for p in workers]
            self.peak_total = max(self.peak_total, _rss_kib(self.master) + sum(sizes))
            self.peak_worker = max([self.peak_worker, *sizes])


# The load generator -------------------------------------------------------------------------------------


def request(port: int, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None):
    """One request on a fresh connection (gunicorn's sync workers close after every response)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheader("Set-Cookie") or "", response.read()
    finally:
        conn.close()


RADIO = re.compile(r'<input class="govuk-radios__input"[^>]*name="([^"]+)" type="radio" value="([^"]*)"')
TEXTAREA = re.compile(r'<textarea[^>]*name="([^"]+)"')
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def form_answers(page: str, rng: random.Random) -> dict[str, str]:
    """A plausible set of answers: one option per question, chosen at random; free text is optional
    and about a third of trainees write a sentence."""
    options: dict[str, list[str]] = defaultdict(list)
    for name, value in RADIO.findall(page):
        options[html.unescape(name)].append(html.unescape(value))
    answers = {name: rng.choice(values) for name, values in options.items()}
    for name in TEXTAREA.findall(page):
        answers[html.unescape(name)] = (
            "Useful session; I will use the checklist." if rng.random() < 0.33 else ""
        )
    return answers


def form_open(port: int, token: str, rng: random.Random, record) -> dict | None:
    """GET the form as the trainee's phone would; returns what the later POST needs, or None."""
    path = f"/q/{token}/"
    proxied = PROXIED | {"Host": f"127.0.0.1:{port}"}
    started = time.perf_counter()
    status, set_cookie, body = request(port, "GET", path, headers=proxied)
    record("GET form", started, status == 200, status)
    if status != 200:
        return None
    page = body.decode()
    csrf_cookie = re.search(r"csrftoken=([^;]+)", set_cookie)
    csrf_input = CSRF_INPUT.search(page)
    if not (csrf_cookie and csrf_input):
        record("GET form", started, False, "no CSRF token")
        return None
    origin = f"https://127.0.0.1:{port}"
    fields = {"csrfmiddlewaretoken": csrf_input.group(1), **form_answers(page, rng)}
    headers = {
        **proxied,
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={csrf_cookie.group(1)}",
        "Origin": origin,
        "Referer": origin + path,
    }
    return {"path": path, "body": urlencode(fields).encode(), "headers": headers}


def form_submit(port: int, opened: dict, record, scheduled: float) -> None:
    status, _, body = request(port, "POST", opened["path"], body=opened["body"], headers=opened["headers"])
    record("POST form", scheduled, status == 200 and b"Answers sent" in body, status)


def api_submit(port: int, token: str, rng: random.Random, record, options, scheduled: float) -> None:
    answers = {code: rng.choice(values) for code, values in options.items()}
    headers = PROXIED | {"Host": f"127.0.0.1:{port}", "Content-Type": "application/json"}
    status, _, _ = request(
        port,
        "POST",
        "/api/v1/responses/",
        body=json.dumps({"token": token, "answers": answers}).encode(),
        headers=headers,
    )
    record("POST api", scheduled, status == 201, status)


def _run_schedule(schedule, action, threads: int, lateness: list, lock) -> float:
    """Run ``action(item, scheduled)`` for each (at, item) at its time from now, on ``threads``
    threads. Open loop: a latency is timed from the scheduled moment, so time spent waiting for a
    free thread (the load generator falling behind) counts against the server, not for it."""
    t0 = time.perf_counter()

    def one(at: float, item) -> None:
        scheduled = t0 + at
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        with lock:
            lateness.append(time.perf_counter() - scheduled)
        action(item, scheduled)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for at, item in schedule:
            pool.submit(one, at, item)
    return time.perf_counter() - t0


def load(
    *,
    port: int,
    tokens: list[str],
    seconds: float,
    open_seconds: float,
    threads: int,
    via: str,
    scenario: str,
    options,
    seed: int,
) -> dict:
    """``open-then-submit``: the trainees open their forms over ``open_seconds`` (while the session
    ends and they answer), then all of them submit within ``seconds``; the POSTs are what the target
    is about. ``same-minute``: each trainee opens and submits within ``seconds`` (harsher: the GETs
    land in the same minute as the POSTs). ``--via api`` has no GET: each trainee POSTs JSON."""
    rng = random.Random(seed)
    latencies: dict[str, list[float]] = defaultdict(list)
    failures: dict[str, list] = defaultdict(list)
    lateness: list[float] = []
    lock = threading.Lock()

    def record(kind: str, started: float, ok: bool, status) -> None:
        elapsed = time.perf_counter() - started
        with lock:
            latencies[kind].append(elapsed)
            if not ok:
                failures[kind].append(status)

    def guarded(action):
        def run(item, scheduled):
            try:
                action(item, scheduled)
            except Exception as exc:  # a refused or reset connection is a failed request, not a crash
                record(f"{via} error", scheduled, False, type(exc).__name__)

        return run

    trainee_rngs = {token: random.Random(seed * 100_000 + n) for n, token in enumerate(tokens)}
    wall = {}
    if via == "api":
        schedule = sorted((rng.uniform(0, seconds), token) for token in tokens)
        wall["submit"] = _run_schedule(
            schedule,
            guarded(lambda token, at: api_submit(port, token, trainee_rngs[token], record, options, at)),
            threads,
            lateness,
            lock,
        )
    elif scenario == "same-minute":
        schedule = sorted((rng.uniform(0, seconds), token) for token in tokens)

        def open_and_submit(token, scheduled):
            opened = form_open(port, token, trainee_rngs[token], record)
            if opened:
                form_submit(port, opened, record, time.perf_counter())

        wall["submit"] = _run_schedule(schedule, guarded(open_and_submit), threads, lateness, lock)
    else:
        opened: dict[str, dict] = {}

        def open_form(token, scheduled):
            if form := form_open(port, token, trainee_rngs[token], record):
                opened[token] = form

        schedule = sorted((rng.uniform(0, open_seconds), token) for token in tokens)
        wall["open"] = _run_schedule(schedule, guarded(open_form), threads, [], lock)
        schedule = sorted((rng.uniform(0, seconds), token) for token in opened)
        wall["submit"] = _run_schedule(
            schedule,
            guarded(lambda token, at: form_submit(port, opened[token], record, at)),
            threads,
            lateness,
            lock,
        )
    return {
        "latencies": latencies,
        "failures": failures,
        "lateness": lateness,
        "wall_s": wall["submit"],
        "open_wall_s": wall.get("open"),
    }


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db", default="bench_load", help="scratch PostgreSQL database (created and dropped)"
    )
    parser.add_argument("--sessions", type=int, default=SESSIONS)
    parser.add_argument("--trainees", type=int, default=TRAINEES)
    parser.add_argument("--seconds", type=float, default=60.0, help="the submissions are spread over this")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn sync workers (2 x cores + 1)")
    parser.add_argument("--threads", type=int, default=200, help="load generator threads")
    parser.add_argument("--via", choices=["form", "api"], default="form")
    parser.add_argument(
        "--scenario",
        choices=["open-then-submit", "same-minute"],
        default="open-then-submit",
        help="open the forms first, then submit them all in the minute (default); or both in the minute",
    )
    parser.add_argument(
        "--open-seconds", type=float, default=120.0, help="open-then-submit: the forms are opened over this"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--cold",
        action="store_true",
        help="start the load on cold workers (no warm-up), to see the first-request import cost",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    parser.add_argument("--json", help="also write the raw figures to this file")
    args = parser.parse_args()

    database_url = f"{PG}/{args.db}"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    database_create(args.db)
    server = None
    try:
        t = time.perf_counter()
        world = setup(sessions=args.sessions, trainees=args.trainees)
        print(f"Set up {len(world['tokens'])} invitations in {time.perf_counter() - t:.0f} s", flush=True)
        # The setup's connection would otherwise sit idle in a transaction-free session; close it so the
        # database sees only the server's connections during the load.
        from django.db import connections

        connections.close_all()
        port = _free_port()
        # Collected static files are kept between runs: collectstatic then only copies what changed,
        # instead of compressing every file again (about a minute on 2 busy cores).
        static_root = str(Path(tempfile.gettempdir()) / "closing-the-loop-bench-static")
        env = server_env(database_url=database_url, static_root=static_root, port=port)
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        server = gunicorn_start(env=env, port=port, workers=args.workers)
        waves = [] if args.cold else warm_up(port=port, workers=args.workers)
        print("Warm-up waves, slowest request (s): " + ", ".join(f"{w:.1f}" for w in waves), flush=True)
        sampler = MemorySampler(server.pid)
        sampler.start()
        load_before = _loadavg()
        result = load(
            port=port,
            tokens=world["tokens"],
            seconds=args.seconds,
            open_seconds=args.open_seconds,
            threads=args.threads,
            via=args.via,
            scenario=args.scenario,
            options=world["options"],
            seed=args.seed,
        )
        load_after = _loadavg()
        sampler.stop.set()
        sampler.join()
        stored = stored_count(world["administrations"])
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop(args.db)

    rows = []
    for kind, values in result["latencies"].items():
        rows.append(
            {
                "kind": kind,
                "requests": len(values),
                "errors": len(result["failures"].get(kind, [])),
                "p50_ms": 1000 * _percentile(values, 50),
                "p95_ms": 1000 * _percentile(values, 95),
                "p99_ms": 1000 * _percentile(values, 99),
                "max_ms": 1000 * max(values),
            }
        )
    summary = {
        "invitations": len(world["tokens"]),
        "via": args.via,
        "scenario": args.scenario,
        "workers": args.workers,
        "open_wall_s": result["open_wall_s"],
        "wall_s": result["wall_s"],
        "rows": rows,
        "error_statuses": {k: sorted(map(str, set(v))) for k, v in result["failures"].items()},
        "start_lateness_p95_ms": 1000 * _percentile(result["lateness"], 95),
        "start_lateness_max_ms": 1000 * max(result["lateness"]),
        "stored": stored,
        "peak_rss_total_mib": sampler.peak_total / 1024,
        "peak_rss_worker_mib": sampler.peak_worker / 1024,
        "worker_pids_seen": len(sampler.workers),
        "warm_up_waves_s": waves,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
    }
    print(
        f"\n{summary['invitations']} trainees, {args.scenario}, submitting over {args.seconds:.0f} s via "
        f"{args.via}, gunicorn "
        f"{args.workers} sync workers; wall {summary['wall_s']:.1f} s; load average before {load_before}, "
        f"after {load_after}\n"
    )
    print("| Request | Requests | Errors | p50 ms | p95 ms | p99 ms | Max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['kind']} | {r['requests']:,} | {r['errors']} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | "
            f"{r['p99_ms']:.0f} | {r['max_ms']:.0f} |"
        )
    print(
        f"\nStored: {stored['invitations_answered']:,} invitations answered, "
        f"{stored['responses_submitted']:,} responses submitted, {stored['responses_scored']:,} scored "
        f"(expected {summary['invitations']:,}). Errors: {summary['error_statuses'] or 'none'}."
    )
    print(
        f"Start lateness (load generator behind schedule): p95 {summary['start_lateness_p95_ms']:.0f} ms, "
        f"max {summary['start_lateness_max_ms']:.0f} ms."
    )
    print(
        f"Peak RSS: gunicorn master + workers {summary['peak_rss_total_mib']:.0f} MiB, "
        f"largest worker {summary['peak_rss_worker_mib']:.0f} MiB "
        f"({summary['worker_pids_seen']} workers seen)."
    )
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))
    ok = stored["responses_submitted"] == summary["invitations"] and not result["failures"]
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
