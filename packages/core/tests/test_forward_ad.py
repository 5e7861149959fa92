"""flambeau.autograd.forward_ad against torch.autograd.forward_ad."""

import numpy as np
import pytest

import flambeau
import flambeau.autograd.forward_ad as fwAD
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

# functions of two float64 tensors of shape (3, 4), written once for both libraries
FUNCS = {
    "sin_mul": lambda lib, a, b: (a * b).sin(),
    "matmul_softmax": lambda lib, a, b: (a @ b.T).softmax(-1),
    "sum_exp_pow": lambda lib, a, b: (a.exp() * b ** 2).sum(0),
    "where_max": lambda lib, a, b: lib.where(a > 0, a * 3, b.tanh()).amax(1),
    "view_index": lambda lib, a, b: a.reshape(4, 3)[1:, ::2] * b.t()[1:, ::2],
}


def _inputs(lib, seed):
    rng = np.random.default_rng(seed)
    return [lib.tensor(rng.standard_normal((3, 4))) for _ in range(4)]  # a, b, ta, tb


def _np(t):
    return None if t is None else t.detach().cpu().numpy()


def _jvp(lib, mod, name, seed):
    a, b, ta, tb = _inputs(lib, seed)
    with mod.dual_level():
        y = FUNCS[name](lib, mod.make_dual(a, ta), mod.make_dual(b, tb))
        primal, tangent = mod.unpack_dual(y)
    return _np(primal), _np(tangent)


@needs_torch
@pytest.mark.parametrize("name", sorted(FUNCS))
def test_tangents_match_torch(name):
    ours = _jvp(flambeau, fwAD, name, 1)
    theirs = _jvp(torch, torch.autograd.forward_ad, name, 1)
    for mine, ref in zip(ours, theirs):
        np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-12)


def test_tangent_is_finite_difference_of_the_function():
    a, b, ta, tb = _inputs(flambeau, 2)
    f = FUNCS["sum_exp_pow"]
    with fwAD.dual_level():
        tangent = fwAD.unpack_dual(f(flambeau, fwAD.make_dual(a, ta),
                                     fwAD.make_dual(b, tb))).tangent
    eps = 1e-6
    fd = (f(flambeau, a + eps * ta, b + eps * tb) - f(flambeau, a - eps * ta, b - eps * tb))
    np.testing.assert_allclose(_np(tangent), _np(fd) / (2 * eps), rtol=1e-6)


def test_dual_of_a_tensor_requiring_grad_keeps_its_backward_graph():
    w = flambeau.tensor([1.0, 2.0], requires_grad=True)
    x = flambeau.tensor([3.0, 4.0])
    with fwAD.dual_level():
        dw = fwAD.make_dual(w, flambeau.tensor([1.0, 1.0]))
        dx = fwAD.make_dual(x, flambeau.tensor([1.0, 0.0]))
        primal, tangent = fwAD.unpack_dual(dw * dx)
        # d(w x) = x dw + w dx = [3, 4] + [1, 0]
        np.testing.assert_allclose(_np(tangent), [4.0, 4.0])
        assert primal.requires_grad and tangent.requires_grad  # both differentiable in w
        assert fwAD.unpack_dual(primal).tangent is None
        tangent.sum().backward()  # d/dw sum(x + w * [1, 0]) = [1, 0] + ... = dx
        np.testing.assert_allclose(_np(w.grad), [1.0, 0.0])


def test_unpack_of_a_dual_gives_its_own_tangent_and_a_tangent_free_primal():
    x = flambeau.tensor([1.0, 2.0])
    tangent = flambeau.tensor([0.5, 0.5])
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, tangent)
        assert dual._base is x
        primal, t = fwAD.unpack_dual(dual)
        assert t is tangent
        assert not primal.requires_grad
        assert fwAD.unpack_dual(primal).tangent is None
        assert fwAD.unpack_dual(x).tangent is None  # the original is not dual
        assert fwAD.unpack_dual(dual > 1).tangent is None  # not differentiable
        assert fwAD.unpack_dual(dual.detach()).tangent is None
        zero = fwAD.unpack_dual(dual * 0).tangent
        np.testing.assert_allclose(_np(zero), [0.0, 0.0])
        with flambeau.no_grad():  # documented: unrecorded operations lose the tangent
            assert fwAD.unpack_dual(dual * 3).tangent is None
    assert fwAD.unpack_dual(dual).tangent is None  # the level is gone
    assert not dual.requires_grad  # and with it the recording forward AD needed


def test_levels_enter_exit_and_refuse_nesting():
    assert fwAD.enter_dual_level() == 0
    with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
        fwAD.enter_dual_level()
    with pytest.raises(RuntimeError, match="dual level 1 is not active"):
        fwAD.exit_dual_level(level=1)
    fwAD.exit_dual_level(level=0)
    with pytest.raises(RuntimeError, match="exit_dual_level: no dual level is active"):
        fwAD.exit_dual_level()
    with fwAD.dual_level() as level:
        assert level == 0
    assert fwAD.enter_dual_level() == 0  # the context manager left its level
    fwAD.exit_dual_level()


def test_make_dual_errors():
    x = flambeau.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="no level exists, make sure to enter_dual_level"):
        fwAD.make_dual(x, x)
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match=r"Tensor is of size \[2\] while the given "
                                               r"forward gradient is of size \[3\]"):
            fwAD.make_dual(x, flambeau.ones(3))
        with pytest.raises(ValueError, match="Expected primal to be floating point or "
                                             "complex, but got: flambeau.int64"):
            fwAD.make_dual(x.long(), x.long())
        with pytest.raises(ValueError, match="Expected tangent to be floating point"):
            fwAD.make_dual(x, x.long())
        with pytest.raises(TypeError, match="make_dual: expected Tensors, got list"):
            fwAD.make_dual(x, [1.0, 2.0])
        dual = fwAD.make_dual(x, x)
        with pytest.raises(RuntimeError, match="already has a forward gradient"):
            fwAD.make_dual(dual, x)
        with pytest.raises(RuntimeError, match="unpack_dual: dual level 3 is not active"):
            fwAD.unpack_dual(dual, level=3)


def test_dual_tensors_are_not_kept_alive_by_the_level():
    import gc
    import weakref

    with fwAD.dual_level():
        dual = fwAD.make_dual(flambeau.ones(2), flambeau.ones(2))
        ref = weakref.ref(dual)
        del dual
        gc.collect()
        assert ref() is None
        assert not fwAD._active[0].duals


@needs_torch
@pytest.mark.parametrize("name", ["split", "sort", "complex_abs", "inplace_into_clone"])
def test_more_functions_match_torch(name):
    # several outputs (one of them integer), complex intermediates, in-place ops on a copy
    funcs = {
        "split": lambda lib, d: d.split(2),
        "sort": lambda lib, d: d.sort(descending=True),
        "complex_abs": lambda lib, d: ((d * (1 + 2j)).exp() * d).abs(),
        "inplace_into_clone": lambda lib, d: (lambda c: (c[1:].mul_(3), c.exp_())[1])(
            d.clone()),
    }
    results = []
    for lib, mod in ((flambeau, fwAD), (torch, torch.autograd.forward_ad)):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64)
        t = lib.tensor([1.0, 0.5, -1.0], dtype=lib.float64)
        with mod.dual_level():
            y = funcs[name](lib, mod.make_dual(x, t))
            results.append([tuple(_np(v) for v in mod.unpack_dual(o))
                            for o in (y if isinstance(y, tuple) else (y,))])
    for (fp, ft), (tp, tt) in zip(*results, strict=True):
        np.testing.assert_allclose(fp, tp)
        if tt is None:
            assert ft is None
        else:
            np.testing.assert_allclose(ft, tt, rtol=1e-12)


def test_in_place_write_into_a_dual_is_refused_when_a_tangent_is_read():
    # torch carries the tangent through the write; the double-vjp emulation cannot, and a
    # stale tangent would be silently wrong
    for write in (lambda d, x: d.mul_(2), lambda d, x: d[1:].zero_(), lambda d, x: x.add_(1)):
        x = flambeau.tensor([1.0, 2.0, 3.0])
        with fwAD.dual_level():
            d = fwAD.make_dual(x, flambeau.ones(3))
            y = d * 2
            write(d, x)
            for read in (d, y):
                with pytest.raises(RuntimeError, match="modified by an in-place operation "
                                                       "after make_dual"):
                    fwAD.unpack_dual(read)
        # leaving the level after such a write works, and the level is gone
        assert fwAD.unpack_dual(d).tangent is None
