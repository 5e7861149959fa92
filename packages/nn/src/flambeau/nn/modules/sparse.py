"""Embedding and EmbeddingBag: lookup tables of learnable vectors."""

from __future__ import annotations

import flambeau
import flambeau.nn.functional as F
from flambeau.nn import init
from flambeau.nn.modules.module import Module
from flambeau.nn.parameter import Parameter

__all__ = ["Embedding", "EmbeddingBag"]


def _padding_index(padding_idx, num_embeddings, who):
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{who}: padding_idx ({padding_idx}) must be within num_embeddings "
                         f"({num_embeddings})")
    return padding_idx % num_embeddings


def _table(num_embeddings, embedding_dim, _weight, device, dtype, who):
    if _weight is None:
        return None
    if tuple(_weight.shape) != (num_embeddings, embedding_dim):
        raise ValueError(f"{who}: shape of weight {tuple(_weight.shape)} does not match "
                         f"num_embeddings and embedding_dim ({num_embeddings}, {embedding_dim})")
    return _weight


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, looked up by index.

    The weight starts as N(0, 1) draws, with the ``padding_idx`` row (if any) zero; that row
    never receives gradient.

    Parameters
    ----------
    num_embeddings, embedding_dim : int
        The table's shape.
    padding_idx : int, optional
        A row kept at its value (zero-initialized, no gradient).
    max_norm : float, optional
        Rows looked up with a larger ``norm_type``-norm are renormalized in place.
    norm_type : float
        The p of the norm for ``max_norm``.
    scale_grad_by_freq : bool
        Divide gradients by the frequency of each index in the batch.
    sparse : bool
        Make ``weight.grad`` a sparse COO tensor holding only the looked-up rows, for
        :class:`flambeau.optim.SparseAdam`, ``SGD`` or ``Adagrad`` (see
        :func:`flambeau.nn.functional.embedding`).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> emb = nn.Embedding(10, 3, padding_idx=0)
    >>> emb(flambeau.tensor([[1, 2, 0]])).shape, emb
    (flambeau.Size([1, 3, 3]), Embedding(10, 3, padding_idx=0))
    >>> emb = nn.Embedding(10, 3, sparse=True)
    >>> emb(flambeau.tensor([4, 1, 4])).sum().backward()
    >>> emb.weight.grad.layout, emb.weight.grad._indices()
    (flambeau.sparse_coo, tensor([[4, 1, 4]]))
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _padding_index(padding_idx, num_embeddings, "Embedding")
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        given = _table(num_embeddings, embedding_dim, _weight, device, dtype, "Embedding")
        if given is None:
            self.weight = Parameter(flambeau.empty(num_embeddings, embedding_dim, device=device,
                                                   dtype=dtype), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            self.weight = Parameter(given, requires_grad=not _freeze)

    def reset_parameters(self):
        """Draw the table from N(0, 1) and zero the padding row."""
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with flambeau.no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding whose table is ``embeddings`` (2-D), frozen unless ``freeze=False``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> emb = nn.Embedding.from_pretrained(flambeau.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> emb(flambeau.tensor([1])), emb.weight.requires_grad
        (tensor([[3., 4.]]), False)
        """
        if embeddings.ndim != 2:
            raise ValueError(f"Embeddings parameter is expected to be 2-dimensional, got shape "
                             f"{tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx,
                   max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings.

    See :func:`flambeau.nn.functional.embedding_bag`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> bag = nn.EmbeddingBag(10, 3, mode="sum")
    >>> bag(flambeau.tensor([1, 2, 4, 5]), flambeau.tensor([0, 2])).shape
    flambeau.Size([2, 3])
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, _weight=None,
                 include_last_offset=False, padding_idx=None, device=None, dtype=None):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset
        self.padding_idx = _padding_index(padding_idx, num_embeddings, "EmbeddingBag")
        given = _table(num_embeddings, embedding_dim, _weight, device, dtype, "EmbeddingBag")
        if given is None:
            self.weight = Parameter(flambeau.empty(num_embeddings, embedding_dim, device=device,
                                                   dtype=dtype))
            self.reset_parameters()
        else:
            self.weight = Parameter(given)

    def reset_parameters(self):
        """Draw the table from N(0, 1) and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with flambeau.no_grad():
                self.weight[self.padding_idx].fill_(0)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        include_last_offset=False, padding_idx=None):
        """An EmbeddingBag whose table is ``embeddings`` (2-D), frozen unless ``freeze=False``.

        The table is taken as given (its ``padding_idx`` row is not zeroed).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> table = flambeau.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        >>> bag = nn.EmbeddingBag.from_pretrained(table, mode="sum")
        >>> bag(flambeau.tensor([[0, 2]])), bag.weight.requires_grad
        (tensor([[6., 8.]]), False)
        """
        if embeddings.ndim != 2:
            raise ValueError(f"Embeddings parameter is expected to be 2-dimensional, got shape "
                             f"{tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm=max_norm, norm_type=norm_type,
                  scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                  _weight=embeddings, include_last_offset=include_last_offset,
                  padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse,
                               per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
