"""flambeau.testing.make_tensor: ranges, dtypes, layouts and errors as torch.testing's."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flambeau
from flambeau.testing import make_tensor

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
          "float32", "float64"]
DEFAULT_RANGES = {"bool": (0, 1), "uint8": (0, 9), "int8": (-9, 9), "int16": (-9, 9),
                  "int32": (-9, 9), "int64": (-9, 9)}


@pytest.mark.parametrize("name", DTYPES)
def test_default_ranges(name):
    flambeau.manual_seed(0)
    t = make_tensor(4000, dtype=getattr(flambeau, name), device="cpu")
    assert t.dtype is getattr(flambeau, name) and t.shape == (4000,)
    values = t.double().numpy()
    if name in DEFAULT_RANGES:  # integers: every value of the range is drawn
        lo, hi = DEFAULT_RANGES[name]
        assert set(np.unique(values)) == set(range(lo, hi + 1))
    else:
        assert values.min() >= -9 and values.max() <= 9 and values.min() < -8.5
        assert values.max() > 8.5 and len(np.unique(values)) > 100


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3), low=st.integers(-50, 50),
       width=st.integers(1, 50), name=st.sampled_from(["int16", "int64", "float32", "float64"]))
def test_shapes_and_bounds(shape, low, width, name):
    t = make_tensor(shape, dtype=getattr(flambeau, name), device="cpu", low=low,
                    high=low + width)
    assert tuple(t.shape) == tuple(shape)
    values = t.double().numpy()
    assert np.all(values >= low) and np.all(values < low + width)
    assert tuple(make_tensor(*shape, dtype=flambeau.float32, device="cpu").shape) == tuple(shape)


def test_bounds_are_clamped_to_the_dtype():
    flambeau.manual_seed(0)
    t = make_tensor(2000, dtype=flambeau.int8, device="cpu", low=-1000, high=1000)
    assert t.min().item() >= -128 and t.max().item() <= 127 and t.min().item() < -100
    t = make_tensor(100, dtype=flambeau.uint8, device="cpu", low=-5, high=3)
    assert set(np.unique(t.numpy())) <= {0, 1, 2}


def test_layout_grad_and_zeros():
    t = make_tensor(3, 4, dtype=flambeau.float32, device="cpu", noncontiguous=True)
    assert not t.is_contiguous() and t.shape == (3, 4)
    assert make_tensor(1, dtype=flambeau.float32, device="cpu", noncontiguous=True).is_contiguous()
    t = make_tensor(2, 3, dtype=flambeau.float64, device="cpu", requires_grad=True)
    assert t.requires_grad and t.is_leaf
    ints = make_tensor(50, dtype=flambeau.int64, device="cpu", low=0, high=1, exclude_zero=True)
    assert ints.tolist() == [1] * 50
    tiny = make_tensor(50, dtype=flambeau.float32, device="cpu", low=0, high=1e-30,
                       exclude_zero=True)
    assert bool((tiny > 0).all())
    with pytest.warns(FutureWarning, match="low==high"):
        assert make_tensor(3, dtype=flambeau.float32, device="cpu", low=1, high=1).tolist() == \
            [1.0] * 3


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(low=2, high=1), ValueError, "`low` must be less than `high`, but got 2 >= 1"),
    (dict(low=float("nan")), ValueError, "cannot be NaN"),
    (dict(dtype=flambeau.int64, requires_grad=True), ValueError, "not supported for boolean"),
    (dict(noncontiguous=True, memory_format=flambeau.channels_last), ValueError,
     "mutually exclusive"),
    (dict(dtype=flambeau.bool, low=5), ValueError, "must be less than"),
    (dict(dtype=flambeau.int32, low=3, high=3), ValueError, "must be less than"),
    (dict(dtype="float32"), TypeError, "dtype must be a flambeau dtype"),
])
def test_errors_as_torch(kwargs, error, match):
    args = dict(dtype=flambeau.float32, device="cpu")
    args.update(kwargs)
    with pytest.raises(error, match=match):
        make_tensor((2, 2), **args)


def test_same_errors_as_torch():
    torch = pytest.importorskip("torch")
    from torch.testing import make_tensor as torch_make

    for kwargs in (dict(low=2, high=1), dict(high=float("nan")),
                   dict(dtype="int64", requires_grad=True), dict(dtype="bool", low=5)):
        dtype = kwargs.pop("dtype", "float32")
        with pytest.raises(ValueError):
            torch_make((2,), dtype=getattr(torch, dtype), device="cpu", **kwargs)
        with pytest.raises(ValueError):
            make_tensor((2,), dtype=getattr(flambeau, dtype), device="cpu", **kwargs)
