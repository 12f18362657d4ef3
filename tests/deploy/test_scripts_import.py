"""The scripts of ``deploy/`` (the drill, gunicorn's settings) import the project's code inside their functions,
where nothing runs them until an operator does: the drill imported a helper the benchmarks had renamed, and
failed at its first step months later. Every name they import from the project must exist."""

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "deploy").glob("*.py"))
PROJECT = ("accounts", "benchmarks", "config", "guarantees", "reporting")


def project_imports(path: Path) -> list[tuple[int, str, str | None]]:
    """``(line, module, name)`` for every import of the project's code in ``path``, however deep in a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] in PROJECT:
            found += [(node.lineno, node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, None) for alias in node.names if alias.name.split(".")[0] in PROJECT]
    return found


def test_the_scripts_are_found():
    assert {p.name for p in SCRIPTS} >= {"drill.py", "gunicorn.conf.py"}
    assert project_imports(ROOT / "deploy" / "drill.py")  # it does import the project's code


def missing_imports(script: Path) -> list[str]:
    """``script:line: module.name`` for each import of the project's code in ``script`` that would fail."""
    missing = []
    for line, module, name in project_imports(script):
        try:
            imported = importlib.import_module(module)
        except ImportError as exc:
            missing.append(f"{script.name}:{line}: {module} ({exc})")
            continue
        if name is not None and not hasattr(imported, name):
            try:
                importlib.import_module(f"{module}.{name}")  # a submodule: from package import module
            except ImportError:
                missing.append(f"{script.name}:{line}: {module}.{name}")
    return missing


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_name_a_deploy_script_imports_from_the_project_exists(script):
    assert missing_imports(script) == []


def test_a_renamed_helper_is_caught(tmp_path):
    """The check itself: the drill's old import fails it."""
    script = tmp_path / "old.py"
    script.write_text("def prepare():\n    from benchmarks.common import prepare_database, create_database\n"
                      "    from benchmarks import common\n    import guarantees.no_such_module\n")
    assert missing_imports(script) == [
        "old.py:2: benchmarks.common.prepare_database",
        "old.py:4: guarantees.no_such_module (No module named 'guarantees.no_such_module')",
    ]
