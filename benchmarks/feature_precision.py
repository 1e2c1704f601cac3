"""How far do bf16 Inception features move FID? fp32 against bf16 features, same images, 10k vs 10k.

One generator's 10,000 samples (generated once, in fp32) and the 10,000 Fashion-MNIST test images
that every ganzoo card compares with are featurized twice: in fp32 (the standard figure) and under
bf16 autocast with channels_last (``ganzoo eval --fast``). FID is computed for all four pairings,
so the table shows the shift of the whole figure and of each side alone, with the time each
feature pass took. Model cards keep fp32 features unless the shift is below 0.1% of the value.

Real features come from (and go to) ganzoo's reference cache, so a later ``ganzoo eval`` of any
Fashion-MNIST model reuses them.

    python benchmarks/feature_precision.py --source benchmarks/precision/cells/auto-seed0/run
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

import ganzoo
from ganzoo.build import PluginSpec
from ganzoo.evaluation import REAL_SUBSET_SEED, dataset_split, real_tensor
from ganzoo.metrics.evaluate import generated_batches
from ganzoo.metrics.features import InceptionFeatures
from ganzoo.metrics.fid import fid_from_stats, gaussian_stats
from ganzoo.metrics.reference_cache import ReferenceKey, cached_reference

PRECISIONS = ("fp32", "bf16")
THRESHOLD = 0.001  # cards switch to bf16 features only below a 0.1% shift of the figure


def timed_features(extractor: InceptionFeatures, images: torch.Tensor) -> tuple[torch.Tensor, float]:
    started = time.perf_counter()
    with torch.inference_mode():
        features = extractor(images)
    return features, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="a run, export folder or zoo id to draw the generated images from")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(Path(__file__).parent / "feature_precision"))
    args = parser.parse_args()

    G = ganzoo.load(args.source)
    fake = torch.cat(list(generated_batches(lambda n, s: G.sample(n, seed=s), args.n, args.seed)))
    real_spec = dataset_split(PluginSpec("fashion-mnist"), "test")
    real = None  # loaded only if a precision's real features are not cached yet
    stats, seconds, fake_features = {}, {}, {}
    for precision in PRECISIONS:
        extractor = InceptionFeatures(precision=precision, progress=False)
        key = ReferenceKey("fashion-mnist", "test", args.n, extractor.preprocessing_version, extractor.weights_sha256, precision)

        def compute() -> torch.Tensor:
            nonlocal real
            real = real_tensor(real_spec, args.n, REAL_SUBSET_SEED) if real is None else real
            print(f"{precision}: real features not cached yet, computing {args.n} (about 11 img/s fp32, 27 bf16 on 2 AMX cores)", flush=True)
            features, took = timed_features(extractor, real)
            seconds[f"real_{precision}"] = round(took, 1)
            return features

        stats[f"real_{precision}"] = cached_reference(key, compute).stats
        print(f"{precision}: featurizing {args.n} generated images", flush=True)
        fake_features[precision], took = timed_features(extractor, fake)
        seconds[f"fake_{precision}"] = round(took, 1)
        stats[f"fake_{precision}"] = gaussian_stats(fake_features[precision])
        print(f"{precision}: generated features in {took:.0f} s ({args.n / took:.1f} img/s)", flush=True)

    fids = {f"real {r} / generated {g}": fid_from_stats(stats[f"real_{r}"], stats[f"fake_{g}"]) for r in PRECISIONS for g in PRECISIONS}
    standard, fast = fids["real fp32 / generated fp32"], fids["real bf16 / generated bf16"]
    shift = abs(fast - standard) / standard
    diff = (fake_features["bf16"] - fake_features["fp32"]).norm(dim=1) / fake_features["fp32"].norm(dim=1)
    record = {
        "source": args.source, "n_real": args.n, "n_generated": args.n, "cpu_threads": torch.get_num_threads(),
        "fid": fids, "relative_shift": shift, "cards_may_use_bf16": shift < THRESHOLD,
        "feature_relative_norm_diff_median": float(diff.median()),
        "seconds": seconds, "speedup_generated": seconds["fake_fp32"] / seconds["fake_bf16"],
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(record, indent=2) + "\n")
    lines = ["| features (real / generated) | FID |", "|---|---|"]
    lines += [f"| {k} | {v:.3f} |" for k, v in fids.items()]
    lines += ["", f"Shift of the figure, bf16 vs fp32 on both sides: {100 * shift:.3f}% "
              f"({'below' if shift < THRESHOLD else 'not below'} the 0.1% that lets cards use bf16 features).",
              f"Median per-image feature difference (relative norm): {100 * record['feature_relative_norm_diff_median']:.2f}%.",
              f"Generated-image feature pass: fp32 {seconds['fake_fp32']:.0f} s, bf16 {seconds['fake_bf16']:.0f} s "
              f"({record['speedup_generated']:.2f}x), {args.n} images, {record['cpu_threads']} threads."]
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
