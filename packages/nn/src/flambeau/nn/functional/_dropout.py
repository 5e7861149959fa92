"""flambeau.nn.functional: dropout variants; masks come from flambeau's random generators."""

from __future__ import annotations

import warnings

from flambeau import Tensor
from flambeau._inplace import write_result
from flambeau._random import generator_for
from flambeau.nn._complex import refuse_complex

__all__ = ["alpha_dropout", "dropout", "dropout1d", "dropout2d", "dropout3d",
           "feature_alpha_dropout"]

_SELU_NEG = -1.7580993408473766  # -scale * alpha of SELU: the value dropped units take


def _check_p(p, op):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input, shape, p, rng=None):
    """A float array of shape ``shape``: 1 with probability ``1 - p``, else 0."""
    rng = rng or generator_for(None, input._device)._rng
    dt = input._data.dtype
    draw = rng.random(shape, dt if dt.kind == "f" and dt.itemsize >= 4 else "float32")
    return (draw >= p).astype(dt)


def _apply_mask(input, mask, inplace, op):
    m = Tensor._make(mask, input._device)
    if inplace:
        return write_result(input, lambda src: src * m, op + "_")
    return input * m


def _scaled_dropout(input, p, training, inplace, shape, op):
    _check_p(p, op)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _apply_mask(input, input._device._xp.zeros(shape, input._data.dtype), inplace, op)
    if input._data.dtype.kind == "c":  # PyTorch has no complex Bernoulli draw (p 0 or 1 pass)
        refuse_complex(op, input)
    rng = generator_for(None, input._device)._rng
    # a backend may draw the scaled mask in one kernel ("dropout_mask": same draws, same mask)
    mask = input._device.backend.run_kernel("dropout_mask", rng, shape, p, input._data.dtype)
    if mask is None:
        mask = _keep_mask(input, shape, p, rng)
        mask *= 1.0 / (1.0 - p)
    return _apply_mask(input, mask, inplace, op)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Identity when ``training`` is False.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> y = F.dropout(flambeau.ones(1000), 0.5)
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    >>> F.dropout(flambeau.ones(2), 0.5, training=False)
    tensor([1., 1.])
    """
    return _scaled_dropout(input, p, training, inplace, tuple(input.shape), "dropout")


def _channel_dropout(input, p, training, inplace, spatial, op):
    if input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{op}: expected {spatial + 1}D or {spatial + 2}D input, got input of "
                           f"shape {tuple(input.shape)}")
    lead = input.ndim - spatial  # (C,) unbatched or (N, C)
    shape = tuple(input.shape[:lead]) + (1,) * spatial
    return _scaled_dropout(input, p, training, inplace, shape, op)


def _other_rank_dropout(input, p, training, inplace, spatial, op, batched):
    """PyTorch's deprecated fallback for a ``dropout2d``/``dropout3d`` input of another rank: a
    warning, then one draw per ``(N, C)`` pair (``batched``, as dropout2d) or per entry of dim
    0 (as dropout3d, which takes the input as unbatched), shared along the remaining dims.

    So a 2-D ``(N, C)`` input to ``dropout2d`` (mnist_rnn's BatchNorm1d output) is an
    elementwise dropout, as in PyTorch, rather than an error."""
    warnings.warn(
        f"{op}: a {input.ndim}-D input is deprecated, as in PyTorch, which will refuse it: {op} "
        f"drops whole channels of inputs with {spatial} spatial dimensions, a channel "
        f"dimension and an optional batch dimension ({spatial + 1}D or {spatial + 2}D); use "
        "dropout for an elementwise dropout", UserWarning, stacklevel=3)
    lead = 2 if batched else 1
    if input.ndim < lead and training and 0.0 < p < 1.0:
        raise RuntimeError(f"{op}: feature dropout needs at least 2 dimensions (N, C, ...) "
                           f"{'' if batched else 'after adding a batch dimension '}but got an "
                           f"input of shape {tuple(input.shape)}")
    shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    return _scaled_dropout(input, p, training, inplace, shape, op)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, L)`` (or ``(C, L)``) inputs with probability ``p``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> y = F.dropout1d(flambeau.ones(4, 8, 3))
    >>> bool((y.amax(-1) == y.amin(-1)).all())
    True
    """
    return _channel_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, H, W)`` inputs with probability ``p``.

    A 3-D input is taken as ``(N, C, L)``, as PyTorch does. Other ranks are deprecated, as in
    PyTorch: they warn and draw one mask entry per ``(N, C)`` pair (so a 2-D ``(N, C)`` input
    gets an elementwise dropout); fewer than 2 dimensions raise a RuntimeError in training.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.dropout2d(flambeau.ones(2, 3, 4, 4), training=False).shape
    flambeau.Size([2, 3, 4, 4])
    """
    if input.ndim == 3:
        return _channel_dropout(input, p, training, inplace, 1, "dropout2d")
    if input.ndim != 4:
        return _other_rank_dropout(input, p, training, inplace, 2, "dropout2d", batched=True)
    return _channel_dropout(input, p, training, inplace, 2, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) inputs.

    Other ranks are deprecated, as in PyTorch: they warn and are taken as unbatched, one mask
    entry per index of dim 0 shared along the others.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.dropout3d(flambeau.ones(1, 2, 2, 2, 2), p=0.0).shape
    flambeau.Size([1, 2, 2, 2, 2])
    """
    if input.ndim not in (4, 5):
        return _other_rank_dropout(input, p, training, inplace, 3, "dropout3d", batched=False)
    return _channel_dropout(input, p, training, inplace, 3, "dropout3d")


def _alpha(input, p, training, shape, op):
    _check_p(p, op)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    if input._data.dtype.kind == "c":
        refuse_complex(op, input)
    keep = _keep_mask(input, shape, p)
    q = 1.0 - p
    a = (q + _SELU_NEG ** 2 * q * p) ** -0.5
    b = -a * _SELU_NEG * p
    # y = a * (x * keep + neg * (1 - keep)) + b keeps SELU's zero mean and unit variance
    scale = Tensor._make(a * keep, input._device)
    shift = Tensor._make((a * _SELU_NEG * (1 - keep) + b).astype(keep.dtype), input._device)
    return input * scale + shift


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps the mean and variance of SELU activations.

    Dropped elements take SELU's negative saturation value; an affine map restores the
    statistics. Identity when ``training`` is False (the default, as in PyTorch).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.alpha_dropout(flambeau.ones(3), 0.5)
    tensor([1., 1., 1.])
    """
    return _alpha(input, p, training, tuple(input.shape), "alpha_dropout")


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """:func:`alpha_dropout` over whole channels (dimension 1).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.feature_alpha_dropout(flambeau.ones(2, 3, 4), 0.5, training=True).shape
    flambeau.Size([2, 3, 4])
    """
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _alpha(input, p, training, shape, "feature_alpha_dropout")
