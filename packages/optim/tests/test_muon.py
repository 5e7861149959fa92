"""Muon: updates equal torch.optim.Muon's, state, errors."""

from __future__ import annotations

import numpy as np
import pytest

import flambeau
from flambeau.optim import Muon


def _run_both(shapes, steps=4, **options):
    torch = pytest.importorskip("torch")
    if not hasattr(torch.optim, "Muon"):
        pytest.skip("this torch has no Muon")
    rng = np.random.default_rng(0)
    starts = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ours = [flambeau.tensor(w, requires_grad=True) for w in starts]
    theirs = [torch.tensor(w, requires_grad=True) for w in starts]
    opt, ref = Muon(ours, lr=0.05, **options), torch.optim.Muon(theirs, lr=0.05, **options)
    for _ in range(steps):
        for f, t in zip(ours, theirs):
            g = rng.standard_normal(f.shape).astype(np.float32)
            f.grad, t.grad = flambeau.tensor(g), torch.tensor(g)
        opt.step()
        ref.step()
    return opt, ref, ours, theirs


@pytest.mark.parametrize("options", [
    {}, {"nesterov": False}, {"adjust_lr_fn": "match_rms_adamw"}, {"adjust_lr_fn": "original"},
    {"weight_decay": 0.0, "momentum": 0.5}, {"ns_steps": 2, "ns_coefficients": (2.0, -1.5, 0.5)},
])
def test_updates_match_torch(options):
    opt, ref, ours, theirs = _run_both([(4, 6), (6, 4), (16, 8), (5, 5)], **options)
    for f, t in zip(ours, theirs):
        # the Newton-Schulz output is torch's bit for bit; the rest is float32 arithmetic
        np.testing.assert_allclose(f.detach().cpu().numpy(), t.detach().numpy(), rtol=0,
                                   atol=1e-6)
        np.testing.assert_allclose(opt.state[f]["momentum_buffer"].cpu().numpy(),
                                   ref.state[t]["momentum_buffer"].numpy(), rtol=0, atol=1e-6)


def test_state_dict_matches_torch():
    opt, ref, _, _ = _run_both([(3, 4)], steps=1)
    ours, theirs = opt.state_dict(), ref.state_dict()
    assert ours["param_groups"][0].keys() == theirs["param_groups"][0].keys()
    assert ours["state"][0].keys() == theirs["state"][0].keys() == {"momentum_buffer"}


def test_orthogonalizes_the_update():
    """One step from zero momentum moves the weight by lr * (approximately) U V^T."""
    w = flambeau.zeros(8, 16, requires_grad=True)
    opt = Muon([w], lr=1.0, weight_decay=0.0)
    w.grad = flambeau.randn(8, 16)
    opt.step()
    singular = np.linalg.svd(w.detach().cpu().numpy(), compute_uv=False)
    assert np.all(singular > 0.5) and np.all(singular < 1.5)


def test_trains_a_linear_layer():
    flambeau.manual_seed(0)
    x = flambeau.randn(64, 8)
    target = x @ flambeau.randn(8, 4)
    w = flambeau.zeros(4, 8, requires_grad=True)
    opt = Muon([w], lr=0.1, weight_decay=0.0)
    first = None
    for _ in range(150):
        opt.zero_grad()
        loss = ((x @ w.t() - target) ** 2).mean()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.05 * first


@pytest.mark.parametrize("kwargs, match", [
    ({"lr": -1.0}, "invalid lr"),
    ({"momentum": -0.1}, "invalid momentum"),
    ({"weight_decay": -1.0}, "invalid weight_decay"),
    ({"adjust_lr_fn": "sqrt"}, "adjust learning rate function 'sqrt' is not supported"),
    ({"ns_steps": 100}, "ns_steps must be less than 100"),
    ({"ns_coefficients": (1.0, 2.0)}, "ns_coefficients must be 3 numbers"),
])
def test_option_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Muon([flambeau.zeros(2, 2, requires_grad=True)], **kwargs)


def test_only_2d_parameters():
    with pytest.raises(ValueError, match=r"Muon only supports 2D parameters .* size: \(3,\)"):
        Muon([flambeau.zeros(2, 2, requires_grad=True), flambeau.zeros(3, requires_grad=True)])
    opt = Muon([flambeau.zeros(2, 2, requires_grad=True)])
    with pytest.raises(ValueError, match="2D parameters"):
        opt.add_param_group({"params": [flambeau.zeros(2, 2, 2, requires_grad=True)]})
    assert len(opt.param_groups) == 1


def test_step_inside_an_autocast_region_is_unchanged():
    """The iteration's bfloat16 rounding points are fixed; autocast must not add its own."""
    rng = np.random.default_rng(3)
    w0, g = rng.standard_normal((6, 10)), rng.standard_normal((6, 10))
    results = []
    for region in (False, True):
        w = flambeau.tensor(w0, dtype=flambeau.float32, device="cpu", requires_grad=True)
        opt = Muon([w], lr=0.1)
        w.grad = flambeau.tensor(g, dtype=flambeau.float32, device="cpu")
        with flambeau.autocast("cpu", enabled=region):
            opt.step()
        results.append(w.detach().numpy())
    np.testing.assert_array_equal(results[0], results[1])
