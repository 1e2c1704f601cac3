"""Regenerate what is written from model_cards/: the README's zoo table and hubconf.py's entry points.

    python benchmarks/zoo/sync.py           # rewrite both in place (make zoo-sync)
    python benchmarks/zoo/sync.py --check   # exit 1, naming the file, when either is out of date

Run it after adding, re-exporting or re-scoring a model in model_cards/; tests/test_zoo.py fails
until it has been run. Only the blocks between the marker lines are touched.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ganzoo import zoo
from ganzoo.errors import GanzooError

REPO = Path(__file__).resolve().parents[2]
HUBCONF_START = "# -- zoo entries: generated from model_cards/ by benchmarks/zoo/sync.py; do not edit --"
HUBCONF_END = "# -- end of zoo entries --"


def entry_name(model_id: str) -> str:
    """The torch.hub entry point of a zoo id: dcgan-fashion-mnist -> dcgan_fashion_mnist."""
    name = model_id.replace("-", "_").replace(".", "_")
    if not name.isidentifier():
        raise SystemExit(f"model_cards/{model_id}: the id does not make a Python name for hubconf.py; rename the folder")
    return name


def _docstring(m: zoo.ZooModel) -> str:
    config = json.loads((Path(m.folder) / "config.json").read_text())
    latent = config.get("latent_dim")
    what = " + ".join([m.architecture, m.loss, *m.tricks])
    lines = [f"{what} trained on {m.dataset}: {m.resolution} samples from {latent}-d noise",
             f"({m.weights.upper()} generator, step {m.step}; FID {m.fid_text})."]
    if m.packages:
        lines.append(f"Needs the plugin package: pip install {' '.join(m.packages)}.")
    if m.discriminator:
        lines.append("Ships its discriminator: load(..., discriminator=True) or `ganzoo train --init-from` fine-tunes it.")
    return "\n    ".join(lines)


def hubconf_block(models: list[zoo.ZooModel]) -> str:
    functions = []
    for m in models:
        functions.append(
            f'def {entry_name(m.id)}(pretrained: bool = True, device: str = "cpu", **kwargs: Any) -> Any:\n'
            f'    """{_docstring(m)}"""\n'
            f'    return _zoo("{m.id}", pretrained, device, **kwargs)')
    return "\n\n\n".join(functions)


def expected(repo: Path = REPO) -> dict[Path, str]:
    """README.md and hubconf.py as they should read for the models in ``repo``/model_cards."""
    models = zoo.shipped(repo / "model_cards")
    readme, hubconf = repo / "README.md", repo / "hubconf.py"
    return {
        readme: zoo.replace_block(readme.read_text(), zoo.markdown_table(models)),
        hubconf: zoo.replace_block(hubconf.read_text(), hubconf_block(models), HUBCONF_START, HUBCONF_END),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="Change nothing; exit 1 when a file is out of date.")
    args = parser.parse_args(argv)
    try:
        wanted = expected()
    except GanzooError as exc:  # a marker line was edited away
        print(f"error: {exc}", file=sys.stderr)
        return 1
    stale = [path for path, text in wanted.items() if path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(REPO)} does not match model_cards/; run: python benchmarks/zoo/sync.py", file=sys.stderr)
        return 1 if stale else 0
    for path, text in wanted.items():
        if path in stale:
            path.write_text(text)
            print(f"updated {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
