"""make_grid and save_image."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import flambeau
from flambeau.vision.utils import make_grid, save_image


def test_grid_layout_and_padding():
    images = flambeau.arange(5, dtype=flambeau.float32).reshape(5, 1, 1, 1) + 1
    grid = make_grid(images, nrow=3, padding=1, pad_value=-1)
    assert tuple(grid.shape) == (3, 5, 7)  # 2 rows x 3 columns of 1x1 cells, 1-pixel gaps
    expected = np.full((5, 7), -1.0)
    expected[1, 1], expected[1, 3], expected[1, 5] = 1, 2, 3
    expected[3, 1], expected[3, 3] = 4, 5
    for c in range(3):  # one channel is repeated into three
        np.testing.assert_array_equal(grid.cpu().numpy()[c], expected)


def test_grid_from_list_and_single_image():
    images = [flambeau.full((3, 2, 2), float(i)) for i in range(4)]
    grid = make_grid(images, nrow=2, padding=0)
    np.testing.assert_array_equal(grid.cpu().numpy()[0], [[0, 0, 1, 1], [0, 0, 1, 1],
                                                    [2, 2, 3, 3], [2, 2, 3, 3]])
    single = make_grid(flambeau.ones(3, 4, 5))
    assert tuple(single.shape) == (3, 4, 5)
    with pytest.raises(ValueError, match="every image must have the same shape"):
        make_grid([flambeau.ones(3, 2, 2), flambeau.ones(3, 3, 3)])
    with pytest.raises(ValueError, match=r"expected images of shape \(B, C, H, W\)"):
        make_grid(flambeau.ones(1, 1, 1, 1, 1))


def test_grid_normalize():
    x = flambeau.tensor([[[[0.0, 2.0]]], [[[4.0, 8.0]]]])
    each = make_grid(x, padding=0, normalize=True, scale_each=True).cpu().numpy()[0]
    np.testing.assert_allclose(each, [[0, 1, 0, 1]], atol=1e-5)
    whole = make_grid(x, padding=0, normalize=True).cpu().numpy()[0]
    np.testing.assert_allclose(whole, [[0, 0.25, 0.5, 1]], atol=1e-5)
    ranged = make_grid(x, padding=0, normalize=True, value_range=(0, 4)).cpu().numpy()[0]
    np.testing.assert_allclose(ranged, [[0, 0.5, 1, 1]], atol=1e-5)


def test_save_image(tmp_path):
    x = flambeau.tensor([[[0.0, 0.5]], [[1.0, 0.2]], [[2.0, -1.0]]])
    save_image(x, tmp_path / "x.png")
    pixels = np.asarray(Image.open(tmp_path / "x.png"))
    np.testing.assert_array_equal(pixels, [[[0, 255, 255], [128, 51, 0]]])
    save_image(flambeau.zeros(4, 3, 2, 2), tmp_path / "grid.png", nrow=2, padding=1)
    assert Image.open(tmp_path / "grid.png").size == (7, 7)
