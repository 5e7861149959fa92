"""Helpers shared by the distributions: broadcasting, probs/logits conversion, lazy attributes."""

from __future__ import annotations

from numbers import Number

import flambeau
from flambeau._tensor import Tensor

__all__ = [
    "broadcast_all",
    "logits_to_probs",
    "probs_to_logits",
    "clamp_probs",
    "lazy_property",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]


def broadcast_all(*values):
    """Broadcast tensors and numbers to one shape; numbers become tensors of the first tensor's
    dtype and device (the default dtype when there is none).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions._utils import broadcast_all
    >>> a, b = broadcast_all(flambeau.tensor([1.0, 2.0], dtype=flambeau.float64), 3)
    >>> b
    tensor([3., 3.], dtype=flambeau.float64)
    """
    ref = None
    for v in values:
        if isinstance(v, Tensor):
            if ref is None:
                ref = v
        elif not isinstance(v, Number):
            raise ValueError(
                "Input arguments must all be instances of numbers.Number, "
                "flambeau.Tensor or objects implementing __torch_function__."
            )
    if ref is None:
        opts = {"dtype": flambeau.get_default_dtype()}
    else:
        opts = {"dtype": ref.dtype, "device": ref.device}
    tensors = [v if isinstance(v, Tensor) else flambeau.tensor(v, **opts) for v in values]
    shape = flambeau.broadcast_shapes(*(t.shape for t in tensors))
    # tensors already of the common shape are returned as they are (no graph node)
    return tuple(t if t.shape == shape else t.expand(shape) for t in tensors)


def _standard_normal(shape, dtype, device):
    with flambeau.no_grad():
        return flambeau.randn(*shape, dtype=dtype, device=device)


def _sum_rightmost(value, dim):
    """Sum out the ``dim`` rightmost dimensions of ``value``."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[: value.dim() - dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    """Probabilities from logits: ``sigmoid`` when ``is_binary``, else ``softmax`` over the
    last dim.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions._utils import logits_to_probs
    >>> logits_to_probs(flambeau.tensor([0.0, 0.0]))
    tensor([0.5000, 0.5000])
    """
    if is_binary:
        return flambeau.sigmoid(logits)
    return flambeau.softmax(logits, dim=-1)


def clamp_probs(probs):
    """Clamp probabilities into ``[eps, 1 - eps]`` (``eps`` of their dtype).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions._utils import clamp_probs
    >>> clamp_probs(flambeau.tensor([0.0, 0.5], dtype=flambeau.float64))[1]
    tensor(0.5000, dtype=flambeau.float64)
    """
    eps = flambeau.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Logits from probabilities (clamped first): ``log(p) - log1p(-p)`` when ``is_binary``,
    else ``log(p)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions._utils import probs_to_logits
    >>> probs_to_logits(flambeau.tensor([0.5]), is_binary=True)
    tensor([0.])
    """
    p = clamp_probs(probs)
    if is_binary:
        return flambeau.log(p) - flambeau.log1p(-p)
    return flambeau.log(p)


class lazy_property:
    """A property computed on first access and then stored on the instance (with gradient
    recording on, so lazily derived parameters stay differentiable).

    Examples
    --------
    >>> from flambeau.distributions._utils import lazy_property
    >>> class A:
    ...     @lazy_property
    ...     def x(self):
    ...         print("computing")
    ...         return 1
    >>> a = A()
    >>> a.x
    computing
    1
    >>> a.x
    1
    """

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = getattr(wrapped, "__doc__", None)
        self.__name__ = getattr(wrapped, "__name__", None)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with flambeau.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def tril_matrix_to_vec(mat, diag=0):
    """The lower-triangular part (below diagonal ``diag``) of the last two dims, row-major, as
    a vector.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions._utils import tril_matrix_to_vec
    >>> tril_matrix_to_vec(flambeau.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([1., 3., 4.])
    """
    n = mat.shape[-1]
    if mat.shape[-2] != n:
        raise ValueError(
            f"tril_matrix_to_vec: expected square matrices, got shape {tuple(mat.shape)}"
        )
    rows, cols = flambeau.tril_indices(n, n, offset=diag, device=mat.device)
    return mat[..., rows, cols]


def vec_to_tril_matrix(vec, diag=0):
    """Inverse of :func:`tril_matrix_to_vec`: fill a lower-triangular matrix from a vector.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions._utils import vec_to_tril_matrix
    >>> vec_to_tril_matrix(flambeau.tensor([1.0, 3.0, 4.0]))
    tensor([[1., 0.],
            [3., 4.]])
    """
    m = vec.shape[-1]
    # m = n(n+1)/2 + diag*n (diag <= 0): solve for n
    n = int(
        round(
            (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * m + 4 * abs(diag) * (diag + 1)) ** 0.5)
            / 2
        )
    )
    rows, cols = flambeau.tril_indices(n, n, offset=diag, device=vec.device)
    if rows.shape[0] != m:
        raise ValueError(
            f"vec_to_tril_matrix: a vector of length {m} is not the "
            f"lower-triangular part of a square matrix (diag={diag})"
        )
    mat = flambeau.zeros(tuple(vec.shape[:-1]) + (n * n,), dtype=vec.dtype, device=vec.device)
    flat = rows * n + cols
    idx = flat.expand(tuple(vec.shape[:-1]) + (m,))
    return mat.scatter(-1, idx, vec).reshape(tuple(vec.shape[:-1]) + (n, n))


def _expand_params(self, cls, batch_shape, _instance, names, param_event_dims=0):
    """The shared body of ``Distribution.expand``: a new ``cls`` instance whose parameters
    ``names`` (those set on ``self``) are expanded views of shape ``batch_shape`` plus their
    ``param_event_dims`` rightmost dims."""
    new = self._get_checked_instance(cls, _instance)
    batch_shape = flambeau.Size(tuple(batch_shape))
    for name in names:
        if name in self.__dict__:
            value = self.__dict__[name]
            tail = tuple(value.shape[value.dim() - param_event_dims :]) if param_event_dims else ()
            setattr(new, name, value.expand(tuple(batch_shape) + tail))
    super(cls, new).__init__(batch_shape, self._event_shape, validate_args=False)
    new._validate_args = self._validate_args
    return new
