"""Real processes for the fault tests: a private redis-server, Celery workers and beat,
gunicorn; each in its own session (process group) so a test can SIGKILL a worker with its pool
children, and every one is killed when the test ends, passed or failed.

The processes run ``config.settings.local`` (what ``make run`` and the Dockerfile's processes
run, minus DEBUG) against the *test* database and a private Redis, never the machine's
Redis on 6379, which other test runs share.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], object], timeout: float, what: str, interval=0.05):
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database Django is connected to (the test database)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


def django_env(*, database_url: str, redis_url: str, var_dir: Path, **extra: str) -> dict:
    """The environment of a deployed process: no .env file, PostgreSQL and Redis by URL."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CELERY_", "TRACKER_", "EMAIL_", "HEALTH_"))
        and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DJANGO_READ_DOT_ENV_FILE="false",
        DJANGO_DEBUG="false",  # DEBUG keeps every query in memory
        DJANGO_SECRET_KEY="fault-tests-only-not-a-secret",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_LOG_LEVEL="INFO",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        TRACKER_VAR_DIR=str(var_dir),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class Proc:
    """One process started in a new session; its output goes to ``log_path``."""

    def __init__(self, name: str, argv: list[str], env: dict | None, log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                argv,
                cwd=BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except FileNotFoundError:
            return ""

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 10) -> None:
        """Signal the whole process group (a prefork worker's children too) and reap it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout)
        # Pool children outlive their parent by a moment: wait until the group is empty.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            time.sleep(0.02)


class Procs:
    """Every process a test started; ``stop_all`` (a fixture's finalizer) kills them all."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[Proc] = []

    def start(self, name: str, argv: list[str], env: dict | None = None) -> Proc:
        proc = Proc(name, argv, env, self.log_dir)
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        """Kill everything, the Redis servers last (so no client logs a needless outage)."""
        newest_first = self.started[::-1]
        newest_first.sort(key=lambda proc: proc.name.startswith("redis"))
        for proc in newest_first:
            proc.kill()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} (pid {p.pid}) ---\n{p.log(3000)}" for p in self.started)

    # --- the parts --------------------------------------------------------------------------

    def redis(self, port: int, name: str = "redis") -> Proc:
        assert shutil.which("redis-server"), "redis-server is not installed (ensure-services.sh)"
        proc = self.start(
            name,
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
        )
        wait_for(lambda: redis_answers(port), 10, f"redis-server on port {port}")
        return proc

    def worker(self, env: dict, name: str = "worker", concurrency: int = 2) -> Proc:
        proc = self.start(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--pool=prefork",
                f"--concurrency={concurrency}",
                "--without-mingle",
                "--without-gossip",
                "--loglevel=INFO",
                "-Q",
                "celery",
                "-n",
                f"{name}@%h",
            ],
            env,
        )
        wait_for(lambda: " ready." in proc.log(100_000) or not proc.alive(), 30, f"{name} ready")
        assert proc.alive(), f"{name} died at start:\n{proc.log()}"
        return proc

    def beat(self, env: dict, name: str = "beat") -> Proc:
        return self.start(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel=INFO",
                "--pidfile",
                str(self.log_dir / f"{name}.pid"),
                "--schedule",
                str(self.log_dir / f"{name}-schedule"),
            ],
            env,
        )

    def gunicorn(self, env: dict, port: int, name: str = "web") -> Proc:
        """gunicorn as the Dockerfile runs it; returns at once (boots while a worker starts)."""
        proc = self.start(
            name,
            [
                str(BIN / "gunicorn"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--timeout",
                "60",
                "--access-logfile",
                "-",
            ],
            env,
        )
        return proc  # serving once ``port_open(port)``


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (a prefork worker's pool)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False
