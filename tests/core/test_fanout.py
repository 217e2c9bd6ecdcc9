"""`api.fanout` on local worker processes: results in the caller's order, failures with their
codes, the coordinator's actor and global options in every worker, a worker killed mid-job
replaced and its job run again, a job that keeps killing its worker `SW_WORKER_LOST`."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from scaiwave_cli import api
from scaiwave_cli.context import AppContext

sys.path.insert(0, str(Path(__file__).parent))
from fanout_probe import HOOK, job, probe_fixture  # noqa: E402,F401  (the `probe` fixture)

Job = api.fanout.Job


def selftest(key: str, **args) -> Job:
    return Job("core.selftest", key, {"key": key, **args})


def run(jobs, **kwargs):
    kwargs.setdefault("label", "testing")
    return api.fanout.run(AppContext(options={}), jobs, **kwargs)


@pytest.mark.parametrize("workers", [1, 2])
def test_local_workers_run_every_job_and_keep_the_callers_order(factory, db_url, workers):
    factory.tenant("acme")
    factory.tenant("globex")
    jobs = [selftest(f"room-{n}", tenants=True) for n in (3, 1, 2, 5, 4)]
    seen = []
    outcome = run(jobs, workers=workers, on_result=lambda j, r: seen.append(j.key))
    assert list(outcome.done) == ["room-3", "room-1", "room-2", "room-5", "room-4"]
    assert sorted(seen) == sorted(outcome.done) and outcome.failed == {}
    first = outcome.done["room-3"]
    assert first["echo"] == {"key": "room-3", "tenants": True}
    assert first["tenants"] == 2  # the worker read the coordinator's database
    assert first["pid"] != os.getpid()
    assert first["actor"].startswith("local:")


def test_failures_carry_their_codes_and_are_printed_one_line_each(scaiwave_env, capsys):
    jobs = [
        selftest("ok"),
        selftest("domain", **{"raise": "domain", "message": "no such room"}),
        selftest("config", **{"raise": "config"}),
        selftest("crash", **{"raise": "runtime", "message": "boom"}),
        Job("nosuch.job", "unknown", {}),
    ]
    failures = []
    outcome = run(jobs, workers=2, on_failure=lambda j, f: failures.append(j.key))
    assert list(outcome.done) == ["ok"]
    failed = outcome.failed
    assert list(failed) == ["domain", "config", "crash", "unknown"]
    assert failed["domain"] == {
        "code": "SW_DOMAIN_ERROR",
        "message": "selftest failed on request: no such room",
        "tries": 1,
        "hint": "do not ask",
    }
    assert failed["config"]["code"] == "SW_CONFIG_INVALID"
    assert failed["crash"]["code"] == "SW_JOB_FAILED"
    assert failed["crash"]["message"] == "RuntimeError: selftest crashed on request: boom"
    assert failed["unknown"]["code"] == "SW_JOB_UNKNOWN"
    assert "'nosuch.job'" in failed["unknown"]["message"]
    assert sorted(failures) == sorted(failed)
    lines = capsys.readouterr().err.splitlines()
    assert sorted(lines) == sorted(
        [
            "failed: domain: SW_DOMAIN_ERROR: selftest failed on request: no such room",
            "failed: config: SW_CONFIG_INVALID: selftest: a configuration error on request",
            "failed: crash: SW_JOB_FAILED: RuntimeError: selftest crashed on request: boom",
            f"failed: unknown: SW_JOB_UNKNOWN: {failed['unknown']['message']}",
        ]
    )


def test_the_coordinators_actor_and_global_options_reach_the_workers(factory, db_url, monkeypatch):
    factory.tenant("acme")
    monkeypatch.delenv("SCAIWAVE_DB_URL")  # only the --db-url option names the database now
    app = AppContext(options={"db_url": db_url})
    app.actor = api.access.Actor(name="token:ops@acme", kind="token", scope="tenant")
    outcome = api.fanout.run(app, [selftest("a", tenants=True)], label="x")
    assert outcome.done["a"]["actor"] == "token:ops@acme"
    assert outcome.done["a"]["tenants"] == 1


def test_nothing_is_drawn_without_a_terminal_and_a_bar_with_one(scaiwave_env, capsys, monkeypatch):
    jobs = [selftest("a"), selftest("b")]
    assert run(jobs).failed == {}
    assert capsys.readouterr().err == ""
    monkeypatch.setattr("scaiwave_cli.progress.enabled", lambda: True)
    monkeypatch.setenv("COLUMNS", "120")
    assert run([Job("core.selftest", "a", {}, weight=40)], label="exporting", unit="events").done
    drawn = capsys.readouterr().err
    assert "exporting 1/1" in drawn and "40/40" in drawn and "events" in drawn


def test_bad_calls_are_refused(scaiwave_env):
    with pytest.raises(ValueError, match="unique"):
        run([selftest("a"), selftest("a")])
    with pytest.raises(ValueError):
        run([selftest("a")], workers=0)
    with pytest.raises(TypeError, match="'a' are no JSON"):
        run([Job("core.selftest", "a", {"when": object()})])
    assert run([]) == api.fanout.Outcome()


def test_a_worker_killed_mid_job_is_replaced_and_its_job_runs_again(scaiwave_env, tmp_path):
    marker = tmp_path / "reached"
    os.environ[HOOK] = f"selftest:{marker}"  # the spawned workers inherit it
    try:
        box = {}
        jobs = [selftest(f"k{n}") for n in range(4)]
        thread = threading.Thread(target=lambda: box.update(out=run(jobs, workers=2)))
        thread.start()
        pid = _wait_for_pid(marker, thread)
        assert pid != os.getpid()
        os.kill(pid, signal.SIGKILL)
        thread.join(timeout=120)
    finally:
        del os.environ[HOOK]
    outcome = box["out"]
    assert outcome.failed == {} and list(outcome.done) == ["k0", "k1", "k2", "k3"]
    assert pid not in {result["pid"] for result in outcome.done.values()}


def test_a_job_that_keeps_killing_its_worker_is_lost_after_max_tries(scaiwave_env):
    jobs = [selftest("a"), selftest("oom", exit=True), selftest("b")]
    outcome = run(jobs, workers=1, max_tries=2)
    assert list(outcome.done) == ["a", "b"]
    assert outcome.failed["oom"]["code"] == "SW_WORKER_LOST"
    assert outcome.failed["oom"]["tries"] == 2
    assert "died 2 time(s)" in outcome.failed["oom"]["message"]


def test_a_plugins_command_and_job_fan_out_and_survive_a_killed_worker(cli, probe, tmp_path):
    """Through a real `scaiwave` process: a third party's job (`probe.echo`), two local
    workers, one killed at a kill point (`cli.kill_at(..., kill="marker")`)."""
    jobs = [job(f"k{n}", point="probe") for n in range(3)]
    done = cli.kill_at(
        HOOK, "probe", *probe(jobs, "--workers", "2"), marker_dir=tmp_path, kill="marker"
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert list(outcome["done"]) == ["k0", "k1", "k2"] and outcome["failed"] == {}
    assert outcome["done"]["k1"]["probe"] == {"key": "k1", "point": "probe"}


def test_a_failed_job_makes_the_plugins_command_exit_1(cli, probe):
    proc = cli.popen(*probe([job("a"), job("b", name="nosuch.job")]))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "failed: b: SW_JOB_UNKNOWN: no job 'nosuch.job'" in err
    assert json.loads(out)["done"]["a"]["probe"] == {"key": "a"}


def _wait_for_pid(marker: Path, thread: threading.Thread, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while not (marker.exists() and marker.read_text().strip()):
        assert thread.is_alive(), "the run ended before a worker parked"
        assert time.monotonic() < deadline, "no worker reached the kill point"
        time.sleep(0.02)
    return int(marker.read_text())


def test_only_the_first_process_at_a_kill_point_parks(tmp_path):
    import subprocess

    marker = tmp_path / "reached-here"
    code = "from scaiwave_cli import api; api.pause_at('SCAIWAVE_X_TEST_HOOK', 'here')"
    env = dict(os.environ, SCAIWAVE_X_TEST_HOOK=f"here:{marker}")
    first = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 60
        while not (marker.exists() and marker.read_text()):
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        second = subprocess.run([sys.executable, "-c", code], env=env, timeout=60)
        assert second.returncode == 0  # found the marker: went on
        assert marker.read_text() == str(first.pid) and first.poll() is None
        assert [p.name for p in tmp_path.iterdir()] == ["reached-here"]  # no staging file left
    finally:
        first.kill()
        first.wait()


def test_a_killed_coordinator_takes_its_local_workers_with_it(cli, probe, tmp_path):
    log = tmp_path / "executions.log"
    jobs = [job(f"k{n}", log=str(log)) for n in range(4)]
    argv = probe(jobs, "--workers", "2")
    cli.kill_at(HOOK, "fanout-first-result", *argv, marker_dir=tmp_path)
    pids = {int(line.split()[1]) for line in log.read_text().splitlines()}
    assert pids and os.getpid() not in pids
    deadline = time.monotonic() + 60
    while alive := [pid for pid in pids if _running(pid)]:
        assert time.monotonic() < deadline, f"orphaned workers still running: {alive}"
        time.sleep(0.05)


def _running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status  # a zombie has ended
