"""flambeau.optim.swa_utils: AveragedModel, the averaging functions, SWALR and update_bn."""

import copy
import math

import numpy as np
import pytest

pytest.importorskip("flambeau.nn")  # swa_utils needs flambeau-nn (an optional dependency)

import flambeau  # noqa: E402
from flambeau import nn, optim  # noqa: E402
from flambeau.optim import lr_scheduler  # noqa: E402
from flambeau.optim import swa_utils as fswa  # noqa: E402

# On CUDA, AveragedModel averages floats with a multi-tensor lerp whose weight is a float32
# number, as torch's CUDA path does: exact to float32 rounding only.
_AVG_RTOL = 1e-15 if flambeau.get_default_device().type == "cpu" else 1e-5


def _net(lib):
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(),
                             lib.nn.Linear(4, 2)).double()


def _random_state(net_state, rng):
    """New values for every entry (integers for the integer buffers)."""
    out = {}
    for key, value in net_state.items():
        shape = tuple(value.shape)
        if key.endswith("num_batches_tracked"):
            out[key] = np.asarray(rng.integers(0, 50), dtype=np.int64)
        elif key.endswith("running_var"):
            out[key] = rng.uniform(0.5, 2.0, shape)
        else:
            out[key] = rng.standard_normal(shape)
    return out


def _load(lib, net, arrays):
    net.load_state_dict({k: lib.tensor(v) for k, v in arrays.items()})


def _state(net):
    return {k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}


# ------------------------------------------------------------------ averaging functions
def test_swa_avg_fn_and_multi_avg_fn_give_the_running_mean():
    values = [np.array([1.0, -2.0]), np.array([3.0, 0.5]), np.array([-4.0, 7.0])]
    single = flambeau.tensor(values[0], dtype=flambeau.float64)
    multi = [flambeau.tensor(values[0], dtype=flambeau.float64)]
    for n, v in enumerate(values[1:], start=1):
        single = fswa.get_swa_avg_fn()(single, flambeau.tensor(v), n)
        fswa.get_swa_multi_avg_fn()(multi, [flambeau.tensor(v)], n)
    mean = np.mean(values, axis=0)
    np.testing.assert_allclose(single.cpu().numpy(), mean, rtol=1e-15)
    np.testing.assert_allclose(multi[0].cpu().numpy(), mean, rtol=1e-15)


def test_ema_avg_fn_and_multi_avg_fn():
    ema = flambeau.tensor([0.0, 10.0], dtype=flambeau.float64)
    lst = [ema.clone()]
    new = flambeau.tensor([4.0, 2.0], dtype=flambeau.float64)
    out = fswa.get_ema_avg_fn(0.75)(ema, new, 3)
    fswa.get_ema_multi_avg_fn(0.75)(lst, [new], 3)
    np.testing.assert_allclose(out.cpu().numpy(), [1.0, 8.0])
    np.testing.assert_allclose(lst[0].cpu().numpy(), [1.0, 8.0])
    ints = [flambeau.tensor([0, 10])]
    fswa.get_ema_multi_avg_fn(0.5)(ints, [flambeau.tensor([5, 3])], None)
    assert ints[0].tolist() == [2, 6] and ints[0].dtype == flambeau.int64


def test_multi_avg_fns_update_parameters_in_place_without_grad():
    p = nn.Parameter(flambeau.zeros(2))
    fswa.get_ema_multi_avg_fn(0.5)([p], [flambeau.ones(2)], None)
    fswa.get_swa_multi_avg_fn()([p], [flambeau.ones(2)], flambeau.tensor(1))
    np.testing.assert_allclose(p.detach().cpu().numpy(), [0.75, 0.75])
    assert p.grad_fn is None and p.requires_grad


@pytest.mark.parametrize("make", [fswa.get_ema_multi_avg_fn, fswa.get_ema_avg_fn])
@pytest.mark.parametrize("decay", [-0.1, 1.5])
def test_invalid_decay_raises(make, decay):
    with pytest.raises(ValueError) as info:
        make(decay)
    assert str(info.value) == (f"{make.__name__}: Invalid decay value {decay} provided. "
                               "Please provide a value in [0,1] range.")


@pytest.mark.parity
@pytest.mark.parametrize("weight_n", [0, 1, 2, 5])
def test_swa_multi_avg_fn_weight_rounds_as_torch(weight_n):
    # a tensor num_averaged gives a float32 weight in PyTorch; 1/(n+1) >= 0.5 takes lerp's
    # other branch
    torch = pytest.importorskip("torch")
    from torch.optim import swa_utils as tswa

    rng = np.random.default_rng(weight_n)
    a, b = rng.standard_normal(50), rng.standard_normal(50)
    ta, fa = [torch.tensor(a)], [flambeau.tensor(a)]
    tswa.get_swa_multi_avg_fn()(ta, [torch.tensor(b)], torch.tensor(weight_n))
    fswa.get_swa_multi_avg_fn()(fa, [flambeau.tensor(b)], flambeau.tensor(weight_n))
    np.testing.assert_allclose(fa[0].cpu().numpy(), ta[0].cpu().numpy(), rtol=1e-15, atol=1e-16)


# ------------------------------------------------------------------------ AveragedModel
AVERAGING = {
    "swa": dict(),
    "swa-buffers": dict(use_buffers=True),
    "ema-multi": dict(multi="ema"),
    "ema-multi-buffers": dict(multi="ema", use_buffers=True),
    "ema-avg": dict(avg="ema"),
    "swa-avg": dict(avg="swa"),
    "swa-multi": dict(multi="swa"),
    "ema-avg-buffers": dict(avg="ema", use_buffers=True),
}


def _averaged(lib_swa, net, spec):
    kwargs = {}
    if spec.get("multi") == "ema":
        kwargs["multi_avg_fn"] = lib_swa.get_ema_multi_avg_fn(0.8)
    elif spec.get("multi") == "swa":
        kwargs["multi_avg_fn"] = lib_swa.get_swa_multi_avg_fn()
    if spec.get("avg") == "ema":
        kwargs["avg_fn"] = lib_swa.get_ema_avg_fn(0.8)
    elif spec.get("avg") == "swa":
        kwargs["avg_fn"] = lib_swa.get_swa_avg_fn()
    return lib_swa.AveragedModel(net, use_buffers=spec.get("use_buffers", False), **kwargs)


@pytest.mark.parity
@pytest.mark.parametrize("spec", list(AVERAGING.values()), ids=list(AVERAGING))
def test_averaged_model_matches_torch(spec):
    torch = pytest.importorskip("torch")
    from torch.optim import swa_utils as tswa

    rng = np.random.default_rng(0)
    tnet, fnet = _net(torch), _net(flambeau)
    start = _random_state(_state(tnet), rng)
    _load(torch, tnet, start)
    _load(flambeau, fnet, start)
    tavg, favg = _averaged(tswa, tnet, spec), _averaged(fswa, fnet, spec)
    for _ in range(6):
        values = _random_state(start, rng)
        _load(torch, tnet, values)
        _load(flambeau, fnet, values)
        tavg.update_parameters(tnet)
        favg.update_parameters(fnet)
        tsd, fsd = tavg.state_dict(), favg.state_dict()
        assert list(fsd) == list(tsd)
        for key, value in tsd.items():
            got = fsd[key]
            assert str(got.dtype).split(".")[-1] == str(value.dtype).split(".")[-1], key
            np.testing.assert_allclose(got.cpu().numpy(), value.cpu().numpy(), rtol=_AVG_RTOL,
                                       atol=1e-15,
                                       err_msg=key)
    assert favg.n_averaged.item() == 6


def test_averaged_model_swa_is_the_mean_of_the_models_seen():
    rng = np.random.default_rng(1)
    net = _net(flambeau)
    avg = fswa.AveragedModel(net)
    seen = []
    for _ in range(5):
        values = _random_state(_state(net), rng)
        _load(flambeau, net, values)
        avg.update_parameters(net)
        seen.append(values)
    got = _state(avg)
    assert got["n_averaged"] == 5 and got["n_averaged"].dtype == np.int64
    for key in ("0.weight", "0.bias", "1.weight", "3.bias"):
        np.testing.assert_allclose(got["module." + key], np.mean([s[key] for s in seen], 0),
                                   rtol=max(_AVG_RTOL, 1e-14))
    for key in ("1.running_mean", "1.running_var", "1.num_batches_tracked"):
        np.testing.assert_array_equal(got["module." + key], seen[-1][key])  # copied


def test_averaged_model_use_buffers_averages_the_buffers():
    net = nn.BatchNorm1d(2).double()
    avg = fswa.AveragedModel(net, use_buffers=True)
    for mean, count in (([1.0, 3.0], 4), ([3.0, 5.0], 7)):
        _load(flambeau, net, {"weight": np.ones(2), "bias": np.zeros(2),
                              "running_mean": np.array(mean), "running_var": np.ones(2),
                              "num_batches_tracked": np.asarray(count)})
        avg.update_parameters(net)
    np.testing.assert_array_equal(avg.module.running_mean.cpu().numpy(), [2.0, 4.0])
    assert avg.module.num_batches_tracked.item() == 5  # 4 + (7 - 4) / 2, truncated


def test_averaged_model_state_dict_layout_and_round_trip():
    net = nn.Linear(2, 3)
    avg = fswa.AveragedModel(net)
    avg.update_parameters(net)
    sd = avg.state_dict()
    assert list(sd) == ["n_averaged", "module.weight", "module.bias"]
    other = fswa.AveragedModel(nn.Linear(2, 3))
    other.load_state_dict(sd)
    assert other.n_averaged.item() == 1
    np.testing.assert_array_equal(other.module.weight.detach().cpu().numpy(),
                                  net.weight.detach().cpu().numpy())
    assert other.module is not avg.module and other.module.weight is not net.weight


@pytest.mark.parity
def test_torch_averaged_model_state_dict_loads_into_flambeau():
    torch = pytest.importorskip("torch")
    from torch.optim import swa_utils as tswa

    tnet = _net(torch)
    tavg = tswa.AveragedModel(tnet)
    for _ in range(3):
        tavg.update_parameters(tnet)
    favg = fswa.AveragedModel(_net(flambeau))
    favg.load_state_dict({k: flambeau.tensor(v.cpu().numpy()) for k,
                          v in tavg.state_dict().items()})
    assert favg.n_averaged.item() == 3 and favg.n_averaged.dtype == flambeau.int64
    x = np.random.default_rng(0).standard_normal((5, 3))
    tavg.eval()
    favg.eval()
    np.testing.assert_allclose(favg(flambeau.tensor(x)).detach().cpu().numpy(),
                               tavg(torch.tensor(x)).detach().cpu().numpy(), rtol=1e-12)


def test_averaged_model_keeps_a_deep_copy_and_forwards_to_it():
    net = nn.Linear(2, 1)
    avg = fswa.AveragedModel(net, device="cpu")
    assert avg.module is not net and avg.module.weight is not net.weight
    assert avg.n_averaged.device.type == "cpu" and avg.n_averaged.item() == 0
    assert avg.module.weight.device.type == "cpu"  # the copy is moved, the source is not
    assert net.weight.device == flambeau.get_default_device()
    assert [n for n, _ in avg.named_parameters()] == ["module.weight", "module.bias"]
    x = flambeau.ones(4, 2)
    np.testing.assert_array_equal(avg(x.cpu()).detach().cpu().numpy(),
                                  net(x).detach().cpu().numpy())
    with flambeau.no_grad():
        net.weight.fill_(9.0)
    assert avg.module.weight.detach().cpu().numpy().max() < 9.0  # not updated until asked
    assert avg.avg_fn is None and avg.multi_avg_fn is None and avg.use_buffers is False


def test_custom_avg_fn_receives_the_count_as_a_tensor():
    calls = []

    def avg_fn(averaged, current, num_averaged):
        calls.append((num_averaged.item(), num_averaged.dtype))
        return current * 0 + num_averaged

    net = nn.Linear(1, 1, bias=False)
    avg = fswa.AveragedModel(net, avg_fn=avg_fn)
    for _ in range(3):
        avg.update_parameters(net)
    assert calls == [(1, flambeau.int64), (2, flambeau.int64)]
    assert avg.module.weight.item() == 2.0 and avg.module.weight.dtype == flambeau.float32


def test_custom_multi_avg_fn_gets_one_call_per_dtype():
    calls = []

    def multi(averaged, current, num_averaged):
        calls.append([tuple(a.shape) for a in averaged])

    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1).double())
    avg = fswa.AveragedModel(net, multi_avg_fn=multi)
    avg.update_parameters(net)
    avg.update_parameters(net)
    assert calls == [[(3, 2), (3,)], [(1, 3), (1,)]]


def test_averaged_model_rejects_two_averaging_functions():
    with pytest.raises(ValueError, match="Only one of avg_fn and multi_avg_fn"):
        fswa.AveragedModel(nn.Linear(1, 1), avg_fn=fswa.get_swa_avg_fn(),
                           multi_avg_fn=fswa.get_swa_multi_avg_fn())


# -------------------------------------------------------------------------------- SWALR
SWALR_CASES = [
    dict(swa_lr=0.05),
    dict(swa_lr=0.05, anneal_epochs=4, anneal_strategy="linear"),
    dict(swa_lr=0.5, anneal_epochs=3),  # anneals upwards
    dict(swa_lr=0.02, anneal_epochs=0),
    dict(swa_lr=0.02, anneal_epochs=1, anneal_strategy="linear"),
    dict(swa_lr=[0.01, 0.2], anneal_epochs=6),
]


def _two_groups(lib):
    a, b = lib.ones(2, requires_grad=True), lib.ones(1, requires_grad=True)
    return lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.3}], lr=0.1, momentum=0.9)


@pytest.mark.parity
@pytest.mark.parametrize("kwargs", SWALR_CASES, ids=[str(c) for c in SWALR_CASES])
@pytest.mark.parametrize("warmup", [0, 5])
def test_swalr_schedule_matches_torch(kwargs, warmup):
    torch = pytest.importorskip("torch")
    from torch.optim import swa_utils as tswa

    seqs = []
    for lib, swa, sched in ((torch, tswa, torch.optim.lr_scheduler),
                            (flambeau, fswa, lr_scheduler)):
        opt = _two_groups(lib)
        main = sched.CosineAnnealingLR(opt, T_max=10)
        # PyTorch's recipe: the main schedule first, then SWALR from the lr it left
        for _ in range(warmup):
            opt.step()
            main.step()
        s = swa.SWALR(opt, **kwargs)
        seq = [s.get_last_lr()]
        for _ in range(12):
            opt.step()
            s.step()
            seq.append(s.get_last_lr())
        seqs.append((seq, [g["swa_lr"] for g in opt.param_groups]))
    (tseq, tswa_lrs), (fseq, fswa_lrs) = seqs
    assert fswa_lrs == tswa_lrs
    np.testing.assert_allclose(np.array(fseq), np.array(tseq), rtol=1e-14, atol=1e-16)


def test_swalr_cosine_schedule_by_hand():
    opt = optim.SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
    sched = fswa.SWALR(opt, swa_lr=0.2, anneal_epochs=4)
    lrs = []
    for _ in range(6):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    expected = [0.2 + 0.8 * (1 + math.cos(math.pi * t / 4)) / 2 for t in (1, 2, 3, 4, 4, 4)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    assert opt.param_groups[0]["swa_lr"] == 0.2 and opt.param_groups[0]["initial_lr"] == 1.0


def test_swalr_anneal_epochs_zero_jumps_at_the_first_step():
    opt = optim.SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
    sched = fswa.SWALR(opt, swa_lr=0.3, anneal_epochs=0)
    assert sched.get_last_lr() == [0.3]  # the constructor's step already lands on swa_lr
    opt.step()
    sched.step()
    assert sched.get_last_lr() == [0.3]


@pytest.mark.parametrize("kwargs,message", [
    (dict(swa_lr=0.1, anneal_strategy="exp"),
     "SWALR: anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
    (dict(swa_lr=0.1, anneal_epochs=-1),
     "SWALR: anneal_epochs must be equal or greater than 0, got -1"),
    (dict(swa_lr=0.1, anneal_epochs=2.5),
     "SWALR: anneal_epochs must be equal or greater than 0, got 2.5"),
    (dict(swa_lr=[0.1, 0.2, 0.3]), "swa_lr must have the same length as optimizer.param_groups"),
])
def test_swalr_invalid_arguments_raise_and_leave_the_optimizer_alone(kwargs, message):
    opt = _two_groups(flambeau)
    before = copy.deepcopy([{k: v for k, v in g.items() if k != "params"}
                            for g in opt.param_groups])
    with pytest.raises(ValueError) as info:
        fswa.SWALR(opt, **kwargs)
    assert str(info.value).startswith(message)
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == before


def test_swalr_rejects_a_non_optimizer():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        fswa.SWALR(object(), swa_lr=0.1)


def test_swalr_state_dict_round_trip_resumes_the_schedule():
    def make(strategy):
        opt = _two_groups(flambeau)
        return opt, fswa.SWALR(opt, swa_lr=[0.01, 0.05], anneal_epochs=5,
                               anneal_strategy=strategy)

    opt, sched = make("linear")
    full = []
    for i in range(8):
        opt.step()
        sched.step()
        full.append(sched.get_last_lr())
        if i == 2:
            saved_sched = sched.state_dict()
            saved_opt = copy.deepcopy(opt.state_dict())
    assert "optimizer" not in saved_sched and "anneal_func" not in saved_sched
    assert saved_sched["_anneal_strategy"] == "linear" and saved_sched["anneal_epochs"] == 5
    opt2, sched2 = make("cos")
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    assert sched2.anneal_func(0.25) == 0.25  # back to linear
    resumed = []
    for _ in range(5):
        opt2.step()
        sched2.step()
        resumed.append(sched2.get_last_lr())
    np.testing.assert_allclose(resumed, full[3:], rtol=1e-15)


# ---------------------------------------------------------------------------- update_bn
def _bn_net(lib):
    return lib.nn.Sequential(
        lib.nn.Conv2d(2, 3, 3), lib.nn.BatchNorm2d(3, momentum=0.3), lib.nn.ReLU(),
        lib.nn.Flatten(), lib.nn.Linear(12, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(),
        lib.nn.Linear(4, 1)).double()


@pytest.mark.parity
@pytest.mark.parametrize("training", [True, False])
def test_update_bn_matches_torch(training):
    torch = pytest.importorskip("torch")
    from torch.optim import swa_utils as tswa

    rng = np.random.default_rng(0)
    tnet, fnet = _bn_net(torch), _bn_net(flambeau)
    start = _random_state(_state(tnet), rng)
    _load(torch, tnet, start)
    _load(flambeau, fnet, start)
    batches = [rng.standard_normal((n, 2, 4, 4)) for n in (5, 3, 8)]
    tnet.train(training)
    fnet.train(training)
    # tensors and (input, target) pairs, as a DataLoader gives them
    tswa.update_bn([torch.tensor(batches[0]), (torch.tensor(batches[1]), 0),
                    [torch.tensor(batches[2]), 1]], tnet)
    # CPU batches, moved to the model's device by update_bn
    cpu = [flambeau.tensor(b, device="cpu") for b in batches]
    fswa.update_bn([cpu[0], (cpu[1], 0), [cpu[2], 1]], fnet, device=flambeau.get_default_device())
    tsd, fsd = _state(tnet), _state(fnet)
    for key in tsd:
        np.testing.assert_allclose(fsd[key], tsd[key], rtol=1e-12, atol=1e-14, err_msg=key)
    assert fsd["1.num_batches_tracked"] == 3
    assert fnet.training is training and all(m.training is training for m in fnet.modules())
    assert (fnet[1].momentum, fnet[5].momentum) == (0.3, 0.1)


def test_update_bn_statistics_are_the_plain_average_over_batches():
    rng = np.random.default_rng(1)
    batches = [rng.standard_normal((n, 3)) * 2 + 1 for n in (4, 6, 10)]
    bn = nn.BatchNorm1d(3).double()
    _load(flambeau, bn, {"weight": np.ones(3), "bias": np.zeros(3),
                         "running_mean": np.full(3, 100.0), "running_var": np.full(3, 100.0),
                         "num_batches_tracked": np.asarray(9)})
    fswa.update_bn([flambeau.tensor(b) for b in batches], bn)
    means = np.mean([b.mean(0) for b in batches], axis=0)
    variances = np.mean([b.var(0, ddof=1) for b in batches], axis=0)
    np.testing.assert_allclose(bn.running_mean.cpu().numpy(), means, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.cpu().numpy(), variances, rtol=1e-12)
    assert bn.num_batches_tracked.item() == 3 and bn.momentum == 0.1


def test_update_bn_through_an_averaged_model_leaves_the_source_alone():
    net = _bn_net(flambeau)
    swa = fswa.AveragedModel(net)
    swa.update_parameters(net)
    before = _state(net)
    fswa.update_bn([flambeau.randn(4, 2, 4, 4, dtype=flambeau.float64)], swa)
    assert swa.module[1].num_batches_tracked.item() == 1
    for key, value in _state(net).items():
        np.testing.assert_array_equal(value, before[key])


def test_update_bn_without_batchnorm_does_nothing():
    net = nn.Linear(2, 2).eval()
    seen = []
    net.register_forward_hook(lambda m, i, o: seen.append(1))
    fswa.update_bn([flambeau.ones(1, 2)], net)
    assert seen == [] and net.training is False


def test_update_bn_restores_momenta_when_the_model_fails():
    net = nn.Sequential(nn.BatchNorm1d(2, momentum=0.25)).eval()
    with pytest.raises(ValueError, match="channels"):
        fswa.update_bn([flambeau.ones(4, 3)], net)
    assert net[0].momentum == 0.25 and net.training is False


# ------------------------------------------------------------------------------- module
def test_swa_utils_is_reached_from_flambeau_optim():
    assert optim.swa_utils is fswa
    assert "swa_utils" in dir(optim)
    assert set(fswa.__all__) == {"AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
                                 "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"}
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        optim.nope  # noqa: B018


def test_without_flambeau_nn_the_error_names_the_extra_to_install(monkeypatch):
    import sys

    for name in [n for n in sys.modules if n.startswith("flambeau.optim.swa_utils")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delattr(optim, "swa_utils")
    monkeypatch.setitem(sys.modules, "flambeau.nn", None)
    assert not hasattr(optim, "swa_utils")
    with pytest.raises(ModuleNotFoundError, match=r"pip install flambeau-optim\[nn\]"):
        import flambeau.optim.swa_utils  # noqa: F401


@pytest.mark.parity
def test_public_names_match_torch():
    pytest.importorskip("torch")
    from torch.optim import swa_utils as tswa

    assert set(fswa.__all__) == set(tswa.__all__)
