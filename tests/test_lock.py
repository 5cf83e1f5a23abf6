"""The lock files agree with pyproject.toml: a dependency added or changed there without
`make lock` fails here, before an install from the stale lock goes without it."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

BASE_DIR = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())


def pins(lock: str) -> dict[str, str]:
    """{canonical name: version} of every `name==version` line of a lock file."""
    text = (BASE_DIR / lock).read_text()
    found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", text, flags=re.MULTILINE)
    return {canonicalize_name(name): version for name, version in found}


def requirements(*, dev: bool) -> list[Requirement]:
    project = PYPROJECT["project"]
    found = [Requirement(r) for r in project["dependencies"]]
    found += [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    if dev:
        found += [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    return found


@pytest.mark.parametrize(
    ("lock", "dev"), [("requirements.lock", False), ("requirements-dev.lock", True)]
)
def test_the_lock_pins_every_dependency_at_a_version_pyproject_allows(lock, dev):
    pinned = pins(lock)
    stale = []
    for req in requirements(dev=dev):
        version = pinned.get(canonicalize_name(req.name))
        if version is None or not req.specifier.contains(version, prereleases=True):
            stale.append(str(req))
    assert stale == [], f"run `make lock`: {lock} misses or contradicts {stale}"


def test_the_dev_lock_has_the_runtime_lock_versions():
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime


def test_every_pin_of_the_locks_has_a_hash():
    for lock in ("requirements.lock", "requirements-dev.lock"):
        entries = re.split(r"\n(?=[A-Za-z0-9])", (BASE_DIR / lock).read_text())
        unhashed = [e.split()[0] for e in entries if "==" in e and "--hash=sha256:" not in e]
        assert unhashed == [], lock
