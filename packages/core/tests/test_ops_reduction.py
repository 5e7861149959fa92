"""Reductions through the declarative harness (values, gradcheck, gradgradcheck, parity)."""

import numpy as np
import pytest

import flambeau
from flambeau.testing._cases import REDUCTION_CASES
from flambeau.testing._harness import op_tests

test_gradcheck, test_numpy_reference, test_parity = op_tests(REDUCTION_CASES)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_scans_accumulate_in_float32(dtype):
    # torch accumulates half-precision cumsum/cumprod in float and rounds each element once
    x = flambeau.full((4096,), 0.1, dtype=getattr(flambeau, dtype))
    exact = np.cumsum(np.full(4096, float(x[0].item()), dtype=np.float32))
    got = flambeau.cumsum(x, 0).float().cpu().numpy()
    np.testing.assert_allclose(got, exact, rtol=2 ** -7)
    assert flambeau.cumsum(x, 0).dtype is x.dtype
    p = flambeau.cumprod(flambeau.full((8,), 1.5, dtype=x.dtype), 0)
    np.testing.assert_allclose(p.float().cpu().numpy(), 1.5 ** np.arange(1, 9), rtol=2 ** -7)
