"""The API surface of flambeau.optim against PyTorch's: names, signatures, defaults, state.

Signatures compare parameter names, order, kinds and default values *with their types*
(``0`` and ``0.0`` differ: they show in ``defaults``, ``state_dict()`` and ``repr``).
"""

import importlib
import inspect

import numpy as np
import pytest

import flambeau
from flambeau import optim
from flambeau.optim import lr_scheduler
from flambeau.testing import comparable_value, signature_of

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.parity

# torch names flambeau does not have, on purpose
MISSING_OK = {
    "torch.optim": set(),
    "torch.optim.lr_scheduler": set(),
    "torch.optim.swa_utils": set(),
}

# public attributes of torch classes flambeau's lack, on purpose
MISSING_MEMBERS_OK = {
    # type aliases of hook signatures kept as class attributes, not an API to call
    "OptimizerPreHook", "OptimizerPostHook",
    # the decorator torch wraps every step with for its profiler; flambeau wraps step in
    # __init_subclass__ (profiler ranges named as torch's)
    "profile_hook_step",
}

# state_dict keys of torch's schedulers that flambeau's lack, on purpose
SCHEDULER_KEYS_OK = {
    # the flag of torch's "call get_last_lr(), not get_lr()" warning; flambeau does not
    # warn, and loading either library's dict into the other works without it
    "_get_lr_called_within_step",
}

OPTIMIZERS = [n for n in torch.optim.__all__
              if inspect.isclass(getattr(torch.optim, n))
              and issubclass(getattr(torch.optim, n), torch.optim.Optimizer)
              and n not in MISSING_OK["torch.optim"] and n != "Optimizer"]
SCHEDULERS = [n for n in torch.optim.lr_scheduler.__all__]


def _pair(module, name):
    """torch's object and flambeau's of the same name."""
    ours = importlib.import_module(module.replace("torch", "flambeau", 1))
    return getattr(importlib.import_module(module), name), getattr(ours, name)


def _shared(kind):
    """``(module, name)`` of the torch names flambeau also has that pass ``kind``."""
    return [(m, n) for m in sorted(MISSING_OK) for n in importlib.import_module(m).__all__
            if n not in MISSING_OK[m] and kind(getattr(importlib.import_module(m), n))]


@pytest.mark.parametrize("module", sorted(MISSING_OK))
def test_every_torch_name_exists(module):
    ours = importlib.import_module(module.replace("torch", "flambeau", 1))
    missing = {n for n in importlib.import_module(module).__all__ if not hasattr(ours, n)}
    assert missing == MISSING_OK[module]


@pytest.mark.parametrize("module,name", _shared(callable))
def test_signatures_match(module, name):
    t, f = _pair(module, name)
    assert signature_of(f) == signature_of(t)


@pytest.mark.parametrize("module,name", _shared(inspect.isclass))
def test_public_methods_match(module, name):
    t, f = _pair(module, name)
    public = {m for m in dir(t) if not m.startswith("_")}
    if name == "AveragedModel":  # an nn.Module: compare what it adds to Module
        public -= set(dir(torch.nn.Module))
    missing = {m for m in public if not hasattr(f, m)} - MISSING_MEMBERS_OK
    assert not missing
    for m in sorted(public - MISSING_MEMBERS_OK):
        if inspect.isfunction(inspect.getattr_static(t, m)):
            assert signature_of(getattr(f, m)) == signature_of(getattr(t, m)), m


def test_reduce_lr_on_plateau_is_an_lr_scheduler():
    w = flambeau.ones(1, requires_grad=True)
    sched = lr_scheduler.ReduceLROnPlateau(optim.SGD([w], lr=1.0))
    assert isinstance(sched, lr_scheduler.LRScheduler)
    with pytest.raises(NotImplementedError):
        sched.get_lr()  # as torch's: the lr follows the metric, not a formula


# ---------------------------------------------------------------------- optimizers
def _one_step(lib, name):
    w = lib.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) / 7, requires_grad=True)
    opt = getattr(lib.optim, name)([w])

    def closure():
        opt.zero_grad()
        loss = (w ** 4).sum()
        loss.backward()
        if name == "SparseAdam":  # it takes sparse gradients only
            w.grad = w.grad.to_sparse()
        return loss

    for _ in range(2):
        if name == "LBFGS":
            opt.step(closure)
        else:
            closure()
            opt.step()
    return opt


def _layout(value):
    """The structure of a state value: kind, dtype and shape, recursing into lists."""
    if isinstance(value, list):
        return [_layout(v) for v in value]
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return ("Tensor", str(value.dtype).split(".")[-1], tuple(value.shape))
    return type(value).__name__


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_defaults_state_dict_and_repr_match(name):
    topt, fopt = _one_step(torch, name), _one_step(flambeau, name)
    # defaults: same keys in the same order, same values of the same types
    assert [(k, comparable_value(v)) for k, v in fopt.defaults.items()] == \
        [(k, comparable_value(v)) for k, v in topt.defaults.items()]
    tsd, fsd = topt.state_dict(), fopt.state_dict()
    assert list(fsd) == list(tsd)
    assert [[(k, comparable_value(v)) for k, v in g.items()] for g in fsd["param_groups"]] == \
        [[(k, comparable_value(v)) for k, v in g.items()] for g in tsd["param_groups"]]
    assert {i: {k: _layout(v) for k, v in s.items()} for i, s in fsd["state"].items()} == \
        {i: {k: _layout(v) for k, v in s.items()} for i, s in tsd["state"].items()}
    assert repr(fopt) == repr(topt)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_named_parameters_give_param_names(name):
    layouts = []
    for lib in (torch, flambeau):
        w = lib.tensor(np.ones((2, 3)), requires_grad=True)
        opt = getattr(lib.optim, name)([("weight", w)])
        group = opt.state_dict()["param_groups"][0]
        layouts.append((list(opt.param_groups[0])[:2], group["param_names"], group["params"]))
    assert layouts[1] == layouts[0] == (["params", "param_names"], ["weight"], [0])


# ---------------------------------------------------------------------- schedulers
def _scheduler(lib, name, opt):
    mod = lib.optim.lr_scheduler
    if name == "SequentialLR":
        return mod.SequentialLR(opt, [mod.ConstantLR(opt), mod.ExponentialLR(opt, 0.9)],
                                milestones=[5])
    if name == "ChainedScheduler":
        return mod.ChainedScheduler([mod.ConstantLR(opt), mod.ExponentialLR(opt, 0.9)])
    required = dict(
        LambdaLR=dict(lr_lambda=lambda e: 0.9 ** e),
        MultiplicativeLR=dict(lr_lambda=lambda e: 0.95),
        StepLR=dict(step_size=3), MultiStepLR=dict(milestones=[3, 7, 12]),
        ExponentialLR=dict(gamma=0.9), CosineAnnealingLR=dict(T_max=10),
        CosineAnnealingWarmRestarts=dict(T_0=5),
        CyclicLR=dict(base_lr=0.01, max_lr=0.1, step_size_up=4),
        OneCycleLR=dict(max_lr=0.1, total_steps=25),
    )
    return getattr(mod, name)(opt, **required.get(name, {}))


def _keys(state):
    keys = set(state) - SCHEDULER_KEYS_OK
    members = [_keys(s) for s in state.get("_schedulers", [])]
    return keys, members


@pytest.mark.parametrize("name", [n for n in SCHEDULERS if n != "LRScheduler"])
def test_schedulers_lrs_and_state_dict_keys_match(name):
    runs = []
    for lib in (torch, flambeau):
        opt = lib.optim.SGD([lib.ones(2, requires_grad=True)], lr=0.1, momentum=0.9)
        sched = _scheduler(lib, name, opt)
        lrs, keys = [sched.get_last_lr()], [_keys(sched.state_dict())]
        for _ in range(20):
            opt.step()
            sched.step(1.0) if name == "ReduceLROnPlateau" else sched.step()
            lrs.append(sched.get_last_lr())
        keys.append(_keys(sched.state_dict()))
        runs.append((np.array(lrs, dtype=float), keys,
                     list(opt.state_dict()["param_groups"][0])))
    (tl, tk, tg), (fl, fk, fg) = runs
    np.testing.assert_allclose(fl, tl, rtol=1e-12, atol=0)
    assert fk == tk
    assert fg == tg  # keys the scheduler adds to the groups (initial_lr, momentum...)


def test_swalr_and_averaged_model_match():
    pytest.importorskip("flambeau.nn")
    from flambeau.optim import swa_utils

    runs = []
    for lib, swa in ((torch, torch.optim.swa_utils), (flambeau, swa_utils)):
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        opt = lib.optim.SGD(model.parameters(), lr=0.5)
        sched = swa.SWALR(opt, swa_lr=0.05, anneal_epochs=5)
        lrs = [sched.get_last_lr()]
        for _ in range(8):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        averaged = swa.AveragedModel(model, use_buffers=True)
        averaged.update_parameters(model)
        runs.append((np.array(lrs), _keys(sched.state_dict()), list(averaged.state_dict())))
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-12)
    assert runs[1][1:] == runs[0][1:]
