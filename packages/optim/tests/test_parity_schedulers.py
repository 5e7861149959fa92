"""Every scheduler's learning-rate sequence against PyTorch's, including state_dict resume."""

import math

import numpy as np
import pytest

import flambeau
from flambeau import optim
from flambeau.optim import lr_scheduler as fsched


def _lambda(epoch):
    return 0.95 ** epoch


def _mult(epoch):
    return 0.9 if epoch % 3 else 1.05


# (name, kwargs, optimizer name, optimizer kwargs); schedulers given as lists are composites
CASES = [
    ("LambdaLR", dict(lr_lambda=_lambda), "SGD", {}),
    ("MultiplicativeLR", dict(lr_lambda=_mult), "SGD", {}),
    ("StepLR", dict(step_size=7, gamma=0.5), "SGD", {}),
    ("MultiStepLR", dict(milestones=[5, 12, 12, 30], gamma=0.3), "SGD", {}),
    ("ConstantLR", dict(factor=0.25, total_iters=9), "SGD", {}),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.9, total_iters=13), "SGD", {}),
    ("ExponentialLR", dict(gamma=0.93), "SGD", {}),
    ("PolynomialLR", dict(total_iters=20, power=1.7), "SGD", {}),
    ("CosineAnnealingLR", dict(T_max=12, eta_min=0.01), "SGD", {}),
    ("CosineAnnealingWarmRestarts", dict(T_0=5, T_mult=2, eta_min=0.001), "SGD", {}),
    ("CosineAnnealingWarmRestarts", dict(T_0=7), "SGD", {}),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.2, step_size_up=6, step_size_down=4),
     "SGD", dict(momentum=0.9)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.2, step_size_up=5, mode="triangular2"),
     "SGD", dict(momentum=0.9)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.2, step_size_up=5, mode="exp_range", gamma=0.97),
     "Adam", {}),
    ("CyclicLR", dict(base_lr=[0.01, 0.02], max_lr=0.2, step_size_up=4, cycle_momentum=False),
     "Adagrad", {}),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=60), "SGD", dict(momentum=0.9)),
    ("OneCycleLR", dict(max_lr=[0.5, 0.3], epochs=6, steps_per_epoch=10, pct_start=0.4,
                        anneal_strategy="linear", three_phase=True), "Adam", {}),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=55, cycle_momentum=False, div_factor=10.0,
                        final_div_factor=100.0), "Adagrad", {}),
]


def _build(lib, sched_mod, name, kwargs, opt_name, opt_kwargs):
    w1 = lib.ones(3, requires_grad=True)
    w2 = lib.ones(2, requires_grad=True)
    opt = getattr(lib.optim, opt_name)([{"params": [w1]}, {"params": [w2], "lr": 0.05}],
                                       lr=0.1, **opt_kwargs)
    return opt, getattr(sched_mod, name)(opt, **kwargs)


def _momenta(opt):
    out = []
    for g in opt.param_groups:
        out.append(g["betas"][0] if "betas" in g else g.get("momentum", 0.0))
    return out


def _sequence(opt, sched, steps=50, stepper=None):
    seq = [(list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups], _momenta(opt))]
    for i in range(steps):
        opt.step()
        (stepper or (lambda s, i: s.step()))(sched, i)
        seq.append((list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups],
                    _momenta(opt)))
    return seq


def _assert_same(got, expected):
    assert len(got) == len(expected)
    for (gl, gg, gm), (el, eg, em) in zip(got, expected, strict=True):
        np.testing.assert_allclose(gl, el, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(gg, eg, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(gm, em, rtol=1e-12, atol=1e-15)


def _ids(case):
    return case[0] + "-" + "-".join(f"{k}={v}" for k, v in case[1].items()
                                    if not callable(v))


@pytest.mark.parity
@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_sequence_matches_torch(case):
    torch = pytest.importorskip("torch")
    name, kwargs, opt_name, opt_kwargs = case
    steps = 59 if name == "OneCycleLR" else 50
    steps = 54 if kwargs.get("total_steps") == 55 else steps
    expected = _sequence(*_build(torch, torch.optim.lr_scheduler, name, kwargs, opt_name,
                                 opt_kwargs), steps=steps)
    got = _sequence(*_build(flambeau, fsched, name, kwargs, opt_name, opt_kwargs), steps=steps)
    _assert_same(got, expected)


def _composites(lib, sched_mod, kind):
    w = lib.ones(2, requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1, momentum=0.9)
    if kind == "sequential":
        members = [sched_mod.LinearLR(opt, start_factor=0.2, total_iters=5),
                   sched_mod.CosineAnnealingLR(opt, T_max=10),
                   sched_mod.StepLR(opt, step_size=4, gamma=0.5)]
        return opt, sched_mod.SequentialLR(opt, members, milestones=[5, 20])
    if kind == "chained":
        members = [sched_mod.ConstantLR(opt, factor=0.5, total_iters=6),
                   sched_mod.ExponentialLR(opt, gamma=0.95),
                   sched_mod.CosineAnnealingLR(opt, T_max=15)]
        return opt, sched_mod.ChainedScheduler(members)
    inner = sched_mod.SequentialLR(opt, [sched_mod.LinearLR(opt, 0.5, total_iters=3),
                                         sched_mod.ExponentialLR(opt, gamma=0.9)],
                                   milestones=[3])
    return opt, sched_mod.SequentialLR(opt, [inner, sched_mod.StepLR(opt, 3, 0.5)],
                                       milestones=[8])


def _plateau(lib, sched_mod, **kwargs):
    w = lib.ones(2, requires_grad=True)
    opt = lib.optim.SGD([{"params": [w]}], lr=0.1)
    return opt, sched_mod.ReduceLROnPlateau(opt, **kwargs)


def _metric(i):
    return 1.0 / (1 + i) if i < 10 else 0.09 + 0.01 * math.sin(i)


@pytest.mark.parity
@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(patience=2, factor=0.5, cooldown=3, min_lr=0.004),
    dict(mode="max", patience=1, threshold=0.1, threshold_mode="abs"),
    dict(patience=0, threshold_mode="abs", eps=0.02),
])
def test_plateau_matches_torch(kwargs):
    torch = pytest.importorskip("torch")

    def stepper(sched, i):
        sched.step(_metric(i) if kwargs.get("mode") != "max" else -_metric(i))

    expected = _sequence(*_plateau(torch, torch.optim.lr_scheduler, **kwargs), stepper=stepper)
    got = _sequence(*_plateau(flambeau, fsched, **kwargs), stepper=stepper)
    _assert_same(got, expected)


@pytest.mark.parity
@pytest.mark.parametrize("name,kwargs", [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5], gamma=0.5)),
    ("ConstantLR", dict(factor=0.5, total_iters=4)),
    ("LinearLR", dict(start_factor=0.5, total_iters=4)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("PolynomialLR", dict(total_iters=6, power=2.0)),
    ("CosineAnnealingLR", dict(T_max=5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2)),
])
def test_step_with_epoch_matches_torch(name, kwargs):
    """The deprecated ``step(epoch)`` uses the closed form, as PyTorch."""
    torch = pytest.importorskip("torch")
    epochs = [1, 2, 4, 3, 7, 10, 6, 15]

    def stepper(sched, i):
        sched.step(epochs[i])

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _sequence(*_build(torch, torch.optim.lr_scheduler, name, kwargs, "SGD", {}),
                             steps=len(epochs), stepper=stepper)
    got = _sequence(*_build(flambeau, fsched, name, kwargs, "SGD", {}), steps=len(epochs),
                    stepper=stepper)
    _assert_same(got, expected)


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_state_dict_resume_reproduces_sequence(case):
    name, kwargs, opt_name, opt_kwargs = case
    steps = 40
    opt, sched = _build(flambeau, fsched, name, kwargs, opt_name, opt_kwargs)
    full = _sequence(opt, sched, steps=steps)
    opt, sched = _build(flambeau, fsched, name, kwargs, opt_name, opt_kwargs)
    first = _sequence(opt, sched, steps=17)
    opt_sd, sched_sd = opt.state_dict(), sched.state_dict()
    opt2, sched2 = _build(flambeau, fsched, name, kwargs, opt_name, opt_kwargs)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sched_sd)
    rest = _sequence(opt2, sched2, steps=steps - 17)
    _assert_same(first + rest[1:], full)


@pytest.mark.parametrize("kind", ["sequential", "chained", "nested"])
def test_composite_state_dict_resume(kind):
    opt, sched = _composites(flambeau, fsched, kind)
    full = _sequence(opt, sched, steps=30)
    opt, sched = _composites(flambeau, fsched, kind)
    first = _sequence(opt, sched, steps=11)
    opt_sd, sched_sd = opt.state_dict(), sched.state_dict()
    opt2, sched2 = _composites(flambeau, fsched, kind)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sched_sd)
    _assert_same(first + _sequence(opt2, sched2, steps=19)[1:], full)


def test_initial_lr_recorded_and_resume_requires_it():
    opt = optim.SGD([flambeau.ones(1, requires_grad=True)], lr=0.3)
    fsched.StepLR(opt, step_size=2)
    assert opt.param_groups[0]["initial_lr"] == 0.3
    fresh = optim.SGD([flambeau.ones(1, requires_grad=True)], lr=0.3)
    with pytest.raises(KeyError, match="initial_lr"):
        fsched.StepLR(fresh, step_size=2, last_epoch=4)


@pytest.mark.parity
@pytest.mark.parametrize("name,kwargs", [
    ("ExponentialLR", dict(gamma=0.5)),
    ("StepLR", dict(step_size=2, gamma=0.5)),
    ("CosineAnnealingLR", dict(T_max=6)),
    ("LinearLR", dict(start_factor=0.5, total_iters=6)),
])
def test_resume_with_last_epoch_matches_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    seqs = []
    for lib, mod in ((torch, torch.optim.lr_scheduler), (flambeau, fsched)):
        opt = lib.optim.SGD([lib.ones(1, requires_grad=True)], lr=0.7)
        opt.param_groups[0]["initial_lr"] = 1.0
        sched = getattr(mod, name)(opt, last_epoch=2, **kwargs)
        seqs.append(_sequence(opt, sched, steps=10))
        assert sched.last_epoch == 13
    _assert_same(seqs[1], seqs[0])


@pytest.mark.parametrize("build,match", [
    (lambda o: fsched.ConstantLR(o, factor=1.5), "factor"),
    (lambda o: fsched.LinearLR(o, start_factor=0.0), "start_factor"),
    (lambda o: fsched.LinearLR(o, end_factor=2.0), "end_factor"),
    (lambda o: fsched.CosineAnnealingWarmRestarts(o, T_0=0), "T_0"),
    (lambda o: fsched.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), "T_mult"),
    (lambda o: fsched.CyclicLR(o, 0.1, 1.0, mode="zigzag"), "mode"),
    (lambda o: fsched.OneCycleLR(o, 1.0), "total_steps"),
    (lambda o: fsched.OneCycleLR(o, 1.0, total_steps=10, pct_start=2.0), "pct_start"),
    (lambda o: fsched.OneCycleLR(o, 1.0, total_steps=10, anneal_strategy="exp"), "anneal"),
    (lambda o: fsched.OneCycleLR(o, [1.0, 2.0], total_steps=10), "max_lr"),
    (lambda o: fsched.ReduceLROnPlateau(o, factor=1.0), "factor"),
    (lambda o: fsched.ReduceLROnPlateau(o, mode="up"), "mode"),
    (lambda o: fsched.ReduceLROnPlateau(o, threshold_mode="x"), "threshold mode"),
    (lambda o: fsched.ReduceLROnPlateau(o, min_lr=[0.1, 0.2]), "min_lrs"),
    (lambda o: fsched.LambdaLR(o, [_lambda, _lambda]), "lr_lambdas"),
    (lambda o: fsched.SequentialLR(o, [fsched.StepLR(o, 1)], milestones=[3]), "milestone"),
    (lambda o: fsched.SequentialLR(o, [], milestones=[]), "at least one"),
    (lambda o: fsched.ChainedScheduler([fsched.ReduceLROnPlateau(o)]), "ReduceLROnPlateau"),
])
def test_bad_arguments_raise_value_error(build, match):
    opt = optim.SGD([flambeau.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=match):
        build(opt)


def test_cyclic_without_momentum_option_raises():
    opt = optim.Adagrad([flambeau.ones(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="momentum"):
        fsched.CyclicLR(opt, 0.1, 1.0)
    assert "base_momentum" not in opt.param_groups[0]
    assert opt.param_groups[0]["lr"] == 0.1


def test_members_of_other_optimizer_rejected():
    a = optim.SGD([flambeau.ones(1, requires_grad=True)], lr=0.1)
    b = optim.SGD([flambeau.ones(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="same optimizer"):
        fsched.ChainedScheduler([fsched.StepLR(a, 1), fsched.StepLR(b, 1)])


def test_one_cycle_past_total_steps_raises():
    opt = optim.SGD([flambeau.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
    sched = fsched.OneCycleLR(opt, 1.0, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="total steps is 3"):
        sched.step()


def test_lambda_objects_keep_their_state_through_state_dict():
    class Factor:
        def __init__(self, base):
            self.base = base

        def __call__(self, epoch):
            return self.base ** epoch

    opt = optim.SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
    sched = fsched.LambdaLR(opt, Factor(0.5))
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"base": 0.5}]
    other = fsched.LambdaLR(opt, Factor(0.9))
    other.load_state_dict(sd)
    assert other.lr_lambdas[0].base == 0.5
