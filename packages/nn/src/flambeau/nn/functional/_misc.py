"""flambeau.nn.functional: one_hot, normalize and distances between vectors."""

from __future__ import annotations

import flambeau
from flambeau import Tensor
from flambeau.amp import _autocast
from flambeau.nn._complex import refuse_complex

__all__ = ["cosine_similarity", "normalize", "one_hot", "pairwise_distance", "pdist"]


def one_hot(tensor, num_classes=-1):
    """An int64 tensor with a trailing dimension of ``num_classes``, 1 at each index.

    ``num_classes=-1`` uses the largest index plus one.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.one_hot(flambeau.tensor([0, 2]), 3)
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    if not isinstance(tensor, Tensor) or tensor._data.dtype.kind not in "iu":
        raise RuntimeError(
            "one_hot is only applicable to index tensor of an integer dtype, got "
            + (str(tensor.dtype) if isinstance(tensor, Tensor) else type(tensor).__name__)
        )
    xp = tensor._device._xp
    t = tensor._data
    if t.size and int(t.min()) < 0:
        raise RuntimeError("one_hot: Class values must be non-negative.")
    if num_classes == -1:
        if t.size == 0:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty "
                               "tensor.")
        num_classes = int(t.max()) + 1
    elif t.size and int(t.max()) >= num_classes:
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes "
                           f"({num_classes}), got {int(t.max())}.")
    out = (xp.expand_dims(t, -1) == xp.arange(num_classes)).astype(xp.int64)
    return Tensor._make(out, tensor._device)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.normalize(flambeau.tensor([[3.0, 4.0]]))
    tensor([[0.6000, 0.8000]])
    """
    denom = input.norm(p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    result = input / denom
    if out is not None:
        out.copy_(result)
        return out
    return result


def _broadcast(op, x1, x2):
    for name, t in (("x1", x1), ("x2", x2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(t).__name__}")
    try:
        return flambeau.broadcast_tensors(x1, x2)
    except RuntimeError:
        raise RuntimeError(f"{op}: shapes {tuple(x1.shape)} and {tuple(x2.shape)} cannot be "
                           "broadcast together") from None


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """The cosine of the angle between ``x1`` and ``x2`` along ``dim`` (broadcast).

    Each vector is divided by ``max(||x||, eps)`` before the dot product; as in PyTorch, the
    gradient flows through the norm as if it were not clamped.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.cosine_similarity(flambeau.tensor([[1.0, 0.0]]), flambeau.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    if _autocast.active:
        x1, x2 = _autocast.cast_inputs("fp32", x1, x2)
    x1, x2 = _broadcast("cosine_similarity", x1, x2)
    refuse_complex("cosine_similarity", x1, x2)  # as PyTorch (its common dtype must be real)
    if not x1.is_floating_point():
        x1, x2 = x1.to(flambeau.get_default_dtype()), x2.to(flambeau.get_default_dtype())
    n1 = _floor_value(x1.norm(2, dim, True), eps)
    n2 = _floor_value(x2.norm(2, dim, True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def _floor_value(n, eps):
    """``max(n, eps)`` in value with the gradient of ``n`` (``n - n`` is exactly 0)."""
    return flambeau.where(n < eps, n - n.detach() + eps, n)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` over the last dimension (inputs broadcast).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.pairwise_distance(flambeau.tensor([[0.0, 0.0]]), flambeau.tensor([[3.0, 4.0]]),
    ...                     eps=0.0)
    tensor([5.])
    >>> F.pairwise_distance(flambeau.ones(2, 3), flambeau.zeros(3), p=1.0, eps=0.0)
    tensor([3., 3.])
    """
    x1, x2 = _broadcast("pairwise_distance", x1, x2)
    diff = x1 - x2 + eps
    if diff.ndim == 0:  # two numbers: torch takes the norm of the one element
        return diff.reshape(1).norm(p, -1).reshape(())
    return diff.norm(p, -1, keepdim)


def pdist(input, p=2):
    """The ``p``-norm distance between every pair of rows of a 2-D ``input``.

    For ``input`` of shape ``(N, M)`` the result has the ``N * (N - 1) / 2`` distances of the
    pairs ``(i, j)`` with ``i < j``, in row-major order (the upper triangle of the distance
    matrix, as :func:`flambeau.cdist` would give it, without the diagonal).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.pdist(flambeau.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
    tensor([5.0000, 1.0000, 4.2426])
    >>> F.pdist(flambeau.tensor([[0.0, 0.0], [3.0, 4.0]]), p=1)
    tensor([7.])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pdist: expected a Tensor, got {type(input).__name__}")
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D "
                           f"(input of shape {tuple(input.shape)})")
    if not input.is_floating_point():
        raise RuntimeError(f"pdist only supports floating-point dtypes, got {input.dtype}")
    if p < 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got {p}")
    n = input.shape[0]
    i, j = flambeau.triu_indices(n, n, 1, device=input.device)
    return (input[i] - input[j]).norm(p, 1)
