"""flambeau.distributions, session 11: MixtureSameFamily, the relaxed (Concrete)
distributions, ContinuousBernoulli, Kumaraswamy, InverseGamma, FisherSnedecor, VonMises,
GeneralizedPareto, Wishart and LKJCholesky.

Parity with torch.distributions of log_prob / cdf / icdf / entropy / moments and of their
gradients w.r.t. the parameters; sample shapes, expand, seeded sample statistics, rsample
gradients with the noise held fixed, and the errors.
"""

import math
import warnings

import numpy as np
import pytest

import flambeau
import flambeau.distributions as D
from flambeau.distributions import constraints


def _torch():
    return pytest.importorskip("torch")


def _lib(lib):
    """The distributions module and a float64 tensor factory of ``lib``."""
    if lib == "flambeau":
        return D, lambda v: flambeau.tensor(v, dtype=flambeau.float64)
    torch = _torch()
    return torch.distributions, lambda v: torch.tensor(v, dtype=torch.float64)


def _np(t):
    return np.asarray(t.detach().cpu().numpy() if hasattr(t, "detach") else t, dtype=np.float64)


def _close(a, b, rtol=1e-7, atol=1e-9):
    a, b = _np(a), _np(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


def _corr_cholesky(n, d, seed):
    """``n`` Cholesky factors of ``d x d`` correlation matrices (rows of unit norm to
    rounding)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        a = rng.normal(size=(d, d + 2))
        c = a @ a.T
        s = np.sqrt(np.diag(c))
        lower = np.linalg.cholesky(c / np.outer(s, s))
        out.append(lower / np.linalg.norm(lower, axis=-1, keepdims=True))
    return np.stack(out)


def _spd(n, d, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, d, d + 3))
    return a @ a.transpose(0, 2, 1) / 3 + 0.1 * np.eye(d)


_R = [[0.3, -1.2, 2.0], [0.0, 0.5, -0.7]]
_POS = [[0.7, 1.5, 3.0], [2.0, 0.4, 1.1]]
_POS2 = [[1.0, 0.3, 2.5], [0.7, 1.0, 4.0]]
_P = [[0.2, 0.5, 0.9], [0.35, 0.05, 0.6]]
_COV = _spd(2, 3, 0).tolist()
_ICDF_IN = [[0.1, 0.5, 0.8], [0.3, 0.95, 0.01]]

# name -> (params, build(mod, p), values for log_prob / cdf, methods compared, tolerances)
CASES = {
    "MixtureSameFamily": (
        dict(logits=[[0.2, -0.3, 1.0], [0.0, 0.5, -1.0]], loc=_R, scale=_POS),
        lambda m, p: m.MixtureSameFamily(m.Categorical(logits=p["logits"]),
                                         m.Normal(p["loc"], p["scale"])),
        [0.3, -1.2], ("log_prob", "mean", "variance", "stddev", "cdf"), {}),
    "MixtureSameFamilyMultivariate": (
        dict(probs=[0.2, 0.3, 0.5], loc=[[[0.3, -1.0], [1.0, 2.0], [0.0, 0.5]]] * 2,
             scale=[[[0.7, 1.5], [2.0, 0.4], [1.1, 1.0]]] * 2),
        lambda m, p: m.MixtureSameFamily(m.Categorical(probs=p["probs"]),
                                         m.Independent(m.Normal(p["loc"], p["scale"]), 1)),
        [[0.5, 0.5], [-1.0, 2.0]], ("log_prob", "mean", "variance"), {}),
    "RelaxedBernoulli": (
        dict(temperature=[0.5, 1.5, 0.3], probs=_P),
        lambda m, p: m.RelaxedBernoulli(p["temperature"], probs=p["probs"]),
        [[0.1, 0.5, 0.99], [0.7, 0.02, 0.4]], ("log_prob",), {}),
    "RelaxedBernoulliLogits": (
        dict(temperature=0.8, logits=_R),
        lambda m, p: m.RelaxedBernoulli(p["temperature"], logits=p["logits"]),
        [[0.1, 0.5, 0.99], [0.7, 0.02, 0.4]], ("log_prob",), {}),
    "RelaxedOneHotCategorical": (
        dict(temperature=0.7, logits=[[0.2, -0.5, 1.3], [0.1, 2.1, -0.8]]),
        lambda m, p: m.RelaxedOneHotCategorical(p["temperature"], logits=p["logits"]),
        [[0.2, 0.3, 0.5], [0.05, 0.9, 0.05]], ("log_prob",), {}),
    "RelaxedOneHotCategoricalProbs": (
        dict(temperature=2.0, probs=[[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]]),
        lambda m, p: m.RelaxedOneHotCategorical(p["temperature"], probs=p["probs"]),
        [[0.2, 0.3, 0.5], [0.05, 0.9, 0.05]], ("log_prob",), {}),
    "ContinuousBernoulli": (
        # 0.4995 lies in the Taylor region around 1/2
        dict(probs=[[0.2, 0.5, 0.9], [0.35, 0.4995, 0.01]]),
        lambda m, p: m.ContinuousBernoulli(p["probs"]),
        [[0.1, 0.5, 0.99], [0.7, 0.02, 0.4]],
        ("log_prob", "mean", "variance", "stddev", "entropy", "cdf", "icdf"), {}),
    "ContinuousBernoulliLogits": (
        dict(logits=[[0.3, -1.2, 2.0], [0.0, 0.0005, -0.7]]),
        lambda m, p: m.ContinuousBernoulli(logits=p["logits"]),
        [[0.1, 0.5, 0.99], [0.7, 0.02, 0.4]],
        ("log_prob", "mean", "variance", "entropy", "cdf", "icdf"), {}),
    "Kumaraswamy": (
        dict(concentration1=_POS, concentration0=_POS2),
        lambda m, p: m.Kumaraswamy(p["concentration1"], p["concentration0"]),
        [[0.1, 0.5, 0.99], [0.7, 0.02, 0.4]],
        ("log_prob", "mean", "variance", "stddev", "entropy", "cdf", "icdf"), {}),
    "InverseGamma": (
        dict(concentration=[[0.7, 1.5, 3.0], [2.5, 0.4, 4.1]], rate=_POS2),
        lambda m, p: m.InverseGamma(p["concentration"], p["rate"]),
        _POS[::-1], ("log_prob", "mean", "mode", "variance", "entropy", "cdf"), {}),
    "FisherSnedecor": (
        dict(df1=[[0.7, 2.5, 3.0], [5.0, 0.4, 11.0]], df2=[[1.0, 2.5, 4.5], [7.0, 3.0, 12.0]]),
        lambda m, p: m.FisherSnedecor(p["df1"], p["df2"]),
        _POS, ("log_prob", "mean", "mode", "variance"), {}),
    "VonMises": (
        dict(loc=_R, concentration=[[0.7, 1.5, 3.0], [2.0, 0.04, 11.0]]),
        lambda m, p: m.VonMises(p["loc"], p["concentration"]),
        [[0.0, 2.5, -3.0], [7.0, -0.3, 0.2]], ("log_prob", "mean", "mode", "variance"),
        # torch evaluates log I0 / I1 with a polynomial approximation good to about 2e-7
        dict(rtol=1e-6, atol=1e-6)),
    "GeneralizedPareto": (
        dict(loc=_R, scale=_POS, concentration=[[-0.4, 0.2, 0.7], [1.2, -1.0, 0.3]]),
        lambda m, p: m.GeneralizedPareto(p["loc"], p["scale"], p["concentration"]),
        # torch's GeneralizedPareto.log_prob / cdf fail in float64 (test_generalized_pareto_*)
        [[0.5, -1.0, 4.0], [2.0, 0.8, 0.0]], ("mean", "mode", "variance", "entropy", "icdf"),
        {}),
    "Wishart": (
        dict(df=[4.0, 3.5], covariance_matrix=_COV),
        lambda m, p: m.Wishart(p["df"], covariance_matrix=p["covariance_matrix"]),
        _spd(2, 3, 1).tolist(), ("log_prob", "mean", "mode", "variance", "entropy"), {}),
    "WishartScaleTril": (
        dict(df=5.0, scale_tril=np.linalg.cholesky(np.array(_COV)).tolist()),
        lambda m, p: m.Wishart(p["df"], scale_tril=p["scale_tril"]),
        _spd(2, 3, 1).tolist(), ("log_prob", "mean", "variance", "entropy"), {}),
    "WishartPrecision": (
        dict(df=[3.0, 6.0], precision_matrix=_COV),
        lambda m, p: m.Wishart(p["df"], precision_matrix=p["precision_matrix"]),
        _spd(2, 3, 1).tolist(), ("log_prob", "mean", "mode", "variance", "entropy"),
        dict(rtol=1e-6, atol=1e-8)),
    "LKJCholesky": (
        dict(concentration=[0.5, 1.0, 2.5]),
        lambda m, p: m.LKJCholesky(3, p["concentration"]),
        _corr_cholesky(3, 3, 0).tolist(), ("log_prob",), {}),
    "LKJCholesky2": (
        dict(concentration=[[0.3, 1.0, 4.0]]),
        lambda m, p: m.LKJCholesky(2, p["concentration"]),
        _corr_cholesky(3, 2, 1).tolist(), ("log_prob",), {}),
}
_PUBLIC = {"MixtureSameFamily", "RelaxedBernoulli", "RelaxedOneHotCategorical",
           "ContinuousBernoulli", "Kumaraswamy", "InverseGamma", "FisherSnedecor", "VonMises",
           "GeneralizedPareto", "Wishart", "LKJCholesky"}


def _make(name, lib, grad=True):
    params, build, _, _, _ = CASES[name]
    mod, tensor = _lib(lib)
    args, leaves = {}, {}
    for key, value in params.items():
        t = tensor(value)
        if grad:
            t.requires_grad_(True)
            leaves[key] = t
        args[key] = t
    return build(mod, args), leaves


def _call(name, d, method, lib):
    if method in ("cdf", "icdf"):
        _, tensor = _lib(lib)
        return getattr(d, method)(tensor(_ICDF_IN if method == "icdf" else CASES[name][2]))
    attr = getattr(d, method)
    return attr() if callable(attr) else attr


def test_new_names_are_exported_and_documented():
    for name in _PUBLIC:
        assert name in D.__all__, name
        doc = getattr(D, name).__doc__
        assert "Examples\n    --------" in doc, name
    assert "MixtureSameFamilyConstraint" in constraints.__all__


@pytest.mark.parametrize("name", sorted(CASES))
def test_parity_values_and_gradients(name):
    torch = _torch()
    params, _, values, methods, tol = CASES[name]
    tol = {"rtol": 1e-7, "atol": 1e-9, **tol}
    for method in methods:
        # a fresh pair per method: each gradient below consumes its graph
        fd, fleaves = _make(name, "flambeau")
        td, tleaves = _make(name, "torch")
        assert tuple(fd.batch_shape) == tuple(td.batch_shape)
        assert tuple(fd.event_shape) == tuple(td.event_shape)
        if method == "log_prob":
            fo = fd.log_prob(_lib("flambeau")[1](values))
            to = td.log_prob(_lib("torch")[1](values))
        else:
            fo, to = _call(name, fd, method, "flambeau"), _call(name, td, method, "torch")
        _close(fo, to, **tol)
        if not to.requires_grad or method == "mode":
            continue
        if method == "cdf" and name == "InverseGamma":
            continue  # torch has no derivative of igamma w.r.t. the concentration
        finite = torch.isfinite(to)
        keys = list(fleaves)
        fg = flambeau.autograd.grad(fo[flambeau.tensor(finite.numpy())].sum(),
                                    [fleaves[k] for k in keys], allow_unused=True)
        tg = torch.autograd.grad(to[finite].sum(), [tleaves[k] for k in keys],
                                 allow_unused=True)
        for k, a, b in zip(keys, fg, tg):
            if b is None:
                continue
            assert a is not None, (name, method, k)
            a, b = _np(a), _np(b)
            if k == "scale_tril":
                # only the lower triangle is a parameter; torch's cholesky_solve also sends
                # gradient to the (zero) upper triangle
                a, b = np.tril(a), np.tril(b)
            # torch's NaN-filled moments (FisherSnedecor) leak NaN into the gradients of the
            # other entries; ours stay finite
            assert np.isfinite(a).all(), (name, method, k)
            ok = np.isfinite(b)
            _close(a[ok], b[ok], rtol=max(tol["rtol"], 1e-6), atol=max(tol["atol"], 1e-8))


@pytest.mark.parametrize("name", sorted(CASES))
def test_constraints_and_flags_match_torch(name):
    fd, _ = _make(name, "flambeau", grad=False)
    td, _ = _make(name, "torch", grad=False)
    assert fd.has_rsample == td.has_rsample
    assert list(fd.arg_constraints) == list(td.arg_constraints)
    for key, c in fd.arg_constraints.items():
        assert type(c).__name__.lstrip("_") == type(td.arg_constraints[key]).__name__.lstrip("_")
        assert repr(c) == repr(td.arg_constraints[key]), key
    fs, ts = fd.support, td.support
    assert type(fs).__name__.lstrip("_") == type(ts).__name__.lstrip("_")
    assert fs.event_dim == ts.event_dim and fs.is_discrete == ts.is_discrete
    if name != "GeneralizedPareto":
        assert repr(fs) == repr(ts)
    else:
        _close(fs.lower_bound, ts.lower_bound)
        _close(fs.upper_bound, ts.upper_bound)


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_shapes_support_and_expand(name):
    d, _ = _make(name, "flambeau", grad=False)
    values = _lib("flambeau")[1](CASES[name][2])
    batch, event = tuple(d.batch_shape), tuple(d.event_shape)
    flambeau.manual_seed(0)
    for sample_shape in ((), (5,), (4, 3)):
        s = d.sample(sample_shape)
        assert tuple(s.shape) == sample_shape + batch + event
        assert s.dtype == flambeau.float64
        assert not s.requires_grad
        assert bool(d.support.check(s).all()), name
        if d.has_rsample:
            assert tuple(d.rsample(sample_shape).shape) == sample_shape + batch + event
    e = d.expand((5,) + batch)
    assert type(e) is type(d)
    assert tuple(e.batch_shape) == (5,) + batch and tuple(e.event_shape) == event
    lp = e.log_prob(values)
    assert tuple(lp.shape) == (5,) + batch
    _close(lp[3], d.log_prob(values), rtol=1e-12, atol=1e-12)
    assert tuple(e.sample((2,)).shape) == (2, 5) + batch + event
    if d.has_rsample:
        assert tuple(e.rsample().shape) == (5,) + batch + event


def test_float32_samples_keep_dtype():
    flambeau.manual_seed(0)
    cases = [
        D.MixtureSameFamily(D.Categorical(flambeau.ones(2)), D.Normal(flambeau.zeros(2), 1.0)),
        D.RelaxedBernoulli(flambeau.tensor(0.5), probs=flambeau.tensor([0.3])),
        D.RelaxedOneHotCategorical(flambeau.tensor(0.5), probs=flambeau.ones(3)),
        D.ContinuousBernoulli(flambeau.tensor([0.3])), D.Kumaraswamy(2.0, 3.0),
        D.InverseGamma(2.0, 3.0), D.FisherSnedecor(2.0, 3.0), D.VonMises(0.0, 1.0),
        D.GeneralizedPareto(0.0, 1.0, 0.1), D.Wishart(3.0, covariance_matrix=flambeau.eye(2)),
        D.LKJCholesky(3, 1.0),
    ]
    for d in cases:
        assert d.sample((2,)).dtype == flambeau.float32, type(d).__name__


# ------------------------------------------------------------------ sample statistics


def _check_moments(samples, mean, var, n_se=5.0, var_rtol=0.1):
    n = samples.shape[0]
    m, v = _np(samples.mean(0)), _np(samples.var(0))
    mean, var = _np(mean), _np(var)
    se = np.sqrt(var / n)
    assert np.all(np.abs(m - mean) <= n_se * se + 1e-9), (m, mean, se)
    np.testing.assert_allclose(v, var, rtol=var_rtol, atol=1e-6)


_MOMENT_CASES = {
    "MixtureSameFamily": lambda: D.MixtureSameFamily(
        D.Categorical(probs=flambeau.tensor([[0.3, 0.7], [0.5, 0.5]], dtype=flambeau.float64)),
        D.Normal(flambeau.tensor([[-2.0, 1.0], [0.0, 3.0]], dtype=flambeau.float64),
                 flambeau.tensor([[0.5, 1.0], [2.0, 0.3]], dtype=flambeau.float64))),
    "ContinuousBernoulli": lambda: D.ContinuousBernoulli(
        flambeau.tensor([0.1, 0.4999, 0.8], dtype=flambeau.float64)),
    "Kumaraswamy": lambda: D.Kumaraswamy(flambeau.tensor([0.5, 2.0, 5.0], dtype=flambeau.float64),
                                         flambeau.tensor([3.0, 2.0, 0.7], dtype=flambeau.float64)),
    "InverseGamma": lambda: D.InverseGamma(flambeau.tensor([5.0, 9.0], dtype=flambeau.float64),
                                           flambeau.tensor([2.0, 0.5], dtype=flambeau.float64)),
    "FisherSnedecor": lambda: D.FisherSnedecor(
        flambeau.tensor([3.0, 20.0], dtype=flambeau.float64),
        flambeau.tensor([12.0, 30.0], dtype=flambeau.float64)),
    "GeneralizedPareto": lambda: D.GeneralizedPareto(
        flambeau.tensor([0.0, 1.0, -1.0], dtype=flambeau.float64),
        flambeau.tensor([1.0, 2.0, 0.5], dtype=flambeau.float64),
        flambeau.tensor([-0.5, 0.0, 0.15], dtype=flambeau.float64)),
    "Wishart": lambda: D.Wishart(flambeau.tensor([4.0, 7.5], dtype=flambeau.float64),
                                 covariance_matrix=flambeau.tensor(_COV[:1] * 2,
                                                                   dtype=flambeau.float64)),
}


@pytest.mark.parametrize("name", sorted(_MOMENT_CASES))
def test_seeded_sample_moments(name):
    d = _MOMENT_CASES[name]()
    flambeau.manual_seed(1)
    n = 40000
    s = d.rsample((n,)) if d.has_rsample else d.sample((n,))
    _check_moments(s, d.mean, d.variance)


def test_relaxed_bernoulli_threshold_probability_is_probs():
    # sigmoid((logit(p) + L) / t) > 1/2 exactly when L > -logit(p): probability p, any t
    probs = flambeau.tensor([0.1, 0.5, 0.85], dtype=flambeau.float64)
    for t in (0.1, 1.0, 5.0):
        flambeau.manual_seed(2)
        s = D.RelaxedBernoulli(flambeau.tensor(t, dtype=flambeau.float64), probs=probs).sample(
            (40000,))
        freq = _np((s > 0.5).double().mean(0))
        se = np.sqrt(_np(probs) * (1 - _np(probs)) / 40000)
        assert np.all(np.abs(freq - _np(probs)) <= 5 * se), (t, freq)
    # low temperature: nearly hard samples
    flambeau.manual_seed(3)
    s = D.RelaxedBernoulli(flambeau.tensor(0.01, dtype=flambeau.float64), probs=probs).sample(
        (2000,))
    assert float(((s > 0.01) & (s < 0.99)).double().mean()) < 0.05


def test_relaxed_one_hot_argmax_is_categorical():
    # Gumbel-max: the argmax of a relaxed sample is distributed as Categorical(probs)
    probs = flambeau.tensor([[0.2, 0.5, 0.3], [0.05, 0.15, 0.8]], dtype=flambeau.float64)
    flambeau.manual_seed(4)
    s = D.RelaxedOneHotCategorical(flambeau.tensor(2.0, dtype=flambeau.float64),
                                   probs=probs).sample((40000,))
    assert bool(((s.sum(-1) - 1).abs() < 1e-12).all())
    freq = _np((s.argmax(-1).unsqueeze(-1) == flambeau.arange(3)).double().mean(0))
    se = np.sqrt(_np(probs) * (1 - _np(probs)) / 40000)
    assert np.all(np.abs(freq - _np(probs)) <= 5 * se), freq


def test_von_mises_circular_moments():
    loc = flambeau.tensor([0.5, -3.0, 2.0, 0.0], dtype=flambeau.float64)
    kappa = flambeau.tensor([0.05, 1.0, 4.0, 200.0], dtype=flambeau.float64)
    d = D.VonMises(loc, kappa)
    flambeau.manual_seed(5)
    n = 40000
    s = d.sample((n,))
    assert bool(((s >= -math.pi) & (s < math.pi)).all())
    # E[cos(x - loc)] = I1(k) / I0(k) = 1 - variance, E[sin(x - loc)] = 0
    c, sn = flambeau.cos(s - loc), flambeau.sin(s - loc)
    r = 1 - _np(d.variance)
    c_se = np.sqrt(_np(c.var(0)) / n)
    s_se = np.sqrt(_np(sn.var(0)) / n)
    assert np.all(np.abs(_np(c.mean(0)) - r) <= 5 * c_se + 1e-12)
    assert np.all(np.abs(_np(sn.mean(0))) <= 5 * s_se + 1e-12)
    # the distribution of the angle (kappa = 1): a Kolmogorov-Smirnov test
    scipy_stats = pytest.importorskip("scipy.stats")
    x = _np(s[:, 1])
    # scipy's von Mises cdf is on [loc - pi, loc + pi]; wrap our samples there
    wrapped = np.where(x > -3.0 + math.pi, x - 2 * math.pi, x)
    ks = scipy_stats.kstest(wrapped, scipy_stats.vonmises(1.0, loc=-3.0).cdf)
    assert ks.pvalue > 1e-3


def test_von_mises_log_prob_exact_and_periodic():
    scipy_special = pytest.importorskip("scipy.special")
    kappa = np.array([1e-3, 0.7, 3.75, 11.0, 800.0])
    loc = flambeau.tensor([0.1, -1.0, 2.0, 0.0, 3.0], dtype=flambeau.float64)
    d = D.VonMises(loc, flambeau.tensor(kappa))
    x = flambeau.tensor([0.5, 2.0, -2.5, 0.01, 3.1], dtype=flambeau.float64)
    expected = kappa * np.cos(_np(x) - _np(loc)) - np.log(2 * np.pi) - (
        np.log(scipy_special.i0e(kappa)) + kappa)
    _close(d.log_prob(x), expected, rtol=1e-12, atol=1e-12)
    _close(d.log_prob(x + 2 * math.pi), expected, rtol=1e-10, atol=1e-10)
    _close(d.variance, 1 - scipy_special.i1e(kappa) / scipy_special.i0e(kappa), rtol=1e-12)


def test_lkj_samples_follow_the_lkj_marginals():
    # the correlations of LKJ(eta) in dimension d are (2 Beta(a, a) - 1) with
    # a = eta - 1 + d / 2: mean 0, E[r^2] = 1 / (2a + 1) (torch's sampler is biased for d > 2)
    for dim, eta in ((3, 1.0), (4, 2.0), (5, 0.5)):
        flambeau.manual_seed(6)
        n = 20000
        lower = D.LKJCholesky(dim, flambeau.tensor(eta, dtype=flambeau.float64)).sample((n,))
        assert bool(constraints.corr_cholesky.check(lower).all())
        corr = lower @ lower.mT
        rows, cols = np.tril_indices(dim, -1)
        r = _np(corr)[:, rows, cols]
        a = eta - 1 + dim / 2
        e_r2 = 1 / (2 * a + 1)
        var_r2 = (3 / ((2 * a + 1) * (2 * a + 3))) - e_r2 ** 2  # E[r^4] of symmetric Beta
        assert np.all(np.abs(r.mean(0)) <= 5 * np.sqrt(e_r2 / n)), (dim, r.mean(0))
        assert np.all(np.abs((r ** 2).mean(0) - e_r2) <= 5 * np.sqrt(var_r2 / n)), \
            (dim, (r ** 2).mean(0), e_r2)


def test_lkj_log_prob_normalizes_in_two_dims():
    # d = 2: L = [[1, 0], [r, sqrt(1 - r^2)]]; the density of r integrates to one
    r = np.linspace(-1, 1, 20001)[1:-1]
    lower = np.zeros((r.size, 2, 2))
    lower[:, 0, 0] = 1
    lower[:, 1, 0] = r
    lower[:, 1, 1] = np.sqrt(1 - r * r)
    for eta in (0.7, 1.0, 3.0):
        d = D.LKJCholesky(2, flambeau.tensor(eta, dtype=flambeau.float64), validate_args=False)
        dens = np.exp(_np(d.log_prob(flambeau.tensor(lower))))
        assert abs(np.trapezoid(dens, r) - 1) < 2e-3, eta


def test_wishart_sample_statistics():
    d = _MOMENT_CASES["Wishart"]()
    flambeau.manual_seed(7)
    s = d.rsample((20000,))
    assert bool(constraints.positive_definite.check(s).all())
    # symmetric samples, mean df * Sigma
    _close(s, s.mT)
    _check_moments(s, d.mean, d.variance, var_rtol=0.15)


def test_wishart_low_df_warns_and_singular_samples_warn():
    with pytest.warns(UserWarning, match="Low df values detected"):
        d = D.Wishart(flambeau.tensor(1.0001, dtype=flambeau.float64),
                      covariance_matrix=flambeau.eye(2, dtype=flambeau.float64))
    # chi2(df - 1 = 1e-4) makes A_11 vanish: most samples are singular, even after retries
    flambeau.manual_seed(0)
    with pytest.warns(UserWarning, match="Singular sample detected"):
        s = d.rsample((200,), max_try_correction=2)
    assert tuple(s.shape) == (200, 2, 2)
    # a healthy df: no singular sample, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        D.Wishart(5.0, covariance_matrix=flambeau.eye(3)).rsample((50,))
    # the retry replaces exactly the singular samples
    d = D.Wishart(3.0, covariance_matrix=flambeau.eye(2, dtype=flambeau.float64))
    singular = flambeau.tensor([[1.0, 1.0], [1.0, 1.0]], dtype=flambeau.float64)
    draws = [flambeau.stack([singular, 2 * flambeau.eye(2, dtype=flambeau.float64)]),
             flambeau.stack([3 * flambeau.eye(2, dtype=flambeau.float64)] * 2)]
    d._bartlett = lambda shape: draws.pop(0)
    with pytest.warns(UserWarning, match="Singular sample detected"):
        s = d.rsample((2,))
    assert _np(s).tolist() == [[[3.0, 0.0], [0.0, 3.0]], [[2.0, 0.0], [0.0, 2.0]]]


# ------------------------------------------------------------------ rsample gradients


@pytest.mark.parametrize("name,build,leaves", [
    ("Kumaraswamy", lambda p: D.Kumaraswamy(p[0], p[1]), [[0.5, 2.0, 4.0], [3.0, 1.0, 0.7]]),
    ("ContinuousBernoulli", lambda p: D.ContinuousBernoulli(p[0]), [[0.1, 0.4999, 0.8]]),
    ("ContinuousBernoulliLogits", lambda p: D.ContinuousBernoulli(logits=p[0]),
     [[-2.0, 0.3, 4.0]]),
    ("GeneralizedPareto", lambda p: D.GeneralizedPareto(p[0], p[1], p[2]),
     [[0.0, 1.0, -1.0], [1.0, 2.0, 0.5], [-0.5, 0.0, 0.3]]),
])
def test_rsample_is_icdf_of_fixed_noise(name, build, leaves):
    # each inverse-CDF sampler: the gradient of the sample equals that of icdf(cdf(sample))
    params = [flambeau.tensor(v, dtype=flambeau.float64, requires_grad=True) for v in leaves]
    d = build(params)
    flambeau.manual_seed(5)
    x = d.rsample((3,))
    u = d.cdf(x.detach()).detach()  # the noise, held fixed
    y = d.icdf(u)
    _close(x, y, rtol=1e-7, atol=1e-9)
    gx = flambeau.autograd.grad(x.sum(), params, retain_graph=True)
    gy = flambeau.autograd.grad(y.sum(), params)
    for a, b in zip(gx, gy):
        _close(a, b, rtol=1e-6, atol=1e-9)


def test_kumaraswamy_rsample_gradient_vs_torch_with_the_same_noise():
    torch = _torch()
    a = flambeau.tensor([0.5, 2.0, 4.0], dtype=flambeau.float64, requires_grad=True)
    b = flambeau.tensor([3.0, 1.0, 0.7], dtype=flambeau.float64, requires_grad=True)
    flambeau.manual_seed(8)
    x = D.Kumaraswamy(a, b).rsample((4,))
    flambeau.manual_seed(8)
    u = _np(flambeau.rand(4, 3, dtype=flambeau.float64))
    ta = torch.tensor(_np(a), requires_grad=True)
    tb = torch.tensor(_np(b), requires_grad=True)
    tx = (1 - torch.tensor(u).pow(1 / tb)).pow(1 / ta)
    _close(x, tx, rtol=1e-12)
    w = np.arange(12.0).reshape(4, 3)
    ga, gb = flambeau.autograd.grad((x * flambeau.tensor(w)).sum(), [a, b])
    tga, tgb = torch.autograd.grad((tx * torch.tensor(w)).sum(), [ta, tb])
    _close(ga, tga, rtol=1e-10)
    _close(gb, tgb, rtol=1e-10)


def test_relaxed_bernoulli_rsample_gradient_with_fixed_noise():
    logits = flambeau.tensor([-1.0, 0.3, 2.0], dtype=flambeau.float64, requires_grad=True)
    temp = flambeau.tensor(0.7, dtype=flambeau.float64, requires_grad=True)
    flambeau.manual_seed(9)
    x = D.RelaxedBernoulli(temp, logits=logits).rsample((5,))
    flambeau.manual_seed(9)
    u = np.clip(_np(flambeau.rand(5, 3, dtype=flambeau.float64)), 2.3e-16, 1 - 2.3e-16)
    s = (_np(logits) + np.log(u) - np.log1p(-u)) / 0.7
    xs = 1 / (1 + np.exp(-s))
    _close(x, xs, rtol=1e-12)
    gl, gt = flambeau.autograd.grad(x.sum(), [logits, temp])
    # dx/dl = x (1 - x) / t, dx/dt = -x (1 - x) s / t
    _close(gl, (xs * (1 - xs) / 0.7).sum(0), rtol=1e-10)
    _close(gt, (-xs * (1 - xs) * s / 0.7).sum(), rtol=1e-10)


def test_relaxed_one_hot_rsample_gradient_vs_torch_with_the_same_noise():
    torch = _torch()
    logits = flambeau.tensor([[0.2, -0.5, 1.3], [0.1, 2.1, -0.8]], dtype=flambeau.float64,
                             requires_grad=True)
    temp = flambeau.tensor(0.6, dtype=flambeau.float64, requires_grad=True)
    flambeau.manual_seed(10)
    x = D.RelaxedOneHotCategorical(temp, logits=logits).rsample((4,))
    flambeau.manual_seed(10)
    u = np.clip(_np(flambeau.rand(4, 2, 3, dtype=flambeau.float64)), 2.3e-16, 1 - 2.3e-16)
    tl = torch.tensor(_np(logits), requires_grad=True)
    tt = torch.tensor(0.6, dtype=torch.float64, requires_grad=True)
    gumbel = -torch.log(-torch.log(torch.tensor(u)))
    tx = torch.softmax((torch.log_softmax(tl, -1) + gumbel) / tt, -1)
    _close(x, tx, rtol=1e-10)
    w = np.arange(24.0).reshape(4, 2, 3)
    g = flambeau.autograd.grad((x * flambeau.tensor(w)).sum(), [logits, temp])
    tg = torch.autograd.grad((tx * torch.tensor(w)).sum(), [tl, tt])
    for a, b in zip(g, tg):
        _close(a, b, rtol=1e-9, atol=1e-12)


def test_inverse_gamma_rsample_gradient_matches_quantile_derivative():
    # y = rate / x with x ~ Gamma(a, 1) held at its quantile: dy/drate = y / rate, and
    # dy/da = -(dF/da) / f with F(y) = Q(a, rate / y) the upper regularized gamma function
    scipy_special = pytest.importorskip("scipy.special")
    a = flambeau.tensor([0.7, 2.0, 9.0], dtype=flambeau.float64, requires_grad=True)
    rate = flambeau.tensor([1.5, 0.3, 4.0], dtype=flambeau.float64, requires_grad=True)
    flambeau.manual_seed(11)
    y = D.InverseGamma(a, rate).rsample()
    ga, gr = flambeau.autograd.grad(y.sum(), [a, rate])
    av, rv, yv = _np(a), _np(rate), _np(y)
    _close(gr, yv / rv, rtol=1e-10)
    h = 1e-6 * av
    dfda = (scipy_special.gammaincc(av + h, rv / yv)
            - scipy_special.gammaincc(av - h, rv / yv)) / (2 * h)
    pdf = np.exp(av * np.log(rv) - (av + 1) * np.log(yv) - rv / yv - scipy_special.gammaln(av))
    _close(ga, -dfda / pdf, rtol=1e-4)


def test_fisher_snedecor_and_wishart_pathwise_gradients_of_the_mean():
    # the sample mean's gradient estimates the gradient of the mean
    df1 = flambeau.tensor(4.0, dtype=flambeau.float64, requires_grad=True)
    df2 = flambeau.tensor(9.0, dtype=flambeau.float64, requires_grad=True)
    flambeau.manual_seed(12)
    m = D.FisherSnedecor(df1, df2).rsample((40000,)).mean()
    g1, g2 = flambeau.autograd.grad(m, [df1, df2])
    # mean = df2 / (df2 - 2): d/ddf1 = 0, d/ddf2 = -2 / (df2 - 2)^2 = -0.0408
    assert abs(float(g1)) < 0.01 and abs(float(g2) + 2 / 49) < 0.01, (g1, g2)
    df = flambeau.tensor(4.5, dtype=flambeau.float64, requires_grad=True)
    lower = flambeau.tensor([[1.0, 0.0], [0.5, 2.0]], dtype=flambeau.float64,
                            requires_grad=True)
    flambeau.manual_seed(13)
    x = D.Wishart(df, scale_tril=lower).rsample((20000,)).mean(0)
    gdf, gl = flambeau.autograd.grad(x.sum(), [df, lower])
    # sum(mean) = df * sum(L L^T): d/ddf = sum(L L^T), d/dL = df * 2 (1 1^T) L (every entry
    # of L enters L @ A, the upper zeros too)
    sigma = _np(lower) @ _np(lower).T
    assert abs(float(gdf) - sigma.sum()) < 0.1, (gdf, sigma.sum())
    np.testing.assert_allclose(_np(gl), 4.5 * 2 * np.ones((2, 2)) @ _np(lower),
                               rtol=0.05, atol=0.1)


def test_generalized_pareto_log_prob_and_cdf_exact_and_vs_torch_float32():
    # torch's log_prob / cdf only run in float32 (isclose against a float32 zero): compare
    # with scipy in float64 and with torch in float32, values and gradients
    torch = _torch()
    scipy_stats = pytest.importorskip("scipy.stats")
    params, _, values, _, _ = CASES["GeneralizedPareto"]
    loc, scale, xi = (np.array(params[k]) for k in ("loc", "scale", "concentration"))
    x = np.array(values)
    ref = scipy_stats.genpareto(xi, loc=loc, scale=scale)
    d, leaves = _make("GeneralizedPareto", "flambeau")
    fx = flambeau.tensor(x)
    _close(d.log_prob(fx), ref.logpdf(x), rtol=1e-12, atol=1e-12)
    _close(d.cdf(fx), ref.cdf(x), rtol=1e-12, atol=1e-14)
    _close(d.log_survival_function(fx), ref.logsf(x), rtol=1e-12, atol=1e-14)
    _close(d.log_cdf(fx), ref.logcdf(x), rtol=1e-12, atol=1e-14)
    tleaves = {k: torch.tensor(params[k], dtype=torch.float32, requires_grad=True)
               for k in ("loc", "scale", "concentration")}
    td = torch.distributions.GeneralizedPareto(**tleaves)
    tx = torch.tensor(values, dtype=torch.float32)
    for method in ("log_prob", "cdf"):
        d, leaves = _make("GeneralizedPareto", "flambeau")
        fo = getattr(d, method)(fx)
        to = getattr(td, method)(tx)
        _close(fo, to, rtol=2e-6, atol=1e-6)
        keys = list(leaves)
        fg = flambeau.autograd.grad(fo.sum(), [leaves[k] for k in keys])
        tg = torch.autograd.grad(to.sum(), [tleaves[k] for k in keys])
        for k, a, b in zip(keys, fg, tg):
            a, b = _np(a), _np(b)
            if k == "concentration" and method == "log_prob":
                # at xi = -1 torch differentiates a stand-in (its gradient is 1); the true
                # derivative of -(1 + 1/xi) log1p(xi z) there is log1p(-z)
                z = (x[1, 1] - loc[1, 1]) / scale[1, 1]
                _close(a[1, 1], np.log1p(-z), rtol=1e-12)
                a[1, 1] = b[1, 1]
            _close(a, b, rtol=1e-4, atol=1e-5)


def test_generalized_pareto_at_zero_concentration():
    # xi = 0 is the exponential distribution; the gradient w.r.t. xi there is the limit
    torch = _torch()
    loc = flambeau.tensor([0.5], dtype=flambeau.float64)
    scale = flambeau.tensor([2.0], dtype=flambeau.float64)
    xi = flambeau.tensor([0.0], dtype=flambeau.float64, requires_grad=True)
    d = D.GeneralizedPareto(loc, scale, xi)
    x = flambeau.tensor([3.0], dtype=flambeau.float64)
    e = D.Exponential(flambeau.tensor([0.5], dtype=flambeau.float64))
    _close(d.log_prob(x), e.log_prob(x - 0.5), rtol=1e-14)
    _close(d.cdf(x), e.cdf(x - 0.5), rtol=1e-14)
    _close(d.icdf(flambeau.tensor([0.3], dtype=flambeau.float64)),
           e.icdf(flambeau.tensor([0.3], dtype=flambeau.float64)) + 0.5, rtol=1e-14)
    td = torch.distributions.GeneralizedPareto(torch.tensor([0.5]), 2.0, torch.tensor([0.0]))
    _close(d.log_prob(x), td.log_prob(torch.tensor([3.0])), rtol=1e-6)
    # d/dxi of -(1 + 1/xi) log1p(xi z) at xi = 0 is z^2 / 2 - z, z = 1.25
    (g,) = flambeau.autograd.grad(d.log_prob(x).sum(), [xi])
    _close(g, [1.25 ** 2 / 2 - 1.25], rtol=1e-12)
    # the same as a central difference
    h = 1e-5
    lp = [float(D.GeneralizedPareto(loc, scale, flambeau.tensor([s], dtype=flambeau.float64))
                .log_prob(x).sum()) for s in (h, -h)]
    assert abs((lp[0] - lp[1]) / (2 * h) - float(g)) < 1e-8
    # the uniform xi = -1: a flat density up to loc + scale, finite at the end
    u = D.GeneralizedPareto(0.0, 2.0, -1.0)
    _close(u.log_prob(flambeau.tensor([0.0, 1.0, 2.0])), [-math.log(2)] * 3, rtol=1e-6)


def test_kumaraswamy_mode_is_the_argmax_of_the_density():
    # (torch's Kumaraswamy.mode returns NaN for every parameter)
    a = flambeau.tensor([2.0, 3.0, 1.0, 5.0, 0.5, 2.0], dtype=flambeau.float64)
    b = flambeau.tensor([3.0, 2.0, 4.0, 1.0, 2.0, 0.5], dtype=flambeau.float64)
    d = D.Kumaraswamy(a, b)
    grid = flambeau.tensor(np.linspace(1e-6, 1 - 1e-6, 200001)[:, None], dtype=flambeau.float64)
    argmax = _np(grid[:, 0])[_np(d.log_prob(grid.expand(-1, 6))).argmax(0)]
    mode = _np(d.mode)
    np.testing.assert_allclose(mode[:4], argmax[:4], atol=1e-5)
    assert np.isnan(mode[4:]).all()
    assert np.isnan(_np(D.Kumaraswamy(1.0, 1.0).mode))


def test_mixture_log_prob_is_the_weighted_density():
    w = flambeau.tensor([0.2, 0.3, 0.5], dtype=flambeau.float64)
    loc = flambeau.tensor([-1.0, 0.5, 3.0], dtype=flambeau.float64)
    scale = flambeau.tensor([0.5, 1.0, 2.0], dtype=flambeau.float64)
    d = D.MixtureSameFamily(D.Categorical(probs=w), D.Normal(loc, scale))
    x = flambeau.tensor([[-1.0], [0.0], [2.5]], dtype=flambeau.float64)
    dens = (w * D.Normal(loc, scale).log_prob(x).exp()).sum(-1)
    _close(d.log_prob(x[:, 0]), dens.log(), rtol=1e-13)
    # mixture batch broadcast against a larger component batch
    comp = D.Normal(flambeau.zeros(4, 3, dtype=flambeau.float64) + loc, scale)
    d = D.MixtureSameFamily(D.Categorical(probs=w), comp)
    assert tuple(d.batch_shape) == (4,)
    flambeau.manual_seed(0)
    assert tuple(d.sample((6,)).shape) == (6, 4)
    _close(d.log_prob(flambeau.zeros(4, dtype=flambeau.float64)),
           D.MixtureSameFamily(D.Categorical(probs=w), D.Normal(loc, scale))
           .log_prob(flambeau.zeros((), dtype=flambeau.float64)).expand(4))
    assert "MixtureSameFamily(\n  Categorical(" in repr(d)


def test_mixture_same_family_constraint():
    c = constraints.MixtureSameFamilyConstraint(constraints.interval(
        flambeau.tensor([0.0, 1.0]), flambeau.tensor([2.0, 3.0])))
    # valid only where every component accepts the value
    assert c.check(flambeau.tensor([0.5, 1.5, 2.5])).tolist() == [False, True, False]
    assert c.event_dim == 0 and not c.is_discrete
    v = constraints.MixtureSameFamilyConstraint(constraints.real_vector)
    assert v.event_dim == 1
    with pytest.raises(ValueError, match=r"Expected value.dim\(\) >= 1 but got 0"):
        v.check(flambeau.tensor(1.0))
    with pytest.raises(TypeError, match="must be a Constraint"):
        constraints.MixtureSameFamilyConstraint(1.0)


def test_kl_continuous_bernoulli_matches_torch():
    torch = _torch()
    p = [0.2, 0.4999, 0.9]
    q = [0.7, 0.3, 0.5002]
    fk = D.kl_divergence(D.ContinuousBernoulli(flambeau.tensor(p, dtype=flambeau.float64)),
                         D.ContinuousBernoulli(flambeau.tensor(q, dtype=flambeau.float64)))
    tk = torch.distributions.kl_divergence(
        torch.distributions.ContinuousBernoulli(torch.tensor(p, dtype=torch.float64)),
        torch.distributions.ContinuousBernoulli(torch.tensor(q, dtype=torch.float64)))
    _close(fk, tk, rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------ errors


def test_mixture_errors():
    comp = D.Normal(flambeau.zeros(2, 3), 1.0)
    with pytest.raises(ValueError, match="The Mixture distribution needs to be an instance of "
                       "flambeau.distributions.Categorical, got Normal"):
        D.MixtureSameFamily(D.Normal(0.0, 1.0), comp)
    with pytest.raises(ValueError, match="The Component distribution needs to be an instance"):
        D.MixtureSameFamily(D.Categorical(flambeau.ones(3)), "normal")
    with pytest.raises(ValueError, match=r"`mixture_distribution.batch_shape` "
                       r"\(flambeau.Size\(\[4\]\)\) is not compatible with "
                       r"`component_distribution.batch_shape`\(flambeau.Size\(\[2\]\)\)"):
        D.MixtureSameFamily(D.Categorical(flambeau.ones(4, 3)), comp)
    with pytest.raises(ValueError, match=r"`mixture_distribution component` \(4\) does not "
                       r"equal `component_distribution.batch_shape\[-1\]` \(3\)"):
        D.MixtureSameFamily(D.Categorical(flambeau.ones(2, 4)), comp)
    with pytest.raises(ValueError, match="must have at least one dimension"):
        D.MixtureSameFamily(D.Categorical(flambeau.ones(1)), D.Normal(0.0, 1.0))
    d = D.MixtureSameFamily(D.Categorical(flambeau.ones(3)),
                            D.Exponential(flambeau.ones(3)))
    with pytest.raises(ValueError, match="within the support"):
        d.log_prob(flambeau.tensor(-1.0))
    with pytest.raises(NotImplementedError):
        d.rsample()


def test_relaxed_errors():
    msg = r"Either `probs` or `logits` must be specified, but not both."
    for cls in (D.RelaxedBernoulli, D.RelaxedOneHotCategorical):
        with pytest.raises(ValueError, match=msg):
            cls(flambeau.tensor(0.5))
        with pytest.raises(ValueError, match=msg):
            cls(flambeau.tensor(0.5), probs=flambeau.ones(2) / 2, logits=flambeau.zeros(2))
    with pytest.raises(ValueError, match=r"Expected parameter probs .* LogitRelaxedBernoulli"
                       r".* Interval"):
        D.RelaxedBernoulli(flambeau.tensor(0.5), probs=flambeau.tensor([1.5]))
    with pytest.raises(ValueError, match="`probs` parameter must be at least one-dimensional"):
        D.RelaxedOneHotCategorical(flambeau.tensor(0.5), probs=flambeau.tensor(1.0))
    with pytest.raises(ValueError, match=r"Expected parameter probs .* Simplex"):
        D.RelaxedOneHotCategorical(flambeau.tensor(0.5), probs=flambeau.tensor([-1.0, 2.0]))
    with pytest.raises(TypeError, match="temperature must be a Tensor or a number"):
        D.RelaxedBernoulli("hot", probs=flambeau.tensor(0.5))
    d = D.RelaxedBernoulli(flambeau.tensor(0.5), probs=flambeau.tensor([0.5]))
    with pytest.raises(ValueError, match="within the support"):
        d.log_prob(flambeau.tensor([1.5]))
    d = D.RelaxedOneHotCategorical(flambeau.tensor(0.5), probs=flambeau.ones(2) / 2)
    with pytest.raises(ValueError, match="within the support"):
        d.log_prob(flambeau.tensor([0.7, 0.7]))
    # numbers are accepted as temperatures
    assert float(D.RelaxedBernoulli(0.5, probs=flambeau.tensor(0.5)).temperature) == 0.5


def test_continuous_bernoulli_errors():
    with pytest.raises(ValueError, match=r"The parameter probs has invalid values: expected "
                       r"parameter probs .* Interval\(lower_bound=0.0, upper_bound=1.0\)"):
        D.ContinuousBernoulli(flambeau.tensor([0.5, 1.5]))
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.ContinuousBernoulli()
    # without validation an out-of-range probs is clamped, as in torch
    d = D.ContinuousBernoulli(flambeau.tensor([1.5]), validate_args=False)
    assert float(d.probs) == 1 - flambeau.finfo(flambeau.float32).eps
    d = D.ContinuousBernoulli(flambeau.tensor([0.3]))
    with pytest.raises(ValueError, match="within the support"):
        d.log_prob(flambeau.tensor([1.2]))
    with pytest.raises(NotImplementedError):
        d.mode


@pytest.mark.parametrize("build,pattern", [
    (lambda: D.Kumaraswamy(-1.0, 1.0), r"Expected parameter concentration1 .* Kumaraswamy"),
    (lambda: D.Kumaraswamy(1.0, 0.0), r"Expected parameter concentration0"),
    (lambda: D.InverseGamma(1.0, -1.0), r"Expected parameter rate .* GreaterThan"),
    (lambda: D.InverseGamma(0.0, 1.0), r"Expected parameter concentration"),
    (lambda: D.FisherSnedecor(0.0, 1.0), r"Expected parameter df1 .* FisherSnedecor"),
    (lambda: D.FisherSnedecor(1.0, -2.0), r"Expected parameter df2"),
    (lambda: D.VonMises(0.0, -1.0), r"Expected parameter concentration .* VonMises"),
    (lambda: D.VonMises(float("nan"), 1.0), r"Expected parameter loc .* Real"),
    (lambda: D.GeneralizedPareto(0.0, 0.0, 1.0), r"Expected parameter scale .* "
                                                 r"GeneralizedPareto"),
    (lambda: D.GeneralizedPareto(0.0, 1.0, float("nan")), r"Expected parameter concentration"),
    (lambda: D.LKJCholesky(3, 0.0), r"Expected parameter concentration .* LKJCholesky"),
])
def test_invalid_parameters(build, pattern):
    with pytest.raises(ValueError, match=pattern):
        build()


@pytest.mark.parametrize("d,value", [
    (lambda: D.Kumaraswamy(2.0, 3.0), 1.5),
    (lambda: D.InverseGamma(2.0, 3.0), -1.0),
    (lambda: D.FisherSnedecor(2.0, 3.0), 0.0),
    (lambda: D.VonMises(0.0, 1.0), float("nan")),
    (lambda: D.GeneralizedPareto(1.0, 1.0, 0.5), 0.5),
    (lambda: D.GeneralizedPareto(0.0, 1.0, -0.5), 2.5),
])
def test_values_outside_the_support(d, value):
    with pytest.raises(ValueError, match="within the support"):
        d().log_prob(flambeau.tensor(value))


def test_wishart_errors():
    eye = flambeau.eye(2)
    for kwargs in ({}, dict(covariance_matrix=eye, scale_tril=eye)):
        with pytest.raises(ValueError, match="Exactly one of covariance_matrix or "
                           "precision_matrix or scale_tril may be specified."):
            D.Wishart(3.0, **kwargs)
        with pytest.raises(AssertionError):  # torch raises an AssertionError here
            D.Wishart(3.0, **kwargs)
    with pytest.raises(ValueError, match="scale_tril must be at least two-dimensional, with "
                       "optional leading batch dimensions"):
        D.Wishart(3.0, scale_tril=flambeau.ones(2))
    with pytest.raises(ValueError, match=r"Value of df=0.5 expected to be greater than "
                       r"ndim - 1 = 1."):
        D.Wishart(0.5, covariance_matrix=eye)
    with pytest.raises(ValueError, match=r"Expected parameter covariance_matrix \(Tensor of "
                       r"shape \(2, 2\)\) of distribution Wishart\(covariance_matrix: "
                       r"flambeau.Size\(\[2, 2\]\), df: 3.0\) to satisfy the constraint "
                       r"PositiveDefinite\(\)"):
        D.Wishart(3.0, covariance_matrix=-eye)
    with pytest.raises(ValueError, match=r"Expected parameter scale_tril .* LowerCholesky"):
        D.Wishart(3.0, scale_tril=flambeau.tensor([[1.0, 1.0], [0.0, 1.0]]))
    d = D.Wishart(3.0, covariance_matrix=eye)
    with pytest.raises(ValueError, match="within the support"):
        d.log_prob(-eye)
    assert repr(d.arg_constraints["df"]) == "GreaterThan(lower_bound=1)"


def test_lkj_errors():
    with pytest.raises(ValueError, match=r"Expected dim to be an integer greater than or equal "
                       r"to 2. Found dim=1."):
        D.LKJCholesky(1)
    d = D.LKJCholesky(2)
    with pytest.raises(ValueError, match="within the support"):
        d.log_prob(2 * flambeau.eye(2))
    with pytest.raises(NotImplementedError):
        d.rsample()


def test_fisher_snedecor_and_von_mises_have_no_entropy_or_rsample():
    with pytest.raises(NotImplementedError):
        D.FisherSnedecor(2.0, 3.0).entropy()
    with pytest.raises(NotImplementedError):
        D.VonMises(0.0, 1.0).rsample()
    assert D.VonMises.has_rsample is False


def test_torch_module_paths():
    from flambeau.distributions.relaxed_bernoulli import LogitRelaxedBernoulli, RelaxedBernoulli
    from flambeau.distributions.relaxed_categorical import (
        ExpRelaxedCategorical,
        RelaxedOneHotCategorical,
    )

    assert RelaxedBernoulli is D.RelaxedBernoulli
    assert RelaxedOneHotCategorical is D.RelaxedOneHotCategorical
    d = LogitRelaxedBernoulli(0.5, logits=flambeau.tensor([0.0]))
    assert d.has_rsample and tuple(d.rsample((2,)).shape) == (2, 1)
    e = ExpRelaxedCategorical(0.5, logits=flambeau.zeros(3))
    assert tuple(e.event_shape) == (3,)


def test_relaxed_temperature_must_be_positive():
    for cls, probs in ((D.RelaxedBernoulli, flambeau.tensor([0.5])),
                       (D.RelaxedOneHotCategorical, flambeau.tensor([0.5, 0.5]))):
        with pytest.raises(ValueError, match=r"temperature must be positive, got a tensor of "
                           r"shape \(\) with invalid values"):
            cls(flambeau.tensor(-0.5), probs=probs)
        # without validation the sign is not checked, as in torch
        assert float(cls(-0.5, probs=probs, validate_args=False).temperature) == -0.5


def test_von_mises_sample_infinite_and_invalid_concentration():
    d = D.VonMises(flambeau.tensor([4.0, 1.0]), flambeau.tensor([float("inf"), 2.0]))
    x = d.sample((3,))
    # a point mass at loc, wrapped into [-pi, pi)
    assert x[:, 0].tolist() == pytest.approx([4.0 - 2 * math.pi] * 3, abs=1e-6)
    for bad in (0.0, float("nan")):
        with pytest.raises(ValueError, match=r"VonMises.sample: concentration .* must be "
                           r"positive"):
            D.VonMises(0.0, bad, validate_args=False).sample()


def test_wishart_and_lkj_argument_types():
    with pytest.raises(TypeError, match="Wishart: df must be a number or a Tensor, got list"):
        D.Wishart([3.0], covariance_matrix=flambeau.eye(2))
    with pytest.raises(ValueError, match=r"LKJCholesky: Expected dim to be an integer .* "
                       r"Found dim=2.5"):
        D.LKJCholesky(2.5)
