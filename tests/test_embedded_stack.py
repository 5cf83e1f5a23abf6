"""The embedded default runs the whole system with no server: what `make run` starts.

The Procfile's three processes (web, worker, beat) run under honcho on a SQLite file and the
filesystem broker in a temporary folder; the test logs in to the admin, sends a task through
the broker to the worker, and sees beat's database scheduler at work.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.embedded

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def stack_env(tmp_path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CELERY_", "PYTEST_"))
        and k not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DJANGO_READ_DOT_ENV_FILE="false",
        TRACKER_VAR_DIR=str(tmp_path / "var"),
        WEB_PORT=str(free_port()),
        ADMIN_PASSWORD="embedded-test-password",
        PATH=f"{BIN}:{env.get('PATH', '')}",
    )
    return env


def manage(env, *args, timeout=120) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def wait_for(url: str, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                return response.status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_web_worker_and_beat_run_on_the_embedded_default(stack_env):
    manage(stack_env, "migrate", "--noinput")
    assert "created 5 places" in manage(stack_env, "loaddemo")
    manage(stack_env, "ensureadmin")

    honcho = subprocess.Popen(
        [str(BIN / "honcho"), "--procfile", "Procfile", "start"],
        cwd=BASE_DIR,
        env=stack_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        port = stack_env["WEB_PORT"]
        assert wait_for(f"http://127.0.0.1:{port}/admin/login/", 30) == 200

        # A task goes through the folder broker to the worker and its result comes back.
        pong = manage(
            stack_env,
            "shell",
            "-c",
            "from tracker.tasks import ping; print(ping.delay().get(timeout=30))",
        )
        assert pong.strip().endswith("pong")

        # Beat runs with the database scheduler: it installs its default entry in SQLite.
        probe = (
            "from django_celery_beat.models import PeriodicTask;"
            "print(PeriodicTask.objects.filter(name='celery.backend_cleanup').exists())"
        )
        deadline = time.monotonic() + 30
        while not manage(stack_env, "shell", "-c", probe).strip().endswith("True"):
            assert time.monotonic() < deadline, "beat never wrote its schedule"
            time.sleep(0.5)
    finally:
        os.killpg(honcho.pid, signal.SIGTERM)
        output, _ = honcho.communicate(timeout=30)

    # Every file of the folder broker stays under TRACKER_VAR_DIR, none in the checkout.
    assert (Path(stack_env["TRACKER_VAR_DIR"]) / "broker" / "control").is_dir()
    assert re.search(r"worker\.\d+\s+\|.*celery@\S+ ready", output), output[-3000:]
    assert re.search(r"beat\.\d+\s+\|.*beat: Starting", output), output[-3000:]
    assert "Task tracker.ping" in output and "succeeded" in output
