"""The benchmarks are development tooling: installed by the local and test settings, never by production's, and
left out of the production image, whose build still runs ``manage.py`` under the local settings."""

import fnmatch
import os
import subprocess
import sys
from pathlib import Path

from tests.config.test_production_settings import PRODUCTION_ENV, ROOT, _clean_env

DOCKERIGNORE = ROOT / "deploy" / "Dockerfile.dockerignore"
PRINT_APPS = "import django; django.setup(); from django.conf import settings; print('benchmarks' in settings.INSTALLED_APPS)"


def _python(code: str, *, env: dict, cwd: Path = ROOT):
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env={**_clean_env(), **env},
                          capture_output=True, text=True, timeout=120)


def test_only_the_local_and_test_settings_install_the_benchmarks(settings, tmp_path):
    from config.settings import base

    assert "benchmarks" in settings.INSTALLED_APPS  # these tests run under the test settings
    assert "benchmarks" not in base.INSTALLED_APPS  # what production and the benchmarks' gunicorn build on
    sqlite = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    for module, env, installed in (("config.settings.local", sqlite, "True"),
                                   ("config.settings.production", PRODUCTION_ENV, "False")):
        result = _python(PRINT_APPS, env={**env, "DJANGO_SETTINGS_MODULE": module})
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == installed, module


def _image_context(into: Path) -> list[str]:
    """The top of the repository as the image's build context sees it (deploy/Dockerfile.dockerignore applied),
    linked into ``into``; manage.py is copied, so that Python looks for modules there and not in the repository."""
    patterns = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    kept = []
    for entry in sorted(os.listdir(ROOT)):
        if any(fnmatch.fnmatch(entry, p.removeprefix("**/")) for p in patterns):
            continue
        if entry == "manage.py":
            (into / entry).write_bytes((ROOT / entry).read_bytes())
        else:
            (into / entry).symlink_to(ROOT / entry)
        kept.append(entry)
    return kept


def test_the_image_leaves_the_benchmarks_out_and_its_build_still_runs_manage_py(tmp_path):
    context = tmp_path / "image"
    context.mkdir()
    kept = _image_context(context)
    assert "benchmarks" not in kept and {"accounts", "config", "guarantees", "manage.py"} <= set(kept)

    # What the Dockerfile runs: manage.py under its default (local) settings, with a throw-away key and SQLite.
    env = {"SECRET_KEY": "build-only", "DATABASE_URL": f"sqlite:///{tmp_path / 'build.sqlite3'}"}
    result = subprocess.run([sys.executable, "manage.py", "help", "--commands"], cwd=context,
                            env={**_clean_env(), **env}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    commands = result.stdout.split()
    assert "compilemessages" in commands and "collectstatic" in commands
    assert "benchmark" not in commands

    # In the repository, the same command has the benchmarks.
    result = subprocess.run([sys.executable, "manage.py", "help", "--commands"], cwd=ROOT,
                            env={**_clean_env(), **env}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "benchmark" in result.stdout.split()
