"""A trained generator, ready to sample: what ``ganzoo.load`` and ``ganzoo sample`` return.

How a folder becomes one is ganzoo/loading.py's job; this module only wraps the generator with
the calls its users expect.
"""
from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any, Sequence

import torch
from PIL import Image
from torch import Tensor

import ganzoo

from . import registry
from .cards import render_card_from
from .contracts import GANModel, Generator
from .engine.grids import class_layout, image_grid, save_samples, to_uint8
from .errors import ConfigError
from .layout import CARD, CONFIG, DISCRIMINATOR, SAMPLES, WEIGHTS, default_model_id, new_weights_section
from .safeio import sha256_file, write_atomic, write_json, write_safetensors
from .traversal import traverse


class PretrainedGenerator:
    """A generator in eval mode with the calls its users expect.

    ``sample(n, seed=..., labels=...)`` returns images (or points) in [-1, 1]; ``interpolate``
    walks between latents; ``to_pil`` and ``save_grid`` turn samples into pictures.
    ``from_pretrained``, ``save_pretrained`` and ``push_to_hub`` are the names huggingface_hub users
    know, for ``ganzoo.load``, an export folder and ``ganzoo.push``.
    """

    def __init__(self, generator: Generator, config: dict[str, Any], model: GANModel | None = None) -> None:
        self.generator = generator.eval().requires_grad_(False)
        self.config = config
        self.model = model  # the whole architecture (discriminator, encoder) when loaded with it
        self.origin = "in memory"  # where the weights came from; ganzoo.load sets it
        self.which: str | None = None  # "ema" or "raw" weights, when the loader records it
        if model is not None:
            model.eval()

    # -- properties --------------------------------------------------------------------------
    @property
    def latent_dim(self) -> int:
        return self.generator.latent_dim

    @property
    def num_classes(self) -> int:
        return self.generator.num_classes

    @property
    def device(self) -> torch.device:
        return next(self.generator.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.generator.parameters()).dtype

    @property
    def discriminator(self) -> Any:
        if self.model is None:
            raise ConfigError("this generator was loaded without its discriminator; load it with discriminator=True")
        return self.model.discriminator

    def to(self, device: Any = None, dtype: torch.dtype | None = None) -> "PretrainedGenerator":
        self.generator.to(device=device, dtype=dtype)
        if self.model is not None:
            self.model.to(device=device, dtype=dtype)
        return self

    # -- sampling ----------------------------------------------------------------------------
    def latents(self, n: int, seed: int | None = None) -> Tensor:
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        return self.generator.sample_latent(n, generator=g, device=self.device).to(self.dtype)

    def _labels(self, n: int, labels: int | Sequence[int] | Tensor | None, seed: int | None) -> Tensor | None:
        if not self.num_classes:
            if labels is not None:
                raise ConfigError("this generator is unconditional; do not pass labels")
            return None
        if labels is None:
            g = torch.Generator().manual_seed(seed + 1) if seed is not None else None
            return torch.randint(self.num_classes, (n,), generator=g).to(self.device)
        y = torch.as_tensor([labels] * n if isinstance(labels, int) else labels, dtype=torch.long).flatten()
        if y.numel() != n:
            raise ConfigError(f"got {y.numel()} labels for {n} samples")
        if int(y.min()) < 0 or int(y.max()) >= self.num_classes:
            raise ConfigError(f"labels must be in [0, {self.num_classes - 1}]")
        return y.to(self.device)

    @torch.no_grad()
    def __call__(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.generator(z.to(self.device, self.dtype), labels)

    @torch.no_grad()
    def sample(
        self, n: int, seed: int | None = None, labels: int | Sequence[int] | Tensor | None = None, batch_size: int = 256,
        *, precision: str = "fp32",
    ) -> Tensor:
        """``n`` samples in [-1, 1]; the same ``seed`` always gives the same samples.
        ``precision="bf16"`` runs the generator under bf16 autocast (the training fast path)."""
        if precision not in ("fp32", "bf16"):
            raise ConfigError(f"precision must be fp32 or bf16, got {precision!r}")
        if n <= 0:
            raise ConfigError(f"n must be positive, got {n}")
        z = self.latents(n, seed)
        y = self._labels(n, labels, seed)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
            chunks = [
                self.generator(z[i : i + batch_size], None if y is None else y[i : i + batch_size]).float()
                for i in range(0, n, batch_size)
            ]
        return torch.cat(chunks)

    @torch.no_grad()
    def interpolate(
        self, start: int | Tensor = 0, end: int | Tensor = 1, steps: int = 8, *, spherical: bool = True, labels: Any = None
    ) -> Tensor:
        """Samples along a path from one latent to another (seeds or tensors); slerp by default,
        since Gaussian latents concentrate near a sphere (White 2016)."""
        if steps < 2:
            raise ConfigError("interpolate needs at least 2 steps")
        a = self.latents(1, start)[0] if isinstance(start, int) else start.to(self.device, self.dtype)
        b = self.latents(1, end)[0] if isinstance(end, int) else end.to(self.device, self.dtype)
        t = torch.linspace(0, 1, steps, device=self.device, dtype=self.dtype)[:, None]
        if spherical:
            omega = torch.arccos(torch.clamp(torch.dot(a / a.norm(), b / b.norm()), -1, 1))
            if float(omega) < 1e-6:
                path = (1 - t) * a + t * b
            else:
                path = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
        else:
            path = (1 - t) * a + t * b
        y = self._labels(steps, labels, 0) if self.num_classes else None
        return self.generator(path, y).float()

    def traverse(self, code: str | int, **kwargs: Any) -> Tensor:
        """Sweep one latent code (a noise value z1, z2, ... or InfoGAN's c1, c2, ...); see :func:`ganzoo.traversal.traverse`."""
        return traverse(self, code, **kwargs)

    # -- encoding (architectures that provide "encoder": BiGAN/ALI, AAE) ----------------------
    def _encoder(self) -> GANModel:
        arch = self.config.get("architecture", {}).get("name", "?")
        if self.model is not None:
            provides = self.model.provides
        else:
            provides = registry.architectures.get(arch).provides if arch in registry.architectures else frozenset()
        if "encoder" not in provides:
            raise ConfigError(f"architecture {arch!r} has no encoder; encode/reconstruct need one that provides it (e.g. bigan, aae)")
        if self.model is None:
            raise ConfigError(f"this {arch!r} generator was loaded without its encoder; load the whole model, e.g. ganzoo.load(run_dir)")
        return self.model

    @torch.no_grad()
    def encode(self, images: Tensor, batch_size: int = 256) -> Tensor:
        """Latents of samples in [-1, 1] (shaped like ``sample``'s output), one row per sample."""
        model = self._encoder()
        x = images.to(self.device, self.dtype)
        return torch.cat([model.encode(x[i : i + batch_size]).float() for i in range(0, x.shape[0], batch_size)])

    @torch.no_grad()
    def reconstruct(self, images: Tensor, batch_size: int = 256) -> Tensor:
        """``G(encode(images))``: how well the model inverts its own generator."""
        z = self.encode(images, batch_size).to(self.dtype)
        return torch.cat([self.generator(z[i : i + batch_size]).float() for i in range(0, z.shape[0], batch_size)])

    # -- pictures ----------------------------------------------------------------------------
    @staticmethod
    def to_pil(samples: Tensor, grid: bool = False, nrow: int | None = None) -> Any:
        """PIL images of samples in [-1, 1] (one per sample, or a single grid)."""
        if grid:
            return Image.fromarray(image_grid(samples, nrow).numpy())
        pixels = to_uint8(samples.cpu())
        out = []
        for img in pixels:
            arr = img.permute(1, 2, 0).numpy()
            out.append(Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr))
        return out

    def save_grid(self, path: str | Path, n: int = 64, seed: int = 0, labels: Any = None) -> Path:
        samples = self.sample(n, seed=seed, labels=labels)
        return save_samples(samples, path, nrow=int(math.ceil(math.sqrt(n))))

    # -- the huggingface_hub names -----------------------------------------------------------
    # Thin wrappers over ganzoo.load / ganzoo.push, reached through the package's lazy front door:
    # those live in modules that import this one (api -> loading -> pretrained), so they are looked
    # up when called, not imported here.
    @classmethod
    def from_pretrained(cls, source: str | os.PathLike[str], **kwargs: Any) -> "PretrainedGenerator":
        """``ganzoo.load(source, **kwargs)``: a Hub repo id (``org/name[@revision]``), a zoo model
        name, an exported folder or a training run; see :func:`ganzoo.load` for the keywords."""
        return ganzoo.load(source, **kwargs)

    def save_pretrained(self, save_directory: str | os.PathLike[str], *, model_id: str | None = None,
                        license: str | None = None, samples: bool = True) -> Path:
        """Write this generator as an export folder (config.json, model.safetensors, README.md and,
        unless ``samples=False``, samples.png), which ``ganzoo.load`` and ``ganzoo push`` read.

        Only the generator is written, as it samples now (EMA or raw, as it was loaded); to publish a
        discriminator, export the training run with ``ganzoo export --include-discriminator``.
        Returns the folder.
        """
        out = Path(save_directory)
        out.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.generator.state_dict().items()}
        write_safetensors(out / WEIGHTS, state, {"format": "pt", "ganzoo": ganzoo.__version__, "weights": self._which()})
        (out / DISCRIMINATOR).unlink(missing_ok=True)  # a stale one would not match these weights
        config = self._export_config(out, model_id, license)
        if samples:
            self.save_sample_grid(out / SAMPLES)
        else:
            (out / SAMPLES).unlink(missing_ok=True)
        card = render_card_from(config, config["weights"]["model_id"], has_samples=samples)
        write_atomic(out / CARD, lambda p: p.write_text(card, encoding="utf-8"))
        write_json(out / CONFIG, config)  # last: a folder with config.json's weights section is complete
        return out

    def push_to_hub(self, repo_id: str, *, license: str | None = None, **kwargs: Any) -> str:
        """:meth:`save_pretrained` into a temporary folder, then ``ganzoo.push`` it to ``repo_id``
        (keywords: private, revision, token, commit_message, endpoint, create_pr). Returns the commit
        (or pull request) URL."""
        with tempfile.TemporaryDirectory(prefix="ganzoo-push-") as tmp:
            folder = self.save_pretrained(Path(tmp) / "export", model_id=repo_id, license=license)
            return ganzoo.push(folder, repo_id, **kwargs)

    def save_sample_grid(self, path: str | Path, seed: int = 0) -> Path:
        """The grid an export publishes: 8x8 with a fixed seed; for a conditional model every class,
        one per row (one per column past 8, see ``class_layout``); for points, a scatter of 1000."""
        labels, nrow = class_layout(self.num_classes) if self.num_classes else (None, 8)
        images = self.sample(64 if labels is None else len(labels), seed=seed, labels=labels)
        if images.dim() == 2:  # points: a scatter plot needs more than 64 of them
            images = self.sample(1000, seed=seed)
        return save_samples(images, path, nrow=nrow)

    def _which(self) -> str:
        """Which weights these are, "ema" or "raw": what the loader recorded, else what the config says."""
        if self.which is not None:
            return self.which
        weights = self.config.get("weights") or {}
        return str(weights.get("which") or ("ema" if (self.config.get("training") or {}).get("ema") else "raw"))

    def _export_config(self, out: Path, model_id: str | None, license: str | None) -> dict[str, Any]:
        """The config this generator was built from, with a fresh weights section for ``out``."""
        previous = self.config.get("weights") or {}
        weights = new_weights_section(
            self.config, which=self._which(), step=previous.get("step", (self.config.get("summary") or {}).get("step")),
            model_id=model_id or previous.get("model_id") or default_model_id(self.config),
            license=license or previous.get("license"), sha256=sha256_file(out / WEIGHTS),
        )
        return {**self.config, "weights": weights}

    def __repr__(self) -> str:
        arch = self.config.get("architecture", {}).get("name", "?")
        return f"PretrainedGenerator(arch={arch!r}, latent_dim={self.latent_dim}, num_classes={self.num_classes}, device={self.device})"
