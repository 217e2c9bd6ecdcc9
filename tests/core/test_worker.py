"""`scaiwave worker` and `api.fanout` on the queue: real `redis-server`, real worker processes.

Results and failures as in local mode; a worker killed mid-job (a kill point) has its job run
again by the other worker once ARQ's in-progress key expires (job timeout + 10 s); a coordinator
killed after queueing leaves the jobs on the queue and its re-run waits for them (same job ids:
each runs once), while a re-run after they finished runs them again; Redis unreachable or a bad
URL is exit 2 at once.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scaiwave_cli import api
from scaiwave_cli.context import AppContext
from scaiwave_cli.testing import HEAVY, assert_help_is_light

sys.path.insert(0, str(Path(__file__).parent))
from fanout_probe import HOOK, job, probe_fixture  # noqa: E402,F401  (the `probe` fixture)

Job = api.fanout.Job


def selftest(key: str, **args) -> Job:
    return Job("core.selftest", key, {"key": key, **args})


def free_port() -> int:
    with socket.socket() as sock:  # bound, never listening, then closed: refused
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_worker_help_imports_neither_arq_nor_asyncio_nor_redis(scaiwave_env):
    modules = assert_help_is_light("worker", forbidden=(*HEAVY, "arq", "redis", "asyncio"))
    assert "scaiwave_cli.fanout" not in modules


def test_the_worker_is_a_core_command(cli):
    listing = {row["name"]: row for row in cli.json("plugins")}
    assert listing["worker"]["distribution"] == "scaiwave-cli"
    assert "worker" in cli.invoke("--help", env={"SCAIWAVE_LOAD_PLUGINS": ""}).stdout


def test_unreachable_redis_is_exit_2_at_once_naming_the_masked_url(cli):
    url = f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0"
    proc = cli.popen("worker", "--queue", url)
    out, err = proc.communicate(timeout=60)  # never a hang
    assert proc.returncode == 2, err
    assert "SW_QUEUE_UNREACHABLE" in err and f"127.0.0.1:{url.rsplit(':', 1)[1]}" in err
    assert "hunter2-secret" not in err and "redis://:***@" in err
    assert "--queue" in err  # the hint


def test_the_queue_url_comes_from_the_setting_and_a_bad_one_is_exit_2(cli):
    env = {"SCAIWAVE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    result = cli.invoke("worker", env=env)
    assert result.exit_code == 2 and "SW_QUEUE_UNREACHABLE" in result.stderr
    assert env["SCAIWAVE_REDIS_URL"] in result.stderr
    for bad in ("http://example.com", "redis://host:99999/0", "redis://host/notanumber", " "):
        result = cli.invoke("worker", "--queue", bad)
        assert result.exit_code == 2 and "SW_QUEUE_URL_INVALID" in result.stderr, bad


def test_the_coordinator_refuses_a_bad_or_unreachable_queue(scaiwave_env):
    app = AppContext(options={})
    with pytest.raises(api.ConfigError) as bad:
        api.fanout.run(app, [selftest("a")], queue="http://x", label="x")
    assert bad.value.code == "SW_QUEUE_URL_INVALID" and bad.value.exit_code == 2
    with pytest.raises(api.BackendUnavailable) as down:
        api.fanout.run(app, [selftest("a")], queue=f"redis://127.0.0.1:{free_port()}", label="x")
    assert down.value.code == "SW_QUEUE_UNREACHABLE" and down.value.exit_code == 2


def test_two_workers_run_the_jobs_with_the_database(
    factory, db_url, redis_url, arq_workers, capsys
):
    factory.tenant("acme")
    workers = arq_workers.start(2, redis_url)
    jobs = [selftest(f"r{n}", tenants=True) for n in (2, 0, 1, 3)]
    jobs += [
        selftest("domain", **{"raise": "domain", "message": "room locked"}),
        selftest("crash", **{"raise": "runtime"}),
        Job("nosuch.job", "unknown", {}),
    ]
    outcome = api.fanout.run(AppContext(options={}), jobs, queue=redis_url, label="x")
    assert list(outcome.done) == ["r2", "r0", "r1", "r3"]
    assert {r["pid"] for r in outcome.done.values()} <= {w.pid for w in workers}
    assert all(r["tenants"] == 1 and r["actor"].startswith("local:") for r in outcome.done.values())
    assert outcome.failed["domain"]["code"] == "SW_DOMAIN_ERROR"
    assert outcome.failed["domain"]["message"] == "selftest failed on request: room locked"
    assert outcome.failed["crash"]["code"] == "SW_JOB_FAILED"
    assert outcome.failed["unknown"]["code"] == "SW_JOB_UNKNOWN"
    err = capsys.readouterr().err
    assert "failed: domain: SW_DOMAIN_ERROR: selftest failed on request: room locked" in err
    logs = arq_workers.logs()
    assert "jobs: core.selftest" in logs and redis_url in logs
    assert "RuntimeError: selftest crashed on request" in logs  # the traceback, for operators


def test_a_job_unknown_on_the_workers_machine(cli, probe, redis_url, arq_workers):
    arq_workers.start(1, redis_url, env={"PYTHONPATH": ""})  # the plugin is not installed there
    proc = cli.popen(*probe([job("a")], "--queue", redis_url))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "failed: a: SW_JOB_UNKNOWN: no job 'probe.echo' on this worker" in err


def test_a_worker_killed_mid_job_has_its_job_run_by_the_other(
    scaiwave_env, redis_url, arq_workers, tmp_path
):
    marker = tmp_path / "reached"
    env = {HOOK: f"selftest:{marker}"}  # the first worker to reach the point parks there
    workers = arq_workers.start(2, redis_url, env=env, job_timeout=2)
    box = {}
    jobs = [selftest(f"k{n}") for n in range(3)]

    def coordinate():
        box["out"] = api.fanout.run(AppContext(options={}), jobs, queue=redis_url, label="x")

    thread = threading.Thread(target=coordinate)
    thread.start()
    killed = arq_workers.kill_at_marker(marker)
    thread.join(timeout=120)  # retried once the in-progress key expires: 2 + 10 s
    assert not thread.is_alive()
    outcome = box["out"]
    assert outcome.failed == {} and list(outcome.done) == ["k0", "k1", "k2"]
    survivor = next(w.pid for w in workers if w.pid != killed)
    assert {r["pid"] for r in outcome.done.values()} <= {survivor}


def test_a_killed_coordinator_re_attaches_and_no_job_runs_twice(
    cli, probe, redis_url, arq_workers, tmp_path
):
    log = tmp_path / "executions.log"
    jobs = [job(f"k{n}", log=str(log)) for n in range(3)]
    argv = probe(jobs, "--queue", redis_url)
    # the first run queues every job and is killed before any worker exists
    cli.kill_at(HOOK, "fanout-enqueued", *argv, marker_dir=tmp_path)
    assert not log.exists()
    rerun = cli.popen(*argv)
    _wait_for_text(rerun, "3 of 3 job(s) were already queued or running")
    arq_workers.start(2, redis_url)
    out, err = _finish(rerun)
    assert rerun.returncode == 0, err
    assert list(json.loads(out)["done"]) == ["k0", "k1", "k2"]
    assert _keys(log) == ["k0", "k1", "k2"]  # each ran once
    # finished jobs' kept results are stale for a new run: it runs them again
    again = cli.popen(*argv)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert "already queued" not in err
    assert _keys(log) == ["k0", "k0", "k1", "k1", "k2", "k2"]


def test_the_coordinator_says_once_when_no_worker_runs_the_jobs(cli, probe, redis_url):
    waiting = cli.popen(*probe([job("a"), job("b")], "--queue", redis_url))
    _wait_for_text(waiting, "2 job(s) wait on the queue")
    burst = subprocess.run(
        [sys.executable, "-m", "scaiwave_cli", "worker", "--queue", redis_url, "--burst"],
        env=_env(cli),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert burst.returncode == 0, burst.stderr  # --burst: ends once the queue is empty
    assert "jobs: core.selftest, probe.echo" in burst.stderr
    out, err = _finish(waiting)
    assert waiting.returncode == 0, err
    assert list(json.loads(out)["done"]) == ["a", "b"]
    assert f"start `scaiwave worker --queue {redis_url}`" in err
    assert err.count("wait on the queue") == 1


def test_a_job_over_the_timeout_fails(scaiwave_env, redis_url, arq_workers):
    arq_workers.start(1, redis_url, job_timeout=1)
    jobs = [selftest("slow", sleep=3)]
    outcome = api.fanout.run(AppContext(options={}), jobs, queue=redis_url, label="x")
    assert outcome.failed["slow"]["code"] == "SW_JOB_FAILED"
    assert "--job-timeout" in outcome.failed["slow"]["message"]


def test_a_job_started_more_than_max_tries_times_is_lost(scaiwave_env):
    from scaiwave_cli.fanout_worker import WorkerState, scaiwave_job

    state = WorkerState({}, None, False, 1)
    envelope = {"name": "core.selftest", "args": {}, "actor": {"name": "x"}, "max_tries": 2}
    result = asyncio.run(scaiwave_job({"scaiwave": state, "job_try": 3}, envelope))
    assert result["code"] == "SW_WORKER_LOST" and result["tries"] == 2
    result = asyncio.run(scaiwave_job({"scaiwave": state, "job_try": 2}, envelope))
    assert result["ok"] and result["result"]["actor"] == "x"
    assert asyncio.run(scaiwave_job({"scaiwave": state}, "junk"))["code"] == "SW_JOB_FAILED"


def _env(cli) -> dict:
    import os

    return dict(os.environ, **cli.env, SCAIWAVE_HOME=str(cli.home))


def _wait_for_text(proc, text: str, timeout: float = 60) -> None:
    """Read ``proc``'s stderr (kept as ``proc.stderr_text``) until ``text`` appears."""
    proc.stderr_text = ""

    def pump():
        for line in proc.stderr:
            proc.stderr_text += line

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    proc.stderr_reader = reader
    deadline = time.monotonic() + timeout
    while text not in proc.stderr_text:
        assert proc.poll() is None, proc.stderr_text
        assert time.monotonic() < deadline, proc.stderr_text
        time.sleep(0.05)


def _finish(proc, timeout: float = 120) -> tuple[str, str]:
    """The rest of ``proc``'s stdout and its whole stderr, once it ended (after
    ``_wait_for_text``)."""
    out = proc.stdout.read()
    proc.wait(timeout=timeout)
    proc.stderr_reader.join(timeout=timeout)
    return out, proc.stderr_text


def test_sigterm_lets_the_running_job_finish_then_the_worker_exits_0(
    scaiwave_env, redis_url, arq_workers
):
    (worker,) = arq_workers.start(1, redis_url)
    box = {}
    jobs = [selftest("slow", sleep=1.5)]

    def coordinate():
        box["out"] = api.fanout.run(AppContext(options={}), jobs, queue=redis_url, label="x")

    thread = threading.Thread(target=coordinate)
    thread.start()
    deadline = time.monotonic() + 60
    while "slow: started" not in arq_workers.logs():
        assert time.monotonic() < deadline, arq_workers.logs()
        time.sleep(0.05)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    thread.join(timeout=60)
    assert list(box["out"].done) == ["slow"]


def _keys(log: Path) -> list[str]:
    """The keys of the jobs that ran (probe.echo's log: a line "<key> <pid>" per run)."""
    return sorted(line.split()[0] for line in log.read_text().splitlines())
