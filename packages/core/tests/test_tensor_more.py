"""Small Tensor methods of ``flambeau._ops.tensor_more``: harness cases (values, gradcheck,
gradgradcheck, torch parity), queries and properties, real-dtype conj no-ops, resize_,
errors with their messages."""

import inspect
import math

import numpy as np
import pytest

import flambeau
from flambeau._ops import tensor_more
from flambeau.testing._cases import OpCase, _away_from, both
from flambeau.testing._harness import op_tests, torch_or_none


def _normal(rng, dt, *shape):
    return np.asarray(rng.standard_normal(shape), dtype=dt)


def _case(name, f, inputs, **kw):
    fn, torch_fn = both(f)
    return OpCase(name, fn, torch_fn, inputs, **kw)


CASES = [
    _case("angle", lambda lib, x: lib.angle(x),
          lambda rng, dt: [(_away_from(rng, dt, [0.0], 2, 3),), (_away_from(rng, dt, [0.0]),)]),
    _case("angle_method", lambda lib, x: x.angle() + x,
          lambda rng, dt: [(_away_from(rng, dt, [0.0], 4),)]),
    _case("prelu_one", lambda lib, x, w: lib.prelu(x, w),
          lambda rng, dt: [(_away_from(rng, dt, [0.0], 2, 3, 2), _normal(rng, dt, 1)),
                           (_away_from(rng, dt, [0.0]), _normal(rng, dt, 1)),
                           (_away_from(rng, dt, [0.0], 3), _normal(rng, dt))]),
    _case("prelu_channels", lambda lib, x, w: x.prelu(w),
          lambda rng, dt: [(_away_from(rng, dt, [0.0], 2, 3, 2), _normal(rng, dt, 3)),
                           (_away_from(rng, dt, [0.0], 4, 2), _normal(rng, dt, 2))]),
    _case("hardshrink", lambda lib, x: (lib.hardshrink(x), x.hardshrink(0.8),
                                        lib.hardshrink(x, lambd=0.2)),
          lambda rng, dt: [(_away_from(rng, dt, [-0.8, -0.5, -0.2, 0.2, 0.5, 0.8], 2, 4),),
                           (_away_from(rng, dt, [-0.5, 0.5]),)]),
    _case("addmm_", lambda lib, a, m, n: a.clone().addmm_(m, n, beta=0.5, alpha=2.0),
          lambda rng, dt: [(_normal(rng, dt, 2, 3), _normal(rng, dt, 2, 4),
                            _normal(rng, dt, 4, 3))]),
    _case("addmv_", lambda lib, a, m, v: a.clone().addmv_(m, v, alpha=-1.5),
          lambda rng, dt: [(_normal(rng, dt, 3), _normal(rng, dt, 3, 2), _normal(rng, dt, 2))]),
    _case("baddbmm_", lambda lib, a, b, c: a.clone().baddbmm_(b, c, beta=2.0),
          lambda rng, dt: [(_normal(rng, dt, 2, 2, 3), _normal(rng, dt, 2, 2, 4),
                            _normal(rng, dt, 2, 4, 3))]),
    _case("conj_resolve_real", lambda lib, x: (
        lib.conj(x) * 2, x.conj_physical() + 1, lib.resolve_conj(x) - 1, x.resolve_neg() * 3,
        lib.real(x) ** 2, x.real + 0, x.mT if x.ndim > 1 else x, x.H * 1, x.mH * 1),
        lambda rng, dt: [(_normal(rng, dt, 2, 3),)]),
]

NONDIFF = [
    _case("angle_ints", lambda lib, x: lib.angle(x),
          lambda rng, dt: [(np.asarray([-3, 0, 2, -1]).astype(dt),)],
          differentiable=False, dtypes=("int64", "int32", "int8", "uint8", "bool")),
    _case("angle_float16", lambda lib, x: lib.angle(x),
          lambda rng, dt: [(np.asarray([-1.5, 0.0, 2.0], dtype=dt),)],
          differentiable=False, dtypes=("float16",)),
    _case("nonzero_static", lambda lib, x: (
        lib.nonzero_static(x, size=2), x.nonzero_static(size=6),
        lib.nonzero_static(x, size=6, fill_value=9), x.nonzero_static(size=0)),
        lambda rng, dt: [(np.asarray([[0, 1, 0], [2, 0, 3]], dtype=dt),),
                         (np.asarray([0, 0], dtype=dt),), (np.asarray(5, dtype=dt),),
                         (np.zeros((0, 2), dtype=dt),)],
        differentiable=False, dtypes=("int64", "float32", "bool")),
    _case("unsafe_split_with_sizes", lambda lib, x: (
        lib.unsafe_split_with_sizes(x, [1, 2], 1), x.unsafe_split_with_sizes([2, 0, 1])),
        lambda rng, dt: [(np.arange(9, dtype=dt).reshape(3, 3),)],
        differentiable=False, dtypes=("int64",)),
]

test_gradcheck, test_numpy_reference, test_parity = op_tests(CASES + NONDIFF)


# ------------------------------------------------------------------ queries and properties


DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64"]


@pytest.mark.parametrize("name", DTYPES)
def test_is_signed_itemsize_nbytes(name):
    dt = getattr(flambeau, name)
    x = flambeau.zeros(2, 3, dtype=dt)
    assert x.is_signed() is (name not in ("bool", "uint8"))
    assert flambeau.is_signed(x) is x.is_signed()
    assert x.itemsize == x.element_size() == dt.itemsize
    assert x.nbytes == 6 * dt.itemsize
    assert x[::2].nbytes == 3 * dt.itemsize
    torch = torch_or_none()
    if torch is not None:
        tx = torch.zeros(2, 3, dtype=getattr(torch, name))
        assert (x.is_signed(), x.itemsize, x.nbytes) == (tx.is_signed(), tx.itemsize, tx.nbytes)
        assert x.expand(4, 2, 3).nbytes == tx.expand(4, 2, 3).nbytes == 24 * dt.itemsize


def test_is_nonzero():
    assert flambeau.tensor([0.0]).is_nonzero() is False
    assert flambeau.tensor([[3]]).is_nonzero() is True
    assert flambeau.is_nonzero(flambeau.tensor(float("nan"))) is True
    assert flambeau.tensor(True).is_nonzero() is True
    with pytest.raises(RuntimeError, match=r"is_nonzero: .*more than one value is ambiguous "
                                           r"\(shape \(2,\), 2 elements\)"):
        flambeau.tensor([1.0, 2.0]).is_nonzero()
    with pytest.raises(RuntimeError, match="is_nonzero: .*with no values is ambiguous"):
        flambeau.is_nonzero(flambeau.zeros(0))


def test_is_same_size():
    assert flambeau.zeros(2, 3).is_same_size(flambeau.ones(2, 3, dtype=flambeau.int64))
    assert not flambeau.is_same_size(flambeau.zeros(2, 3), flambeau.zeros(3, 2))
    assert flambeau.tensor(2).is_same_size(flambeau.tensor(3.0))
    with pytest.raises(TypeError, match="argument 'other' .* must be Tensor, not int"):
        flambeau.tensor(2).is_same_size(3)


def test_flags_and_ndimension():
    x = flambeau.zeros(2, 3, 4)
    assert x.ndimension() == 3 and flambeau.zeros(()).ndimension() == 0
    assert x.is_conj() is False and x.is_neg() is False
    assert flambeau.is_conj(x) is False and flambeau.is_neg(x) is False
    assert x.is_inference() is False
    with flambeau.inference_mode():
        assert flambeau.is_inference(flambeau.ones(1) * 2) is True  # an inference tensor


def test_output_nr():
    class Two(flambeau.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a._data * 2, a._data * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3

    x = flambeau.zeros(3, requires_grad=True)
    assert x.output_nr == 0 and (x * 2).output_nr == 0
    assert [t.output_nr for t in Two.apply(x)] == [0, 1]
    with pytest.raises(AttributeError):
        x.output_nr = 1


def test_conj_family_returns_self():
    x = flambeau.tensor([1.0, -2.0], requires_grad=True)
    for fn in (flambeau.conj, flambeau.conj_physical, flambeau.resolve_conj,
               flambeau.resolve_neg, flambeau.real, flambeau.Tensor.conj,
               flambeau.Tensor.conj_physical, flambeau.Tensor.resolve_conj,
               flambeau.Tensor.resolve_neg):
        assert fn(x) is x
    assert x.real is x
    out = flambeau.empty(2)
    assert flambeau.conj_physical(x.detach(), out=out) is out and out.tolist() == [1.0, -2.0]


def test_real_setter_copies():
    x = flambeau.zeros(3)
    x.real = flambeau.tensor([1.0, 2.0, 3.0])
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_H_and_mH():
    x = flambeau.arange(6).reshape(2, 3)
    assert x.H.tolist() == [[0, 3], [1, 4], [2, 5]]
    assert x.mH.tolist() == x.H.tolist()
    b = flambeau.zeros(4, 2, 3)
    assert tuple(b.mH.shape) == (4, 3, 2)
    with pytest.raises(RuntimeError, match=r"tensor\.H is only supported on matrices \(2-D "
                                           r"tensors\)\. Got 3-D tensor\. For batches"):
        b.H
    with pytest.raises(RuntimeError, match=r"tensor\.H .* Got 1-D tensor\.$"):
        flambeau.zeros(3).H
    with pytest.raises(RuntimeError, match=r"tensor\.mH is only supported on matrices or "
                                           r"batches of matrices\. Got 1-D tensor\."):
        flambeau.zeros(3).mH
    s = flambeau.tensor(2.0)
    with pytest.warns(UserWarning, match="Tensor.H is deprecated on 0-D"):
        assert s.H is s
    with pytest.warns(UserWarning, match="Tensor.mH is deprecated on 0-D"):
        assert s.mH is s


def test_angle_special_values_and_zero_gradient():
    x = flambeau.tensor([-1.0, -0.0, 0.0, float("inf"), -float("inf"), float("nan")],
                        dtype=flambeau.float64, requires_grad=True)
    y = flambeau.angle(x)
    assert y.dtype == flambeau.float64
    got = y.tolist()
    assert got[:5] == [math.pi, 0.0, 0.0, 0.0, math.pi] and math.isnan(got[5])
    y.sum().backward()
    assert x.grad.tolist() == [0.0] * 6
    assert flambeau.angle(flambeau.tensor([-1, 1])).dtype == flambeau.float32
    assert flambeau.angle(flambeau.tensor([1.0], dtype=flambeau.bfloat16)).dtype == \
        flambeau.bfloat16
    out = flambeau.empty(0)
    assert flambeau.angle(flambeau.tensor([-2.0]), out=out) is out
    assert out.tolist() == pytest.approx([math.pi])


def test_angle_parity_with_torch_special_values():
    torch = pytest.importorskip("torch")
    vals = [-1.0, -0.0, 0.0, float("inf"), -float("inf"), float("nan"), 2.5]
    got = flambeau.angle(flambeau.tensor(vals)).cpu().numpy()
    exp = torch.angle(torch.tensor(vals)).cpu().numpy()
    np.testing.assert_array_equal(got, exp)


# ------------------------------------------------------------------ in-place addmm_ & co.


def test_inplace_matmul_family_values_and_identity():
    a = flambeau.zeros(2, 3)
    assert a.addmm_(flambeau.ones(2, 4), flambeau.ones(4, 3), beta=2, alpha=0.5) is a
    assert a.tolist() == [[2.0] * 3] * 2
    v = flambeau.ones(3, dtype=flambeau.int64)
    v.addmv_(flambeau.ones(3, 4, dtype=flambeau.int64), flambeau.ones(4, dtype=flambeau.int64))
    assert v.tolist() == [5, 5, 5]
    b = flambeau.ones(2, 1, 1)
    b.baddbmm_(flambeau.ones(2, 1, 3), flambeau.ones(2, 3, 1), beta=0)
    assert b.tolist() == [[[3.0]], [[3.0]]]


def test_inplace_matmul_family_errors():
    with pytest.raises(RuntimeError, match="addmm_: a leaf Variable that requires grad"):
        flambeau.zeros(2, 3, requires_grad=True).addmm_(flambeau.ones(2, 4), flambeau.ones(4, 3))
    with pytest.raises(RuntimeError, match=r"addmm_: output with shape \[3\] doesn't match "
                                           r"the broadcast shape \[2, 3\]"):
        flambeau.zeros(3).addmm_(flambeau.ones(2, 4), flambeau.ones(4, 3))
    with pytest.raises(RuntimeError, match=r"add: the size of tensor a \(2, 3\) must match"):
        flambeau.zeros(2).addmm_(flambeau.ones(2, 4), flambeau.ones(4, 3))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        flambeau.zeros(2, 3).addmm_(flambeau.ones(2, 4), flambeau.ones(5, 3))


def test_inplace_addmm_gradient_flows_through_clone():
    a = flambeau.ones(2, 2, requires_grad=True)
    m = flambeau.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = a.clone()
    y.addmm_(m, m, beta=3.0)
    y.sum().backward()
    assert a.grad.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    torch = torch_or_none()
    if torch is not None:
        ta = torch.ones(2, 2, requires_grad=True)
        tm = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        ty = ta.clone()
        ty.addmm_(tm, tm, beta=3.0)
        ty.sum().backward()
        assert m.grad.tolist() == tm.grad.tolist()


# ------------------------------------------------------------------ storage


def test_new_empty_strided():
    x = flambeau.zeros(1, dtype=flambeau.float64)
    t = x.new_empty_strided((2, 3), (1, 2))
    assert tuple(t.shape) == (2, 3) and t.stride() == (1, 2) and t.dtype == flambeau.float64
    assert not t.requires_grad
    t[...] = 1.0
    assert t.tolist() == [[1.0] * 3] * 2
    u = x.new_empty_strided([2, 0], [1, 1], dtype=flambeau.int64, requires_grad=False)
    assert tuple(u.shape) == (2, 0) and u.dtype == flambeau.int64
    assert x.new_empty_strided((3,), (1,), requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match=r"new_empty_strided: dimensionality of sizes \(2\) "
                                           r"must match dimensionality of strides \(1\)"):
        x.new_empty_strided((2, 3), (1,))
    with pytest.raises(RuntimeError, match="must be non-negative"):
        x.new_empty_strided((2,), (-1,))


def test_resize_same_fewer_more():
    x = flambeau.arange(6.0)
    assert x.resize_(2, 3) is x and x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert x.resize_((3, 2)).shape == (3, 2)
    x.resize_([2, 2])
    assert x.tolist() == [[0.0, 1.0], [2.0, 3.0]]
    y = flambeau.arange(6.0)
    y.resize_(8)
    assert tuple(y.shape) == (8,) and y[:6].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    base = flambeau.arange(6.0)
    v = base[:3]
    v.resize_(2)
    assert v.tolist() == [0.0, 1.0] and base.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    z = flambeau.arange(4.0)
    ver = z._version
    z.resize_(0)
    assert tuple(z.shape) == (0,) and z._version == ver + 1
    torch = torch_or_none()
    if torch is not None:
        tx = torch.arange(6.0)
        tx.resize_(2, 2)
        assert tx.tolist() == flambeau.arange(6.0).resize_(2, 2).tolist()


def test_resize_as_():
    x = flambeau.arange(6.0)
    x.resize_as_(flambeau.zeros(2, 3, dtype=flambeau.int64))
    assert x.dtype == flambeau.float32 and x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_resize_refuses_grad_and_negative_sizes():
    with pytest.raises(RuntimeError, match="resize_: cannot resize variables that require grad"):
        flambeau.zeros(3, requires_grad=True).resize_(3)
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        (flambeau.zeros(3, requires_grad=True) * 2).resize_(4)
    with flambeau.no_grad():
        with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
            flambeau.zeros(3, requires_grad=True).resize_as_(flambeau.zeros(4))
    with pytest.raises(RuntimeError, match=r"resize_: sizes must be non-negative, got \[-1\]"):
        flambeau.zeros(3).resize_(-1)


# ------------------------------------------------------------------ prelu, hardshrink


def test_prelu_and_hardshrink_errors():
    x = flambeau.tensor([[-1.0, 2.0, -3.0], [4.0, -5.0, 0.0]])
    with pytest.raises(RuntimeError, match=r"prelu: Mismatch of parameter numbers and input "
                                           r"channel size\. Found parameter numbers = 2 and "
                                           r"channel size = 3"):
        x.prelu(flambeau.tensor([0.1, 0.2]))
    with pytest.raises(RuntimeError, match="channel size = 1"):
        flambeau.prelu(flambeau.tensor([-1.0, 2.0]), flambeau.tensor([0.1, 0.2]))
    with pytest.raises(RuntimeError, match="prelu: Not allow zero-dim input tensor"):
        flambeau.prelu(flambeau.tensor(-1.0), flambeau.tensor([0.1, 0.2]))
    with pytest.raises(RuntimeError, match=r"prelu: Type promoting not supported\. Got "
                                           r"flambeau\.float32 \(input\) and flambeau\.float64"):
        x.prelu(flambeau.tensor([0.1], dtype=flambeau.float64))
    with pytest.raises(NotImplementedError, match="prelu: not implemented for dtype "
                                                  "flambeau.int64"):
        flambeau.tensor([-1, 2]).prelu(flambeau.tensor([1]))
    with pytest.raises(TypeError, match="argument 'weight' .* must be Tensor, not float"):
        x.prelu(0.2)
    with pytest.raises(NotImplementedError, match="hardshrink: not implemented for dtype"):
        flambeau.tensor([1, 2]).hardshrink()


def test_prelu_hardshrink_values():
    x = flambeau.tensor([[-1.0, 2.0, -3.0], [4.0, -5.0, 0.0]])
    assert x.prelu(flambeau.tensor(0.5)).tolist() == [[-0.5, 2.0, -1.5], [4.0, -2.5, 0.0]]
    assert tuple(flambeau.prelu(flambeau.tensor(-1.0), flambeau.tensor([0.5])).shape) == ()
    h = flambeau.hardshrink(flambeau.tensor([float("nan"), 0.5, -0.7, -0.5]))
    assert math.isnan(h[0].item()) and h[1:].tolist() == pytest.approx([0.0, -0.7, 0.0])
    assert flambeau.tensor([1.0, 2.0]).hardshrink(-1).tolist() == [1.0, 2.0]
    assert flambeau.tensor([1.0], dtype=flambeau.float16).hardshrink().dtype == flambeau.float16
    torch = torch_or_none()
    if torch is not None:
        tx = torch.tensor([[-1.0, 2.0, -3.0], [4.0, -5.0, 0.0]])
        np.testing.assert_allclose(x.prelu(flambeau.tensor([0.1, 0.2, 0.3])).cpu().numpy(),
                                   tx.prelu(torch.tensor([0.1, 0.2, 0.3])).cpu().numpy())


# ------------------------------------------------------------------ nonzero_static


def test_nonzero_static_values_and_errors():
    x = flambeau.tensor([[0, 1, 0], [2, 0, 3]])
    assert x.nonzero_static(size=2).tolist() == [[0, 1], [1, 0]]
    assert x.nonzero_static(size=4, fill_value=9).tolist() == [[0, 1], [1, 0], [1, 2], [9, 9]]
    r = flambeau.nonzero_static(flambeau.tensor(3.0), size=2)
    assert tuple(r.shape) == (2, 0) and r.dtype == flambeau.int64
    with pytest.raises(RuntimeError, match="nonzero_static: 'size' must be an non-negative "
                                           "integer, got -1"):
        x.nonzero_static(size=-1)
    with pytest.raises(TypeError):
        x.nonzero_static(2)


# ------------------------------------------------------------------ the table


def test_methods_and_toplevel_names_installed():
    for name, fn in tensor_more.TENSOR_METHODS.items():
        assert inspect.unwrap(getattr(flambeau.Tensor, name)) is fn, name  # (dim: a layer)
        doc = fn.fget.__doc__ if isinstance(fn, property) else fn.__doc__
        assert "Examples" in doc, name
    for name in tensor_more.__all__:
        assert inspect.unwrap(getattr(flambeau, name)) is getattr(tensor_more, name), name
        assert name in flambeau.__all__
    for name in ("addmm_", "addmv_", "baddbmm_"):
        assert callable(getattr(flambeau.Tensor, name))
    torch = torch_or_none()
    if torch is not None:
        for name in tensor_more.__all__:
            assert hasattr(torch, name), name


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "exp"])
def test_inplace_ops_that_save_their_output_record_no_snapshot(name):
    """``relu_`` and the other ops whose backward reads only their output compute from the
    tensor itself: no Clone node is recorded, and the gradients equal the out-of-place op's."""
    import numpy as np

    base = flambeau.tensor([[-1.5, 0.5], [2.0, -0.25]], requires_grad=True)
    w = flambeau.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = base * 2
    getattr(y, name + "_")()
    assert y.grad_fn.name() == name.capitalize() + "Backward0" and y._version == 1
    assert [f[0].name() for f in y.grad_fn.next_functions] == ["MulBackward0"]  # no Clone
    (y * w).sum().backward()
    got = base.grad.cpu().numpy()
    base.grad = None
    (getattr(base * 2, name)() * w).sum().backward()
    np.testing.assert_allclose(got, base.grad.cpu().numpy(), rtol=1e-6)
