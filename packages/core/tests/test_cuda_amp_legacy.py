"""flambeau.cuda.amp: torch's deprecated CUDA names, usable (and importable) without a GPU."""

from __future__ import annotations

import warnings

import pytest

import flambeau


def test_importable_as_torch_code_does():
    from flambeau.cuda.amp import GradScaler, autocast, custom_bwd, custom_fwd  # noqa: F401

    assert flambeau.cuda.amp.autocast is autocast


def test_autocast_is_the_cuda_region_and_warns():
    with pytest.warns(FutureWarning, match=r"flambeau.amp.autocast\('cuda', args...\)"):
        region = flambeau.cuda.amp.autocast(dtype=flambeau.bfloat16, cache_enabled=False)
    assert (region.device, region.fast_dtype) == ("cuda", flambeau.bfloat16)
    with region:
        assert flambeau.is_autocast_enabled("cuda") and not flambeau.is_autocast_enabled("cpu")
        assert flambeau.get_autocast_dtype("cuda") is flambeau.bfloat16
    assert not flambeau.is_autocast_enabled("cuda")


def test_grad_scaler_keeps_its_options():
    with pytest.warns(FutureWarning, match="GradScaler"):
        scaler = flambeau.cuda.amp.GradScaler(init_scale=8.0, growth_interval=3, enabled=False)
    assert not scaler.is_enabled()
    assert scaler.get_growth_interval() == 3


def test_custom_fwd_bwd_follow_the_cuda_region():
    seen = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)

        class Double(flambeau.autograd.Function):
            @staticmethod
            @flambeau.cuda.amp.custom_fwd
            def forward(ctx, x):
                return x * 2

            @staticmethod
            @flambeau.cuda.amp.custom_bwd
            def backward(ctx, g):
                seen["cuda region"] = flambeau.is_autocast_enabled("cuda")
                return g * 2

    x = flambeau.ones(2, requires_grad=True)
    with flambeau.autocast("cuda"):
        y = Double.apply(x)
    y.sum().backward()
    assert seen["cuda region"] is True
    assert x.grad.tolist() == [2.0, 2.0]
