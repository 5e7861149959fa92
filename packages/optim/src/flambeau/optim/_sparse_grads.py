"""Steps with sparse COO gradients (``nn.Embedding(sparse=True)``): the rows a gradient
stores are gathered from the parameter and its state, updated and written back, without a
dense temporary of the parameter's size and without a Python loop over the rows."""

from __future__ import annotations

from flambeau._sparse import SparseTensor, _coalesce_data, _keys, scatter_add_

__all__ = ["is_sparse", "SparseRows", "add_sparse_"]


def is_sparse(grad):
    """Whether a gradient handed to ``_update_group`` is a sparse tensor (dense ones are
    backend arrays)."""
    return grad.__class__ is SparseTensor


def _rows(array, sparse_dim):
    """``array`` seen as ``(rows, *dense_shape)``: one row per index of the sparse dims."""
    return array.reshape((-1,) + array.shape[sparse_dim:])


class SparseRows:
    """A coalesced sparse gradient's flat row keys and values, and in-place access to the
    same rows of dense tensors shaped like the parameter (the parameter, its state).

    Coalescing first is what torch's SparseAdam and Adagrad do: their updates are not linear
    in the gradient, so each row must appear once.
    """

    __slots__ = ("keys", "values", "sparse_dim")

    def __init__(self, grad):
        data, _ = _coalesce_data(grad._device, grad._data)
        self.sparse_dim = data.sparse_dim
        self.keys = _keys(grad._device._xp, data.indices, data.shape)
        self.values = data.values

    def __len__(self):
        return self.keys.shape[0]

    def gather(self, array):
        """The rows of ``array`` (a copy) that the gradient stores."""
        return _rows(array, self.sparse_dim)[self.keys]

    def add_(self, array, values):
        """``array[rows] += values`` in place (the rows are unique)."""
        flat = _rows(array, self.sparse_dim)
        flat[self.keys] += values
        if not array.flags.c_contiguous:  # reshape copied: write the rows back
            array[...] = flat.reshape(array.shape)


def add_sparse_(param, grad, alpha):
    """``param += alpha * grad`` in place for a sparse, possibly uncoalesced ``grad`` (its
    duplicates add up), as torch's ``param.add_(grad, alpha=alpha)``."""
    data = grad._data
    if not data.nnz:
        return
    array = param._data
    scatter_add_(param._device, array, data.indices, data.shape,
                 data.values * array.dtype.type(alpha))
