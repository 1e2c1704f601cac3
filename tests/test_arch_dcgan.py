"""The DCGAN architecture's critic normalization: what a gradient penalty needs from D."""
from __future__ import annotations

import pytest
import torch

import ganzoo
from ganzoo.contracts import DInput
from ganzoo.errors import ConfigError


def scores_in_training_mode(d_norm: str, x: torch.Tensor) -> torch.Tensor:
    torch.manual_seed(0)
    model = ganzoo.create("dcgan", channels=1, image_size=28, g_width=8, d_width=8, d_norm=d_norm)
    return model.discriminator.train()(DInput(x)).score


@pytest.mark.parametrize("d_norm", ["layer", "none"])
def test_a_critic_without_batch_norm_scores_each_sample_on_its_own(d_norm: str) -> None:
    # A gradient penalty differentiates each sample's score w.r.t. that sample alone; D must not mix the batch.
    x = torch.randn(6, 1, 28, 28)
    alone = torch.cat([scores_in_training_mode(d_norm, x[i : i + 1]) for i in range(len(x))])
    assert torch.allclose(scores_in_training_mode(d_norm, x), alone, atol=1e-5)


def test_the_batch_norm_critic_does_mix_the_batch() -> None:
    x = torch.randn(6, 1, 28, 28)
    alone = torch.cat([scores_in_training_mode("batch", x[i : i + 2]) for i in range(0, len(x), 2)])
    assert not torch.allclose(scores_in_training_mode("batch", x), alone, atol=1e-3)


def test_layer_norm_critic_has_no_batch_norm_and_batch_norm_is_the_default() -> None:
    layer = ganzoo.create("dcgan", d_norm="layer").discriminator
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in layer.modules())
    assert any(isinstance(m, torch.nn.GroupNorm) for m in layer.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in ganzoo.create("dcgan").discriminator.modules())


def test_an_unknown_critic_normalization_is_refused() -> None:
    with pytest.raises(ConfigError, match="d_norm must be one of batch, layer, none"):
        ganzoo.create("dcgan", d_norm="instance")
