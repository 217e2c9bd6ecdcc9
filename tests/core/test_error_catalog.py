"""The error-code catalog: every `SW_*` code is declared once, in the `errors.py` of the core or
of the plugin that raises it, used through that constant (never as a string literal), and listed
in the README table of its owner, so an operator can look any code up."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OWNERS = {
    "core": (REPO / "scaiwave_cli", REPO / "README.md"),
    **{
        name: (REPO / "plugins" / name / f"scaiwave_{name}", REPO / "plugins" / name / "README.md")
        for name in ("admin", "role", "room", "sync")
    },
}
CODE = re.compile(r"^SW_[A-Z0-9_]*[A-Z0-9]$")


def declared(package: Path) -> dict[str, int]:
    """``{code: line}`` of the module constants ``SW_X = "SW_X"`` in ``package/errors.py``."""
    tree = ast.parse((package / "errors.py").read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            value = node.value.value
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if isinstance(value, str) and CODE.match(value):
                assert names == [value], f"{package.name}/errors.py: {names} = {value!r}"
                out[value] = node.lineno
    return out


def sources(package: Path):
    for path in sorted(package.rglob("*.py")):
        if "migrations" in path.parts or path.name == "errors.py":
            continue
        yield path, ast.parse(path.read_text())


def readme_codes(readme: Path) -> set[str]:
    """Codes in the first column of the README's tables: ``| `SW_X` | …``."""
    return set(re.findall(r"^\|\s*`(SW_[A-Z0-9_]+)`\s*\|", readme.read_text(), re.M))


CORE = declared(OWNERS["core"][0])


@pytest.mark.parametrize("owner", OWNERS)
def test_no_code_is_a_string_literal_outside_errors_py(owner):
    package = OWNERS[owner][0]
    found = []
    for path, tree in sources(package):
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if CODE.match(node.value):
                    found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.value}")
            elif isinstance(node, ast.JoinedStr):  # f"SW_{kind}": a code built at run time
                for part in node.values:
                    if isinstance(part, ast.Constant) and re.search(r"SW_[A-Z0-9_]*$", part.value):
                        found.append(
                            f"{path.relative_to(REPO)}:{node.lineno} f-string {part.value}…"
                        )
    assert not found, "declare these in errors.py and use the constant:\n" + "\n".join(found)


@pytest.mark.parametrize("owner", OWNERS)
def test_every_code_used_is_declared(owner):
    package = OWNERS[owner][0]
    mine = declared(package)
    missing = []
    for path, tree in sources(package):
        for node in ast.walk(tree):
            name = None
            if isinstance(node, ast.Attribute) and CODE.match(node.attr):
                name = node.attr
            elif isinstance(node, ast.Name) and CODE.match(node.id):
                name = node.id
            elif isinstance(node, ast.alias) and CODE.match(node.name):
                name = node.name
            if name and name not in mine and name not in CORE:
                missing.append(f"{path.relative_to(REPO)}:{getattr(node, 'lineno', '?')} {name}")
    assert not missing, "used but declared nowhere:\n" + "\n".join(missing)


@pytest.mark.parametrize("owner", [o for o in OWNERS if o != "core"])
def test_a_plugin_does_not_redeclare_a_core_code(owner):
    assert sorted(set(declared(OWNERS[owner][0])) & set(CORE)) == []


@pytest.mark.parametrize("owner", OWNERS)
def test_every_declared_code_is_in_its_readme_table(owner):
    package, readme = OWNERS[owner]
    missing = sorted(set(declared(package)) - readme_codes(readme))
    assert not missing, f"add to the code table of {readme.relative_to(REPO)}: {missing}"
