"""TransformedDistribution and its subclasses, Independent, MultivariateNormal and
LowRankMultivariateNormal: parity with torch.distributions (values and gradients), shapes,
sampling moments, expand and errors."""

import math

import numpy as np
import pytest

import flambeau
import flambeau.distributions as FD
from flambeau.autograd import gradcheck
from flambeau.distributions import transforms as T
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
F64 = flambeau.float64


def _np(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def _rng(seed):
    return np.random.default_rng(seed)


def _spd(n, batch=(), seed=0):
    a = _rng(seed).standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _arrays():
    r = _rng(0)
    cov = _spd(3, (2,), 1)
    return {
        "loc": r.standard_normal((2, 3)),
        "scale": np.abs(r.standard_normal((2, 3))) + 0.3,
        "loc1": r.standard_normal(3),
        "cov": cov,
        "tril": np.linalg.cholesky(cov),
        "prec": np.linalg.inv(_spd(3, (), 2)),
        "factor": r.standard_normal((2, 3, 2)),
        "diag": np.abs(r.standard_normal((2, 3))) + 0.5,
        "loc2": r.standard_normal(2),
        "scale2": np.abs(r.standard_normal(2)) + 0.5,
    }


# name -> (builder(D, params), param names, value generator(params as numpy) -> numpy)
def _cases():
    a = _arrays()
    return {
        "lognormal": (lambda D, p: D.LogNormal(p["loc"], p["scale"]), ["loc", "scale"],
                      lambda: np.exp(_rng(3).standard_normal((4, 2, 3)))),
        "halfnormal": (lambda D, p: D.HalfNormal(p["scale"]), ["scale"],
                       lambda: np.abs(_rng(3).standard_normal((4, 2, 3)))),
        "logisticnormal": (lambda D, p: D.LogisticNormal(p["loc"], p["scale"]),
                           ["loc", "scale"],
                           lambda: _softmax(_rng(3).standard_normal((4, 2, 4)))),
        "transformed_affine_exp": (
            lambda D, p: D.TransformedDistribution(
                D.Normal(p["loc"], p["scale"]),
                [D.AffineTransform(1.0, 2.0), D.ExpTransform()]),
            ["loc", "scale"], lambda: np.exp(_rng(3).standard_normal((4, 2, 3)))),
        "transformed_stick_event": (
            lambda D, p: D.TransformedDistribution(
                D.Normal(p["loc"], p["scale"]),
                [D.StickBreakingTransform(), D.AffineTransform(0.0, 2.0, event_dim=1)]),
            ["loc", "scale"], lambda: 2 * _softmax(_rng(3).standard_normal((4, 2, 4)))),
        "independent": (lambda D, p: D.Independent(D.Normal(p["loc"], p["scale"]), 1),
                        ["loc", "scale"], lambda: _rng(3).standard_normal((4, 2, 3))),
        "independent2": (lambda D, p: D.Independent(D.Normal(p["loc"], p["scale"]), 2),
                         ["loc", "scale"], lambda: _rng(3).standard_normal((4, 2, 3))),
        "mvn_cov": (lambda D, p: D.MultivariateNormal(p["loc"], covariance_matrix=p["cov"]),
                    ["loc", "cov"], lambda: _rng(3).standard_normal((4, 2, 3))),
        "mvn_tril": (lambda D, p: D.MultivariateNormal(p["loc1"], scale_tril=p["tril"]),
                     ["loc1", "tril"], lambda: _rng(3).standard_normal((4, 2, 3))),
        "mvn_prec": (lambda D, p: D.MultivariateNormal(p["loc"], precision_matrix=p["prec"]),
                     ["loc", "prec"], lambda: _rng(3).standard_normal((4, 1, 3))),
        "halfcauchy": (lambda D, p: D.HalfCauchy(p["scale"]), ["scale"],
                       lambda: np.abs(_rng(3).standard_normal((4, 2, 3)))),
        "gumbel": (lambda D, p: D.Gumbel(p["loc"], p["scale"]), ["loc", "scale"],
                   lambda: _rng(3).standard_normal((4, 2, 3))),
        "weibull": (lambda D, p: D.Weibull(p["scale"], p["scale"] + 0.8), ["scale"],
                    lambda: np.exp(_rng(3).standard_normal((4, 2, 3)))),
        "pareto": (lambda D, p: D.Pareto(p["scale"], p["scale2"][0] + 2.0), ["scale", "scale2"],
                   lambda: a["scale"] + np.exp(_rng(3).standard_normal((4, 2, 3)))),
        "lowrank": (lambda D, p: D.LowRankMultivariateNormal(p["loc"], p["factor"], p["diag"]),
                    ["loc", "factor", "diag"], lambda: _rng(3).standard_normal((4, 2, 3))),
    }, a


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _build(lib, name):
    cases, a = _cases()
    make, names, value = cases[name]
    if lib == "flambeau":
        params = {k: flambeau.tensor(v, dtype=F64, requires_grad=True) for k, v in a.items()}
        mod = FD
    else:
        params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
                  for k, v in a.items()}
        mod = _torch_namespace()
    return make(mod, params), [params[n] for n in names], value()


def _torch_namespace():
    import types

    import torch.distributions as TD
    import torch.distributions.transforms as TT
    ns = types.SimpleNamespace(**{k: getattr(TD, k) for k in TD.__all__})
    for k in TT.__all__:
        setattr(ns, k, getattr(TT, k))
    return ns


NAMES = sorted(_cases()[0])


def _close(a, b, rtol=1e-9, atol=1e-10):
    np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol)


@needs_torch
@pytest.mark.parametrize("name", NAMES)
def test_parity_values_and_gradients(name):
    d, params, value = _build("flambeau", name)
    td, tparams, _ = _build("torch", name)
    assert tuple(d.batch_shape) == tuple(td.batch_shape)
    assert tuple(d.event_shape) == tuple(td.event_shape)
    assert d.has_rsample == td.has_rsample
    x = flambeau.tensor(value, dtype=F64)
    tx = torch.tensor(value, dtype=torch.float64)
    lp, tlp = d.log_prob(x), td.log_prob(tx)
    assert tuple(lp.shape) == tuple(tlp.shape)
    _close(lp, tlp)
    # parameters derived at construction (a Cholesky factor) are shared with entropy's graph
    grads = flambeau.autograd.grad(lp.sum(), params, retain_graph=True)
    tgrads = torch.autograd.grad(tlp.sum(), tparams, retain_graph=True)
    for g, tg in zip(grads, tgrads):
        _close(g, tg, rtol=1e-8, atol=1e-9)
    for prop in ("mean", "mode", "variance", "stddev"):
        try:
            expected = getattr(td, prop)
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                getattr(d, prop)
            continue
        _close(getattr(d, prop), expected, rtol=1e-8)
    try:
        tent = td.entropy()
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            d.entropy()
    else:
        ent = d.entropy()
        _close(ent, tent)
        grads = flambeau.autograd.grad(ent.sum(), params, allow_unused=True)
        tgrads = torch.autograd.grad(tent.sum(), tparams, allow_unused=True)
        for g, tg in zip(grads, tgrads):
            if tg is None:
                assert g is None or not np.any(_np(g))
            else:
                _close(g, tg, rtol=1e-8, atol=1e-9)
    assert type(d.support).__name__ == type(td.support).__name__
    assert d.support.event_dim == td.support.event_dim


@needs_torch
@pytest.mark.parametrize("name", ["lognormal", "halfnormal", "transformed_affine_exp",
                                  "halfcauchy", "gumbel", "weibull", "pareto"])
def test_parity_cdf_icdf(name):
    d, _, value = _build("flambeau", name)
    td, _, _ = _build("torch", name)
    x = flambeau.tensor(value, dtype=F64)
    tx = torch.tensor(value, dtype=torch.float64)
    c = d.cdf(x)
    _close(c, td.cdf(tx))
    _close(d.icdf(c), td.icdf(td.cdf(tx)), rtol=1e-7)


@needs_torch
def test_decreasing_transform_cdf():
    td = torch.distributions.TransformedDistribution(
        torch.distributions.Normal(0.5, 2.0),
        [torch.distributions.AffineTransform(1.0, -3.0)])
    d = FD.TransformedDistribution(FD.Normal(0.5, 2.0), [T.AffineTransform(1.0, -3.0)])
    v = np.array([-2.0, 0.0, 4.0])
    _close(d.cdf(flambeau.tensor(v)), td.cdf(torch.tensor(v, dtype=torch.float32)), rtol=1e-6)
    p = np.array([0.1, 0.5, 0.9])
    _close(d.icdf(flambeau.tensor(p)), td.icdf(torch.tensor(p, dtype=torch.float32)),
           rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_shapes_expand_and_rsample_gradcheck(name):
    d, params, _ = _build("flambeau", name)
    batch, event = tuple(d.batch_shape), tuple(d.event_shape)
    flambeau.manual_seed(0)
    s = d.sample((5, 2))
    assert tuple(s.shape) == (5, 2) + batch + event
    assert not s.requires_grad
    assert bool(d.support.check(s).all())
    r = d.rsample((3,))
    assert tuple(r.shape) == (3,) + batch + event and r.requires_grad
    e = d.expand((4,) + batch)
    assert tuple(e.batch_shape) == (4,) + batch and tuple(e.event_shape) == event
    lp = e.log_prob(s[0, 0])
    assert tuple(lp.shape) == (4,) + batch
    np.testing.assert_allclose(_np(lp[1]), _np(d.log_prob(s[0, 0])), rtol=1e-12)
    assert tuple(e.sample().shape) == (4,) + batch + event

    # rsample through a fixed noise (the same seed) is differentiable w.r.t. the parameters
    def f(*ps):
        flambeau.manual_seed(1)
        args = dict(zip(_names(name), ps))
        return _rebuild(name, args).rsample((2,))
    assert gradcheck(f, [p.detach().requires_grad_(True) for p in params])


def _names(name):
    return _cases()[0][name][1]


def _rebuild(name, given):
    cases, a = _cases()
    params = {k: flambeau.tensor(v, dtype=F64) for k, v in a.items()}
    # keep matrix parameters valid under finite-difference perturbations of single entries
    fix = {"cov": lambda m: (m + m.mT) / 2, "prec": lambda m: (m + m.mT) / 2,
           "tril": lambda m: m.tril()}
    params.update({k: fix.get(k, lambda m: m)(v) for k, v in given.items()})
    return cases[name][0](FD, params)


@pytest.mark.parametrize("name", ["mvn_cov", "lowrank", "independent", "gumbel",
                                  "weibull", "halfnormal"])
def test_sample_moments(name):
    d, _, _ = _build("flambeau", name)
    flambeau.manual_seed(0)
    s = _np(d.sample((40000,)))
    mean, var = _np(d.mean), _np(d.variance)
    np.testing.assert_allclose(s.mean(0), mean, atol=0.05 * np.sqrt(var).max() + 0.03)
    np.testing.assert_allclose(s.var(0), var, rtol=0.1)
    if name in ("mvn_cov", "lowrank"):
        cov = _np(d.covariance_matrix)[0]
        np.testing.assert_allclose(np.cov(s[:, 0].T), cov, atol=0.1 * np.abs(cov).max())


def test_mvn_parameterizations_agree():
    a = _arrays()
    loc = flambeau.tensor(a["loc1"], dtype=F64)
    cov = flambeau.tensor(a["cov"][0], dtype=F64)
    d1 = FD.MultivariateNormal(loc, covariance_matrix=cov)
    d2 = FD.MultivariateNormal(loc, precision_matrix=flambeau.linalg.inv(cov))
    d3 = FD.MultivariateNormal(loc, scale_tril=flambeau.linalg.cholesky(cov))
    x = flambeau.tensor(_rng(5).standard_normal((6, 3)), dtype=F64)
    for d in (d2, d3):
        np.testing.assert_allclose(_np(d.log_prob(x)), _np(d1.log_prob(x)), rtol=1e-10)
        np.testing.assert_allclose(_np(d.scale_tril), _np(d1.scale_tril), rtol=1e-9,
                                   atol=1e-12)
        np.testing.assert_allclose(_np(d.covariance_matrix), _np(cov), rtol=1e-9)
        np.testing.assert_allclose(_np(d.precision_matrix), np.linalg.inv(_np(cov)),
                                   rtol=1e-9)
    lr = FD.LowRankMultivariateNormal(loc, flambeau.tensor(a["factor"][0], dtype=F64),
                                      flambeau.tensor(a["diag"][0], dtype=F64))
    full = FD.MultivariateNormal(loc, covariance_matrix=lr.covariance_matrix)
    np.testing.assert_allclose(_np(lr.log_prob(x)), _np(full.log_prob(x)), rtol=1e-10)
    np.testing.assert_allclose(_np(lr.entropy()), _np(full.entropy()), rtol=1e-10)
    np.testing.assert_allclose(_np(lr.precision_matrix), _np(full.precision_matrix),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(_np(lr.scale_tril), _np(full.scale_tril), rtol=1e-9,
                               atol=1e-12)


def test_mvn_float32_and_python_parameter_dtype():
    d = FD.MultivariateNormal(flambeau.zeros(2), flambeau.eye(2))
    assert d.sample().dtype == flambeau.float32
    assert d.log_prob(flambeau.zeros(2)).dtype == flambeau.float32
    np.testing.assert_allclose(float(d.log_prob(flambeau.zeros(2))), -math.log(2 * math.pi),
                               rtol=1e-6)
    d = FD.LogNormal(0.0, 1.0)
    assert d.mean.dtype == flambeau.get_default_dtype()


def test_mvn_errors():
    with pytest.raises(ValueError, match="loc must be at least one-dimensional."):
        FD.MultivariateNormal(flambeau.tensor(0.0), flambeau.eye(1))
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix or "
                                         "precision_matrix or scale_tril may be specified."):
        FD.MultivariateNormal(flambeau.zeros(2))
    with pytest.raises(ValueError, match="Exactly one of"):
        FD.MultivariateNormal(flambeau.zeros(2), flambeau.eye(2), scale_tril=flambeau.eye(2))
    with pytest.raises(ValueError, match="scale_tril matrix must be at least two-dimensional"):
        FD.MultivariateNormal(flambeau.zeros(2), scale_tril=flambeau.ones(2))
    with pytest.raises(ValueError, match="covariance_matrix matrix must be at least "
                                         "two-dimensional"):
        FD.MultivariateNormal(flambeau.zeros(2), flambeau.ones(2))
    with pytest.raises(ValueError, match="Expected parameter covariance_matrix"):
        FD.MultivariateNormal(flambeau.zeros(2), -flambeau.eye(2))
    with pytest.raises(ValueError, match="Expected parameter scale_tril"):
        FD.MultivariateNormal(flambeau.zeros(2), scale_tril=flambeau.ones(2, 2))
    d = FD.MultivariateNormal(flambeau.zeros(2), flambeau.eye(2))
    with pytest.raises(ValueError, match="The right-most size of value must match "
                                         "event_shape"):
        d.log_prob(flambeau.zeros(3))
    with pytest.raises(ValueError, match="cov_factor must be at least two-dimensional"):
        FD.LowRankMultivariateNormal(flambeau.zeros(2), flambeau.ones(2), flambeau.ones(2))
    with pytest.raises(ValueError, match="cov_factor must be a batch of matrices with shape "
                                         "2 x m"):
        FD.LowRankMultivariateNormal(flambeau.zeros(2), flambeau.ones(3, 1), flambeau.ones(2))
    with pytest.raises(ValueError, match="cov_diag must be a batch of vectors with shape"):
        FD.LowRankMultivariateNormal(flambeau.zeros(2), flambeau.ones(2, 1), flambeau.ones(3))
    with pytest.raises(ValueError, match="Incompatible batch shapes"):
        FD.LowRankMultivariateNormal(flambeau.zeros(3, 2), flambeau.ones(4, 2, 1),
                                     flambeau.ones(2))
    with pytest.raises(ValueError, match="Expected parameter cov_diag"):
        FD.LowRankMultivariateNormal(flambeau.zeros(2), flambeau.ones(2, 1), -flambeau.ones(2))


def test_transformed_errors():
    n = FD.Normal(0.0, 1.0)
    with pytest.raises(ValueError, match="transforms must be a Transform or a list of "
                                         "Transforms"):
        FD.TransformedDistribution(n, [T.ExpTransform(), 3])
    with pytest.raises(ValueError, match="transforms must be a Transform or list, but was"):
        FD.TransformedDistribution(n, 3)
    with pytest.raises(ValueError, match="base_distribution needs to have shape with size at "
                                         "least 1"):
        FD.TransformedDistribution(n, T.StickBreakingTransform())
    with pytest.raises(ValueError, match="Expected parameter scale"):
        FD.LogNormal(0.0, -1.0)
    with pytest.raises(ValueError, match="Expected parameter scale"):
        FD.HalfNormal(flambeau.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="Expected value argument"):
        FD.LogNormal(0.0, 1.0).log_prob(flambeau.tensor([-1.0]))
    with pytest.raises(ValueError, match="Expected value argument"):
        FD.HalfNormal(1.0).log_prob(flambeau.tensor([-1.0]))
    d = FD.HalfNormal(1.0, validate_args=False)
    assert float(d.log_prob(flambeau.tensor(-1.0))) == -math.inf


def test_transformed_broadcasts_base_to_transform_parameters():
    d = FD.TransformedDistribution(FD.Normal(0.0, 1.0),
                                   T.AffineTransform(flambeau.zeros(3), 2.0))
    assert tuple(d.batch_shape) == (3,) and tuple(d.base_dist.batch_shape) == (3,)
    d = FD.TransformedDistribution(FD.Normal(flambeau.zeros(3), 1.0),
                                   T.StickBreakingTransform())
    assert tuple(d.batch_shape) == () and tuple(d.event_shape) == (4,)
    assert isinstance(d.base_dist, FD.Independent)
    d = FD.TransformedDistribution(FD.Normal(0.0, 1.0), [])
    assert d.support is d.base_dist.support
    np.testing.assert_allclose(float(d.log_prob(flambeau.tensor(0.0))),
                               -0.5 * math.log(2 * math.pi), rtol=1e-6)


def test_independent_errors_and_properties():
    base = FD.Normal(flambeau.zeros(2, 3), flambeau.ones(2, 3))
    with pytest.raises(ValueError, match=r"Expected reinterpreted_batch_ndims <= "
                                         r"len\(base_distribution.batch_shape\), actual 3 vs 2"):
        FD.Independent(base, 3)
    d = FD.Independent(base, 1)
    assert repr(d).startswith("Independent(Normal(") and repr(d).endswith(", 1)")
    assert d.has_rsample and not d.has_enumerate_support
    assert FD.Independent(base, 0).support is base.support
    with pytest.raises(NotImplementedError, match="Enumeration over cartesian product is not "
                                                  "implemented"):
        d.enumerate_support()
    with pytest.raises(ValueError, match="Expected value argument"):
        FD.Independent(FD.HalfNormal(flambeau.ones(3)), 1).log_prob(
            flambeau.tensor([1.0, -1.0, 1.0]))


def test_independent_enumerate_support():
    base = FD.Bernoulli(flambeau.tensor([0.3, 0.6]))
    d = FD.Independent(base, 0)
    assert d.has_enumerate_support
    np.testing.assert_array_equal(_np(d.enumerate_support()), _np(base.enumerate_support()))


# ---- KL divergence -------------------------------------------------------------------------

def _kl_pairs():
    return ["mvn_mvn", "mvn_lowrank", "lowrank_mvn", "lowrank_lowrank", "independent",
            "transformed", "lognormal"]


def _kl_build(mod, tensor, pair):
    a = _arrays()
    p = {k: tensor(v) for k, v in a.items()}
    cov2 = tensor(_spd(3, (), 7))
    mvn1 = mod.MultivariateNormal(p["loc"], covariance_matrix=p["cov"])
    mvn2 = mod.MultivariateNormal(p["loc1"], scale_tril=_cholesky(cov2))
    lr1 = mod.LowRankMultivariateNormal(p["loc"], p["factor"], p["diag"])
    lr2 = mod.LowRankMultivariateNormal(p["loc1"] * 0.5, p["factor"][0] * 0.3,
                                        p["diag"][1] + 0.2)
    ind1 = mod.Independent(mod.Normal(p["loc"], p["scale"]), 1)
    ind2 = mod.Independent(mod.Normal(p["loc"] * 0.3, p["scale"] + 1.0), 1)
    ln1 = mod.LogNormal(p["loc"], p["scale"])
    ln2 = mod.LogNormal(p["loc"] + 1.0, p["scale"] * 2.0)
    tr1 = mod.TransformedDistribution(mod.Normal(p["loc"], p["scale"]),
                                      [mod.ExpTransform(), mod.AffineTransform(1.0, 2.0)])
    tr2 = mod.TransformedDistribution(mod.Normal(p["loc"] * 2, p["scale"] + 0.5),
                                      [mod.ExpTransform(), mod.AffineTransform(1.0, 2.0)])
    return {"mvn_mvn": (mvn1, mvn2), "mvn_lowrank": (mvn1, lr2), "lowrank_mvn": (lr1, mvn2),
            "lowrank_lowrank": (lr1, lr2), "independent": (ind1, ind2),
            "transformed": (tr1, tr2), "lognormal": (ln1, ln2)}[pair], list(p.values())


def _cholesky(m):
    if isinstance(m, flambeau.Tensor):
        return flambeau.linalg.cholesky(m)
    return torch.linalg.cholesky(m)


@needs_torch
@pytest.mark.parametrize("pair", _kl_pairs())
def test_kl_parity(pair):
    (p, q), params = _kl_build(FD, lambda v: flambeau.tensor(v, dtype=F64, requires_grad=True),
                               pair)
    (tp, tq), tparams = _kl_build(
        _torch_namespace(), lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True),
        pair)
    kl = FD.kl_divergence(p, q)
    tkl = torch.distributions.kl_divergence(tp, tq)
    assert tuple(kl.shape) == tuple(tkl.shape)
    _close(kl, tkl, rtol=1e-9)
    grads = flambeau.autograd.grad(kl.sum(), params, allow_unused=True)
    tgrads = torch.autograd.grad(tkl.sum(), tparams, allow_unused=True)
    for g, tg in zip(grads, tgrads):
        if tg is None:
            assert g is None
        else:
            _close(g, tg, rtol=1e-8, atol=1e-9)


def test_kl_values_and_errors():
    loc = flambeau.tensor([1.0, 2.0], dtype=F64)
    p = FD.MultivariateNormal(loc, flambeau.eye(2, dtype=F64))
    assert float(FD.kl_divergence(p, p)) == pytest.approx(0.0, abs=1e-12)
    q = FD.MultivariateNormal(loc * 0, 2 * flambeau.eye(2, dtype=F64))
    # closed form for isotropic covariances
    expected = 0.5 * (2 * 0.5 + 5 / 2 - 2 + 2 * math.log(2))
    assert float(FD.kl_divergence(p, q)) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="KL-divergence between two Multivariate Normals with "
                                         "different event shapes cannot be computed"):
        FD.kl_divergence(p, FD.MultivariateNormal(flambeau.zeros(3), flambeau.eye(3)))
    lr = FD.LowRankMultivariateNormal(flambeau.zeros(3), flambeau.ones(3, 1), flambeau.ones(3))
    with pytest.raises(ValueError, match=r"two \(Low Rank\) Multivariate Normals"):
        FD.kl_divergence(lr, FD.MultivariateNormal(flambeau.zeros(2), flambeau.eye(2)))
    n = FD.Normal(flambeau.zeros(2, 3), 1.0)
    with pytest.raises(NotImplementedError):
        FD.kl_divergence(FD.Independent(n, 1), FD.Independent(n, 2))
    with pytest.raises(NotImplementedError):
        FD.kl_divergence(FD.TransformedDistribution(n, T.ExpTransform()),
                         FD.TransformedDistribution(n, T.SigmoidTransform()))
