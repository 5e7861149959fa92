"""flambeau.distributions: the univariate (and simplex/count) distributions of helper A.

Parity with torch.distributions of log_prob / cdf / icdf / entropy / moments and of their
gradients w.r.t. the parameters; sample shapes, seeded sample moments, expand, errors.
"""

import importlib
import math
import pkgutil

import numpy as np
import pytest

import flambeau
import flambeau.distributions as D
from flambeau.distributions import constraints


def _torch():
    return pytest.importorskip("torch")


# name -> (params, values in the support, methods to compare)
_R = [[0.3, -1.2, 2.0], [0.0, 0.5, -0.7]]
_POS = [[0.7, 1.5, 3.0], [2.0, 0.4, 1.1]]
_P = [[0.2, 0.5, 0.9], [0.35, 0.05, 0.6]]
_COUNTS = [[0.0, 2.0, 5.0], [1.0, 3.0, 0.0]]
_MOMENTS = ("mean", "variance", "stddev", "mode")

CASES = {
    "Normal": (dict(loc=_R, scale=_POS), _R[::-1], ("cdf", "icdf", "entropy") + _MOMENTS),
    "Laplace": (dict(loc=_R, scale=_POS), _POS, ("cdf", "icdf", "entropy") + _MOMENTS),
    "Cauchy": (dict(loc=_R, scale=_POS), _POS, ("cdf", "icdf", "entropy", "mean", "variance",
                                                 "mode")),
    "Uniform": (dict(low=[[-1.0, 0.0, 2.0], [0.5, -3.0, 1.0]],
                     high=[[1.0, 0.5, 4.0], [2.5, 3.0, 1.5]]),
                [[0.0, 0.25, 3.0], [1.0, -2.0, 1.2]], ("cdf", "icdf", "entropy", "mean",
                                                        "variance", "stddev")),
    "Exponential": (dict(rate=_POS), _POS[::-1], ("cdf", "icdf", "entropy") + _MOMENTS),
    "Gamma": (dict(concentration=_POS, rate=[[1.0, 0.3, 2.5], [0.7, 1.0, 4.0]]), _POS[::-1],
              ("cdf", "entropy") + _MOMENTS),
    "Chi2": (dict(df=_POS), _POS[::-1], ("entropy", "mean", "variance", "mode")),
    "StudentT": (dict(df=[[0.7, 1.5, 3.0], [2.0, 5.4, 1.1]], loc=_R, scale=_POS), _POS,
                 ("entropy", "mean", "variance", "mode")),
    "Beta": (dict(concentration1=_POS, concentration0=[[1.0, 0.3, 2.5], [0.7, 1.0, 4.0]]),
             _P, ("entropy", "mean", "variance", "mode")),
    "Bernoulli": (dict(probs=_P), [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]],
                  ("entropy", "mean", "variance", "mode")),
    "Geometric": (dict(probs=_P), _COUNTS, ("entropy", "mean", "variance", "mode")),
    "Poisson": (dict(rate=_POS), _COUNTS, ("mean", "variance", "mode")),
    "Binomial": (dict(total_count=[[5.0, 5.0, 5.0], [5.0, 5.0, 5.0]], probs=_P), _COUNTS,
                 ("entropy", "mean", "variance", "mode")),
    "NegativeBinomial": (dict(total_count=_POS, probs=_P), _COUNTS,
                         ("mean", "variance", "mode")),
    "Categorical": (dict(probs=[[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]]), [2, 1],
                    ("entropy", "mode")),
    "OneHotCategorical": (dict(logits=[[0.2, -0.5, 1.3], [0.1, 2.1, -0.8]]),
                          [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], ("entropy", "mean", "variance",
                                                               "mode")),
    "Dirichlet": (dict(concentration=[[0.7, 1.5, 3.0], [2.0, 0.4, 1.1]]),
                  [[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]], ("entropy", "mean", "variance",
                                                       "mode")),
    "Multinomial": (dict(total_count=5, probs=[[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]]),
                    [[1.0, 2.0, 2.0], [0.0, 0.0, 5.0]], ("entropy", "mean", "variance")),
}
# parameters that are not differentiable (counts)
_NO_GRAD = {"total_count"}


def _make(name, params, lib, grad=True):
    mod = D if lib == "flambeau" else _torch().distributions
    args, leaves = {}, {}
    for key, value in params.items():
        if isinstance(value, int):
            args[key] = value
            continue
        if lib == "flambeau":
            t = flambeau.tensor(value, dtype=flambeau.float64)
        else:
            t = _torch().tensor(value, dtype=_torch().float64)
        if grad and key not in _NO_GRAD:
            t.requires_grad_(True)
            leaves[key] = t
        args[key] = t
    return getattr(mod, name)(**args), leaves


def _value(name, values, lib):
    dtype = None
    if name == "Categorical":
        dtype = flambeau.int64 if lib == "flambeau" else _torch().int64
    else:
        dtype = flambeau.float64 if lib == "flambeau" else _torch().float64
    if lib == "flambeau":
        return flambeau.tensor(values, dtype=dtype)
    return _torch().tensor(values, dtype=dtype)


def _close(a, b, rtol=1e-7, atol=1e-9):
    a = np.asarray(a.detach().cpu().numpy() if hasattr(a, "detach") else a, dtype=np.float64)
    b = np.asarray(b.detach().cpu().numpy(), dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


def _call(d, method, v=None):
    attr = getattr(d, method)
    if method in ("cdf", "log_prob"):
        return attr(v)
    if method == "icdf":
        return attr(v)
    return attr() if callable(attr) else attr


@pytest.mark.parametrize("name", sorted(CASES))
def test_parity_values_and_gradients(name):
    torch = _torch()
    params, values, methods = CASES[name]
    fv, tv = _value(name, values, "flambeau"), _value(name, values, "torch")
    for method in ("log_prob",) + tuple(methods):
        # a fresh pair per method: each gradient below consumes its graph
        fd, fleaves = _make(name, params, "flambeau")
        td, tleaves = _make(name, params, "torch")
        assert tuple(fd.batch_shape) == tuple(td.batch_shape)
        assert tuple(fd.event_shape) == tuple(td.event_shape)
        if method == "icdf":
            fin = flambeau.tensor([[0.1, 0.5, 0.8], [0.3, 0.95, 0.01]], dtype=flambeau.float64)
            tin = torch.tensor([[0.1, 0.5, 0.8], [0.3, 0.95, 0.01]], dtype=torch.float64)
        else:
            fin, tin = fv, tv
        fo, to = _call(fd, method, fin), _call(td, method, tin)
        _close(fo, to)
        if not fleaves or not to.requires_grad or to.dtype == torch.int64:
            continue
        if method == "cdf" and name == "Gamma":
            continue  # torch has no derivative of igamma w.r.t. the concentration either
        fs = fo.sum() if method != "mode" else None
        if fs is None or not fs.requires_grad:
            continue
        keys = list(fleaves)
        fg = flambeau.autograd.grad(fs, [fleaves[k] for k in keys], allow_unused=True)
        tg = torch.autograd.grad(to.sum(), [tleaves[k] for k in keys], allow_unused=True)
        for k, a, b in zip(keys, fg, tg):
            if b is None:
                continue
            assert a is not None, (name, method, k)
            _close(a, b, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_shapes_and_expand(name):
    params, values, _ = CASES[name]
    d, _ = _make(name, params, "flambeau", grad=False)
    flambeau.manual_seed(0)
    s = d.sample((4, 3))
    assert tuple(s.shape) == (4, 3) + tuple(d.batch_shape) + tuple(d.event_shape)
    assert bool(d.support.check(s).all())
    e = d.expand((5,) + tuple(d.batch_shape))
    assert tuple(e.batch_shape) == (5,) + tuple(d.batch_shape)
    assert type(e) is type(d)
    lp = e.log_prob(_value(name, values, "flambeau"))
    assert tuple(lp.shape) == (5,) + tuple(d.batch_shape)
    np.testing.assert_allclose(lp[3].cpu().numpy(), d.log_prob(_value(name, values,
                                                                      "flambeau")).cpu().numpy())
    assert tuple(e.sample().shape) == (5,) + tuple(d.batch_shape) + tuple(d.event_shape)
    if d.has_rsample:
        assert tuple(d.rsample().shape) == tuple(d.batch_shape) + tuple(d.event_shape)


_MOMENT_CASES = {
    "Normal": dict(loc=[0.5, -2.0], scale=[1.0, 3.0]),
    "Laplace": dict(loc=[0.5, -2.0], scale=[1.0, 3.0]),
    "Uniform": dict(low=[0.5, -2.0], high=[1.0, 3.0]),
    "Exponential": dict(rate=[0.5, 3.0]),
    "Gamma": dict(concentration=[0.3, 4.0], rate=[2.0, 0.5]),
    "Chi2": dict(df=[1.0, 7.0]),
    "StudentT": dict(df=[5.0, 9.0], loc=[0.0, 1.0], scale=[1.0, 2.0]),
    "Beta": dict(concentration1=[0.5, 3.0], concentration0=[2.0, 0.8]),
    "Dirichlet": dict(concentration=[[0.5, 2.0, 3.0]]),
    "Bernoulli": dict(probs=[0.1, 0.7]),
    "Geometric": dict(probs=[0.3, 0.8]),
    "Poisson": dict(rate=[0.5, 12.0]),
    "Binomial": dict(total_count=[10.0, 40.0], probs=[0.3, 0.8]),
    "NegativeBinomial": dict(total_count=[2.0, 7.5], probs=[0.3, 0.6]),
    "Categorical": dict(probs=[[0.2, 0.5, 0.3]]),
    "OneHotCategorical": dict(probs=[[0.2, 0.5, 0.3]]),
    "Multinomial": dict(total_count=6, probs=[[0.2, 0.5, 0.3]]),
}


@pytest.mark.parametrize("name", sorted(_MOMENT_CASES))
def test_seeded_sample_moments(name):
    d, _ = _make(name, _MOMENT_CASES[name], "flambeau", grad=False)
    flambeau.manual_seed(1)
    n = 40000
    s = (d.rsample((n,)) if d.has_rsample else d.sample((n,))).double()
    if name == "Categorical":
        mean = (s.unsqueeze(-1) == flambeau.arange(3)).double().mean(0)
        np.testing.assert_allclose(mean.cpu().numpy(), d.probs.cpu().numpy(), atol=0.015)
        return
    mean, var = s.mean(0), s.var(0)
    se = (d.variance / n).sqrt()
    assert bool(((mean - d.mean).abs() <= 5 * se + 1e-6).all()), (mean, d.mean)
    # variance of the sample variance is finite for these parameters; loose bound
    np.testing.assert_allclose(var.cpu().numpy(), d.variance.cpu().numpy(), rtol=0.1, atol=1e-3)


def test_rsample_gradients_normal_fixed_noise():
    # rsample = loc + eps * scale: with the same seed, gradients are eps and 1
    loc = flambeau.tensor([0.5, -1.0], dtype=flambeau.float64, requires_grad=True)
    scale = flambeau.tensor([2.0, 0.5], dtype=flambeau.float64, requires_grad=True)
    flambeau.manual_seed(3)
    x = D.Normal(loc, scale).rsample()
    gl, gs = flambeau.autograd.grad(x.sum(), [loc, scale])
    flambeau.manual_seed(3)
    eps = flambeau.randn(2, dtype=flambeau.float64)
    np.testing.assert_allclose(gl.cpu().numpy(), [1.0, 1.0])
    np.testing.assert_allclose(gs.cpu().numpy(), eps.cpu().numpy())
    np.testing.assert_allclose(x.detach().cpu().numpy(), (loc + eps * scale).detach().cpu().numpy())


@pytest.mark.parametrize("name,params", [
    ("Uniform", dict(low=[0.5, -2.0], high=[1.0, 3.0])),
    ("Exponential", dict(rate=[0.5, 3.0])),
    ("Laplace", dict(loc=[0.5, -2.0], scale=[1.0, 3.0])),
    ("Cauchy", dict(loc=[0.5, -2.0], scale=[1.0, 3.0])),
])
def test_rsample_is_icdf_of_fixed_noise(name, params):
    # each inverse-CDF sampler: the gradient of the sample equals that of icdf(cdf(sample))
    d, leaves = _make(name, params, "flambeau")
    flambeau.manual_seed(5)
    x = d.rsample((3,))
    u = d.cdf(x.detach()).detach()  # the noise, held fixed
    y = d.icdf(u)
    np.testing.assert_allclose(x.detach().cpu().numpy(), y.detach().cpu().numpy(), rtol=1e-6,
                               atol=1e-9)
    gx = flambeau.autograd.grad(x.sum(), list(leaves.values()))
    gy = flambeau.autograd.grad(y.sum(), list(leaves.values()))
    for a, b in zip(gx, gy):
        np.testing.assert_allclose(a.cpu().numpy(), b.cpu().numpy(), rtol=1e-6, atol=1e-9)


def test_gamma_rsample_gradient_matches_quantile_derivative():
    # d sample / d alpha at a fixed quantile: -(dF/dalpha) / f, by central differences of
    # the regularized incomplete gamma function
    scipy_special = pytest.importorskip("scipy.special")
    alpha = flambeau.tensor([0.05, 0.4, 1.0, 3.0, 25.0, 400.0], dtype=flambeau.float64,
                            requires_grad=True)
    flambeau.manual_seed(7)
    x = D.Gamma(alpha, 1.0).rsample()
    (g,) = flambeau.autograd.grad(x.sum(), [alpha])
    a, xv = alpha.detach().cpu().numpy(), x.detach().cpu().numpy()
    h = 1e-6 * a
    dfda = (scipy_special.gammainc(a + h, xv) - scipy_special.gammainc(a - h, xv)) / (2 * h)
    pdf = np.exp((a - 1) * np.log(xv) - xv - scipy_special.gammaln(a))
    np.testing.assert_allclose(g.cpu().numpy(), -dfda / pdf, rtol=2e-5)


def test_gamma_grad_against_torch_standard_gamma_grad():
    torch = _torch()
    from flambeau.distributions._gamma import _standard_gamma_grad

    a = np.array([0.01, 0.3, 1.0, 2.5, 10.0, 150.0, 3000.0, 5e4])
    torch.manual_seed(0)
    ta = torch.tensor(a).repeat(50)
    tx = torch._standard_gamma(ta).clamp(min=1e-300)
    ref = torch._standard_gamma_grad(ta, tx)
    mine = _standard_gamma_grad(flambeau.tensor(tx.cpu().numpy()),
                                flambeau.tensor(ta.cpu().numpy()))
    # torch's own approximation is accurate to about 1e-3 relative
    np.testing.assert_allclose(mine.cpu().numpy(), ref.cpu().numpy(), rtol=2e-3, atol=1e-30)


def test_standard_gamma_grad_is_first_order_only():
    from flambeau.distributions._gamma import _standard_gamma_grad

    a = flambeau.tensor([2.0], dtype=flambeau.float64, requires_grad=True)
    g = _standard_gamma_grad(flambeau.tensor([1.5], dtype=flambeau.float64), a)
    with pytest.raises(RuntimeError, match="not implemented"):
        flambeau.autograd.grad(g.sum(), [a])


def test_gamma_samples_small_concentration_are_positive_and_float32():
    flambeau.manual_seed(0)
    s = D.Gamma(flambeau.tensor([1e-3, 0.05]), 1.0).sample((1000,))
    assert s.dtype == flambeau.float32
    assert bool((s > 0).all())
    # P(X < 1e-6) for Gamma(1e-3) is 1e-6^1e-3 / Gamma(1.001), about 0.986
    assert 0.95 < float((s[:, 0] < 1e-6).double().mean()) < 1.0


def test_dirichlet_and_beta_rsample_gradients_flow():
    c = flambeau.tensor([[0.5, 2.0, 3.0]], dtype=flambeau.float64, requires_grad=True)
    flambeau.manual_seed(0)
    x = D.Dirichlet(c).rsample((5,))
    assert bool(((x.sum(-1) - 1).abs() < 1e-12).all())
    (g,) = flambeau.autograd.grad((x[..., 0] * 2 + x[..., 1]).sum(), [c])
    assert bool(g.isfinite().all()) and float(g.abs().sum()) > 0
    # moving mass to component 0 raises E[x0]: the pathwise estimate of dE[x0]/dc0 is positive
    c1 = flambeau.tensor([1.0, 2.0], dtype=flambeau.float64, requires_grad=True)
    flambeau.manual_seed(1)
    m = D.Beta(c1[0], c1[1]).rsample((20000,)).mean()
    (g1,) = flambeau.autograd.grad(m, [c1])
    # d/da a/(a+b) = b/(a+b)^2 = 2/9, d/db = -a/(a+b)^2 = -1/9
    np.testing.assert_allclose(g1.cpu().numpy(), [2 / 9, -1 / 9], atol=0.02)


# ------------------------------------------------------------------ dtypes, defaults


def test_python_numbers_use_default_dtype_and_float64_stays():
    d = D.Normal(0.0, 1.0)
    assert d.loc.dtype == flambeau.float32 and tuple(d.batch_shape) == ()
    d = D.Normal(flambeau.zeros(2, dtype=flambeau.float64), 1.0)
    assert d.scale.dtype == flambeau.float64
    assert d.sample().dtype == flambeau.float64
    assert D.Gamma(flambeau.ones(2, dtype=flambeau.float64), 1.0).rsample().dtype == \
        flambeau.float64


def test_logits_probs_lazy_conversion():
    b = D.Bernoulli(logits=flambeau.tensor([0.0, 2.0]))
    assert "probs" not in b.__dict__
    np.testing.assert_allclose(b.probs.cpu().numpy(), [0.5, 1 / (1 + math.exp(-2))], rtol=1e-6)
    c = D.Categorical(logits=flambeau.tensor([1.0, 1.0]))
    np.testing.assert_allclose(c.probs.cpu().numpy(), [0.5, 0.5])
    np.testing.assert_allclose(c.logits.cpu().numpy(), [math.log(0.5)] * 2, rtol=1e-6)


def test_perplexity_and_enumerate_support():
    d = D.Categorical(probs=flambeau.tensor([[0.5, 0.5], [0.25, 0.75]]))
    np.testing.assert_allclose(d.perplexity().cpu().numpy(), np.exp(d.entropy().cpu().numpy()))
    assert d.enumerate_support().tolist() == [[0, 0], [1, 1]]
    assert tuple(d.enumerate_support(expand=False).shape) == (2, 1)
    b = D.Binomial(3, flambeau.tensor([0.5, 0.1]))
    assert b.enumerate_support(expand=False).flatten().tolist() == [0.0, 1.0, 2.0, 3.0]
    oh = D.OneHotCategorical(probs=flambeau.tensor([[0.5, 0.5]]))
    assert tuple(oh.enumerate_support().shape) == (2, 1, 2)


def test_exponential_family_entropy_matches_closed_forms():
    cases = [
        D.Normal(flambeau.tensor([0.3, -1.0]), flambeau.tensor([0.5, 2.0])),
        D.Exponential(flambeau.tensor([0.5, 3.0])),
        D.Gamma(flambeau.tensor([0.5, 3.0]), flambeau.tensor([2.0, 0.7])),
        D.Bernoulli(flambeau.tensor([0.2, 0.7])),
    ]
    for d in cases:
        np.testing.assert_allclose(D.ExponentialFamily.entropy(d).detach().cpu().numpy(),
                                   d.entropy().cpu().numpy(), rtol=1e-5, atol=1e-6)


def test_straight_through_gradient():
    logits = flambeau.tensor([0.0, 1.0, -1.0], dtype=flambeau.float64, requires_grad=True)
    d = D.OneHotCategoricalStraightThrough(logits=logits)
    flambeau.manual_seed(0)
    s = d.rsample()
    assert sorted(s.detach().tolist()) == [0.0, 0.0, 1.0]
    w = flambeau.tensor([1.0, 2.0, 3.0], dtype=flambeau.float64)
    (g,) = flambeau.autograd.grad((s * w).sum(), [logits])
    d = D.OneHotCategoricalStraightThrough(logits=logits)
    (ref,) = flambeau.autograd.grad((d.probs * w).sum(), [logits])
    np.testing.assert_allclose(g.cpu().numpy(), ref.cpu().numpy())


# ------------------------------------------------------------------ errors


def test_invalid_parameter_messages_match_torch():
    with pytest.raises(ValueError, match=r"Expected parameter scale \(Tensor of shape \(\)\) of "
                       r"distribution Normal\(loc: 0.0, scale: -1.0\) to satisfy the "
                       r"constraint GreaterThan\(lower_bound=0.0\), but found invalid values"):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError, match=r"Expected parameter low .* LessThan"):
        D.Uniform(1.0, 0.0)
    with pytest.raises(ValueError, match=r"Expected parameter probs .* Interval"):
        D.Bernoulli(flambeau.tensor([1.5]))
    with pytest.raises(ValueError, match=r"Expected parameter concentration .* Dirichlet"):
        D.Beta(-1.0, 1.0)
    with pytest.raises(ValueError, match=r"to be positive but found invalid values"):
        D.Geometric(flambeau.tensor([0.0, 0.5]))
    # validation off: no error
    D.Normal(0.0, -1.0, validate_args=False)


def test_probs_logits_and_shape_errors():
    msg = "Either `probs` or `logits` must be specified, but not both."
    for cls in (D.Bernoulli, D.Categorical, D.Geometric, D.Binomial):
        with pytest.raises(ValueError, match=msg.replace("`", ".").replace("(", r"\(")):
            cls()
    with pytest.raises(ValueError, match="`probs` parameter must be at least one-dimensional"):
        D.Categorical(flambeau.tensor(1.0))
    with pytest.raises(ValueError, match="`logits` parameter must be at least one-dimensional"):
        D.Categorical(logits=flambeau.tensor(1.0))
    with pytest.raises(ValueError, match="`concentration` parameter must be at least one"):
        D.Dirichlet(flambeau.tensor(1.0))
    with pytest.raises(NotImplementedError, match="inhomogeneous total_count is not supported"):
        D.Multinomial(2.5, flambeau.tensor([0.5, 0.5]))
    b = D.Binomial(flambeau.tensor([2.0, 3.0]), flambeau.tensor([0.5, 0.5]))
    with pytest.raises(NotImplementedError, match="Inhomogeneous total count not supported by "
                       "`entropy`"):
        b.entropy()
    with pytest.raises(NotImplementedError, match="`enumerate_support`"):
        b.enumerate_support()


def test_value_validation_messages():
    d = D.Exponential(flambeau.tensor([1.0]))
    with pytest.raises(ValueError, match=r"Expected value argument \(Tensor of shape \(1,\)\) to "
                       r"be within the support \(GreaterThanEq\(lower_bound=0.0\)\) of the "
                       r"distribution Exponential\(rate: tensor\(\[1.\]"
                       r".*but found invalid values"):
        d.log_prob(flambeau.tensor([-1.0]))
    with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
        d.log_prob(1.0)
    with pytest.raises(ValueError, match=r"Value is not broadcastable with "
                       r"batch_shape\+event_shape"):
        D.Normal(flambeau.zeros(2), 1.0).log_prob(flambeau.zeros(3))
    with pytest.raises(ValueError, match="The right-most size of value must match event_shape"):
        D.Dirichlet(flambeau.ones(3)).log_prob(flambeau.ones(2) / 2)
    with pytest.raises(ValueError, match="within the support"):
        D.Poisson(flambeau.tensor(1.0)).log_prob(flambeau.tensor(0.5))
    with pytest.raises(ValueError, match="within the support"):
        D.Categorical(flambeau.ones(3)).log_prob(flambeau.tensor(3))


def test_unimplemented_methods():
    with pytest.raises(NotImplementedError):
        D.Normal(0.0, 1.0).enumerate_support()
    with pytest.raises(NotImplementedError):
        D.Poisson(flambeau.tensor(1.0)).entropy()
    with pytest.raises(NotImplementedError, match="does not implement mean"):
        D.Distribution().mean
    assert D.Bernoulli(0.5).has_rsample is False
    with pytest.raises(NotImplementedError):
        D.Bernoulli(0.5).rsample()


def test_set_default_validate_args():
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(0.0, -1.0)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError, match="expected True or False"):
        D.Distribution.set_default_validate_args(2)


def test_custom_subclass_needs_expand():
    class MyNormal(D.Normal):
        def __init__(self, loc):
            super().__init__(loc, 1.0)

    with pytest.raises(NotImplementedError, match="must also define a custom .expand"):
        MyNormal(flambeau.zeros(2)).expand((3, 2))


def test_empty_batch():
    d = D.Normal(flambeau.zeros(0), flambeau.ones(0))
    assert tuple(d.sample((2,)).shape) == (2, 0)
    assert tuple(d.log_prob(flambeau.zeros(0)).shape) == (0,)
    g = D.Gamma(flambeau.ones(0), 1.0)
    assert tuple(g.rsample((3,)).shape) == (3, 0)


# ------------------------------------------------------------------ constraints


def test_constraints_check_and_repr():
    x = flambeau.tensor([-1.0, 0.0, 0.5, 1.0, 2.0])
    assert constraints.positive.check(x).tolist() == [False, False, True, True, True]
    assert constraints.nonnegative.check(x).tolist() == [False, True, True, True, True]
    assert constraints.unit_interval.check(x).tolist() == [False, True, True, True, False]
    assert constraints.half_open_interval(0, 1).check(x).tolist() == [False, True, True, False,
                                                                      False]
    assert constraints.boolean.check(x).tolist() == [False, True, False, True, False]
    assert constraints.nonnegative_integer.check(x).tolist() == [False, True, False, True, True]
    assert constraints.positive_integer.check(x).tolist() == [False, False, False, True, True]
    assert constraints.integer_interval(0, 1).check(x).tolist() == [False, True, False, True,
                                                                     False]
    assert constraints.greater_than_eq(0.5).check(x).tolist() == [False, False, True, True, True]
    assert constraints.less_than(0.5).check(x).tolist() == [True, True, False, False, False]
    assert constraints.real.check(flambeau.tensor([float("nan"), 1.0])).tolist() == [False, True]
    assert constraints.simplex.check(flambeau.tensor([[0.5, 0.5], [0.5, 0.6]])).tolist() == \
        [True, False]
    assert constraints.one_hot.check(flambeau.tensor([[0.0, 1.0], [1.0, 1.0]])).tolist() == \
        [True, False]
    assert constraints.multinomial(3).check(flambeau.tensor([[1.0, 2.0], [2.0, 2.0]])).tolist() \
        == [True, False]
    assert constraints.real_vector.check(flambeau.tensor([[1.0, float("nan")], [0.0, 1.0]])) \
        .tolist() == [False, True]
    assert constraints.real_vector.event_dim == 1
    assert repr(constraints.interval(0, 1)) == "Interval(lower_bound=0, upper_bound=1)"
    assert repr(constraints.independent(constraints.real, 1)) == \
        "IndependentConstraint(Real(), 1)"
    assert repr(constraints.positive) == "GreaterThan(lower_bound=0.0)"
    assert repr(constraints.dependent) == "Dependent()"
    assert constraints.boolean.is_discrete and not constraints.real.is_discrete


def test_matrix_constraints():
    eye = flambeau.eye(2)
    bad = flambeau.tensor([[1.0, 2.0], [0.0, 1.0]])
    assert bool(constraints.lower_triangular.check(eye)) and not bool(
        constraints.lower_triangular.check(bad))
    assert bool(constraints.lower_cholesky.check(eye))
    assert not bool(constraints.lower_cholesky.check(-eye))
    assert bool(constraints.corr_cholesky.check(eye))
    assert not bool(constraints.corr_cholesky.check(2 * eye))
    assert bool(constraints.positive_definite.check(eye))
    assert not bool(constraints.positive_definite.check(-eye))
    assert bool(constraints.positive_semidefinite.check(flambeau.zeros(2, 2)))
    assert not bool(constraints.symmetric.check(bad))
    assert not bool(constraints.square.check(flambeau.zeros(2, 3)))


def test_cat_stack_independent_and_dependent():
    c = constraints.cat([constraints.positive, constraints.real], dim=0, lengths=[2, 1])
    assert c.check(flambeau.tensor([1.0, -1.0, -1.0])).tolist() == [True, False, True]
    s = constraints.stack([constraints.positive, constraints.unit_interval], dim=-1)
    assert s.check(flambeau.tensor([[1.0, 0.5], [1.0, 2.0]])).tolist() == [[True, True],
                                                                          [True, False]]
    ind = constraints.independent(constraints.positive, 2)
    assert ind.event_dim == 2
    with pytest.raises(ValueError, match=r"Expected value.dim\(\) >= 2 but got 1"):
        ind.check(flambeau.ones(3))
    assert constraints.is_dependent(constraints.dependent)
    assert not constraints.is_dependent(constraints.real)
    with pytest.raises(ValueError, match="Cannot determine validity of dependent constraint"):
        constraints.dependent.check(flambeau.ones(1))
    with pytest.raises(NotImplementedError):
        constraints.dependent.event_dim
    assert constraints.dependent(event_dim=1).event_dim == 1
    assert constraints.is_dependent(D.Uniform.support)
    assert D.Uniform.support.event_dim == 0


def test_torch_constraint_checks_agree():
    torch = _torch()
    tc = torch.distributions.constraints
    x = [[-1.0, 0.0, 0.25], [1.0, 3.0, 0.5]]
    for name in ("real", "positive", "nonnegative", "unit_interval", "boolean",
                 "nonnegative_integer", "positive_integer", "simplex", "one_hot",
                 "real_vector"):
        ours = getattr(constraints, name).check(flambeau.tensor(x)).tolist()
        theirs = getattr(tc, name).check(torch.tensor(x)).tolist()
        assert ours == theirs, name


TORCH_SUBMODULES = """
    bernoulli beta binomial categorical cauchy chi2 constraint_registry constraints
    continuous_bernoulli dirichlet distribution exp_family exponential fishersnedecor gamma
    generalized_pareto geometric gumbel half_cauchy half_normal independent inverse_gamma kl
    kumaraswamy laplace lkj_cholesky log_normal logistic_normal lowrank_multivariate_normal
    mixture_same_family multinomial multivariate_normal negative_binomial normal
    one_hot_categorical pareto poisson relaxed_bernoulli relaxed_categorical studentT
    transformed_distribution transforms uniform utils von_mises weibull wishart
""".split()


@pytest.mark.parametrize("name", TORCH_SUBMODULES)
def test_torch_module_paths(name):
    # `from torch.distributions.gamma import Gamma` becomes a flambeau import unchanged: each
    # of torch.distributions' modules exists, and its names are the package's objects
    module = importlib.import_module(f"flambeau.distributions.{name}")
    assert module.__all__
    for attr in module.__all__:
        ours = getattr(module, attr)
        assert getattr(D, attr, ours) is ours, attr
        if name not in ("constraints", "constraint_registry", "kl", "transforms", "utils"):
            assert isinstance(ours, type) and issubclass(ours, D.Distribution), attr


def test_torch_module_paths_match_torch():
    torch = pytest.importorskip("torch")
    theirs = {m.name for m in pkgutil.iter_modules(torch.distributions.__path__)
              if not m.name.startswith("_")}
    assert theirs <= set(TORCH_SUBMODULES)
    for name in TORCH_SUBMODULES:
        torch_all = getattr(importlib.import_module(f"torch.distributions.{name}"), "__all__", [])
        ours = importlib.import_module(f"flambeau.distributions.{name}").__all__
        assert set(torch_all) <= set(ours), name
