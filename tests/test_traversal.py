"""Latent traversal of any generator: its noise values z1..zN (InfoGAN's codes: test_arch_infogan.py)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import ganzoo
from ganzoo.errors import ConfigError
from ganzoo.traversal import traverse

from conftest import run_cli

ZOO_DCGAN = "dcgan-fashion-mnist"  # shipped in model_cards/, loads without the network


def tiles(png, rows: int, cols: int, size: int = 28, pad: int = 2) -> np.ndarray:
    """The grid's tiles as [rows, cols, size, size] grey levels."""
    with Image.open(png) as img:
        pixels = np.asarray(img.convert("L"), dtype=np.int16)
    step = size + pad
    return np.stack([
        np.stack([pixels[pad + r * step : pad + r * step + size, pad + c * step : pad + c * step + size] for c in range(cols)])
        for r in range(rows)
    ])


def test_zoo_dcgan_sweeps_one_noise_value_with_the_others_fixed() -> None:
    G = ganzoo.load(ZOO_DCGAN)
    seen = []
    hook = G.generator.register_forward_pre_hook(lambda m, args: seen.append(args[0].clone()))
    grid = G.traverse("z17", steps=5, rows=3, seed=2)
    hook.remove()
    assert grid.shape == (15, 1, 28, 28)
    z = seen[0].view(3, 5, -1)
    torch.testing.assert_close(z[:, :, 16], torch.linspace(-1, 1, 5).expand(3, 5))  # z17 is index 16
    others = torch.cat([z[:, :, :16], z[:, :, 17:]], dim=2)
    assert torch.equal(others, others[:, :1].expand_as(others))
    assert torch.equal(traverse(G, 17, steps=5, rows=3, seed=2), grid)  # by 1-based position too


def test_cli_traverse_of_a_zoo_dcgan_noise_value(tmp_path, capsys) -> None:
    png = tmp_path / "z17.png"
    code, out, err = run_cli(["traverse", ZOO_DCGAN, "--code", "z17", "--steps", "6", "--rows", "4", "--out", str(png)], capsys)
    assert code == 0, err
    assert "traversal of z17" in out
    grid = tiles(png, rows=4, cols=6)
    assert (np.abs(grid[:, 0] - grid[:, -1]).max(axis=(1, 2)) > 0).all()  # along a row, the image changes
    assert all(np.abs(grid[0, 0] - grid[r, 0]).max() > 0 for r in range(1, 4))  # each row is another latent


@pytest.mark.parametrize("unknown", ["z999", "c9"])
def test_cli_traverse_of_an_unknown_code_is_a_one_line_error(unknown: str, tmp_path, capsys) -> None:
    png = tmp_path / "x.png"
    code, _, err = run_cli(["traverse", ZOO_DCGAN, "--code", unknown, "--out", str(png)], capsys)
    assert code == 1
    assert err.strip().splitlines() == [f"error: unknown latent code {unknown!r}; this generator has z1..z100"]
    assert not png.exists()


@pytest.mark.parametrize(("end", "value"), [("--high", "nan"), ("--low", "-inf")])
def test_cli_traverse_refuses_an_end_that_is_not_a_finite_number(end: str, value: str, tmp_path, capsys) -> None:
    png = tmp_path / "x.png"
    code, _, err = run_cli(["traverse", ZOO_DCGAN, "--code", "z1", end, value, "--out", str(png)], capsys)
    assert code == 1 and err.count("\n") == 1 and "the sweep's ends must be finite numbers" in err
    assert not png.exists()


def test_short_runs_of_codes_are_listed_in_full() -> None:
    g = ganzoo.create("dcgan", latent_dim=3, g_width=8, d_width=8).generator
    with pytest.raises(ConfigError, match=r"has z1, z2, z3$"):
        traverse(g, "z4")


def test_conditional_generator_traverses_noise_with_labels_fixed_per_row() -> None:
    g = ganzoo.create("cgan", channels=1, image_size=28, num_classes=10, g_width=8, d_width=8).generator
    seen = []
    hook = g.register_forward_pre_hook(lambda m, args: seen.append((args[0].clone(), args[1].clone())))
    grid = traverse(g, "z3", steps=4, rows=3, labels=torch.tensor([1, 5, 7]))
    hook.remove()
    assert grid.shape == (12, 1, 28, 28)
    z, y = seen[0]
    assert y.tolist() == [1] * 4 + [5] * 4 + [7] * 4
    torch.testing.assert_close(z.view(3, 4, -1)[:, :, 2], torch.linspace(-1, 1, 4).expand(3, 4))
