"""Exit codes, the JSON error envelope, and the four output formats."""

from __future__ import annotations

import csv
import io
import json
import re

import click
import pytest

from scaiwave_cli import api
from scaiwave_cli.output import Output, human_bytes

ROWS = [
    {"slug": "acme", "name": "Acme Corp", "storage": 1536, "active": True},
    {"slug": "globex", "name": "Globex", "storage": 0, "active": False},
]


@click.group()
def demo():
    """Commands that fail in each documented way (test plugin)."""


@demo.command()
@api.pass_app
def tenants(app):
    """List two tenants."""
    app.out.rows(iter(ROWS), ["slug", "name", "storage", "active"])


@demo.command()
@click.argument("kind")
def fail(kind):
    """Fail with the given kind of error."""
    errors = {
        "domain": api.NotFoundError(
            "tenant 'nope' not found",
            code="SW_TENANT_NOT_FOUND",
            hint="scaiwave admin list-tenants",
        ),
        "config": api.ConfigError("SCAIWAVE_DB_URL is not set", hint="export SCAIWAVE_DB_URL=…"),
        "backend": api.BackendUnavailable("cannot reach the database at mysql://u:***@h/db"),
        "auth": api.AuthError("token expired", code="SW_AUTH_EXPIRED_TOKEN"),
        "permission": api.PermissionDenied("tenant_admin of acme may not touch globex"),
    }
    if kind == "crash":
        raise RuntimeError("boom")
    raise errors[kind]


@pytest.fixture
def demo_cli(cli):
    cli.register("demo", demo)
    return cli


@pytest.mark.parametrize(
    ("kind", "exit_code", "code"),
    [
        ("domain", 1, "SW_TENANT_NOT_FOUND"),
        ("config", 2, "SW_CONFIG_INVALID"),
        ("backend", 2, "SW_BACKEND_UNREACHABLE"),
        ("auth", 3, "SW_AUTH_EXPIRED_TOKEN"),
        ("permission", 3, "SW_AUTH_INSUFFICIENT_PERMISSION"),
    ],
)
def test_typed_errors_map_to_documented_exit_codes(demo_cli, kind, exit_code, code):
    text = demo_cli.invoke("demo", "fail", kind)
    assert text.exit_code == exit_code
    assert text.stdout == ""
    assert text.stderr.startswith(f"Error [{code}]: ")

    machine = demo_cli.invoke("--output", "json", "demo", "fail", kind)
    assert machine.exit_code == exit_code
    body = json.loads(machine.stderr)
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_click_usage_errors_keep_exit_2(demo_cli):
    result = demo_cli.invoke("demo", "fail")
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr


def test_unexpected_exception_is_one_line_with_a_hint(demo_cli):
    result = demo_cli.invoke("demo", "fail", "crash")
    assert result.exit_code == 1
    assert "unexpected RuntimeError: boom" in result.stderr
    assert "--debug" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_lets_the_traceback_through(demo_cli):
    result = demo_cli.invoke("--debug", "demo", "fail", "crash")
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)


def test_json_output_is_one_document(demo_cli):
    assert demo_cli.json("demo", "tenants") == ROWS


def test_jsonl_output_is_one_object_a_line(demo_cli):
    result = demo_cli.invoke("--output", "jsonl", "demo", "tenants")
    assert [json.loads(line) for line in result.stdout.splitlines()] == ROWS


def test_csv_output_has_a_header(demo_cli):
    result = demo_cli.invoke("--output", "csv", "demo", "tenants")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0] == {"slug": "acme", "name": "Acme Corp", "storage": "1536", "active": "True"}


def test_table_is_plain_aligned_text_when_piped(demo_cli):
    result = demo_cli.invoke("demo", "tenants")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["slug", "name", "storage", "active"]
    assert lines[1].startswith("acme    Acme Corp")
    assert "\x1b[" not in result.stdout


def test_output_env_variable_selects_the_format(demo_cli):
    result = demo_cli.invoke("demo", "tenants", env={"SCAIWAVE_OUTPUT": "jsonl"})
    assert json.loads(result.stdout.splitlines()[0])["slug"] == "acme"


def test_table_on_a_terminal_uses_rich_without_colour_under_no_color(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    stream = Tty()
    Output("table", stream=stream).rows(ROWS, ["slug", "name"])
    assert "┃" in stream.getvalue() or "│" in stream.getvalue()
    colours = re.findall(r"\x1b\[([0-9;]*)m", stream.getvalue())
    assert not [c for c in colours if re.search(r"(^|;)(3[0-8]|9[0-7]|4[0-8])(;|$)", c)]


def test_human_bytes():
    assert human_bytes(0) == "0 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(5 * 1024**3) == "5.0 GiB"


def test_closed_pipe_is_quiet(tmp_path):
    # `scaiwave … | head`: the reader goes away; no SW_INTERNAL traceback-ish noise on stderr.
    import subprocess
    import sys

    script = (
        "import sys; from scaiwave_cli.app import main; "
        "sys.argv=['scaiwave','plugins']; sys.exit(main())"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={"SCAIWAVE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    proc.stdout.close()  # nobody reads
    err = proc.stderr.read().decode()
    assert proc.wait() == 1
    assert err == ""
