"""flambeau.distributions.transforms and constraint_registry: values, Jacobians, inverses,
shapes and gradients, against torch.distributions where torch is installed."""

import math
import pickle

import numpy as np
import pytest

import flambeau
from flambeau.autograd import gradcheck, gradgradcheck
from flambeau.distributions import constraints
from flambeau.distributions import transforms as T
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

F64 = flambeau.float64


def _np(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def _tt(x):
    return torch.tensor(_np(x))


def _x(shape, seed=0, scale=1.0, positive=False):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) * scale
    if positive:
        a = np.abs(a) + 0.5
    return flambeau.tensor(a, dtype=F64)


def _spd(n, batch=(), seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


# name -> (flambeau factory, torch factory (given torch's module), input shape, input kind)
# the factories take the module of transforms (flambeau's T or torch's) so that one
# description serves both libraries
def _cases():
    scale = np.array([2.0, -0.5, 3.0])
    return {
        "exp": (lambda m, t: m.ExpTransform(), (2, 3), "real"),
        "power": (lambda m, t: m.PowerTransform(t([2.5, 0.5, -1.5])), (4, 3), "positive"),
        "power_number": (lambda m, t: m.PowerTransform(3.0), (4, 3), "positive"),
        "sigmoid": (lambda m, t: m.SigmoidTransform(), (2, 3), "real"),
        "softplus": (lambda m, t: m.SoftplusTransform(), (2, 3), "real"),
        "tanh": (lambda m, t: m.TanhTransform(), (2, 3), "real"),
        "affine": (lambda m, t: m.AffineTransform(t([1.0, 2.0, 3.0]), t(scale)), (2, 3), "real"),
        "affine_number": (lambda m, t: m.AffineTransform(1.5, -2.0), (2, 3), "real"),
        "affine_event": (lambda m, t: m.AffineTransform(0.5, t(scale), event_dim=1), (2, 3),
                         "real"),
        "affine_event2": (lambda m, t: m.AffineTransform(0.5, 3.0, event_dim=2), (4, 2, 3),
                          "real"),
        "stick": (lambda m, t: m.StickBreakingTransform(), (2, 3), "real"),
        "corr_cholesky": (lambda m, t: m.CorrCholeskyTransform(), (2, 6), "real"),
        "independent": (lambda m, t: m.IndependentTransform(m.ExpTransform(), 2), (4, 2, 3),
                        "real"),
        "reshape": (lambda m, t: m.ReshapeTransform((2, 3), (3, 2)), (4, 2, 3), "real"),
        "compose": (lambda m, t: m.ComposeTransform([m.ExpTransform(),
                                                     m.AffineTransform(1.0, t(scale))]),
                    (2, 3), "real"),
        "compose_event": (lambda m, t: m.ComposeTransform([
            m.AffineTransform(0.5, 2.0), m.StickBreakingTransform(),
            m.AffineTransform(0.0, t([1.0, 2.0, 3.0, 4.0]))]), (2, 3), "real"),
        "compose_inv": (lambda m, t: m.ComposeTransform([m.SigmoidTransform().inv,
                                                         m.TanhTransform()]), (2, 3), "unit"),
        "cat": (lambda m, t: m.CatTransform([m.ExpTransform(), m.AffineTransform(1.0, 2.0)],
                                            dim=1, lengths=[1, 2]), (4, 3), "real"),
        "cat_event": (lambda m, t: m.CatTransform(
            [m.ExpTransform(), m.IndependentTransform(m.AffineTransform(1.0, 2.0), 1)],
            dim=-1, lengths=[2, 2]), (3, 4), "real"),
        "cat_batch_dim": (lambda m, t: m.CatTransform(
            [m.IndependentTransform(m.ExpTransform(), 1),
             m.IndependentTransform(m.SigmoidTransform(), 1)], dim=0, lengths=[1, 2]),
            (3, 4), "real"),
        "stack": (lambda m, t: m.StackTransform([m.ExpTransform(), m.TanhTransform(),
                                                 m.SigmoidTransform()], dim=1), (4, 3),
                  "real"),
        "identity": (lambda m, t: m.identity_transform, (2, 3), "real"),
        "inverse_exp": (lambda m, t: m.ExpTransform().inv, (2, 3), "positive"),
        "inverse_stick": (lambda m, t: m.StickBreakingTransform().inv, (2, 3), "simplex"),
    }


def _input(kind, shape, seed=0):
    if kind == "positive":
        return _x(shape, seed, positive=True)
    if kind == "unit":
        return flambeau.sigmoid(_x(shape, seed))
    if kind == "simplex":
        return flambeau.softmax(_x(shape, seed), dim=-1)
    return _x(shape, seed)


def _flam(name):
    make, shape, kind = _cases()[name]
    return make(T, lambda v: flambeau.tensor(v, dtype=F64)), _input(kind, shape)


CASES = sorted(_cases())


@needs_torch
@pytest.mark.parametrize("name", CASES)
def test_parity_with_torch(name):
    import torch.distributions.transforms as TT

    make, shape, kind = _cases()[name]
    t = make(T, lambda v: flambeau.tensor(v, dtype=F64))
    tt = make(TT, lambda v: torch.tensor(v, dtype=torch.float64))
    x = _input(kind, shape)
    y = t(x)
    ty = tt(_tt(x))
    np.testing.assert_allclose(_np(y), _np(ty), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(t.inv(y)), _np(tt.inv(ty)), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(_np(t.inv(y)), _np(x), rtol=1e-7, atol=1e-9)
    ladj = t.log_abs_det_jacobian(x, y)
    tladj = tt.log_abs_det_jacobian(_tt(x), ty)
    assert tuple(ladj.shape) == tuple(tladj.shape)
    np.testing.assert_allclose(_np(ladj), _np(tladj), rtol=1e-9, atol=1e-10)
    assert tuple(t.forward_shape(tuple(x.shape))) == tuple(tt.forward_shape(tuple(x.shape)))
    assert tuple(t.inverse_shape(tuple(y.shape))) == tuple(tt.inverse_shape(tuple(y.shape)))
    assert t.bijective == tt.bijective
    assert t.domain.event_dim == tt.domain.event_dim
    assert t.codomain.event_dim == tt.codomain.event_dim
    assert repr(t.domain) == repr(tt.domain).replace("torch.", "flambeau.")
    try:
        tsign = tt.sign
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            t.sign
    else:
        np.testing.assert_array_equal(np.asarray(_np(t.sign)), np.asarray(_np(tsign)))


@needs_torch
@pytest.mark.parametrize("name", ["softmax", "lower_cholesky", "positive_definite", "abs"])
def test_parity_not_bijective(name):
    import torch.distributions.transforms as TT

    make = {"softmax": lambda m: m.SoftmaxTransform(),
            "lower_cholesky": lambda m: m.LowerCholeskyTransform(),
            "positive_definite": lambda m: m.PositiveDefiniteTransform(),
            "abs": lambda m: m.AbsTransform()}[name]
    t, tt = make(T), make(TT)
    x = _x((2, 3, 3), 1)
    y = t(x)
    ty = tt(_tt(x))
    np.testing.assert_allclose(_np(y), _np(ty), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(t.inv(y)), _np(tt.inv(ty)), rtol=1e-8, atol=1e-10)
    assert t.bijective is False
    assert repr(t.codomain) == repr(tt.codomain)
    if name == "lower_cholesky" or name == "positive_definite":
        # a second trip recovers the transform's own output
        np.testing.assert_allclose(_np(t(t.inv(y))), _np(y), rtol=1e-9)


@pytest.mark.parametrize("name", CASES)
def test_gradcheck(name):
    t, x = _flam(name)
    x = x.detach().requires_grad_(True)
    assert gradcheck(lambda v: t(v), (x,))
    if t.log_abs_det_jacobian(x, t(x)).requires_grad:  # constant for affine maps
        assert gradcheck(lambda v: t.log_abs_det_jacobian(v, t(v)), (x,))
    y = t(x).detach().requires_grad_(True)
    assert gradcheck(lambda v: t.inv(v), (y,))


@pytest.mark.parametrize("name", ["exp", "sigmoid", "tanh", "stick", "corr_cholesky",
                                  "softplus", "power"])
def test_gradgradcheck(name):
    t, x = _flam(name)
    x = x.detach().requires_grad_(True)
    assert gradgradcheck(lambda v: t.log_abs_det_jacobian(v, t(v)), (x,))


def test_gradcheck_parameters():
    x = _x((2, 3))
    loc = _x((3,), 1).requires_grad_(True)
    scale = _x((3,), 2, positive=True).requires_grad_(True)

    def f(loc, scale):
        t = T.AffineTransform(loc, scale)
        return t(x) + t.log_abs_det_jacobian(x, t(x))
    assert gradcheck(f, (loc, scale))
    expo = flambeau.tensor([1.5, 0.5, 2.0], dtype=F64, requires_grad=True)
    xp = _x((2, 3), positive=True)

    def g(e):
        t = T.PowerTransform(e)
        return t(xp) + t.log_abs_det_jacobian(xp, t(xp))
    assert gradcheck(g, (expo,))


def test_stick_breaking_jacobian_matches_autograd():
    # the log-det of the square map x -> y[:-1] equals that of the full Jacobian's minor
    x = _x((4,), 3).requires_grad_(True)
    t = T.StickBreakingTransform()
    jac = np.stack([_np(flambeau.autograd.grad(t(x)[i], x)[0]) for i in range(4)])
    expected = np.linalg.slogdet(jac)[1]
    np.testing.assert_allclose(_np(t.log_abs_det_jacobian(x, t(x))), expected, rtol=1e-10)


def test_corr_cholesky_output_is_correlation_factor():
    t = T.CorrCholeskyTransform()
    x = _x((5, 10), 4, scale=2.0)
    y = t(x)
    assert tuple(y.shape) == (5, 5, 5)
    assert bool(constraints.corr_cholesky.check(y).all())
    corr = _np(y @ y.mT)
    np.testing.assert_allclose(np.diagonal(corr, axis1=-2, axis2=-1), 1.0, rtol=1e-12)


def test_cache():
    t = T.ExpTransform(cache_size=1)
    x = flambeau.tensor([1.0, 2.0])
    y = t(x)
    assert t(x) is y
    assert t.inv(y) is x
    y2 = flambeau.tensor([3.0])
    x2 = t.inv(y2)
    assert t(x2) is y2
    # without a cache the values are recomputed
    t0 = T.ExpTransform()
    assert t0(x) is not t0(x)
    # the cache is carried by with_cache and through compositions
    c = T.ComposeTransform([T.ExpTransform(), T.AffineTransform(1.0, 2.0)], cache_size=1)
    assert all(p._cache_size == 1 for p in c.parts)
    yc = c(x)
    assert c.inv(yc) is x
    assert T.ExpTransform().with_cache(1)._cache_size == 1
    e = T.ExpTransform(cache_size=1)
    assert e.with_cache(1) is e
    assert T.AffineTransform(0.0, 1.0).with_cache(1)._cache_size == 1
    assert T.IndependentTransform(T.ExpTransform(), 1).with_cache(1).base_transform._cache_size \
        == 1
    assert T.ExpTransform().inv.with_cache(1)._cache_size == 1


def test_cache_size_error():
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)


def test_with_cache_not_implemented():
    class MyTransform(T.Transform):
        def __init__(self, a, cache_size=0):
            super().__init__(cache_size=cache_size)

    with pytest.raises(NotImplementedError, match="with_cache is not implemented"):
        MyTransform(1).with_cache(1)


def test_inverse_and_equality():
    t = T.ExpTransform()
    assert t.inv.inv is t
    assert t.inv is t.inv  # kept while referenced
    assert t.inv == T.ExpTransform().inv
    assert t == T.ExpTransform() and t != T.SigmoidTransform()
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0)
    assert T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    assert T.AffineTransform(flambeau.tensor([1.0, 1.0]), 2.0) == T.AffineTransform(1.0, 2.0)
    assert T.PowerTransform(2.0) == T.PowerTransform(flambeau.tensor(2.0))
    assert T.PowerTransform(2.0) != T.PowerTransform(3.0)
    c = T.ComposeTransform([T.ExpTransform(), T.TanhTransform()])
    assert c == T.ComposeTransform([T.ExpTransform(), T.TanhTransform()])
    assert c.inv.parts == [T.TanhTransform().inv, T.ExpTransform().inv]
    assert c.inv.inv is c
    assert repr(t.inv) == "_InverseTransform(ExpTransform())"
    assert t.inv.domain is t.codomain and t.inv.codomain is t.domain
    with pytest.raises(TypeError):
        hash(t)


def test_pickle_keeps_the_transform():
    t = T.AffineTransform(1.0, 2.0)
    t.inv  # a weak reference must not break pickling
    t2 = pickle.loads(pickle.dumps(t))
    assert t2 == t


def test_repr():
    assert repr(T.ExpTransform()) == "ExpTransform()"
    assert repr(T.IndependentTransform(T.ExpTransform(), 1)) == \
        "IndependentTransform(ExpTransform(), 1)"
    assert repr(T.ComposeTransform([T.ExpTransform(), T.AffineTransform(1.0, 2.0)])) == \
        "ComposeTransform(\n    ExpTransform(),\n    AffineTransform()\n)"
    assert repr(T.identity_transform) == "ComposeTransform(\n    \n)"


def test_sign():
    assert T.ExpTransform().sign == 1
    assert T.AffineTransform(0.0, -2.0).sign == -1
    assert T.AffineTransform(0.0, 0.0).sign == 0
    np.testing.assert_array_equal(
        _np(T.AffineTransform(0.0, flambeau.tensor([-2.0, 3.0])).sign), [-1.0, 1.0])
    assert T.ComposeTransform([T.ExpTransform(), T.AffineTransform(0.0, -2.0)]).sign == -1
    assert T.ExpTransform().inv.sign == 1
    with pytest.raises(NotImplementedError):
        T.AbsTransform().sign
    with pytest.raises(NotImplementedError):
        T.AbsTransform().log_abs_det_jacobian(flambeau.ones(1), flambeau.ones(1))


def test_event_dim():
    assert T.ExpTransform().event_dim == 0
    assert T.SoftmaxTransform().event_dim == 1
    assert T.AffineTransform(0.0, 1.0, event_dim=2).event_dim == 2
    assert T.CatTransform([T.ExpTransform(), T.StickBreakingTransform()]).event_dim == 1
    with pytest.raises(ValueError, match="Please use either .domain.event_dim or "
                                         ".codomain.event_dim"):
        T.CorrCholeskyTransform().event_dim
    c = T.ComposeTransform([T.ExpTransform(), T.StickBreakingTransform()])
    assert c.domain.event_dim == 1 and c.codomain.event_dim == 1
    c = T.ComposeTransform([T.CorrCholeskyTransform(), T.ReshapeTransform((3, 3), (9,))])
    assert c.domain.event_dim == 1 and c.codomain.event_dim == 1
    assert T.identity_transform.domain is constraints.real


def test_shape_errors():
    with pytest.raises(ValueError, match="in_shape, out_shape have different numbers of "
                                         "elements"):
        T.ReshapeTransform((2, 3), (7,))
    r = T.ReshapeTransform((2, 3), (6,))
    assert r.forward_shape((5, 2, 3)) == (5, 6)
    assert r.inverse_shape((5, 6)) == (5, 2, 3)
    with pytest.raises(ValueError, match=r"Shape mismatch: expected \(3, 3\) but got"):
        r.forward_shape((5, 3, 3))
    with pytest.raises(ValueError, match="Too few dimensions on input"):
        r.forward_shape((3,))
    with pytest.raises(ValueError, match="Input is not a flattened lower-diagonal number"):
        T.CorrCholeskyTransform().forward_shape((5,))
    with pytest.raises(ValueError, match="Input is not square"):
        T.CorrCholeskyTransform().inverse_shape((3, 4))
    assert T.CorrCholeskyTransform().inverse_shape((2, 3, 3)) == (2, 3)
    for t in (T.SoftmaxTransform(), T.StickBreakingTransform()):
        with pytest.raises(ValueError, match="Too few dimensions on input"):
            t.forward_shape(())
        with pytest.raises(ValueError, match="Too few dimensions on input"):
            t.inverse_shape(())
    with pytest.raises(ValueError, match="Too few dimensions on input"):
        T.IndependentTransform(T.ExpTransform(), 1)(flambeau.tensor(1.0))
    with pytest.raises(ValueError, match="Too few dimensions on input"):
        T.IndependentTransform(T.ExpTransform(), 1).inv(flambeau.tensor(1.0))
    assert T.AffineTransform(flambeau.zeros(3), 1.0).forward_shape((2, 1)) == (2, 3)
    assert T.PowerTransform(flambeau.ones(3)).inverse_shape((2, 1)) == (2, 3)


def test_cat_stack_errors():
    c = T.CatTransform([T.ExpTransform(), T.ExpTransform()], dim=0, lengths=[1, 2])
    with pytest.raises(ValueError, match="expected sum\\(lengths\\) = 3"):
        c(flambeau.zeros(4))
    with pytest.raises(ValueError, match="dim 0 is out of range"):
        c(flambeau.tensor(1.0))
    with pytest.raises(ValueError, match="got 2 transforms but 1 lengths"):
        T.CatTransform([T.ExpTransform(), T.ExpTransform()], lengths=[1])
    with pytest.raises(TypeError, match="tseq must be a sequence of Transforms"):
        T.CatTransform([T.ExpTransform(), 1])
    s = T.StackTransform([T.ExpTransform(), T.ExpTransform()])
    with pytest.raises(ValueError, match="expected one entry per transform \\(2\\)"):
        s(flambeau.zeros(3))
    with pytest.raises(TypeError, match="tseq must be a sequence of Transforms"):
        T.StackTransform([1])


def test_float32_and_extremes():
    x = flambeau.tensor([-200.0, 0.0, 200.0])
    y = T.SigmoidTransform()(x)
    assert float(y.min()) > 0 and float(y.max()) < 1
    assert bool(flambeau.isfinite(T.SigmoidTransform().inv(y)).all())
    assert bool(flambeau.isfinite(T.TanhTransform().log_abs_det_jacobian(x, x.tanh())).all())
    assert bool(flambeau.isfinite(T.SoftplusTransform()(x)).all())
    s = T.StickBreakingTransform()(flambeau.tensor([50.0, -50.0, 0.0]))
    assert s.dtype == flambeau.float32
    np.testing.assert_allclose(float(s.sum()), 1.0, rtol=1e-6)


def test_empty_batch():
    x = flambeau.zeros(0, 3, dtype=F64)
    for t in (T.ExpTransform(), T.StickBreakingTransform(), T.AffineTransform(0.0, 2.0)):
        y = t(x)
        assert y.shape[0] == 0
        assert t.log_abs_det_jacobian(x, y).shape[0] == 0


def test_cumulative_distribution_transform():
    from flambeau.distributions import Normal

    d = Normal(flambeau.tensor(1.0, dtype=F64), flambeau.tensor(2.0, dtype=F64))
    t = T.CumulativeDistributionTransform(d)
    x = flambeau.tensor([-1.0, 1.0, 4.0], dtype=F64)
    y = t(x)
    np.testing.assert_allclose(_np(y), [0.5 * (1 + math.erf((v - 1) / (2 * math.sqrt(2))))
                                        for v in (-1.0, 1.0, 4.0)], rtol=1e-12)
    np.testing.assert_allclose(_np(t.inv(y)), _np(x), rtol=1e-9)
    np.testing.assert_allclose(_np(t.log_abs_det_jacobian(x, y)), _np(d.log_prob(x)))
    assert t.domain is d.support and t.sign == 1 and t.bijective
    assert t.with_cache(1)._cache_size == 1


# ---- constraint_registry -------------------------------------------------------------------

def _registry_constraints(m):
    c = m.constraints
    return {
        "real": c.real, "positive": c.positive, "nonnegative": c.nonnegative,
        "greater_than": c.greater_than(1.5), "greater_than_eq": c.greater_than_eq(-2.0),
        "less_than": c.less_than(3.0), "unit_interval": c.unit_interval,
        "interval": c.interval(-1.0, 2.0), "half_open": c.half_open_interval(0.0, 4.0),
        "simplex": c.simplex, "real_vector": c.real_vector,
        "independent_positive": c.independent(c.positive, 2),
        "corr_cholesky": c.corr_cholesky,
        "cat": c.cat([c.positive, c.unit_interval], dim=-1, lengths=[2, 1]),
        "stack": c.stack([c.positive, c.real, c.interval(0.0, 2.0)], dim=-1),
    }


_TRANSFORM_ONLY = {"lower_cholesky", "positive_definite", "positive_semidefinite"}


@needs_torch
@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", sorted(_registry_constraints(flambeau.distributions))
                         + sorted(_TRANSFORM_ONLY))
def test_registry_parity(registry, name):
    import torch.distributions as TD

    import flambeau.distributions as FD

    def get(m):
        cons = _registry_constraints(m)
        return cons[name] if name in cons else getattr(m.constraints, name)

    freg, treg = getattr(FD, registry), getattr(TD, registry)
    if registry == "biject_to" and name in _TRANSFORM_ONLY:
        with pytest.raises(NotImplementedError, match="Cannot transform"):
            freg(get(FD))
        with pytest.raises(NotImplementedError):
            treg(get(TD))
        return
    t, tt = freg(get(FD)), treg(get(TD))
    assert repr(t) == repr(tt)
    if name in ("corr_cholesky", "stick"):
        shape = (2, 6)
    elif name in ("lower_cholesky", "positive_definite", "positive_semidefinite"):
        shape = (2, 3, 3)
    elif name == "independent_positive":
        shape = (4, 2, 3)
    else:
        shape = (4, 3)
    x = _x(shape, 5)
    y = t(x)
    np.testing.assert_allclose(_np(y), _np(tt(_tt(x))), rtol=1e-10, atol=1e-12)
    assert bool(get(FD).check(y).all())
    if t.bijective:
        np.testing.assert_allclose(_np(t.inv(y)), _np(x), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(_np(t.log_abs_det_jacobian(x, y)),
                                   _np(tt.log_abs_det_jacobian(_tt(x), _tt(y))), rtol=1e-9,
                                   atol=1e-10)


def test_registry_values_without_torch():
    from flambeau.distributions import biject_to, transform_to

    assert isinstance(biject_to(constraints.simplex), T.StickBreakingTransform)
    assert isinstance(transform_to(constraints.simplex), T.SoftmaxTransform)
    assert isinstance(biject_to(constraints.unit_interval), T.SigmoidTransform)
    t = biject_to(constraints.interval(-1.0, 3.0))
    np.testing.assert_allclose(_np(t(flambeau.tensor([0.0]))), [1.0])
    t = biject_to(constraints.less_than(2.0))
    np.testing.assert_allclose(_np(t(flambeau.tensor([0.0]))), [1.0])
    assert biject_to(constraints.real) is T.identity_transform
    t = biject_to(constraints.independent(constraints.positive, 1))
    assert isinstance(t, T.IndependentTransform) and t.reinterpreted_batch_ndims == 1


def test_registry_errors_and_custom_registration():
    from flambeau.distributions.constraint_registry import ConstraintRegistry, biject_to

    with pytest.raises(NotImplementedError, match="Cannot transform _LowerCholesky constraints"):
        biject_to(constraints.lower_cholesky)
    with pytest.raises(NotImplementedError, match="Cannot transform _Boolean constraints"):
        biject_to(constraints.boolean)
    reg = ConstraintRegistry()
    with pytest.raises(TypeError, match="Expected constraint to be either a Constraint "
                                        "subclass or instance, but got 3"):
        reg.register(3, lambda c: T.ExpTransform())
    with pytest.raises(TypeError, match="Constraint subclass or instance"):
        reg.register(int, lambda c: T.ExpTransform())

    class MyConstraint(constraints.Constraint):
        pass

    @reg.register(MyConstraint)
    def _factory(c):
        return T.TanhTransform()

    assert isinstance(reg(MyConstraint()), T.TanhTransform)
    reg.register(MyConstraint(), lambda c: T.ExpTransform())  # an instance: its class
    assert isinstance(reg(MyConstraint()), T.ExpTransform)
