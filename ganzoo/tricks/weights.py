"""Penalties on the players' weights: historical averaging and an adaptive L2 penalty on D."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..contracts import GANModel, Loss, Side, StepContext, Trick


class HistoricalAveraging(Trick):
    """Historical averaging: weight * ||theta - mean of past theta||^2 for both players (Salimans et al. 2016).

    Each player's parameters are pulled towards their own running average over all past steps,
    which damps the oscillations of gradient descent in games. The averages and the step count
    are buffers, so a resumed run continues with the same history. The paper gives no
    coefficient; 0.01 on the plain sum of squares is ganzoo's default. Covers the parameters that
    exist when it is attached, so list it after tricks that add layers.
    """

    paper = "Salimans, Goodfellow, Zaremba, Cheung, Radford, Chen 2016, Improved Techniques for Training GANs, NeurIPS. arXiv:1606.03498"

    def __init__(self, weight: float = 0.01) -> None:
        super().__init__()
        if weight < 0:
            raise ValueError(f"weight must be >= 0, got {weight}")
        self.weight = float(weight)
        self._params: dict[str, list[nn.Parameter]] = {"g": [], "d": []}
        self.register_buffer("count", torch.ones((), dtype=torch.long))

    def attach(self, model: GANModel, loss: Loss | None) -> None:
        if loss is None:  # rebuilding for sampling: the history is not needed
            return
        self._params = {
            "g": [p for p in model.g_parameters() if p.requires_grad],
            "d": [p for p in model.d_parameters() if p.requires_grad],
        }
        for side, params in self._params.items():
            for i, p in enumerate(params):
                self.register_buffer(f"{side}_average_{i}", p.detach().clone())

    def _averages(self, side: str) -> list[Tensor]:
        return [getattr(self, f"{side}_average_{i}") for i in range(len(self._params[side]))]

    def terms(self, side: Side, ctx: StepContext) -> dict[str, Tensor]:
        params = self._params[side]
        if not params:
            return {}
        return {"historical_averaging": self.weight * sum((p - avg).pow(2).sum() for p, avg in zip(params, self._averages(side)))}

    @torch.no_grad()
    def end_step(self, ctx: StepContext, stats: dict[str, float]) -> dict[str, float]:
        self.count += 1
        fraction = 1.0 / float(self.count)  # running mean: avg += (theta - avg) / t
        for side, params in self._params.items():
            if params:
                torch._foreach_lerp_(self._averages(side), [p.detach() for p in params], fraction)
        return {}


class AdaptiveL2(Trick):
    """Adaptive L2 penalty on D: weight decay that rises while D dominates (ganzoo's rule; see below).

    Adds ``coef/2 * sum ||theta_D||^2`` to the discriminator loss. After every step the
    coefficient is multiplied by ``1 + rate`` if D's dominance is above ``target`` and divided by
    it otherwise, clipped to [``minimum``, ``maximum``]. Dominance is the share of (real, fake)
    pairs of the last discriminator batch that D ranks correctly, P(D(x) > D(G(z))): 0.5 when G
    has caught up, 1 when D separates the two perfectly; it needs no threshold, so it works for
    logits, critic values and margins alike (not for energies, where lower means real).

    No single paper defines this rule. It combines L2 regularization of the discriminator
    (one of the regularizers compared by Kurach et al. 2019, "A Large-Scale Study of
    Regularization and Normalization in GANs", ICML, arXiv:1807.04720) with BEGAN's idea of a
    feedback controller that keeps the players in balance (Berthelot et al. 2017, arXiv:1703.10717)
    in place of the hand-tuned "train D less when it wins" schedules of the "GAN hacks"
    practice. The coefficient and the last dominance are buffers, so they resume.
    """

    paper = (
        "ganzoo's rule after Kurach, Lucic, Zhai, Michalski, Gelly 2019, A Large-Scale Study of Regularization and "
        "Normalization in GANs, ICML, arXiv:1807.04720; and Berthelot, Schumm, Metz 2017, BEGAN, arXiv:1703.10717"
    )

    def __init__(
        self, initial: float = 1e-4, target: float = 0.75, rate: float = 0.01, minimum: float = 1e-6, maximum: float = 0.1
    ) -> None:
        super().__init__()
        if not 0.0 < minimum <= initial <= maximum:
            raise ValueError(f"need 0 < minimum <= initial <= maximum, got {minimum}, {initial}, {maximum}")
        if not 0.5 <= target < 1.0:
            raise ValueError(f"target must be in [0.5, 1), got {target}")
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.target, self.rate, self.minimum, self.maximum = float(target), float(rate), float(minimum), float(maximum)
        self.register_buffer("coef", torch.tensor(float(initial)))
        self.register_buffer("dominance", torch.tensor(0.5))

    def terms(self, side: Side, ctx: StepContext) -> dict[str, Tensor]:
        if side != "d":
            return {}
        if ctx.real is not None:
            with torch.no_grad():
                real = ctx.real.score.detach().float().flatten()
                fake = ctx.fake.score.detach().float().flatten()
                self.dominance.copy_((real[:, None] > fake[None, :]).float().mean())
        return {"adaptive_l2": 0.5 * self.coef * sum(p.float().pow(2).sum() for p in ctx.model.d_parameters())}

    @torch.no_grad()
    def end_step(self, ctx: StepContext, stats: dict[str, float]) -> dict[str, float]:
        factor = torch.where(self.dominance > self.target, 1.0 + self.rate, 1.0 / (1.0 + self.rate))
        self.coef.copy_((self.coef * factor).clamp(self.minimum, self.maximum))
        return {"adaptive_l2_coef": float(self.coef), "d_dominance": float(self.dominance)}
