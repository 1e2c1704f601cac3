"""ganzoo declares what it imports, and the huggingface-hub floor it declares is tested.

`make test-compat` runs the Hub and card tests in a separate venv holding the oldest
huggingface-hub (and httpx2) the pyproject allows; the default suite keeps the pinned versions.
"""
from __future__ import annotations

import ast
import os
import re
import sys
from importlib import metadata
from pathlib import Path

import huggingface_hub
import pytest
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ganzoo"


def _project() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["project"]


def _name(requirement: str) -> str:
    """The normalized distribution name of a requirement string ("huggingface-hub>=2.0; ...")."""
    return re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _floor(requirement_name: str) -> Version:
    for req in _project()["dependencies"]:
        if _name(req) == requirement_name:
            found = re.search(r">=\s*([0-9][0-9.]*)", req)
            assert found, f"{req!r} declares no floor"
            return Version(found.group(1))
    raise AssertionError(f"{requirement_name} is not a dependency")


def _imported_top_level_names() -> set[str]:
    """Top-level packages ganzoo imports (absolute imports, anywhere in a module)."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"ganzoo", "__future__"}


def test_every_imported_package_is_declared() -> None:
    # With huggingface-hub declared but httpx2 not, a resolver may install a client without
    # httpx2 and the first Hub load fails with ModuleNotFoundError.
    project = _project()
    declared = {_name(r) for r in project["dependencies"]}
    declared |= {_name(r) for extra in project.get("optional-dependencies", {}).values() for r in extra}
    providers = metadata.packages_distributions()
    undeclared = {}
    for name in sorted(_imported_top_level_names()):
        dists = {d.lower().replace("_", "-") for d in providers.get(name, [name])}
        if not dists & declared:
            undeclared[name] = sorted(dists)
    assert undeclared == {}


def test_declared_hub_floor_is_a_release_on_httpx2() -> None:
    # ganzoo.hub imports httpx2 and huggingface_hub.errors' classes: huggingface_hub 2.0 is the
    # first release on httpx2; with 0.23-1.x the first Hub load failed with ModuleNotFoundError.
    assert _floor("huggingface-hub") >= Version("2.0")
    assert _floor("httpx2") >= Version("2.0")
    assert Version(huggingface_hub.__version__) >= _floor("huggingface-hub")


@pytest.mark.skipif(not os.environ.get("GANZOO_COMPAT_FLOOR"), reason="only under `make test-compat`")
def test_compat_run_uses_the_declared_floor() -> None:
    # `make test-compat` installs exactly the declared floor; this proves the run used it.
    assert Version(huggingface_hub.__version__) == _floor("huggingface-hub")
    assert Version(metadata.version("httpx2")) == _floor("httpx2")
