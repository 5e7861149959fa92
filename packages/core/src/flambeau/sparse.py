"""Sparse COO tensors' own functions, as ``torch.sparse``.

A sparse tensor is made by :func:`flambeau.sparse_coo_tensor` or
:meth:`flambeau.Tensor.to_sparse`; its layout is ``flambeau.sparse_coo``. Besides the
functions here, sparse tensors support ``to_dense()``, ``coalesce()``, ``+``, ``-``, ``*``
(by a number, a dense or a sparse tensor), ``/`` by a number, ``t()``, ``flambeau.sum``,
``flambeau.mm``/``matmul``/``@``/``addmm``/``spmm`` and autograd through all of these. Any
other op raises ``NotImplementedError`` naming the op: convert with ``.to_dense()`` first.

Compressed matrices (``flambeau.sparse_csr``, ``flambeau.sparse_csc``: made by
:func:`flambeau.sparse_csr_tensor`, :func:`flambeau.sparse_csc_tensor` or
:meth:`flambeau.Tensor.to_sparse_csr`) support ``to_dense()``, ``to_sparse_coo()``,
``values()``, ``t()``, ``+`` of two of one shape, ``*`` by a number, :func:`mm`,
:func:`addmm`, ``flambeau.mm``/``matmul``/``@``/``addmm`` with a dense matrix, and autograd
through these. Blocked matrices (``flambeau.sparse_bsr``, ``flambeau.sparse_bsc``: made by
:func:`flambeau.sparse_bsr_tensor`, :func:`flambeau.sparse_bsc_tensor` or
:meth:`flambeau.Tensor.to_sparse_bsr`) support the same, ``+`` of two of one blocksize
included. As in torch, a CSR/CSC matrix converts to BSR/BSC of any blocksize (every block
holding a stored element is stored), BSR and BSC convert into each other at their own
blocksize, and a blocked matrix goes to CSR/CSC or another blocksize only through
``to_dense()``.

Examples
--------
>>> import flambeau
>>> adj = flambeau.sparse_coo_tensor([[0, 1, 1], [1, 0, 1]], [1.0, 1.0, 2.0], (2, 2))
>>> flambeau.sparse.mm(adj, flambeau.ones(2, 1))
tensor([[1.],
        [3.]])
>>> flambeau.sparse.sum(adj)
tensor(4.)
"""

from __future__ import annotations

from flambeau._sparse import as_sparse_gradcheck, check_sparse_tensor_invariants
from flambeau._sparse import sparse_addmm as addmm
from flambeau._sparse import sparse_log_softmax as log_softmax
from flambeau._sparse import sparse_mm as mm
from flambeau._sparse import sparse_softmax as softmax
from flambeau._sparse import sparse_sum as sum  # noqa: A004 - torch's name

__all__ = ["addmm", "as_sparse_gradcheck", "check_sparse_tensor_invariants", "log_softmax",
           "mm", "softmax", "sum"]
