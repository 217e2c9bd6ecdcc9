"""A third-party plugin made on the fly for the fan-out tests: the command `scaiwave probe` (fans
out the jobs it is given as JSON and prints the outcome) and the job `probe.echo`, both declared
by entry points in a dist-info directory, visible to every process given ``PYTHONPATH``."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

HOOK = "SCAIWAVE_CORE_TEST_HOOK"

MODULE = '''
"""`scaiwave probe`: fan jobs out (a plugin of the core's fan-out tests)."""

import json
import os

import click

from scaiwave_cli import api

REQUIRES_API = "1.3"


@click.command()
@click.option("--jobs", "spec", required=True, help="The jobs, as a JSON list.")
@click.option("--workers", type=int, default=1)
@click.option("--queue", default=None)
@click.option("--max-tries", type=int, default=3)
@api.pass_app
def probe(app, spec, workers, queue, max_tries):
    """Fan the given jobs out and print the outcome.

    Example: scaiwave probe --jobs '[]'
    """
    jobs = [api.fanout.Job(**job) for job in json.loads(spec)]
    outcome = api.fanout.run(
        app, jobs, workers=workers, queue=queue, label="probing", max_tries=max_tries
    )
    app.out.record({"done": outcome.done, "failed": outcome.failed})
    if outcome.failed:
        raise api.DomainError(f"failed: {', '.join(outcome.failed)}")


def echo_job(app, args):
    """`probe.echo`: a third party's job."""
    if args.get("log"):
        with open(args["log"], "a") as fh:
            fh.write(f"{args['key']} {os.getpid()}\\n")
    api.pause_at("SCAIWAVE_CORE_TEST_HOOK", args.get("point", "probe"))
    return {"probe": args, "actor": app.actor.name}
'''


def install(where: Path) -> str:
    """Write the plugin into ``where``; the ``PYTHONPATH`` that makes it visible."""
    where.mkdir(parents=True, exist_ok=True)
    (where / "fanout_probe_plugin.py").write_text(MODULE)
    info = where / "fanout_probe-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fanout-probe\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            """\
            [scaiwave.commands]
            probe = fanout_probe_plugin:probe

            [scaiwave.jobs]
            probe.echo = fanout_probe_plugin:echo_job
            """
        )
    )
    return str(where)


@pytest.fixture(name="probe")
def probe_fixture(cli, tmp_path):
    """The probe plugin, visible to every process the ``cli`` harness (and ``arq_workers``)
    starts; ``probe(jobs, *options)`` -> the argv of `scaiwave probe`."""
    cli.env["PYTHONPATH"] = install(tmp_path / "probe-plugin")

    def argv(jobs: list[dict], *options: str) -> list[str]:
        return ["--output", "json", "probe", "--jobs", json.dumps(jobs), *options]

    return argv


def job(key: str, name: str = "probe.echo", **args) -> dict:
    return {"name": name, "key": key, "args": {"key": key, **args}}
