"""Forward-mode AD through linear and conv: their jvp rules against torch's tangents."""

import numpy as np
import pytest

import flambeau
import flambeau.autograd.forward_ad as fwAD
from flambeau.autograd import _forward
from flambeau.nn.functional._conv import _Conv
from flambeau.nn.functional._linear import _Linear, _LinearNoBias

SHAPES = {"conv1d": ((2, 3, 7), (4, 3, 3)), "conv2d": ((2, 3, 6, 5), (4, 3, 3, 2)),
          "conv3d": ((1, 2, 4, 4, 3), (3, 2, 2, 2, 2)), "linear": ((5, 2, 4), (3, 4))}


def _tangents(lib, mod, op, with_bias, dual_mask):
    rng = np.random.default_rng(11)
    x_shape, w_shape = SHAPES[op]
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape),
              rng.standard_normal(w_shape[:1])]
    fn = getattr(lib.nn.functional, op)
    with mod.dual_level():
        args = [mod.make_dual(lib.tensor(a), lib.tensor(rng.standard_normal(a.shape)))
                if dual else lib.tensor(a) for a, dual in zip(arrays, dual_mask)]
        x, w, b = args
        kwargs = {} if op == "linear" else {"padding": 1, "stride": 2}
        y = fn(x, w, b if with_bias else None, **kwargs)
        primal, tangent = mod.unpack_dual(y)
        return primal.detach().cpu().numpy(), tangent.detach().cpu().numpy()


@pytest.mark.parametrize(("with_bias", "dual_mask"), [
    (True, (1, 1, 1)), (True, (1, 0, 0)), (True, (0, 1, 0)), (True, (0, 0, 1)),
    (False, (1, 1, 0)), (False, (1, 0, 0)), (False, (0, 1, 0))])
@pytest.mark.parametrize("op", sorted(SHAPES))
def test_linear_and_conv_tangents_match_torch(op, with_bias, dual_mask):
    torch = pytest.importorskip("torch")
    ours = _tangents(flambeau, fwAD, op, with_bias, dual_mask)
    theirs = _tangents(torch, torch.autograd.forward_ad, op, with_bias, dual_mask)
    for mine, ref in zip(ours, theirs):
        np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-12)


def test_linear_and_conv_have_jvp_rules():
    with fwAD.dual_level():
        rules = {cls: _forward._rule(cls) for cls in (_Linear, _LinearNoBias, _Conv)}
    assert all(rule is not None for rule in rules.values())  # not the double-vjp fallback
    assert rules[_Linear] is rules[_LinearNoBias]
