"""B8 and B9 of bench/README.md: the hub under its production servers (gunicorn, a Celery worker).

The in-process benchmarks cannot see what the servers add (the WSGI worker, keep-alive-less sync
workers, a worker process living through 100,000 tasks), so these start the real commands of the
Procfile in production mode against the benchmark database, and always stop them again.

Figures are ratios against references measured in the same run, because the machine is shared and
noisy. Every function reads the database URL from the environment (the bench command runs with
DATABASE_URL pointing at the `*_bench` database) and refuses any other database.
"""

import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.db.models import Count
from django.test import override_settings
from django_otp import DEVICE_ID_SESSION_KEY

from collab_hub.accounts.middleware import LOGIN_AT
from collab_hub.accounts.testing import confirmed_device
from collab_hub.core.scale import BENCH_SUFFIXES, insert_select

INBOX = "/referrals/?box=received"
PING = "/ping/"
DISPATCH = "collab_hub.notifications.tasks.dispatch"
# settings.py names the session cookie so when DJANGO_DEBUG is off, which is how the servers run here.
PRODUCTION_SESSION_COOKIE = "__Host-sessionid"
# A Redis database of the benchmarks' own: the servers' cache and broker never meet the development
# or test servers' (0 and 15), so no other worker takes the benchmark's tasks and no cached page of
# another database is served.
BENCH_REDIS_DB = 9
BIN = Path(sys.executable).parent
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
# A delivery run that sends nothing for this long is stuck (worker start-up included).
STALL_TIMEOUT = 120.0

# Prints one JSON line with the totals of all wrk threads. wrk itself counts only non-2xx/3xx
# responses, so a redirect to the log-in page would pass unnoticed: every response other than 200
# is counted here.
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not_200 = 0 end
function response(status, headers, body) if status ~= 200 then not_200 = not_200 + 1 end end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("not_200") end
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests": %d, "duration_us": %d, "not_200": %d, "connect": %d, "read": %d, '
    .. '"write": %d, "timeout": %d, "p50_us": %d, "p95_us": %d}\\n',
    summary.requests, summary.duration, bad, e.connect, e.read, e.write, e.timeout,
    math.floor(latency:percentile(50)), math.floor(latency:percentile(95))))
end
"""


class BenchServerError(RuntimeError):
    """A server did not start, answered something other than 200, or a delivery run got stuck."""


# --- the two benchmarks ------------------------------------------------------------------------------


def throughput(
    *,
    user,
    duration: float,
    repeats: int,
    connections: int = 8,
    workers: int = 2,
    database_url: str | None = None,
) -> dict:
    """B8: requests/s and p95 latency of `user`'s inbox and of /ping/ under gunicorn, loaded by wrk.

    Runs alternate (inbox, ping) `repeats` times for `duration` whole seconds each, after a short
    warm-up of both; figures are medians. `workers` defaults to the Procfile's WEB_CONCURRENCY.
    """
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchServerError("wrk is not installed (scripts/bench.sh installs Debian's wrk).")
    seconds = max(1, round(duration))  # wrk takes whole seconds only
    started = time.perf_counter()
    server = _web_server(user, database_url, prefix="bench-b8-", workers=workers)
    with server as (tmp, cookie, _process, port):
        script = tmp / "result.lua"
        script.write_text(WRK_SCRIPT)
        # Before any load: a refused session would measure the log-in redirect, not the pages.
        check = _connection(port)
        _get_ok(check, PING, cookie, expect=b"ok")
        _get_ok(check, INBOX, cookie)
        check.close()

        def run(path: str, run_seconds: int) -> dict:
            # Sync workers finish the requests wrk abandoned when its time was up; wait for them so
            # one page's backlog is not charged to the next run.
            drain = _connection(port)
            _get_ok(drain, PING, cookie, expect=b"ok")
            drain.close()
            return _wrk(wrk, port, path, cookie, script, seconds=run_seconds, connections=connections)

        # Every worker loads templates, translations and its database connection on first use.
        run(INBOX, 2)
        run(PING, 2)
        inbox_runs, ping_runs = [], []
        for _ in range(repeats):
            inbox_runs.append(run(INBOX, seconds))
            ping_runs.append(run(PING, seconds))
    inbox_rps = statistics.median(r["rps"] for r in inbox_runs)
    ping_rps = statistics.median(r["rps"] for r in ping_runs)
    inbox_p95 = statistics.median(r["p95_ms"] for r in inbox_runs)
    ping_p95 = statistics.median(r["p95_ms"] for r in ping_runs)
    return {
        "rps_ratio": inbox_rps / ping_rps,
        "p95_ratio": inbox_p95 / ping_p95,
        "inbox_rps": inbox_rps,
        "trivial_rps": ping_rps,
        "inbox_p95_ms": inbox_p95,
        "trivial_p95_ms": ping_p95,
        "inbox_runs": inbox_runs,
        "trivial_runs": ping_runs,
        "duration_s": seconds,
        "repeats": repeats,
        "connections": connections,
        "workers": workers,
        "seconds": time.perf_counter() - started,
    }


def web_memory(*, user, first: int = 100, total: int = 10_000, database_url: str | None = None) -> dict:
    """B9, web: peak resident memory (VmHWM) of the one gunicorn worker after `total` inbox requests
    ÷ after the `first` of them. One sync worker, so every request is served by the process measured;
    exactly these many requests reach it (no check request beforehand: each one is checked)."""
    if not 0 < first <= total:
        raise ValueError("need 0 < first <= total")
    started = time.perf_counter()
    with _web_server(user, database_url, prefix="bench-b9-web-", workers=1) as (tmp, cookie, process, port):
        worker = _only_child(process, tmp / "gunicorn.log")
        client = _connection(port)
        for _ in range(first):
            _get_ok(client, INBOX, cookie)
        hwm_first = _proc_status_kb(worker, "VmHWM")
        for _ in range(total - first):
            _get_ok(client, INBOX, cookie)
        client.close()
        hwm_total = _proc_status_kb(worker, "VmHWM")
        rss_total = _proc_status_kb(worker, "VmRSS")
        if _children(process.pid) != [worker]:
            raise BenchServerError("The gunicorn worker was replaced during the run: its memory restarted.")
    return {
        "ratio": hwm_total / hwm_first,
        "hwm_first_kb": hwm_first,
        "hwm_total_kb": hwm_total,
        "rss_total_kb": rss_total,
        "first": first,
        "total": total,
        "seconds": time.perf_counter() - started,
    }


def worker_memory(
    *,
    recipient,
    first: int = 1_000,
    total: int = 100_000,
    pool: str = "prefork",
    database_url: str | None = None,
    redis_url: str | None = None,
) -> dict:
    """B9, worker: VmHWM of the Celery pool process that runs the tasks after delivering `total`
    reminder e-mails ÷ after `first`. The notifications are inserted for the run and deleted after it,
    so the benchmark database stays as loaded; the e-mails go nowhere (Django's dummy backend)."""
    from collab_hub.notifications.models import EmailState, Notification

    if not 0 < first <= total:
        raise ValueError("need 0 < first <= total")
    if pool not in ("prefork", "solo"):
        raise ValueError("pool is prefork or solo: one process must run every task")
    if not recipient.email or not recipient.is_active:
        raise ValueError("the recipient needs an e-mail address and an active account, or nothing is sent")
    if connection.in_atomic_block:
        raise BenchServerError("worker_memory needs autocommit: the worker must see the inserted rows.")
    database_url = _bench_database_url(database_url)
    redis_url = redis_url or _bench_redis_url()
    token = secrets.token_hex(4)
    prefix = f"bench-b9-{token}-"  # hex only: safe inside the SQL below
    queue = f"bench-b9-{token}"  # a queue of this run only, purged before and deleted after
    started = time.perf_counter()
    env = _server_env(_secret_key(), database_url, redis_url=redis_url)
    command = [
        str(BIN / "celery"),
        "-A",
        "collab_hub",
        "worker",
        "--pool",
        pool,
        "--concurrency",
        "1",
        "--queues",
        queue,
        "--hostname",
        f"{queue}@%h",
        "--loglevel",
        "WARNING",  # INFO would write two lines per task, 200,000 lines that measure nothing
        "--without-gossip",
        "--without-mingle",
    ]
    sender = _sender_app(redis_url)
    try:
        _purge(sender, queue)

        def insert(start: int, stop: int) -> None:
            insert_select(
                "notifications.Notification",
                {
                    "recipient_id": str(int(recipient.pk)),
                    "kind": "'bench'",
                    "subject": "'Herinnering (benchmark) ' || i",
                    "body": "'Een herinnering die de geheugenbenchmark nergens heen stuurt.'",
                    "link": "'/referrals/'",
                    "reference": "'B9-' || i",
                    "dedupe_key": f"'{prefix}' || i",
                    "created_at": "now()",
                    "email_state": f"'{EmailState.PENDING.value}'",
                    "email_attempts": "0",
                    "email_error": "''",
                    "category": "'reminders'",
                },
                f"FROM generate_series({int(start)}, {int(stop)}) AS i",
            )

        rows = Notification.objects.filter(dedupe_key__startswith=prefix)
        with tempfile.TemporaryDirectory(prefix="bench-b9-worker-") as tmp:
            log = Path(tmp) / "celery.log"
            with _process(command, env, log) as process:
                # The first e-mails, then the rest: each batch is what the commit of new notifications
                # asks for, one dispatch task that delivers in batches until none are left.
                insert(1, first)
                start = time.perf_counter()
                _enqueue_dispatch(sender, queue)
                _wait_delivered(rows, first, process, log)
                # prefork (the Procfile's pool) at concurrency 1 runs every task in its one child;
                # solo runs them in the main process.
                runner = _only_child(process, log) if pool == "prefork" else process.pid
                hwm_first = _proc_status_kb(runner, "VmHWM")
                first_s = time.perf_counter() - start
                insert(first + 1, total)
                second = time.perf_counter()
                _enqueue_dispatch(sender, queue)
                _wait_delivered(rows, total, process, log)
                rest_s = time.perf_counter() - second
                hwm_total = _proc_status_kb(runner, "VmHWM")
                rss_total = _proc_status_kb(runner, "VmRSS")
                master_hwm = _proc_status_kb(process.pid, "VmHWM")
                deliver_s = time.perf_counter() - start
                if pool == "prefork" and _children(process.pid) != [runner]:
                    raise BenchServerError("The Celery pool process was replaced during the run.")
    finally:
        with contextlib.suppress(Exception):  # a broken broker must not hide the first error
            _purge(sender, queue, delete=True)
        sender.close()
        with connection.cursor() as cursor:
            cursor.execute(
                f'DELETE FROM "{Notification._meta.db_table}" WHERE dedupe_key LIKE %s',  # noqa: S608 - a model's own table name
                [prefix + "%"],
            )
    return {
        "ratio": hwm_total / hwm_first,
        "hwm_first_kb": hwm_first,
        "hwm_total_kb": hwm_total,
        "rss_total_kb": rss_total,
        "master_hwm_kb": master_hwm,
        "first": first,
        "total": total,
        "first_s": first_s,
        "deliver_s": deliver_s,
        # B10: the rate of the second, larger part (total − first e-mails, one dispatch)
        "emails_per_s": (total - first) / rest_s if total > first else total / deliver_s,
        "seconds": time.perf_counter() - started,
    }


# --- databases, environment, log-in ------------------------------------------------------------------


def _bench_database_url(database_url: str | None) -> str:
    """The servers must read the very database this process writes the session and rows into."""
    database_url = database_url or os.environ.get("DATABASE_URL", "")
    if not database_url:
        raise BenchServerError("DATABASE_URL is not set: the servers need the benchmark database's URL.")
    name = environ.Env.db_url_config(database_url).get("NAME", "")
    ours = connection.settings_dict["NAME"]
    if name != ours:
        raise BenchServerError(f"DATABASE_URL names {name!r}, but this process is connected to {ours!r}.")
    # Benchmark databases, and pytest-django's throwaway test databases for the helpers' own test.
    if not (name.endswith(BENCH_SUFFIXES) or name.startswith("test_")):
        raise BenchServerError(f"The server benchmarks run on a benchmark database only, not {name!r}.")
    return database_url


def _bench_redis_url() -> str:
    """The project's Redis server (host, password) with the benchmarks' own database number."""
    parts = urlsplit(settings.REDIS_URL)
    return urlunsplit(parts._replace(path=f"/{BENCH_REDIS_DB}"))


def _secret_key() -> str:
    return secrets.token_urlsafe(50)


def _server_env(
    secret: str, database_url: str, *, redis_url: str | None = None, tmp: str | None = None
) -> dict[str, str]:
    """Production mode, as a deployment runs it, except plain HTTP on loopback (no TLS proxy here)."""
    # The test run's own switches (pytest's env) are not production's.
    dropped = {"DJANGO_ALLOW_ASYNC_UNSAFE", "FAST_PASSWORD_HASHING", "GUNICORN_CMD_ARGS"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "collab_hub.settings",
            "DJANGO_DEBUG": "0",
            "SECRET_KEY": secret,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url or _bench_redis_url(),
            "EMAIL_URL": "dummymail://",
        }
    )
    if tmp is not None:  # production's hashed static files, collected for this server only
        env["STATIC_ROOT"] = str(Path(tmp) / "static")
    return env


@contextlib.contextmanager
def _web_server(
    user, database_url: str | None, *, prefix: str, workers: int
) -> Iterator[tuple[Path, str, subprocess.Popen, int]]:
    """A production-mode gunicorn on the bench database and a logged-in session cookie for `user`:
    (its scratch directory, the cookie, the master process, the port)."""
    database_url = _bench_database_url(database_url)
    secret = _secret_key()
    with (
        tempfile.TemporaryDirectory(prefix=prefix) as tmp,
        _login_session(user, secret) as cookie,
        _gunicorn(_server_env(secret, database_url, tmp=tmp), Path(tmp), workers=workers) as (process, port),
    ):
        yield Path(tmp), cookie, process, port


@contextlib.contextmanager
def _login_session(user, secret: str) -> Iterator[str]:
    """A session as a real two-step log-in leaves it, signed with the servers' SECRET_KEY (the session
    data and the auth hash are both keyed by it); yields the Cookie header and deletes it afterwards."""
    from collab_hub.accounts.models import LoginSession

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    with override_settings(SECRET_KEY=secret):
        store[SESSION_KEY] = user._meta.pk.value_to_string(user)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store[DEVICE_ID_SESSION_KEY] = confirmed_device(user).persistent_id
        store[LOGIN_AT] = time.time()
        store.create()
    LoginSession.objects.create(user=user, session_key=store.session_key)
    try:
        yield f"{PRODUCTION_SESSION_COOKIE}={store.session_key}"
    finally:
        LoginSession.objects.filter(session_key=store.session_key).delete()
        store.delete()


# --- processes ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def _process(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """Start a server in its own process group and always stop it: terminate (graceful), then kill."""
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own venv's executables, arguments built here
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    # The group is the server's own (start_new_session): its workers go with it.
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


@contextlib.contextmanager
def _gunicorn(env: dict[str, str], tmp: Path, *, workers: int) -> Iterator[tuple[subprocess.Popen, int]]:
    """The Procfile's web command on a free loopback port, after the static files a deployment collects
    (production mode's storage needs their manifest to render any page)."""
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if collect.returncode != 0:
        raise BenchServerError(f"collectstatic failed in production mode:\n{collect.stderr[-3000:]}")
    port = _free_port()
    command = [
        str(BIN / "gunicorn"),
        "collab_hub.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--access-logfile",
        "-",
        # Its default path is one per user: a benchmark server must not take it from a running web.
        "--no-control-socket",
    ]
    log = tmp / "gunicorn.log"
    with _process(command, env, log) as process:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise BenchServerError(f"gunicorn exited with {process.returncode}:\n{_tail(log)}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError as error:
                if time.monotonic() > deadline:
                    raise BenchServerError(
                        f"gunicorn did not listen within {START_TIMEOUT} s:\n{_tail(log)}"
                    ) from error
                time.sleep(0.1)
        try:
            yield process, port
        except BenchServerError as error:
            raise BenchServerError(f"{error}\n--- gunicorn log ---\n{_tail(log)}") from error


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name in parentheses may hold spaces; the fields after the last ")" are fixed.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            children.append(int(entry))
    return sorted(children)


def _only_child(process: subprocess.Popen, log: Path) -> int:
    """The one worker process a single-worker server forks (gunicorn's worker, Celery's pool process)."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        children = _children(process.pid)
        if len(children) == 1:
            return children[0]
        if process.poll() is not None or time.monotonic() > deadline:
            raise BenchServerError(f"Expected one worker process, found {children}:\n{_tail(log)}")
        time.sleep(0.1)


def _proc_status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise BenchServerError(f"/proc/{pid}/status has no {field}")


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


# --- HTTP --------------------------------------------------------------------------------------------


def _connection(port: int) -> http.client.HTTPConnection:
    # Sync workers close every connection after the response; http.client then reconnects by itself.
    return http.client.HTTPConnection("127.0.0.1", port, timeout=START_TIMEOUT)


def _get_ok(client: http.client.HTTPConnection, path: str, cookie: str, expect: bytes | None = None) -> bytes:
    client.request("GET", path, headers={"Cookie": cookie})
    response = client.getresponse()
    body = response.read()
    if response.status != 200 or (expect is not None and body != expect):
        where = response.getheader("Location")
        raise BenchServerError(
            f"{path} answered {response.status}"
            + (f" (redirect to {where}: the session was not accepted)" if where else "")
            + f": {body[:300]!r}"
        )
    return body


def _wrk(
    wrk: str, port: int, path: str, cookie: str, script: Path, *, seconds: int, connections: int
) -> dict:
    threads = max(1, min(2, connections))  # the machine has two cores; wrk needs threads <= connections
    result = subprocess.run(  # noqa: S603 - wrk found on PATH, arguments built here
        [
            wrk,
            f"--threads={threads}",
            f"--connections={connections}",
            f"--duration={seconds}s",
            "--timeout=30s",
            f"--script={script}",
            f"--header=Cookie: {cookie}",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    line = next((s for s in result.stdout.splitlines() if s.startswith("BENCH-RESULT ")), None)
    if result.returncode != 0 or line is None:
        raise BenchServerError(f"wrk failed on {path}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    figures = json.loads(line.removeprefix("BENCH-RESULT "))
    errors = {k: figures[k] for k in ("not_200", "connect", "read", "write", "timeout") if figures[k]}
    if errors or not figures["requests"]:
        raise BenchServerError(f"{path} under wrk: {figures['requests']} requests, errors {errors}")
    return {
        "requests": figures["requests"],
        "rps": figures["requests"] / (figures["duration_us"] / 1e6),
        "p50_ms": figures["p50_us"] / 1000,
        "p95_ms": figures["p95_us"] / 1000,
    }


# --- Celery ------------------------------------------------------------------------------------------


def _sender_app(redis_url: str):
    """A Celery app of its own for sending: the project's app is bound to this process's broker and
    result backend, and a result backend would subscribe to every one of the 100,000 task ids."""
    from celery import Celery

    return Celery("collab_hub_bench_sender", broker=redis_url, set_as_current=False)


def _enqueue_dispatch(sender, queue: str) -> None:
    sender.send_task(DISPATCH, queue=queue, ignore_result=True, add_to_parent=False)


def _purge(sender, queue: str, *, delete: bool = False) -> None:
    from kombu import Exchange, Queue

    # Declared as Celery declares a missing queue, so that deleting it also removes the binding the
    # worker left in Redis (a channel deletes only the bindings it knows).
    with sender.connection_for_write() as conn:
        bound = Queue(queue, Exchange(queue), routing_key=queue)(conn.default_channel)
        bound.declare()
        if delete:
            bound.delete()
        else:
            bound.purge()


def _wait_delivered(rows, target: int, process: subprocess.Popen, log: Path) -> None:
    """Until `target` of the rows are sent; fails on any row that will not be (failed, skipped),
    on a dead worker, and on a run that delivers nothing for STALL_TIMEOUT."""
    sent, since = -1, time.monotonic()
    while True:
        states = dict(rows.order_by().values_list("email_state").annotate(n=Count("pk")))
        if states.get("failed") or states.get("skipped"):
            raise BenchServerError(f"E-mails were not delivered: {states}\n{_tail(log)}")
        if states.get("sent", 0) >= target:
            return
        if states.get("sent", 0) != sent:
            sent, since = states.get("sent", 0), time.monotonic()
        if process.poll() is not None:
            raise BenchServerError(f"The Celery worker exited with {process.returncode}:\n{_tail(log)}")
        if time.monotonic() - since > STALL_TIMEOUT:
            raise BenchServerError(f"No e-mail delivered for {STALL_TIMEOUT} s: {states}\n{_tail(log)}")
        # Each look counts up to 100,000 rows: looking more often would take CPU from the worker.
        time.sleep(1.0)
