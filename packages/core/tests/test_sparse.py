"""Sparse COO tensors (flambeau.sparse_coo): construction and its errors, coalescing, repr,
conversions, arithmetic, products (gather + scatter-add) and autograd through them, the
errors of ops without a sparse version, save/load, and a small GCN layer's loss and
gradients against PyTorch.

Parity tests take the ``torch`` fixture (skipped without torch, run on the CPU); the value
tests run on the default device.
"""

import copy
import io
import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

import flambeau

parity = pytest.mark.parity

I = [[1, 0, 1, 2], [0, 0, 0, 2]]  # (1, 0) twice: uncoalesced  # noqa: E741
V = [1.0, 2.0, 3.0, 4.0]
DENSE = [[2.0, 0.0, 0.0], [4.0, 0.0, 0.0], [0.0, 0.0, 4.0]]


@pytest.fixture
def torch(cpu_default):
    """PyTorch, for the parity tests: they run on the CPU, as torch's tensors do."""
    torch = pytest.importorskip("torch")
    warnings.filterwarnings("ignore", "Sparse invariant checks", UserWarning)
    return torch


def _np(t):
    t = t.detach()
    if t.is_sparse:
        t = t.to_dense()
    return t.cpu().numpy()


def _same(got, want, **kw):
    assert got.is_sparse == want.is_sparse
    np.testing.assert_allclose(_np(got), want.detach().to_dense().numpy(), rtol=1e-6,
                               atol=1e-6, **kw)


def _pair(torch, indices=I, values=V, size=(3, 3), **kw):
    sized = () if size is None else (size,)
    return (flambeau.sparse_coo_tensor(indices, values, *sized, **kw),
            torch.sparse_coo_tensor(torch.tensor(indices), torch.tensor(values), *sized, **kw))


# ------------------------------------------------------------------ construction


def test_construct_and_properties():
    s = flambeau.sparse_coo_tensor(I, V, (3, 3))
    assert s.is_sparse and s.layout is flambeau.sparse_coo
    assert s.shape == (3, 3) and s.size() == (3, 3) and s.size(1) == 3
    assert s.dim() == 2 and s.numel() == 9 and s.dtype is flambeau.float32
    assert s.sparse_dim() == 2 and s.dense_dim() == 0 and s._nnz() == 4
    assert not s.is_coalesced()
    assert s._indices().cpu().numpy().tolist() == I
    assert s._values().cpu().numpy().tolist() == V
    np.testing.assert_array_equal(s.to_dense().cpu().numpy(), DENSE)
    assert not flambeau.zeros(2).is_sparse and flambeau.zeros(2).layout is flambeau.strided


def test_size_inferred_and_dtype_device():
    s = flambeau.sparse_coo_tensor([[0, 3]], [1, 2], dtype=flambeau.float64, device="cpu")
    assert s.shape == (4,) and s.dtype is flambeau.float64 and s.device.type == "cpu"
    h = flambeau.sparse_coo_tensor([[0, 1]], [[1.0, 2.0], [3.0, 4.0]])
    assert h.shape == (2, 2) and h.sparse_dim() == 1 and h.dense_dim() == 1


def test_coalesce_sums_duplicates_and_sorts():
    s = flambeau.sparse_coo_tensor(I, V, (3, 3))
    c = s.coalesce()
    assert c.is_coalesced() and c.coalesce() is c
    assert c.indices().cpu().numpy().tolist() == [[0, 1, 2], [0, 0, 2]]
    assert c.values().detach().cpu().numpy().tolist() == [2.0, 4.0, 4.0]
    with pytest.raises(RuntimeError, match="Cannot get indices on an uncoalesced tensor"):
        s.indices()
    with pytest.raises(RuntimeError, match="Cannot get values on an uncoalesced tensor"):
        s.values()


def test_hybrid_construct_coalesce_to_dense():
    h = flambeau.sparse_coo_tensor([[0, 1, 0]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], (2, 2))
    np.testing.assert_array_equal(h.to_dense().cpu().numpy(), [[6.0, 8.0], [3.0, 4.0]])
    c = h.coalesce()
    assert c._nnz() == 2 and c.values().detach().cpu().numpy().tolist() == [[6, 8], [3, 4]]
    d = flambeau.zeros(2, 3, 2)
    d[1, 2, 0] = 5.0
    s = d.to_sparse(1)
    assert s.sparse_dim() == 1 and s.dense_dim() == 2 and s._nnz() == 1
    np.testing.assert_array_equal(s.to_dense().cpu().numpy(), d.cpu().numpy())


@parity
def test_repr_as_torch(torch):
    cases = [dict(), dict(dtype=None, requires_grad=True)]
    for kw in cases:
        f, t = _pair(torch, **{k: v for k, v in kw.items() if v is not None})
        assert repr(f) == repr(t).replace("torch.", "flambeau.")
    f, t = _pair(torch, values=[1, 2, 3, 4])
    assert repr(f) == repr(t).replace("torch.", "flambeau.")
    f = flambeau.sparse_coo_tensor(I, V, (3, 3), dtype=flambeau.float64)
    t = torch.sparse_coo_tensor(torch.tensor(I), torch.tensor(V), (3, 3), dtype=torch.float64)
    assert repr(f) == repr(t).replace("torch.", "flambeau.")
    f = flambeau.zeros(2, 3, 2).to_sparse(1)
    assert repr(f) == repr(torch.zeros(2, 3, 2).to_sparse(1)).replace("torch.", "flambeau.")
    f, t = _pair(torch)
    assert repr(f * 2) == repr(t * 2).replace("torch.", "flambeau.")
    f, t = _pair(torch, requires_grad=True)
    # a suffix that does not fit the line goes to the next, as torch's (flambeau's longer
    # name pushes this one past 80 columns where torch's fits)
    assert repr(f.coalesce()).endswith("layout=flambeau.sparse_coo,\n"
                                       "       grad_fn=<CoalesceBackward0>)")


@pytest.mark.parametrize("indices, values, size, message", [
    ([[0, 5]], [1.0, 2.0], (3,), "size is inconsistent with indices: for dim 0, size is 3 "
                                  "but found index 5"),
    ([[0, -1]], [1.0, 2.0], (3,), "found negative index -1 for dim 0"),
    ([[0, -1]], [1.0, 2.0], None, "found negative index -1 for dim 0"),
    ([[[0, 1]]], [1.0, 2.0], (3,), r"indices must be sparse_dim x nnz, but got: \[1, 1, 2\]"),
    ([[0, 1]], [1.0, 2.0, 3.0], (3,), "indices and values must have same nnz, but got nnz "
                                      "from indices: 2, nnz from values: 3"),
    ([0, 1], [1.0, 2.0], (3,), "indices must be sparse_dim x nnz"),
    ([[0, 1]], [1.0, 2.0], (3, 3), "'len\\(size\\) == sparse_dim \\+ dense_dim' is not "
                                   "satisfied: len\\(size\\) = 2, sparse_dim = 1, dense_dim = 0"),
    ([[0, 1]], [[1.0], [2.0]], (3, 2), r"values have dense dims \(1,\) but size"),
    ([[0, 1]], 1.0, (3,), "indices and values must have same nnz, .* 0-d values"),
    ([[True, False]], [1.0, 2.0], (3,), "indices must be an int64 tensor, got flambeau.bool"),
])
def test_construction_errors(indices, values, size, message):
    with pytest.raises(RuntimeError, match="^sparse_coo_tensor\\(\\): " + message):
        flambeau.sparse_coo_tensor(indices, values, size)


def test_construction_errors_show_shapes_and_checks_can_be_skipped():
    with pytest.raises(RuntimeError, match=r"indices of shape \(1, 2\), size \(3,\)"):
        flambeau.sparse_coo_tensor([[0, 5]], [1.0, 2.0], (3,))
    s = flambeau.sparse_coo_tensor([[0, 5]], [1.0, 2.0], (3,), check_invariants=False)
    assert s._nnz() == 2
    with pytest.raises(TypeError, match="must be strided tensors"):
        flambeau.sparse_coo_tensor(flambeau.eye(2).to_sparse(), [1.0])


@parity
def test_construction_parity(torch):
    f, t = _pair(torch, size=None)
    assert f.shape == t.shape
    _same(f, t)
    f, t = _pair(torch, is_coalesced=True, indices=[[0, 1, 2], [0, 0, 2]], values=V[:3])
    assert f.is_coalesced() == t.is_coalesced()


def test_to_sparse_of_dense_and_errors():
    d = flambeau.tensor(DENSE)
    s = d.to_sparse()
    assert s.is_coalesced() and s._nnz() == 3 and d.to_sparse_coo()._nnz() == 3
    assert s.to_sparse() is s and s.to_sparse_coo() is s and d.to_dense() is d
    assert d.sparse_dim() == 0 and d.dense_dim() == 2
    with pytest.raises(RuntimeError, match=r"sparse_dim argument must be in \[0,2\] range, "
                                           "but 3 is given"):
        d.to_sparse(3)
    with pytest.raises(RuntimeError, match="conversion from Sparse to Sparse with sparse_dim"):
        s.to_sparse(1)
    with pytest.raises(RuntimeError, match="is_coalesced expected sparse coordinate tensor "
                                           "layout but got Strided"):
        d.is_coalesced()
    for name in ("indices", "values", "coalesce", "_indices", "_values"):
        with pytest.raises(RuntimeError, match=f"{name} expected sparse coordinate tensor"):
            getattr(d, name)()
    with pytest.raises(NotImplementedError, match="_nnz: a strided tensor"):
        d._nnz()


def test_zeros_empty_and_zeros_like_make_empty_sparse_tensors():
    z = flambeau.zeros(2, 3, layout=flambeau.sparse_coo, dtype=flambeau.float64,
                       requires_grad=True)
    assert z.is_sparse and z.shape == (2, 3) and z._nnz() == 0 and z.sparse_dim() == 2
    assert z.dtype == flambeau.float64 and z.requires_grad and z.is_coalesced()
    np.testing.assert_array_equal(z.to_dense().detach().cpu().numpy(), np.zeros((2, 3)))
    e = flambeau.empty((), layout=flambeau.sparse_coo)
    assert e.is_sparse and e.shape == () and e.dtype == flambeau.get_default_dtype()
    like = flambeau.zeros_like(flambeau.ones(2, 3, dtype=flambeau.int32),
                               layout=flambeau.sparse_coo)
    assert like.is_sparse and like.dtype == flambeau.int32 and like._indices().shape == (2, 0)
    assert flambeau.zeros_like(flambeau.ones(2, 3).to_sparse()).is_sparse  # layout kept
    one = flambeau.sparse_coo_tensor([[0], [1]], [1.0], (2, 2))
    assert one.is_coalesced()  # zero or one entry counts as coalesced, as torch's
    assert not flambeau.sparse_coo_tensor([[0], [1]], [1.0], (2, 2),
                                          is_coalesced=False).is_coalesced()


@parity
def test_empty_sparse_creation_parity(torch):
    for make in (lambda m: m.zeros(2, 3, layout=m.sparse_coo),
                 lambda m: m.empty(4, layout=m.sparse_coo),
                 lambda m: m.zeros_like(m.ones(2, 2).to_sparse()),
                 lambda m: m.sparse_coo_tensor([[0], [1]], [1.0], (2, 2)),
                 lambda m: m.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 2.0], (2, 2))):
        ours, theirs = make(flambeau), make(torch)
        assert (ours.is_sparse, tuple(ours.shape), ours._nnz(), ours.sparse_dim(),
                ours.is_coalesced()) == (theirs.is_sparse, tuple(theirs.shape), theirs._nnz(),
                                         theirs.sparse_dim(), theirs.is_coalesced())


def test_other_creation_functions_refuse_the_sparse_layout():
    with pytest.raises(NotImplementedError, match=r"ones\(\): layout=flambeau.sparse_coo is "
                                                  "not supported by creation functions"):
        flambeau.ones(2, layout=flambeau.sparse_coo)
    with pytest.raises(TypeError, match="only flambeau.strided or, for sparse tensors"):
        flambeau.zeros(2, layout="sparse")


def test_copies_devices_and_dtypes():
    s = flambeau.sparse_coo_tensor(I, V, (3, 3))
    assert s.to(s.device) is s and s.cpu().device.type == "cpu"
    d = s.double()
    assert d.is_sparse and d.dtype is flambeau.float64
    assert s.to(flambeau.int64).dtype is flambeau.int64
    c = s.clone()
    c._data.values[0] = 100.0
    assert s._values().cpu().numpy()[0] == 1.0
    r = flambeau.sparse_coo_tensor(I, V, (3, 3), requires_grad=True)
    assert r.requires_grad and r.is_leaf and not r.detach().requires_grad
    assert r.detach().is_sparse and not r.data.requires_grad
    assert flambeau.sparse_coo_tensor(I, V, (3, 3)).requires_grad_().requires_grad
    for copied in (copy.deepcopy(r), pickle.loads(pickle.dumps(r))):
        assert copied.is_sparse and copied.requires_grad and copied._nnz() == 4
        assert copied._data.values is not r._data.values
        np.testing.assert_array_equal(copied.detach().to_dense().cpu().numpy(), DENSE)
    np.testing.assert_array_equal(s.zero_().to_dense().cpu().numpy(), np.zeros((3, 3)))


# ------------------------------------------------------------------ arithmetic


@parity
def test_arithmetic_parity(torch):
    f, t = _pair(torch)
    fd, td = flambeau.tensor(DENSE) + 1, torch.tensor(DENSE) + 1
    g, u = _pair(torch, indices=[[0, 2], [1, 2]], values=[5.0, 6.0])
    _same(f + g, t + u)
    _same(f - g, t - u)
    _same(fd + f, td + t)
    _same(fd - f, td - t)
    _same(f * 2.5, t * 2.5)
    _same(2 * f, 2 * t)
    _same(f / 2, t / 2)
    _same(-f, -t)
    _same(f * fd, t * td)
    _same(fd * f, td * t)
    _same(f * g, t * u)
    _same(f.t(), t.t())
    _same(f.transpose(0, 1), t.transpose(0, 1))
    _same(f.add(g, alpha=2), t.add(u, alpha=2))
    _same(flambeau.eye(3) + f.long(), torch.eye(3) + t.long())


@parity
def test_dense_functions_with_a_sparse_operand_parity(torch):
    f, t = _pair(torch)
    fd, td = flambeau.tensor(DENSE) + 1, torch.tensor(DENSE) + 1
    _same(flambeau.add(fd, f), torch.add(td, t))
    _same(flambeau.sub(fd, f), torch.sub(td, t))
    _same(fd.add(f), td.add(t))
    _same(flambeau.add(fd, f, alpha=2), torch.add(td, t, alpha=2))
    _same(fd.add(f, alpha=-1.5), td.add(t, alpha=-1.5))
    _same(flambeau.sub(fd, f, alpha=3), torch.sub(td, t, alpha=3))
    g, u = _pair(torch, indices=[[0, 2], [1, 2]], values=[5.0, 6.0])
    _same(flambeau.add(f, g, alpha=2), torch.add(t, u, alpha=2))
    for fn in (lambda: flambeau.add(f, fd, alpha=2), lambda: flambeau.add(f, fd),
               lambda: flambeau.sub(f, fd)):  # torch's error for sparse + dense
        with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported. Use "
                                               r"add\(dense, sparse\) instead."):
            fn()
    _same(fd.clone().add_(f), td.clone().add_(t))
    _same(fd.clone().sub_(f), td.clone().sub_(t))
    with flambeau.no_grad(), torch.no_grad():  # an optimizer's step with a sparse gradient
        _same(fd.clone().add_(f, alpha=-0.5), td.clone().add_(t, alpha=-0.5))
    with pytest.raises(RuntimeError, match="add_: result type flambeau.float32 can't be cast "
                                           "to the desired output type flambeau.int64"):
        flambeau.ones(3, 3, dtype=flambeau.int64).add_(f)
    got, want = [], []
    for lib, out in ((flambeau, got), (torch, want)):
        w = lib.ones(3, 3, requires_grad=True)
        v = lib.tensor(V, requires_grad=True)
        y = lib.add(w * 2, lib.sparse_coo_tensor(lib.tensor(I), v, (3, 3)))
        (y * lib.arange(9.0).reshape(3, 3)).sum().backward()
        out += [y, w.grad, v.grad]
        w.grad = v.grad = None  # and through alpha, which scales the sparse operand
        y = lib.sub(w, lib.sparse_coo_tensor(lib.tensor(I), v, (3, 3)), alpha=2.5)
        (y * lib.arange(9.0).reshape(3, 3)).sum().backward()
        out += [y, w.grad, v.grad]
    for g, w in zip(got, want):
        _same(g, w)


@parity
def test_sum_parity(torch):
    f, t = _pair(torch)
    _same(flambeau.sum(f), torch.sum(t))
    _same(f.sum(), t.sum())
    for dim in (0, 1, (0, 1)):
        _same(flambeau.sparse.sum(f, dim), torch.sparse.sum(t, dim))
    _same(f.sum(0), t.sum(0))
    fh = flambeau.sparse_coo_tensor([[0, 1, 0]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], (2, 2))
    th = torch.sparse_coo_tensor(torch.tensor([[0, 1, 0]]),
                                 torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), (2, 2))
    for dim in (0, 1):
        _same(flambeau.sparse.sum(fh, dim), torch.sparse.sum(th, dim))


@parity
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_parity(torch, name):
    for dim in (0, 1, -1):
        got, want = [], []
        for lib, out in ((flambeau, got), (torch, want)):
            s = lib.sparse_coo_tensor(lib.tensor(I), lib.tensor(V), (3, 3), requires_grad=True)
            y = getattr(lib.sparse, name)(s, dim)
            (y.to_dense() * lib.arange(9.0).reshape(3, 3)).sum().backward()
            out += [y, s.grad]
        for g, w in zip(got, want):
            _same(g, w)
        assert repr(got[0]).split("values=")[0] == repr(want[0]).split("values=")[0].replace(
            "torch.", "flambeau.")
        assert type(got[0].grad_fn).__name__ == type(want[0].grad_fn).__name__
    fh = flambeau.sparse_coo_tensor([[0, 1, 0]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], (2, 2))
    th = torch.sparse_coo_tensor(torch.tensor([[0, 1, 0]]),
                                 torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), (2, 2))
    for dim in (0, 1):
        _same(getattr(flambeau.sparse, name)(fh, dim), getattr(torch.sparse, name)(th, dim))
    f, t = _pair(torch)
    assert getattr(flambeau.sparse, name)(f, 1, dtype=flambeau.float64).dtype is \
        flambeau.float64
    with pytest.raises(RuntimeError, match=f"sparse.{name}: expected a floating point tensor"):
        getattr(flambeau.sparse, name)(f.long(), 1)


def test_arithmetic_errors():
    s = flambeau.sparse_coo_tensor(I, V, (3, 3))
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported. Use "
                                           r"add\(dense, sparse\) instead."):
        s + flambeau.ones(3, 3)
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
        s + 1
    with pytest.raises(RuntimeError, match=r"expected sizes of the sparse operands to match"):
        s + flambeau.sparse_coo_tensor([[0]], [1.0], (2,))
    with pytest.raises(RuntimeError, match=r"mul: expected sizes of the sparse operands"):
        s * flambeau.sparse_coo_tensor([[0]], [1.0], (2,))
    with pytest.raises(NotImplementedError, match="broadcasting is not supported"):
        s * flambeau.ones(3)
    with pytest.raises(NotImplementedError, match="a number divided by a sparse tensor"):
        2 / s
    with pytest.raises(RuntimeError, match=r"t\(\) expects a tensor with <= 2 dimensions"):
        flambeau.zeros(2, 2, 2).to_sparse().t()
    with pytest.raises(RuntimeError, match="cannot swap a sparse dim with a dense dim"):
        flambeau.zeros(2, 2).to_sparse(1).transpose(0, 1)
    with pytest.raises(NotImplementedError, match="sum: keepdim=True is not supported"):
        s.sum(0, keepdim=True)
    with pytest.raises(TypeError, match="sparse.sum: expected a sparse COO tensor"):
        flambeau.sparse.sum(flambeau.ones(2))


# ------------------------------------------------------------------ products


@parity
def test_products_parity(torch):
    f, t = _pair(torch)
    rng = np.random.default_rng(0)
    b = rng.standard_normal((3, 4)).astype(np.float32)
    fb, tb = flambeau.tensor(b), torch.tensor(b)
    fa, ta = flambeau.tensor(b.T.copy()), torch.tensor(b.T.copy())
    _same(flambeau.mm(f, fb), torch.mm(t, tb))
    _same(flambeau.spmm(f, fb), torch.spmm(t, tb))
    dense = (flambeau.tensor(b.T.copy()), flambeau.tensor(b)), (torch.tensor(b.T.copy()),
                                                                 torch.tensor(b))
    for name in ("spmm", "dsmm"):  # two strided matrices: their plain product, as torch's
        _same(getattr(flambeau, name)(*dense[0]), getattr(torch, name)(*dense[1]))
    _same(flambeau.sparse.mm(f, fb), torch.sparse.mm(t, tb))
    _same(f @ fb, t @ tb)
    _same(flambeau.matmul(f, fb), torch.matmul(t, tb))
    _same(fa @ f, ta @ t)
    _same(flambeau.mm(fa, f), torch.mm(ta, t))
    _same(f @ f, t @ t)
    _same(flambeau.mm(f, f.t()), torch.mm(t, t.t()))
    _same(f.mm(fb), t.mm(tb))
    _same(f.matmul(flambeau.ones(3)), t.matmul(torch.ones(3)))
    _same(flambeau.ones(3) @ f, torch.ones(3) @ t)  # a vector on the left: a one-row matrix
    for mm in (lambda lib, s: lib.mm(s, lib.ones(3)), lambda lib, s: s.mm(lib.ones(3)),
               lambda lib, s: lib.sparse.mm(s, lib.ones(3))):  # mm takes no vector, as torch's
        with pytest.raises((RuntimeError, IndexError)):
            mm(torch, t)
        with pytest.raises(RuntimeError, match=r"mm: expected 2-D tensors, got shapes "
                                               r"\(3, 3\) and \(3,\)"):
            mm(flambeau, f)
    c = rng.standard_normal((3, 4)).astype(np.float32)
    fc, tc = flambeau.tensor(c), torch.tensor(c)
    _same(flambeau.addmm(fc, f, fb), torch.addmm(tc, t, tb))
    _same(flambeau.sparse.addmm(fc, f, fb, beta=2, alpha=3),
          torch.sparse.addmm(tc, t, tb, beta=2, alpha=3))


def test_product_errors():
    s = flambeau.sparse_coo_tensor(I, V, (3, 3))
    with pytest.raises(RuntimeError, match=r"mm: shapes \(3, 3\) and \(2, 2\) cannot be "
                                           r"multiplied \(3 != 2\)"):
        flambeau.mm(s, flambeau.ones(2, 2))
    with pytest.raises(RuntimeError, match="expected both arguments to have the same dtype"):
        flambeau.spmm(s, flambeau.ones(3, 2, dtype=flambeau.float64))
    with pytest.raises(RuntimeError, match="scalar values expected"):
        flambeau.mm(flambeau.zeros(2, 2).to_sparse(1), flambeau.ones(2, 2))
    with pytest.raises(RuntimeError, match="addmm_sparse_dense: expected strided result"):
        flambeau.sparse.addmm(s, s, flambeau.ones(3, 2))
    with pytest.raises(TypeError, match="sparse.mm: expected a sparse COO, CSR or CSC tensor"):
        flambeau.sparse.mm(flambeau.ones(2, 2), s)
    with pytest.raises(NotImplementedError, match="reduce='max' is not supported"):
        flambeau.sparse.mm(s, flambeau.ones(3, 2), "max")


# ------------------------------------------------------------------ autograd


def _grads(lib, fn, values_grad=False):
    """``fn(s, d).sum().backward()`` for a fresh sparse leaf ``s`` (or values leaf) and dense
    ``d``: (s.grad or values.grad, d.grad)."""
    d = lib.tensor([[0.5, 1.0], [2.0, -1.0], [1.5, 3.0]], requires_grad=True)
    v = lib.tensor(V, requires_grad=values_grad)
    s = lib.sparse_coo_tensor(lib.tensor(I), v, (3, 3))
    if not values_grad:
        s.requires_grad_()
    fn(lib, s, d).sum().backward()
    return (v.grad if values_grad else s.grad), d.grad


PRODUCTS = {
    "mm": lambda lib, s, d: lib.mm(s, d),
    "spmm": lambda lib, s, d: lib.spmm(s, d),
    "sparse.mm": lambda lib, s, d: lib.sparse.mm(s, d),
    "matmul": lambda lib, s, d: s @ d,
    "dense@sparse": lambda lib, s, d: d.t() @ s,
    "addmm": lambda lib, s, d: lib.addmm(d, s, d),
    "to_dense": lambda lib, s, d: s.to_dense() * d.sum(),
    "sparse.sum": lambda lib, s, d: lib.sparse.sum(s) * d.sum(),
    "coalesce.values": lambda lib, s, d: s.coalesce().values() * d.sum(),
    "mul dense": lambda lib, s, d: (s * lib.ones(3, 3)).to_dense() * d.sum(),
    "add": lambda lib, s, d: lib.ones(3, 3) + s * 2,
    "t": lambda lib, s, d: lib.mm(s.t(), d),
}


@parity
@pytest.mark.parametrize("op", sorted(PRODUCTS))
@pytest.mark.parametrize("values_grad", [False, True])
def test_gradients_parity(torch, op, values_grad):
    if op == "mul dense" and not values_grad:
        pytest.skip("torch's sparse * dense leaves a sparse leaf without a gradient")
    got = _grads(flambeau, PRODUCTS[op], values_grad)
    want = _grads(torch, PRODUCTS[op], values_grad)
    for g, w in zip(got, want):
        if w is None:
            assert g is None
            continue
        assert g.is_sparse == w.is_sparse, op  # torch's layout of the leaf's .grad
        np.testing.assert_allclose(_np(g), w.to_dense().numpy(), rtol=1e-5, atol=1e-6)


@parity
def test_gradient_accumulation_parity(torch):
    def run(lib, order):
        s = lib.sparse_coo_tensor(lib.tensor(I), lib.tensor(V), (3, 3), requires_grad=True)
        d = lib.ones(3, 2)
        for kind in order:
            out = lib.mm(s, d) if kind == "mm" else lib.sparse.mm(s, d)
            out.sum().backward()
        return s.grad

    for order in (["sparse", "sparse"], ["mm", "sparse"], ["sparse", "mm"], ["mm", "mm"]):
        got, want = run(flambeau, order), run(torch, order)
        assert got.is_sparse == want.is_sparse, order
        np.testing.assert_allclose(_np(got), want.to_dense().numpy())


def test_gradcheck_float64():
    rng = np.random.default_rng(1)
    idx = flambeau.tensor(I)
    v = flambeau.tensor(rng.standard_normal(4), dtype=flambeau.float64, requires_grad=True)
    d = flambeau.tensor(rng.standard_normal((3, 2)), dtype=flambeau.float64,
                        requires_grad=True)

    def through_products(v, d):
        s = flambeau.sparse_coo_tensor(idx, v, (3, 3))
        return (flambeau.mm(s, d) + flambeau.sparse.mm(s, d) + d.t().mm(s).t()
                + (s * 3).to_dense().mm(d) + flambeau.sparse.sum(s) * d)

    assert flambeau.autograd.gradcheck(through_products, (v, d))


# ------------------------------------------------------------------ refusing other ops


# Every backend gives flambeau's refusal, naming the op: NumPy through the storage's
# protocols, CuPy (and strict testdev) through the op path's handler of the backend's own
# TypeError ("Unsupported type"): Function.apply and the ops that call the backend directly.
_REFUSED = [
    (lambda s: flambeau.exp(s), "exp"),
    (lambda s: s.exp(), "exp"),
    (lambda s: s.sin(), "sin"),
    (lambda s: flambeau.tanh(s.detach().requires_grad_()), "tanh"),
    (lambda s: flambeau.relu(s), "relu"),
    (lambda s: s.reshape(9), "reshape"),
    (lambda s: s[0], "getitem"),
    (lambda s: s.mean(), "mean"),
    (lambda s: s == s, "eq"),
    (lambda s: flambeau.lt(s, 1.0), "lt"),
    (lambda s: flambeau.isnan(s), "isnan"),
    (lambda s: flambeau.logical_not(s), "logical_not"),
    (lambda s: flambeau.signbit(s), "signbit"),
    (lambda s: flambeau.floor_divide(s, 2.0), "floor_divide"),
    (lambda s: flambeau.remainder(s, 2.0), "remainder"),
    (lambda s: flambeau.fmod(s, 2.0), "fmod"),
    (lambda s: s.clamp(0.0, 1.0), "clamp"),
    (lambda s: s ** 2, "pow"),
    (lambda s: s.abs(), "abs"),
    (lambda s: flambeau.where(flambeau.ones(3, 3) > 0, s, 0.0), "where"),
    (lambda s: flambeau.poisson(s), "poisson"),
    (lambda s: flambeau.cat([s, s]), "cat"),
    (lambda s: flambeau.maximum(flambeau.ones(3, 3), s), "maximum"),
    (lambda s: s.max(), "max"),
]


@pytest.mark.parametrize("op, name", _REFUSED)
def test_other_ops_refuse_sparse(op, name):
    s = flambeau.sparse_coo_tensor(I, V, (3, 3))
    with pytest.raises(NotImplementedError) as info:
        op(s)
    message = str(info.value)
    assert message.startswith(f"{name}: not supported for sparse tensors (layout "
                              "flambeau.sparse_coo)"), message
    assert ".to_dense()" in message


def test_refused_attributes_and_host_conversions():
    s = flambeau.sparse_coo_tensor(I, V, (3, 3))
    assert not hasattr(s._data, "astype") and hasattr(s._data, "shape")
    with pytest.raises(TypeError, match="can't convert Sparse layout tensor to numpy. Use "
                                        r"Tensor.to_dense\(\) first."):
        s.numpy()
    with pytest.raises(RuntimeError, match="tolist: a sparse tensor has no strided data"):
        s.tolist()
    with pytest.raises(RuntimeError, match="a Tensor with 9 elements cannot be converted"):
        s.item()
    with pytest.raises(NotImplementedError, match="not supported for sparse tensors"):
        np.asarray(s._data)
    assert not s.is_contiguous()
    with pytest.raises(RuntimeError, match="sparse in-place ops on tensors that require grad"):
        flambeau.sparse_coo_tensor(I, V, (3, 3), requires_grad=True).mul_(2)
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
        s.add_(flambeau.ones(3, 3))
    with pytest.raises(RuntimeError, match=r"add: a dense tensor of shape \(3,\) plus a sparse"):
        flambeau.ones(3) + s
    t = flambeau.sparse_coo_tensor(I, V, (3, 3))
    t.mul_(2)
    t += t
    np.testing.assert_array_equal(t.to_dense().cpu().numpy(), np.array(DENSE) * 4)


# ------------------------------------------------------------------ save / load


def test_save_load_round_trip():
    s = flambeau.sparse_coo_tensor(I, V, (3, 3), dtype=flambeau.float64)
    buf = io.BytesIO()
    flambeau.save({"adj": s, "w": flambeau.ones(2)}, buf)
    buf.seek(0)
    back = flambeau.load(buf)
    adj = back["adj"]
    assert adj.is_sparse and adj.dtype is flambeau.float64 and not adj.is_coalesced()
    np.testing.assert_array_equal(adj._indices().cpu().numpy(), I)
    np.testing.assert_array_equal(adj.to_dense().cpu().numpy(), DENSE)
    r = flambeau.sparse_coo_tensor(I, V, (3, 3), requires_grad=True)
    buf = io.BytesIO()
    flambeau.save([r, r], buf)
    buf.seek(0)
    a, b = flambeau.load(buf)
    assert a is b and a.requires_grad and a.is_sparse and a._nnz() == 4


@parity
def test_torch_saved_sparse_loads(torch, tmp_path):
    t = torch.sparse_coo_tensor(torch.tensor(I), torch.tensor(V), (3, 3))
    path = tmp_path / "sparse.pt"
    torch.save({"adj": t, "c": t.coalesce()}, path)
    back = flambeau.load(path)
    assert back["adj"].is_sparse and not back["adj"].is_coalesced()
    assert back["c"].is_coalesced()
    _same(back["adj"], t)
    _same(back["c"], t)
    t = torch.sparse_coo_tensor(torch.tensor(I), torch.tensor(V), (3, 3), requires_grad=True)
    torch.save([t, t], path)
    a, b = flambeau.load(path)
    ta, _ = torch.load(path)
    assert a is b and a.is_sparse and a.requires_grad == ta.requires_grad


# ------------------------------------------------------------------ a GCN layer


def _gcn_loss(lib, x, adj_i, adj_v, w1, w2, labels):
    adj = lib.sparse_coo_tensor(lib.tensor(adj_i), lib.tensor(adj_v), (x.shape[0],) * 2)
    adj = lib.eye(x.shape[0]) + adj
    deg = lib.diag(adj.sum(1).pow(-0.5)).to_sparse()
    norm = (deg @ adj @ deg).to_sparse()
    feats = x.to_sparse()
    h = lib.spmm(norm, lib.mm(feats, w1)).relu()
    out = lib.sparse.mm(norm, h.mm(w2)).log_softmax(1)
    return -out.gather(1, labels[:, None]).mean()


@parity
def test_gcn_loss_and_gradients_match_torch(torch):
    rng = np.random.default_rng(3)
    n, f, h, c = 12, 6, 5, 3
    x = (rng.random((n, f)) < 0.3).astype(np.float32)
    edges = rng.integers(0, n, (2, 30))
    vals = np.ones(30, dtype=np.float32)
    w1 = rng.standard_normal((f, h)).astype(np.float32)
    w2 = rng.standard_normal((h, c)).astype(np.float32)
    labels = rng.integers(0, c, n)
    results = []
    for lib in (flambeau, torch):
        p1 = lib.tensor(w1, requires_grad=True)
        p2 = lib.tensor(w2, requires_grad=True)
        loss = _gcn_loss(lib, lib.tensor(x), edges, vals, p1, p2, lib.tensor(labels))
        loss.backward()
        results.append((loss.item(), _np(p1.grad) if lib is flambeau else p1.grad.numpy(),
                        _np(p2.grad) if lib is flambeau else p2.grad.numpy()))
    (lf, g1f, g2f), (lt, g1t, g2t) = results
    assert abs(lf - lt) < 1e-5
    np.testing.assert_allclose(g1f, g1t, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(g2f, g2t, rtol=1e-4, atol=1e-6)


def test_gcn_layer_trains():
    rng = np.random.default_rng(4)
    n = 10
    adj = flambeau.sparse_coo_tensor(rng.integers(0, n, (2, 25)), flambeau.ones(25),
                                     (n, n)).coalesce()
    x = flambeau.tensor(rng.standard_normal((n, 4)), dtype=flambeau.float32)
    w = flambeau.zeros(4, 2, requires_grad=True)
    target = flambeau.tensor(rng.standard_normal((n, 2)), dtype=flambeau.float32)
    losses = []
    for _ in range(30):
        loss = ((flambeau.spmm(adj, x @ w) - target) ** 2).mean()
        w.grad = None
        loss.backward()
        with flambeau.no_grad():
            w -= 0.01 * w.grad
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_dense_add_inplace_a_sparse_tensor_without_sparse_dims():
    # indices of shape (0, nnz): its one nonzero is at the scalar's one position
    s = flambeau.tensor(3.0).to_sparse()
    d = flambeau.tensor(1.0)
    d.add_(s)
    assert d.item() == 4.0
    d.sub_(s, alpha=2)
    assert d.item() == -2.0


@pytest.mark.usefixtures("cpu_default")
def test_dense_plus_sparse_scatters_through_the_backends_kernel(monkeypatch):
    # every way of adding a sparse tensor into a dense one takes the backend's index_add_at
    # (CuPy's atomics on a GPU), not NumPy's ufunc.at: count the kernel's calls
    s = flambeau.sparse_coo_tensor(I, V, (3, 3))
    kernels = s._device._backend.kernels  # the tensors' own (a test may reload the registry)
    real, calls = kernels["index_add_at"], []

    def counting(target, index, values):
        calls.append(index.shape)
        real(target, index, values)

    monkeypatch.setitem(kernels, "index_add_at", counting)
    d, sd = np.array(DENSE), s.to_dense().numpy()
    calls.clear()
    for got, want in ((flambeau.add(flambeau.tensor(DENSE), s), d + sd),
                      (flambeau.sub(flambeau.tensor(DENSE), s, alpha=2), d - 2 * sd),
                      (flambeau.tensor(DENSE).add_(s), d + sd),
                      (flambeau.tensor(DENSE).sub_(s), d - sd),
                      (flambeau.tensor(DENSE).add_(s, alpha=0.5), d + 0.5 * sd)):
        np.testing.assert_allclose(got.cpu().numpy(), want)
    assert calls == [(4,)] * 5


@parity
def test_sparse_mask_smm_and_hspmm_match_torch(torch):
    idx, vals = [[0, 0, 2, 0], [0, 1, 1, 0]], [1.0, -1.0, 2.0, 1.0]  # (0, 0) twice
    d = [[1.0, 1.0], [2.0, 0.0]]
    got = []
    for lib in (flambeau, torch):
        s = lib.sparse_coo_tensor(lib.tensor(idx), lib.tensor(vals), (3, 2))
        x = lib.arange(6.0).reshape(3, 2).requires_grad_()
        m = x.sparse_mask(s)  # the mask's indices as they are, duplicates too
        (m.to_dense() * lib.arange(6.0).reshape(3, 2)).sum().backward()
        got.append([m, x.grad, lib.smm(s, lib.tensor(d)), lib.hspmm(s, lib.tensor(d)),
                    s.smm(lib.tensor(d)),
                    lib.ones(3, 2).to_sparse().sparse_mask(s)])
    for ours, theirs in zip(*got):
        assert ours.is_sparse == theirs.is_sparse
        if theirs.is_sparse:
            assert ours.is_coalesced() == theirs.is_coalesced()
            assert ours.sparse_dim() == theirs.sparse_dim()
            np.testing.assert_array_equal(ours._indices().cpu().numpy(),
                                          theirs._indices().numpy())
            np.testing.assert_allclose(ours._values().detach().cpu().numpy(),
                                       theirs._values().detach().numpy())
        np.testing.assert_allclose(_np(ours), _np(theirs))
    s = flambeau.sparse_coo_tensor(idx, vals, (3, 2))
    with pytest.raises(RuntimeError, match=r"sparse_mask\(\): operands have incompatible "
                                           r"sizes; self has size \[2, 2\] but mask has size "
                                           r"\[3, 2\]"):
        flambeau.ones(2, 2).sparse_mask(s)
    with pytest.raises(NotImplementedError, match="sparse_mask: the mask must be a sparse "
                                                  "tensor"):
        flambeau.ones(2, 2).sparse_mask(flambeau.ones(2, 2))
    out = flambeau.zeros(1).to_sparse()
    assert flambeau.hspmm(s, flambeau.tensor(d), out=out) is out
    got_out = torch.hspmm(torch.sparse_coo_tensor(idx, vals, (3, 2)), torch.tensor(d),
                          out=torch.zeros(1).to_sparse())
    np.testing.assert_array_equal(_np(out), _np(got_out))
    with pytest.raises(RuntimeError, match="hspmm: out must be a sparse COO tensor"):
        flambeau.hspmm(s, flambeau.tensor(d), out=flambeau.zeros(3, 2))
    with pytest.raises(RuntimeError, match="hspmm: Argument #3: Expected dim 0 size 2, got 3"):
        flambeau.hspmm(s, flambeau.ones(3, 2))
    with pytest.raises(NotImplementedError, match="smm: expected a sparse COO matrix"):
        flambeau.smm(flambeau.ones(2, 2), flambeau.ones(2, 2))


def test_hspmm_and_smm_are_differentiable():
    # torch has no derivative of hspmm: flambeau's is that of the product it keeps rows of
    s = flambeau.sparse_coo_tensor([[0, 2], [1, 0]], [1.0, 2.0], (3, 2))
    d = flambeau.tensor([[1.0, 1.0], [2.0, 0.0]], requires_grad=True)
    for fn in (flambeau.hspmm, flambeau.smm):
        d.grad = None
        fn(s, d).to_dense().sum().backward()
        np.testing.assert_allclose(d.grad.cpu().numpy(), [[2.0, 2.0], [1.0, 1.0]])


def _cupy_like(self, *args, **kwargs):
    raise TypeError(f"Unsupported type {type(self)}")


@pytest.mark.usefixtures("cpu_default")
@pytest.mark.parametrize("layout", ["coo", "csr"])
@pytest.mark.parametrize("op, name", _REFUSED)
def test_ops_refuse_sparse_where_the_backend_refuses_with_a_type_error(monkeypatch, op, name,
                                                                         layout):
    # CuPy's functions know no NumPy protocol: a sparse storage is an "Unsupported type"
    # TypeError there, which the op path turns into the refusal naming the op
    from flambeau._sparse import RefusingStorage

    for protocol in ("__array_ufunc__", "__array_function__", "__array__"):
        monkeypatch.setattr(RefusingStorage, protocol, _cupy_like)
    monkeypatch.setattr(flambeau._sparse.COOData, "__array_ufunc__", _cupy_like)
    s = flambeau.sparse_coo_tensor(I, V, (3, 3))
    if layout == "csr":
        s = s.to_sparse_csr()
    with pytest.raises(NotImplementedError) as info:
        op(s)
    assert str(info.value).startswith(f"{name}: not supported for sparse tensors (layout "
                                      f"flambeau.sparse_{layout}); convert with .to_dense() "
                                      "first"), str(info.value)

    class Failing(flambeau.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            raise TypeError("Unsupported type of its own")

    with pytest.raises(TypeError, match="Unsupported type of its own"):  # no sparse input:
        Failing.apply(flambeau.ones(1))  # the error goes on


def test_ops_refuse_sparse_on_strict_testdev():
    # the device that emulates CuPy, in a process of its own (strictness is read at start);
    # core's own session runs without the test plugin that provides it
    pytest.importorskip("flambeau_testplugin")
    code = ("import flambeau\n"
            "s = flambeau.eye(2, device='testdev').to_sparse()\n"
            "for op in (flambeau.exp, flambeau.isnan, lambda t: t.sin(), lambda t: t < 1):\n"
            "    try:\n"
            "        op(s)\n"
            "    except NotImplementedError as e:\n"
            "        print(str(e).partition(';')[0])\n")
    env = dict(os.environ, FLAMBEAU_TESTDEV_STRICT="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=120).stdout
    layout = "(layout flambeau.sparse_coo)"
    assert out.split("\n")[:4] == [f"{op}: not supported for sparse tensors {layout}"
                                    for op in ("exp", "isnan", "sin", "lt")]


@pytest.mark.usefixtures("cpu_default")
def test_dense_plus_sparse_where_the_backend_refuses_with_a_type_error(monkeypatch):
    # CuPy's ufuncs know no __array_ufunc__ protocol: a sparse operand is an "Unsupported
    # type" TypeError there, which add, sub, add_ and sub_ must take as NumPy's refusal
    def cupy_like(self, ufunc, method, *inputs, **kwargs):
        raise TypeError(f"Unsupported type {type(self)}")

    monkeypatch.setattr(flambeau._sparse.COOData, "__array_ufunc__", cupy_like)
    s = flambeau.sparse_coo_tensor(I, V, (3, 3))
    d, sd = np.array(DENSE), np.array(s.to_dense().tolist())
    for got, want in ((flambeau.add(flambeau.tensor(DENSE), s), d + sd),
                      (flambeau.sub(flambeau.tensor(DENSE), s), d - sd),
                      (flambeau.tensor(DENSE).add_(s), d + sd),
                      (flambeau.tensor(DENSE).sub_(s, alpha=2), d - 2 * sd),
                      (flambeau.tensor(DENSE).add_(s, alpha=0.5), d + 0.5 * sd)):
        np.testing.assert_allclose(got.cpu().numpy(), want)
    with pytest.raises(TypeError):  # a TypeError of no sparse operand stays one
        flambeau.add(flambeau.tensor(DENSE), "text")
