"""Label tricks for the log-loss family."""
from __future__ import annotations

from ..contracts import GANModel, Loss, Trick
from ..errors import IncompatibleError


class LabelSmoothing(Trick):
    """One-sided label smoothing: real targets 0.9 instead of 1 (Salimans et al. 2016).

    Only the real side is smoothed; smoothing the fake side too would reinforce D's errors on
    fake samples (section 3.4 of the paper). Needs a loss that provides ``label_smoothing`` (the
    log-loss family: minimax, non-saturating, relativistic, dragan), which reads ``real_label``.
    """

    requires_loss = frozenset({"label_smoothing"})
    paper = "Salimans, Goodfellow, Zaremba, Cheung, Radford, Chen 2016, Improved Techniques for Training GANs, NeurIPS. arXiv:1606.03498"

    def __init__(self, real_label: float = 0.9) -> None:
        super().__init__()
        if not 0.0 < real_label <= 1.0:
            raise ValueError(f"real_label must be in (0, 1], got {real_label}; the paper uses 0.9")
        self.real_label = float(real_label)

    def attach(self, model: GANModel, loss: Loss | None) -> None:
        if loss is None:  # rebuilding for sampling: nothing to smooth
            return
        if not hasattr(loss, "real_label"):
            raise IncompatibleError(f"trick 'label-smoothing' needs a loss with a real_label target; {type(loss).__name__} has none")
        loss.real_label = self.real_label
