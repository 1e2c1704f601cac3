"""Feature matching: the generator matches statistics of the discriminator's features."""
from __future__ import annotations

from torch import Tensor

from ..contracts import Side, StepContext, Trick


class FeatureMatching(Trick):
    """Feature matching: G term ||E f(x) - E f(G(z))||^2 (Salimans et al. 2016).

    f is the discriminator's penultimate features (``DOut.features``). The paper trains G on this
    objective *instead of* the adversarial one; here it is added to the loss's generator term
    with ``weight``, so it composes with every loss (the real-data statistics are a fixed target:
    no gradient flows into the real side). Needs the real side in the generator step.
    """

    g_uses_real = True
    paper = "Salimans, Goodfellow, Zaremba, Cheung, Radford, Chen 2016, Improved Techniques for Training GANs, NeurIPS. arXiv:1606.03498"

    def __init__(self, weight: float = 1.0) -> None:
        super().__init__()
        if weight < 0:
            raise ValueError(f"weight must be >= 0, got {weight}")
        self.weight = float(weight)

    def terms(self, side: Side, ctx: StepContext) -> dict[str, Tensor]:
        if side != "g":
            return {}
        if ctx.real is None or ctx.real.features is None or ctx.fake.features is None:
            raise RuntimeError("feature matching needs discriminator features of both sides in the generator step")
        target = ctx.real.features.detach().float().flatten(1).mean(0)
        mean = ctx.fake.features.float().flatten(1).mean(0)
        return {"feature_matching": self.weight * (target - mean).pow(2).sum()}
