"""Reductions of float16 and bfloat16 tensors accumulate in float32, as torch's: NumPy adds
bfloat16 in bfloat16, where a sum stops growing once its spacing passes the addends."""

from __future__ import annotations

import numpy as np
import pytest

import flambeau

# 4096 values of 1.125 (exact in both dtypes): in bfloat16 arithmetic the running sum gets
# stuck at 512, in float32 it is exactly 4608
VALUES = np.full((64, 64), 1.125, dtype=np.float32)

REDUCTIONS = {
    "sum": lambda t: t.sum(),
    "sum_dim": lambda t: t.sum(0),
    "sum_dims_keepdim": lambda t: t.sum((0, 1), keepdim=True),
    "sum_dtype": lambda t: t.sum(dtype=t.dtype),
    "mean": lambda t: t.mean(),
    "mean_dim": lambda t: t.mean(1),
    "nansum": lambda t: t.nansum(),
    "nanmean": lambda t: t.nanmean(),
    "norm": lambda t: t.norm(),
    "logsumexp": lambda t: t.reshape(-1).logsumexp(0),
    "softmax": lambda t: t.reshape(-1).softmax(0)[:3],
    "log_softmax": lambda t: t.reshape(-1).log_softmax(0)[:3],
    "logcumsumexp": lambda t: t.reshape(-1).logcumsumexp(0)[-1:],
    "norm_p3": lambda t: t.norm(p=3),
    "norm_p3_dim": lambda t: (t * 8).norm(p=3, dim=1),  # float16 cubes would overflow
}


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_half_reductions_accumulate_in_float32(dtype, name):
    fn = REDUCTIONS[name]
    got = fn(flambeau.tensor(VALUES).to(getattr(flambeau, dtype)))
    want = fn(flambeau.tensor(VALUES))  # float32, then rounded once to the half type
    assert got.dtype == getattr(flambeau, dtype)
    np.testing.assert_array_equal(got.float().cpu().numpy(),
                                  want.to(got.dtype).float().cpu().numpy())


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_prod_accumulates_in_float32(dtype):
    x = flambeau.full((64,), 1.01).to(getattr(flambeau, dtype))
    exact = float(x[0].float()) ** 64  # the product of the rounded factors
    got = float(x.prod().float())
    assert abs(got - exact) <= 2 ** -7 * exact  # one rounding of the result, not 63


@pytest.mark.parity
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_sum_matches_torch(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((32, 512)).astype(np.float32)
    f = flambeau.tensor(a).to(getattr(flambeau, dtype))
    t = torch.tensor(a).to(getattr(torch, dtype))
    for ff, tt in ((f.sum(), t.sum()), (f.sum(1), t.sum(1)), (f.mean(0), t.mean(0)),
                   (f.logsumexp(1), t.logsumexp(1))):
        np.testing.assert_allclose(ff.float().cpu().numpy(), tt.float().numpy(), rtol=1e-2,
                                   atol=1e-2)


@pytest.mark.parametrize("fn", [lambda t: t.mean(), lambda t: t.mean(0), lambda t: t.nanmean(),
                                lambda t: flambeau.mean(t, 0, keepdim=True)])
def test_float16_mean_divides_before_rounding(fn):
    """The sum of 100000 threes is past float16's largest value; their mean is not."""
    x = flambeau.full((100000,), 3.0, dtype=flambeau.float16, requires_grad=True)
    m = fn(x)
    assert m.dtype == flambeau.float16 and float(m.reshape(-1)[0]) == 3.0
    m.sum().backward()
    np.testing.assert_allclose(x.grad.float().cpu().numpy(), 1e-5, rtol=1e-2)
