"""torch.hub entry points for the zoo's shipped generators.

    import torch
    G = torch.hub.load("<path or github owner/repo>", "dcgan_fashion_mnist", pretrained=True)
    images = G.sample(16, seed=0)

Each entry returns a ``ganzoo.PretrainedGenerator`` (eval mode, on ``device``). The weights come
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


def dcgan_fashion_mnist(pretrained: bool = True, device: str = "cpu", **kwargs: Any) -> Any:
    """DCGAN (Radford et al. 2016) trained on Fashion-MNIST with the non-saturating loss and an EMA
    generator: 28x28 grayscale clothing images from 100-d noise."""
    return _zoo("dcgan-fashion-mnist", pretrained, device, **kwargs)
