"""The lock files pin every dependency of pyproject.toml, inside its range, with hashes, and agree with each other;
what the suite runs with is what they pin."""

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_LOCK = ROOT / "requirements" / "runtime.lock.txt"
TEST_LOCK = ROOT / "requirements" / "test.lock.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def parse_lock(path: Path) -> dict[str, dict]:
    """``{name: {"version", "marker", "hashes"}}`` of a pip requirements file written by ``uv pip compile``."""
    pins: dict[str, dict] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("--hash=sha256:"):
            assert current is not None, f"{path.name}: a hash before any pin"
            current["hashes"].append(line.removeprefix("--hash=sha256:").rstrip(" \\"))
            continue
        match = PIN.match(line)
        assert match, f"{path.name}: not an exact pin: {raw!r}"
        name, version, marker = match.groups()
        current = {"version": version, "marker": (marker or "").strip(), "hashes": []}
        pins[canonicalize_name(name)] = current
    return pins


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _applies(requirement: Requirement, extras=("",)) -> bool:
    return requirement.marker is None or any(
        requirement.marker.evaluate({**default_environment(), "extra": extra}) for extra in extras
    )


@pytest.mark.parametrize("lock, groups", [(RUNTIME_LOCK, ["dependencies"]), (TEST_LOCK, ["dependencies", "test"])])
def test_every_declared_dependency_is_pinned_inside_its_range(lock, groups):
    pins = parse_lock(lock)
    declared = list(project()["dependencies"])
    if "test" in groups:
        declared += project()["optional-dependencies"]["test"]
    for spec in declared:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{lock.name} does not pin {requirement.name}"
        assert requirement.specifier.contains(pins[name]["version"], prereleases=True), (
            f"{lock.name} pins {requirement.name}=={pins[name]['version']}, outside {requirement.specifier}"
        )


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, TEST_LOCK])
def test_every_pin_carries_sha256_hashes(lock):
    for name, pin in parse_lock(lock).items():
        assert pin["hashes"], f"{lock.name}: {name} has no hash (pip --require-hashes would refuse the file)"
        assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in pin["hashes"]), name


def test_the_test_lock_runs_exactly_the_runtime_versions():
    runtime, test = parse_lock(RUNTIME_LOCK), parse_lock(TEST_LOCK)
    for name, pin in runtime.items():
        assert name in test, f"test.lock.txt lacks {name}"
        assert test[name]["version"] == pin["version"], f"{name}: {pin['version']} != {test[name]['version']}"
        assert set(pin["hashes"]) == set(test[name]["hashes"]), name


def test_the_suite_runs_with_the_locked_versions():
    """What `make test` installed is what the lock pins: a package drifted by hand (or a lock not re-made after a
    change of pyproject.toml) shows here."""
    drifted = []
    for name, pin in parse_lock(TEST_LOCK).items():
        if pin["marker"] and not Requirement(f"{name}; {pin['marker']}").marker.evaluate():
            continue
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            drifted.append(f"{name}: not installed (locked {pin['version']})")
            continue
        if canonicalize_name(installed) != canonicalize_name(pin["version"]):
            drifted.append(f"{name}: installed {installed}, locked {pin['version']}")
    assert not drifted, "\n".join(drifted)


def test_the_floors_carry_the_security_fixes():
    """The ranges in pyproject.toml start at releases with the known fixes (the comment above them says which CVE
    each answers): an install without the lock cannot take an older, vulnerable release."""
    floors = {  # name: (the release with the fix, the last release without it)
        "django": ("5.2.20", "5.2.16"), "djangorestframework": ("3.16.0", "3.15.1"),
        "django-allauth": ("65.22.0", "65.19.3"), "celery": ("5.5.0", "5.2.1"), "redis": ("6.2.0", "6.1.1"),
        "cryptography": ("50.0.0", "49.0.0"), "weasyprint": ("68.0", "67.0"), "gunicorn": ("23.0.0", "22.0.0"),
    }
    declared = {canonicalize_name(Requirement(spec).name): Requirement(spec) for spec in project()["dependencies"]}
    for name, (fixed, vulnerable) in floors.items():
        specifier = declared[name].specifier
        assert specifier.contains(fixed), f"{name} {specifier} refuses {fixed}"
        assert not specifier.contains(vulnerable), f"{name} {specifier} still admits {vulnerable}"
