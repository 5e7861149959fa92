"""aminmax, cummax/cummin, logcumsumexp, nanmedian, quantile, mode, diff, cov, corrcoef,
trapezoid, cdist, dist and renorm: declarative cases (values, gradcheck, gradgradcheck, torch
parity), then edge cases, NaN handling, errors and shape properties."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import flambeau
from flambeau.testing._cases import Sample, _normal, _op, _uniform, nograd
from flambeau.testing._harness import op_tests

# ---------------------------------------------------------------------- harness cases


def _distinct(rng, dt, *shape):
    n = int(np.prod(shape)) if shape else 1
    return np.asarray(rng.permutation(n).reshape(shape) * 0.37 - n * 0.15, dtype=dt)


def _with_nans(rng, dt, *shape):
    x = _distinct(rng, dt, *shape)
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, max(1, flat.size // 4), replace=False)] = np.nan
    return x


def _dims(draw, dims=(0, 1, -1), zero_d=True, **kw):
    def samples(rng, dt):
        out = [Sample(draw(rng, dt, 3, 4), d, **kw) for d in dims]
        if zero_d:
            out.append(Sample(draw(rng, dt), 0, **kw))
        return out

    return samples


def _aminmax_samples(rng, dt):
    return [Sample(_distinct(rng, dt, 3, 4)),
            Sample(_distinct(rng, dt, 3, 4), dim=1),
            Sample(_distinct(rng, dt, 3, 4), dim=0, keepdim=True),
            Sample(_distinct(rng, dt, 2, 3), keepdim=True),
            Sample(_distinct(rng, dt))]


def _quantile_samples(q):
    def samples(rng, dt):
        qt = np.asarray(q, dtype=dt) if not isinstance(q, float) else q
        return [Sample(_distinct(rng, dt, 3, 5), nograd(qt) if not isinstance(q, float) else q,
                       dim=1),
                Sample(_distinct(rng, dt, 3, 5), nograd(qt) if not isinstance(q, float) else q,
                       dim=0, keepdim=True),
                Sample(_distinct(rng, dt, 2, 3), nograd(qt) if not isinstance(q, float) else q),
                Sample(_distinct(rng, dt, 2, 3), nograd(qt) if not isinstance(q, float) else q,
                       keepdim=True)]

    return samples


_Q = [0.13, 0.41, 0.91]  # ranks q * (n - 1) off the integers for n = 2, 3, 5, 6


def _cov_samples(rng, dt):
    return [Sample(_normal(rng, dt, 3, 5)),
            Sample(_normal(rng, dt, 5)),
            Sample(_normal(rng, dt, 2, 5), correction=0),
            Sample(_normal(rng, dt, 2, 5), fweights=np.array([1, 2, 1, 3, 1])),
            Sample(_normal(rng, dt, 2, 5), aweights=_uniform(rng, dt, 0.5, 2.0, 5)),
            Sample(_normal(rng, dt, 2, 5), correction=2, fweights=np.array([1, 2, 1, 3, 1]),
                   aweights=_uniform(rng, dt, 0.5, 2.0, 5))]


def _trapezoid_samples(rng, dt):
    x = np.cumsum(_uniform(rng, dt, 0.2, 1.0, 4)).astype(dt)
    return [Sample(_normal(rng, dt, 3, 4)),
            Sample(_normal(rng, dt, 3, 4), dx=0.5, dim=0),
            Sample(_normal(rng, dt, 3, 4), x),
            Sample(_normal(rng, dt, 3, 4), np.cumsum(_uniform(rng, dt, 0.2, 1.0, 3, 4), 1)),
            Sample(_normal(rng, dt, 4), x)]


def _cdist_samples(rng, dt):
    return [Sample(_normal(rng, dt, 3, 2), _normal(rng, dt, 4, 2)),
            Sample(_normal(rng, dt, 2, 3, 2), _normal(rng, dt, 1, 4, 2)),
            Sample(_normal(rng, dt, 1, 2, 3), _normal(rng, dt, 2, 1, 2, 3))]


def _cdist_mm_samples(rng, dt):
    return [Sample(_normal(rng, dt, 3, 2), _normal(rng, dt, 4, 2),
                   compute_mode="use_mm_for_euclid_dist"),
            Sample(_normal(rng, dt, 27, 2), _normal(rng, dt, 2, 2))]


def _cases():
    cases = [
        _op("aminmax", lambda lib, x, **k: lib.aminmax(x, **k), _aminmax_samples),
        _op("aminmax_method", lambda lib, x, **k: x.aminmax(**k), _aminmax_samples),
        _op("cummax", lambda lib, x, d: lib.cummax(x, d), _dims(_distinct)),
        _op("cummin", lambda lib, x, d: lib.cummin(x, d), _dims(_distinct)),
        _op("cummax_method", lambda lib, x, d: x.cummax(d).values, _dims(_distinct)),
        _op("logcumsumexp", lambda lib, x, d: lib.logcumsumexp(x, d), _dims(_normal)),
        _op("logcumsumexp_method", lambda lib, x, d: x.logcumsumexp(d), _dims(_normal)),
        _op("nanmedian_all", lambda lib, x: lib.nanmedian(x), lambda rng, dt: [
            (_distinct(rng, dt, 3, 4),), (_with_nans(rng, dt, 3, 4),), (_distinct(rng, dt),)]),
        _op("nanmedian_dim", lambda lib, x, d, **k: lib.nanmedian(x, d, **k),
            _dims(_with_nans, zero_d=False)),
        _op("nanmedian_keepdim", lambda lib, x, d, **k: x.nanmedian(d, **k),
            _dims(_distinct, keepdim=True)),
        _op("mode", lambda lib, x, d: lib.mode(x, d), lambda rng, dt: [
            (np.asarray(rng.integers(0, 3, (3, 6)), dtype=dt), d) for d in (0, 1, -1)],
            differentiable=False),
        _op("mode_int", lambda lib, x: x.mode(), lambda rng, dt: [
            (np.asarray(rng.integers(0, 4, (4, 7)), dtype=dt),)], differentiable=False,
            dtypes=("int64", "bool")),
        _op("diff", lambda lib, x, **k: lib.diff(x, **k), lambda rng, dt: [
            Sample(_normal(rng, dt, 3, 5)), Sample(_normal(rng, dt, 3, 5), n=2, dim=0),
            Sample(_normal(rng, dt, 3, 5), n=3), Sample(_normal(rng, dt, 4), n=0),
            Sample(_normal(rng, dt, 3, 5), prepend=_normal(rng, dt, 3, 2),
                   append=_normal(rng, dt, 3, 1)),
            Sample(_normal(rng, dt, 3, 2), n=4, dim=0, append=_normal(rng, dt, 1, 2))]),
        _op("diff_method_int", lambda lib, x: x.diff(prepend=x[:, :1] * 0), lambda rng, dt: [
            (np.asarray(rng.integers(-9, 9, (2, 5)), dtype=dt),)], differentiable=False,
            dtypes=("int64", "int32", "uint8", "bool")),
        _op("cov", lambda lib, x, **k: lib.cov(x, **k), _cov_samples),
        _op("cov_method_int", lambda lib, x: x.cov(), lambda rng, dt: [
            (np.asarray(rng.integers(-9, 9, (2, 5)), dtype=dt),)], differentiable=False,
            dtypes=("int64",)),
        _op("corrcoef", lambda lib, x: lib.corrcoef(x), lambda rng, dt: [
            (_normal(rng, dt, 3, 6),), (_normal(rng, dt, 6),)]),
        _op("corrcoef_method", lambda lib, x: x.corrcoef(), lambda rng, dt: [
            (_normal(rng, dt, 2, 4),)]),
        _op("trapezoid", lambda lib, y, *a, **k: lib.trapezoid(y, *a, **k), _trapezoid_samples),
        _op("trapz", lambda lib, y, *a, **k: lib.trapz(y, *a, **k), _trapezoid_samples),
        _op("cumulative_trapezoid", lambda lib, y, *a, **k: lib.cumulative_trapezoid(y, *a, **k),
            _trapezoid_samples),
        _op("trapezoid_int", lambda lib, y: (lib.trapezoid(y), lib.trapezoid(y, dx=2),
                                             lib.cumulative_trapezoid(y)),
            lambda rng, dt: [(np.asarray(rng.integers(-9, 9, (2, 5)), dtype=dt),)],
            differentiable=False, dtypes=("int64",)),
        _op("cdist_mm", lambda lib, a, b, **k: lib.cdist(a, b, **k), _cdist_mm_samples),
        _op("dist", lambda lib, a, b: lib.dist(a, b), lambda rng, dt: [
            (_normal(rng, dt, 3, 2), _normal(rng, dt, 2)), (_normal(rng, dt), _normal(rng, dt))]),
        _op("dist_method_p3", lambda lib, a, b: a.dist(b, 3), lambda rng, dt: [
            (_normal(rng, dt, 4), _normal(rng, dt, 4))]),
        _op("dist_p1_inf", lambda lib, a, b: (lib.dist(a, b, 1), lib.dist(a, b, math.inf)),
            lambda rng, dt: [(_distinct(rng, dt, 5), _distinct(rng, dt, 5) * 0.5)]),
        _op("renorm", lambda lib, x, p, d, m: lib.renorm(x, p, d, m), lambda rng, dt: [
            (_normal(rng, dt, 3, 4), 2, 0, 1.5), (_normal(rng, dt, 3, 4), 1, 1, 1.0),
            (_normal(rng, dt, 2, 3, 2), 3, -1, 0.8), (_normal(rng, dt, 3, 4), 2, 0, 100.0)]),
        _op("renorm_method", lambda lib, x: x.renorm(2, 1, 0.5), lambda rng, dt: [
            (_normal(rng, dt, 3, 4),)]),
    ]
    for p in (0.5, 1, 1.5, 2, 3, math.inf):
        cases.append(_op(f"cdist_p{p}", lambda lib, a, b, p=p: lib.cdist(a, b, p=p),
                         _cdist_samples))
    cases.append(_op("cdist_p0", lambda lib, a, b: lib.cdist(a, b, p=0), _cdist_samples))
    for interp in ("linear", "lower", "higher", "midpoint", "nearest"):
        for q in (0.37, _Q):
            tag = "scalar" if isinstance(q, float) else "tensor"
            cases.append(_op(
                f"quantile_{interp}_{tag}",
                lambda lib, x, q, **k: lib.quantile(x, q, interpolation=k.pop("i"), **k),
                _with_interp(_quantile_samples(q), interp)))
            cases.append(_op(
                f"nanquantile_{interp}_{tag}",
                lambda lib, x, q, **k: lib.nanquantile(x, q, interpolation=k.pop("i"), **k),
                _with_interp(_nan_quantile_samples(q), interp)))
    cases.append(_op("quantile_q_requires_grad", lambda lib, x, q: lib.quantile(x, q, dim=1),
                     lambda rng, dt: [(_distinct(rng, dt, 3, 5), np.asarray(_Q, dtype=dt))]))
    cases.append(_op("quantile_method", lambda lib, x: x.quantile(0.3, dim=0), lambda rng, dt: [
        (_distinct(rng, dt, 3, 5),)]))
    cases.append(_op("nanquantile_method", lambda lib, x: x.nanquantile(0.3, dim=1),
                     lambda rng, dt: [(_with_nans(rng, dt, 3, 5),)]))
    return cases


def _with_interp(samples, interp):
    def wrapped(rng, dt):
        out = samples(rng, dt)
        for s in out:
            s.kwargs["i"] = interp
        return out

    return wrapped


def _nan_quantile_samples(q):
    base = _quantile_samples(q)

    def samples(rng, dt):
        out = base(rng, dt)
        for s in out:
            x = s.args[0]
            x.reshape(-1)[rng.choice(x.size, 2, replace=False)] = np.nan
        return out

    return samples


REDUCTION_MORE_CASES = _cases()
test_gradcheck, test_numpy_reference, test_parity = op_tests(REDUCTION_MORE_CASES)


def test_case_names_are_unique():
    names = [c.name for c in REDUCTION_MORE_CASES]
    assert len(names) == len(set(names))


# ---------------------------------------------------------------------- values and edge cases


def _t(values, dtype=np.float64):
    return flambeau.tensor(np.asarray(values, dtype=dtype))


def test_aminmax_values_ties_and_dtypes():
    x = _t([[1.0, 3.0, 3.0], [2.0, 0.0, 0.0]]).requires_grad_()
    r = flambeau.aminmax(x, dim=1)
    assert r.min.tolist() == [1.0, 0.0] and r.max.tolist() == [3.0, 2.0]
    (g,) = flambeau.autograd.grad(r.min.sum() + 2 * r.max.sum(), x)
    assert g.tolist() == [[1.0, 1.0, 1.0], [2.0, 0.5, 0.5]]  # ties share, as amax
    assert flambeau.aminmax(flambeau.tensor([1, 5])).max.item() == 5
    assert flambeau.aminmax(flambeau.tensor([True, False])).min.item() is False
    assert tuple(flambeau.aminmax(x, keepdim=True).max.shape) == (1, 1)
    assert np.isnan(flambeau.aminmax(_t([1.0, np.nan])).max.item())
    assert tuple(flambeau.aminmax(flambeau.zeros(2, 0), dim=0).min.shape) == (0,)
    assert flambeau.aminmax(_t(3.0), dim=0).max.item() == 3.0


def test_cummax_cummin_nan_and_ties_follow_torch():
    x = _t([1.0, 3.0, 2.0, 3.0, np.nan, 5.0, np.nan])
    v, i = flambeau.cummax(x, 0)
    np.testing.assert_array_equal(v.cpu().numpy(), [1, 3, 3, 3, np.nan, np.nan, np.nan])
    assert i.tolist() == [0, 1, 1, 3, 4, 4, 6]
    v, i = flambeau.cummin(x, 0)
    assert i.tolist() == [0, 0, 0, 0, 4, 4, 6]
    assert flambeau.cummin(flambeau.tensor([2, 1, 1, 3, 0]), 0).indices.tolist() == \
        [0, 1, 2, 2, 4]
    assert flambeau.cummax(flambeau.tensor([True, False, True]), 0).indices.tolist() == [0, 0, 2]
    empty = flambeau.cummax(flambeau.zeros(0), 0)
    assert tuple(empty.values.shape) == (0,) and empty.indices.dtype == flambeau.int64
    assert flambeau.cummax(_t(2.0), 0).indices.item() == 0


def test_cummax_gradient_goes_to_the_running_argmax():
    x = _t([1.0, 3.0, 2.0, 3.0]).requires_grad_()
    (g,) = flambeau.autograd.grad(flambeau.cummax(x, 0).values, x, _t([1.0, 2.0, 3.0, 4.0]))
    assert g.tolist() == [1.0, 5.0, 0.0, 4.0]


def test_logcumsumexp_is_stable_and_handles_infinities():
    x = _t([-1000.0, 0.0, 1000.0, -np.inf])
    np.testing.assert_allclose(flambeau.logcumsumexp(x, 0).cpu().numpy(),
                               [-1000.0, 0.0, 1000.0, 1000.0])
    y = _t([-np.inf, 1.0, np.inf, 2.0])
    np.testing.assert_array_equal(flambeau.logcumsumexp(y, 0).cpu().numpy(), [-np.inf, 1, np.inf,
                                                                              np.inf])
    assert flambeau.logcumsumexp(_t(2.0), 0).item() == 2.0
    assert tuple(flambeau.logcumsumexp(flambeau.zeros(2, 0), 1).shape) == (2, 0)


def test_nanmedian_values():
    x = _t([[1.0, np.nan, 3.0, 2.0], [np.nan] * 4])
    assert flambeau.nanmedian(x).item() == 2.0
    v, i = flambeau.nanmedian(x, 1)
    np.testing.assert_array_equal(v.cpu().numpy(), [2.0, np.nan])
    assert i.tolist()[0] == 3
    assert np.isnan(flambeau.nanmedian(_t([np.nan])).item())
    assert np.isnan(flambeau.nanmedian(flambeau.zeros(0)).item())
    assert flambeau.nanmedian(flambeau.tensor([3, 1, 2, 2]), 0).values.item() == 2
    assert flambeau.nanmedian(flambeau.tensor([3, 1, 4])).item() == 3


def test_nanmedian_of_all_elements_shares_the_gradient_between_ties():
    x = _t([[1.0, np.nan, 3.0, 2.0], [4.0, 1.0, 1.0, np.nan]]).requires_grad_()
    (g,) = flambeau.autograd.grad(flambeau.nanmedian(x), x)
    np.testing.assert_allclose(g.cpu().numpy(), [[1 / 3, 0, 0, 0], [0, 1 / 3, 1 / 3, 0]])


def test_quantile_interpolations_and_shapes():
    y = _t([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    q = _t([0.1, 0.3, 0.5, 0.7, 0.9])
    want = {"linear": [1.5, 2.5, 3.5, 4.5, 5.5], "lower": [1, 2, 3, 4, 5],
            "higher": [2, 3, 4, 5, 6], "midpoint": [1.5, 2.5, 3.5, 4.5, 5.5],
            "nearest": [1, 3, 3, 5, 5]}
    for interp, values in want.items():
        np.testing.assert_allclose(flambeau.quantile(y, q, interpolation=interp).cpu().numpy(),
                                   values)
    x = flambeau.rand(2, 3, 4)
    q3 = flambeau.tensor([0.2, 0.4, 0.9])
    assert tuple(flambeau.quantile(x, q3, dim=1).shape) == (3, 2, 4)
    assert tuple(flambeau.quantile(x, q3, dim=1, keepdim=True).shape) == (3, 2, 1, 4)
    assert tuple(flambeau.quantile(x, q3, keepdim=True).shape) == (3, 1, 1, 1)
    assert tuple(flambeau.quantile(x, 0.5, keepdim=True).shape) == (1, 1, 1)
    assert tuple(flambeau.quantile(x, flambeau.tensor(0.5)).shape) == ()
    assert tuple(flambeau.quantile(x[0, 0], flambeau.tensor([0.5])).shape) == (1,)
    assert flambeau.quantile(_t(3.0), 0.5, dim=0, keepdim=True).item() == 3.0


def test_quantile_nan_handling():
    x = _t([[1.0, 5.0, 2.0, 8.0], [3.0, 0.0, np.nan, 4.0]])
    np.testing.assert_allclose(flambeau.quantile(x, 0.4, dim=1).cpu().numpy(), [2.6, np.nan])
    np.testing.assert_allclose(flambeau.nanquantile(x, 0.4, dim=1).cpu().numpy(), [2.6, 2.4])
    assert np.isnan(flambeau.quantile(x, 0.5).item())
    assert np.isnan(flambeau.nanquantile(_t([np.nan] * 3), 0.5).item())


def test_quantile_gradients_flow_to_the_neighbours_and_q():
    y = _t([1.0, 4.0, 2.0, 3.0]).requires_grad_()
    q = _t([0.3, 0.6]).requires_grad_()
    gy, gq = flambeau.autograd.grad(flambeau.quantile(y, q).sum(), [y, q])
    np.testing.assert_allclose(gy.cpu().numpy(), [0.1, 0.0, 1.1, 0.8])
    np.testing.assert_allclose(gq.cpu().numpy(), [3.0, 3.0])
    y = _t([1.0, 4.0, 2.0, 3.0]).requires_grad_()
    (g,) = flambeau.autograd.grad(flambeau.quantile(y, 0.5, interpolation="nearest"), y)
    assert g.tolist() == [0.0, 0.0, 0.0, 1.0]


def test_mode_ties_nan_and_gradient():
    v, i = flambeau.mode(flambeau.tensor([1, 2, 2, 1, 3]))
    assert (v.item(), i.item()) == (1, 3)  # smallest of the most frequent, last occurrence
    v, i = flambeau.mode(_t([[3.0, 1.0], [3.0, 2.0]]), 0, keepdim=True)
    assert v.tolist() == [[3.0, 1.0]] and i.tolist() == [[1, 0]]
    v, i = flambeau.mode(_t([1.0, np.nan, np.nan, 2.0]))
    assert (v.item(), i.item()) == (1.0, 0)
    v, i = flambeau.mode(_t(3.0))
    assert (v.item(), i.item()) == (3.0, 0)
    assert tuple(flambeau.mode(flambeau.zeros(2, 0), 0).values.shape) == (0,)
    x = _t([1.0, 2.0, 2.0, 1.0, 3.0]).requires_grad_()
    (g,) = flambeau.autograd.grad(flambeau.mode(x).values, x)
    assert g.tolist() == [0.0, 0.0, 0.0, 1.0, 0.0]


def test_diff_edge_cases():
    z = flambeau.tensor([[1, 3, 6], [2, 2, 7]])
    assert flambeau.diff(z, n=0).tolist() == z.tolist()
    assert tuple(flambeau.diff(z, n=5).shape) == (2, 0)
    assert flambeau.diff(z, prepend=_t([[0.5], [0.5]])).dtype == flambeau.float64
    assert flambeau.diff(flambeau.tensor([True, False, False])).tolist() == [True, False]
    assert flambeau.diff(z.to(flambeau.uint8)).dtype == flambeau.uint8


def test_cov_and_corrcoef_edge_cases():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        assert flambeau.cov(_t([1.0, 2.0]), correction=3).item() == math.inf
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        assert np.isnan(flambeau.cov(_t(2.0)).item())
    assert tuple(flambeau.cov(flambeau.zeros(0, 3)).shape) == (0, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(flambeau.cov(flambeau.zeros(2, 0)).cpu().numpy()).all()
    assert flambeau.cov(flambeau.tensor([[1, 2, 4]])).dtype == flambeau.float32
    m = _t([[0.0, 1.0, 2.0], [2.0, 1.0, 0.5]])
    assert flambeau.cov(m, aweights=flambeau.tensor([1.0, 2.0, 1.0])).dtype == flambeau.float64
    c = flambeau.corrcoef(_t([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]])).cpu().numpy()
    assert np.isnan(c[0]).all() and c[1, 1] == 1.0
    assert flambeau.corrcoef(_t([1.0, 2.0, 4.0])).item() == 1.0
    np.testing.assert_allclose(flambeau.corrcoef(m).cpu().numpy(), np.corrcoef(m.cpu().numpy()))


def test_trapezoid_edge_cases():
    assert flambeau.trapezoid(flambeau.zeros(2, 0)).tolist() == [0.0, 0.0]
    assert flambeau.trapezoid(_t([2.0])).item() == 0.0
    assert flambeau.trapezoid(flambeau.tensor([1, 2, 4]), dx=2).item() == 9.0
    assert tuple(flambeau.cumulative_trapezoid(_t([2.0])).shape) == (0,)
    assert tuple(flambeau.cumulative_trapezoid(flambeau.zeros(2, 0)).shape) == (2, 0)
    y = np.array([[1.0, 2.0, 4.0], [0.0, 1.0, 1.0]])
    x = np.array([0.0, 1.0, 3.0])
    np.testing.assert_allclose(flambeau.trapezoid(_t(y), _t(x)).cpu().numpy(),
                               np.trapezoid(y, x) if hasattr(np, "trapezoid") else np.trapz(y, x))
    assert flambeau.trapz is flambeau.trapezoid


def test_cdist_gradient_is_zero_at_zero_distance():
    a = _t([[0.0, 0.0], [1.0, 1.0]]).requires_grad_()
    b = _t([[0.0, 0.0], [1.0, 0.0]]).requires_grad_()
    for mode in ("use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"):
        ga, gb = flambeau.autograd.grad(flambeau.cdist(a, b, compute_mode=mode).sum(), [a, b])
        np.testing.assert_allclose(ga.cpu().numpy(), [[-1.0, 0.0], [0.5 ** 0.5, 1 + 0.5 ** 0.5]])
        assert np.isfinite(gb.cpu().numpy()).all()
    same = flambeau.zeros(3, 2, dtype=flambeau.float64, requires_grad=True)
    (g,) = flambeau.autograd.grad(flambeau.cdist(same, same).sum(), same)
    assert g.tolist() == [[0.0, 0.0]] * 3
    big = flambeau.tensor(np.random.default_rng(0).standard_normal((30, 3)), requires_grad=True)
    (g,) = flambeau.autograd.grad(flambeau.cdist(big, big).sum(), big)
    assert np.isfinite(g.cpu().numpy()).all()


def test_cdist_empty_and_modes():
    b = flambeau.ones(2, 3)
    assert tuple(flambeau.cdist(flambeau.zeros(0, 3), b).shape) == (0, 2)
    assert flambeau.cdist(flambeau.zeros(3, 0), flambeau.zeros(2, 0)).tolist() == [[0.0] * 2] * 3
    a = flambeau.tensor(np.random.default_rng(1).standard_normal((40, 3)))
    np.testing.assert_allclose(
        flambeau.cdist(a, a[:5]).cpu().numpy(),
        flambeau.cdist(a, a[:5], compute_mode="donot_use_mm_for_euclid_dist").cpu().numpy(),
        atol=1e-5)


def test_renorm_matches_formula_and_in_place():
    x = _t([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [0.1, 0.1, 0.1]])
    got = flambeau.renorm(x, 2, 0, 5).cpu().numpy()
    norms = np.linalg.norm(x.cpu().numpy(), axis=1, keepdims=True)
    want = np.where(norms > 5, x.cpu().numpy() * 5 / (norms + 1e-7), x.cpu().numpy())
    np.testing.assert_allclose(got, want)
    y = x.clone()
    assert y.renorm_(2, 0, 5) is y
    np.testing.assert_allclose(y.cpu().numpy(), want)


def test_scan_inplace_methods():
    x = flambeau.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.cumsum_(1) is x and x.tolist() == [[1.0, 3.0], [3.0, 7.0]]
    assert x.cumprod_(0).tolist() == [[1.0, 3.0], [3.0, 21.0]]


def test_fallback_scan_matches_accumulate():
    from flambeau._ops.reduction_more import _scan

    class NoAccumulate:
        def __init__(self, f):
            self.f = f

        def __call__(self, a, b):
            return self.f(a, b)

    a = np.random.default_rng(3).standard_normal((3, 7))
    for f in (np.maximum, np.logaddexp):
        for axis in (0, 1):
            np.testing.assert_allclose(_scan(np, NoAccumulate(f), a, axis),
                                       f.accumulate(a, axis=axis))


def test_parity_of_nan_cases_with_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, np.nan, 3.0, 2.0, 0.5], [np.nan, 1.0, np.nan, 5.0, 0.0]])
    for fn in ("cummax", "cummin"):
        got = getattr(flambeau, fn)(flambeau.tensor(x), 1)
        want = getattr(torch, fn)(torch.tensor(x), 1)
        np.testing.assert_array_equal(got.values.cpu().numpy(), want.values.cpu().numpy())
        assert got.indices.tolist() == want.indices.tolist()
    for interp in ("linear", "lower", "higher", "midpoint", "nearest"):
        for fn in ("quantile", "nanquantile"):
            got = getattr(flambeau, fn)(flambeau.tensor(x), 0.3, 1, interpolation=interp)
            want = getattr(torch, fn)(torch.tensor(x), 0.3, 1, interpolation=interp)
            np.testing.assert_allclose(got.cpu().numpy(), want.cpu().numpy())


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize(("call", "exc", "match"), [
    (lambda: flambeau.aminmax(flambeau.zeros(0)), RuntimeError,
     "aminmax\\(\\): cannot compute aminmax over an empty dimension"),
    (lambda: flambeau.aminmax(flambeau.zeros(2, 0), dim=1), IndexError,
     "aminmax: Expected reduction dim 1 to have non-zero size"),
    (lambda: flambeau.logcumsumexp(flambeau.tensor([1, 2]), 0), NotImplementedError,
     '"logcumsumexp" is not implemented for flambeau.int64'),
    (lambda: flambeau.nanmedian(flambeau.zeros(2, 0), 1), IndexError,
     "nanmedian\\(\\): Expected reduction dim 1 to have non-zero size"),
    (lambda: flambeau.mode(flambeau.zeros(0)), IndexError,
     "mode\\(\\): Expected reduction dim 0 to have non-zero size"),
    (lambda: flambeau.quantile(flambeau.tensor([1, 2]), 0.5), RuntimeError,
     "quantile\\(\\) input tensor must be either float or double dtype"),
    (lambda: flambeau.quantile(flambeau.ones(3), 1.5), RuntimeError,
     "quantile\\(\\) q must be in the range \\[0, 1\\] but got 1.5"),
    (lambda: flambeau.nanquantile(flambeau.ones(3), -0.1), RuntimeError,
     "nanquantile\\(\\) q must be in the range \\[0, 1\\] but got -0.1"),
    (lambda: flambeau.quantile(flambeau.ones(3), flambeau.tensor([0.5, 1.1])), RuntimeError,
     "quantile\\(\\) q values must be in the range \\[0, 1\\]"),
    (lambda: flambeau.quantile(flambeau.ones(3), flambeau.tensor([[0.5]])), RuntimeError,
     "quantile\\(\\) q must be a scalar or 1D tensor"),
    (lambda: flambeau.quantile(flambeau.ones(3), flambeau.tensor([0.5]).double()), RuntimeError,
     "quantile\\(\\) q tensor must be same dtype as the input tensor"),
    (lambda: flambeau.quantile(flambeau.ones(3), 0.5, interpolation="foo"), RuntimeError,
     "quantile\\(\\) interpolation must be one of linear, lower, higher, midpoint or "
     "nearest, but got foo"),
    (lambda: flambeau.quantile(flambeau.zeros(0), 0.5), RuntimeError,
     "quantile\\(\\) input tensor must be non-empty"),
    (lambda: flambeau.diff(flambeau.tensor(3.0)), RuntimeError,
     "diff expects input to be at least one-dimensional"),
    (lambda: flambeau.diff(flambeau.ones(3), n=-1), RuntimeError,
     "order must be non-negative but got -1"),
    (lambda: flambeau.diff(flambeau.ones(2, 3), prepend=flambeau.ones(2)), RuntimeError,
     "diff expects prepend or append to be the same dimension as input"),
    (lambda: flambeau.diff(flambeau.ones(2, 3), append=flambeau.ones(3, 1)), RuntimeError,
     "input.size\\(0\\) = 2, but got tensor.size\\(0\\) = 3"),
    (lambda: flambeau.diff(flambeau.ones(3), prepend=0), TypeError,
     "argument 'prepend' must be Tensor, not int"),
    (lambda: flambeau.cov(flambeau.zeros(2, 3, 4)), RuntimeError,
     "cov\\(\\): expected input to have two or fewer dimensions but got an input with 3"),
    (lambda: flambeau.cov(flambeau.tensor([True, False])), RuntimeError,
     "cov\\(\\): bool dtype is not supported for input"),
    (lambda: flambeau.cov(flambeau.ones(2, 3), fweights=flambeau.ones(3)), RuntimeError,
     "cov\\(\\): expected fweights to have integral dtype but got fweights with "
     "flambeau.float32 dtype"),
    (lambda: flambeau.cov(flambeau.ones(2, 3), fweights=flambeau.tensor([1, -2, 1])),
     RuntimeError, "cov\\(\\): fweights cannot be negative"),
    (lambda: flambeau.cov(flambeau.ones(2, 3), fweights=flambeau.tensor([1, 2])),
     RuntimeError, "cov\\(\\): expected fweights to have the same numel as there are "
     "observations in the input but got 2 != 3"),
    (lambda: flambeau.cov(flambeau.ones(2, 3), fweights=flambeau.tensor([[1, 2, 1]])),
     RuntimeError, "cov\\(\\): expected fweights to have one or fewer dimensions"),
    (lambda: flambeau.cov(flambeau.ones(2, 3), aweights=flambeau.tensor([1, 2, 1])),
     RuntimeError, "cov\\(\\): expected aweights to have floating point dtype"),
    (lambda: flambeau.cov(flambeau.ones(2, 3), aweights=flambeau.tensor([1.0, -2.0, 1.0])),
     RuntimeError, "cov\\(\\): aweights cannot be negative"),
    (lambda: flambeau.cov(flambeau.ones(2, 3), aweights=flambeau.ones(2)), RuntimeError,
     "cov\\(\\): expected aweights to have the same numel"),
    (lambda: flambeau.trapezoid(flambeau.tensor([True, False])), RuntimeError,
     "trapezoid: received a bool input for `y`, but bool is not supported"),
    (lambda: flambeau.trapezoid(flambeau.ones(2, 3), flambeau.ones(2)), RuntimeError,
     "trapezoid: There must be one `x` value for each sample point"),
    (lambda: flambeau.cumulative_trapezoid(flambeau.ones(2, 3), flambeau.ones(2)),
     RuntimeError, "cumulative_trapezoid: There must be one `x` value for each sample point"),
    (lambda: flambeau.trapezoid(flambeau.ones(3), flambeau.ones(3), dx=1.0), TypeError,
     "takes either x or dx, not both"),
    (lambda: flambeau.trapezoid(flambeau.ones(3), 2.0), TypeError, "x must be a Tensor"),
    (lambda: flambeau.trapezoid(flambeau.tensor(2.0)), IndexError,
     "Dimension specified as -1 but tensor has no dimensions"),
    (lambda: flambeau.cumulative_trapezoid(flambeau.tensor(2.0)), IndexError,
     "slice\\(\\) cannot be applied to a 0-dim tensor"),
    (lambda: flambeau.cdist(flambeau.ones(3, 2), flambeau.ones(2, 2), p=-1), RuntimeError,
     "cdist only supports non-negative p values"),
    (lambda: flambeau.cdist(flambeau.ones(3, 2), flambeau.ones(2, 1)), RuntimeError,
     "X1 and X2 must have the same number of columns. X1: 2 X2: 1"),
    (lambda: flambeau.cdist(flambeau.ones(2), flambeau.ones(2, 2)), RuntimeError,
     "cdist only supports at least 2D tensors, X1 got: 1D"),
    (lambda: flambeau.cdist(flambeau.ones(2, 2), flambeau.ones(2)), RuntimeError,
     "cdist only supports at least 2D tensors, X2 got: 1D"),
    (lambda: flambeau.cdist(flambeau.ones(2, 2).long(), flambeau.ones(2, 2)), RuntimeError,
     "cdist only supports floating-point dtypes, X1 got: int64"),
    (lambda: flambeau.cdist(flambeau.ones(2, 2), flambeau.ones(2, 2).double()), RuntimeError,
     "cdist: X1 and X2 must have the same dtype"),
    (lambda: flambeau.cdist(flambeau.ones(2, 3, 2), flambeau.ones(3, 5, 2)), RuntimeError,
     "cdist: the batch dimensions of X1 \\(2, 3, 2\\) and X2 \\(3, 5, 2\\) cannot be "
     "broadcast"),
    (lambda: flambeau.cdist(flambeau.ones(2, 2), flambeau.ones(2, 2), compute_mode="foo"),
     ValueError, "foo is not a valid value for compute_mode"),
    (lambda: flambeau.dist(flambeau.tensor([1, 2]), flambeau.tensor([4, 6])), RuntimeError,
     "dist: expected floating-point inputs"),
    (lambda: flambeau.dist(flambeau.ones(2), 3.0), TypeError,
     "argument 'other' \\(position 2\\) must be Tensor, not float"),
    (lambda: flambeau.renorm(flambeau.ones(3, 2), -1, 0, 5), RuntimeError,
     "renorm: non-positive-norm not supported"),
    (lambda: flambeau.renorm(flambeau.ones(3, 2), 2, 0, -5), RuntimeError,
     "renorm: expected maxnorm to be >= 0 but got -5"),
    (lambda: flambeau.renorm(flambeau.ones(3), 2, 0, 1), RuntimeError,
     "renorm: input needs at least 2 dimensions, got 1 dimensions"),
    (lambda: flambeau.renorm(flambeau.ones(3, 2).long(), 2, 0, 1), RuntimeError,
     "renorm: expected a floating-point input, got flambeau.int64"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------------------- shape properties


@settings(max_examples=60, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4),
       n=st.integers(0, 5), data=st.data())
def test_diff_shapes_and_values_match_numpy(shape, n, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    pre = data.draw(st.integers(0, 2))
    app = data.draw(st.integers(0, 2))
    rng = np.random.default_rng(len(shape) * 7 + n)
    x = rng.integers(-9, 9, shape).astype(np.float64)
    side = list(shape)
    side[dim] = pre
    p = rng.integers(-9, 9, side).astype(np.float64)
    side[dim] = app
    a = rng.integers(-9, 9, side).astype(np.float64)
    got = flambeau.diff(flambeau.tensor(x), n, dim, prepend=flambeau.tensor(p) if pre else None,
                        append=flambeau.tensor(a) if app else None)
    if n == 0:  # torch (unlike NumPy) joins nothing when no difference is taken
        want = x
    else:
        want = np.diff(x, n, axis=dim, prepend=p if pre else np._NoValue,
                       append=a if app else np._NoValue)
    assert tuple(got.shape) == want.shape
    np.testing.assert_array_equal(got.cpu().numpy(), want)


@settings(max_examples=60, deadline=None)
@given(batch=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3),
       p_rows=st.integers(0, 4), r_rows=st.integers(0, 4), cols=st.integers(0, 3),
       p=st.sampled_from([0.0, 1.0, 2.0, 3.0, math.inf]), seed=st.integers(0, 2 ** 16))
def test_cdist_shapes_and_values_match_numpy(batch, p_rows, r_rows, cols, p, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(batch.input_shapes[0] + (p_rows, cols))
    b = rng.standard_normal(batch.input_shapes[1] + (r_rows, cols))
    got = flambeau.cdist(flambeau.tensor(a), flambeau.tensor(b), p=p)
    d = np.abs(a[..., :, None, :] - b[..., None, :, :])
    if p == 0:
        want = (d != 0).sum(-1).astype(np.float64)
    elif p == math.inf:
        want = d.max(-1, initial=0.0)
    else:
        want = (d ** p).sum(-1) ** (1 / p)
    assert tuple(got.shape) == batch.result_shape + (p_rows, r_rows)
    np.testing.assert_allclose(got.cpu().numpy(), np.broadcast_to(want, got.shape), rtol=1e-10,
                               atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
       q=st.floats(0, 1), seed=st.integers(0, 2 ** 16))
def test_quantile_matches_numpy(shape, q, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    for method in ("linear", "lower", "higher", "midpoint", "nearest"):
        got = flambeau.quantile(flambeau.tensor(x), q, dim=-1, interpolation=method).cpu().numpy()
        if method == "nearest":  # NumPy rounds half away from the lower index differently
            continue
        # interpolation between values of both signs can land near zero: an absolute margin
        np.testing.assert_allclose(got, np.quantile(x, q, axis=-1, method=method), rtol=1e-12,
                                   atol=1e-14)


def test_nanmean_takes_dtype_and_out_and_refuses_integers():
    x = flambeau.tensor([[1.0, float("nan")], [2.0, 3.0]])
    got = flambeau.nanmean(x, 1, dtype=flambeau.float64)
    assert got.dtype is flambeau.float64
    np.testing.assert_allclose(got.cpu().numpy(), [1.0, 2.5])
    out = flambeau.empty(2)
    assert flambeau.nanmean(x, 0, out=out) is out
    np.testing.assert_allclose(out.cpu().numpy(), [1.5, 3.0])
    with pytest.raises(RuntimeError, match=r"nanmean\(\): expected input to have floating point"):
        flambeau.nanmean(flambeau.tensor([1, 2]))


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_var_and_std_of_half_types_accumulate_in_float32(name):
    # 1..12 has variance 13; bfloat16 arithmetic all the way gave 12.8125
    x = flambeau.arange(1, 13).to(getattr(flambeau, name)).requires_grad_()
    v = flambeau.var(x)
    assert v.dtype is x.dtype and v.item() == 13.0
    assert flambeau.std(x).item() == pytest.approx(math.sqrt(13), rel=4e-3)
    v.backward()
    np.testing.assert_allclose(x.grad.float().cpu().numpy(), (np.arange(1, 13) - 6.5) / 5.5,
                               rtol=1e-2)
