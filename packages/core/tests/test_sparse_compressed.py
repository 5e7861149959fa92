"""Sparse compressed matrices (flambeau.sparse_csr, sparse_csc) against PyTorch: construction
and torch's invariant errors, conversions from and to strided and COO tensors, repr, products
with a dense matrix and their gradients (dense for mm, compressed for sparse.mm, as torch's),
sums, scaling, save/load, and the errors of ops without a compressed version.

Parity tests take the ``torch`` fixture (skipped without torch, run on the CPU); the value
tests run on the default device.
"""

import copy
import io
import pickle
import warnings

import numpy as np
import pytest

import flambeau

parity = pytest.mark.parity

DENSE = [[0.0, 2.0, 0.0], [3.0, 0.0, 4.0]]
LAYOUTS = ["sparse_csr", "sparse_csc"]


@pytest.fixture
def torch(cpu_default):
    torch = pytest.importorskip("torch")
    warnings.filterwarnings("ignore", "Sparse invariant checks", UserWarning)
    return torch


def _np(t):
    t = t.detach()
    if t.layout is not flambeau.strided:
        t = t.to_dense()
    return t.cpu().numpy()


def _tnp(t):
    t = t.detach()
    if str(t.layout) != "torch.strided":
        t = t.to_dense()
    return t.numpy()


def _same_parts(ours, theirs, torch):
    """Same layout, indices, values and size as torch's compressed tensor."""
    assert repr(ours.layout).split(".")[1] == repr(theirs.layout).split(".")[1]
    if theirs.layout is torch.sparse_csr:
        pairs = [(ours.crow_indices(), theirs.crow_indices()),
                 (ours.col_indices(), theirs.col_indices())]
    else:
        pairs = [(ours.ccol_indices(), theirs.ccol_indices()),
                 (ours.row_indices(), theirs.row_indices())]
    for a, b in pairs + [(ours.values(), theirs.values())]:
        np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().numpy(), rtol=1e-6)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours._nnz() == theirs._nnz()


@parity
@pytest.mark.parametrize("layout", LAYOUTS)
def test_conversions_match_torch(torch, layout):
    fd, td = flambeau.tensor(DENSE), torch.tensor(DENSE)
    ours, theirs = fd.to_sparse(layout=getattr(flambeau, layout)), \
        td.to_sparse(layout=getattr(torch, layout))
    _same_parts(ours, theirs, torch)
    name = layout.replace("sparse", "to_sparse")
    _same_parts(getattr(fd, name)(), getattr(td, name)(), torch)
    _same_parts(getattr(fd.to_sparse(), name)(), getattr(td.to_sparse(), name)(), torch)
    for other in LAYOUTS:  # CSR <-> CSC
        _same_parts(ours.to_sparse(layout=getattr(flambeau, other)),
                    theirs.to_sparse(layout=getattr(torch, other)), torch)
    coo, tcoo = ours.to_sparse_coo(), theirs.to_sparse_coo()  # CSC's: uncoalesced, as torch's
    assert coo.is_sparse and coo.is_coalesced() == tcoo.is_coalesced()
    np.testing.assert_array_equal(coo._indices().cpu().numpy(), tcoo._indices().numpy())
    np.testing.assert_array_equal(coo._values().cpu().numpy(), tcoo._values().numpy())
    np.testing.assert_array_equal(_np(ours.to_dense()), DENSE)
    assert (ours.is_sparse, ours.is_sparse_csr) == (theirs.is_sparse, theirs.is_sparse_csr)
    assert (ours.sparse_dim(), ours.dense_dim()) == (theirs.sparse_dim(), theirs.dense_dim())
    assert repr(ours).replace("flambeau", "torch") == repr(theirs)
    _same_parts(ours.t(), theirs.t(), torch)


@parity
def test_repr_matches_torch(torch):
    for make in (lambda lib: lib.eye(2).to_sparse_csr(),
                 lambda lib: lib.eye(2, dtype=lib.float64).to_sparse_csc(),
                 lambda lib: lib.tensor([[0, 5], [7, 0]]).to_sparse_csr(),
                 lambda lib: lib.tensor(DENSE).to_sparse_csr().requires_grad_(),
                 lambda lib: lib.sparse_csr_tensor([0, 1, 3], [1, 0, 2],
                                                   lib.tensor([2.0, 3.0, 4.0],
                                                              requires_grad=True), (2, 3)),
                 lambda lib: lib.zeros(2, 3).to_sparse_csr()):
        assert repr(make(flambeau)).replace("flambeau", "torch") == repr(make(torch))


@parity
@pytest.mark.parametrize("layout", LAYOUTS)
def test_products_and_their_gradients_match_torch(torch, layout):
    b0 = np.arange(6.0, dtype=np.float32).reshape(3, 2)
    for op in ("matmul", "mm", "addmm", "sparse.mm", "rmatmul", "vec", "rvec"):
        if op == "sparse.mm" and layout == "sparse_csc":
            continue  # torch has no backward of sparse.mm for CSC
        got = []
        for lib in (flambeau, torch):
            s = lib.tensor(DENSE).to_sparse(layout=getattr(lib, layout)).requires_grad_()
            b = lib.tensor(b0, requires_grad=True)
            if op == "matmul":
                y = s @ b
            elif op == "mm":
                y = lib.mm(s, b)
            elif op == "addmm":
                y = lib.addmm(lib.ones(2, 2), s, b, beta=2, alpha=3)
            elif op == "sparse.mm":
                y = lib.sparse.mm(s, b)
            elif op == "rmatmul":
                y = b @ s
            elif op == "vec":
                b = lib.tensor(b0[:, 0].copy(), requires_grad=True)
                y = s @ b
            else:  # a vector on the left: a one-row matrix, as torch's matmul
                b = lib.tensor(b0[:2, 0].copy(), requires_grad=True)
                y = b @ s
            (y * y).sum().backward()
            got.append((y, s.grad, b.grad))
        (y, sg, bg), (ty, tsg, tbg) = got
        np.testing.assert_allclose(_np(y), _tnp(ty), rtol=1e-6, err_msg=op)
        np.testing.assert_allclose(_np(bg), _tnp(tbg), rtol=1e-6, err_msg=op)
        # torch's layout of the sparse operand's gradient: compressed for sparse.mm
        assert repr(sg.layout).split(".")[1] == repr(tsg.layout).split(".")[1], op
        np.testing.assert_allclose(_np(sg), _tnp(tsg), rtol=1e-6, err_msg=op)


@parity
def test_gradients_reach_the_values_as_torch(torch):
    got = []
    for lib in (flambeau, torch):
        v = lib.tensor([2.0, 3.0, 4.0], requires_grad=True)
        s = lib.sparse_csr_tensor(lib.tensor([0, 1, 3]), lib.tensor([1, 0, 2]), v, (2, 3))
        w = lib.arange(6.0).reshape(2, 3)
        y = (s.to_dense() * w).sum() + (s @ lib.ones(3, 2)).pow(2).sum() \
            + (s * 3).values().sum() + (s + s).to_dense().sum()
        y.backward()
        got.append(v.grad)
        c = lib.tensor(DENSE).to_sparse_csr().requires_grad_()
        (c.to_dense() * w).sum().backward()  # to_dense's gradient: compressed, as torch's
        got.append(c.grad)
    np.testing.assert_allclose(_np(got[0]), _tnp(got[2]), rtol=1e-6)
    _same_parts(got[1], got[3], torch)


@parity
@pytest.mark.parametrize("layout", LAYOUTS)
def test_sums_and_scaling_match_torch(torch, layout):
    def pair(lib, rows):
        return lib.tensor(rows).to_sparse(layout=getattr(lib, layout))

    a, ta = pair(flambeau, [[0.0, 2.0, 0.0], [2.0, 0.0, 2.0]]), pair(torch, [[0.0, 2.0, 0.0],
                                                                           [2.0, 0.0, 2.0]])
    b = pair(flambeau, [[1.0, 0.0, 0.0], [5.0, 0.0, 0.0]])
    tb = pair(torch, [[1.0, 0.0, 0.0], [5.0, 0.0, 0.0]])
    if layout == "sparse_csr":  # torch's add of two CSC tensors reads crow_indices: refused
        _same_parts(a + b, ta + tb, torch)
        _same_parts(a.add(b, alpha=2), ta.add(tb, alpha=2), torch)
    else:  # flambeau adds them in CSC
        _same_parts(a + b, (ta.to_dense() + tb.to_dense()).to_sparse_csc(), torch)
    for ours, theirs in ((a * 3, ta * 3), (3 * a, 3 * ta), (-a, -ta), (a.mul(0.5), ta.mul(0.5)),
                         (pair(flambeau, [[0, 2]]) * 2.5, pair(torch, [[0, 2]]) * 2.5)):
        _same_parts(ours, theirs, torch)
    np.testing.assert_array_equal(_np(flambeau.ones(2, 3) + a), _tnp(torch.ones(2, 3) + ta))
    np.testing.assert_array_equal(_np(a + flambeau.ones(2, 3)), _tnp(ta + torch.ones(2, 3)))


@parity
def test_constructor_errors_match_torch(torch):
    T = "tensor"
    cases = [
        (([0, 1, 3], [1, 0, 2], [1.0, 2, 3], (2, 3)), {}, None),
        (([[0, 1, 3]], [1, 0, 2], [1.0, 2, 3], (2, 3)), {}, "crow_indices and col_indices "
         "dimensionalities must be equal but got 2 and 1, respectively"),
        (([0, 1, 3], [1, 0, 2], [1.0, 2, 3], (3, 3)), {}, r"crow_indices.shape\[-1\] must be "
         r"equal to the number of rows \+ 1 \(=4\), but got 3"),
        (([1, 1, 3], [1, 0, 2], [1.0, 2, 3], (2, 3)), {},
         r"`crow_indices\[..., 0\] == 0` is not satisfied."),
        (([0, 1, 2], [1, 0, 2], [1.0, 2, 3], (2, 3)), {},
         r"`crow_indices\[..., -1\] == nnz` is not satisfied."),
        (([0, 1, 3], [1, 0, 5], [1.0, 2, 3], (2, 3)), {},
         "`0 <= col_indices < ncols` is not satisfied."),
        (([0, 1, 3], [1, -1, 2], [1.0, 2, 3], (2, 3)), {},
         "`0 <= col_indices < ncols` is not satisfied."),
        (([0, 1, 3], [1, 2, 0], [1.0, 2, 3], (2, 3)), {}, "are sorted and distinct"),
        (([0, 1, 3], [1, 0, 0], [1.0, 2, 3], (2, 3)), {}, "are sorted and distinct"),
        (([0, 2, 1, 3], [1, 0, 2], [1.0, 2, 3], (3, 3)), {}, "are sorted and distinct"),
        (([0, 1, 3], [1, 0, 2], [1.0, 2], (2, 3)), {}, r"col_indices.shape\[-1\] must be equal "
         r"to nnz \(=2\) as defined by values.shape\[0\], but got 3"),
        (([0, 1, 3], [1, 0, 2], [1.0, 2, 3], (6,)), {}, "tensor dimensionality must be sum of "
         r"batch, base, and dense dimensionalities \(=0 \+ 2 \+ 0\) but got 1"),
        (([0, 1, 3], [1, 0, 2], 1.0, (2, 3)), {}, "values must have dimensionality > sum of "
         r"batch and block dimensionalities \(=0 \+ 0\) but got 0"),
    ]
    for args, kwargs, match in cases:
        conv = [getattr(lib, T)(a) if isinstance(a, list) or isinstance(a, float) else a
                for lib in (flambeau,) for a in args]
        tconv = [torch.tensor(a) if isinstance(a, list) or isinstance(a, float) else a
                 for a in args]
        if match is None:
            _same_parts(flambeau.sparse_csr_tensor(*conv), torch.sparse_csr_tensor(*tconv),
                        torch)
            continue
        with pytest.raises(RuntimeError, match=match):
            torch.sparse_csr_tensor(*tconv, check_invariants=True)
        with pytest.raises(RuntimeError, match=match):
            flambeau.sparse_csr_tensor(*conv)
    # without size: rows from crow_indices, columns from the largest col index
    _same_parts(flambeau.sparse_csc_tensor([0, 1, 3], [1, 0, 2], [1.0, 2, 3]),
                torch.sparse_csc_tensor([0, 1, 3], [1, 0, 2], [1.0, 2, 3]), torch)
    with pytest.raises(RuntimeError, match=r"ccol_indices.shape\[-1\] must be equal to the "
                                           r"number of columns \+ 1 \(=4\), but got 3"):
        flambeau.sparse_csc_tensor([0, 1, 3], [1, 0, 1], [3.0, 2, 4], (2, 3))
    with pytest.raises(RuntimeError, match="`0 <= row_indices < nrows` is not satisfied."):
        flambeau.sparse_csc_tensor([0, 1, 2, 3], [1, 0, 2], [3.0, 2, 4], (2, 3))
    with pytest.raises(RuntimeError, match="crow_indices and col_indices must have the same "
                                           "dtype, but got flambeau.int64 and flambeau.int32"):
        flambeau.sparse_csr_tensor(flambeau.tensor([0, 1, 3]),
                                   flambeau.tensor([1, 0, 2], dtype=flambeau.int32),
                                   [1.0, 2, 3], (2, 3))
    for layout, got in ((None, "none"), (flambeau.sparse_coo, "Sparse")):
        with pytest.raises(RuntimeError, match="sparse_compressed_tensor expected sparse "
                                               f"compressed tensor layout but got {got}"):
            flambeau.sparse_compressed_tensor([0, 1], [0], [1.0], (1, 1), layout=layout)
    for layout, got in ((flambeau.sparse_csc, "SparseCsc"), (flambeau.strided, "Strided")):
        with pytest.raises(RuntimeError, match="sparse_csr_tensor: layout must be SparseCsr "
                                               f"but got {got}"):
            flambeau.sparse_csr_tensor([0, 1], [0], [1.0], (1, 1), layout=layout)
    assert flambeau.sparse_csc_tensor([0, 1], [0], [1.0], (1, 1),
                                      layout=flambeau.sparse_csc).layout is flambeau.sparse_csc
    # int32 indices stay int32, as torch's
    s = flambeau.sparse_csr_tensor(flambeau.tensor([0, 1], dtype=flambeau.int32),
                                   flambeau.tensor([0], dtype=flambeau.int32), [1.0], (1, 1))
    assert s.crow_indices().dtype is flambeau.int32
    # check_invariants=False takes the parts as they are (torch's default)
    bad = flambeau.sparse_csr_tensor([0, 1, 3], [1, 2, 0], [1.0, 2, 3], (2, 3),
                                     check_invariants=False)
    assert bad._nnz() == 3


@parity
def test_index_accessor_errors_match_torch(torch):
    for lib in (flambeau, torch):
        csr, csc = lib.eye(2).to_sparse_csr(), lib.eye(2).to_sparse_csc()
        for t, name, msg in ((csc, "crow_indices", "crow_indices expected sparse row compressed "
                                                   "tensor layout but got SparseCsc"),
                             (csr, "ccol_indices", "ccol_indices expected sparse column "
                                                   "compressed tensor layout but got SparseCsr"),
                             (csr, "row_indices", "row_indices expected sparse column "
                                                  "compressed tensor layout but got SparseCsr"),
                             (lib.eye(2), "crow_indices", "crow_indices expected sparse row "
                                                          "compressed tensor layout but got "
                                                          "Strided"),
                             (lib.eye(2).to_sparse(), "col_indices", "col_indices expected "
                                                                     "sparse row compressed "
                                                                     "tensor layout but got "
                                                                     "Sparse")):
            with pytest.raises(RuntimeError, match=msg):
                getattr(t, name)()
        with pytest.raises(TypeError, match="can't convert SparseCsr layout tensor to numpy"):
            csr.numpy()


def test_ops_without_a_compressed_version_are_refused():
    s = flambeau.tensor(DENSE).to_sparse_csr()
    for fn, op in ((lambda: flambeau.exp(s), "exp"), (lambda: s.sum(), "sum"),
                   (lambda: s[0], "getitem"), (lambda: s / 2, "div"),
                   (lambda: flambeau.relu(s), "relu")):
        with pytest.raises(NotImplementedError, match=f"^{op}: not supported for sparse tensors "
                                                      r"\(layout flambeau.sparse_csr\)"):
            fn()
    with pytest.raises(NotImplementedError, match="a product of two sparse matrices is not "
                                                  "supported"):
        s @ s.t()
    with pytest.raises(NotImplementedError, match="only 2-D matrices with scalar values"):
        flambeau.sparse_csr_tensor([0, 1], [0], [[1.0]], (1, 1, 1))
    with pytest.raises(RuntimeError, match="to_sparse_csr: expected a 2-D tensor"):
        flambeau.zeros(2, 2, 2).to_sparse_csr()
    with pytest.raises(RuntimeError, match="to_sparse: blocksize is only given for sparse_bsr "
                       "and sparse_bsc, not flambeau.sparse_csr"):  # torch: a RuntimeError too
        flambeau.eye(2).to_sparse(layout=flambeau.sparse_csr, blocksize=(1, 1))
    # flambeau.sparse's COO-only functions name the layout they got
    with pytest.raises(TypeError, match=r"^sparse.sum: expected a sparse COO tensor as the "
                                        r"first argument, got layout flambeau.sparse_csr$"):
        flambeau.sparse.sum(s)
    with pytest.raises(TypeError, match=r"^sparse.mm: expected a sparse COO, CSR or CSC tensor "
                                        r"as the first argument, got layout flambeau.strided$"):
        flambeau.sparse.mm(flambeau.eye(3), flambeau.eye(3))
    with pytest.raises(TypeError, match=r"^sparse.addmm: expected a sparse COO, CSR or CSC "
                                        r"tensor as the first argument, got list$"):
        flambeau.sparse.addmm(flambeau.ones(2, 2), [[1.0]], flambeau.eye(2))


def test_dense_plus_compressed_and_products_on_the_default_device():
    s = flambeau.sparse_csr_tensor([0, 1, 3], [1, 0, 2], [2.0, 3.0, 4.0], (2, 3))
    np.testing.assert_array_equal(_np(s @ flambeau.ones(3, 1)), [[2.0], [7.0]])
    np.testing.assert_array_equal(_np(s.t() @ flambeau.ones(2, 1)), [[3.0], [2.0], [4.0]])
    np.testing.assert_array_equal(_np(s.to_sparse_csc().to_dense()), DENSE)
    np.testing.assert_array_equal(_np(s + s), 2 * np.array(DENSE))


def test_compressed_gradients_used_twice_add_up():
    # the engine adds two compressed gradients meeting in one pass (a compressed sum), and
    # one pass's gradient into .grad (CompressedData.__iadd__)
    s = flambeau.tensor(DENSE).to_sparse_csr().requires_grad_()
    b = flambeau.ones(3, 2)
    (flambeau.sparse.mm(s, b).sum() + flambeau.sparse.mm(s, 2 * b).sum()).backward()
    assert s.grad.layout is flambeau.sparse_csr
    np.testing.assert_array_equal(_np(s.grad), [[0.0, 6.0, 0.0], [6.0, 0.0, 6.0]])
    grad = s.grad
    flambeau.sparse.mm(s, b).sum().backward()
    assert s.grad is grad and s.grad.layout is flambeau.sparse_csr
    np.testing.assert_array_equal(_np(s.grad), [[0.0, 8.0, 0.0], [8.0, 0.0, 8.0]])


@parity
def test_int32_indices_stay_int32_as_torch(torch):
    def make(lib):
        return lib.sparse_csr_tensor(lib.tensor([0, 1, 3], dtype=lib.int32),
                                     lib.tensor([1, 0, 2], dtype=lib.int32),
                                     lib.tensor([2.0, 3.0, 4.0]), (2, 3))

    for op in (lambda s: s.to_sparse_csc(), lambda s: s + s, lambda s: s.t(),
               lambda s: s.to_sparse_csc().to_sparse_csr(), lambda s: s * 2):
        ours, theirs = op(make(flambeau)), op(make(torch))
        _same_parts(ours, theirs, torch)
        index = ours.crow_indices() if ours.layout is flambeau.sparse_csr else \
            ours.ccol_indices()
        assert str(index.dtype).split(".")[1] == "int32"
        assert _np(index).dtype == np.int32


@pytest.mark.parametrize("layout", LAYOUTS)
def test_save_load_pickle_and_deepcopy_round_trip(layout):
    s = flambeau.tensor(DENSE).to_sparse(layout=getattr(flambeau, layout)).requires_grad_()
    buf = io.BytesIO()
    flambeau.save({"m": s, "again": s}, buf)
    buf.seek(0)
    out = flambeau.load(buf)
    assert out["m"] is out["again"]
    for t in (out["m"], pickle.loads(pickle.dumps(s)), copy.deepcopy(s)):
        assert t.layout is s.layout and t.requires_grad
        np.testing.assert_array_equal(_np(t), DENSE)
        assert repr(t) == repr(s)


@parity
def test_torch_files_holding_compressed_tensors_load(torch):
    buf = io.BytesIO()
    torch.save({"csr": torch.tensor(DENSE).to_sparse_csr(),
                "csc": torch.tensor(DENSE).to_sparse_csc()}, buf)
    buf.seek(0)
    out = flambeau.load(buf)
    assert out["csr"].layout is flambeau.sparse_csr
    assert out["csc"].layout is flambeau.sparse_csc
    for t in out.values():
        np.testing.assert_array_equal(_np(t), DENSE)


@parity
def test_sparse_mask_of_a_compressed_mask_matches_torch(torch):
    pattern = [[0.0, 1.0], [0.0, 0.0], [1.0, 1.0]]
    for layout in LAYOUTS:
        ours = flambeau.arange(6.0).reshape(3, 2).sparse_mask(
            flambeau.tensor(pattern).to_sparse(layout=getattr(flambeau, layout)))
        theirs = torch.arange(6.0).reshape(3, 2).sparse_mask(
            torch.tensor(pattern).to_sparse(layout=getattr(torch, layout)))
        _same_parts(ours, theirs, torch)
    # its gradient (torch's backward refuses a compressed mask): x's at the pattern
    x = flambeau.arange(6.0).reshape(3, 2).requires_grad_()
    x.sparse_mask(flambeau.tensor(pattern).to_sparse_csr()).values().sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), pattern)


@parity
def test_dense_add_and_add_inplace_of_a_compressed_matrix_match_torch(torch):
    got = []
    for lib in (flambeau, torch):
        c = lib.tensor(DENSE).to_sparse_csr()
        w = lib.ones(2, 3, requires_grad=True)
        h = w * 2
        h.add_(c)  # recorded: w's gradient passes
        (h * lib.arange(6.0).reshape(2, 3)).sum().backward()
        got.append([lib.add(lib.ones(2, 3), c), lib.ones(2, 3).add_(c), h, w.grad])
    for ours, theirs in zip(*got):
        np.testing.assert_allclose(_np(ours), _tnp(theirs))
    # torch's sub_ with alpha refuses the layout; flambeau subtracts
    np.testing.assert_allclose(_np(flambeau.ones(2, 3).sub_(flambeau.tensor(DENSE)
                                                            .to_sparse_csr(), alpha=2)),
                               1 - 2 * np.array(DENSE))


@parity
@pytest.mark.parametrize("layout", LAYOUTS)
def test_gradient_of_a_compressed_operand_of_a_dense_sum_is_dense_as_torch(torch, layout):
    # the sum's gradient, everywhere: to_dense's gradient (the pattern only) would drop the
    # entries outside the pattern
    got = []
    for lib in (flambeau, torch):
        grads = []
        for op in (lambda x, s: x + s, lambda x, s: s + x, lambda x, s: lib.add(x, s, alpha=3),
                   lambda x, s: (x * 1).add_(s, alpha=2)):
            x = lib.ones(2, 3, requires_grad=True)
            s = lib.tensor(DENSE).to_sparse(layout=getattr(lib, layout)).requires_grad_()
            (op(x, s) * lib.arange(6.0).reshape(2, 3)).sum().backward()
            grads += [x.grad, s.grad]
        got.append(grads)
    for ours, theirs in zip(*got):
        assert ours.layout is flambeau.strided and theirs.layout is torch.strided
        np.testing.assert_allclose(_np(ours), _tnp(theirs))


@parity
def test_assigning_a_gradient_of_another_layout_is_refused_as_torch(torch):
    makers = {"strided": lambda lib: lib.tensor(DENSE),
              "coo": lambda lib: lib.tensor(DENSE).to_sparse(),
              "csr": lambda lib: lib.tensor(DENSE).to_sparse_csr(),
              "csc": lambda lib: lib.tensor(DENSE).to_sparse_csc()}
    refused = 0
    for t_kind, make_t in makers.items():
        for g_kind, make_g in makers.items():
            try:
                make_t(torch).grad = make_g(torch)
            except RuntimeError:
                refused += 1
                t = make_t(flambeau)
                with pytest.raises(RuntimeError, match=r"^attempting to assign a gradient to a "
                                   r"tensor that has data of a different type \(a flambeau\."):
                    t.grad = make_g(flambeau)
                assert t.grad is None
            else:
                t = make_t(flambeau)
                t.grad = g = make_g(flambeau)
                assert t.grad is g
    assert refused == 7  # a COO gradient goes anywhere, a compressed one to compressed only
