"""Tensor methods: in-place forms, views sharing storage, version counters, conversions, repr."""

import numpy as np
import pytest

import flambeau


def _x(*shape, dtype=flambeau.float32):
    return flambeau.arange(int(np.prod(shape)), dtype=dtype).reshape(*shape)


# ------------------------------------------------------------------ in-place forms


@pytest.mark.parametrize(("inplace", "outplace"), [
    (lambda t: t.add_(2), lambda t: t + 2), (lambda t: t.sub_(1, alpha=2), lambda t: t - 2),
    (lambda t: t.mul_(3), lambda t: t * 3), (lambda t: t.div_(4), lambda t: t / 4),
    (lambda t: t.pow_(2), lambda t: t ** 2), (lambda t: t.neg_(), lambda t: -t),
    (lambda t: t.exp_(), lambda t: t.exp()), (lambda t: t.clamp_(1, 3), lambda t: t.clamp(1, 3)),
    (lambda t: t.masked_fill_(t > 2, 0), lambda t: t.masked_fill(t > 2, 0)),
    (lambda t: t.copy_(flambeau.ones(3)), lambda t: flambeau.ones(2, 3)),
    (lambda t: t.zero_(), lambda t: t * 0), (lambda t: t.fill_(7), lambda t: t * 0 + 7),
])
def test_inplace_matches_out_of_place(inplace, outplace):
    t = _x(2, 3)
    expected = outplace(t.clone())
    version = t._version
    out = inplace(t)
    assert out is t
    assert t._version > version
    np.testing.assert_allclose(t.cpu().numpy(), expected.cpu().numpy(), rtol=1e-6)


def test_inplace_operators():
    t = _x(2, 3)
    ref = t.clone()
    ident = id(t)
    t += 1
    t *= 2
    t -= 1
    t /= 2
    assert id(t) == ident
    np.testing.assert_allclose(t.cpu().numpy(), ((ref + 1) * 2 - 1).cpu().numpy() / 2)
    i = flambeau.tensor([5, 6])
    i //= 2
    i %= 2
    assert i.tolist() == [0, 1] and i.dtype is flambeau.int64


def test_inplace_int_tensor_rejects_float_result():
    i = flambeau.tensor([1, 2])
    with pytest.raises(RuntimeError, match="Float|float"):
        i.add_(1.5)
    assert i.tolist() == [1, 2]
    # true division of integers is a float too (it once failed on an `alpha` keyword)
    with pytest.raises(RuntimeError, match=r"div_: result type flambeau.float32 can't be cast "
                                           r"to the desired output type flambeau.int64"):
        i.div_(2)
    assert i.tolist() == [1, 2]
    assert flambeau.tensor([7]).div_(2, rounding_mode="floor").tolist() == [3]


def test_inplace_on_leaf_requiring_grad_is_rejected():
    x = flambeau.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x.add_(1)
    with flambeau.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0, 2.0]


def test_inplace_gradient_flows_through_rebased_history():
    x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.mul_(x)
    y.sum().backward()
    assert x.grad.tolist() == [4.0, 8.0]


# ------------------------------------------------------------------ views and versions


@pytest.mark.parametrize("make_view", [
    lambda t: t.view(6), lambda t: t.reshape(3, 2), lambda t: t[1], lambda t: t[:, 1:],
    lambda t: t.transpose(0, 1), lambda t: t.t(), lambda t: t[0].expand(4, 3),
    lambda t: t.unsqueeze(0), lambda t: t.permute(1, 0), lambda t: t.narrow(1, 0, 2),
    lambda t: t.squeeze(), lambda t: t.flatten(), lambda t: t.detach(), lambda t: t[None, ...],
    lambda t: t.unbind(0)[1], lambda t: t.split(1)[0],
])
@pytest.mark.host_only  # host memory
def test_views_share_storage_and_version(make_view):
    t = _x(2, 3)
    v = make_view(t)
    assert np.shares_memory(v.cpu().numpy(), t.cpu().numpy())
    before = v._version
    t.add_(1)
    assert v._version == before + 1
    assert float(v.flatten()[0].item()) == float(make_view(t).flatten()[0].item())


def test_writes_through_a_view_reach_the_base():
    t = flambeau.zeros(2, 3)
    t[0].fill_(1)
    t.t()[2, 1] = 5
    t.view(6)[2] = 3
    assert t.tolist() == [[1, 1, 3], [0, 0, 5]]


def test_reshape_of_non_contiguous_copies():
    t = _x(2, 3)
    r = t.t().reshape(6)
    assert not np.shares_memory(r.cpu().numpy(), t.cpu().numpy())
    assert r.tolist() == [0, 3, 1, 4, 2, 5]
    with pytest.raises(RuntimeError, match="view"):
        t.t().view(6)


def test_backward_after_inplace_change_of_saved_tensor_names_the_op():
    x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match="(?s)modified by an inplace operation.*Exp"):
        y.sum().backward()
    w = x * 2
    s = w.sin()
    w.mul_(2)
    with pytest.raises(RuntimeError, match="Sin"):
        s.sum().backward()


# ------------------------------------------------------------------ conversions and methods


@pytest.mark.host_only  # host memory
def test_conversions_and_casts():
    t = flambeau.tensor([1.7, -2.2])
    assert t.long().tolist() == [1, -2] and t.int().dtype is flambeau.int32
    assert t.double().dtype is flambeau.float64 and t.half().dtype is flambeau.float16
    assert t.bool().tolist() == [True, True]
    assert t.type_as(flambeau.zeros(1, dtype=flambeau.int8)).dtype is flambeau.int8
    assert t.to(flambeau.float64).dtype is flambeau.float64 and t.to("cpu") is t
    assert t.float() is t
    assert t.type() == "flambeau.FloatTensor"
    assert flambeau.tensor(3).item() == 3 and isinstance(flambeau.tensor(3).item(), int)
    assert _x(2, 2).tolist() == [[0.0, 1.0], [2.0, 3.0]]
    assert np.asarray(t).tolist() == pytest.approx([1.7, -2.2])
    d = flambeau.from_dlpack(t)
    assert np.shares_memory(d.cpu().numpy(), t.cpu().numpy())


def test_cast_is_differentiable():
    x = flambeau.tensor([1.5, 2.5], requires_grad=True)
    x.double().sum().backward()
    assert x.grad.dtype is flambeau.float32 and x.grad.tolist() == [1.0, 1.0]


def test_sizes_and_properties():
    t = flambeau.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and t.size() == (2, 3, 4) and t.size(-1) == 4
    assert t.dim() == t.ndim == 3 and t.numel() == 24 and len(t) == 2
    assert t.is_leaf and t.grad_fn is None
    y = t.requires_grad_() * 2
    assert not y.is_leaf and y.grad_fn.name() == "MulBackward0"
    assert t.is_contiguous() and not t.transpose(0, 1).is_contiguous()
    assert t.transpose(0, 1).contiguous().is_contiguous()
    assert t.stride() == (12, 4, 1)


@pytest.mark.host_only  # host memory
def test_clone_and_detach():
    x = flambeau.tensor([1.0], requires_grad=True)
    c, d = x.clone(), x.detach()
    assert c.grad_fn is not None and not d.requires_grad
    assert not np.shares_memory(c.detach().cpu().numpy(), x.detach().cpu().numpy())
    assert np.shares_memory(d.cpu().numpy(), x.detach().cpu().numpy())


def test_retain_grad_and_hooks():
    x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    h = x.register_hook(lambda g: g * 2)
    (y * y).sum().backward()
    assert y.grad.tolist() == [6.0, 12.0] and x.grad.tolist() == [36.0, 72.0]
    h.remove()


# ------------------------------------------------------------------ repr


REPR_CASES = [
    lambda m: m.tensor([1, 2, 3]),
    lambda m: m.tensor([-1, 20, 300]),
    lambda m: m.tensor([1.0, 2.0, 3.0]),
    lambda m: m.tensor([1.5, -2.25, 3.0]),
    lambda m: m.tensor([0.1, 0.25, 3.5]),
    lambda m: m.tensor([1e-5, 1.0]),
    lambda m: m.tensor([1e10, 1.0]),
    lambda m: m.tensor([123456.0, 0.5]),
    lambda m: m.tensor([1e-8, 2e-8]),
    lambda m: m.tensor([-0.0001234, 12.5]),
    lambda m: m.tensor([True, False]),
    lambda m: m.tensor([[1.0, -2.5], [3.25, 4.0]]),
    lambda m: m.tensor([[1, 2], [3, 4]]),
    lambda m: m.tensor(3.5),
    lambda m: m.tensor(7),
    lambda m: m.tensor([1.0, 2.0], dtype=m.float64),
    lambda m: m.tensor([1, 2], dtype=m.int32),
    lambda m: m.tensor([1.5, 2.0], dtype=m.float16),
    lambda m: m.tensor([float("nan"), float("inf"), -float("inf"), 1.5]),
    lambda m: m.zeros(0),
    lambda m: m.zeros(2, 0),
    lambda m: m.tensor([1.0, 2.0], requires_grad=True),
    lambda m: m.arange(12.0).reshape(2, 2, 3),
    lambda m: m.tensor([100.0, 0.001]),
    lambda m: m.tensor([-5.0, 5.0]) / 3,
    lambda m: m.tensor([1.0, 10000.0]),
    lambda m: m.tensor([2.0, 2000.0]),
    lambda m: m.tensor([0.5, 1000.0]),
    lambda m: m.tensor([-1.0, 5000.5]),
    lambda m: m.tensor([1e-4, 1.0]),
    lambda m: m.tensor([1.0, 1e9]),
    lambda m: m.arange(2000.0),
    lambda m: m.tensor([[1e-3, 2.0], [-3.0, 4.5]]),
    lambda m: m.arange(2000.0).reshape(100, 20),
    lambda m: m.arange(2000),
]


@pytest.mark.parity
@pytest.mark.parametrize("make", REPR_CASES)
@pytest.mark.host_only  # CPU reprs
def test_repr_matches_torch(make):
    torch = pytest.importorskip("torch")
    assert repr(make(flambeau)) == repr(make(torch)).replace("torch", "flambeau")


@pytest.mark.parity
@pytest.mark.host_only  # CPU reprs
def test_repr_of_grad_fn_tensor_matches_torch():
    torch = pytest.importorskip("torch")
    f = flambeau.tensor([1.0, 2.0], requires_grad=True) * 2
    t = torch.tensor([1.0, 2.0], requires_grad=True) * 2
    assert repr(f) == repr(t).replace("torch", "flambeau")


def test_layout_and_device_type_flags_match_torch():
    torch = pytest.importorskip("torch")
    t, x = torch.ones(2), flambeau.ones(2, device="cpu")
    flags = [n for n in dir(t) if n.startswith("is_") and not callable(getattr(t, n))]
    assert {"is_sparse", "is_meta", "is_mps", "is_quantized", "is_nested"} <= set(flags)
    for name in flags:
        assert getattr(x, name) == getattr(t, name), name
