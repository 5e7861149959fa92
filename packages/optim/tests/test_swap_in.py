"""``swap_in_optimizer_params_and_state`` against torch's: the step inside the block moves the
given tensors and state only, the optimizer gets its own back, bad input swaps nothing."""

import copy

import numpy as np
import pytest
from optim_helpers import make_params, quad_grads

import flambeau
from flambeau import optim


def _run(lib, name, options):
    """Two live steps, then a step on swapped-in copies (one group per parameter, another
    lr inside), then another live step: every parameter and state tensor after each part."""
    live = [lib.tensor(a, requires_grad=True) for a in make_params(0)]
    opt = getattr(lib.optim, name)([{"params": [p]} for p in live], **options)
    for step in range(2):
        for p, g in zip(live, quad_grads([p.detach().cpu().numpy() for p in live], step)):
            p.grad = lib.tensor(g)
        opt.step()
    saved = copy.deepcopy(opt.state_dict())
    saved["param_groups"][1]["lr"] = 0.5
    group_lists = [g["params"] for g in opt.param_groups]
    other = {f"p{i}": lib.tensor(a, requires_grad=True) for i, a in enumerate(make_params(1))}
    for p, g in zip(other.values(), quad_grads(make_params(1), 5)):
        p.grad = lib.tensor(g)
    before = [p.detach().clone() for p in live]
    with lib.optim.swap_in_optimizer_params_and_state(opt, other, saved):
        assert opt.param_groups[1]["lr"] == 0.5
        assert opt.param_groups[0]["params"][0] is other["p0"]
        opt.step()
    assert [g["params"] for g in opt.param_groups] == group_lists
    assert all(g["params"] is lst for g, lst in zip(opt.param_groups, group_lists))
    assert opt.param_groups[1]["lr"] == options["lr"]
    for p, b in zip(live, before):
        np.testing.assert_array_equal(p.detach().cpu().numpy(), b.cpu().numpy())
    for p, g in zip(live, quad_grads([p.detach().cpu().numpy() for p in live], 2)):
        p.grad = lib.tensor(g)
    opt.step()
    state = [{k: np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v)
              for k, v in s.items()} for s in saved["state"].values()]
    return ([p.detach().cpu().numpy() for p in other.values()], state,
            [p.detach().cpu().numpy() for p in live])


@pytest.mark.parametrize("name, options", [
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
])
def test_swap_in_steps_the_given_tensors_as_torch(name, options):
    torch = pytest.importorskip("torch")
    ours, theirs = _run(flambeau, name, options), _run(torch, name, options)
    for got, want in zip(ours[0] + ours[2], theirs[0] + theirs[2]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    for got, want in zip(ours[1], theirs[1]):
        assert sorted(got) == sorted(want)
        for k in got:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-12)


def _sgd():
    w = flambeau.ones(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = flambeau.ones(2)
    opt.step()
    return opt, {"w": flambeau.zeros(2, requires_grad=True)}


def _bad(change):
    def edit(opt):
        sd = copy.deepcopy(opt.state_dict())
        change(sd)
        return sd
    return edit


@pytest.mark.parametrize("edit, message", [
    (lambda opt: [], r"swapin_optim_state must be an optimizer.state_dict\(\)-style dict, "
                     "got list"),
    (_bad(lambda sd: sd.update(state=[])), r"swapin_optim_state\['state'\] must be a dict of "
                                           "packed parameter ids"),
    (lambda opt: {"state": dict(opt.state), "param_groups": []}, "is keyed by tensors"),
    (_bad(lambda sd: sd["state"].update({0: 1})), "each entry of swapin_optim_state"),
    (_bad(lambda sd: sd.update(param_groups={})), r"\['param_groups'\] must be a list"),
    (_bad(lambda sd: sd["param_groups"].append({})), "has 2 parameter groups, the optimizer 1"),
    (_bad(lambda sd: sd["param_groups"].__setitem__(0, 3)), "param group 0 of swapin_optim_"
                                                            "state must be a dict, got int"),
    (_bad(lambda sd: sd["param_groups"][0].update(params=["0"])), "'params' must be a list of "
                                                                  "packed parameter ids"),
    (_bad(lambda sd: sd["param_groups"][0].update(params=[0, 1])), "param group 0 of swapin_"
                                                                   "optim_state has 2 params, "
                                                                   "the optimizer's 1"),
    (_bad(lambda sd: sd["param_groups"][0].pop("nesterov")),
     r"only in swapin_optim_state \[\], only in the optimizer \['nesterov'\]"),
    (_bad(lambda sd: sd["state"].update({7: {}})), r"has entries for ids \[7\] that no param "
                                                   "group lists"),
])
def test_bad_swap_in_state_is_refused_before_anything_changes(edit, message):
    opt, other = _sgd()
    groups, state = [dict(g) for g in opt.param_groups], opt.state
    with pytest.raises(RuntimeError, match=message):
        with optim.swap_in_optimizer_params_and_state(opt, other, edit(opt)):
            pytest.fail("the block ran")
    assert opt.param_groups == groups and opt.state is state


def test_swap_in_needs_state_and_enough_parameters():
    w = flambeau.ones(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(RuntimeError, match="the optimizer has no state yet; run a step"):
        with optim.swap_in_optimizer_params_and_state(opt, {}, opt.state_dict()):
            pass
    opt, _ = _sgd()
    with pytest.raises(RuntimeError, match="got 0 parameters for the optimizer's 1"):
        with optim.swap_in_optimizer_params_and_state(opt, {}, opt.state_dict()):
            pass


def test_the_optimizer_is_restored_when_the_block_raises():
    opt, other = _sgd()
    live = opt.param_groups[0]["params"]
    with pytest.raises(KeyError):
        with optim.swap_in_optimizer_params_and_state(opt, other,
                                                      copy.deepcopy(opt.state_dict())):
            opt.state[other["w"]]["extra"] = 1
            raise KeyError("in the block")
    assert opt.param_groups[0]["params"] is live and "extra" not in opt.state[live[0]]
