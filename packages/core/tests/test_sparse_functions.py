"""torch.sparse's switches and helpers and the sparse functions of torch's namespace:
``check_sparse_tensor_invariants``, ``as_sparse_gradcheck``, the ``*_copy`` functions of the
sparse parts, ``sspaddmm``/``saddmm`` (function and method), ``dsmm`` and ``hsmm``, against
PyTorch where torch computes them."""

import warnings

import numpy as np
import pytest

import flambeau
from flambeau.sparse import as_sparse_gradcheck, check_sparse_tensor_invariants

IDX, VALS = [[0, 1, 1], [1, 0, 2]], [1.0, 2.0, 3.0]


@pytest.fixture
def torch(cpu_default):
    torch = pytest.importorskip("torch")
    warnings.filterwarnings("ignore", "Sparse", UserWarning)
    return torch


def _np(t):
    t = t.detach()
    return (t.to_dense() if t.layout is not flambeau.strided else t).cpu().numpy()


# ------------------------------------------------------------------ invariants switch


def test_switch_context_decorator_and_calls():
    assert check_sparse_tensor_invariants.is_enabled()  # flambeau's default: on
    bad = ([[0, 5]], [1.0, 2.0], (3,))
    with check_sparse_tensor_invariants(False):
        assert not check_sparse_tensor_invariants.is_enabled()
        flambeau.sparse_coo_tensor(*bad)  # not checked
        flambeau.sparse_csr_tensor([0, 1, 1], [7], [1.0], (2, 2))
        with pytest.raises(RuntimeError, match="size is inconsistent with indices"):
            flambeau.sparse_coo_tensor(*bad, check_invariants=True)  # the argument wins
    assert check_sparse_tensor_invariants.is_enabled()
    with pytest.raises(RuntimeError, match="for dim 0, size is 3 but found index 5"):
        flambeau.sparse_coo_tensor(*bad)
    with pytest.raises(RuntimeError, match=r"`0 <= col_indices < ncols` is not satisfied."):
        flambeau.sparse_csr_tensor([0, 1, 1], [7], [1.0], (2, 2))
    flambeau.sparse_coo_tensor(*bad, check_invariants=False)

    @check_sparse_tensor_invariants(enable=False)
    def unchecked():
        return check_sparse_tensor_invariants.is_enabled()

    assert unchecked() is False and unchecked.__name__ == "unchecked"
    assert check_sparse_tensor_invariants.is_enabled()
    check_sparse_tensor_invariants.disable()
    try:
        assert not check_sparse_tensor_invariants.is_enabled()
        flambeau.sparse_coo_tensor(*bad)
    finally:
        check_sparse_tensor_invariants.enable()
    assert check_sparse_tensor_invariants.is_enabled()


def test_switch_restored_after_an_error():
    with pytest.raises(ValueError), check_sparse_tensor_invariants(False):
        raise ValueError
    assert check_sparse_tensor_invariants.is_enabled()


def test_one_instance_cannot_nest(torch):
    ours, theirs = check_sparse_tensor_invariants(), torch.sparse.check_sparse_tensor_invariants()
    message = ("This context manager instance is already activated. Use a different context "
               "manager instance for context nesting.")
    with ours, pytest.raises(RuntimeError, match=message), ours:
        pass
    with theirs, pytest.raises(RuntimeError, match=message), theirs:
        pass
    assert check_sparse_tensor_invariants.is_enabled()


# ------------------------------------------------------------------ as_sparse_gradcheck


def _x(layout=None):
    x = flambeau.tensor([[0.0, 1.0], [2.0, 3.0]], dtype=flambeau.float64).to_sparse()
    return (x if layout is None else x.to_sparse(layout=layout)).requires_grad_()


@pytest.mark.parametrize("func", [
    lambda s: s.to_sparse_csr(),
    lambda s: s.to_dense().exp(),
    lambda s: flambeau.sparse.sum(s.to_sparse_coo() * 3),
    lambda s: flambeau.sparse.mm(s, flambeau.ones(2, 3, dtype=flambeau.float64)),
])
@pytest.mark.parametrize("layout", [None, flambeau.sparse_csr])
def test_as_sparse_gradcheck_passes_correct_gradients(func, layout):
    if layout is not None and func(_x()).layout is flambeau.sparse_csr:
        pytest.skip("CSR to CSR is the identity")
    gradcheck = as_sparse_gradcheck(flambeau.autograd.gradcheck)
    assert gradcheck(func, _x(layout)) is True
    assert gradcheck(func, [_x(layout)]) is True


class _WrongGradient(flambeau.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.to_dense() * 2

    @staticmethod
    def backward(ctx, g):
        return (g * 3).sparse_mask(flambeau.eye(2, dtype=g.dtype).to_sparse())


def test_as_sparse_gradcheck_catches_a_wrong_gradient():
    gradcheck = as_sparse_gradcheck(flambeau.autograd.gradcheck)
    with pytest.raises(Exception, match="Jacobian mismatch"):
        gradcheck(_WrongGradient.apply, _x())
    assert gradcheck(_WrongGradient.apply, _x(), raise_exception=False) is False


def test_as_sparse_gradcheck_as_torch(torch):
    x = torch.tensor([[0.0, 1.0], [2.0, 3.0]], dtype=torch.float64).to_sparse()
    assert torch.sparse.as_sparse_gradcheck(torch.autograd.gradcheck)(
        lambda s: s.to_sparse_csr(), x.requires_grad_())
    assert as_sparse_gradcheck(flambeau.autograd.gradcheck)(lambda s: s.to_sparse_csr(), _x())


# ------------------------------------------------------------------ *_copy


def test_coo_copies_are_copies():
    s = flambeau.sparse_coo_tensor(IDX, VALS, (2, 3)).coalesce()
    i, v = flambeau.indices_copy(s), flambeau.values_copy(s)
    np.testing.assert_array_equal(i.cpu().numpy(), s.indices().cpu().numpy())
    np.testing.assert_array_equal(v.cpu().numpy(), VALS)
    i[0, 0] = 5
    v[0] = 7.0
    np.testing.assert_array_equal(s.indices().cpu().numpy(), [[0, 1, 1], [1, 0, 2]])
    np.testing.assert_array_equal(s.values().cpu().numpy(), VALS)


def test_values_copy_is_differentiable():
    s = flambeau.sparse_coo_tensor(IDX, VALS, (2, 3)).coalesce().requires_grad_()
    (flambeau.values_copy(s) * flambeau.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(_np(s.grad), [[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]])


@pytest.mark.parametrize("layout, parts", [
    ("csr", ["crow_indices", "col_indices", "values"]),
    ("csc", ["ccol_indices", "row_indices", "values"]),
])
def test_compressed_copies_as_torch(torch, layout, parts):
    dense = [[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]]
    ours = flambeau.tensor(dense).to_sparse(layout=getattr(flambeau, f"sparse_{layout}"))
    theirs = torch.tensor(dense).to_sparse(layout=getattr(torch, f"sparse_{layout}"))
    for part in parts:
        got = getattr(flambeau, f"{part}_copy")(ours)
        want = getattr(torch, f"{part}_copy")(theirs)
        np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())
        assert str(got.dtype).rpartition(".")[2] == str(want.dtype).rpartition(".")[2]


def test_copies_refuse_what_the_part_refuses(torch):
    with pytest.raises(RuntimeError, match="Cannot get indices on an uncoalesced tensor, "
                       r"please call .coalesce\(\) first"):
        flambeau.indices_copy(flambeau.sparse_coo_tensor([[0, 0]], [1.0, 2.0], (2,)))
    with pytest.raises(RuntimeError, match="crow_indices expected sparse row compressed tensor "
                       "layout but got SparseCsc"):
        flambeau.crow_indices_copy(flambeau.eye(2).to_sparse_csc())
    with pytest.raises(RuntimeError, match="crow_indices expected sparse row compressed tensor "
                       "layout but got SparseCsc"):
        torch.crow_indices_copy(torch.eye(2).to_sparse_csc())
    with pytest.raises(RuntimeError, match="values expected sparse coordinate tensor layout "
                       "but got Strided"):
        flambeau.values_copy(flambeau.eye(2))


def test_copy_into_out():
    out = flambeau.empty(0, dtype=flambeau.int64)
    assert flambeau.col_indices_copy(flambeau.eye(2).to_sparse_csr(), out=out) is out
    np.testing.assert_array_equal(out.cpu().numpy(), [0, 1])


# ------------------------------------------------------------------ sspaddmm and the old names


def _operands(lib):
    i = lib.sparse_coo_tensor([[0, 1], [0, 1]], [5.0, 6.0], (2, 2))
    s = lib.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 2.0], (2, 3))
    m = lib.arange(6.0).reshape(3, 2)
    return i, s, m


@pytest.mark.parametrize("kwargs", [{}, dict(beta=2, alpha=3), dict(beta=0, alpha=-1)])
def test_sspaddmm_as_torch(torch, kwargs):
    got = flambeau.sspaddmm(*_operands(flambeau), **kwargs)
    want = torch.sspaddmm(*_operands(torch), **kwargs)
    assert got.is_sparse and not got.is_coalesced() and not want.is_coalesced()
    np.testing.assert_array_equal(got._indices().cpu().numpy(), want._indices().numpy())
    np.testing.assert_array_equal(got._values().cpu().numpy(), want._values().numpy())
    i, s, m = _operands(flambeau)
    np.testing.assert_array_equal(_np(i.sspaddmm(s, m, **kwargs)), _np(got))
    np.testing.assert_array_equal(_np(flambeau.saddmm(i, s, m, **kwargs)),
                                  torch.saddmm(*_operands(torch), **kwargs).to_dense().numpy())


def test_sspaddmm_out_and_gradients():
    i, s, m = _operands(flambeau)
    out = flambeau.zeros(2, 2).to_sparse()
    assert flambeau.sspaddmm(i, s, m, out=out) is out
    np.testing.assert_array_equal(_np(out), [[7.0, 3.0], [0.0, 8.0]])
    i, s, m = (t.double().requires_grad_() for t in (i, s, m))
    gradcheck = as_sparse_gradcheck(flambeau.autograd.gradcheck)
    assert gradcheck(lambda a, b, c: flambeau.sspaddmm(a, b, c, beta=2, alpha=3), (i, s, m))


@pytest.mark.parametrize("args, message", [
    (lambda i, s, m: (i.to_dense(), s, m), "expected 'self' to have sparse layout"),
    (lambda i, s, m: (i, s.to_dense(), m), "expected 'mat1' to have sparse layout"),
    (lambda i, s, m: (i, s, m.to_sparse()), "expected 'mat2' to have strided layout"),
    (lambda i, s, m: (i.to_sparse_csr(), s, m), "expected 'self' to have sparse layout"),
    (lambda i, s, m: (flambeau.zeros(3, 3).to_sparse(), s, m),
     r"'self' of size \(3, 3\) cannot be added to the product of sizes \(2, 3\) and \(3, 2\) "
     r"\(size \(2, 2\)\)"),
    (lambda i, s, m: (i, s, flambeau.ones(4, 2)), "Argument #3: Expected dim 0 size 3, got 4"),
])
def test_sspaddmm_errors(args, message):
    with pytest.raises(RuntimeError, match=f"sspaddmm: {message}"):
        flambeau.sspaddmm(*args(*_operands(flambeau)))


def test_sspaddmm_out_must_be_sparse():
    with pytest.raises(RuntimeError, match="sspaddmm: out must be a sparse COO tensor, got "
                       "layout flambeau.strided"):
        flambeau.sspaddmm(*_operands(flambeau), out=flambeau.zeros(2, 2))


def test_dsmm_and_hsmm_as_torch(torch):
    _, s, m = _operands(flambeau)
    _, ts, tm = _operands(torch)
    np.testing.assert_array_equal(flambeau.dsmm(s, m).cpu().numpy(), torch.dsmm(ts, tm).numpy())
    got, want = flambeau.hsmm(s, m), torch.hsmm(ts, tm)
    assert got.is_sparse and got.sparse_dim() == want.sparse_dim() == 1
    np.testing.assert_array_equal(_np(got), want.to_dense().numpy())
