"""ASGD, Rprop and Adafactor: values, state layout and errors, against PyTorch where installed.

PyTorch's CPU kernels fuse ``a + alpha * b`` and ``lerp`` into FMA instructions, which
NumPy has no ufunc for, so ASGD and Adafactor agree to about one ulp per step (checked with
rtol 1e-12 in float64); Rprop's update has no such product and agrees bit for bit.
"""

import copy
import inspect

import numpy as np
import pytest

import flambeau
from flambeau import optim

# a matrix, a vector, a 3-d tensor (factored over its last two dimensions) and a scalar
SHAPES = [(3, 4), (5,), (2, 3, 4), ()]

CASES = [
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=1e-2, alpha=0.5, t0=4)),
    ("ASGD", dict(lr=0.05, t0=3, weight_decay=0.1)),
    ("ASGD", dict(lr=0.02, t0=0, maximize=True)),
    ("ASGD", dict(lr=0.05, t0=2, weight_decay=0.1, maximize=True, lambd=0.0)),
    ("ASGD", dict(lr=0.0)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5))),
    ("Rprop", dict(lr=0.05, step_sizes=(1e-2, 0.08))),
    ("Rprop", dict(lr=0.1, etas=(0.6, 1.1), step_sizes=(1e-3, 0.2), maximize=True)),
    ("Adafactor", dict()),
    ("Adafactor", dict(lr=0.05, beta2_decay=-0.5)),
    ("Adafactor", dict(lr=0.05, weight_decay=0.1)),
    ("Adafactor", dict(lr=0.2, d=2.0, eps=(1e-3, 1e-2))),
    ("Adafactor", dict(lr=0.05, eps=(None, 0.5), maximize=True, weight_decay=0.05)),
    ("Adafactor", dict(lr=0.5, beta2_decay=0.0, d=1.0)),  # beta 0: only the last gradient
]

EXACT = {"Rprop"}  # no fused multiply-add in PyTorch's update: equal bit for bit


def _ids(case):
    name, kw = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kw.items())


def make_params(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [np.asarray(rng.standard_normal(s)).astype(dtype) for s in SHAPES]


def grads_at(arrays, step):
    """Gradients of a fixed non-quadratic objective, with sign changes (for Rprop)."""
    out = []
    for i, a in enumerate(arrays):
        wave = np.cos(step * (1.3 + 0.1 * i) + np.arange(a.size)).reshape(a.shape)
        out.append(((1.0 + 0.5 * i) * a + 0.3 * np.sin(3 * a) + 0.2 * wave).astype(a.dtype))
    return out


def _groups(lib_params, groups):
    if not groups:
        return lib_params
    return [{"params": lib_params[:2]}, {"params": lib_params[2:], "lr": 0.03}]


def run(lib, name, kwargs, steps=20, dtype=np.float64, groups=False, start=None):
    ps = [lib.tensor(a, requires_grad=True) for a in (start or make_params(dtype=dtype))]
    opt = getattr(lib.optim, name)(_groups(ps, groups), **kwargs)
    for i in range(steps):
        for p, g in zip(ps, grads_at([p.detach().cpu().numpy() for p in ps], i), strict=True):
            p.grad = lib.tensor(g)
        opt.step()
    return [p.detach().cpu().numpy() for p in ps], opt


def _assert_close(got, expected, exact, rtol=1e-12):
    for g, e in zip(got, expected, strict=True):
        if exact:
            np.testing.assert_array_equal(g, e)
        else:
            np.testing.assert_allclose(g, e, rtol=rtol, atol=1e-15)


def _to_flambeau(value):
    import torch

    if isinstance(value, torch.Tensor):
        return flambeau.tensor(value.cpu().numpy())
    return value


def _torch_state_to_flambeau(sd):
    return {"state": {k: {key: _to_flambeau(v) for key, v in s.items()}
                      for k, s in sd["state"].items()},
            "param_groups": [dict(g, params=list(g["params"])) for g in sd["param_groups"]]}


# ---------------------------------------------------------------------------------- parity
@pytest.mark.parity
@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_matches_torch_float64(case):
    torch = pytest.importorskip("torch")
    name, kwargs = case
    expected, _ = run(torch, name, kwargs)
    got, _ = run(flambeau, name, kwargs)
    _assert_close(got, expected, name in EXACT)


@pytest.mark.parity
@pytest.mark.parametrize("case", CASES[::2], ids=[_ids(c) for c in CASES[::2]])
def test_matches_torch_float32(case):
    torch = pytest.importorskip("torch")
    name, kwargs = case
    expected, _ = run(torch, name, kwargs, dtype=np.float32)
    got, opt = run(flambeau, name, kwargs, dtype=np.float32)
    assert all(g.dtype == np.float32 for g in got)
    _assert_close(got, expected, False, rtol=2e-5)


@pytest.mark.parity
@pytest.mark.parametrize("name", ["ASGD", "Rprop", "Adafactor"])
def test_groups_with_own_lr_match_torch(name):
    torch = pytest.importorskip("torch")
    kwargs = dict(lr=0.05)
    expected, _ = run(torch, name, kwargs, groups=True)
    got, _ = run(flambeau, name, kwargs, groups=True)
    _assert_close(got, expected, name in EXACT)


@pytest.mark.parity
def test_adafactor_default_eps1_is_that_of_the_groups_first_parameter():
    # PyTorch picks eps1 from the first parameter with a gradient and keeps it for the
    # whole group: a float64 parameter after a float32 one gets float32's epsilon
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    start = [rng.standard_normal((3, 2)).astype(np.float32) * 1e-4,
             rng.standard_normal((2, 3)) * 1e-4]
    outs = []
    for lib in (torch, flambeau):
        ps = [lib.tensor(a, requires_grad=True) for a in start]
        opt = lib.optim.Adafactor(ps, lr=0.5)
        for i in range(3):
            for p, a in zip(ps, start, strict=True):
                p.grad = lib.tensor(a * 1e-5 * (i + 1))
            opt.step()
        outs.append([p.detach().cpu().numpy() for p in ps])
    _assert_close(outs[1][1:], outs[0][1:], False)
    _assert_close(outs[1][:1], outs[0][:1], False, rtol=1e-6)


@pytest.mark.parity
@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_state_dict_layout_matches_torch(case):
    torch = pytest.importorskip("torch")
    name, kwargs = case
    _, topt = run(torch, name, kwargs, steps=4)
    _, fopt = run(flambeau, name, kwargs, steps=4)
    tsd, fsd = topt.state_dict(), fopt.state_dict()
    params = [p for group in fopt.param_groups for p in group["params"]]
    assert list(fsd["state"]) == list(tsd["state"])
    for k, tstate in tsd["state"].items():
        fstate = fsd["state"][k]
        assert list(fstate) == list(tstate)  # same keys in the same order
        for key, value in tstate.items():
            got = fstate[key]
            assert tuple(got.shape) == tuple(value.shape), key
            assert str(got.dtype).split(".")[-1] == str(value.dtype).split(".")[-1], key
            # torch keeps a step counter on the CPU, except ASGD's, which lives with the
            # parameter like the rest of the state
            on_cpu = key == "step" and name != "ASGD"
            assert got.device == (flambeau.device("cpu") if on_cpu else params[k].device), key
            np.testing.assert_allclose(got.cpu().numpy(), value.cpu().numpy(), rtol=1e-12,
                                       atol=1e-300)
    assert fsd["param_groups"] == tsd["param_groups"]  # keys, order and values
    assert list(fsd["param_groups"][0]) == list(tsd["param_groups"][0])


@pytest.mark.parity
@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_loading_a_torch_state_dict_continues_torchs_run(case):
    torch = pytest.importorskip("torch")
    name, kwargs = case
    expected, _ = run(torch, name, kwargs, steps=12)
    mid, topt = run(torch, name, kwargs, steps=5)
    sd = _torch_state_to_flambeau(copy.deepcopy(topt.state_dict()))
    ps = [flambeau.tensor(a.copy(), requires_grad=True) for a in mid]
    opt = getattr(optim, name)(ps, lr=0.5)  # options come from the state dict
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == kwargs.get("lr", 0.01)
    for i in range(5, 12):
        for p, g in zip(ps, grads_at([p.detach().cpu().numpy() for p in ps], i), strict=True):
            p.grad = flambeau.tensor(g)
        opt.step()
    _assert_close([p.detach().cpu().numpy() for p in ps], expected, name in EXACT)


@pytest.mark.parity
@pytest.mark.parametrize("name", ["ASGD", "Rprop", "Adafactor"])
def test_signature_and_defaults_match_torch(name):
    torch = pytest.importorskip("torch")
    theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters
    ours = inspect.signature(getattr(optim, name).__init__).parameters
    assert list(ours) == list(theirs)
    for key, param in theirs.items():
        assert ours[key].kind == param.kind, key
        assert ours[key].default == param.default, key


# (name, kwargs, message: PyTorch's, after the class name)
BAD = [
    ("ASGD", dict(lr=-1), "ASGD: Invalid learning rate: -1"),
    ("ASGD", dict(weight_decay=-0.5), "ASGD: Invalid weight_decay value: -0.5"),
    ("Rprop", dict(lr=-1), "Rprop: Invalid learning rate: -1"),
    ("Rprop", dict(etas=(1.0, 1.2)), "Rprop: Invalid eta values: 1.0, 1.2"),
    ("Rprop", dict(etas=(0.0, 1.2)), "Rprop: Invalid eta values: 0.0, 1.2"),
    ("Rprop", dict(etas=(0.5, 1.0)), "Rprop: Invalid eta values: 0.5, 1.0"),
    ("Adafactor", dict(lr=-1), "Adafactor: Learning rate should be >= 0 but is: -1"),
    ("Adafactor", dict(beta2_decay=0.5), "Adafactor: beta2_decay should be <= 0 but is: 0.5"),
    ("Adafactor", dict(eps=(-1e-3, 1e-3)), "Adafactor: epsilon1 should be >= 0 but is: -0.001"),
    ("Adafactor", dict(eps=(None, -1.0)), "Adafactor: epsilon2 should be >= 0 but is: -1.0"),
    ("Adafactor", dict(d=0.5), "Adafactor: Clipping threshold d should be >= 1 but is: 0.5"),
    ("Adafactor", dict(weight_decay=-0.1),
     "Adafactor: weight_decay should be >= 0 but is: -0.1"),
]


@pytest.mark.parametrize("name,kwargs,message", BAD, ids=[m for _, _, m in BAD])
def test_invalid_options_raise_torchs_message(name, kwargs, message):
    with pytest.raises(ValueError) as info:
        getattr(optim, name)([flambeau.ones(2, requires_grad=True)], **kwargs)
    assert str(info.value) == message


@pytest.mark.parity
@pytest.mark.parametrize("name,kwargs,message", BAD, ids=[m for _, _, m in BAD])
def test_torch_raises_the_same_message(name, kwargs, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError) as info:
        getattr(torch.optim, name)([torch.ones(2, requires_grad=True)], **kwargs)
    assert message == f"{name}: {info.value}"


@pytest.mark.parametrize("name,kwargs,message", [
    ("Rprop", dict(etas=(0.5,)), "etas must be a pair"),
    ("Rprop", dict(step_sizes=(1e-6, 1.0, 2.0)), "step_sizes must be a pair"),
    ("Adafactor", dict(eps=(1e-3,)), "eps must be a pair"),
])
def test_malformed_pairs_raise(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)([flambeau.ones(2, requires_grad=True)], **kwargs)


@pytest.mark.parametrize("name,bad", [("ASGD", dict(lr=-0.1)), ("Rprop", dict(etas=(2.0, 3.0))),
                                      ("Adafactor", dict(d=0.0))])
def test_invalid_group_or_loaded_options_leave_optimizer_unchanged(name, bad):
    a, b = flambeau.ones(2, requires_grad=True), flambeau.ones(2, requires_grad=True)
    opt = getattr(optim, name)([a])
    with pytest.raises(ValueError):
        opt.add_param_group(dict(params=[b], **bad))
    assert len(opt.param_groups) == 1
    sd = copy.deepcopy(opt.state_dict())
    sd["param_groups"][0].update(bad)
    before = dict(opt.param_groups[0])
    with pytest.raises(ValueError):
        opt.load_state_dict(sd)
    assert opt.param_groups[0] == before


@pytest.mark.parametrize("name", ["ASGD", "Rprop", "Adafactor"])
def test_compatibility_keywords_are_accepted_and_kept(name):
    extra = {"ASGD": dict(foreach=False, differentiable=False, capturable=False),
             "Rprop": dict(foreach=False, differentiable=False, capturable=False),
             "Adafactor": dict(foreach=False)}[name]
    opt = getattr(optim, name)([flambeau.ones(2, requires_grad=True)], maximize=True, **extra)
    group = opt.param_groups[0]
    assert group["maximize"] is True
    assert all(group[k] == v for k, v in extra.items())


# ---------------------------------------------------------------------------- values alone
def test_asgd_update_and_average_by_hand():
    w = flambeau.tensor([1.0, -2.0], dtype=flambeau.float64, requires_grad=True)
    opt = optim.ASGD([w], lr=0.1, lambd=0.5, alpha=1.0, t0=1)
    p, ax, eta, mu = np.array([1.0, -2.0]), np.zeros(2), np.float32(0.1), 1.0
    for t in range(1, 5):
        g = 2 * p
        w.grad = flambeau.tensor(g)
        opt.step()
        eta = float(eta)
        p = p * (1 - 0.5 * eta) - eta * g
        ax = p.copy() if mu == 1 else ax + mu * (p - ax)
        eta = np.float32(0.1 / (1 + 0.5 * 0.1 * t))
        mu = float(np.float32(1 / max(1, t - 1)))
        np.testing.assert_allclose(w.detach().cpu().numpy(), p, rtol=1e-14)
        np.testing.assert_allclose(opt.state[w]["ax"].cpu().numpy(), ax, rtol=1e-14)
        assert opt.state[w]["eta"].item() == float(eta)
        assert opt.state[w]["mu"].item() == mu
    state = opt.state[w]
    assert [state["step"].dtype, state["eta"].dtype, state["mu"].dtype] == [flambeau.float32] * 3
    assert state["eta"].ndim == 0 and state["ax"].dtype == flambeau.float64


def test_rprop_grows_shrinks_and_skips_by_hand():
    w = flambeau.tensor([1.0, 1.0, 1.0], requires_grad=True)
    opt = optim.Rprop([w], lr=0.1, etas=(0.5, 2.0), step_sizes=(0.04, 0.3))
    steps = [[1.0, 1.0, 0.0], [1.0, -1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, -1.0]]
    for g in steps:
        w.grad = flambeau.tensor(g)
        opt.step()
    state = opt.state[w]
    # coordinate 0: grows 0.1, 0.2, 0.3 (capped), 0.3; coordinate 1: flips once (0.05,
    # skipped), then grows from 0.05 after a zero prev; coordinate 2: a zero gradient
    # first (no move), then 0.1, 0.2 and a skipped flip back to 0.1
    np.testing.assert_allclose(state["step_size"].cpu().numpy(), [0.3, 0.1, 0.1], rtol=1e-6)
    np.testing.assert_allclose(w.detach().cpu().numpy(), [1 - 0.1 - 0.2 - 0.3 - 0.3,
                                                    1 - 0.1 + 0.0 - 0.05 - 0.1,
                                                    1 + 0.0 - 0.1 - 0.2 + 0.0], rtol=1e-6)
    np.testing.assert_array_equal(state["prev"].cpu().numpy(), [1.0, 1.0, 0.0])


def test_adafactor_factored_state_for_two_or_more_dims():
    a = flambeau.ones(3, 4, requires_grad=True)
    b = flambeau.ones(2, 3, 5, requires_grad=True)
    c = flambeau.ones(4, requires_grad=True)
    d = flambeau.tensor(1.0, requires_grad=True)
    opt = optim.Adafactor([a, b, c, d])
    for p in (a, b, c, d):
        p.grad = flambeau.ones_like(p)
    opt.step()
    shapes = {id(p): {k: tuple(v.shape) for k, v in opt.state[p].items()} for p in (a, b, c, d)}
    assert shapes[id(a)] == {"step": (), "row_var": (3, 1), "col_var": (1, 4)}
    assert shapes[id(b)] == {"step": (), "row_var": (2, 3, 1), "col_var": (2, 1, 5)}
    assert shapes[id(c)] == {"step": (), "variance": (4,)}
    assert shapes[id(d)] == {"step": (), "variance": ()}


def test_adafactor_first_step_by_hand():
    # step 1: beta weight 1, so R = mean(g^2, -1), C = mean(g^2, -2), V = R C / mean(R)
    rng = np.random.default_rng(0)
    p0, g = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    w = flambeau.tensor(p0, requires_grad=True)
    opt = optim.Adafactor([w], lr=0.05, weight_decay=0.2, d=1.5)
    w.grad = flambeau.tensor(g)
    opt.step()
    r, c = (g * g).mean(-1, keepdims=True), (g * g).mean(-2, keepdims=True)
    v = np.maximum(r * c / max(r.mean(), np.finfo(np.float64).eps), np.finfo(float).eps ** 2)
    u = g / np.sqrt(v)
    alpha = max(1e-3, np.sqrt((p0 ** 2).mean())) * min(0.05, 1.0)
    expected = p0 * (1 - 0.05 * 0.2) - alpha * u / max(1.0, np.sqrt((u ** 2).mean()) / 1.5)
    np.testing.assert_allclose(w.detach().cpu().numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(opt.state[w]["row_var"].cpu().numpy(), r, rtol=1e-13)
    np.testing.assert_allclose(opt.state[w]["col_var"].cpu().numpy(), c, rtol=1e-13)


def test_maximize_equals_minimizing_the_negated_gradient():
    for name, kwargs in [("ASGD", dict(lr=0.05, t0=2, weight_decay=0.1)),
                         ("Rprop", dict(lr=0.05)), ("Adafactor", dict(weight_decay=0.1))]:
        a = flambeau.tensor(make_params()[0], requires_grad=True)
        b = flambeau.tensor(make_params()[0], requires_grad=True)
        up = getattr(optim, name)([a], maximize=True, **kwargs)
        down = getattr(optim, name)([b], **kwargs)
        for i in range(6):
            g = grads_at([a.detach().cpu().numpy()], i)[0]
            a.grad, b.grad = flambeau.tensor(g), flambeau.tensor(-g)
            up.step()
            down.step()
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())


@pytest.mark.parametrize("name,kwargs", [c for c in CASES if c[1]][::2])
def test_state_dict_round_trip_mid_run_reproduces_trajectory(name, kwargs):
    expected, _ = run(flambeau, name, kwargs, steps=15)
    mid, opt = run(flambeau, name, kwargs, steps=6)
    saved = copy.deepcopy(opt.state_dict())
    ps = [flambeau.tensor(a.copy(), requires_grad=True) for a in mid]
    opt2 = getattr(optim, name)(ps, lr=123.0)
    opt2.load_state_dict(saved)
    for i in range(6, 15):
        for p, g in zip(ps, grads_at([p.detach().cpu().numpy() for p in ps], i), strict=True):
            p.grad = flambeau.tensor(g)
        opt2.step()
    for e, p in zip(expected, ps, strict=True):
        np.testing.assert_array_equal(p.detach().cpu().numpy(), e)


@pytest.mark.parametrize("make", [
    lambda ps: optim.ASGD(ps, lr=0.05, t0=1, weight_decay=0.1),
    lambda ps: optim.Rprop(ps, lr=0.05),
    lambda ps: optim.Adafactor(ps, weight_decay=0.1),
])
@pytest.mark.host_only  # only CPU steps are split across threads
def test_steps_split_across_threads_equal_one_thread(make, monkeypatch):
    from flambeau.optim import _optimizer

    rng = np.random.default_rng(0)
    shapes = [(7, 5), (300, 400), (2, 3, 4), (1,), (500, 200)]
    start = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(3)]

    def go(threads):
        flambeau.set_num_threads(threads)
        ps = [flambeau.tensor(a, requires_grad=True) for a in start]
        opt = make(ps)
        for g in grads:
            for p, gi in zip(ps, g, strict=True):
                p.grad = flambeau.tensor(gi)
            opt.step()
        return [p.detach().cpu().numpy() for p in ps]

    monkeypatch.setattr(_optimizer, "PARALLEL_MIN_ELEMENTS", 0)
    before = flambeau.get_num_threads()
    try:
        one, three = go(1), go(3)
    finally:
        flambeau.set_num_threads(before)
    for a, b in zip(one, three, strict=True):
        np.testing.assert_array_equal(a, b)


def test_update_is_in_place_bumps_version_and_skips_params_without_grad():
    for name in ("ASGD", "Rprop", "Adafactor"):
        a, b = flambeau.ones(2, 3, requires_grad=True), flambeau.ones(2, requires_grad=True)
        opt = getattr(optim, name)([a, b], lr=0.1)
        data, version = a._data, a._version
        a.grad = flambeau.full((2, 3), 0.5)
        opt.step()
        assert a._data is data and a._version > version
        assert not np.array_equal(a.detach().cpu().numpy(), np.ones((2, 3)))
        np.testing.assert_array_equal(b.detach().cpu().numpy(), [1.0, 1.0])
        assert b not in opt.state and opt.state[a]["step"].item() == 1.0


def test_closure_is_evaluated_first_and_its_loss_returned():
    for name in ("ASGD", "Rprop", "Adafactor"):
        w = flambeau.tensor([2.0], requires_grad=True)
        opt = getattr(optim, name)([w])

        def closure(opt=opt, w=w):
            opt.zero_grad()
            loss = (w ** 2).sum()
            loss.backward()
            return loss

        assert opt.step(closure).item() == 4.0
        assert w.grad.item() == 4.0 and w.item() < 2.0


@pytest.mark.parametrize("name", ["ASGD", "Rprop", "Adafactor"])
def test_float32_parameters_keep_float32_state(name):
    a, b = flambeau.ones(3, 2, requires_grad=True), flambeau.ones(3, requires_grad=True)
    opt = getattr(optim, name)([a, b])
    for _ in range(2):
        a.grad, b.grad = flambeau.full((3, 2), 0.5), flambeau.full((3,), -0.5)
        opt.step()
    for p in (a, b):
        assert p.dtype == flambeau.float32
        assert all(v.dtype == flambeau.float32 for v in opt.state[p].values())
