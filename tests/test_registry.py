"""Plugin discovery through entry points: synthetic distributions on sys.path stand in for
pip-installed packages (a good one, a broken one, and two that claim the same name)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ganzoo import registry
from ganzoo.errors import DuplicatePluginError, PluginLoadError, UnknownPluginError

GROUP = "ganzoo.architectures"


def make_dist(root: Path, name: str, entries: dict[str, str], modules: dict[str, str]) -> None:
    """A minimal installed distribution: dist-info with entry points, plus its modules."""
    info = root / f"{name.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n")
    lines = [f"[{GROUP}]"] + [f"{k} = {v}" for k, v in entries.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))


GOOD = '''
from ganzoo.architectures.dcgan import DCGAN

class TinyGAN(DCGAN):
    """Tiny GAN: a smaller DCGAN from a third-party package (Nobody et al. 2099)."""
'''
BROKEN = '''
import a_module_that_is_not_installed

class Broken:
    """Broken GAN: imports something missing."""
'''


@pytest.fixture
def fake_site(tmp_path, monkeypatch):
    site = tmp_path / "site"
    make_dist(site, "ganzoo-tiny", {"tiny": "tiny_plugin:TinyGAN", "broken": "broken_plugin:Broken"},
              {"tiny_plugin": GOOD, "broken_plugin": BROKEN})
    make_dist(site, "ganzoo-other", {"tiny": "other_plugin:TinyGAN"}, {"other_plugin": GOOD})
    monkeypatch.syspath_prepend(str(site))
    reg = registry.Registry("architecture", "architectures", GROUP, registry._base("ganzoo.contracts", "GANModel"))
    return site, reg


def test_builtins_come_from_entry_points() -> None:
    entry = registry.architectures.entry("dcgan")
    assert entry.distribution == "ganzoo"
    assert entry.target == "ganzoo.architectures.dcgan:DCGAN"
    assert "Radford" in entry.summary


def test_listing_does_not_import_plugins(fake_site) -> None:
    site, reg = fake_site
    names = reg.names()
    assert {"tiny", "broken", "dcgan"} <= set(names)
    broken = [e for e in reg.entries() if e.name == "broken"][0]
    assert broken.summary == "Broken GAN: imports something missing."
    assert "tiny_plugin" not in sys.modules and "broken_plugin" not in sys.modules


def test_duplicate_names_from_two_distributions_are_an_error(fake_site) -> None:
    _, reg = fake_site
    with pytest.raises(DuplicatePluginError) as err:
        reg.get("tiny")
    message = str(err.value)
    assert "ganzoo-tiny==1.2.3[tiny]" in message and "ganzoo-other==1.2.3[tiny]" in message


def test_broken_plugin_fails_alone_and_names_package_and_cause(fake_site) -> None:
    _, reg = fake_site
    with pytest.raises(PluginLoadError) as err:
        reg.get("broken")
    message = str(err.value)
    assert "ganzoo-tiny==1.2.3[broken]" in message and "a_module_that_is_not_installed" in message
    assert reg.get("dcgan").__name__ == "DCGAN"  # everything else still works
    with pytest.raises(PluginLoadError):  # and the same cause is reported again
        reg.get("broken")


def test_unknown_name_lists_close_matches() -> None:
    with pytest.raises(UnknownPluginError) as err:
        registry.architectures.get("dcgna")
    assert "did you mean 'dcgan'" in str(err.value)
    with pytest.raises(UnknownPluginError) as err:
        registry.losses.get("zzzzzz")
    assert "non-saturating" in str(err.value)


def test_fnmatch_listing() -> None:
    assert registry.architectures.names("dc*") == ["dcgan"]
    assert "non-saturating" in registry.losses.names("non-*")


def test_local_registration_and_clash() -> None:
    from ganzoo.architectures.dcgan import DCGAN

    class MyGAN(DCGAN):
        """My GAN: defined in a notebook."""

    try:
        registry.architectures.register(MyGAN, name="my-notebook-gan")
        assert registry.architectures.get("my-notebook-gan") is MyGAN
        assert registry.architectures.entry("my-notebook-gan").summary == "My GAN: defined in a notebook."
        with pytest.raises(DuplicatePluginError, match="already provided by ganzoo"):
            registry.architectures.register(MyGAN, name="dcgan")
        with pytest.raises(PluginLoadError, match="not a subclass"):
            registry.architectures.register(object, name="not-a-gan")
    finally:
        registry.architectures.unregister("my-notebook-gan")
        registry.architectures.unregister("not-a-gan")


def _cli(args: list[str], site: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if site is not None:
        env["PYTHONPATH"] = f"{site}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return subprocess.run([sys.executable, "-m", "ganzoo.cli", *args], capture_output=True, text=True, env=env, timeout=120)


def test_cli_list_shows_providers_failures_and_duplicates(fake_site) -> None:
    site, _ = fake_site
    proc = _cli(["list", "architectures"], site)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "dcgan" in out and "ganzoo 0.1.0" in out
    assert "broken" in out and "FAILED" in out.upper()
    assert "duplicate" in out.lower() and "ganzoo-other" in out


def test_cli_list_check_imports_and_reports_failure(fake_site) -> None:
    site, _ = fake_site
    proc = _cli(["list", "architectures", "bro*", "--check"], site)
    assert proc.returncode == 0
    assert "a_module_that_is_not_installed" in proc.stdout


def test_cli_list_is_fast_and_does_not_import_torch() -> None:
    code = "import sys; from ganzoo.cli import main; sys.argv=['ganzoo','list']; \n" \
           "try:\n    main()\nexcept SystemExit:\n    pass\nprint('TORCH' if 'torch' in sys.modules else 'NO-TORCH')"
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("NO-TORCH")
    assert elapsed < 5  # generous bound for a loaded CI machine; benchmarks/ records the real figure


def test_cli_unknown_plugin_is_one_line_and_nonzero(tmp_path) -> None:
    proc = _cli(["train", "--arch", "dcgna", "--loss", "non-saturating", "--dataset", "fake", "--out", str(tmp_path / "r")])
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "did you mean 'dcgan'" in lines[0]
    assert "Traceback" not in proc.stderr
