"""Discovery: every installed command is listed lazily; broken, clashing and incompatible
plugins are isolated; aliases are the same Click objects as their targets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

HEAVY = ("httpx", "sqlalchemy", "rich", "cryptography", "attrs", "cattrs", "jwt", "alembic")
SAMPLES = Path(__file__).resolve().parents[2] / ".venv" / "samples"
PLUGIN_PACKAGES = ("scaiwave_sync", "scaiwave_admin", "scaiwave_room", "scaiwave_role")


def _imported(modules: set[str], prefixes) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in prefixes)


def test_help_lists_every_installed_command_sorted_with_its_summary(proc):
    result = proc.run("--help", samples=["hello"])
    assert result.returncode == 0, result.stderr
    commands = result.stdout.split("Commands:")[1].split("Aliases:")[0]
    names = [
        line.split()[0]
        for line in commands.splitlines()
        if line.startswith("  ") and line[2] != " "
    ]
    assert names == sorted(names)
    assert {"admin", "db", "hello", "plugins", "role", "room", "sync"} <= set(names)
    assert "Say hello (a sample third-party plugin)." in result.stdout
    assert "Rooms: verified ZIP bundles, states, move, delete and retention." in result.stdout


def test_help_imports_no_heavy_module_cold_or_warm(proc):
    cold = proc.modules_after("--help", samples=["hello"])
    warm = proc.modules_after("--help", samples=["hello"])
    for modules in (cold, warm):
        assert _imported(modules, HEAVY) == []
    # Warm: the cached summaries mean no plugin module is imported at all.
    assert _imported(warm, PLUGIN_PACKAGES + ("scaiwave_hello",)) == []
    assert "importlib.metadata" not in warm


def test_invoking_room_imports_nothing_of_the_other_plugins(proc):
    proc.run("--help")  # warm the cache
    modules = proc.modules_after("room", "--help")
    assert "scaiwave_room.cli" in modules
    assert _imported(modules, ("scaiwave_sync", "scaiwave_admin", "scaiwave_role")) == []


def test_broken_plugin_is_marked_and_explains_itself_with_exit_2(proc):
    help_result = proc.run("--help", samples=["broken"])
    assert help_result.returncode == 0
    assert "broken" in help_result.stdout and "[broken]" in help_result.stdout

    result = proc.run("broken", samples=["broken"])
    assert result.returncode == 2
    assert "scaiwave-broken 0.0.1" in result.stderr
    assert "No module named 'scaiwave_this_module_does_not_exist'" in result.stderr
    assert "Traceback" not in result.stderr
    assert "--debug" in result.stderr

    debug = proc.run("--debug", "broken", samples=["broken"])
    assert debug.returncode == 2
    assert "Traceback" in debug.stderr

    other = proc.run("plugins", samples=["broken"])
    assert other.returncode == 0


def test_two_distributions_claiming_one_name_warn_and_the_first_by_name_wins(proc):
    result = proc.run("--output", "json", "hello", "greet", samples=["hello", "clash"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["greeting"] == "hello, operator"
    assert "scaiwave-hello" in result.stderr and "scaiwave-zz-clash" in result.stderr
    listing = proc.run("--output", "json", "plugins", samples=["hello", "clash"])
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    assert rows["hello"]["status"] == "conflict"
    assert rows["hello"]["distribution"] == "scaiwave-hello"


def test_sample_plugin_end_to_end_reads_settings_and_writes_json(proc):
    result = proc.run(
        "--output",
        "json",
        "hello",
        "greet",
        "--name",
        "Ada",
        samples=["hello"],
        env={"SCAIWAVE_SERVER_NAME": "chat.example.org"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "greeting": "hello, Ada",
        "server_name": "chat.example.org",
    }


def test_alias_is_marked_and_runs_the_same_command(proc):
    result = proc.run("--help", samples=["hello"])
    assert "alias of `hello greet`" in result.stdout
    direct = proc.run("--output", "json", "hi", "--name", "Bo", samples=["hello"])
    assert json.loads(direct.stdout)["greeting"] == "hello, Bo"


def test_sync_aliases_resolve_to_the_same_click_objects(cli):
    import click
    import pytest

    pytest.importorskip("scaiwave_sync")  # the aliases arrive with the sync plugin
    from scaiwave_cli.app import cli as root

    ctx = click.Context(root)
    sync = root.get_command(ctx, "sync")
    assert isinstance(sync, click.Group), getattr(sync, "reason", sync)
    checked = []
    for alias in ("register", "status", "show-config", "export-env"):
        assert alias in root.list_commands(ctx), f"the sync plugin declares no {alias!r} alias"
        assert root.get_command(ctx, alias) is sync.commands[alias]
        checked.append(alias)
    assert checked


def test_plugins_lists_status_and_timings(proc):
    result = proc.run("--output", "json", "plugins", "--timings", samples=["hello", "broken"])
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["room"]["distribution"] == "scaiwave-room"
    assert rows["room"]["entry_point"] == "scaiwave_room.cli:room"
    assert rows["room"]["status"] == "ok"
    assert rows["broken"]["status"] == "broken"
    assert rows["hi"]["kind"] == "alias"
    assert all(isinstance(row["import_ms"], float) for row in rows.values())


def test_version_shows_core_and_plugin_versions(proc):
    result = proc.run("--version", samples=["hello"])
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "scaiwave-cli 0.1.0"
    assert "scaiwave-room 0.1.0" in lines and "scaiwave-hello 1.2.3" in lines


def test_incompatible_plugin_is_reported_like_a_broken_one(cli, tmp_path, monkeypatch):
    pkg = tmp_path / "needs_v2.py"
    pkg.write_text(
        "import click\nREQUIRES_API = '2.0'\n\n@click.command()\ndef future():\n"
        "    'From the future.'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    cli.register("future", "needs_v2:future", dist="scaiwave-future")
    listing = cli.json("plugins")
    row = next(r for r in listing if r["name"] == "future")
    assert row["status"] == "incompatible"
    assert "needs scaiwave API 2.0" in row["reason"]
    result = cli.invoke("future")
    assert result.exit_code == 2
    assert "SW_PLUGIN_INCOMPATIBLE" in result.stderr


def test_summary_cache_follows_an_edited_plugin_module(proc, tmp_path):
    copy = tmp_path / "hello-copy"
    shutil.copytree(SAMPLES / "hello", copy)
    env = {"PYTHONPATH": str(copy)}
    assert "Say hello (a sample" in proc.run("--help", env=env).stdout
    module = copy / "scaiwave_hello" / "cli.py"
    module.write_text(module.read_text().replace("Say hello (a sample", "Wave at (an edited"))
    assert "Wave at (an edited" in proc.run("--help", env=env).stdout


def test_completion_is_lazy_and_offers_commands(proc):
    proc.run("--help")  # warm the cache
    env = {"_SCAIWAVE_COMPLETE": "bash_complete", "COMP_WORDS": "scaiwave ro", "COMP_CWORD": "1"}
    result = proc.run(env=env)
    assert result.returncode == 0
    assert "room" in result.stdout and "role" in result.stdout
    modules = proc.modules_after(env=env)
    assert _imported(modules, PLUGIN_PACKAGES + HEAVY) == []


def test_rendered_help_is_reused_only_while_width_and_commands_are_unchanged(proc):
    cold = proc.run("--help", samples=["hello"], env={"COLUMNS": "100"})
    warm = proc.run("--help", samples=["hello"], env={"COLUMNS": "100"})
    assert cold.returncode == warm.returncode == 0
    assert warm.stdout == cold.stdout
    # Warm, the help is not rendered again: Click's wrapper (textwrap) is not even imported.
    modules = proc.modules_after("--help", samples=["hello"], env={"COLUMNS": "100"})
    assert "textwrap" not in modules
    narrow = proc.run("--help", samples=["hello"], env={"COLUMNS": "60"})
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 58
    assert narrow.stdout != cold.stdout
    filtered = proc.run(
        "--help", samples=["hello"], env={"COLUMNS": "100", "SCAIWAVE_LOAD_PLUGINS": ""}
    )
    assert "hello" not in filtered.stdout.split("Commands:")[1]
    assert proc.run("--help", samples=["hello"], env={"COLUMNS": "100"}).stdout == cold.stdout
