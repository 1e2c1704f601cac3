"""Published benchmark setups as ``ganzoo bench --preset NAME`` (torch-free).

A preset fills every bench setting the command line leaves out; a flag given wins over the preset,
and ``--arch-arg``/``--data-arg`` pairs are merged key by key. Each value says where it comes from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError


@dataclass(frozen=True)
class Preset:
    summary: str
    values: dict[str, Any]  # BenchSpec field -> value
    reference: str  # the published figures to compare with, printed under the leaderboard's header
    sources: dict[str, str] = field(default_factory=dict)  # BenchSpec field -> where the value comes from


_PACGAN_CODE = "PacGAN's released config (fjxmlzn/PacGAN, synthetic_data_experiments/2D*_GAN&PacGAN/config.py)"

PRESETS: dict[str, Preset] = {
    "pacgan": Preset(
        summary="PacGAN's Table 1 (Lin et al. 2018; VEEGAN's protocol, Srivastava et al. 2017): plain GAN on the 2D "
                "ring and grid, 10 trials.",
        reference="PacGAN Table 1, mean ± standard error over 10 trials (the table here shows the standard deviation, "
                  "√10 ≈ 3.2x the standard error; the papers train no EMA, so compare with the raw rows). GAN: ring "
                  "6.3 ± 0.5 modes, 98.2 ± 0.2% high quality, reverse KL 0.45 ± 0.09; grid 17.3 ± 0.8, "
                  "94.8 ± 0.7%, 0.70 ± 0.07. PacGAN2: ring 7.9 ± 0.1, 95.6 ± 2.0%, 0.07 ± 0.03; grid 23.8 ± 0.7, "
                  "91.3 ± 0.8%, 0.13 ± 0.04. PacGAN4: ring 7.8 ± 0.1, 95.9 ± 1.4%, 0.07 ± 0.02; grid 24.8 ± 0.2, "
                  "93.6 ± 0.6%, 0.04 ± 0.01.",
        values={
            "archs": ["mlp"],
            "losses": ["non-saturating"],
            "datasets": ["toy-ring-pacgan", "toy-grid-pacgan"],
            "seeds": list(range(10)),
            "steps": 400_000,
            "batch_size": 100,
            "lr_g": 1e-4,
            "lr_d": 1e-4,
            "betas": (0.8, 0.999),
            "arch_args": {"latent_dim": "2", "g_hidden": "400,400,400,400", "g_batch_norm": "true",
                          "d_hidden": "200,200,200", "d_maxout": "5", "init_std": "0.02"},
            "metrics": ["toy"],
        },
        sources={
            "losses": "PacGAN's code: D minimises softplus(-D(x)) + softplus(D(G(z))), G minimises softplus(-D(G(z))) "
                      "(the non-saturating loss); one D and one G update per batch",
            "datasets": "PacGAN Sec. 4.1 / appendix and " + _PACGAN_CODE + "; geometry in ganzoo.data.toy",
            "seeds": "PacGAN Table 1: 10 trials (VEEGAN averaged 5)",
            "steps": _PACGAN_CODE + ": 400 epochs of 100,000 points at batch 100 = 400,000 iterations",
            "batch_size": "PacGAN appendix and " + _PACGAN_CODE,
            "lr_g": "PacGAN appendix: Adam, learning rate 1e-4",
            "betas": _PACGAN_CODE + ": beta1 0.8; beta2 is the Blocks default 0.999",
            "arch_args": "PacGAN appendix and code: G 4 hidden layers x 400 ReLU units with batch norm, 2-d N(0, I) "
                         "noise; D 3 hidden LinearMaxout layers x 200 units, 5 pieces, no batch norm; weights "
                         "N(0, 0.02), biases 0",
            "metrics": "VEEGAN Sec. 5.1: 2,500 samples, high quality within 3 std, a mode captured with >= 1 of them",
            "ema": "our choice: the papers train no EMA, so their rows compare with the bench's raw-generator rows",
        },
    ),
}


_COMPARE_GAN = "Lucic et al.'s released code (google/compare_gan, src/params.py and src/gans/abstract_gan.py)"


def _lucic_loss(lr: float, beta1: float, n_critic: int, d_batch_norm: bool, **loss_args: float) -> dict[str, Any]:
    """One loss's settings in Lucic et al.'s study: Adam (beta2 at TensorFlow's 0.999) for every loss."""
    settings: dict[str, Any] = {"optimizer": "adam", "lr_g": lr, "lr_d": lr, "betas": (beta1, 0.999), "n_critic": n_critic,
                                "arch_args": {"d_batch_norm": str(d_batch_norm).lower()}}
    if loss_args:
        settings["loss_args"] = {k: str(v) for k, v in loss_args.items()}
    return settings


PRESETS["lucic"] = Preset(
    summary="Lucic et al. 2018's loss comparison on Fashion-MNIST: their networks, per-loss defaults, 20 epochs of "
            "discriminator steps, FID at 10k vs 10k; 3 seeds.",
    reference="Lucic et al. 2018 (\"Are GANs Created Equal?\"), Table 2: best FID of 100 hyper-parameter trials per loss on "
              "Fashion-MNIST, 10,000 test vs 10,000 generated images: minimax 29.6, non-saturating 26.5, least-squares "
              "30.7, WGAN 21.5, WGAN-GP 24.5, DRAGAN 27.7, BEGAN 22.9. This preset trains every loss at the study's default "
              "hyper-parameters (where its search starts) over 3 seeds, so its figures are a typical run, not a best of 100. "
              "BEGAN needs an autoencoder discriminator: run it with `--arch lucic-began --loss began` (the ganzoo-began plugin's "
              "networks as the study's code built them: their shared G and a small conv autoencoder as D).",
    values={
        "archs": ["lucic"],
        "losses": ["minimax", "non-saturating", "least-squares", "wasserstein", "wgan-gp", "dragan"],
        "datasets": ["fashion-mnist"],
        "seeds": [0, 1, 2],
        "steps": 15_625,
        "step_unit": "discriminator",
        "evals": 1,
        "batch_size": 64,
        "ema": None,
        "metrics": ["fid", "kid", "prdc", "class-histogram"],
        "n_generated": 10_000,
        "n_real": 10_000,
        "arch_args": {"latent_dim": "64"},
        "per_loss": {
            "minimax": _lucic_loss(5e-5, 0.0, 1, True),
            "non-saturating": _lucic_loss(5e-5, 0.0, 1, True),
            "least-squares": _lucic_loss(2e-4, 0.5, 1, True),
            "wasserstein": _lucic_loss(5e-5, 0.5, 5, True, clip=0.01),
            "wgan-gp": _lucic_loss(1e-4, 0.5, 5, False, gp_weight=10.0),
            "dragan": _lucic_loss(1e-4, 0.5, 1, True, gp_weight=10.0),
            "began": _lucic_loss(1e-4, 0.5, 5, False, gamma=0.75, lambda_k=0.001),
        },
    },
    sources={
        "archs": "Lucic et al. Sec. 4 and " + _COMPARE_GAN + ": one InfoGAN-style G and D for every loss (ganzoo's "
                 "`lucic` architecture; tanh on [-1, 1] images where they use a sigmoid on [0, 1])",
        "steps": _COMPARE_GAN + " (generate_tasks_lib.py): 20 epochs at batch 64, counted in discriminator steps with G "
                 "updated every n_critic of them: 15,625",
        "step_unit": "compare_gan updates D every step and G every disc_iters steps",
        "per_loss": _COMPARE_GAN + ": each loss's default learning rate, beta1, disc_iters and discriminator batch norm, "
                    "and its clip / lambda / gamma; Adam for every loss",
        "arch_args": "64-d Uniform(-1, 1) noise, as in compare_gan's z_generator",
        "ema": "the study trains no EMA: cells are scored on the raw generator",
        "metrics": "Lucic et al. Sec. 4: FID on 10,000 test vs 10,000 generated images. Differences: ganzoo quantizes "
                   "generated images to uint8 and resizes with PyTorch's half-pixel bilinear; theirs are floats resized "
                   "with TF1's bilinear. KID, precision/recall and the class histogram come from the same samples",
        "evals": "one scoring at the end of training: a 10k-image FID costs as much as the training on a CPU",
    },
)


_PACGAN_STACKED = "PacGAN's released code (fjxmlzn/PacGAN, stacked_MNIST_experiments/VEEGAN_experiment/config.py and model.py)"

PRESETS["pacgan-stacked"] = Preset(
    summary="PacGAN's stacked-MNIST experiment (Lin et al. 2018; VEEGAN's protocol, Srivastava et al. 2017) on Stacked Fashion-MNIST: "
            "DCGAN (PacDCGAN: add --trick pack:m=M --batch-size 64*M), 1,000 modes counted with the zoo's classifier, 10 trials.",
    reference="PacGAN's stacked-MNIST table (their run of VEEGAN's experiment: 1,000 modes, 26,000 samples, 10 trials): "
              "DCGAN 99 modes with KL to uniform 3.40 (VEEGAN's figure), PacDCGAN2, 3 and 4 all 1,000 modes with KL "
              "about 0.06-0.07; VEEGAN itself 150 modes, KL 2.95. Those are MNIST digits; these cells stack "
              "Fashion-MNIST, whose classes a classifier tells apart less surely, so the published rows give the scale, "
              "not a figure to match.",
    values={
        "archs": ["dcgan"],
        "losses": ["non-saturating"],
        "datasets": ["stacked-fashion-mnist"],
        "data_args": {"n": "128000"},
        "tricks": ["none"],
        "seeds": list(range(10)),
        "steps": 100_000,
        "g_steps": 2,
        "batch_size": 64,
        "lr_g": 2e-4,
        "lr_d": 2e-4,
        "betas": (0.5, 0.999),
        "ema": None,
        "evals": 10,
        "metrics": ["stacked-modes"],
        "n_generated": 26_000,
    },
    sources={
        "archs": "PacGAN's code: carpedm20's DCGAN-tensorflow at 28 px. Difference: ganzoo's dcgan at 28 px upsamples "
                 "7 -> 14 -> 28 with 4x4 kernels and draws N(0, 1) noise; theirs goes 2 -> 4 -> 7 -> 14 -> 28 with 5x5 "
                 "kernels, D has a fourth layer (512 channels) and z is Uniform(-1, 1)",
        "losses": _PACGAN_STACKED + ": sigmoid cross-entropy, G maximizes log D(G(z)) (the non-saturating loss)",
        "datasets": "VEEGAN / PacGAN: three random images stacked as RGB, 1,000 modes; here Fashion-MNIST so the zoo's "
                    "classifier counts them (ganzoo.data.stacked)",
        "data_args": _PACGAN_STACKED + ": 128,000 stacked training samples (theirs drawn from MNIST's 70,000 train and "
                     "test images; here from Fashion-MNIST's 60,000 training images)",
        "tricks": "PacGAN's stacked-MNIST table: packing 1 to 4. Their D sees 64 packs of m samples per batch, and "
                  "ganzoo's pack splits a batch into batch/m packs, so PacDCGANm is `--trick pack:m=M --batch-size 64*M` "
                  "(G then draws 64*M samples a step, as theirs does), each in its own --out (`make bench-stacked`)",
        "seeds": "PacGAN's stacked-MNIST table: 10 trials",
        "steps": _PACGAN_STACKED + ": 50 epochs of 128,000 samples at batch 64 = 100,000 discriminator updates",
        "g_steps": _PACGAN_STACKED + ": g_optim runs twice per discriminator update (DCGAN-tensorflow's habit)",
        "lr_g": _PACGAN_STACKED + ": Adam, learning rate 2e-4, beta1 0.5 for both networks",
        "ema": "PacGAN trains no EMA: cells are scored on the raw generator",
        "evals": "PacGAN logs the mode count after every epoch; ganzoo scores 10 points along training and reports the last",
        "metrics": "VEEGAN Sec. 5.2 / PacGAN: 26,000 samples, each channel classified, modes with at least one sample, "
                   "KL(sample modes || uniform)",
    },
)


def preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown --preset {name!r}; choose from {', '.join(PRESETS)}") from None


def resolve(name: str | None, given: dict[str, Any], built_in: dict[str, Any] | None = None) -> dict[str, Any]:
    """BenchSpec arguments: ``built_in`` defaults < the preset's values < the flags given (None: not given)."""
    values = {**(built_in or {}), **(preset(name).values if name else {})}
    for key in ("arch_args", "data_args"):
        if given.get(key):
            values[key] = {**values.get(key, {}), **given[key]}
    values.update({k: v for k, v in given.items() if v is not None and k not in ("arch_args", "data_args")})
    if values.get("per_loss"):
        values["per_loss"] = {loss: _without_given(settings, given) for loss, settings in values["per_loss"].items()}
    if given.get("time_budget_s") is not None and given.get("steps") is None:
        values["steps"] = None  # a time budget given replaces the default or preset step budget
    for option, key in (("--arch", "archs"), ("--loss", "losses"), ("--dataset", "datasets")):
        if not values.get(key):
            raise ConfigError(f"{option} is required (or give --preset: {', '.join(PRESETS)}; or --out alone, a folder holding a grid to resume)")
    if name:
        values["preset"] = name
    return values


def _without_given(settings: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """A preset's per-loss settings less those the command line sets for the whole grid (a flag given wins)."""
    kept = {k: v for k, v in settings.items() if k == "arch_args" or given.get(k) is None}
    if "arch_args" in kept:  # pairs merge key by key, as the grid-wide ones do
        kept["arch_args"] = {k: v for k, v in kept["arch_args"].items() if k not in (given.get("arch_args") or {})}
    return kept
