"""The pictures a model card shows besides its sample grid, chosen by what the model can do.

``ganzoo export`` writes each one as a PNG under the export's ``figures/`` folder and lists it in
config.json's ``figures`` section (file, title, caption), so the card can be rendered again from
config.json alone, as ``ganzoo push`` does. No picture is chosen by an architecture's name:

- a class-conditional generator (``num_classes > 0``): one noise vector per row, one class per column;
- latent codes beyond the plain noise (``Generator.latent_codes()``: InfoGAN's c1, c2, ...): each
  code swept with the rest of each row's latent held fixed;
- an architecture that ``provides`` "encoder" (BiGAN, AAE): test images above their
  reconstructions G(E(x));
- a generator whose ``stages(z, y)`` names intermediate images (LAPGAN's pyramid levels, RCGAN's
  canvases): those side by side, one sample per row;
- a run that kept sample grids at two or more steps: a few of them side by side (the progression);
- a run with FID measured at two or more steps (``curve.json``: a ``ganzoo bench`` cell writes one
  beside its ``run/``) and its logged losses: the discriminator's loss next to FID over training,
  since WGAN's claim is that its critic's loss tracks sample quality.

A picture that applies but cannot be drawn (no test images, no matplotlib) is left out with a
warning that says why; the export goes on.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw
from torch import Tensor

from .build import PluginSpec, build_dataset
from .contracts import GANModel, Generator
from .engine.grids import image_grid
from .errors import GanzooError
from .evaluation import dataset_split
from .layout import FIGURES, METRICS, SAMPLES_DIR
from .safeio import read_json, write_atomic
from .traversal import traverse

log = logging.getLogger("ganzoo.card_figures")

MAX_BYTES = 500_000  # a card's picture stays under this; larger ones are shrunk
ROWS = 8  # latents (or samples) per picture
SEED = 0  # as samples.png
SWEEP_STEPS = 9  # -1 .. 1 with 0 in the middle
MAX_CLASSES = 20  # columns of the class grid; more classes show the first ones
PROGRESSION_POINTS = 5
PANEL_SIDE = 320  # progression panels larger than this are shrunk to it
CURVE = "curve.json"
STEP_GRID = re.compile(r"step-(\d+)\.png")
NOISE_CODE = re.compile(r"z\d+")  # LatentCode names noise dimensions z1, z2, ...; the rest are structured codes


class Unavailable(GanzooError):
    """A picture that applies to this model cannot be drawn; the message says why."""


@dataclass(frozen=True)
class Figure:
    """One picture of a card: ``figures/<name>.png`` with its heading and what it shows."""

    name: str
    title: str
    caption: str

    @property
    def file(self) -> str:
        return f"{FIGURES}/{self.name}.png"

    def to_json(self) -> dict[str, str]:
        return {"file": self.file, "title": self.title, "caption": self.caption}


@dataclass
class Subject:
    """What the pictures draw on: the exported model (the published generator, with the encoder
    where there is one), its config.json, and the training run it came from, if any."""

    model: GANModel
    config: dict[str, Any]
    run_dir: Path | None = None

    @property
    def generator(self) -> Generator:
        return self.model.generator

    @property
    def is_image(self) -> bool:
        return len(self.config.get("data_shape") or []) == 3


Picture = tuple[Figure, Tensor]  # the figure and its pixels, uint8 HWC


def _seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# -- pictures of the generator ------------------------------------------------------------------
def class_grid(s: Subject) -> list[Picture]:
    """Noise fixed along each row, class fixed down each column."""
    g = s.generator
    if not g.num_classes or not s.is_image:
        return []
    k = min(g.num_classes, MAX_CLASSES)
    z = g.sample_latent(ROWS, generator=_seeded(SEED)).repeat_interleave(k, dim=0)
    y = torch.arange(k, device=z.device).repeat(ROWS)
    shown = f"classes 0 to {k - 1}" + (f" of {g.num_classes}" if k < g.num_classes else "")
    caption = (f"Each row holds one noise vector fixed and each column one class ({shown}, left to right), "
               "so style changes down a column and class along a row.")
    return [(Figure("classes", "Noise per row, class per column", caption), image_grid(g(z, y), nrow=k))]


def code_sweeps(s: Subject) -> list[Picture]:
    """Each structured latent code (those besides the plain noise dimensions) swept on its own."""
    g = s.generator
    codes = [c for c in g.latent_codes() if not NOISE_CODE.fullmatch(c.name)]
    if not codes or not s.is_image:
        return []
    pictures = []
    for c in codes:
        steps = c.size if c.kind == "categorical" else SWEEP_STEPS
        y = g.sample_labels(ROWS, generator=_seeded(SEED + 1))
        images = traverse(g, c.name, steps=steps, rows=ROWS, seed=SEED, labels=y)
        if c.kind == "categorical":
            caption = (f"Column j sets the {c.size}-way categorical code {c.name} to category j (0 to {c.size - 1}, left to right); "
                       "each row holds the rest of one latent (noise and the other codes) fixed.")
        else:
            caption = (f"The continuous code {c.name} swept from -1 to 1 in {steps} steps, left to right; "
                       "each row holds the rest of one latent (noise and the other codes) fixed.")
        name = "code-" + re.sub(r"[^a-z0-9]+", "-", c.name.lower()).strip("-")
        pictures.append((Figure(name, f"Latent code {c.name} ({c.kind})", caption), image_grid(images, nrow=steps)))
    return pictures


def stages(s: Subject) -> list[Picture]:
    """The generator's named intermediate images side by side, one sample per row."""
    g = s.generator
    if not s.is_image:
        return []
    z = g.sample_latent(ROWS, generator=_seeded(SEED))
    named = g.stages(z, g.sample_labels(ROWS, generator=_seeded(SEED + 1)))
    if not named:
        return []
    size = tuple(s.config["data_shape"][1:])
    columns = [F.interpolate(t.float(), size=size, mode="nearest") for t in named.values()]
    grid = torch.stack(columns, dim=1).flatten(0, 1)  # row r: sample r's stages in order
    caption = ("One sample per row, drawn in stages; columns, left to right: " + ", ".join(named)
               + ". Smaller stages are shown enlarged (nearest neighbour), every stage on the samples' scale (-1 black, 1 white), "
               "so a signed one (a residual, an update) shows 0 as mid-grey.")
    return [(Figure("stages", "How a sample is drawn", caption), image_grid(grid, nrow=len(named)))]


def reconstructions(s: Subject) -> list[Picture]:
    """Test images above their reconstructions G(E(x)) (architectures with an encoder)."""
    if "encoder" not in s.model.provides or not s.is_image:
        return []
    x, where = _test_images(s.config, ROWS * ROWS // 2)
    x_hat = s.generator(s.model.encode(x))
    pairs = torch.stack([x.view(-1, ROWS, *x.shape[1:]), x_hat.float().view(-1, ROWS, *x.shape[1:])], dim=1)
    caption = (f"Rows 1, 3, 5 and 7: {where}; the row below each: their reconstructions G(E(x)) through the encoder "
               "and the published generator. After `G = ganzoo.load(...)`, `G.encode(x)` and `G.reconstruct(x)` do the same.")
    return [(Figure("reconstructions", "Test images and their reconstructions G(E(x))", caption), image_grid(pairs.flatten(0, 2), nrow=ROWS))]


def _test_images(config: dict[str, Any], n: int) -> tuple[Tensor, str]:
    """``n`` seeded images of the dataset's test split (or of the dataset itself when it has no
    splits), in [-1, 1], and words saying which."""
    section = config.get("dataset") or {}
    name = str(section.get("name", "?"))
    spec = PluginSpec(name, dict(section.get("args") or {}))
    try:
        test = dataset_split(spec, "test")
        data, _ = build_dataset(test)
        take = min(n, len(data)) // ROWS * ROWS  # whole rows
        if take == 0:
            raise Unavailable(f"the {name} dataset has fewer than {ROWS} images")
        order = torch.randperm(len(data), generator=_seeded(SEED))[:take].sort().values
        x = data.get_batch(order).x.float()
    except (GanzooError, OSError, ValueError) as exc:
        raise Unavailable(f"the {name} test images cannot be read here ({exc})") from None
    return x, f"{take} test images of {name}" if test is not spec else f"{take} images of {name} (it has no test split)"


# -- pictures of the training run ---------------------------------------------------------------
def progression(s: Subject) -> list[Picture]:
    """The run's fixed-noise sample grids at a few steps, first to last."""
    if s.run_dir is None:
        return []
    grids = sorted((int(m.group(1)), p) for p in (s.run_dir / SAMPLES_DIR).glob("step-*.png") if (m := STEP_GRID.fullmatch(p.name)))
    if len(grids) < 2:
        raise Unavailable(f"{s.run_dir} kept a sample grid at {len(grids)} step{'s' if len(grids) != 1 else ''}; "
                          "train with a smaller --sample-every for a picture of training's progress")
    k = min(PROGRESSION_POINTS, len(grids))
    chosen = [grids[i] for i in sorted({round(j * (len(grids) - 1) / (k - 1)) for j in range(k)})]
    try:
        panels = [_labelled(Image.open(path).convert("RGB"), f"step {step}") for step, path in chosen]
    except OSError as exc:
        raise Unavailable(f"a sample grid of {s.run_dir} cannot be read ({exc})") from None
    which = "EMA-averaged" if (s.config.get("training") or {}).get("ema") else "raw"
    steps = ", ".join(str(step) for step, _ in chosen)
    caption = (f"The grid of fixed noise the run drew while training, at steps {steps} (left to right), "
               f"from the {which} generator of that moment.")
    return [(Figure("progression", "Samples over training", caption), _side_by_side(panels))]


def _labelled(panel: Image.Image, label: str) -> Image.Image:
    if max(panel.size) > PANEL_SIDE:
        scale = PANEL_SIDE / max(panel.size)
        panel = panel.resize((max(1, round(panel.width * scale)), max(1, round(panel.height * scale))), Image.LANCZOS)
    out = Image.new("RGB", (panel.width, panel.height + 14), "white")
    ImageDraw.Draw(out).text((2, 1), label, fill="black")
    out.paste(panel, (0, 14))
    return out


def _side_by_side(panels: list[Image.Image], gap: int = 6) -> Tensor:
    width = sum(p.width for p in panels) + gap * (len(panels) - 1)
    out = Image.new("RGB", (width, max(p.height for p in panels)), "white")
    x = 0
    for p in panels:
        out.paste(p, (x, 0))
        x += p.width + gap
    return torch.from_numpy(np.asarray(out).copy())


def critic_curve(s: Subject) -> list[Picture]:
    """The discriminator's logged loss next to FID over training, where the run has both."""
    if s.run_dir is None:
        return []
    curve, protocol = fid_curve(s.run_dir)
    if len(curve) < 2:
        return []
    losses = logged(s.run_dir / METRICS, "d_adv")
    if len(losses) < 2:
        raise Unavailable(f"{s.run_dir / METRICS} logged the discriminator's loss (d_adv) at fewer than two steps")
    try:  # optional dependency (the bench extra): without it the card leaves this plot out
        import matplotlib

        matplotlib.use("Agg")  # files only; no display on servers
        import matplotlib.pyplot as plt  # deferred with matplotlib itself, above
    except ImportError:
        raise Unavailable("matplotlib is not installed (pip install 'ganzoo[bench]')") from None
    loss = str((s.config.get("loss") or {}).get("name", "?"))
    fig, left = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    steps, values = zip(*losses)
    window = max(1, len(values) // 20)
    smooth = np.convolve(values, np.ones(window) / window, mode="valid")
    if window > 1:
        left.plot(steps, values, color="tab:blue", alpha=0.3, linewidth=0.8)
    left.plot(steps[window - 1:], smooth, color="tab:blue", linewidth=1.8)
    left.set_xlabel("generator step")
    left.set_ylabel("discriminator loss (d_adv)", color="tab:blue")
    right = left.twinx()
    right.plot(*zip(*curve), color="tab:red", marker="o")
    right.set_ylabel("FID", color="tab:red")
    left.set_title(f"{loss}: the critic's loss and FID over training")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    buffer.seek(0)
    pixels = torch.from_numpy(np.asarray(Image.open(buffer).convert("RGB")).copy())
    measured = ", ".join(f"{protocol[k]} {label}" for k, label in (("n_generated", "generated"), ("n_real", "real")) if k in protocol)
    smoothing = f"faint, and its moving average over {window} logged values in bold" if window > 1 else "every logged value"
    caption = (f"The discriminator's adversarial loss as logged during training (blue: {smoothing}) "
               f"and FID at {len(curve)} steps (red{'; ' + measured + ' images' if measured else ''}). "
               "For a Wasserstein critic, minus this loss estimates the earth mover's distance between data and model, which "
               "Arjovsky et al. (2017) report falls as samples improve; for other losses the discriminator's loss need not track quality.")
    return [(Figure("critic-vs-fid", "Critic loss and FID over training", caption), pixels)]


def fid_curve(run_dir: Path) -> tuple[list[tuple[int, float]], dict[str, Any]]:
    """(step, FID) points measured over a run's training, and the last point's FID protocol:
    from RUN/curve.json, or the curve.json a ``ganzoo bench`` cell keeps beside its ``run/``."""
    for path in (run_dir / CURVE, run_dir.parent / CURVE if run_dir.name == "run" else None):
        if path is None or not path.is_file():
            continue
        points = read_json(path, "FID curve").get("curve")
        points = [p for p in points if isinstance(p, dict)] if isinstance(points, list) else []
        curve = [(int(p["step"]), float(p["fid"])) for p in points
                 if isinstance(p.get("step"), int) and isinstance(p.get("fid"), (int, float)) and math.isfinite(p["fid"])]
        protocols = [p.get("protocol") for p in points if isinstance(p.get("protocol"), dict)]
        fid_protocol = (protocols[-1].get("fid") if protocols else None) or {}
        return curve, fid_protocol if isinstance(fid_protocol, dict) else {}
    return [], {}


def logged(path: Path, key: str) -> list[tuple[int, float]]:
    """(step, value) of ``key`` in a run's metrics.jsonl; torn or foreign lines are skipped."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict) and isinstance(record.get("step"), int) and isinstance(record.get(key), (int, float)):
                out.append((record["step"], float(record[key])))
    return out


# -- writing them -------------------------------------------------------------------------------
MAKERS: tuple[Callable[[Subject], list[Picture]], ...] = (
    class_grid, code_sweeps, reconstructions, stages, progression, critic_curve,
)


@contextlib.contextmanager
def _evaluating(model: GANModel) -> Iterator[None]:
    """Eval mode (batch norm on its running statistics) and no autograd, restored after."""
    was = {m: m.training for m in model.modules()}
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for m, training in was.items():
            m.train(training)


def write_figures(folder: Path, subject: Subject) -> list[dict[str, str]]:
    """Draw every picture that applies into ``folder/figures/``; returns their config.json entries."""
    entries = []
    with _evaluating(subject.model):
        for make in MAKERS:
            try:
                pictures = make(subject)
            except Unavailable as exc:
                log.warning(f"warning: the card's {make.__name__.replace('_', ' ')} picture is left out: {exc}")
                continue
            for figure, pixels in pictures:
                save_figure(pixels, folder / figure.file)
                entries.append(figure.to_json())
    return entries


def save_figure(pixels: Tensor, path: Path) -> Path:
    """A uint8 HWC picture as a PNG under :data:`MAX_BYTES`, halved in size until it fits."""
    image = Image.fromarray(pixels.cpu().numpy())
    while True:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= MAX_BYTES or min(image.size) < 64:
            break
        image = image.resize((image.width // 2, image.height // 2), Image.LANCZOS)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = buffer.getvalue()
    write_atomic(path, lambda p: p.write_bytes(data))
    return path
