"""Complex parameters step as pairs of real numbers, as PyTorch's optimizers do."""

import numpy as np
import pytest

import flambeau
from flambeau import optim

torch = pytest.importorskip("torch")

VALUES = [[1 + 2j, -0.5 + 1j], [0.3 - 2j, 2j]]
REAL_VALUES = [0.5, -1.5, 2.0]
SUPPORTED = [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.1, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adadelta", dict(lr=1.0)),
    ("Adamax", dict(lr=0.1)),
    ("NAdam", dict(lr=0.1)),
    ("RAdam", dict(lr=0.1)),
    ("ASGD", dict(lr=0.1)),
    ("Rprop", dict(lr=0.1)),
]


def _params(lib):
    z = lib.tensor(VALUES, dtype=lib.complex128, requires_grad=True)
    x = lib.tensor(REAL_VALUES, dtype=lib.float64, requires_grad=True)
    return z, x


def _loss(lib, z, x):
    # each part enters differently, so a rule that mixed the parts would be caught
    r = lib.view_as_real(z)
    return (r[..., 0] ** 3).sum() + (r[..., 1] ** 2 * 3).sum() + (x ** 2 * z.real.sum()).sum()


@pytest.mark.parametrize(("name", "options"), SUPPORTED)
def test_complex_parameters_match_torch(name, options):
    fz, fx = _params(flambeau)
    tz, tx = _params(torch)
    fopt = getattr(optim, name)([{"params": [fz]}, {"params": [fx]}], **options)
    topt = getattr(torch.optim, name)([{"params": [tz]}, {"params": [tx]}], **options)
    for _ in range(4):
        for lib, opt, z, x in ((flambeau, fopt, fz, fx), (torch, topt, tz, tx)):
            opt.zero_grad()
            _loss(lib, z, x).backward()
            opt.step()
    np.testing.assert_allclose(fz.detach().cpu().numpy(), tz.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(fx.detach().cpu().numpy(), tx.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    assert fz.dtype is flambeau.complex128 and tuple(fz.shape) == (2, 2)
    fstate, tstate = fopt.state_dict()["state"][0], topt.state_dict()["state"][0]
    assert sorted(fstate) == sorted(tstate)
    for key, value in tstate.items():
        if isinstance(value, torch.Tensor) and value.ndim:
            got = fstate[key]
            assert got.dtype.name == str(value.dtype)[6:], key  # state stays complex
            np.testing.assert_allclose(got.cpu().numpy(), value.numpy(), rtol=1e-12, atol=1e-12)


def test_lbfgs_with_complex_parameters_matches_torch():
    results = []
    for lib in (flambeau, torch):
        z, x = _params(lib)
        # few iterations: near the flat minimum of a quartic, rounding differences grow
        opt = lib.optim.LBFGS([z, x], lr=0.5, max_iter=5, line_search_fn="strong_wolfe")

        def closure(opt=opt, z=z, x=x, lib=lib):
            opt.zero_grad()
            loss = (lib.view_as_real(z) ** 4).sum() + (x ** 2).sum() * 0.1
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        results.append((z.detach().cpu().numpy(), x.detach().cpu().numpy()))
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["Adafactor", "Muon"])
def test_optimizers_without_complex_support_refuse_before_any_change(name):
    x = flambeau.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    z = flambeau.tensor([[1j, 2.0], [3.0, 4.0]], requires_grad=True)
    opt = getattr(optim, name)([{"params": [x]}, {"params": [z]}], lr=0.1)
    (x.sum() + flambeau.view_as_real(z).sum()).backward()
    before = x.detach().clone()
    with pytest.raises(RuntimeError, match=f"{name} does not support complex parameters"):
        opt.step()
    assert flambeau.equal(x.detach(), before) and not opt.state  # the real group untouched
    tz = torch.tensor([[1j, 2.0], [3.0, 4.0]], requires_grad=True)
    topt = getattr(torch.optim, name)([tz], lr=0.1)
    torch.view_as_real(tz).sum().backward()
    with pytest.raises(RuntimeError, match="does not support complex"):
        topt.step()


def test_integer_parameters_are_still_refused():
    with pytest.raises(ValueError, match="SGD can only optimize floating-point and complex "
                                         "tensors, but parameter 0 has dtype flambeau.int64"):
        optim.SGD([flambeau.zeros(2, dtype=flambeau.int64)], lr=0.1)
