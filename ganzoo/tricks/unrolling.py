"""The unrolled GAN: the generator plays against where the discriminator is about to be."""
from __future__ import annotations

from ..contracts import Trick


class Unroll(Trick):
    """Unrolled GAN: G steps against D advanced k updates, then D is put back (Metz et al. 2017).

    Before each generator step the engine advances D ``k`` more updates, each on a fresh real
    batch and fresh fakes with D's usual loss, extra terms and optimizer; the generator's loss is
    taken against that advanced D, and D, its optimizer state and every buffer are then restored
    exactly (the engine's generic look-ahead, ``StepHooks.lookahead_steps``). A generator that
    collapses onto the mode D currently favours is punished by D's imminent reply, which is what
    spreads it over the modes. This is the first-order variant: the generator's gradient does not
    flow back through D's k updates (the paper's full version differentiates through them; most
    reimplementations ship this one). Each step costs k extra D updates and k extra real batches
    per process. Default k=5 (the paper compares several unrolling depths, up to 10 steps).
    """

    paper = "Metz, Poole, Pfau, Sohl-Dickstein 2017, Unrolled Generative Adversarial Networks, ICLR. arXiv:1611.02163"

    def __init__(self, k: int = 5) -> None:
        super().__init__()
        if k < 1:
            raise ValueError(f"k must be >= 1 (the number of discriminator updates to look ahead), got {k}")
        self.k = k

    def lookahead_steps(self) -> int:
        return self.k
