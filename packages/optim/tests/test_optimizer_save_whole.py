"""An optimizer saved whole with flambeau.save (as torch.save pickles one) loads with
weights_only=False and goes on exactly where it stopped, its state keyed by the loaded
parameters, as torch's does."""

import io

import numpy as np
import pytest

import flambeau
import flambeau.optim  # noqa: F401  (flambeau.optim.Adam below)


def _steps(lib, opt, w, n):
    for _ in range(n):
        opt.zero_grad()
        (w * w * lib.arange(1.0, 4.0)).sum().backward()
        opt.step()


def _resumed(lib):
    """Two Adam steps, a save of {"w": w, "opt": opt} and a load, then two more steps."""
    lib.manual_seed(0)
    w = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
    opt = lib.optim.Adam([w], lr=0.1, amsgrad=True)
    _steps(lib, opt, w, 2)
    buf = io.BytesIO()
    lib.save({"w": w, "opt": opt}, buf)
    buf.seek(0)
    out = lib.load(buf, weights_only=False)
    w2, opt2 = out["w"], out["opt"]
    assert type(opt2) is type(opt) and opt2.param_groups[0]["params"][0] is w2
    assert list(opt2.state) == [w2]
    _steps(lib, opt2, w2, 2)
    _steps(lib, opt, w, 2)  # the original goes on the same way
    return w2.detach().cpu().numpy(), w.detach().cpu().numpy()


def test_optimizer_saved_whole_resumes_exactly():
    loaded, original = _resumed(flambeau)
    np.testing.assert_array_equal(loaded, original)


@pytest.mark.parity
def test_optimizer_saved_whole_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _resumed(flambeau)[0], _resumed(torch)[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)
