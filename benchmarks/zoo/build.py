"""Train, score and export the zoo's models, one recipe per model id, resumably.

For each id asked for: train the recipe with the engine (resuming a half-trained run), score its
EMA generator on 10,000 Fashion-MNIST test images vs 10,000 generated ones (FID, KID,
precision/recall, density/coverage) plus the Parzen-window log-likelihood and the figures read off
the zoo's Fashion-MNIST classifier, then export it with its discriminator into
``model_cards/<id>/`` (weights, config.json, card and pictures) and record figures, bar and wall
times in ``benchmarks/zoo/results.json`` (and its table, ``results.md``). Recipes with ``curve`` points also score a quick FID
along training (2,000 vs 2,000), which the WGAN cards plot next to the critic's loss.

Runs live in ``--runs`` (default ``runs/zoo``, ignored by git); a run that stops at its time budget
continues where it stopped when the script is run again. After a model is exported, run
``make zoo-sync`` so the README's zoo table and hubconf.py follow the cards.

    python benchmarks/zoo/build.py dcgan-fashion-mnist --budget-s 3000
    python benchmarks/zoo/build.py lsgan-fashion-mnist --train-only   # score it later, beside the next training
    python benchmarks/zoo/build.py --list
    python benchmarks/zoo/build.py --table                            # rewrite results.md from results.json
    python benchmarks/zoo/build.py --notes                            # rewrite each card's Notes (its bar, recipe, gap)

``benchmarks/zoo/lanes.py`` builds several models that way on two threads, one training while the
other scores.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

import ganzoo
from ganzoo import registry
from ganzoo.build import PluginSpec
from ganzoo.contracts import paper_defaults
from ganzoo.evaluation import save_results, score
from ganzoo.export import annotate_export, export_run
from ganzoo.layout import CONFIG
from ganzoo.locks import exclusive
from ganzoo.safeio import read_json, write_atomic, write_json

REPO = Path(__file__).resolve().parents[2]
TRAIN_IMAGES = 60_000
FID_CURVE = "curve.json"  # in the run folder: the quick FIDs along training (ganzoo/card_figures.py reads it)

# Lucic et al. 2018, "Are GANs Created Equal?", Table 2: best FID of 100 trials on Fashion-MNIST (10k vs 10k).
LUCIC = {"minimax": 29.6, "non-saturating": 26.5, "least-squares": 30.7, "wasserstein": 21.5, "wgan-gp": 24.5,
         "dragan": 27.7, "began": 22.9}
NO_ROW_BAR = 35.0  # issue 10's bar for the variants Lucic et al. have no row for
N_EVAL = 10_000  # test images vs generated images behind every card's figures
RESULTS_LOCK = "results.lock"  # beside results.json, held while a build process records its model


@dataclass(frozen=True)
class Recipe:
    """How one zoo model is trained.

    ``epochs`` count the discriminator's passes over the 60,000 training images, as Lucic et al.
    count theirs: a loss with n_critic D steps per G step gets epochs * 60,000 / (batch_size *
    n_critic) generator steps.
    """

    arch: str
    loss: str
    about: str
    arch_args: dict[str, Any] = field(default_factory=dict)
    loss_args: dict[str, Any] = field(default_factory=dict)
    tricks: tuple[str, ...] = ()
    epochs: float = 20
    batch_size: int = 64
    settings: dict[str, Any] = field(default_factory=dict)
    curve: int = 0  # quick-FID points along training
    family_bar: bool = False  # a variant with no row in Lucic et al.: judged by NO_ROW_BAR, not its loss's row
    gap: str = ""  # for a model short of its bar: why, and what would close the gap (shown in its card)

    @property
    def n_critic(self) -> int:
        """D steps per G step: the recipe's setting, else the loss's default over the architecture's (as the engine resolves it)."""
        if self.settings.get("n_critic"):
            return int(self.settings["n_critic"])
        return int(paper_defaults(registry.architectures.get(self.arch), registry.losses.get(self.loss)).n_critic or 1)

    @property
    def steps(self) -> int:
        return int(self.epochs * TRAIN_IMAGES // (self.batch_size * self.n_critic))

    @property
    def points(self) -> list[int]:
        """The steps training stops at: each quick-FID point of the curve, else only the last step."""
        return [self.steps * (k + 1) // self.curve for k in range(self.curve)] if self.curve else [self.steps]

    @property
    def bar(self) -> float:
        return NO_ROW_BAR if self.family_bar else LUCIC.get(self.loss, NO_ROW_BAR)

    @property
    def bar_source(self) -> str:
        if self.family_bar or self.loss not in LUCIC:
            return "the zoo's bar for variants that Lucic et al. 2018 have no row for"
        return (f"the best FID that Lucic et al. 2018 (Table 2, best of 100 hyper-parameter trials) report for the "
                f"{self.loss} loss on this protocol")


# Sized for about an hour of training each on one CPU thread (results.json records each wall time); the
# costliest networks are narrowed: SNGAN's ResNet at widths 64/32 and BEGAN at 32 hidden channels.
RECIPES: dict[str, Recipe] = {
    "dcgan-fashion-mnist": Recipe(
        "dcgan", "non-saturating", "DCGAN (Radford et al. 2016), non-saturating loss", epochs=30, batch_size=128),
    "mlp-fashion-mnist": Recipe(
        "mlp", "non-saturating", "the fully connected GAN of Goodfellow et al. 2014 (maxout discriminator)",
        arch_args={"g_hidden": (256, 512, 1024), "d_hidden": (1024, 512, 256), "d_maxout": 5}, epochs=30,
        gap="A fully connected generator draws each pixel without a convolution's tie to its neighbours, and its "
            "samples keep a salt-and-pepper grain (progression figure). They cover the 10 classes but few styles "
            "within each (recall 0.02, classes KL 0.15), and the grain looks the same from step 17,575 on, so a "
            "longer run of this recipe alone would not close the gap. What we would try next, each about an hour "
            "of CPU: dropout in the discriminator, which Goodfellow et al. trained with (`--trick d-dropout`), "
            "a lower learning rate for the second half, or a batch of 128."),
    "lsgan-fashion-mnist": Recipe("dcgan", "least-squares", "LSGAN (Mao et al. 2017) on DCGAN", epochs=30),
    "wgan-fashion-mnist": Recipe(
        "dcgan", "wasserstein", "WGAN with weight clipping (Arjovsky et al. 2017) on DCGAN", epochs=60, curve=5,
        gap="It was still improving when the recipe ended. The quick FID along training (2,000 vs 2,000) fell "
            "151.6, 92.8, 73.9, 66.0 and 59.7 at its five points, still about 6 per 2,250 generator steps at the "
            "end, and the critic's loss shrank towards zero with it (critic-vs-FID figure): the correlation WGAN "
            "claims. The paper's settings (weight clipping at 0.01, RMSProp 5e-5, 5 critic steps) learn slowly, and "
            "11,250 generator steps are few for them. What we would try next: the same recipe run two to three "
            "times longer (about 16 min of CPU per 2,250 steps here), watching the curve flatten, or Lucic et "
            "al.'s settings for this loss (Adam 5e-5, beta1 0.5)."),
    "wgan-gp-fashion-mnist": Recipe(
        "dcgan", "wgan-gp", "WGAN-GP (Gulrajani et al. 2017) on DCGAN, layer norm in the critic",
        arch_args={"d_norm": "layer"}, epochs=40, curve=5,
        gap="It was still improving when the recipe ended. The quick FID along training (2,000 vs 2,000) fell 99.4, "
            "66.3, 54.0, 46.1 and 41.4 at its five points (1,500 to 7,500 generator steps), still about 5 per 1,500 "
            "steps at the end, while the critic's loss climbed towards zero (critic-vs-FID figure). Its samples cover "
            "the 10 classes evenly (classes KL 0.016, recall 0.36). 7,500 generator steps at 5 critic steps each "
            "are few for this loss. What we would try next: the same recipe run two to three times longer (about "
            "16 min of CPU per 1,500 generator steps here beside other jobs), watching the curve flatten."),
    "hinge-sngan-fashion-mnist": Recipe("resnet", "hinge", "SNGAN (Miyato et al. 2018): ResNet, spectral norm, hinge loss",
                                        arch_args={"g_width": 64, "d_width": 32}, epochs=30),
    "cgan-fashion-mnist": Recipe("cgan", "non-saturating", "class-conditional GAN (Mirza & Osindero 2014)", epochs=30, family_bar=True),
    "acgan-fashion-mnist": Recipe("acgan", "non-saturating", "AC-GAN (Odena et al. 2017)", epochs=30, family_bar=True),
    "infogan-fashion-mnist": Recipe("infogan", "non-saturating", "InfoGAN (Chen et al. 2016): 10-way code + 2 continuous codes",
                                    epochs=20, family_bar=True),
    "bigan-fashion-mnist": Recipe("bigan", "non-saturating", "BiGAN / ALI (Donahue et al. 2017): with an encoder", epochs=20, family_bar=True),
    "aae-fashion-mnist": Recipe(
        "aae", "non-saturating", "adversarial autoencoder (Makhzani et al. 2016)", epochs=30, family_bar=True,
        gap="An adversarial autoencoder samples by decoding draws from its prior, and this recipe keeps the paper's "
            "MNIST model: an 8-d code, fully connected decoder, pixel-wise squared-error reconstruction. Its samples "
            "are blurred averages of their class (recall 0.007), and they look the same from step 10,000 on in the "
            "progression figure, so a longer run of this recipe would not close the gap. What we would try next, each "
            "about the same hour of CPU training: a larger code (32-d), the convolutional networks (`net=conv`), or "
            "an adversarial loss on the decoded pixels as well as on the codes."),
    "lapgan-fashion-mnist": Recipe(
        "lapgan", "non-saturating", "LAPGAN (Denton et al. 2015): a Laplacian pyramid", epochs=20, family_bar=True,
        gap="It misses by 0.9. Its samples are sharp and cover all 10 classes evenly (classes KL 0.046, precision "
            "0.41), but they hold fewer styles than the test set (recall 0.13, coverage 0.31). The recipe gives it 20 "
            "passes of the discriminator over the training images; dcgan, lsgan, cgan and acgan, which meet their "
            "bars, had 30. What we would try first: the same recipe at 30 passes (about 35 more min of CPU "
            "here, resuming the run), with a quick-FID curve along training to see whether recall still grows."),
    "rcgan-fashion-mnist": Recipe(
        "rcgan", "non-saturating", "recurrent GAN (Im et al. 2016): canvases summed", epochs=15, family_bar=True,
        gap="Training does not settle. From about step 6,000 the discriminator overpowers the recurrent generator (its "
            "logged loss falls to 0.3-0.8 while the generator's climbs past 2.5), and the samples collapse in turn onto "
            "pullovers, near-empty dark canvases and grey blobs (progression figure; 7 of 10 classes covered, recall "
            "0.0). A longer run of this recipe would not close the gap. What we would try next: spectral norm in the "
            "discriminator (`--trick spectral-norm`) or a slower discriminator (two time-scale learning rates), "
            "checked on a quick-FID curve along training before another full run."),
    "began-fashion-mnist": Recipe(
        "began", "began", "BEGAN (Berthelot et al. 2017), from the ganzoo-began plugin", arch_args={"hidden": 32}, epochs=10,
        gap="The generator collapsed onto one class. By step 3,513 every sample is the same low-contrast sneaker, "
            "and the later points of the progression figure only sharpen it (1 of 10 classes covered, recall 0.0). "
            "The equilibrium that BEGAN's controller aims for held from about step 1,200 on (L(G(z)) / L(x) near "
            "gamma = 0.5, k between 0.01 and 0.02), so the loss did what it is built to do; with gamma 0.5 and an autoencoder narrowed to 32 hidden "
            "channels, one easy-to-reconstruct shape satisfied it. A longer run would not close the gap. What we "
            "would try next, each about an hour of CPU: gamma 0.7 (the paper's setting for more varied samples, "
            "`--loss began:gamma=0.7`), the paper's 64 hidden channels, or both, checked on a quick-FID curve "
            "along training before another full run."),
}


def metrics_for(G: Any) -> list[str]:
    chosen = ["fid", "kid", "prdc", "parzen", "class-histogram", "domain-is"]
    return chosen + (["conditional-accuracy"] if G.generator.num_classes else [])


def train(recipe: Recipe, run: Path, budget_s: float, until: int) -> int:
    """Train ``run`` to step ``until`` within ``budget_s`` more seconds; returns the step reached (short of
    it when the budget ran out)."""
    resume = (run / "checkpoints" / "latest").is_file()
    # The engine's time budget caps the run's total wall time, earlier sessions included.
    spent = read_json(run / "summary.json", "run summary").get("wall_time_s", 0.0) if resume and (run / "summary.json").is_file() else 0.0
    result = ganzoo.train(
        PluginSpec(recipe.arch, dict(recipe.arch_args)), PluginSpec(recipe.loss, dict(recipe.loss_args)), "fashion-mnist", run,
        resume=resume, progress=False, steps=until, batch_size=recipe.batch_size,
        seed=0, device="cpu", precision="auto", checkpoint_every=500, sample_every=max(1, recipe.steps // 8),
        keep_checkpoints=2, time_budget_s=spent + budget_s, tricks=[PluginSpec.parse(t) for t in recipe.tricks], **recipe.settings,
    )
    return result.step


def step_of(run: Path) -> int:
    """The step a run has reached (0 before its first session ends)."""
    summary = run / "summary.json"
    return int(read_json(summary, "run summary").get("step", 0)) if summary.is_file() else 0


def quick_fid(run: Path, step: int, n: int = 2000) -> None:
    """An ``n`` vs ``n`` FID (2,000 by default) of the run's current EMA generator, appended to its FID curve."""
    curve_path = run / FID_CURVE
    curve = read_json(curve_path, "FID curve")["curve"] if curve_path.is_file() else []
    if any(p["step"] == step for p in curve):
        return
    reached = step_of(run)
    if reached != step:  # the run went past this point before it was scored: its generator is gone
        print(f"{run.name}: no quick FID at step {step}, the run is at step {reached}", flush=True)
        return
    scored = score(ganzoo.load(str(run)), PluginSpec("fashion-mnist"), metrics=["fid"], n_generated=n, n_real=n,
                   device="cpu", progress=False, fast=True)
    fid = next(r for r in scored["results"] if r["metric"] == "fid")
    curve.append({"step": step, "fid": fid["value"], "protocol": {"fid": fid["protocol"]}})
    write_json(curve_path, {"curve": curve})


def build(model_id: str, recipe: Recipe, runs: Path, budget_s: float, fast_features: bool, n_eval: int = N_EVAL,
          cards: Path = REPO / "model_cards", train_only: bool = False) -> dict[str, Any] | None:
    run = runs / model_id
    started = time.perf_counter()
    for target in recipe.points:
        if step_of(run) < target:  # a rerun (to score, or after a time budget) skips the points it has passed
            remaining = budget_s - (time.perf_counter() - started)
            reached = train(recipe, run, max(remaining, 1.0), target) if remaining > 0 else 0
            if reached < target:
                print(f"{model_id}: stopped at step {reached} of {recipe.steps} (time budget); run again to continue", flush=True)
                return None
        if recipe.curve:
            quick_fid(run, target, min(n_eval, 2000))
    if train_only:
        print(f"{model_id}: trained to step {recipe.steps}; run again without --train-only to score and export it", flush=True)
        return None
    G = ganzoo.load(str(run))
    scored_at = time.perf_counter()
    scored = score(G, PluginSpec("fashion-mnist"), metrics=metrics_for(G), n_generated=n_eval, n_real=n_eval,
                   device="cpu", progress=False, fast=fast_features)
    save_results(run, scored)
    eval_s = time.perf_counter() - scored_at
    summary = read_json(run / "summary.json", "run summary")
    figures = {r["metric"]: r["value"] for r in scored["results"] if "value" in r}
    notes = card_notes(model_id, recipe, figures.get("fid", float("inf")), n_eval, summary.get("wall_time_s"), summary.get("hardware"))
    folder = export_run(run, cards / model_id, include_discriminator=True, model_id=f"ganzoo/{model_id}", force=True, notes=notes)
    return {
        "id": model_id, "about": recipe.about, "architecture": recipe.arch, "loss": recipe.loss, "steps": recipe.steps,
        "batch_size": recipe.batch_size, "bar_fid": recipe.bar, "meets_bar": figures.get("fid", float("inf")) <= recipe.bar,
        "figures": figures, "train_wall_s": summary.get("wall_time_s"), "eval_wall_s": round(eval_s, 1),
        "precision": read_json(folder / CONFIG, "model config").get("resolved", {}).get("precision"),
        "feature_precision": "bf16" if fast_features else "fp32",
        "train_hardware": summary.get("hardware"), "score_threads": torch.get_num_threads(),
    }


def card_notes(model_id: str, recipe: Recipe, fid: float, n_eval: int, train_wall_s: float | None, hardware: str | None) -> str:
    """The card's Notes: the FID against the zoo's bar for the variant, the recipe that trained it,
    and for a model short of its bar, why and what would close the gap."""
    met = fid <= recipe.bar
    # The hardware is the training run's own record: the scoring process may use more threads than it did.
    took = f" in {train_wall_s / 60:.0f} min" + (f" on {hardware}" if hardware else "") if train_wall_s else ""
    lines = [
        f"**How it compares.** FID {fid:.2f} on {n_eval:,} Fashion-MNIST test images vs {n_eval:,} generated ones "
        f"(fp32 Inception features), against a bar of {recipe.bar:g}: {recipe.bar_source}. "
        + ("The bar is met." if met else f"The bar is **not met** (by {fid - recipe.bar:.1f})."),
        "",
        f"**Recipe.** `python benchmarks/zoo/build.py {model_id}` in the ganzoo repository: {recipe.steps:,} generator "
        f"steps at batch {recipe.batch_size} ({recipe.epochs:g} passes of the discriminator over the 60,000 training "
        f"images, {recipe.n_critic} discriminator step{'s' if recipe.n_critic > 1 else ''} per generator step){took}.",
    ]
    if not met:
        lines += ["", f"**Why it falls short.** {recipe.gap or 'Not analysed yet.'}"]
    return "\n".join(lines)


def rewrite_notes(results_path: Path, cards: Path = REPO / "model_cards") -> list[str]:
    """Rewrite the Notes of every scored model's card from results.json (the weights stay as they are),
    and describe its latent where an older export recorded only the latent's size."""
    written = []
    for model_id, record in read_json(results_path, "zoo results").get("models", {}).items():
        if model_id in RECIPES and (cards / model_id).is_dir():
            recipe = RECIPES[model_id]
            notes = card_notes(model_id, recipe, record["figures"]["fid"], N_EVAL, record.get("train_wall_s"), record.get("train_hardware"))
            config = read_json(cards / model_id / CONFIG, "model config")
            latent = None if config.get("latent") else ganzoo.load(cards / model_id).generator.describe_latent()
            annotate_export(cards / model_id, notes, latent=latent)
            written.append(model_id)
    return written


def record_result(results_path: Path, record: dict[str, Any]) -> None:
    """Add (or replace) one model's record in results.json and its table. Two build processes
    (lanes.py's, or one started by hand) may finish together: each reads, adds its model and
    writes under the lock, so neither drops the other's."""
    with exclusive(results_path.with_name(RESULTS_LOCK)):
        results = read_json(results_path, "zoo results") if results_path.is_file() else {"models": {}}
        results["models"][record["id"]] = record
        write_json(results_path, results)
        write_table(results_path, results)


def results_table(results: dict[str, Any]) -> str:
    """results.md: every built model's figures next to its bar, in recipe order, with its wall times."""
    def fmt(figures: dict[str, float], key: str, spec: str) -> str:
        return format(figures[key], spec) if key in figures else "-"

    lines = ["# The zoo's models: figures, bars and wall times",
             "",
             "Written by `benchmarks/zoo/build.py` from `results.json`. FID, KID, precision/recall and density/coverage: "
             "10,000 generated (EMA generator) vs 10,000 Fashion-MNIST test images, Inception-2015-12-05 features in the "
             "precision named. Bar: Lucic et al. 2018's best FID for the loss (Table 2), or 35 for a variant they have no "
             "row for. Classes, conditional accuracy and domain IS: the zoo's Fashion-MNIST classifier. Training wall times "
             "on the hardware each card names, scoring on `score_threads` CPU threads (results.json), each beside one "
             "to three other jobs on a 2-core machine.",
             "",
             "| model | FID | bar | KID | P / R | D / C | classes (KL) | cond. acc. | domain IS | Parzen | steps x batch "
             "| features | train / score |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    models = results.get("models", {})
    for model_id in [m for m in RECIPES if m in models] + sorted(set(models) - set(RECIPES)):
        r, f = models[model_id], models[model_id]["figures"]
        met = "met" if r["meets_bar"] else "not met"
        lines.append(
            f"| `{model_id}` | **{fmt(f, 'fid', '.2f')}** | {r['bar_fid']:g} ({met}) | {fmt(f, 'kid_mean', '.4f')} "
            f"| {fmt(f, 'precision', '.2f')} / {fmt(f, 'recall', '.2f')} | {fmt(f, 'density', '.2f')} / {fmt(f, 'coverage', '.2f')} "
            f"| {fmt(f, 'classes_covered', '.0f')}/10 ({fmt(f, 'class_kl_to_uniform', '.4f')}) "
            f"| {fmt(f, 'conditional_accuracy', '.1%')} | {fmt(f, 'domain_is_mean', '.2f')} | {fmt(f, 'parzen_log_likelihood', '.1f')} "
            f"| {r['steps']:,} x {r['batch_size']} | {r['feature_precision']} "
            f"| {r['train_wall_s'] / 60:.0f} / {r['eval_wall_s'] / 60:.0f} min |")
    return "\n".join(lines) + "\n"


def write_table(results_path: Path, results: dict[str, Any]) -> None:
    write_atomic(results_path.with_suffix(".md"), lambda p: p.write_text(results_table(results)))


def smoke(ids: list[str], runs: Path) -> None:
    """Every stage of ``build`` for each id at a toy budget, out of model_cards/ and results.json."""
    for model_id in ids:
        recipe = replace(RECIPES[model_id], epochs=20 * RECIPES[model_id].batch_size / TRAIN_IMAGES,
                         curve=min(RECIPES[model_id].curve, 2))
        record = build(model_id, recipe, runs, 600, True, n_eval=200, cards=runs / "cards")
        assert record is not None, f"{model_id}: the smoke run did not finish"
        print(f"{model_id}: smoke ok, FID {record['figures']['fid']:.1f} at 200 vs 200, "
              f"figures: {', '.join(sorted(record['figures']))}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", help="zoo ids to build (default: every recipe)")
    parser.add_argument("--runs", default=str(REPO / "runs" / "zoo"), help="where the training runs live")
    parser.add_argument("--budget-s", type=float, default=3600, help="wall-time budget for this invocation's training, per model")
    parser.add_argument("--features", choices=("fp32", "bf16"), default="fp32",
                        help="precision of the 10k Inception pass (fp32: the standard figure)")
    parser.add_argument("--train-only", action="store_true",
                        help="train (or resume) and stop before scoring, so another process can score the last model meanwhile")
    parser.add_argument("--list", action="store_true", help="print the recipes and exit")
    parser.add_argument("--table", action="store_true", help="rewrite results.md from results.json and exit")
    parser.add_argument("--notes", action="store_true", help="rewrite the Notes of every scored model's card from results.json and exit")
    parser.add_argument("--smoke", action="store_true",
                        help="check the pipeline: 20 steps, 200 vs 200 images, exported under --runs/cards (not a zoo figure)")
    args = parser.parse_args()
    if args.list:
        for model_id, r in RECIPES.items():
            print(f"{model_id:28} {r.arch:8} {r.loss:15} {r.steps:>7} steps  batch {r.batch_size:>3}  bar FID {r.bar:g}  {r.about}")
        return
    results_path = Path(__file__).parent / "results.json"
    if args.table:
        write_table(results_path, read_json(results_path, "zoo results"))
        print(f"wrote {results_path.with_suffix('.md')}")
        return
    if args.notes:
        print(f"rewrote the card notes of {', '.join(rewrite_notes(results_path)) or 'no model'}")
        return
    unknown = [i for i in args.ids if i not in RECIPES]
    if unknown:
        sys.exit(f"unknown zoo id {unknown[0]!r}; known: {', '.join(RECIPES)}")
    if args.smoke:
        smoke(args.ids or list(RECIPES), Path(args.runs))
        return
    for model_id in args.ids or list(RECIPES):
        record = build(model_id, RECIPES[model_id], Path(args.runs), args.budget_s, args.features == "bf16",
                       train_only=args.train_only)
        if record is not None:
            record_result(results_path, record)
            fid = record["figures"].get("fid")
            print(f"{model_id}: FID {fid:.2f} (bar {record['bar_fid']:g}), trained {record['train_wall_s']:.0f} s, "
                  f"scored {record['eval_wall_s']:.0f} s; exported to model_cards/{model_id}", flush=True)


if __name__ == "__main__":
    main()
