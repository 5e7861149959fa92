"""The Optimizer base: groups, errors that leave everything unchanged, state_dict, hooks."""

import copy

import numpy as np
import pytest
from optim_helpers import make_params, quad_grads

import flambeau
from flambeau import optim

ALL = {
    "SGD": dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "Adam": dict(lr=0.01, amsgrad=True, weight_decay=0.01),
    "AdamW": dict(lr=0.01),
    "Adamax": dict(lr=0.01),
    "NAdam": dict(lr=0.01),
    "RAdam": dict(lr=0.01),
    "RMSprop": dict(lr=0.01, momentum=0.5, centered=True),
    "Adagrad": dict(lr=0.1, lr_decay=0.01),
    "Adadelta": dict(lr=0.5),
}


def _feed(params, step):
    for p, g in zip(params, quad_grads([p.detach().cpu().numpy() for p in params], step),
                    strict=True):
        p.grad = flambeau.tensor(g)


def _snapshot(opt, params):
    return ([p.detach().cpu().numpy().copy() for p in params], copy.deepcopy(opt.param_groups),
            {id(p): {k: (v.cpu().numpy().copy() if isinstance(v, flambeau.Tensor) else v)
                     for k, v in s.items()} for p, s in opt.state.items()})


def _assert_unchanged(before, after):
    for a, b in zip(before[0], after[0], strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(before[1]) == len(after[1])
    for ga, gb in zip(before[1], after[1], strict=True):
        assert {k: v for k, v in ga.items() if k != "params"} == \
            {k: v for k, v in gb.items() if k != "params"}
    assert before[2].keys() == after[2].keys()
    for key, state in before[2].items():
        for name, value in state.items():
            np.testing.assert_array_equal(value, after[2][key][name])


@pytest.mark.parametrize("name", sorted(ALL))
def test_state_dict_round_trip_mid_run_reproduces_trajectory(name):
    params = [flambeau.tensor(a, requires_grad=True) for a in make_params()]
    opt = getattr(optim, name)(params, **ALL[name])
    for i in range(40):
        _feed(params, i)
        opt.step()
    expected = [p.detach().cpu().numpy().copy() for p in params]

    params = [flambeau.tensor(a, requires_grad=True) for a in make_params()]
    opt = getattr(optim, name)(params, **ALL[name])
    for i in range(15):
        _feed(params, i)
        opt.step()
    saved = copy.deepcopy(opt.state_dict())
    resumed = [flambeau.tensor(p.detach().cpu().numpy().copy(), requires_grad=True) for p in params]
    opt2 = getattr(optim, name)(resumed, lr=123.0)  # options come back from the state dict
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == ALL[name]["lr"]
    for i in range(15, 40):
        _feed(resumed, i)
        opt2.step()
    for e, g in zip(expected, resumed, strict=True):
        np.testing.assert_array_equal(g.detach().cpu().numpy(), e)


def test_state_dict_layout_matches_pytorch_conventions():
    a, b, c = (flambeau.ones(2, requires_grad=True) for _ in range(3))
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5, "name": "head"}])
    for p in (a, c):
        p.grad = flambeau.ones(2)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["name"] == "head" and sd["param_groups"][1]["lr"] == 0.5
    assert sorted(sd["state"]) == [0, 2]  # b had no gradient: skipped, no state
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "step"]
    assert sd["state"][0]["step"].item() == 1.0 and sd["state"][0]["step"].ndim == 0


def test_load_state_dict_copies_and_casts_state():
    w = flambeau.ones(3, requires_grad=True, dtype=flambeau.float64)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    sd = {"state": {0: {"momentum_buffer": flambeau.tensor([1.0, 2.0, 3.0])}},
          "param_groups": [dict(opt.state_dict()["param_groups"][0])]}
    opt.load_state_dict(sd)
    buf = opt.state[w]["momentum_buffer"]
    assert buf.dtype == flambeau.float64 and buf.device == w.device
    w.grad = flambeau.zeros(3, dtype=flambeau.float64)
    opt.step()  # the in-place update must not write into the caller's dict
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"].cpu().numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(buf.cpu().numpy(), [0.9, 1.8, 2.7])


@pytest.mark.parametrize("mutate,match", [
    (lambda sd: sd["param_groups"].append({"params": []}), "2 parameter groups"),
    (lambda sd: sd["param_groups"][0]["params"].append(9), "has 3 parameters"),
    (lambda sd: sd["param_groups"][0].update(lr=-1.0), "lr"),
    (lambda sd: sd["state"].update({7: {}}), "names no parameter"),
    (lambda sd: sd.pop("state"), "keys 'state' and 'param_groups'"),
])
def test_mismatched_state_dict_raises_and_leaves_optimizer_unchanged(mutate, match):
    params = [flambeau.tensor(a, requires_grad=True) for a in make_params()]
    opt = optim.Adam(params, lr=0.01)
    _feed(params, 0)
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    sd["param_groups"][0]["lr"] = 0.5
    for s in sd["state"].values():
        s["exp_avg"] = s["exp_avg"] * 0 + 7
    mutate(sd)
    before = _snapshot(opt, params)
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(sd)
    _assert_unchanged(before, _snapshot(opt, params))


@pytest.mark.parametrize("name,kwargs,match", [
    ("SGD", dict(lr=-0.1), "lr"),
    ("SGD", dict(momentum=-0.5), "momentum"),
    ("SGD", dict(weight_decay=-1.0), "weight_decay"),
    ("SGD", dict(nesterov=True), "Nesterov"),
    ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1), "Nesterov"),
    ("Adam", dict(eps=-1e-8), "eps"),
    ("Adam", dict(betas=(1.0, 0.999)), "beta parameter at index 0"),
    ("Adam", dict(betas=(0.9, -0.1)), "beta parameter at index 1"),
    ("AdamW", dict(weight_decay=-0.1), "weight_decay"),
    ("Adamax", dict(betas=(0.9, 1.5)), "index 1"),
    ("NAdam", dict(momentum_decay=-1.0), "momentum_decay"),
    ("RAdam", dict(lr=-1.0), "lr"),
    ("RMSprop", dict(alpha=-0.1), "alpha"),
    ("Adagrad", dict(lr_decay=-0.1), "lr_decay"),
    ("Adagrad", dict(initial_accumulator_value=-1.0), "initial_accumulator_value"),
    ("Adadelta", dict(rho=1.5), "rho"),
])
def test_bad_options_raise_value_error(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        getattr(optim, name)([flambeau.ones(1, requires_grad=True)], **kwargs)


@pytest.mark.parity
@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "NAdam", "RAdam", "SparseAdam"])
@pytest.mark.parametrize("betas", [(1.0, 0.999), (0.9, -0.1)])
def test_bad_betas_give_torchs_message(name, betas):
    # one check_betas for the Adam family: torch's words first, then which rule
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.ones(1, requires_grad=True)], betas=betas)
    with pytest.raises(ValueError) as ours:
        getattr(optim, name)([flambeau.ones(1, requires_grad=True)], betas=betas)
    assert str(ours.value) == f"{theirs.value} ({name}'s betas must be in [0, 1))"


def test_bad_parameter_lists():
    w = flambeau.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="another parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(ValueError, match="appears twice"):
        optim.SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="floating-point.*int64"):
        optim.SGD([flambeau.ones(2, dtype=flambeau.int64)], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="not a set"):
        optim.SGD([{"params": {w}}], lr=0.1)


def test_failed_add_param_group_leaves_optimizer_unchanged():
    w, v = flambeau.ones(2, requires_grad=True), flambeau.ones(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    for group, match in [({"params": [v, w]}, "another parameter group"),
                         ({"params": [v], "lr": -2.0}, "lr"),
                         ({"params": [v, v * 2]}, "non-leaf")]:
        with pytest.raises(ValueError, match=match):
            opt.add_param_group(group)
        assert len(opt.param_groups) == 1
    opt.add_param_group({"params": v, "lr": 0.01, "note": "kept"})
    assert opt.param_groups[1]["note"] == "kept" and opt.param_groups[1]["momentum"] == 0.0


def test_required_option():
    class Mine(optim.Optimizer):
        def __init__(self, params, lr=optim.required):
            super().__init__(params, dict(lr=lr))

    with pytest.raises(ValueError, match="required optimization parameter lr"):
        Mine([flambeau.ones(1, requires_grad=True)])
    assert Mine([{"params": [flambeau.ones(1, requires_grad=True)], "lr": 0.1}])


def test_bad_gradient_raises_before_any_update():
    a, b = flambeau.ones(2, requires_grad=True), flambeau.ones(3, requires_grad=True)
    opt = optim.Adam([{"params": [a]}, {"params": [b]}], lr=0.1)
    a.grad = flambeau.ones(2)
    with pytest.raises(RuntimeError, match="assign a gradient of size '\\[4\\]'"):
        b.grad = flambeau.ones(4)  # refused as torch refuses it
    b._grad = flambeau.ones(4)  # one that got past the check (a custom backward's writes)
    with pytest.raises(ValueError, match=r"gradient of shape \(4,\).*shape \(3,\)"):
        opt.step()
    np.testing.assert_array_equal(a.detach().cpu().numpy(), [1.0, 1.0])
    assert len(opt.state) == 0


def test_parameters_without_grad_are_skipped():
    a, b = flambeau.ones(2, requires_grad=True), flambeau.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = flambeau.ones(2)
    opt.step()
    np.testing.assert_array_equal(b.detach().cpu().numpy(), [1.0, 1.0])
    assert b not in opt.state and a in opt.state


def test_zero_grad():
    w = flambeau.ones(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * 3).sum().backward()
    g = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is g
    np.testing.assert_array_equal(g.cpu().numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None


def test_gradient_accumulation_over_several_backward_calls():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 3)), rng.standard_normal(8)
    w_full = flambeau.zeros(3, requires_grad=True, dtype=flambeau.float64)
    w_acc = flambeau.zeros(3, requires_grad=True, dtype=flambeau.float64)
    full = optim.SGD([w_full], lr=0.1, momentum=0.9)
    acc = optim.SGD([w_acc], lr=0.1, momentum=0.9)
    xs, ys = flambeau.tensor(x), flambeau.tensor(y)
    for _ in range(5):
        full.zero_grad()
        ((xs @ w_full - ys) ** 2).mean().backward()
        full.step()
        acc.zero_grad()
        for k in range(4):  # 4 micro-batches of 2, each loss scaled by 1/4
            xb, yb = xs[2 * k:2 * k + 2], ys[2 * k:2 * k + 2]
            (((xb @ w_acc - yb) ** 2).mean() / 4).backward()
        acc.step()
    np.testing.assert_allclose(w_acc.detach().cpu().numpy(), w_full.detach().cpu().numpy(),
                               rtol=1e-12)


def test_hooks_run_around_step_and_can_be_removed():
    w = flambeau.ones(1, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    calls = []
    pre = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", o is opt)))
    opt.register_step_post_hook(lambda o, a, k: calls.append(("post", len(o.state))))
    opt.step()
    pre.remove()
    opt.step()
    assert calls == [("pre", True), ("post", 0), ("post", 0)]


def test_pre_hook_can_replace_arguments():
    w = flambeau.ones(1, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    opt.register_step_pre_hook(lambda o, a, k: ((), {"closure": lambda: 42}))
    assert opt.step() == 42


def test_update_is_in_place_and_bumps_version():
    w = flambeau.ones(4, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    data, version = w._data, w._version
    w.grad = flambeau.ones(4)
    opt.step()
    state_arrays = [opt.state[w]["exp_avg"]._data, opt.state[w]["exp_avg_sq"]._data]
    opt.step()
    assert w._data is data and w._version == version + 2
    assert [opt.state[w]["exp_avg"]._data, opt.state[w]["exp_avg_sq"]._data] == state_arrays


def test_saved_parameter_changed_by_step_is_detected_by_autograd():
    w = flambeau.ones(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    loss = (w * w).sum()  # saves w for backward
    w.grad = flambeau.ones(3)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation|version"):
        loss.backward()


@pytest.mark.host_only  # patches the CPU backend's fused kernels
def test_backend_kernels_replace_the_generic_update(monkeypatch):
    from flambeau.optim import _adam, _sgd

    backend = flambeau.device("cpu").backend
    calls = []

    def adam_kernel(params, grads, *rest, **opts):
        calls.append(("adam", len(params), opts["beta1"]))
        _adam.adam_step(backend.xp, flambeau.optim._optimizer._Scratch(),
                        flambeau.device("cpu"), params, grads, *rest, **opts)

    def sgd_kernel(params, grads, bufs, **opts):
        calls.append(("sgd", len(params), opts["momentum"]))
        return _sgd.sgd_step(backend.xp, flambeau.optim._optimizer._Scratch(),
                             flambeau.device("cpu"), params, grads, bufs, **opts)

    monkeypatch.setitem(backend.kernels, "adam_step", adam_kernel)
    monkeypatch.setitem(backend.kernels, "sgd_step", sgd_kernel)
    ws = [flambeau.ones(2, requires_grad=True) for _ in range(3)]
    for w in ws:
        w.grad = flambeau.ones(2)
    optim.Adam(ws, lr=0.1).step()
    opt = optim.SGD(ws, lr=0.1, momentum=0.5)
    opt.step()
    assert calls == [("adam", 3, 0.9), ("sgd", 3, 0.5)]
    np.testing.assert_allclose(ws[0].detach().cpu().numpy(), [0.8, 0.8], rtol=1e-6)
    assert opt.state[ws[0]]["momentum_buffer"].cpu().numpy().tolist() == [1.0, 1.0]


def test_float32_parameters_keep_their_dtype():
    w = flambeau.ones(3, requires_grad=True)
    for name, kwargs in ALL.items():
        opt = getattr(optim, name)([w], **kwargs)
        w.grad = flambeau.full((3,), 0.5)
        opt.step()
        assert w.dtype == flambeau.float32
        assert all(v.dtype == flambeau.float32 for v in opt.state[w].values()
                   if isinstance(v, flambeau.Tensor))


def test_repr_lists_groups():
    opt = optim.SGD([flambeau.ones(1, requires_grad=True)], lr=0.1)
    assert "Parameter Group 0" in repr(opt) and "lr: 0.1" in repr(opt)


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda ps: optim.SGD(ps, lr=0.1),
    lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True, weight_decay=0.1),
    lambda ps: optim.AdamW(ps, lr=0.01),
    lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    lambda ps: optim.Adagrad(ps, lr=0.1),
    lambda ps: optim.Adadelta(ps),
    lambda ps: optim.Adamax(ps),
    lambda ps: optim.NAdam(ps),
    lambda ps: optim.RAdam(ps, decoupled_weight_decay=True, weight_decay=0.1),
])
@pytest.mark.host_only  # only CPU steps are split across threads
def test_steps_split_across_threads_equal_one_thread(make, monkeypatch):
    from flambeau.optim import _optimizer

    rng = np.random.default_rng(0)
    shapes = [(7, 5), (300, 400), (2, 3, 4), (1,), (500, 200)]  # large: parts overlap

    def run(threads):
        flambeau.set_num_threads(threads)
        ps = [flambeau.tensor(rng_a, requires_grad=True) for rng_a in start]
        opt = make(ps)
        for g in grads:
            for p, gi in zip(ps, g):
                p.grad = flambeau.tensor(gi)
            opt.step()
        return [p.detach().cpu().numpy() for p in ps], opt.state_dict()

    start = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(3)]
    monkeypatch.setattr(_optimizer, "PARALLEL_MIN_ELEMENTS", 0)
    splits = []
    real_split = _optimizer.run_split
    monkeypatch.setattr(_optimizer, "run_split",
                        lambda fn, parts: splits.append(len(parts)) or real_split(fn, parts))
    before = flambeau.get_num_threads()
    try:
        one, state_one = run(1)
        assert splits == []
        three, state_three = run(3)
        assert len(splits) == 3 and min(splits) >= 2  # every step ran in parts
    finally:
        flambeau.set_num_threads(before)
    for a, b in zip(one, three):
        np.testing.assert_array_equal(a, b)
    for k, st in state_one["state"].items():
        for name, value in st.items():
            other = state_three["state"][k][name]
            np.testing.assert_array_equal(np.asarray(value), np.asarray(other))


def test_split_ranges_cover_every_parameter_once():
    from flambeau.optim._optimizer import _split

    for sizes in ([5], [1, 1, 1, 1], [100, 1, 1, 1, 100], [3, 9, 27, 81], [10] * 7):
        for parts in (1, 2, 3, 8):
            ranges = _split(sizes, parts)
            assert len(ranges) <= parts
            assert [i for a, b in ranges for i in range(a, b)] == list(range(len(sizes)))
