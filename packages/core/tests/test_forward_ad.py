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
        with flambeau.no_grad():  # as in torch, no_grad keeps tangents
            np.testing.assert_allclose(_np(fwAD.unpack_dual(dual * 3).tangent), [1.5, 1.5])
    assert fwAD.unpack_dual(dual).tangent is None  # the level is gone
    assert not dual.requires_grad  # forward AD needs no recording


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


def test_make_dual_refuses_a_tangent_on_another_device():
    pytest.importorskip("flambeau_testplugin")  # its testdev device
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="make_dual: the tangent is on testdev:0 but "
                                               "the primal is on cpu; they must be on the "
                                               "same device"):
            fwAD.make_dual(flambeau.ones(2, device="cpu"), flambeau.ones(2, device="testdev"))


def test_a_failing_op_or_body_leaves_no_level_behind():
    from flambeau.autograd import _forward, _function

    with pytest.raises(RuntimeError, match="matmul: shapes"):
        with fwAD.dual_level():
            d = fwAD.make_dual(flambeau.ones(3), flambeau.ones(3))
            d @ flambeau.ones(4)
    assert not _function._forward_ad_on and _forward.level == 0 and not _forward._tracked
    assert d._fw_grad is None
    with pytest.raises(ValueError, match="boom"):
        with fwAD.dual_level():
            raise ValueError("boom")
    assert fwAD.enter_dual_level() == 0  # nothing left active
    fwAD.exit_dual_level()


def test_dual_tensors_are_not_kept_alive_by_the_level():
    import gc
    import weakref

    with fwAD.dual_level():
        dual = fwAD.make_dual(flambeau.ones(2), flambeau.ones(2))
        ref = weakref.ref(dual)
        del dual
        gc.collect()
        assert ref() is None


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


# ---------------------------------------------------------------- real forward mode

# one function per jvp rule (and some ops that take the double-vjp fallback), of float64
# tensors of the given shapes, written once for both libraries
RULE_CASES = {
    "add_broadcast": (lambda lib, a, b: a + b, [(4,), (3, 4)]),
    "add_number": (lambda lib, a: 2.0 + a + 1, [(4,)]),
    "sub": (lambda lib, a, b: a - b - 1.0, [(3, 4), (4,)]),
    "rsub": (lambda lib, a: 2.0 - a, [(4,)]),
    "mul": (lambda lib, a, b: a * b * 3.0, [(3, 4), (3, 1)]),
    "div": (lambda lib, a, b: a / (b.abs() + 1) / 2.0, [(3, 4), (4,)]),
    "rdiv": (lambda lib, a: 2.0 / (a.abs() + 1), [(4,)]),
    "pow_number": (lambda lib, a: a ** 3 + a ** 0, [(4,)]),
    "pow_tensors": (lambda lib, a, b: (a.abs() + 0.5) ** b, [(4,), (4,)]),
    "number_pow": (lambda lib, a: 2.0 ** a, [(4,)]),
    # the exponent's slope is 0 at a zero base (out * log(0) would be nan), as torch's
    "pow_at_zero_base": (lambda lib, a, b: (a * 0) ** (b.abs() + 1) + 0.0 ** (b.abs() + 1),
                         [(4,), (4,)]),
    # ops that skip their Function when no operand requires grad (as dual tensors do not)
    "modulus_rounding": (lambda lib, a, b: lib.fmod(a, b) + lib.remainder(a, 1.5)
                         + lib.div(a, b, rounding_mode="floor")
                         + lib.div(a, 0.7, rounding_mode="trunc"), [(3, 4), (3, 4)]),
    "linalg_values": (lambda lib, a: lib.linalg.svdvals(a) + lib.linalg.eigvalsh(a @ a.mT)
                      + lib.linalg.matrix_norm(a, "nuc"), [(3, 3)]),
    "unary": (lambda lib, a: a.exp() + a.sin() * a.cos() + a.tanh() + a.sigmoid()
              + (a.abs() + 1).log() + (a.abs() + 1).sqrt() + a.abs() + a.neg(), [(3, 4)]),
    "activations": (lambda lib, a: a.relu() + lib.nn.functional.gelu(a)
                    + lib.nn.functional.silu(a) + lib.nn.functional.softplus(a), [(3, 4)]),
    "matmul": (lambda lib, a, b: a @ b, [(2, 3, 4), (4, 5)]),
    "mm_bmm": (lambda lib, a, b: a.mm(b) + a.unsqueeze(0).bmm(b.unsqueeze(0))[0],
               [(3, 4), (4, 2)]),
    "einsum": (lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), [(3, 4), (4, 2)]),
    "sum_mean": (lambda lib, a: a.sum(0) + a.mean(1, keepdim=True) + a.sum(), [(3, 4)]),
    "prod_amax": (lambda lib, a: a.prod(1) + a.amax(1) + a.amin(0)[:3], [(3, 4)]),
    "logsumexp": (lambda lib, a: a.logsumexp(1), [(3, 4)]),
    "softmax": (lambda lib, a: a.softmax(-1) + a.log_softmax(0), [(3, 4)]),
    "views": (lambda lib, a: a.view(4, 3).reshape(2, 6).permute(1, 0).transpose(0, 1).t()
              .unsqueeze(0).squeeze(0).flatten().expand(2, 12), [(3, 4)]),
    # a reshape to the same shape (inner's last step) is an alias: it carries the tangent
    # even where the tangent is laid out unlike the primal (a matmul's, of a transpose)
    "same_shape_reshape": (lambda lib, a, b: lib.inner(a, b) + (a @ b.mT).reshape(3, 3),
                           [(3, 4), (3, 4)]),
    "index": (lambda lib, a: a[1:, ::2] + a[[0, 2]][:, :2] + a[0, 1], [(3, 4)]),
    "cat_stack_split": (lambda lib, a, b: lib.cat([a, b]).split(2)[1]
                        + lib.stack([a, b])[1, :1], [(2, 4), (2, 4)]),
    "where": (lambda lib, a, b: lib.where(a > 0, a, b) + lib.where(b > 0, 1.0, a),
              [(3, 4), (3, 4)]),
    "copies_casts": (lambda lib, a: a.clone().float().double().to(lib.float64).contiguous(),
                     [(3, 4)]),
    "fallback_ops": (lambda lib, a, b: a.clamp(-0.5, 0.5) + a.maximum(b) + a.cumprod(1)
                     + lib.atan2(a, b), [(3, 4), (3, 4)]),
}


def _dual_run(lib, mod, fn, shapes, seed, complex_=False, no_grad=False):
    rng = np.random.default_rng(seed)

    def draw(shape):
        v = rng.standard_normal(shape)
        return v + 1j * rng.standard_normal(shape) if complex_ else v

    xs = [lib.tensor(draw(s)) for s in shapes]
    ts = [lib.tensor(draw(s)) for s in shapes]
    with mod.dual_level():
        duals = [mod.make_dual(x, t) for x, t in zip(xs, ts)]
        if no_grad:
            with lib.no_grad():
                y = fn(lib, *duals)
        else:
            y = fn(lib, *duals)
        return [tuple(_np(v) for v in mod.unpack_dual(o))
                for o in (y if isinstance(y, tuple) else (y,))]


def _assert_same(ours, theirs):
    for (fp, ft), (tp, tt) in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(fp, tp, rtol=1e-10, atol=1e-12)
        assert (ft is None) == (tt is None)
        if tt is not None:
            np.testing.assert_allclose(ft, tt, rtol=1e-9, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("no_grad", [False, True], ids=["grad", "no_grad"])
@pytest.mark.parametrize("name", sorted(RULE_CASES))
def test_each_rule_matches_torch(name, no_grad):
    fn, shapes = RULE_CASES[name]
    if name == "activations":
        pytest.importorskip("flambeau.nn")
    ours = _dual_run(flambeau, fwAD, fn, shapes, 3, no_grad=no_grad)
    theirs = _dual_run(torch, torch.autograd.forward_ad, fn, shapes, 3, no_grad=no_grad)
    _assert_same(ours, theirs)


COMPLEX_CASES = {
    "arith": (lambda lib, a, b: (a * b + a / (b + 3)) ** 2 - a.conj(), [(3,), (3,)]),
    "exp_abs": (lambda lib, a: (a.exp() * a).abs() + a.real * a.imag, [(3,)]),
    "matmul_sum": (lambda lib, a, b: (a @ b).sum(0), [(2, 3), (3, 2)]),
    "number_pow": (lambda lib, a: (-2.0) ** a + 0.0 ** a, [(3,)]),  # a complex log of -2
}


@needs_torch
@pytest.mark.parametrize("name", sorted(COMPLEX_CASES))
def test_complex_tangents_match_torch(name):
    fn, shapes = COMPLEX_CASES[name]
    ours = _dual_run(flambeau, fwAD, fn, shapes, 4, complex_=True)
    theirs = _dual_run(torch, torch.autograd.forward_ad, fn, shapes, 4, complex_=True)
    _assert_same(ours, theirs)


def _in_place_program(lib, mod):
    out = []
    with mod.dual_level():
        x = lib.tensor([1.0, 2.0, 3.0, 4.0], dtype=lib.float64)
        t = lib.tensor([1.0, 0.5, 2.0, -1.0], dtype=lib.float64)
        d = mod.make_dual(x.clone(), t.clone())
        v = d[1:]  # a view: its tangent is the same view of d's
        w = d.view(2, 2)
        v.mul_(3)  # through the view: d's tangent changes too
        d.add_(d * 2)
        d.exp_()
        out += [d, v, w]
        y = lib.zeros(4, dtype=lib.float64)  # no tangent of its own until a dual is written
        y[0] = d[2]
        y.add_(1.0)
        z = lib.ones(4, dtype=lib.float64)
        z.copy_(d)
        z.clamp_(max=50.0)
        f = d.clone()
        f.fill_(2.0)  # a number: the tangent becomes zero
        with lib.no_grad():
            n = d.clone()
            n.sin_()
        out += [y, z, f, n]
        # writes into views of a tensor without a tangent: the base gets one, and views
        # made before (of it, or of another) read theirs from it
        b = lib.zeros(6, dtype=lib.float64)
        v1, v2, whole = b[1:4], b[3:], b.view(2, 3)
        assert mod.unpack_dual(v2).tangent is None
        v1.copy_(d[:3] * 3)
        v2.mul_(2)
        m = lib.zeros(3, 2, dtype=lib.float64)
        m[:, 1] = d[1:]
        out += [b, v1, v2, whole, m]
        return [tuple(_np(p) for p in mod.unpack_dual(o)) for o in out]


@needs_torch
def test_in_place_ops_and_views_update_tangents_as_torch():
    _assert_same(_in_place_program(flambeau, fwAD),
                 _in_place_program(torch, torch.autograd.forward_ad))


def _in_place_layout_program(lib, mod):
    # in-place changes of shape and strides take the tangent along; detach_ drops it;
    # fill_diagonal_ and random fills overwrite (the tangent becomes zero there)
    out = []
    with mod.dual_level():
        x = lib.arange(12.0, dtype=lib.float64).reshape(3, 4)
        t = lib.arange(12.0, dtype=lib.float64).reshape(3, 4) / 4 - 1
        for change in (lambda d: d.t_(), lambda d: d.transpose_(0, 1),
                       lambda d: d.unsqueeze_(1).squeeze_(1),
                       lambda d: d.as_strided_((2, 2), (1, 2)), lambda d: (d * 1).detach_(),
                       lambda d: d.fill_diagonal_(0.5), lambda d: d.uniform_().mul_(0)):
            d = change(mod.make_dual(x.clone(), t.clone()))
            out.append(d.sum(0) * d.sum(0))
        return [tuple(_np(p) for p in mod.unpack_dual(o)) for o in out]


@needs_torch
def test_in_place_layout_changes_detach_and_fills_as_torch():
    _assert_same(_in_place_layout_program(flambeau, fwAD),
                 _in_place_layout_program(torch, torch.autograd.forward_ad))


def test_view_tangent_shares_the_dual_tangent():
    with fwAD.dual_level():
        t = flambeau.zeros(3)
        d = fwAD.make_dual(flambeau.ones(3), t)
        v = d[1:]
        tv = fwAD.unpack_dual(v).tangent
        tv.add_(1.0)  # the view's tangent is a view of d's (which is t itself)
        np.testing.assert_allclose(_np(t), [0.0, 1.0, 1.0])
        assert fwAD.unpack_dual(d).tangent is t


def test_pure_forward_mode_builds_no_graph():
    a = flambeau.tensor([[0.5, -1.0], [2.0, 0.25]])
    with fwAD.dual_level():
        d = fwAD.make_dual(a, flambeau.ones(2, 2))
        assert not d.requires_grad
        # a rule (matmul, softmax), an elementwise rule, the double-vjp fallback (clamp)
        for y in (d @ d, d.softmax(0), d.sin(), d.clamp(0.0, 1.0), d.cumprod(0)):
            primal, tangent = fwAD.unpack_dual(y)
            assert tangent is not None
            assert y.grad_fn is None and not y.requires_grad
            assert tangent.grad_fn is None and not tangent.requires_grad


def test_ops_without_a_rule_take_the_double_vjp_fallback():
    from flambeau._ops import elementwise as ew
    from flambeau._ops import reduction as rd
    from flambeau.autograd import _forward

    with fwAD.dual_level():  # entering installs the rules
        assert _forward._rule(rd.Cumprod) is None and _forward._rule(ew.Clamp) is None
        assert _forward._rule(ew.Mul) is _forward.multilinear
        d = fwAD.make_dual(flambeau.tensor([1.0, 2.0, 3.0]), flambeau.tensor([1.0, 1.0, 1.0]))
        # d cumprod = [1, 1*2 + 1*1, (3 + 2*3 + ... )] : d(x0 x1 x2) = x1 x2 + x0 x2 + x0 x1
        np.testing.assert_allclose(_np(fwAD.unpack_dual(d.cumprod(0)).tangent),
                                   [1.0, 3.0, 11.0])


class _CubeWithJvp(flambeau.autograd.Function):
    calls = []

    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_forward(x)
        ctx.save_for_backward(x)
        ctx.k = k
        return x ** 3 * k

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2 * ctx.k, None

    @staticmethod
    def jvp(ctx, tx, tk):
        _CubeWithJvp.calls.append(tk)
        (x,) = ctx.saved_tensors
        return tx * 3 * x ** 2 * ctx.k


def test_custom_function_jvp_is_used():
    _CubeWithJvp.calls.clear()
    for requires_grad in (False, True):
        x = flambeau.tensor([1.0, 2.0], requires_grad=requires_grad)
        with fwAD.dual_level():
            d = fwAD.make_dual(x, flambeau.tensor([1.0, 0.5]))
            primal, tangent = fwAD.unpack_dual(_CubeWithJvp.apply(d, 2.0))
            np.testing.assert_allclose(_np(primal), [2.0, 16.0])
            np.testing.assert_allclose(_np(tangent), [6.0, 12.0])
            assert primal.requires_grad == requires_grad
    assert _CubeWithJvp.calls == [None, None]  # called each time; a number gets None


def test_custom_function_jvp_in_setup_context_style():
    class Scale(flambeau.autograd.Function):
        @staticmethod
        def forward(x, k):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.k = inputs[1]

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

        @staticmethod
        def jvp(ctx, tx, tk):
            return tx * ctx.k

    with fwAD.dual_level():
        d = fwAD.make_dual(flambeau.tensor([1.0, 2.0]), flambeau.tensor([1.0, -1.0]))
        np.testing.assert_allclose(_np(fwAD.unpack_dual(Scale.apply(d, 4.0)).tangent),
                                   [4.0, -4.0])


@needs_torch
def test_custom_function_jvp_matches_torch():
    results = []
    for lib, mod in ((flambeau, fwAD), (torch, torch.autograd.forward_ad)):
        class Sin(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_forward(x)
                return x.sin()

            @staticmethod
            def backward(ctx, g):
                raise AssertionError("forward AD must not call backward")

            @staticmethod
            def jvp(ctx, t):
                (x,) = ctx.saved_tensors
                return t * x.cos()

        with mod.dual_level():
            d = mod.make_dual(lib.tensor([0.5, 1.5], dtype=lib.float64),
                              lib.tensor([2.0, 1.0], dtype=lib.float64))
            results.append([tuple(_np(v) for v in mod.unpack_dual(Sin.apply(d).exp()))])
    _assert_same(*results)


class _Square(flambeau.autograd.Function):  # no jvp
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g


def test_custom_function_without_jvp_differentiates_through_backward():
    with fwAD.dual_level():
        d = fwAD.make_dual(flambeau.tensor([3.0]), flambeau.tensor([2.0]))
        np.testing.assert_allclose(_np(fwAD.unpack_dual(_Square.apply(d)).tangent), [12.0])


def test_custom_function_errors():
    class OnceSquare(_Square):
        backward = staticmethod(flambeau.autograd.function.once_differentiable(
            _Square.backward))

    class TwoOut(flambeau.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3

        @staticmethod
        def jvp(ctx, t):
            return t * 2

    class OneOut(_Square):
        @staticmethod
        def jvp(ctx, t):
            return t, t

    class BadShape(flambeau.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

        @staticmethod
        def jvp(ctx, t):
            return t.sum()

    with fwAD.dual_level():
        d = fwAD.make_dual(flambeau.tensor([3.0, 1.0]), flambeau.tensor([2.0, 1.0]))
        with pytest.raises(NotImplementedError, match="OnceSquare: you must implement the jvp "
                                                      "function for custom autograd.Function"):
            OnceSquare.apply(d)
        with pytest.raises(RuntimeError, match=r"TwoOut.jvp: expected 2 tangents \(one per "
                                               r"output of forward\)"):
            TwoOut.apply(d)
        with pytest.raises(RuntimeError, match=r"BadShape.jvp: the tangent of an output of "
                                               r"shape \(2,\) has shape \(\); they must match"):
            BadShape.apply(d)
        with pytest.raises(RuntimeError, match=r"OneOut.jvp: expected 1 tangent \(one per "
                                               r"output of forward\), got 2"):
            OneOut.apply(d)
    with pytest.raises(NotImplementedError, match="BadShape: you must implement the jvp "
                                                  "function for custom autograd.Function to "
                                                  "use it with forward mode AD."):
        flambeau.autograd.Function.jvp(BadShape._node_cls.__new__(BadShape._node_cls), None)


def test_forward_ad_off_outside_a_level():
    from flambeau.autograd import _function

    assert not _function._forward_ad_on
    with fwAD.dual_level():
        assert _function._forward_ad_on
        d = fwAD.make_dual(flambeau.ones(2), flambeau.ones(2))
        y = d * 2
    assert not _function._forward_ad_on
    assert fwAD.unpack_dual(y).tangent is None and d._fw_grad is None  # dropped on exit
    with fwAD.dual_level():  # a new level does not see the old tangents
        assert fwAD.unpack_dual(y).tangent is None


@needs_torch
def test_nn_functional_ops_match_torch():
    pytest.importorskip("flambeau.nn")
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(s) for s in ((2, 3, 6, 6), (4, 3, 3, 3), (4,), (5, 4))]
    tangents = [rng.standard_normal(a.shape) for a in arrays]

    def program(lib, mod):
        fn = lib.nn.functional
        with mod.dual_level():
            x, w, b, lw = [mod.make_dual(lib.tensor(a), lib.tensor(t))
                           for a, t in zip(arrays, tangents)]
            h = fn.conv2d(x, w, b, padding=1)
            h = fn.relu(h, inplace=True)
            h = fn.layer_norm(h.mean((2, 3)), (4,))
            h = fn.linear(fn.dropout(h, 0.5, training=False), lw)
            return [tuple(_np(v) for v in mod.unpack_dual(h))]

    _assert_same(program(flambeau, fwAD), program(torch, torch.autograd.forward_ad))


@needs_torch
def test_tangents_are_differentiable_in_tensors_requiring_grad_as_torch():
    # a rule (mul) and two ops taking the double-vjp fallback (clamp, cumprod)
    results = []
    for lib, mod in ((flambeau, fwAD), (torch, torch.autograd.forward_ad)):
        w = lib.tensor([0.3, -2.0, 0.7], dtype=lib.float64, requires_grad=True)
        with mod.dual_level():
            d = mod.make_dual(lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64),
                              lib.tensor([1.0, 0.5, -1.0], dtype=lib.float64))
            primal, tangent = mod.unpack_dual((d * w).clamp(-1.0, 1.0).cumprod(0))
            assert tangent.requires_grad
            (tangent * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
        results.append([(_np(primal), _np(tangent)), (_np(w.grad), _np(w.grad))])
    _assert_same(*results)


@needs_torch
def test_func_jvp_takes_forward_mode_and_matches_torch():
    from flambeau.func import _transforms

    def f(lib, x, y):
        return ((x @ y).tanh().softmax(-1) * x.sum()).cumprod(0), x.exp()

    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal((3, 3)) for _ in range(4)]
    outs = []
    for lib, jvp in ((flambeau, flambeau.func.jvp), (torch, torch.func.jvp)):
        x, y, tx, ty = (lib.tensor(a) for a in arrays)
        out, tangent = jvp(lambda a, b, lib=lib: f(lib, a, b), (x, y), (tx, ty))
        outs.append([(_np(o), _np(t)) for o, t in zip(out, tangent)])
    _assert_same(*outs)
    calls = []
    real = _transforms._jvp_dual
    _transforms._jvp_dual = lambda *a: calls.append(a) or real(*a)
    try:
        x = flambeau.ones(2)
        flambeau.func.jvp(lambda v: v * 2, (x,), (x,))
        assert len(calls) == 1  # forward mode
        flambeau.func.jvp(lambda v: v * 2, (x.requires_grad_(),), (x,))
        assert len(calls) == 1  # a primal in a graph: the double-vjp path
    finally:
        _transforms._jvp_dual = real



def test_ops_with_a_zero_gradient_have_a_zero_tangent():
    with fwAD.dual_level():  # round's backward is zeros outside any graph
        d = fwAD.make_dual(flambeau.tensor([3.2, 1.7]), flambeau.tensor([2.0, 1.0]))
        for y in (d.round(), d.sign(), d.floor()):
            np.testing.assert_allclose(_np(fwAD.unpack_dual(y).tangent), [0.0, 0.0])
