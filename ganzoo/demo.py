"""``make demo``: the zoo's pretrained Fashion-MNIST generator, loaded in one line, no network needed.

    python -m ganzoo.demo [--out demo/samples.png] [--n 64] [--seed 0]
"""
from __future__ import annotations

import argparse
import sys
import time

import ganzoo
from ganzoo.cards import summarize
from ganzoo.errors import GanzooError
from ganzoo.hub import locate

MODEL = "ganzoo/dcgan-fashion-mnist"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="demo/samples.png")
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)


    try:
        started = time.perf_counter()
        G = ganzoo.load(MODEL)  # the Hub when online, else the HF cache, else model_cards/
        loaded = time.perf_counter() - started
        path = G.save_grid(args.out, n=args.n, seed=args.seed)
        print(f"loaded {MODEL} from {getattr(G, 'origin', 'a local copy')} in {loaded:.1f} s")
        print(f"wrote a grid of {args.n} samples (seed {args.seed}) to {path}")
        print()
        print(summarize(locate(MODEL, need_weights=False)[0]))
    except GanzooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
