"""Test fixtures for the job queue (re-exported by ``scaiwave_cli.testing``, the pytest plugin).

- ``redis_url``: the URL of a real ``redis-server`` on 127.0.0.1 (a free port, its own temporary
  directory, no persistence), started once per session (``redis_server``) and emptied
  (``FLUSHALL``) before each test. Fails naming the package when ``redis-server`` is missing.
- ``arq_workers``: ``arq_workers.start(n, redis_url, env=..., job_timeout=5)`` starts n
  ``python -m scaiwave_cli worker --queue URL`` processes with the test's environment
  (``SCAIWAVE_HOME``, ``SCAIWAVE_DB_URL``, the ``cli`` harness's variables) plus ``env``, waits
  until each says it is ready, and returns their ``Popen`` objects; all are stopped at teardown
  (SIGTERM, then SIGKILL). ``arq_workers.kill_at_marker(marker)`` waits until a worker parks at
  a kill point (``api.pause_at``: set the point's variable in ``env``) and SIGKILLs it;
  ``arq_workers.logs()`` is what the workers printed (shown when a test fails).

A killed worker's job runs again on another worker once ARQ's in-progress key expires: the
job timeout + 10 s, hence the short default ``job_timeout`` here.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scaiwave_cli.fanout_queue import READY  # what `scaiwave worker` prints when connected


def _redis_call(port: int, *args: str) -> bytes:
    """One command in Redis's protocol; the raw reply."""
    body = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(body.encode())
        return conn.recv(65536)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> str:
    """A ``redis-server`` for the whole session: its URL (use ``redis_url`` in tests)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            if _redis_call(port, "PING").startswith(b"+PONG"):
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("redis-server did not start")
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server) -> str:
    """The session's ``redis-server`` URL, emptied (FLUSHALL) for this test."""
    port = int(redis_server.rsplit(":", 1)[1].split("/")[0])
    assert _redis_call(port, "FLUSHALL").startswith(b"+OK")
    return redis_server


class ArqWorkers:
    """``scaiwave worker`` processes of one test (the ``arq_workers`` fixture)."""

    def __init__(self, home: Path, base_env: dict, log_dir: Path):
        self.home = home
        self.base_env = base_env
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []
        self._logs: list[Path] = []

    def start(
        self,
        n: int,
        redis_url: str,
        *,
        env: dict | None = None,
        job_timeout: int = 5,
        max_jobs: int = 1,
        args: tuple[str, ...] = (),
        ready_timeout: float = 60,
    ) -> list[subprocess.Popen]:
        """Start ``n`` workers on ``redis_url``; return once each is connected."""
        run_env = {**os.environ, **self.base_env, **(env or {})}
        run_env["SCAIWAVE_HOME"] = str(self.home)
        started = []
        for _ in range(n):
            log = self.log_dir / f"worker-{len(self._logs)}.log"
            argv = [sys.executable, "-m", "scaiwave_cli", "worker", "--queue", redis_url]
            argv += ["--job-timeout", str(job_timeout), "--max-jobs", str(max_jobs), *args]
            with open(log, "wb") as out:
                proc = subprocess.Popen(argv, env=run_env, stdout=out, stderr=subprocess.STDOUT)
            self.procs.append(proc)
            self._logs.append(log)
            started.append((proc, log))
        deadline = time.monotonic() + ready_timeout
        for proc, log in started:
            while READY not in log.read_text(errors="replace"):
                assert proc.poll() is None, f"a worker exited {proc.returncode}:\n{self.logs()}"
                assert time.monotonic() < deadline, f"a worker never got ready:\n{self.logs()}"
                time.sleep(0.05)
        return [proc for proc, _ in started]

    def kill_at_marker(self, marker, timeout: float = 120) -> int:
        """Wait until one of the workers parks at a kill point (its marker file holds its pid),
        SIGKILL it, and return the pid."""
        marker = Path(marker)
        deadline = time.monotonic() + timeout
        while not (marker.exists() and marker.read_text().strip()):
            assert time.monotonic() < deadline, f"no worker reached {marker}:\n{self.logs()}"
            time.sleep(0.02)
        pid = int(marker.read_text())
        proc = next((p for p in self.procs if p.pid == pid), None)
        assert proc is not None, f"pid {pid} in {marker} is none of the workers"
        os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=60)
        return pid

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}"
            for log in self._logs
            if log.exists()
        )

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.procs:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


@pytest.fixture
def arq_workers(cli, tmp_path):
    """Start ``scaiwave worker`` processes on a ``redis_url``; stopped at teardown::

    def test_on_the_queue(cli, db_url, redis_url, arq_workers):
        arq_workers.start(2, redis_url)
        result = cli.invoke("room", "export-all", ..., "--queue", redis_url)
    """
    log_dir = tmp_path / "arq-workers"
    log_dir.mkdir()
    workers = ArqWorkers(cli.home, cli.env, log_dir)
    yield workers
    workers.stop()
    sys.stderr.write(workers.logs())  # pytest shows it when the test failed
