"""The plugin contracts: what an architecture, a loss, a trick and a dataset must provide.

A GAN in ganzoo is an **architecture** (a :class:`GANModel`: generator, discriminator and, where the
family needs them, more networks) trained by a **loss** (:class:`Loss`) with any number of
**tricks** (:class:`Trick`: regularizers and training options). All three are ``nn.Module``
subclasses whose typed constructor arguments *are* their configuration: the engine records those
arguments in ``config.json`` and calls the constructor again to rebuild the model.

One training step of the engine, for every combination::

    views = model.views(batch, z)        # what D sees as real and as fake (a DInput each)
    real, fake = model.critic(views.real), model.critic(views.fake)
    loss.d_loss(real, fake) + terms("d", ctx) of loss, tricks and model   -> discriminator step
    loss.g_loss(real?, fake) + terms("g", ctx) of loss, tricks and model  -> generator step

Families that need more than an image and a score (class labels, a Q head, an encoder, a pyramid)
express it through ``DInput`` fields, ``DOut.extras`` and ``terms``; the loop never branches
on the variant.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar, Iterable, Literal, Sequence

import torch
from torch import Tensor, nn

Side = Literal["d", "g"]
Samples = Tensor | tuple[Tensor, ...]

# Capabilities a dataset can provide and an architecture can require.
IMAGES, POINTS, LABELS = "images", "points", "labels"


@dataclass
class Batch:
    """A batch from a dataset: samples scaled to [-1, 1], and class labels when it has them."""

    x: Tensor
    y: Tensor | None = None

    def to(self, device: torch.device | str, non_blocking: bool = False) -> "Batch":
        return Batch(
            self.x.to(device, non_blocking=non_blocking),
            None if self.y is None else self.y.to(device, non_blocking=non_blocking),
        )

    def __len__(self) -> int:
        return self.x.shape[0]


@dataclass(frozen=True)
class DataSpec:
    """What an architecture needs to know about the data: shape, classes, capabilities."""

    shape: tuple[int, ...]  # (C, H, W) for images, (D,) for points
    num_classes: int
    provides: frozenset[str]

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3

    def architecture_defaults(self) -> dict[str, int]:
        """Values for the architecture arguments the engine fills from the data."""
        values: dict[str, int] = {"num_classes": self.num_classes}
        if self.is_image:
            values.update(channels=self.shape[0], image_size=self.shape[1])
        values["data_dim"] = int(torch.tensor(self.shape).prod())
        return values


class DatasetPlugin:
    """A dataset plugin. Constructor arguments (``data_dir``, ``split``, ...) are its config.

    Subclasses implement ``spec``, ``__len__`` and ``get_batch``; samples come back as float
    tensors scaled to [-1, 1]. Indexing by a whole batch of indices keeps in-memory datasets
    fast and lets the engine shard and resume by index arithmetic alone.
    """

    provides: ClassVar[frozenset[str]] = frozenset()
    paper: ClassVar[str] = ""
    # How model cards name the dataset: "" uses the registered name; the Hugging Face Hub dataset
    # id, when the data is published there, links the card to it.
    pretty_name: ClassVar[str] = ""
    hub_dataset: ClassVar[str | None] = None
    # The Hub licence id model cards declare for weights trained on this data (e.g. "other" for
    # CelebA's non-commercial terms, with their link); None leaves ganzoo's default, apache-2.0.
    license: ClassVar[str | None] = None
    license_link: ClassVar[str | None] = None

    def spec(self) -> DataSpec:  # pragma: no cover - abstract
        raise NotImplementedError

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_batch(self, indices: Tensor) -> Batch:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class DInput:
    """What the discriminator sees for one side of the game.

    ``x`` (and ``z`` where present) are the *samples*: penalties interpolate and differentiate them.
    ``y`` and ``cond`` are conditioning and are held fixed by penalties and input tricks.
    """

    x: Samples  # an image, a point, a latent (AAE), or a tuple of pyramid levels (LAPGAN)
    z: Tensor | None = None  # the latent paired with x (BiGAN / ALI)
    y: Tensor | None = None  # class labels for a conditional discriminator
    cond: Samples | None = None  # other conditioning, e.g. LAPGAN's upsampled coarse image

    @property
    def batch_size(self) -> int:
        first = self.x[0] if isinstance(self.x, tuple) else self.x
        return first.shape[0]

    def samples(self) -> list[Tensor]:
        """The differentiable sample tensors, in a fixed order."""
        parts = list(self.x) if isinstance(self.x, tuple) else [self.x]
        if self.z is not None:
            parts.append(self.z)
        return parts

    def with_samples(self, parts: Sequence[Tensor]) -> "DInput":
        """A copy with the sample tensors replaced (inverse of :meth:`samples`)."""
        parts = list(parts)
        z = parts.pop() if self.z is not None else None
        x: Samples = tuple(parts) if isinstance(self.x, tuple) else parts[0]
        return replace(self, x=x, z=z)

    def detach(self) -> "DInput":
        return self.with_samples([p.detach() for p in self.samples()])


@dataclass
class DOut:
    """The discriminator's verdict on a batch.

    ``score`` is the raw critic output per sample (a logit for the log-loss family, an energy for
    BEGAN). ``features`` are the penultimate features (feature matching reads them); ``extras``
    carries whatever heads a family adds (InfoGAN's Q head, ACGAN's class logits).
    """

    score: Tensor
    features: Tensor | None = None
    extras: dict[str, Tensor] = field(default_factory=dict)


@dataclass
class Views:
    """Both sides of one step, plus whatever the family's auxiliary losses need (codes, latents)."""

    real: DInput
    fake: DInput
    aux: dict[str, Any] = field(default_factory=dict)
    # True when the real view depends on generator-side parameters (BiGAN's E(x), AAE's E(x)):
    # then the generator step scores the real side too.
    real_depends_on_generator: bool = False

    def detach(self) -> "Views":
        """The same views cut from the generator's graph (what the discriminator step sees)."""
        aux = {k: v.detach() if isinstance(v, torch.Tensor) else v for k, v in self.aux.items()}
        return Views(self.real.detach(), self.fake.detach(), aux, self.real_depends_on_generator)


@dataclass(frozen=True)
class TrainDefaults:
    """Optimizer and schedule hints from a paper; ``None`` leaves the choice to the next layer.

    Precedence, lowest first: ganzoo's defaults, the architecture's, the loss's, the user's.
    """

    optimizer: Literal["adam", "rmsprop", "sgd"] | None = None
    lr_g: float | None = None
    lr_d: float | None = None
    betas: tuple[float, float] | None = None
    n_critic: int | None = None

    def over(self, base: "TrainDefaults") -> "TrainDefaults":
        """These defaults laid over ``base``: fields set here win."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return replace(base, **{k: v for k, v in values.items() if v is not None})


GANZOO_DEFAULTS = TrainDefaults(optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999), n_critic=1)


def paper_defaults(arch: "type[GANModel]", loss: "type[Loss]") -> TrainDefaults:
    """What a run of ``arch`` with ``loss`` gets before the user's settings: ganzoo's < the architecture's < the loss's."""
    return loss.train_defaults.over(arch.train_defaults.over(GANZOO_DEFAULTS))


@dataclass(frozen=True)
class LatentCode:
    """One named part of a generator's latent: ``z[:, start:start + size]``."""

    name: str  # "z1", "z2", ... for noise dimensions; InfoGAN's codes are "c1", "c2", ...
    kind: Literal["categorical", "continuous"]
    start: int
    size: int  # number of categories (one-hot width), or 1 for a continuous code


def noise_codes(n: int) -> tuple[LatentCode, ...]:
    """The first ``n`` latent dimensions as continuous noise codes ``z1`` .. ``z{n}``."""
    return tuple(LatentCode(f"z{i + 1}", "continuous", i, 1) for i in range(n))


class Generator(nn.Module):
    """A generator: latent (and labels) in, sample out. This is what ``ganzoo.load`` returns inside.

    Subclasses set ``latent_dim`` (and ``num_classes`` when conditional) and implement ``forward``.
    ``latent_prior = "uniform"`` draws U(-1, 1) noise instead of N(0, 1). A family with structured
    latents (InfoGAN's codes) overrides :meth:`sample_latent` and :meth:`latent_codes`.
    """

    latent_dim: int
    num_classes: int = 0
    latent_prior: ClassVar[Literal["normal", "uniform"]] = "normal"  # uniform: each dimension U(-1, 1)

    def latent_codes(self) -> tuple[LatentCode, ...]:
        """The named parts of the latent that ``ganzoo traverse`` can sweep; by default every
        dimension is a continuous noise code, ``z1`` .. ``z{latent_dim}``."""
        return noise_codes(self.latent_dim)

    def sample_latent(self, n: int, *, generator: torch.Generator | None = None, device: Any = None) -> Tensor:
        device = device if device is not None else _device_of(self)
        if self.latent_prior == "uniform":
            return (torch.rand(n, self.latent_dim, generator=generator) * 2 - 1).to(device)
        return torch.randn(n, self.latent_dim, generator=generator, device="cpu").to(device)

    def describe_latent(self) -> str:
        """What :meth:`sample_latent` draws, in words, for model cards; a family that overrides
        ``sample_latent`` overrides this too."""
        prior = "Uniform(-1, 1)" if self.latent_prior == "uniform" else "standard normal"
        return f"{self.latent_dim}-d {prior}"

    def sample_labels(self, n: int, *, generator: torch.Generator | None = None, device: Any = None) -> Tensor | None:
        if not self.num_classes:
            return None
        device = device if device is not None else _device_of(self)
        return torch.randint(self.num_classes, (n,), generator=generator).to(device)

    def stages(self, z: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        """Named intermediate images of one forward pass, in drawing order, each ``[B, C, h, w]`` in
        [-1, 1] at any size (LAPGAN's pyramid levels, RCGAN's canvases); model cards show them side
        by side. Empty, the default, for a generator that draws in one pass."""
        return {}

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


class Discriminator(nn.Module):
    """A discriminator split into ``features`` and ``head``.

    Tricks that act on the penultimate features (minibatch discrimination, minibatch standard
    deviation, dropout) append modules to ``feature_transforms``; the split is what lets them work
    with every architecture.
    """

    def __init__(self) -> None:
        super().__init__()
        self.feature_transforms = nn.ModuleList()

    def features(self, inp: DInput) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def head(self, h: Tensor, inp: DInput) -> DOut:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, inp: DInput) -> DOut:
        h = self.features(inp)
        raw = h
        for transform in self.feature_transforms:
            h = transform(h)
        out = self.head(h, inp)
        if out.features is None:
            out.features = raw
        return out


@dataclass
class StepContext:
    """What the extra terms and the end-of-step hook may read about the current step.

    In the discriminator step ``views`` are cut from the generator's graph and ``real``/``fake``
    are D's outputs on them; in the generator step ``real`` is None unless the loss, a trick or the
    architecture needs the real side; at the end of a step both are the last discriminator
    step's outputs, detached.
    """

    model: "GANModel"
    views: Views
    real: DOut | None
    fake: DOut
    step: int
    # The mixed-precision loss scale (fp16): penalties that differentiate D's output scale it by
    # this before autograd.grad and divide it out after, as PyTorch's AMP recipe does.
    grad_scale: float = 1.0


class StepHooks(nn.Module):
    """The hooks the engine calls on the loss, every trick and the architecture alike, in that order.

    ``terms`` adds named terms to a side's objective (WGAN-GP's penalty, R1, InfoGAN's mutual
    information, AAE's reconstruction); each is logged as ``<side>_<name>``, so names must be
    unique within a run. ``after_d_step`` runs after every discriminator update (WGAN's weight
    clipping); ``end_step`` once per training step, for state such as BEGAN's k_t, and returns
    values worth logging (``stats`` holds what earlier hooks returned this step).

    ``fp32_only``, when set to a reason, keeps a ``--precision auto`` run in fp32 (for a family
    that bf16 is known to hurt); an explicit ``--precision`` still wins.

    ``lookahead_steps`` asks the engine to lend the generator step a discriminator advanced that
    many more updates (the unrolled GAN): the engine takes them on fresh batches with D's own
    loss, terms and optimizer, computes the generator's loss against that D, then puts back D's
    weights, every hook owner's and the model's buffers, D's optimizer and its loss scaler. The
    largest request among the hook owners wins; 0, the default, lends nothing.
    """

    fp32_only: ClassVar[str] = ""

    def lookahead_steps(self) -> int:
        """Extra discriminator updates the generator step should play against (see above); 0: none."""
        return 0

    def terms(self, side: Side, ctx: StepContext) -> dict[str, Tensor]:
        return {}

    def after_d_step(self, model: "GANModel") -> None:
        pass

    def end_step(self, ctx: StepContext, stats: dict[str, float]) -> dict[str, float]:
        return {}


class GANModel(StepHooks):
    """An architecture plugin: builds the networks of one GAN family from typed arguments.

    Constructor arguments named ``image_size``, ``channels``, ``num_classes`` or ``data_dim`` are
    filled from the dataset when the user does not give them. ``requires`` lists what the dataset
    must provide (``images``, ``points``, ``labels``); ``provides`` lists capabilities that losses
    and tricks may require (e.g. ``conditional``, ``q_head``, ``encoder``).
    """

    requires: ClassVar[frozenset[str]] = frozenset()
    provides: ClassVar[frozenset[str]] = frozenset()
    train_defaults: ClassVar[TrainDefaults] = TrainDefaults()
    paper: ClassVar[str] = ""

    generator: Generator
    discriminator: Discriminator

    def g_parameters(self) -> Iterable[nn.Parameter]:
        """Parameters the generator optimizer updates (an encoder joins them in BiGAN and AAE)."""
        return self.generator.parameters()

    def d_parameters(self) -> Iterable[nn.Parameter]:
        return self.discriminator.parameters()

    def sample_latent(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        return self.generator.sample_latent(n, generator=generator)

    def views(self, batch: Batch, z: Tensor) -> Views:
        """Real and fake inputs of the discriminator; the default is the plain (conditional) GAN."""
        y = batch.y if self.generator.num_classes else None
        return Views(real=DInput(batch.x, y=y), fake=DInput(self.generator(z, y), y=y), aux={"z": z})

    def critic(self, inp: DInput) -> DOut:
        return self.discriminator(inp)

    def encode(self, x: Tensor) -> Tensor:
        """Latents of samples ``x``; a family that lists ``"encoder"`` in ``provides`` implements it."""
        raise NotImplementedError(f"{type(self).__name__} has no encoder")


class Loss(StepHooks):
    """A loss plugin: the adversarial objective of both players.

    ``g_loss`` receives ``real=None`` unless ``g_uses_real`` is set or the architecture's real view
    depends on the generator (then a loss should include its real-side term, e.g. BiGAN's
    encoder is trained through it). State that must survive a resume (BEGAN's k_t) lives in
    buffers, so it rides in the checkpoint.
    """

    requires: ClassVar[frozenset[str]] = frozenset()  # architecture capabilities needed
    provides: ClassVar[frozenset[str]] = frozenset()  # loss capabilities tricks may need
    train_defaults: ClassVar[TrainDefaults] = TrainDefaults()
    g_uses_real: ClassVar[bool] = False
    paper: ClassVar[str] = ""

    def d_loss(self, real: DOut, fake: DOut) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def g_loss(self, real: DOut | None, fake: DOut) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


class Trick(StepHooks):
    """A composable regularizer or training option (spectral norm, R1, DiffAugment, ...).

    ``requires`` names architecture/dataset capabilities, ``requires_loss`` loss capabilities; a
    combination that lacks one is refused before training starts. ``attach`` may modify the
    networks in place (it runs before the optimizers are built, and again when a saved model is
    rebuilt, so weights load into the same structure).
    """

    requires: ClassVar[frozenset[str]] = frozenset()
    requires_loss: ClassVar[frozenset[str]] = frozenset()
    g_uses_real: ClassVar[bool] = False
    paper: ClassVar[str] = ""

    def attach(self, model: GANModel, loss: Loss | None) -> None:
        """Modify networks or the loss in place; ``loss`` is None when rebuilding for sampling."""

    def d_input(self, inp: DInput, step: int) -> DInput:
        """Transform what the discriminator sees (applied to the real and the fake side alike)."""
        return inp


def _device_of(module: nn.Module) -> torch.device:
    for tensor in module.parameters():
        return tensor.device
    for tensor in module.buffers():
        return tensor.device
    return torch.device("cpu")
