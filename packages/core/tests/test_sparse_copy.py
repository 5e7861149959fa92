"""Sparse tensors in place: ``copy_`` between sparse tensors of a layout (what
``load_state_dict`` does with a sparse parameter) and its errors, in-place ops of a tensor
that requires grad where nothing records, and the sparse subclasses of Tensor subclasses
(``layout_class``: a sparse ``nn.Parameter``) with save/load, against PyTorch."""

import io
import re
import warnings

import numpy as np
import pytest

import flambeau
from flambeau._sparse import layout_class


@pytest.fixture
def torch(cpu_default):
    torch = pytest.importorskip("torch")
    warnings.filterwarnings("ignore", "Sparse", UserWarning)
    return torch


def _dense(t):
    return t.detach().to_dense().cpu().numpy()


@pytest.mark.parametrize("old", [(2, 2), (1, 2), (0, 0)])
def test_coo_copy_takes_pattern_dtype_and_size_as_torch(torch, old):
    pattern = ([[0, 1, 1], [1, 0, 1]], [1.0, 2.0, 3.0], (2, 3))
    got = flambeau.ones(old).to_sparse()
    got.copy_(flambeau.sparse_coo_tensor(*pattern).double())
    want = torch.ones(old).to_sparse()
    want.copy_(torch.sparse_coo_tensor(*pattern).double())
    assert got.dtype is flambeau.float32 and want.dtype is torch.float32
    assert tuple(got.shape) == tuple(want.shape) == (2, 3)
    np.testing.assert_array_equal(_dense(got), want.to_dense().numpy())


@pytest.mark.parametrize("new", [(2, 2), (3, 1), (3,)])
def test_coo_copy_cannot_shrink_a_nonempty_tensor(torch, new):
    src = flambeau.ones(new).to_sparse()
    dst = flambeau.eye(3)[:, :2].to_sparse()
    with pytest.raises(RuntimeError, match=r"copy_: resizing a non-empty sparse tensor of "
                       rf"size \(3, 2\) \(sparse_dim=2\) to size {re.escape(str(new))} "
                       r"\(sparse_dim=\d\) is not supported: only its sparse dims may grow"):
        dst.copy_(src)
    with pytest.raises(RuntimeError):
        torch.eye(3)[:, :2].to_sparse().copy_(torch.ones(new).to_sparse())
    np.testing.assert_array_equal(_dense(dst), np.eye(3)[:, :2])


def test_copy_is_a_copy():
    src = flambeau.eye(2).to_sparse()
    dst = flambeau.zeros(2, 2).to_sparse()
    version = dst._version
    dst.copy_(src)
    src.mul_(5)
    np.testing.assert_array_equal(_dense(dst), np.eye(2))
    assert dst._version == version + 1


def test_compressed_copy_same_nnz(torch):
    dst = flambeau.eye(2).to_sparse_csr()
    dst.copy_(flambeau.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse_csr())
    want = torch.eye(2).to_sparse_csr()
    want.copy_(torch.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse_csr())
    np.testing.assert_array_equal(_dense(dst), want.to_dense().numpy())
    np.testing.assert_array_equal(dst.col_indices().cpu().numpy(), want.col_indices().numpy())


def test_compressed_copy_other_nnz_refused():
    dst = flambeau.eye(2).to_sparse_csr()
    with pytest.raises(RuntimeError, match=r"copy_: only sparse compressed tensors with the "
                       r"same size and number of specified elements are supported, got size "
                       r"\(2, 2\) with nnz=3 into size \(2, 2\) with nnz=2"):
        dst.copy_(flambeau.tensor([[1.0, 2.0], [3.0, 0.0]]).to_sparse_csr())
    np.testing.assert_array_equal(_dense(dst), np.eye(2))


@pytest.mark.parametrize("src", [flambeau.eye(2), flambeau.eye(2).to_sparse_csr(), 1.0])
def test_copy_of_another_layout_refused(src):
    dst = flambeau.zeros(2, 2).to_sparse()
    got = src.layout if isinstance(src, flambeau.Tensor) else "float"
    with pytest.raises(RuntimeError, match=f"copy_: copying {got} into a tensor of layout "
                       "flambeau.sparse_coo is not supported; convert it to that layout first"):
        dst.copy_(src)


def test_inplace_of_requires_grad_only_without_recording():
    s = flambeau.eye(2).to_sparse().requires_grad_()
    with pytest.raises(RuntimeError, match="sparse in-place ops on tensors that require grad "
                       "are not supported while recording; wrap them in flambeau.no_grad()"):
        s.mul_(2)
    with flambeau.no_grad():
        s.mul_(2)
        s.add_(flambeau.eye(2).to_sparse())
    np.testing.assert_array_equal(_dense(s), 3 * np.eye(2))
    assert s.requires_grad and s.is_leaf


class Marked(flambeau.Tensor):
    pass


@pytest.mark.parametrize("make", [lambda: flambeau.eye(2).to_sparse(),
                                  lambda: flambeau.eye(2).to_sparse_csr()])
def test_layout_class_is_both(make):
    s = make()
    cls = layout_class(Marked, s)
    assert cls is layout_class(Marked, make()) and cls.__name__ == "Marked"
    m = cls._make(s._data, s._device)
    assert isinstance(m, Marked) and isinstance(m, type(s)) and m.layout is s.layout
    np.testing.assert_array_equal(_dense(m), np.eye(2))
    np.testing.assert_array_equal(_dense(flambeau.sparse.mm(m, flambeau.ones(2, 1))),
                                  [[1.0], [1.0]])
    # detached, copied, cast: plain sparse tensors, as torch's of a Parameter
    for out in (m.detach(), m.data, m.clone(), m.to(flambeau.float64)):
        assert type(out) is type(s)
    # the class found again by its name (load) gives the tensor's own layout's class
    assert layout_class(cls, flambeau.ones(1)) is Marked


def test_save_load_keeps_the_subclass_of_a_sparse_tensor():
    s = flambeau.eye(2).to_sparse()
    m = layout_class(Marked, s)._make(s._data, s._device, True)
    buf = io.BytesIO()
    flambeau.save([m, m], buf)
    buf.seek(0)
    a, b = flambeau.load(buf, weights_only=False)
    assert a is b and isinstance(a, Marked) and a.is_sparse and a.requires_grad
    np.testing.assert_array_equal(_dense(a), np.eye(2))
