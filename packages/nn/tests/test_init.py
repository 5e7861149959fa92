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
    with pytest.raises(ValueError, match="only tensors with 2 dimensions"):
        init.eye_(flambeau.empty(2, 2, 2))
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        init.dirac_(flambeau.empty(2, 2))
