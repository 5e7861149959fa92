"""Autocast for custom autograd Functions: ``custom_fwd`` / ``custom_bwd`` (``torch.amp``).

A custom Function's backward runs after its autocast region has closed. ``custom_fwd``
records the region's state on ``ctx`` and ``custom_bwd`` restores it around the backward,
so both passes compute in the same dtypes. With ``cast_inputs``, the forward instead runs
with autocast off on inputs cast to one dtype (for ops that need, say, float32).
"""

from __future__ import annotations

import functools

from flambeau import _dtype
from flambeau._tensor import Tensor
from flambeau.amp._autocast import _eligible, autocast, get_autocast_dtype, is_autocast_enabled
from flambeau.backends import _registry

__all__ = ["custom_fwd", "custom_bwd", "is_autocast_available"]


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast can be used for ``device_type``: the CPU and every device type a
    backend plugin provides or flambeau knows of (``"cuda"``, even before flambeau-cuda is
    installed, as torch answers for a device type its build knows).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.amp.is_autocast_available("cpu"), flambeau.amp.is_autocast_available("tpu")
    (True, False)
    """
    return device_type in _registry.KNOWN_PLUGINS or _registry.has_backend(device_type)


def _cast(value, target):
    """``value`` with the floating tensors autocast may cast (on ``target``'s device type,
    not float64) cast to ``target``'s dtype, looking into lists, tuples and dicts."""
    if isinstance(value, Tensor):
        dtype = _eligible(value, target)
        return value if dtype is None else value.to(dtype)
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, target) for v in value)
    if isinstance(value, dict):
        return {k: _cast(v, target) for k, v in value.items()}
    return value


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorate the ``forward`` of a custom :class:`~flambeau.autograd.Function` for autocast.

    Inside an autocast region for ``device_type``, the forward runs with the region's state,
    which :func:`custom_bwd` restores around the backward. With ``cast_inputs`` (a floating
    dtype), the forward instead runs with autocast off, on its floating inputs (of that device
    type, not float64) cast to ``cast_inputs``. Outside a region it changes nothing.

    Parameters
    ----------
    fwd : callable, optional
        The ``forward`` staticmethod's function (omit it to get a decorator).
    device_type : str
        The device type whose autocast state matters (``"cpu"``, ``"cuda"``).
    cast_inputs : flambeau.dtype, optional
        The dtype to run the forward in, with autocast off.

    Raises
    ------
    TypeError
        When ``device_type`` is missing or not a string.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.amp import custom_bwd, custom_fwd
    >>> class Square(flambeau.autograd.Function):
    ...     @staticmethod
    ...     @custom_fwd(device_type="cpu", cast_inputs=flambeau.float32)
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     @custom_bwd(device_type="cpu")
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return 2 * x * g
    >>> x = flambeau.ones(2, dtype=flambeau.bfloat16, requires_grad=True)
    >>> with flambeau.autocast("cpu"):
    ...     y = Square.apply(x)
    >>> y.dtype
    flambeau.float32
    >>> y.sum().backward(); x.grad
    tensor([2., 2.], dtype=flambeau.bfloat16)
    """
    if not isinstance(device_type, str):
        raise TypeError(f"custom_fwd: device_type must be a string such as 'cpu' or 'cuda', "
                        f"got {device_type!r}")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    target = None if cast_inputs is None else {device_type: _dtype.to_dtype(cast_inputs)}

    @functools.wraps(fwd)
    def forward(ctx, *args, **kwargs):
        enabled = is_autocast_enabled(device_type)
        ctx._autocast_dtype = get_autocast_dtype(device_type)
        ctx._fwd_used_autocast = enabled and target is None
        if not enabled or target is None:
            return fwd(ctx, *args, **kwargs)
        with autocast(device_type, enabled=False):
            return fwd(ctx, *_cast(args, target), **_cast(kwargs, target))

    return forward


def custom_bwd(bwd=None, *, device_type):
    """Decorate the ``backward`` of a custom :class:`~flambeau.autograd.Function` whose
    ``forward`` has :func:`custom_fwd`: the backward runs with the autocast state the forward
    ran with.

    Parameters
    ----------
    bwd : callable, optional
        The ``backward`` staticmethod's function (omit it to get a decorator).
    device_type : str
        The device type, as given to :func:`custom_fwd`.

    Raises
    ------
    TypeError
        When ``device_type`` is missing or not a string.
    RuntimeError
        When the forward was not decorated with :func:`custom_fwd`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.amp import custom_bwd, custom_fwd
    >>> class MatSquare(flambeau.autograd.Function):
    ...     @staticmethod
    ...     @custom_fwd(device_type="cpu")
    ...     def forward(ctx, a):
    ...         ctx.save_for_backward(a)
    ...         return a @ a
    ...     @staticmethod
    ...     @custom_bwd(device_type="cpu")
    ...     def backward(ctx, g):
    ...         (a,) = ctx.saved_tensors
    ...         grad = g @ a.t() + a.t() @ g   # in bfloat16, as the forward
    ...         print(grad.dtype)
    ...         return grad
    >>> a = flambeau.eye(2, requires_grad=True)
    >>> with flambeau.autocast("cpu"):
    ...     out = MatSquare.apply(a)
    >>> out.float().sum().backward()
    flambeau.bfloat16
    """
    if not isinstance(device_type, str):
        raise TypeError(f"custom_bwd: device_type must be a string such as 'cpu' or 'cuda', "
                        f"got {device_type!r}")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def backward(ctx, *args, **kwargs):
        if not hasattr(ctx, "_fwd_used_autocast"):
            raise RuntimeError(f"custom_bwd: the forward of {bwd.__qualname__} has no "
                               f"custom_fwd decorator, so its autocast state is unknown")
        with autocast(device_type, dtype=ctx._autocast_dtype, enabled=ctx._fwd_used_autocast):
            return bwd(ctx, *args, **kwargs)

    return backward
