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
    if given.get("time_budget_s") is not None and given.get("steps") is None:
        values["steps"] = None  # a time budget given replaces the default or preset step budget
    for option, key in (("--arch", "archs"), ("--loss", "losses"), ("--dataset", "datasets")):
        if not values.get(key):
            raise ConfigError(f"{option} is required (or give --preset: {', '.join(PRESETS)})")
    if name:
        values["preset"] = name
    return values
