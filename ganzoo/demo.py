"""``make demo``: the zoo's pretrained generators, each loaded in one line, with no network needed.

    python -m ganzoo.demo [--out-dir demo] [--n 64] [--seed 0] [--models PATTERN] [--max N]

Writes a grid per model (``demo/<id>.png``) and prints what each model is and how it scores.
"""
from __future__ import annotations

import argparse
import fnmatch
import sys
import time
from pathlib import Path
from typing import NoReturn

import ganzoo
from ganzoo.cards import summarize
from ganzoo.errors import GanzooError
from ganzoo.zoo import model_cards_dir, shipped


PROG = "python -m ganzoo.demo"


class _OneLineParser(argparse.ArgumentParser):
    """Bad arguments are one line that says where the help is, as the ``ganzoo`` commands say them."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message}; see {PROG} --help\n")


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = _OneLineParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", default="demo", help="Folder for the grids (default: demo).")
    parser.add_argument("--n", type=_at_least_one, default=64, help="Samples per grid (default: 64).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default="*", help="fnmatch pattern on the zoo ids (default: all).")
    parser.add_argument("--max", type=_at_least_one, default=None, help="Show at most this many models (default: all).")
    args = parser.parse_args(argv)

    models = [m for m in shipped() if fnmatch.fnmatchcase(m.id, args.models)][: args.max]
    if not models:
        print(f"error: no zoo model matching {args.models!r} in {model_cards_dir()}; see `ganzoo zoo`", file=sys.stderr)
        return 1
    shown = 0
    for m in models:
        try:
            started = time.perf_counter()
            G = ganzoo.load(m.id)  # a zoo id reads the checkout's model_cards/<id>: no network
            loaded = time.perf_counter() - started
            path = G.save_grid(Path(args.out_dir) / f"{m.id}.png", n=args.n, seed=args.seed)
        except GanzooError as exc:  # e.g. a model whose plugin package is not installed: show the others
            print(f"skipped {m.id}: {exc}", file=sys.stderr)
            continue
        except OSError as exc:  # the grids' folder cannot be written: every other model would fail the same way
            print(f"error: cannot write {m.id}'s grid into {args.out_dir} ({exc.strerror or exc}); pass another --out-dir",
                  file=sys.stderr)
            return 1
        print(f"loaded {m.id} from {G.origin} in {loaded:.1f} s; wrote a grid of {args.n} samples (seed {args.seed}) to {path}")
        print(summarize(m.folder))
        print()
        shown += 1
    return 0 if shown else 1


if __name__ == "__main__":
    sys.exit(main())
