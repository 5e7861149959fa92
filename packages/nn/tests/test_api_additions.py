"""What the torch.nn API sweep added or changed: weighted regression losses, factory_kwargs,
is_lazy, EmbeddingBag.from_pretrained, ParameterDict's dict methods, PackedSequence's
conversions, lazy state dicts, Hardtanh's deprecated keywords, data_parallel."""

from __future__ import annotations

import numpy as np
import pytest

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck
from flambeau.nn.parameter import UninitializedTensorMixin, is_lazy
from flambeau.nn.utils.rnn import PackedSequence, pack_sequence

RNG = np.random.default_rng(18)


# ------------------------------------------------------------------ weighted losses


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_weighted_mse_and_l1_divide_the_mean_by_the_weight_sum(reduction):
    x, t, w = (RNG.standard_normal((3, 4)) for _ in range(3))
    w = np.abs(w)
    for fn, err in ((F.mse_loss, (x - t) ** 2), (F.l1_loss, np.abs(x - t))):
        got = fn(flambeau.tensor(x), flambeau.tensor(t), reduction=reduction,
                 weight=flambeau.tensor(w)).cpu().numpy()
        expected = {"none": err * w, "sum": (err * w).sum(),
                    "mean": (err * w).sum() / w.sum()}[reduction]
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_weighted_huber_mean_is_the_plain_mean():
    x, t = RNG.standard_normal(6) * 3, RNG.standard_normal(6)
    w = RNG.random(6)
    d = np.abs(x - t)
    loss = np.where(d < 2.0, 0.5 * d * d, 2.0 * (d - 1.0))
    got = F.huber_loss(flambeau.tensor(x), flambeau.tensor(t), delta=2.0,
                       weight=flambeau.tensor(w))
    np.testing.assert_allclose(got.cpu().numpy(), (loss * w).mean(), rtol=1e-12)


def test_weighted_losses_check_the_weight_shape_and_have_gradients():
    x = flambeau.tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    t = flambeau.tensor(RNG.standard_normal((2, 3)))
    w = flambeau.tensor(RNG.random((2, 3)))
    for fn in (F.mse_loss, F.l1_loss, F.huber_loss):
        with pytest.raises(ValueError, match="Weights and input must have the same size"):
            fn(x, t, weight=w[0])
        assert gradcheck(lambda a, fn=fn: fn(a, t, weight=w), (x,))


def test_weighted_losses_match_torch():
    torch = pytest.importorskip("torch")
    x, t, w = RNG.standard_normal((3, 5)), RNG.standard_normal((3, 5)), RNG.random((3, 5))
    for name in ("mse_loss", "l1_loss", "huber_loss"):
        for reduction in ("none", "mean", "sum"):
            ours = getattr(F, name)(flambeau.tensor(x), flambeau.tensor(t),
                                    reduction=reduction, weight=flambeau.tensor(w))
            theirs = getattr(torch.nn.functional, name)(
                torch.tensor(x), torch.tensor(t), reduction=reduction, weight=torch.tensor(w))
            np.testing.assert_allclose(ours.cpu().numpy(), theirs.numpy(), rtol=1e-12)


# ------------------------------------------------------------------ small names


def test_factory_kwargs():
    assert nn.factory_kwargs(None) == {}
    assert nn.factory_kwargs({"device": "cpu", "dtype": flambeau.float64}) == {
        "device": "cpu", "dtype": flambeau.float64}
    assert nn.factory_kwargs({"factory_kwargs": {"dtype": flambeau.float16}}) == {
        "dtype": flambeau.float16}
    with pytest.raises(TypeError, match="unexpected kwargs {'bias'}"):
        nn.factory_kwargs({"bias": True})
    with pytest.raises(TypeError, match="dtype specified twice"):
        nn.factory_kwargs({"dtype": None, "factory_kwargs": {"dtype": None}})


def test_is_lazy_and_the_uninitialized_mixin():
    fc = nn.LazyLinear(3)
    assert is_lazy(fc.weight) and isinstance(fc.weight, UninitializedTensorMixin)
    with pytest.raises(RuntimeError, match="Can't share memory on an uninitialized parameter"):
        fc.weight.share_memory_()
    fc(flambeau.ones(2, 4))
    assert not is_lazy(fc.weight)
    assert not is_lazy(flambeau.ones(1))


def test_embedding_bag_from_pretrained():
    table = flambeau.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    bag = nn.EmbeddingBag.from_pretrained(table, mode="sum", padding_idx=1)
    assert not bag.weight.requires_grad and bag.padding_idx == 1
    assert bag.weight.tolist() == table.tolist()  # the padding row is kept
    assert bag(flambeau.tensor([[0, 1, 2]])).tolist() == [[6.0, 8.0]]
    assert nn.EmbeddingBag.from_pretrained(table, freeze=False).weight.requires_grad
    with pytest.raises(ValueError, match="2-dimensional"):
        nn.EmbeddingBag.from_pretrained(flambeau.ones(3))


def test_parameter_dict_methods():
    pd = nn.ParameterDict({"a": flambeau.ones(1), "b": flambeau.zeros(2)})
    assert pd.get("a") is pd["a"] and pd.get("z") is None and pd.get("z", 3) == 3
    assert pd.setdefault("a") is pd["a"]
    c = pd.setdefault("c", flambeau.ones(3))
    assert isinstance(c, nn.Parameter) and list(pd) == ["a", "b", "c"]
    copy = pd.copy()
    assert list(copy) == ["a", "b", "c"] and copy["b"] is pd["b"]
    key, value = pd.popitem()
    assert key == "c" and value is c and list(pd) == ["a", "b"]
    assert [n for n, _ in pd.named_parameters()] == ["a", "b"]
    fresh = pd.fromkeys(["x", "y"], flambeau.ones(2))
    assert list(fresh) == ["x", "y"] and len(pd) == 2
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []
    with pytest.raises(KeyError):
        pd.popitem()
    with_object = nn.ParameterDict({"n": 3})
    assert "(n): Object of type: int" in repr(with_object)


def test_packed_sequence_constructor_and_conversions():
    p = pack_sequence([flambeau.tensor([1.0, 2.0]), flambeau.tensor([3.0, 4.0, 5.0])],
                      enforce_sorted=False)
    assert p.unsorted_indices.tolist() == [1, 0]
    q = PackedSequence(p.data, p.batch_sizes, p.sorted_indices)  # unsorted filled in
    assert q.unsorted_indices.tolist() == [1, 0]
    pair = PackedSequence((p.data, p.batch_sizes))
    assert pair.data is p.data and pair.sorted_indices is None
    with pytest.raises(AssertionError):
        PackedSequence(p.data)
    for method, dtype in (("double", flambeau.float64), ("half", flambeau.float16),
                          ("long", flambeau.int64), ("int", flambeau.int32),
                          ("short", flambeau.int16), ("char", flambeau.int8),
                          ("byte", flambeau.uint8)):
        out = getattr(p, method)()
        assert isinstance(out, PackedSequence) and out.data.dtype == dtype
        assert out.batch_sizes is p.batch_sizes
    assert p.float() is p and not p.is_pinned()
    assert p.cpu().data.device.type == "cpu" and p.cpu().batch_sizes is p.batch_sizes


def test_lazy_state_dict_loads_into_another_lazy_module():
    a, b = nn.LazyLinear(3), nn.LazyLinear(3)
    state = a.state_dict()
    assert is_lazy(state["weight"])
    b.load_state_dict(state)
    assert b.has_uninitialized_params()
    assert b(flambeau.ones(2, 4)).shape == (2, 3)
    with pytest.raises(RuntimeError, match="uninitialized parameter"):
        nn.Linear(4, 3).load_state_dict(state)


def test_hardtanh_deprecated_keywords_and_relu6():
    with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
        h = nn.Hardtanh(min_value=-2.0)
    assert (h.min_val, h.max_val) == (-2.0, 1.0)
    with pytest.warns(FutureWarning, match="`max_value` is deprecated"):
        assert nn.Hardtanh(max_value=3.0).max_val == 3.0
    with pytest.raises(AssertionError, match=r"max_val \(1\) must be greater than min_val"):
        nn.Hardtanh(2, 1)
    r = nn.ReLU6()
    assert isinstance(r, nn.Hardtanh) and (r.min_val, r.max_val) == (0.0, 6.0)
    np.testing.assert_array_equal(r(flambeau.tensor([-1.0, 3.0, 8.0])).cpu().numpy(), [0, 3, 6])


def test_zero_pads_are_constant_pads():
    pad = nn.ZeroPad2d(1)
    assert isinstance(pad, nn.ConstantPad2d) and pad.value == 0.0
    assert repr(pad) == "ZeroPad2d((1, 1, 1, 1))"
    assert not hasattr(nn.ReflectionPad1d(1), "value")


def test_small_module_changes():
    fc = nn.Linear(1, 1)
    net = nn.Sequential(fc, nn.ReLU(), fc)
    assert len(list(net.modules())) == 3
    assert len(list(net.modules(remove_duplicate=False))) == 4
    lstm = nn.LSTM(2, 3)
    assert lstm.flatten_parameters() is None
    cell = nn.RNNCellBase(2, 3, True, 5)
    assert cell.weight_ih.shape == (15, 2)
    assert repr(nn.RNNCell(2, 3, bias=False, nonlinearity="relu")) == (
        "RNNCell(2, 3, bias=False, nonlinearity=relu)")
    assert nn.MaxUnpool2d(2).kernel_size == (2, 2)
    assert nn.AvgPool1d(3).stride == (3,)
    assert not hasattr(nn.AdaptiveAvgPool2d(2), "return_indices")
    assert nn.Upsample(scale_factor=2).name == "Upsample"
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8), 1, mask_check=False)
    assert enc.enable_nested_tensor and not enc.mask_check
    x = flambeau.randn(3, 4)
    asm = nn.AdaptiveLogSoftmaxWithLoss(4, 6, [2])
    out = asm(input_=x, target_=flambeau.tensor([0, 3, 5]))
    assert out.output.shape == (3,)
    assert nn.RMSNorm(4)(x=x).shape == (3, 4)


def test_data_parallel_function_needs_a_device():
    if flambeau.cuda.is_available():
        pytest.skip("the error is for machines without CUDA")
    with pytest.raises(RuntimeError, match="device type could not be determined"):
        nn.parallel.data_parallel(nn.Linear(2, 3), flambeau.ones(4, 2))
