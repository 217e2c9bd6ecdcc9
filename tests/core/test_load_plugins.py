"""``SCAIWAVE_LOAD_PLUGINS``: only the named commands (and their distributions' aliases) load;
empty = the core's own commands only; unset = everything. What a user sees, in a real process."""

from __future__ import annotations

import json

PLUGIN_PACKAGES = ("scaiwave_sync", "scaiwave_admin", "scaiwave_room", "scaiwave_role")


def _listed(help_text: str, section: str) -> list[str]:
    if f"{section}:" not in help_text:
        return []
    body = help_text.split(f"{section}:")[1]
    for end in ("Aliases:", "Examples:"):
        body = body.split(end)[0]
    return [line.split()[0] for line in body.splitlines() if line[2:3].strip()]


def test_unset_loads_every_command(proc):
    result = proc.run("--help", samples=["hello"])
    assert result.returncode == 0, result.stderr
    assert {"admin", "db", "hello", "plugins", "role", "room", "sync"} <= set(
        _listed(result.stdout, "Commands")
    )


def test_empty_value_keeps_only_the_core(proc):
    result = proc.run("--help", samples=["hello"], env={"SCAIWAVE_LOAD_PLUGINS": ""})
    assert result.returncode == 0, result.stderr
    assert _listed(result.stdout, "Commands") == ["db", "plugins", "worker"]
    assert _listed(result.stdout, "Aliases") == []
    assert result.stderr == ""
    room = proc.run("room", "list", env={"SCAIWAVE_LOAD_PLUGINS": ""})
    assert room.returncode == 2
    assert 'It is installed but not loaded: SCAIWAVE_LOAD_PLUGINS="".' in room.stderr


def test_named_commands_and_the_aliases_into_them_are_loaded(proc):
    env = {"SCAIWAVE_LOAD_PLUGINS": "hello,room"}
    result = proc.run("--help", samples=["hello", "broken"], env=env)
    assert result.returncode == 0, result.stderr
    assert _listed(result.stdout, "Commands") == ["db", "hello", "plugins", "room", "worker"]
    assert _listed(result.stdout, "Aliases") == ["hi"]
    assert "[broken]" not in result.stdout
    greeting = proc.run("--output", "json", "hi", "--name", "Bo", samples=["hello"], env=env)
    assert json.loads(greeting.stdout)["greeting"] == "hello, Bo"


def test_a_distribution_name_selects_its_commands(proc):
    env = {"SCAIWAVE_LOAD_PLUGINS": " scaiwave-hello "}
    result = proc.run("--help", samples=["hello"], env=env)
    assert _listed(result.stdout, "Commands") == ["db", "hello", "plugins", "worker"]
    assert _listed(result.stdout, "Aliases") == ["hi"]


def test_a_left_out_command_says_why_it_is_missing(proc):
    result = proc.run("admin", "--help", env={"SCAIWAVE_LOAD_PLUGINS": "room"})
    assert result.returncode == 2
    assert (
        "No such command 'admin'. It is installed but not loaded: SCAIWAVE_LOAD_PLUGINS=room."
        in result.stderr
    )


def test_plugins_lists_left_out_commands_as_disabled_without_importing_them(proc):
    env = {"SCAIWAVE_LOAD_PLUGINS": "hello"}
    result = proc.run("--output", "json", "plugins", samples=["hello", "broken"], env=env)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["hello"]["status"] == "ok" and rows["hi"]["status"] == "ok"
    assert rows["db"]["status"] == rows["plugins"]["status"] == rows["worker"]["status"] == "ok"
    for name in ("room", "admin", "broken", "register"):
        assert rows[name]["status"] == "disabled"
        assert rows[name]["reason"] == "not named in SCAIWAVE_LOAD_PLUGINS"
    assert "SCAIWAVE_LOAD_PLUGINS=hello: 5 of" in result.stderr  # db, plugins, worker, hello, hi
    modules = proc.modules_after("plugins", samples=["hello", "broken"], env=env)
    assert sorted(m for m in modules if m.split(".")[0] in PLUGIN_PACKAGES) == []


def test_an_unknown_name_is_a_warning(proc):
    result = proc.run("--help", env={"SCAIWAVE_LOAD_PLUGINS": "room,nosuch"})
    assert result.returncode == 0
    assert "SCAIWAVE_LOAD_PLUGINS names 'nosuch'" in result.stderr
    assert _listed(result.stdout, "Commands") == ["db", "plugins", "room", "worker"]


def test_the_filter_does_not_leak_into_the_cache(proc):
    proc.run("--help", env={"SCAIWAVE_LOAD_PLUGINS": ""})
    result = proc.run("--help")
    assert {"admin", "role", "room", "sync"} <= set(_listed(result.stdout, "Commands"))
    assert "register" in _listed(result.stdout, "Aliases")


def test_filtered_help_stays_free_of_plugin_imports(proc):
    env = {"SCAIWAVE_LOAD_PLUGINS": "room"}
    proc.run("--help", env=env)  # warm the cache
    modules = proc.modules_after("--help", env=env)
    assert sorted(m for m in modules if m.split(".")[0] in PLUGIN_PACKAGES) == []
    assert "importlib.metadata" not in modules


def test_in_process_registered_commands_follow_the_filter(cli):
    import click

    @click.command()
    def extra():
        """An extra command."""

    cli.register("extra", extra, dist="scaiwave-extra")
    assert "extra" in cli.invoke("--help").stdout
    hidden = cli.invoke("--help", env={"SCAIWAVE_LOAD_PLUGINS": ""})
    assert hidden.exit_code == 0
    assert "extra" not in hidden.stdout
    shown = cli.invoke("extra", env={"SCAIWAVE_LOAD_PLUGINS": "scaiwave-extra"})
    assert shown.exit_code == 0, shown.output
