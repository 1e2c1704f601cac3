"""torch.hub entry points for the zoo's shipped generators.

    import torch
    G = torch.hub.load("<path or github owner/repo>", "dcgan_fashion_mnist", pretrained=True)
    images = G.sample(16, seed=0)

There is one entry per model in ``model_cards/`` (``torch.hub.list`` names them; ``ganzoo zoo``
describes them), written by ``benchmarks/zoo/sync.py`` and checked by tests/test_zoo.py. Each entry
returns a ``ganzoo.PretrainedGenerator`` (eval mode, on ``device``). The weights come
from the checkout's ``model_cards/<model-id>/`` folder, else from the Hub (see ``ganzoo.load``).
``pretrained=False`` returns the same architecture, untrained, built from the shipped config.
A checkout that was never pip-installed works as well: ganzoo then reads its built-in plugins from
the checkout's pyproject.toml (see ganzoo/registry.py).
"""
from __future__ import annotations

from typing import Any

dependencies = ["torch", "safetensors", "huggingface_hub", "httpx2", "click", "PIL", "ganzoo"]


def _zoo(model_id: str, pretrained: bool, device: str, **kwargs: Any) -> Any:
    import ganzoo  # torch.hub imports this file before checking `dependencies`: import on use
    from ganzoo.loading import rebuild_model
    from ganzoo.pretrained import PretrainedGenerator

    if pretrained:
        return ganzoo.load(model_id, device=device, **kwargs)
    config = ganzoo.load_config(model_id)
    model = rebuild_model(config)
    return PretrainedGenerator(model.generator, config).to(device)


# -- zoo entries: generated from model_cards/ by benchmarks/zoo/sync.py; do not edit --
def aae_fashion_mnist(pretrained: bool = True, device: str = "cpu", **kwargs: Any) -> Any:
    """aae + non-saturating trained on fashion-mnist: 1x28x28 samples from 8-d noise
    (EMA generator, step 28125; FID 68.26 (10,000 vs 10,000)).
    Ships its discriminator: load(..., discriminator=True) or `ganzoo train --init-from` fine-tunes it."""
    return _zoo("aae-fashion-mnist", pretrained, device, **kwargs)


def acgan_fashion_mnist(pretrained: bool = True, device: str = "cpu", **kwargs: Any) -> Any:
    """acgan + non-saturating trained on fashion-mnist: 1x28x28 samples from 100-d noise
    (EMA generator, step 28125; FID 13.20 (10,000 vs 10,000)).
    Ships its discriminator: load(..., discriminator=True) or `ganzoo train --init-from` fine-tunes it."""
    return _zoo("acgan-fashion-mnist", pretrained, device, **kwargs)


def began_fashion_mnist(pretrained: bool = True, device: str = "cpu", **kwargs: Any) -> Any:
    """began + began trained on fashion-mnist: 1x28x28 samples from 64-d noise
    (EMA generator, step 9375; FID 166.60 (10,000 vs 10,000)).
    Needs the plugin package: pip install ganzoo-began.
    Ships its discriminator: load(..., discriminator=True) or `ganzoo train --init-from` fine-tunes it."""
    return _zoo("began-fashion-mnist", pretrained, device, **kwargs)


def bigan_fashion_mnist(pretrained: bool = True, device: str = "cpu", **kwargs: Any) -> Any:
    """bigan + non-saturating trained on fashion-mnist: 1x28x28 samples from 64-d noise
    (EMA generator, step 18750; FID 22.77 (10,000 vs 10,000)).
    Ships its discriminator: load(..., discriminator=True) or `ganzoo train --init-from` fine-tunes it."""
    return _zoo("bigan-fashion-mnist", pretrained, device, **kwargs)


def cgan_fashion_mnist(pretrained: bool = True, device: str = "cpu", **kwargs: Any) -> Any:
    """cgan + non-saturating trained on fashion-mnist: 1x28x28 samples from 100-d noise
    (EMA generator, step 28125; FID 12.21 (10,000 vs 10,000)).
    Ships its discriminator: load(..., discriminator=True) or `ganzoo train --init-from` fine-tunes it."""
    return _zoo("cgan-fashion-mnist", pretrained, device, **kwargs)


def dcgan_fashion_mnist(pretrained: bool = True, device: str = "cpu", **kwargs: Any) -> Any:
    """dcgan + non-saturating trained on fashion-mnist: 1x28x28 samples from 100-d noise
    (EMA generator, step 14062; FID 18.42 (10,000 vs 10,000)).
    Ships its discriminator: load(..., discriminator=True) or `ganzoo train --init-from` fine-tunes it."""
    return _zoo("dcgan-fashion-mnist", pretrained, device, **kwargs)


def hinge_sngan_fashion_mnist(pretrained: bool = True, device: str = "cpu", **kwargs: Any) -> Any:
    """resnet + hinge trained on fashion-mnist: 1x28x28 samples from 128-d noise
    (EMA generator, step 5625; FID 21.88 (10,000 vs 10,000)).
    Ships its discriminator: load(..., discriminator=True) or `ganzoo train --init-from` fine-tunes it."""
    return _zoo("hinge-sngan-fashion-mnist", pretrained, device, **kwargs)


def infogan_fashion_mnist(pretrained: bool = True, device: str = "cpu", **kwargs: Any) -> Any:
    """infogan + non-saturating trained on fashion-mnist: 1x28x28 samples from 74-d noise
    (EMA generator, step 18750; FID 13.18 (10,000 vs 10,000)).
    Ships its discriminator: load(..., discriminator=True) or `ganzoo train --init-from` fine-tunes it."""
    return _zoo("infogan-fashion-mnist", pretrained, device, **kwargs)


def lapgan_fashion_mnist(pretrained: bool = True, device: str = "cpu", **kwargs: Any) -> Any:
    """lapgan + non-saturating trained on fashion-mnist: 1x28x28 samples from 300-d noise
    (EMA generator, step 18750; FID 35.86 (10,000 vs 10,000)).
    Ships its discriminator: load(..., discriminator=True) or `ganzoo train --init-from` fine-tunes it."""
    return _zoo("lapgan-fashion-mnist", pretrained, device, **kwargs)


def lsgan_fashion_mnist(pretrained: bool = True, device: str = "cpu", **kwargs: Any) -> Any:
    """dcgan + least-squares trained on fashion-mnist: 1x28x28 samples from 100-d noise
    (EMA generator, step 28125; FID 18.08 (10,000 vs 10,000)).
    Ships its discriminator: load(..., discriminator=True) or `ganzoo train --init-from` fine-tunes it."""
    return _zoo("lsgan-fashion-mnist", pretrained, device, **kwargs)


def mlp_fashion_mnist(pretrained: bool = True, device: str = "cpu", **kwargs: Any) -> Any:
    """mlp + non-saturating trained on fashion-mnist: 1x28x28 samples from 100-d noise
    (EMA generator, step 28125; FID 69.56 (10,000 vs 10,000)).
    Ships its discriminator: load(..., discriminator=True) or `ganzoo train --init-from` fine-tunes it."""
    return _zoo("mlp-fashion-mnist", pretrained, device, **kwargs)


def rcgan_fashion_mnist(pretrained: bool = True, device: str = "cpu", **kwargs: Any) -> Any:
    """rcgan + non-saturating trained on fashion-mnist: 1x28x28 samples from 100-d noise
    (EMA generator, step 14062; FID 192.83 (10,000 vs 10,000)).
    Ships its discriminator: load(..., discriminator=True) or `ganzoo train --init-from` fine-tunes it."""
    return _zoo("rcgan-fashion-mnist", pretrained, device, **kwargs)


def wgan_fashion_mnist(pretrained: bool = True, device: str = "cpu", **kwargs: Any) -> Any:
    """dcgan + wasserstein trained on fashion-mnist: 1x28x28 samples from 100-d noise
    (EMA generator, step 11250; FID 50.91 (10,000 vs 10,000)).
    Ships its discriminator: load(..., discriminator=True) or `ganzoo train --init-from` fine-tunes it."""
    return _zoo("wgan-fashion-mnist", pretrained, device, **kwargs)


def wgan_gp_fashion_mnist(pretrained: bool = True, device: str = "cpu", **kwargs: Any) -> Any:
    """dcgan + wgan-gp trained on fashion-mnist: 1x28x28 samples from 100-d noise
    (EMA generator, step 7500; FID 31.99 (10,000 vs 10,000)).
    Ships its discriminator: load(..., discriminator=True) or `ganzoo train --init-from` fine-tunes it."""
    return _zoo("wgan-gp-fashion-mnist", pretrained, device, **kwargs)
# -- end of zoo entries --
