"""The root suggests the closest command names, as Click does in sub-groups, from the cached
table: a typo imports no plugin."""

from __future__ import annotations

PLUGIN_PACKAGES = ("scaiwave_sync", "scaiwave_admin", "scaiwave_room", "scaiwave_role")


def test_a_typo_at_the_root_suggests_the_command(proc):
    result = proc.run("rooms")
    assert result.returncode == 2
    assert "Error: No such command 'rooms'. Did you mean 'room'?" in result.stderr
    assert "Try 'scaiwave --help' for help." in result.stderr


def test_several_close_names_are_all_offered(proc):
    result = proc.run("rome")
    assert result.returncode == 2
    assert "No such command 'rome'. (Did you mean one of: 'role', 'room'?)" in result.stderr


def test_nothing_close_means_no_suggestion(proc):
    result = proc.run("xyzzy")
    assert result.returncode == 2
    assert "Error: No such command 'xyzzy'.\n" in result.stderr
    assert "Did you mean" not in result.stderr


def test_aliases_are_suggested_too(proc):
    result = proc.run("show-confg")
    assert "No such command 'show-confg'. Did you mean 'show-config'?" in result.stderr


def test_sub_groups_keep_clicks_own_suggestion(proc):
    result = proc.run("hello", "gret", samples=["hello"])
    assert result.returncode == 2
    assert "Error: No such command 'gret'. Did you mean 'greet'?" in result.stderr
    assert result.stderr.count("Did you mean") == 1


def test_suggesting_imports_no_plugin(proc):
    proc.run("--help")  # warm the cache
    modules = proc.modules_after("rooms")
    assert sorted(m for m in modules if m.split(".")[0] in PLUGIN_PACKAGES) == []


def test_in_process_the_suggestion_is_on_stderr(cli):
    result = cli.invoke("plugin")
    assert result.exit_code == 2
    assert "No such command 'plugin'. Did you mean 'plugins'?" in result.stderr
