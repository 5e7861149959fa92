"""flambeau.nn.init: distributions, gains, reproducibility, no_grad, errors."""

import math

import numpy as np
import pytest

import flambeau
from flambeau import nn
from flambeau.nn import init


@pytest.mark.parity
def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    for name, param in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                        ("selu", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param))
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("fn,kwargs,std", [
    (init.kaiming_uniform_, {}, math.sqrt(2 / 1.0001) / math.sqrt(200)),
    (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / 100)),
    (init.xavier_uniform_, {"gain": 2.0}, 2.0 * math.sqrt(2 / 300)),
    (init.xavier_normal_, {}, math.sqrt(2 / 300)),
    (init.normal_, {"mean": 1.0, "std": 0.5}, 0.5),
    (init.uniform_, {"a": -1.0, "b": 3.0}, 4 / math.sqrt(12)),
])
def test_distributions_have_expected_spread(fn, kwargs, std):
    w = flambeau.empty(100, 200)
    fn(w, **kwargs)
    assert w.cpu().numpy().std() == pytest.approx(std, rel=0.05)


def test_reproducible_and_generator():
    w = flambeau.empty(3, 4)
    for fn in (init.kaiming_uniform_, init.xavier_normal_, init.orthogonal_, init.trunc_normal_):
        flambeau.manual_seed(1)
        a = fn(w).clone()
        flambeau.manual_seed(1)
        assert (fn(w) == a).all(), fn.__name__
        g = flambeau.Generator(w.device).manual_seed(4)
        b = fn(w, generator=g).clone()
        g.manual_seed(4)
        assert (fn(w, generator=g) == b).all(), fn.__name__


def test_init_runs_without_recording_on_parameters():
    p = nn.Parameter(flambeau.empty(3, 3))
    for fn in (init.uniform_, init.normal_, init.ones_, init.zeros_, init.eye_,
               init.xavier_uniform_, init.kaiming_normal_, init.orthogonal_,
               init.trunc_normal_):
        assert fn(p) is p
        assert p.is_leaf and p.grad_fn is None
    init.constant_(p, 0.25)
    assert (p == 0.25).all()


def test_eye_dirac_orthogonal_trunc_normal():
    assert init.eye_(flambeau.empty(2, 3)).tolist() == [[1, 0, 0], [0, 1, 0]]
    w = init.dirac_(flambeau.empty(4, 2, 3, 3), groups=2)
    x = flambeau.randn(1, 4, 1, 1)
    # the centre taps map input channel c of each group to output channel c of that group
    centre = w[:, :, 1, 1].cpu().numpy()
    assert centre.sum() == 4 and centre[0, 0] == centre[1, 1] == centre[2, 0] == centre[3, 1] == 1
    assert x.shape == (1, 4, 1, 1)
    q = init.orthogonal_(flambeau.empty(3, 5), gain=2.0).cpu().numpy()
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(3), atol=1e-5)
    q4 = init.orthogonal_(flambeau.empty(6, 2, 2)).cpu().numpy().reshape(6, 4)
    np.testing.assert_allclose(q4.T @ q4, np.eye(4), atol=1e-5)
    t = init.trunc_normal_(flambeau.empty(20000), mean=0.5, std=1.0, a=0.0, b=1.0).cpu().numpy()
    assert t.min() >= 0.0 and t.max() <= 1.0 and abs(t.mean() - 0.5) < 0.01


def test_init_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(flambeau.empty(3))
    with pytest.raises(ValueError, match="mode fan_avg not supported"):
        init.kaiming_uniform_(flambeau.empty(2, 2), mode="fan_avg")
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(flambeau.empty(2, 2, 2))
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        init.dirac_(flambeau.empty(2, 2))


# ------------------------------------------------------------------ sparse_ and deprecated names

_DEPRECATED = ["uniform", "normal", "constant", "eye", "dirac", "xavier_uniform",
               "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"]


def _deprecated_args(name):
    """A valid call of the deprecated alias ``name``: (tensor, extra positional args)."""
    if name == "dirac":
        return flambeau.empty(4, 2, 3), ()
    if name == "constant":
        return flambeau.empty(4, 6), (0.5,)
    if name == "sparse":
        return flambeau.empty(4, 6), (0.5,)
    return flambeau.empty(4, 6), ()


@pytest.mark.parametrize("name", _DEPRECATED)
def test_deprecated_alias_warns_and_forwards(name):
    alias, fill = getattr(init, name), getattr(init, name + "_")
    assert alias.__name__ == name
    assert name in init.__all__ and name + "_" in init.__all__
    t, extra = _deprecated_args(name)
    with pytest.warns(FutureWarning) as caught:
        flambeau.manual_seed(3)
        out = alias(t, *extra)
    assert len(caught) == 1
    assert str(caught[0].message) == (
        f"`nn.init.{name}` is now deprecated in favor of `nn.init.{name}_`.")
    assert caught[0].filename == __file__  # attributed to the caller (stacklevel=2)
    assert out is t
    expected, _ = _deprecated_args(name)
    flambeau.manual_seed(3)
    fill(expected, *extra)
    assert flambeau.equal(out, expected)


@pytest.mark.host_only  # a CPU generator
def test_deprecated_alias_forwards_keywords_and_errors():
    t = flambeau.empty(50, 40)
    with pytest.warns(FutureWarning):
        init.uniform(t, a=2.0, b=3.0)
    assert bool((t >= 2).all() and (t < 3).all())
    with pytest.warns(FutureWarning):
        init.kaiming_normal(t, mode="fan_out", nonlinearity="relu",
                            generator=flambeau.Generator().manual_seed(0))
    # the warning comes first, then the forwarded call's own error
    with pytest.warns(FutureWarning), pytest.raises(TypeError):
        init.uniform()
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="3, 4, or 5"):
        init.dirac(flambeau.empty(2, 2))


@pytest.mark.parity
@pytest.mark.parametrize("name", _DEPRECATED)
def test_deprecated_alias_warning_matches_torch(name):
    torch = pytest.importorskip("torch")
    import warnings

    def caught(mod, t, extra):
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            getattr(mod, name)(t, *extra)
        return [(w.category, str(w.message)) for w in got]

    t, extra = _deprecated_args(name)
    tt = torch.empty(tuple(t.shape))
    assert caught(init, t, extra) == caught(torch.nn.init, tt, extra)


@pytest.mark.parity
def test_sparse_signature_matches_torch():
    torch = pytest.importorskip("torch")
    import inspect

    ours = inspect.signature(init.sparse_)
    theirs = inspect.signature(torch.nn.init.sparse_)
    assert list(ours.parameters) == list(theirs.parameters)
    assert [p.default for p in ours.parameters.values()] == [
        p.default for p in theirs.parameters.values()]


@pytest.mark.parametrize("rows,cols,sparsity", [(10, 7, 0.1), (10, 7, 0.25), (9, 3, 0.5),
                                                (5, 4, 0.0), (5, 4, 1.0), (4, 3, 1.5),
                                                (4, 3, -0.5), (1, 6, 0.3)])
def test_sparse_zero_count_per_column(rows, cols, sparsity):
    w = init.sparse_(flambeau.empty(rows, cols), sparsity)
    zeros = (w == 0).sum(0).tolist()
    # ceil(sparsity * rows) zeros per column, cut as a slice of a permutation of the rows
    expected = len(range(rows)[:math.ceil(sparsity * rows)])
    assert zeros == [expected] * cols


def test_sparse_values_and_in_place():
    p = nn.Parameter(flambeau.empty(400, 300))
    out = init.sparse_(p, 0.3, std=0.5)
    assert out is p and p.is_leaf and p.grad_fn is None
    a = p.detach().cpu().numpy()
    assert ((a == 0).sum(0) == 120).all()
    nonzero = a[a != 0]
    assert nonzero.size == 280 * 300
    assert nonzero.std() == pytest.approx(0.5, rel=0.05)
    assert abs(nonzero.mean()) < 0.01
    small = init.sparse_(flambeau.empty(200, 200), 0.1).cpu().numpy()
    assert small[small != 0].std() == pytest.approx(0.01, rel=0.05)  # the default std


@pytest.mark.host_only  # a CPU generator
def test_sparse_generator_reproducible():
    g = flambeau.Generator()
    fills = []
    for _ in range(2):
        g.manual_seed(7)
        flambeau.manual_seed(11)  # the rows to zero come from the default generator
        fills.append(init.sparse_(flambeau.empty(8, 5), 0.5, generator=g).clone())
    assert flambeau.equal(fills[0], fills[1])
    # the non-zero values come from the generator: the same draw as normal_ on it
    g.manual_seed(7)
    flambeau.manual_seed(11)
    dense = init.sparse_(flambeau.empty(8, 5), 0.0, generator=g)
    g.manual_seed(7)
    assert flambeau.equal(dense, flambeau.empty(8, 5).normal_(0, 0.01, generator=g))
    # another generator seed changes the values, not the zero pattern
    g.manual_seed(8)
    flambeau.manual_seed(11)
    other = init.sparse_(flambeau.empty(8, 5), 0.5, generator=g)
    assert flambeau.equal(other == 0, fills[0] == 0)
    assert not flambeau.equal(other, fills[0])


def test_sparse_empty_shapes():
    assert init.sparse_(flambeau.empty(0, 3), 0.5).shape == (0, 3)
    assert init.sparse_(flambeau.empty(3, 0), 0.5).shape == (3, 0)


@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 4)])
def test_sparse_errors(shape):
    with pytest.raises(ValueError, match="^Only tensors with 2 dimensions are supported$"):
        init.sparse_(flambeau.empty(*shape), 0.5)
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="Only tensors with 2"):
        init.sparse(flambeau.empty(*shape), 0.5)


@pytest.mark.parity
@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 4)])
def test_sparse_errors_match_torch(shape):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError) as theirs:
        torch.nn.init.sparse_(torch.empty(shape), 0.5)
    with pytest.raises(ValueError) as ours:
        init.sparse_(flambeau.empty(*shape), 0.5)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parity
@pytest.mark.parametrize("rows,cols,sparsity", [(10, 7, 0.25), (4, 3, 1.5), (4, 3, -0.5)])
def test_sparse_zero_counts_match_torch(rows, cols, sparsity):
    torch = pytest.importorskip("torch")
    theirs = (torch.nn.init.sparse_(torch.empty(rows, cols), sparsity) == 0).sum(0).tolist()
    ours = (init.sparse_(flambeau.empty(rows, cols), sparsity) == 0).sum(0).tolist()
    assert ours == theirs


def test_trunc_normal_of_zero_dim_and_empty_tensors():
    # SciPy's erfinv gives a scalar for 0-d input; the in-place steps need an array
    value = init.trunc_normal_(flambeau.empty(()), a=-0.5, b=0.5)
    assert value.shape == () and -0.5 <= value.item() <= 0.5
    assert init.trunc_normal_(flambeau.empty(0)).shape == (0,)
