"""flambeau.amp.custom_fwd / custom_bwd / is_autocast_available, against torch.amp."""

from __future__ import annotations

import numpy as np
import pytest

import flambeau
from flambeau.amp import custom_bwd, custom_fwd, is_autocast_available


def _make_function(lib, amp, cast_inputs, seen):
    """``a @ b`` as a custom Function of ``lib``; records the dtypes and autocast state that
    its forward and backward see in ``seen``."""

    class MatMul(lib.autograd.Function):
        @staticmethod
        @amp.custom_fwd(device_type="cpu", cast_inputs=cast_inputs)
        def forward(ctx, a, pair):
            b = pair["b"]
            seen["fwd"] = (str(a.dtype), str(b.dtype), lib.is_autocast_enabled("cpu"))
            ctx.save_for_backward(a, b)
            return a @ b

        @staticmethod
        @amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            ga = g @ b.t()
            seen["bwd"] = (str(ga.dtype), lib.is_autocast_enabled("cpu"),
                           str(lib.get_autocast_dtype("cpu")))
            return ga, None

    return MatMul


def _run(lib, amp, cast_inputs, region, dtype):
    seen = {}
    fn = _make_function(lib, amp, cast_inputs, seen)
    rng = np.random.default_rng(0)
    a = lib.tensor(rng.standard_normal((3, 4)), dtype=dtype, device="cpu", requires_grad=True)
    b = lib.tensor(rng.standard_normal((4, 2)), dtype=dtype, device="cpu")
    with lib.autocast("cpu", dtype=lib.float16, enabled=region):
        out = fn.apply(a, {"b": b})
    out.float().sum().backward()
    short = {k: tuple(str(x).replace("torch.", "").replace("flambeau.", "") for x in v)
             for k, v in seen.items()}
    return short, str(out.dtype).split(".")[1], a.grad.double().numpy()


@pytest.mark.parametrize("cast_inputs", [None, "float32"])
@pytest.mark.parametrize("region", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float64"])
def test_matches_torch(cast_inputs, region, dtype):
    torch = pytest.importorskip("torch")
    f_cast = None if cast_inputs is None else getattr(flambeau, cast_inputs)
    t_cast = None if cast_inputs is None else getattr(torch, cast_inputs)
    f_seen, f_dtype, f_grad = _run(flambeau, flambeau.amp, f_cast, region,
                                   getattr(flambeau, dtype))
    t_seen, t_dtype, t_grad = _run(torch, torch.amp, t_cast, region, getattr(torch, dtype))
    assert f_seen == t_seen
    assert f_dtype == t_dtype
    np.testing.assert_allclose(f_grad, t_grad, rtol=1e-2, atol=1e-2)


def test_cast_inputs_reaches_into_containers_and_spares_others():
    seen = {}

    class Probe(flambeau.autograd.Function):
        @staticmethod
        @custom_fwd(device_type="cpu", cast_inputs=flambeau.float32)
        def forward(ctx, items, mapping, n):
            seen["dtypes"] = [t.dtype for t in items] + [mapping["k"].dtype]
            seen["n"] = n
            return items[0].clone()

        @staticmethod
        @custom_bwd(device_type="cpu")
        def backward(ctx, g):
            return None, None, None

    half = flambeau.ones(2, dtype=flambeau.bfloat16, device="cpu")
    with flambeau.autocast("cpu"):
        Probe.apply([half, flambeau.ones(2, dtype=flambeau.float64, device="cpu"),
                     flambeau.ones(2, dtype=flambeau.int64, device="cpu")], {"k": half}, 3)
    assert seen["dtypes"] == [flambeau.float32, flambeau.float64, flambeau.int64,
                              flambeau.float32]
    assert seen["n"] == 3


def test_decorators_keep_the_function_name():
    @custom_fwd(device_type="cpu")
    def forward(ctx, x):
        return x

    assert forward.__name__ == "forward"


def test_errors():
    with pytest.raises(TypeError, match="device_type"):
        custom_fwd(lambda ctx, x: x)
    with pytest.raises(TypeError, match="custom_fwd: device_type must be a string"):
        custom_fwd(lambda ctx, x: x, device_type=flambeau.device("cpu"))
    with pytest.raises(TypeError, match="custom_bwd: device_type must be a string"):
        custom_bwd(device_type=None)

    class NoFwd(flambeau.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        @custom_bwd(device_type="cpu")
        def backward(ctx, g):
            return g * 2

    x = flambeau.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="has no custom_fwd decorator"):
        NoFwd.apply(x).sum().backward()


def test_is_autocast_available():
    assert is_autocast_available("cpu") and is_autocast_available("cuda")
    assert not is_autocast_available("tpu")


def test_region_dtype_follows_torch():
    """A region without dtype takes the enclosing one's; a disabled region still sets it."""
    torch = pytest.importorskip("torch")

    def trace(lib):
        out = [lib.get_autocast_dtype("cpu")]
        with lib.autocast("cpu", dtype=lib.float16, enabled=False):
            out.append(lib.get_autocast_dtype("cpu"))
            with lib.autocast("cpu"):
                out += [lib.get_autocast_dtype("cpu"), lib.is_autocast_enabled("cpu")]
                out.append(str((lib.ones(2, 2, device="cpu") @ lib.ones(2, 2, device="cpu")).dtype))
        out.append(lib.get_autocast_dtype("cpu"))
        return [str(x).split(".")[-1] for x in out]

    assert trace(flambeau) == trace(torch) == [
        "bfloat16", "float16", "float16", "True", "float16", "bfloat16"]
