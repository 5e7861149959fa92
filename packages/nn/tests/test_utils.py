"""flambeau.nn.utils (clipping, parameter vectors) and flambeau.nn.parallel."""

import math

import numpy as np
import pytest

import flambeau
from flambeau import nn
from flambeau.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)


def _params_with_grads(seed=0):
    rng = np.random.default_rng(seed)
    ps = [nn.Parameter(flambeau.zeros(3, 2)), nn.Parameter(flambeau.zeros(4))]
    for p in ps:
        p.grad = flambeau.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32))
    return ps


@pytest.mark.parity
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_parity(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    ps = _params_with_grads()
    tps = [torch.zeros(tuple(p.shape), requires_grad=True) for p in ps]
    for p, tp in zip(ps, tps):
        tp.grad = torch.tensor(p.grad.cpu().numpy().copy())
    total = clip_grad_norm_(ps, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type)
    assert total.item() == pytest.approx(ttotal.item(), rel=1e-5)
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad.cpu().numpy(), tp.grad.cpu().numpy(), rtol=1e-5,
                                   atol=1e-7)


def test_clip_grad_norm_nonfinite_and_skips_missing_grads():
    ps = _params_with_grads()
    ps.append(nn.Parameter(flambeau.zeros(2)))  # no grad: skipped
    ps[0].grad[0, 0] = float("inf")
    before = [p.grad.clone() for p in ps[:2]]
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    for p, b in zip(ps[:2], before):
        assert ((p.grad == b) | (p.grad != p.grad)).all()  # unchanged on error
    assert math.isinf(clip_grad_norm_(ps, 1.0).item())
    assert clip_grad_norm_([nn.Parameter(flambeau.zeros(1))], 1.0).item() == 0.0


def test_clip_grad_norm_with_a_nan_norm_makes_every_gradient_nan():
    # torch multiplies by clamp(max_norm / (nan + eps), max=1), which is NaN: the NaN shows
    a, b = nn.Parameter(flambeau.zeros(2)), nn.Parameter(flambeau.zeros(1))
    a.grad, b.grad = flambeau.tensor([float("nan"), 1.0]), flambeau.tensor([2.0])
    assert math.isnan(clip_grad_norm_([a, b], 1.0).item())
    assert all(math.isnan(v) for v in a.grad.tolist() + b.grad.tolist())


def test_clip_grad_value():
    ps = _params_with_grads()
    clip_grad_value_(ps, 0.1)
    for p in ps:
        assert p.grad.abs().max().item() <= 0.1 + 1e-7


def test_parameter_vector_roundtrip():
    m = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    v = parameters_to_vector(m.parameters())
    assert v.shape == (11,)
    np.testing.assert_allclose(v[:6].detach().cpu().numpy(),
                               m[0].weight.detach().cpu().numpy().ravel())
    vector_to_parameters(flambeau.arange(11.0), m.parameters())
    assert m[1].bias.tolist() == [10.0] and m[0].weight.is_leaf
    assert parameters_to_vector(m.parameters()).tolist() == list(range(11))
    with pytest.raises(RuntimeError, match="expected \\(11,\\)"):
        vector_to_parameters(flambeau.zeros(5), m.parameters())
    with pytest.raises(TypeError, match="but got"):
        vector_to_parameters([1.0], m.parameters())


def test_parallel_ddp_lazy_import():
    import flambeau.nn.parallel as parallel

    try:
        import flambeau.distributed  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install flambeau-distributed"):
            parallel.DistributedDataParallel
    with pytest.raises(AttributeError):
        parallel.DataParallelXYZ


def test_invert_permutation_matches_torch():
    from flambeau.nn.utils.rnn import invert_permutation

    torch = pytest.importorskip("torch")
    from torch.nn.utils.rnn import invert_permutation as torch_invert

    rng = np.random.default_rng(0)
    for n in (0, 1, 7):
        perm = rng.permutation(n)
        out = invert_permutation(flambeau.tensor(perm))
        assert out.dtype == flambeau.int64
        np.testing.assert_array_equal(out.cpu().numpy(),
                                      torch_invert(torch.tensor(perm)).numpy())
        np.testing.assert_array_equal(out.cpu().numpy()[perm], np.arange(n))
    assert invert_permutation(None) is None


def test_convert_weight_memory_format_keeps_parameters_and_values():
    inner = nn.ConvTranspose2d(2, 3, 2)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sequential(inner), nn.Linear(2, 2))
    before = {name: (p, p.detach().clone()) for name, p in net.named_parameters()}
    assert nn.utils.convert_conv2d_weight_memory_format(net, flambeau.channels_last) is net
    for name, p in net.named_parameters():
        assert p is before[name][0]  # the same Parameter objects, so optimizers keep working
        np.testing.assert_array_equal(p.detach().cpu().numpy(), before[name][1].cpu().numpy())
    conv3d = nn.Conv3d(1, 1, 2)
    w = conv3d.weight.detach().clone()
    nn.utils.convert_conv3d_weight_memory_format(conv3d, flambeau.channels_last_3d)
    np.testing.assert_array_equal(conv3d.weight.detach().cpu().numpy(), w.cpu().numpy())


def test_replace_all_batch_norm_modules_drops_running_statistics():
    net = nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2), nn.Sequential(nn.BatchNorm1d(2)))
    assert flambeau.func.replace_all_batch_norm_modules_(net) is net
    for bn in (net[1], net[2][0]):
        assert bn.running_mean is None and bn.running_var is None
        assert bn.num_batches_tracked is None and not bn.track_running_stats
    assert [k for k in net.state_dict() if "running" in k or "tracked" in k] == []
    # float64: in float32 a channel whose conv output is nearly constant leaves a mean of
    # ~1e-5 from cancellation alone, which made a 1e-6 check fail for ~4% of random weights
    net.double()
    x = flambeau.randn(3, 1, 2, 2, dtype=flambeau.float64)
    net.eval()  # batch statistics even in eval mode now
    y = net[1](net[0](x))
    np.testing.assert_allclose(y.mean(dim=(0, 2, 3)).detach().cpu().numpy(), 0.0, atol=1e-10)


def test_modules_utils_argument_helpers_match_torch():
    from flambeau.nn.modules import utils as ours

    pytest.importorskip("torch")
    from torch.nn.modules import utils as theirs

    for name, value in (("_single", 3), ("_pair", 2), ("_pair", (1, 2)), ("_triple", [4, 5, 6]),
                        ("_quadruple", 0), ("_pair", range(2))):
        assert getattr(ours, name)(value) == getattr(theirs, name)(value)
    assert ours._ntuple(3)(7) == theirs._ntuple(3)(7) == (7, 7, 7)
    assert ours._reverse_repeat_tuple((1, 2, 3), 2) == theirs._reverse_repeat_tuple((1, 2, 3), 2)
    for out_size, defaults in (([None, 3], [1, 2, 8, 9]), (5, [1, 2]), ((None,), [4, 7])):
        assert ours._list_with_default(out_size, defaults) == theirs._list_with_default(
            out_size, defaults)
    with pytest.raises(ValueError, match="Input dimension should be at least 3"):
        ours._list_with_default([None, 3], [8, 9])
    assert flambeau.nn.modules.utils._pair is ours._pair  # reached without an import
