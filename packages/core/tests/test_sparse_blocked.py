"""Blocked sparse matrices (flambeau.sparse_bsr, sparse_bsc), against PyTorch: construction
and conversion from a strided matrix, their parts, to_dense, to COO, transpose, products
with a dense matrix and gradients through them, save/load, and the errors."""

import io
import warnings

import numpy as np
import pytest

import flambeau

DENSE = np.array([[1.0, 2.0, 0.0, 0.0, 0.0, 0.0],
                  [3.0, 4.0, 0.0, 0.0, 0.0, 7.0],
                  [0.0, 0.0, 0.0, 5.0, 0.0, 0.0],
                  [0.0, 0.0, 6.0, 0.0, 0.0, 0.0]], dtype=np.float32)
LAYOUTS = ["bsr", "bsc"]


@pytest.fixture
def torch(cpu_default):
    torch = pytest.importorskip("torch")
    warnings.filterwarnings("ignore", "Sparse", UserWarning)
    return torch


def _pair(torch, layout, blocksize=(2, 2)):
    name = f"to_sparse_{layout}"
    return (getattr(flambeau.tensor(DENSE), name)(blocksize),
            getattr(torch.tensor(DENSE), name)(blocksize))


def _same(a, b):
    np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().numpy())


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("blocksize", [(2, 2), (1, 3), (4, 1)])
def test_conversion_parts_as_torch(torch, layout, blocksize):
    ours, theirs = _pair(torch, layout, blocksize)
    assert ours.layout is getattr(flambeau, f"sparse_{layout}")
    assert ours._nnz() == theirs._nnz()
    names = ("crow_indices", "col_indices") if layout == "bsr" else ("ccol_indices",
                                                                      "row_indices")
    for name in (*names, "values"):
        _same(getattr(ours, name)(), getattr(theirs, name)())
    _same(ours.to_dense(), theirs.to_dense())
    _same(ours.to_sparse_coo().to_dense(), theirs.to_sparse_coo().to_dense())
    _same(ours.t().to_dense(), theirs.t().to_dense())
    assert ours.t().layout._name == str(theirs.t().layout).rpartition(".")[2]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_constructor_as_torch(torch, layout):
    blocks = np.arange(12.0, dtype=np.float32).reshape(3, 2, 2)
    args = ([0, 2, 3], [0, 2, 1], blocks, (4, 6) if layout == "bsr" else (6, 4))
    ours = getattr(flambeau, f"sparse_{layout}_tensor")(args[0], args[1],
                                                         flambeau.tensor(blocks), args[3])
    theirs = getattr(torch, f"sparse_{layout}_tensor")(torch.tensor(args[0]),
                                                        torch.tensor(args[1]),
                                                        torch.tensor(blocks), args[3])
    _same(ours.to_dense(), theirs.to_dense())
    inferred = getattr(flambeau, f"sparse_{layout}_tensor")(args[0], args[1],
                                                            flambeau.tensor(blocks))
    assert tuple(inferred.shape) == args[3]
    assert repr(ours).replace("flambeau", "torch") == repr(theirs)


def test_bsr_product_as_torch(torch):
    # torch 2.13's CPU kernels multiply BSR (not BSC) by a dense matrix, without backward
    x = np.arange(12.0, dtype=np.float32).reshape(6, 2)
    ours, theirs = _pair(torch, "bsr")
    _same(ours @ flambeau.tensor(x), theirs @ torch.tensor(x))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_products_and_gradients(layout):
    x = np.arange(12.0, dtype=np.float32).reshape(6, 2)
    ours = getattr(flambeau.tensor(DENSE), f"to_sparse_{layout}")((2, 2))
    np.testing.assert_array_equal((ours @ flambeau.tensor(x)).cpu().numpy(), DENSE @ x)
    np.testing.assert_array_equal((flambeau.tensor(x.T) @ ours.t()).cpu().numpy(),
                                  x.T @ DENSE.T)
    names = ("crow_indices", "col_indices") if layout == "bsr" else ("ccol_indices",
                                                                      "row_indices")
    compressed, plain = (getattr(ours, n)().cpu().numpy() for n in names)
    v = flambeau.tensor(ours.values().detach().cpu().numpy(), requires_grad=True)
    s = getattr(flambeau, f"sparse_{layout}_tensor")(compressed, plain, v, DENSE.shape)
    weight = DENSE + 1
    ((s.to_dense() * flambeau.tensor(weight)).sum() + (s @ flambeau.tensor(x)).sum()
     ).backward()
    # d loss / d dense = weight + each column's row sum of x, read at each block
    wanted = weight + x.sum(1)[None, :]
    for major in range(len(compressed) - 1):
        for k in range(compressed[major], compressed[major + 1]):
            r, c = (major, plain[k]) if layout == "bsr" else (plain[k], major)
            np.testing.assert_array_equal(v.grad.cpu().numpy()[k],
                                          wanted[2 * r:2 * r + 2, 2 * c:2 * c + 2])


@pytest.mark.parametrize("source", ["csr", "csc", "bsr", "bsc"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_relayout_from_compressed_as_torch(torch, source, layout):
    # blocked from CSR/CSC of any blocksize, and BSR <-> BSC of the same blocksize
    blocked = source in LAYOUTS
    blocksizes = [(2, 2)] if blocked else [(2, 2), (1, 3), (4, 1)]

    def make(lib):
        convert = getattr(lib.tensor(DENSE), f"to_sparse_{source}")
        return convert((2, 2)) if blocked else convert()

    for blocksize in blocksizes:
        ours = getattr(make(flambeau), f"to_sparse_{layout}")(blocksize)
        theirs = getattr(make(torch), f"to_sparse_{layout}")(blocksize)
        assert ours.layout is getattr(flambeau, f"sparse_{layout}")
        names = ("crow_indices", "col_indices") if layout == "bsr" else ("ccol_indices",
                                                                          "row_indices")
        for name in (*names, "values"):
            _same(getattr(ours, name)(), getattr(theirs, name)())


def test_relayout_keeps_stored_zeros_index_dtype_and_the_gradient_pattern(torch):
    # a stored zero makes its block stored, as torch's conversion; int32 indices stay int32
    parts = ([0, 1, 1, 1, 1], [3], [0.0], (4, 4))
    ours = flambeau.sparse_csr_tensor(*(flambeau.tensor(p, dtype=flambeau.int32) if i < 2
                                        else p for i, p in enumerate(parts)))
    theirs = torch.sparse_csr_tensor(*(torch.tensor(p, dtype=torch.int32) if i < 2
                                       else p for i, p in enumerate(parts)))
    b, tb = ours.to_sparse_bsc((2, 2)), theirs.to_sparse_bsc((2, 2))
    assert b.ccol_indices().dtype is flambeau.int32
    for name in ("ccol_indices", "row_indices", "values"):
        _same(getattr(b, name)(), getattr(tb, name)())
    # the gradient comes back on the CSR input's pattern (torch raises here)
    c = flambeau.tensor(DENSE.astype(np.float64)).to_sparse_csr().requires_grad_()
    weight = flambeau.arange(24, dtype=flambeau.float64).reshape(4, 6)
    (c.to_sparse_bsr((2, 2)).to_dense() * weight).sum().backward()
    assert c.grad.layout is flambeau.sparse_csr
    rows, cols = np.nonzero(DENSE)
    np.testing.assert_array_equal(c.grad.values().cpu().numpy(),
                                  weight.cpu().numpy()[rows, cols])
    _same(c.grad.col_indices(), c.col_indices())


@pytest.mark.parametrize("layout", LAYOUTS)
def test_gradient_of_the_converted_matrix_and_gradcheck(layout):
    x = flambeau.tensor(DENSE.astype(np.float64), requires_grad=True)
    s = getattr(x, f"to_sparse_{layout}")((2, 2))
    (s @ flambeau.ones(6, 1, dtype=flambeau.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), np.ones_like(DENSE))
    make = getattr(flambeau, f"sparse_{layout}_tensor")
    blocks = flambeau.rand(2, 2, 3, dtype=flambeau.float64, requires_grad=True)
    dense = flambeau.rand(6, 2, dtype=flambeau.float64, requires_grad=True)
    for product in (flambeau.mm, flambeau.sparse.mm):
        assert flambeau.autograd.gradcheck(
            lambda v, d: product(make([0, 1, 2], [1, 0], v, (4, 6)), d), (blocks, dense))


def test_save_load_and_ops_that_keep_the_blocks():
    s = flambeau.tensor(DENSE).to_sparse_bsr((2, 3))
    buf = io.BytesIO()
    flambeau.save(s, buf)
    buf.seek(0)
    loaded = flambeau.load(buf)
    assert loaded.layout is flambeau.sparse_bsr and tuple(loaded.values().shape) == (4, 2, 3)
    np.testing.assert_array_equal(loaded.to_dense().cpu().numpy(), DENSE)
    np.testing.assert_array_equal((s * 2).to_dense().cpu().numpy(), 2 * DENSE)
    np.testing.assert_array_equal(s.to(flambeau.float64).to_dense().cpu().numpy(), DENSE)
    assert s.to_sparse_bsr((2, 3)) is s
    np.testing.assert_array_equal(s.to_dense().to_sparse(layout=flambeau.sparse_bsc,
                                                         blocksize=(2, 3)).to_dense().cpu()
                                  .numpy(), DENSE)


def test_errors():
    d = flambeau.tensor(DENSE)
    with pytest.raises(RuntimeError, match=r"to_sparse_bsr: tensor sparse size \(4,6\) must be "
                       r"divisible by given blocksize \(3,3\)"):
        d.to_sparse_bsr((3, 3))
    with pytest.raises(TypeError, match="to_sparse_bsc: blocksize must be a pair of ints, got 2"):
        d.to_sparse_bsc(2)
    with pytest.raises(RuntimeError, match="to_sparse: a blocksize is required for "
                       "flambeau.sparse_bsr"):
        d.to_sparse(layout=flambeau.sparse_bsr)
    with pytest.raises(RuntimeError, match="to_sparse: blocksize is only given for sparse_bsr "
                       "and sparse_bsc, not flambeau.sparse_csr"):
        d.to_sparse(layout=flambeau.sparse_csr, blocksize=(2, 2))
    s = d.to_sparse_bsr((2, 2))
    with pytest.raises(NotImplementedError, match=r"add: flambeau.sparse_bsr \+ "
                       r"flambeau.sparse_bsr of blocksizes \(2, 2\) and \(1, 2\) is not "
                       "supported"):
        s + d.to_sparse_bsr((1, 2))
    np.testing.assert_array_equal((s + s).to_dense().cpu().numpy(), 2 * DENSE)
    assert (s + s).layout is flambeau.sparse_bsr
    with pytest.raises(RuntimeError, match="to_sparse_csr: expected SparseCsr or SparseCsc "
                       "layout but got SparseBsr; convert with .to_dense"):
        s.to_sparse_csr()
    with pytest.raises(RuntimeError, match=r"to_sparse_bsc: conversion from SparseBsr to "
                       r"SparseBsc with blocksize changed from \[2, 2\] to \[1, 2\] is not "
                       "supported"):
        s.to_sparse_bsc((1, 2))
    assert s.to_sparse_bsr((2, 2)) is s
    with pytest.raises(NotImplementedError, match="^exp: not supported for sparse tensors "
                       r"\(layout flambeau.sparse_bsr\)"):
        flambeau.exp(s)
    with pytest.raises(RuntimeError, match="ccol_indices expected sparse column compressed "
                       "tensor layout but got SparseBsr"):
        s.ccol_indices()
    with pytest.raises(RuntimeError, match=r"the size \(4, 5\) of a flambeau.sparse_bsr tensor "
                       r"must be divisible by its blocksize \(2, 2\)"):
        flambeau.sparse_bsr_tensor([0, 1], [0], flambeau.ones(1, 2, 2), (4, 5))
    with pytest.raises(NotImplementedError, match=r"only 2-D matrices with blocks \(nnz, h, w\) "
                       "are supported for flambeau.sparse_bsc"):
        flambeau.sparse_bsc_tensor([0, 1], [0], flambeau.ones(1), (2, 2))
    with pytest.raises(RuntimeError, match="`0 <= col_indices < ncols` is not satisfied."):
        flambeau.sparse_bsr_tensor([0, 1, 1], [3], flambeau.ones(1, 2, 2), (4, 4))
