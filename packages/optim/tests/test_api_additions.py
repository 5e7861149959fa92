"""What the API sweep against PyTorch added: state_dict hooks, named parameters,
Adagrad.share_memory, SequentialLR.recursive_undo, LBFGS state as torch lays it out."""

import numpy as np
import pytest

import flambeau
from flambeau import optim
from flambeau.optim import lr_scheduler


def _sgd(lr=0.1):
    return optim.SGD([flambeau.ones(2, requires_grad=True)], lr=lr, momentum=0.9)


def test_state_dict_hooks_run_in_order_and_can_replace_the_dict():
    opt, calls = _sgd(), []
    opt.register_state_dict_pre_hook(lambda o: calls.append(("pre", o is opt)))
    opt.register_state_dict_post_hook(lambda o, sd: calls.append(("post", sorted(sd))))
    handle = opt.register_state_dict_post_hook(lambda o, sd: {"replaced": True})
    first = opt.register_state_dict_post_hook(lambda o, sd: calls.append("first"),
                                              prepend=True)
    assert opt.state_dict() == {"replaced": True}
    assert calls == [("pre", True), "first", ("post", ["param_groups", "state"])]
    handle.remove()
    first.remove()
    assert sorted(opt.state_dict()) == ["param_groups", "state"]


def test_load_state_dict_hooks_see_a_copy_and_may_replace_it():
    opt, calls = _sgd(), []
    saved = _sgd(lr=0.5).state_dict()

    def pre(o, sd):
        calls.append("pre")
        sd["extra"] = 1  # lands on the copy, not on ``saved``
        return {"state": sd["state"], "param_groups": [dict(g, lr=0.25)
                                                       for g in sd["param_groups"]]}

    opt.register_load_state_dict_pre_hook(pre)
    opt.register_load_state_dict_post_hook(lambda o: calls.append("post"))
    opt.register_load_state_dict_post_hook(lambda o: calls.append("post-first"), prepend=True)
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["lr"] == 0.25
    assert "extra" not in saved
    assert calls == ["pre", "post-first", "post"]


def test_a_failed_load_runs_no_post_hook():
    opt, calls = _sgd(), []
    opt.register_load_state_dict_post_hook(lambda o: calls.append("post"))
    with pytest.raises(ValueError, match="parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    assert calls == [] and opt.param_groups[0]["lr"] == 0.1


def test_hooks_survive_pickling_of_old_optimizers():
    import pickle

    opt = _sgd()
    state = opt.__getstate__()
    for key in ("_state_dict_pre_hooks", "_load_state_dict_post_hooks"):
        del state[key]  # as pickled by flambeau before the hooks existed
    back = optim.SGD.__new__(optim.SGD)
    back.__setstate__(state)
    assert sorted(back.state_dict()) == ["param_groups", "state"]
    assert pickle.loads(pickle.dumps(opt)).param_groups[0]["lr"] == 0.1


def test_named_parameters_are_split_and_checked():
    a, b = flambeau.ones(1, requires_grad=True), flambeau.ones(2, requires_grad=True)
    opt = optim.Adam([("a", a), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["params"] == [a, b]
    assert opt.param_groups[0]["param_names"] == ["a", "b"]
    with pytest.raises(ValueError, match="with/without names"):
        optim.Adam([("a", a), b])
    with pytest.raises(ValueError, match="with/without names"):
        opt.add_param_group({"params": [flambeau.ones(1, requires_grad=True)]})
    assert len(opt.param_groups) == 1
    unnamed = optim.Adam([a])
    with pytest.raises(ValueError, match="with/without names"):
        unnamed.add_param_group({"params": [("b", b)]})
    # loading a dict without names keeps the optimizer's (as torch)
    opt.load_state_dict(optim.Adam([a, b], lr=0.3).state_dict())
    assert opt.param_groups[0]["param_names"] == ["a", "b"]
    assert opt.param_groups[0]["lr"] == 0.3


def test_adagrad_share_memory_keeps_state_and_steps():
    w = flambeau.ones(2, requires_grad=True)
    opt = optim.Adagrad([w], lr=0.5)
    opt.share_memory()
    w.sum().backward()
    opt.step()
    np.testing.assert_allclose(opt.state[w]["sum"].cpu().numpy(), [1.0, 1.0])
    np.testing.assert_allclose(w.detach().cpu().numpy(), [0.5, 0.5])


def test_sequential_lr_recursive_undo():
    opt = _sgd(1.0)
    inner = lr_scheduler.SequentialLR(opt, [lr_scheduler.StepLR(opt, 1, 0.5),
                                            lr_scheduler.ConstantLR(opt)], milestones=[1])
    outer = lr_scheduler.SequentialLR(opt, [inner, lr_scheduler.StepLR(opt, 1, 0.1)],
                                      milestones=[3])
    before = [s.last_epoch for s in inner._schedulers] + [outer._schedulers[1].last_epoch]
    outer.recursive_undo()
    after = [s.last_epoch for s in inner._schedulers] + [outer._schedulers[1].last_epoch]
    assert after == [e - 1 for e in before]
    outer.recursive_undo(outer._schedulers[1])
    assert outer._schedulers[1].last_epoch == before[-1] - 2


def test_lbfgs_state_keeps_tensors_and_resumes_exactly_in_float32():
    def run(opt, x, steps):
        def closure():
            opt.zero_grad()
            loss = (x ** 4).sum() + (x[:-1] * x[1:]).sum()
            loss.backward()
            return loss
        for _ in range(steps):
            opt.step(closure)

    start = np.linspace(-1, 1, 5).astype(np.float32)
    x = flambeau.tensor(start, requires_grad=True)
    full = optim.LBFGS([x], max_iter=3)
    run(full, x, 4)
    state = full.state_dict()["state"][0]
    assert isinstance(state["H_diag"], flambeau.Tensor) and state["H_diag"].dim() == 0
    assert state["H_diag"].dtype == flambeau.float32
    assert all(isinstance(r, flambeau.Tensor) for r in state["ro"])
    assert all(a is None or isinstance(a, flambeau.Tensor) for a in state["al"])

    y = flambeau.tensor(start, requires_grad=True)
    first = optim.LBFGS([y], max_iter=3)
    run(first, y, 2)
    z = flambeau.tensor(y.detach().cpu().numpy(), requires_grad=True)
    resumed = optim.LBFGS([z], max_iter=3)
    resumed.load_state_dict(first.state_dict())
    run(resumed, z, 2)
    np.testing.assert_array_equal(z.detach().cpu().numpy(), x.detach().cpu().numpy())


def test_complex_parameter_keeps_real_lbfgs_state_on_load():
    def closure_for(opt, w):
        def closure():
            opt.zero_grad()
            loss = ((w - flambeau.tensor([1 + 1j, -2j])).abs() ** 2).sum()
            loss.backward()
            return loss
        return closure

    w = flambeau.tensor(np.array([3 + 2j, 0.5 - 1j]), requires_grad=True)
    opt = optim.LBFGS([w], max_iter=1)
    opt.step(closure_for(opt, w))
    v = flambeau.tensor(w.detach().cpu().numpy(), requires_grad=True)
    other = optim.LBFGS([v], max_iter=1)
    other.load_state_dict(opt.state_dict())
    assert other.state[v]["d"].dtype == flambeau.float64  # not cast to complex128
    for _ in range(5):
        other.step(closure_for(other, v))
    np.testing.assert_allclose(v.detach().cpu().numpy(), [1 + 1j, -2j], atol=1e-6)
