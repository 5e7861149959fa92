"""Discrete Fourier transforms, as ``torch.fft``.

Every transform takes PyTorch's arguments: ``n`` (one dimension) or ``s`` (several) to
zero-pad or truncate the input first, ``dim`` (negative dims count from the end) and ``norm``:

* ``"backward"`` (default, also ``None``): no scaling forward, ``1/n`` on the inverse;
* ``"ortho"``: ``1/sqrt(n)`` both ways (the transforms are then unitary);
* ``"forward"``: ``1/n`` forward, none on the inverse.

Real inputs give complex results of the same precision (float32 -> complex64, float64 ->
complex128); integer and bool inputs are first converted to the default float dtype; float16
and bfloat16 are refused, as by PyTorch on the CPU. The ``r*`` functions take real signals and
return the non-redundant half of their spectrum (bins ``0, ..., n // 2`` of the last transformed
dimension); the ``ir*`` functions invert them. The ``h*`` functions are the same pair for
signals whose spectrum is real (Hermitian-symmetric signals).

All transforms are differentiable, with PyTorch's convention for complex gradients
(``z.grad = dL/dRe(z) + i dL/dIm(z)``), and their backward passes are transforms again, so
second derivatives work too. They run the backend's FFT (NumPy's ``pocketfft`` on the CPU,
cuFFT through CuPy on CUDA) over all transformed dimensions at once.

Examples
--------
>>> import flambeau
>>> x = flambeau.tensor([1.0, 2.0, 3.0, 4.0])
>>> X = flambeau.fft.fft(x)
>>> X
tensor([10.+0.j, -2.+2.j, -2.+0.j, -2.-2.j])
>>> flambeau.fft.ifft(X).real
tensor([1., 2., 3., 4.])
>>> flambeau.fft.rfft(x)
tensor([10.+0.j, -2.+2.j, -2.+0.j])
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from flambeau import _compat, _dtype
from flambeau._creation import _finish
from flambeau._device import canonical
from flambeau._ops import shape as _sh
from flambeau._ops._util import need_tensor, wrap_dim, write_out
from flambeau._ops.complex import conj as _conj
from flambeau._ops.spectral import (
    SWAP_NORM,
    FftC2C,
    FftC2R,
    FftR2C,
    check_norm,
    check_out,
    check_signal,
)

__all__ = [
    "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn",
    "rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn",
    "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn",
    "fftfreq", "rfftfreq", "fftshift", "ifftshift",
]


# ------------------------------------------------------------------ arguments


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _points(op, n):
    if n < 1:
        raise RuntimeError(f"{op}: Invalid number of data points ({n}) specified")
    return int(n)


def _wrap(op, d, ndim):
    if ndim == 0:
        raise IndexError(f"{op}: Dimension specified as {d} but tensor has no dimensions")
    return wrap_dim(d, ndim, op)


def _one_dim(op, x, n, dim):
    """(axis, n or None) of a one-dimensional transform."""
    if not _is_int(dim):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    if n is not None:
        if not _is_int(n):
            raise TypeError(f"{op}(): argument 'n' must be int, not {type(n).__name__}")
        n = _points(op, n)
    return _wrap(op, dim, x._data.ndim), n


def _int_tuple(op, arg, value):
    if _is_int(value):
        return (int(value),)
    if isinstance(value, (list, tuple)) and builtins.all(_is_int(v) for v in value):
        return tuple(int(v) for v in value)
    raise TypeError(f"{op}(): argument '{arg}' must be tuple of ints, not "
                    f"{type(value).__name__}")


def _shape_and_dims(op, x, s, dim):
    """PyTorch's ``s`` / ``dim`` rules: (sizes or None per dim for -1, axes)."""
    ndim = x._data.ndim
    axes = None
    if dim is not None:
        axes = tuple(_wrap(op, d, ndim) for d in _int_tuple(op, "dim", dim))
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"{op}: FFT dims must be unique (got dim={tuple(dim)})")
    if s is None:
        if axes is None:
            axes = tuple(range(ndim))
        return [None] * len(axes), axes
    s = _int_tuple(op, "s", s)
    if axes is not None and len(axes) != len(s):
        raise RuntimeError(f"{op}: When given, dim and shape arguments must have the same "
                           f"length (got s={s} and dim={tuple(dim)})")
    if axes is None:
        if len(s) > ndim:
            raise RuntimeError(f"{op}: Got shape with {len(s)} values but input tensor only "
                               f"has {ndim} dimensions.")
        axes = tuple(range(ndim - len(s), ndim))
    for v in s:
        if v != -1:
            _points(op, v)
    return [None if v == -1 else v for v in s], axes


def _resize(x, axes, sizes):
    """``x`` zero-padded or truncated at the end of ``axes`` to ``sizes`` (differentiable:
    truncated entries get a zero gradient)."""
    shape = x._data.shape
    widths = [(0, 0)] * len(shape)
    changed = False
    for ax, size in zip(axes, sizes):
        if size != shape[ax]:
            widths[ax] = (0, size - shape[ax])
            changed = True
    return _sh.Pad.apply(x, tuple(widths), 0) if changed else x


def _finish_out(op, result, out):
    check_out(op, result, out)
    return write_out(result, out, op=op)


# ------------------------------------------------------------------ the transforms


def _c2c(op, input, s, dim, norm, forward, out):
    x = check_signal(op, input)
    norm = check_norm(op, norm)
    sizes, axes = _shape_and_dims(op, x, s, dim)
    sizes = [x._data.shape[ax] if v is None else v for v, ax in zip(sizes, axes)]
    for v in sizes:
        _points(op, v)
    x = _resize(x, axes, sizes)
    return _finish_out(op, FftC2C.apply(x, axes, norm, forward), out)


def _r2c(op, input, s, dim, norm, out, *, hermitian=False):
    x = check_signal(op, input, real=True)
    norm = check_norm(op, norm)
    sizes, axes = _shape_and_dims(op, x, s, dim)
    if not axes:
        raise RuntimeError(f"{op} must transform at least one axis")
    sizes = [x._data.shape[ax] if v is None else v for v, ax in zip(sizes, axes)]
    for v in sizes:
        _points(op, v)
    x = _resize(x, axes, sizes)
    if hermitian:  # ihfft: the conjugate of rfft with the norms swapped
        return _finish_out(op, _conj(FftR2C.apply(x, axes, SWAP_NORM[norm])), out)
    return _finish_out(op, FftR2C.apply(x, axes, norm), out)


def _c2r(op, input, s, dim, norm, out, *, hermitian=False):
    x = check_signal(op, input)
    norm = check_norm(op, norm)
    sizes, axes = _shape_and_dims(op, x, s, dim)
    if not axes:
        raise RuntimeError(f"{op} must transform at least one axis")
    shape = x._data.shape
    last = sizes[-1] if sizes[-1] is not None else 2 * (shape[axes[-1]] - 1)
    last = _points(op, last)
    sizes = [shape[ax] if v is None else v for v, ax in zip(sizes[:-1], axes[:-1])]
    for v in sizes:
        _points(op, v)
    x = _resize(x, axes, sizes + [last // 2 + 1])
    if hermitian:  # hfft: irfft of the conjugate, with the norms swapped
        return _finish_out(op, FftC2R.apply(_conj(x), axes, SWAP_NORM[norm], last), out)
    return _finish_out(op, FftC2R.apply(x, axes, norm, last), out)


def _one_c2c(op, input, n, dim, norm, forward, out):
    need_tensor(op, input)
    axis, n = _one_dim(op, input, n, dim)
    return _c2c(op, input, None if n is None else (n,), (axis,), norm, forward, out)


def fft(input, n=None, dim=-1, norm=None, *, out=None):
    """The one-dimensional discrete Fourier transform of ``input`` along ``dim``.

    Parameters
    ----------
    input : Tensor
        Real or complex signal (integer inputs become the default float dtype).
    n : int, optional
        Signal length: ``input`` is zero-padded or truncated to ``n`` along ``dim`` first.
    dim : int
        The dimension to transform (default: the last).
    norm : str, optional
        ``"backward"`` (default: no scaling), ``"ortho"`` (``1/sqrt(n)``) or ``"forward"``
        (``1/n``).
    out : Tensor, optional
        Complex tensor to hold the result.

    Returns
    -------
    Tensor
        Complex, of ``input``'s precision, with ``n`` entries along ``dim``.

    Raises
    ------
    RuntimeError
        If ``n < 1``, the signal is empty, ``norm`` is unknown or the dtype is half precision.
    IndexError
        If ``dim`` is out of range.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.fft.fft(flambeau.tensor([1.0, 2.0, 3.0, 4.0]))
    tensor([10.+0.j, -2.+2.j, -2.+0.j, -2.-2.j])
    >>> flambeau.fft.fft(flambeau.tensor([1.0, 1.0]), n=4, norm="ortho")
    tensor([1.0000+0.0000j, 0.5000-0.5000j, 0.0000+0.0000j, 0.5000+0.5000j])
    """
    return _one_c2c("fft.fft", input, n, dim, norm, True, out)


def ifft(input, n=None, dim=-1, norm=None, *, out=None):
    """The one-dimensional inverse discrete Fourier transform of ``input`` along ``dim``.

    ``ifft(fft(x)) == x``. Arguments as :func:`fft`; the default norm ``"backward"`` scales
    by ``1/n`` here.

    Examples
    --------
    >>> import flambeau
    >>> X = flambeau.tensor([10 + 0j, -2 + 2j, -2 + 0j, -2 - 2j])
    >>> flambeau.fft.ifft(X)
    tensor([1.+0.j, 2.+0.j, 3.+0.j, 4.+0.j])
    """
    return _one_c2c("fft.ifft", input, n, dim, norm, False, out)


def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """The two-dimensional discrete Fourier transform: :func:`fftn` over the last two dims.

    Parameters
    ----------
    input : Tensor
        Real or complex tensor with at least two dimensions (or as many as ``dim`` names).
    s : tuple of int, optional
        Signal size along each of ``dim`` (``-1`` keeps a dimension's size): the input is
        zero-padded or truncated first.
    dim : tuple of int
        The dimensions to transform.
    norm : str, optional
        ``"backward"``, ``"ortho"`` or ``"forward"``, as in :func:`fft`, with ``n`` the
        product of the transformed sizes.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.fft.fft2(flambeau.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([[10.+0.j, -2.+0.j],
            [-4.+0.j,  0.+0.j]])
    """
    return _c2c("fft.fft2", input, s, dim, norm, True, out)


def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """The two-dimensional inverse discrete Fourier transform (:func:`ifftn` over the last
    two dims); arguments as :func:`fft2`.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.fft.ifft2(flambeau.tensor([[10.0, -2.0], [-4.0, 0.0]])).real
    tensor([[1., 2.],
            [3., 4.]])
    """
    return _c2c("fft.ifft2", input, s, dim, norm, False, out)


def fftn(input, s=None, dim=None, norm=None, *, out=None):
    """The N-dimensional discrete Fourier transform over ``dim`` (default: all dims, or the
    last ``len(s)`` when only ``s`` is given).

    Parameters
    ----------
    input : Tensor
        Real or complex signal.
    s : tuple of int, optional
        Signal size along each transformed dim (``-1``: keep it); zero-pads or truncates.
    dim : int or tuple of int, optional
        The dimensions to transform (unique).
    norm : str, optional
        ``"backward"``, ``"ortho"`` or ``"forward"``.
    out : Tensor, optional
        Complex tensor to hold the result.

    Raises
    ------
    RuntimeError
        If ``s`` and ``dim`` differ in length, ``s`` is longer than ``input.dim()``, a size
        is below 1, a dim repeats or ``norm`` is unknown.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.ones(2, 3, 4)
    >>> flambeau.fft.fftn(x)[0, 0, 0]
    tensor(24.+0.j)
    >>> flambeau.fft.fftn(x, s=(2, 2), dim=(0, 2)).shape
    flambeau.Size([2, 3, 2])
    """
    return _c2c("fft.fftn", input, s, dim, norm, True, out)


def ifftn(input, s=None, dim=None, norm=None, *, out=None):
    """The N-dimensional inverse discrete Fourier transform; arguments as :func:`fftn`.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> flambeau.fft.ifftn(flambeau.fft.fftn(x)).real
    tensor([[1., 2.],
            [3., 4.]])
    """
    return _c2c("fft.ifftn", input, s, dim, norm, False, out)


def rfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The discrete Fourier transform of a real signal: bins ``0, ..., n // 2`` (the others are
    their conjugates).

    Parameters
    ----------
    input : Tensor
        Real signal (complex inputs raise; use :func:`fft`).
    n : int, optional
        Signal length (zero-padding or truncation first); the result has ``n // 2 + 1`` bins.
    dim : int
        The dimension to transform.
    norm : str, optional
        ``"backward"``, ``"ortho"`` or ``"forward"``.
    out : Tensor, optional
        Complex tensor to hold the result.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.fft.rfft(flambeau.tensor([1.0, 2.0, 3.0, 4.0]))
    tensor([10.+0.j, -2.+2.j, -2.+0.j])
    >>> flambeau.fft.rfft(flambeau.ones(3), n=5).shape
    flambeau.Size([3])
    """
    need_tensor("fft.rfft", input)
    axis, n = _one_dim("fft.rfft", input, n, dim)
    return _r2c("fft.rfft", input, None if n is None else (n,), (axis,), norm, out)


def irfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The inverse of :func:`rfft`: a real signal of ``n`` samples from its bins
    ``0, ..., n // 2``.

    The imaginary parts of the DC bin (and of the Nyquist bin for even ``n``) are ignored.

    Parameters
    ----------
    input : Tensor
        One-sided spectrum (real inputs are taken as complex with zero imaginary parts).
    n : int, optional
        Output length (default ``2 * (input.size(dim) - 1)``); the input is cut or
        zero-padded to ``n // 2 + 1`` bins first.
    dim : int
        The dimension to transform.
    norm : str, optional
        ``"backward"`` (default: ``1/n``), ``"ortho"`` or ``"forward"`` (no scaling).
    out : Tensor, optional
        Real tensor to hold the result.

    Examples
    --------
    >>> import flambeau
    >>> X = flambeau.fft.rfft(flambeau.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))
    >>> flambeau.fft.irfft(X, n=5)
    tensor([1., 2., 3., 4., 5.])
    """
    need_tensor("fft.irfft", input)
    axis, n = _one_dim("fft.irfft", input, n, dim)
    return _c2r("fft.irfft", input, None if n is None else (n,), (axis,), norm, out)


def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """:func:`rfftn` over the last two dims: one-sided along ``dim[-1]``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.fft.rfft2(flambeau.ones(4, 6)).shape
    flambeau.Size([4, 4])
    """
    return _r2c("fft.rfft2", input, s, dim, norm, out)


def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """:func:`irfftn` over the last two dims, the inverse of :func:`rfft2`.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.arange(12.0).reshape(3, 4)
    >>> flambeau.fft.irfft2(flambeau.fft.rfft2(x), s=(3, 4))
    tensor([[ 0.,  1.,  2.,  3.],
            [ 4.,  5.,  6.,  7.],
            [ 8.,  9., 10., 11.]])
    """
    return _c2r("fft.irfft2", input, s, dim, norm, out)


def rfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The N-dimensional discrete Fourier transform of a real signal, one-sided along the
    last of ``dim`` (``s[-1] // 2 + 1`` bins there); arguments as :func:`fftn`.

    Raises
    ------
    RuntimeError
        If ``input`` is complex or no dimension is transformed.

    Examples
    --------
    >>> import flambeau
    >>> X = flambeau.fft.rfftn(flambeau.ones(2, 3, 4))
    >>> X.shape, X[0, 0, 0]
    (flambeau.Size([2, 3, 3]), tensor(24.+0.j))
    """
    return _r2c("fft.rfftn", input, s, dim, norm, out)


def irfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The inverse of :func:`rfftn`: a real signal whose size along the last of ``dim`` is
    ``s[-1]`` (default ``2 * (input.size(dim[-1]) - 1)``).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.arange(6.0).reshape(2, 3)
    >>> flambeau.fft.irfftn(flambeau.fft.rfftn(x), s=x.shape)
    tensor([[0., 1., 2.],
            [3., 4., 5.]])
    """
    return _c2r("fft.irfftn", input, s, dim, norm, out)


def hfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The discrete Fourier transform of a Hermitian-symmetric signal given by its first
    half (``n // 2 + 1`` samples): a real spectrum of ``n`` bins.

    ``hfft(x, n)`` is ``irfft(x.conj(), n)`` scaled as a forward transform: with the default
    norm ``"backward"`` it is not scaled.

    Parameters
    ----------
    input : Tensor
        Half of the signal (real or complex).
    n : int, optional
        Output length (default ``2 * (input.size(dim) - 1)``).
    dim : int
        The dimension to transform.
    norm : str, optional
        ``"backward"`` (default: none), ``"ortho"`` or ``"forward"`` (``1/n``).
    out : Tensor, optional
        Real tensor to hold the result.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.fft.hfft(flambeau.tensor([1.0, 2.0, 3.0]))
    tensor([ 8., -2.,  0., -2.])
    """
    need_tensor("fft.hfft", input)
    axis, n = _one_dim("fft.hfft", input, n, dim)
    return _c2r("fft.hfft", input, None if n is None else (n,), (axis,), norm, out,
                hermitian=True)


def ihfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The inverse of :func:`hfft`: the first half (``n // 2 + 1`` samples) of the
    Hermitian-symmetric signal whose spectrum is the real ``input``.

    ``ihfft(x)`` is ``rfft(x).conj() / n`` with the default norm.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.fft.ihfft(flambeau.tensor([8.0, -2.0, 0.0, -2.0]))
    tensor([1.-0.j, 2.-0.j, 3.-0.j])
    """
    need_tensor("fft.ihfft", input)
    axis, n = _one_dim("fft.ihfft", input, n, dim)
    return _r2c("fft.ihfft", input, None if n is None else (n,), (axis,), norm, out,
                hermitian=True)


def hfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """:func:`hfftn` over the last two dims.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.fft.hfft2(flambeau.ones(2, 3)).shape
    flambeau.Size([2, 4])
    """
    return _c2r("fft.hfft2", input, s, dim, norm, out, hermitian=True)


def ihfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """:func:`ihfftn` over the last two dims.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.fft.ihfft2(flambeau.ones(2, 4))
    tensor([[1.-0.j, 0.-0.j, 0.-0.j],
            [0.-0.j, 0.-0.j, 0.-0.j]])
    """
    return _r2c("fft.ihfft2", input, s, dim, norm, out, hermitian=True)


def hfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The N-dimensional :func:`hfft`: the input holds the first half of a signal along the
    last of ``dim``, full along the others; the result is real, ``s[-1]`` long there
    (default ``2 * (input.size(dim[-1]) - 1)``).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]])
    >>> flambeau.fft.hfftn(x)
    tensor([[10., -2., -2., -2.],
            [ 6., -2.,  2., -2.]])
    """
    return _c2r("fft.hfftn", input, s, dim, norm, out, hermitian=True)


def ihfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The inverse of :func:`hfftn` for a real ``input``: one-sided along the last of
    ``dim``.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]])
    >>> X = flambeau.fft.ihfftn(x)
    >>> X.shape
    flambeau.Size([2, 2])
    >>> flambeau.allclose(flambeau.fft.hfftn(X, s=x.shape), x, atol=1e-6)
    True
    """
    return _r2c("fft.ihfftn", input, s, dim, norm, out, hermitian=True)


# ------------------------------------------------------------------ frequencies and shifts


def _freq_dtype(op, dtype):
    dt = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    if dt.is_complex:
        raise NotImplementedError(f"{op}: complex dtype {dt} is not supported (PyTorch's "
                                  f"arange has no complex kernel): use a float dtype")
    if not dt.is_floating_point:
        raise RuntimeError(f"{op} requires a floating point or complex dtype, got {dt}")
    return dt


def _freqs(op, values, n, d, out, dtype, device, requires_grad, pin_memory):
    """``values`` (host int64) times ``1 / (n * d)`` in ``dtype``, as PyTorch computes it
    (in ``out``'s dtype and on its device when it is given)."""
    if out is not None:
        need_tensor(op, out, "out")
        dtype = out.dtype if dtype is None else dtype
        device = out.device if device is None else device
    dt = _freq_dtype(op, dtype)
    denom = n * float(d)
    scale = math.inf if denom == 0 else 1.0 / denom
    compute = np.dtype(np.float32) if dt.np.itemsize < 4 else np.dtype(dt.np)
    with np.errstate(invalid="ignore"):
        # the scale is rounded to the dtype first, the product computed in float32 at least
        arr = (values.astype(compute) * compute.type(dt.np.type(scale))).astype(dt.np)
    if out is not None:
        return write_out(_finish(arr, canonical(device), requires_grad), out, op=op)
    return _finish(arr, canonical(device), requires_grad, pin_memory, op)


def _check_n(op, n):
    if not _is_int(n):
        raise TypeError(f"{op}(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"{op}: Trying to create tensor with negative dimension {n}: [{n}]")
    return int(n)


def fftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None,
            requires_grad=False, pin_memory=False):
    """The sample frequencies of an ``n``-point :func:`fft` with sample spacing ``d``:
    ``[0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (n * d)``.

    Parameters
    ----------
    n : int
        The signal length.
    d : float
        Sample spacing (the inverse of the sampling rate).
    dtype : flambeau.dtype, optional
        A floating dtype (default: the default float dtype).
    device : flambeau.device, optional
        Where to create the tensor.
    requires_grad : bool
        Whether the result requires grad.
    pin_memory : bool
        Make the result in page-locked host memory (needs an accelerator, as in PyTorch;
        ignored with ``out``).
    out : Tensor, optional
        Tensor to hold the result (its dtype is the default ``dtype``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.fft.fftfreq(5)
    tensor([ 0.0000,  0.2000,  0.4000, -0.4000, -0.2000])
    >>> flambeau.fft.fftfreq(4, d=0.5)
    tensor([ 0.0000,  0.5000, -1.0000, -0.5000])
    """
    _compat.check_layout("fft.fftfreq", layout)
    n = _check_n("fft.fftfreq", n)
    values = np.arange(n, dtype=np.int64)
    values[(n + 1) // 2:] -= n
    return _freqs("fft.fftfreq", values, n, d, out, dtype, device, requires_grad, pin_memory)


def rfftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    """The sample frequencies of an ``n``-point :func:`rfft` with sample spacing ``d``:
    ``[0, 1, ..., n // 2] / (n * d)``; arguments as :func:`fftfreq`.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.fft.rfftfreq(6, d=2.0)
    tensor([0.0000, 0.0833, 0.1667, 0.2500])
    """
    _compat.check_layout("fft.rfftfreq", layout)
    n = _check_n("fft.rfftfreq", n)
    values = np.arange(n // 2 + 1, dtype=np.int64)
    return _freqs("fft.rfftfreq", values, n, d, out, dtype, device, requires_grad, pin_memory)


def _shift(op, input, dim, inverse):
    need_tensor(op, input)
    ndim = input._data.ndim
    if dim is None:
        axes = tuple(range(ndim))
    else:
        axes = tuple(_wrap(op, d, ndim) for d in _int_tuple(op, "dim", dim))
    if not axes:
        raise RuntimeError(f"{op}: `shifts` required: there is no dimension to shift (a 0-d "
                           f"input or dim=())")
    shape = input._data.shape
    shifts = tuple((shape[a] + 1) // 2 if inverse else shape[a] // 2 for a in axes)
    return _sh.roll(input, shifts, axes)


def fftshift(input, dim=None):
    """Move the zero-frequency bin to the centre: roll each of ``dim`` (default: all dims)
    by ``size // 2``, as :func:`fftfreq`'s frequencies sorted in increasing order.

    Examples
    --------
    >>> import flambeau
    >>> f = flambeau.fft.fftfreq(5)
    >>> flambeau.fft.fftshift(f)
    tensor([-0.4000, -0.2000,  0.0000,  0.2000,  0.4000])
    >>> flambeau.fft.fftshift(flambeau.arange(6).reshape(2, 3), dim=1)
    tensor([[2, 0, 1],
            [5, 3, 4]])
    """
    return _shift("fft.fftshift", input, dim, False)


def ifftshift(input, dim=None):
    """The inverse of :func:`fftshift`: roll each of ``dim`` by ``(size + 1) // 2``.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.arange(5)
    >>> flambeau.fft.ifftshift(flambeau.fft.fftshift(x))
    tensor([0, 1, 2, 3, 4])
    """
    return _shift("fft.ifftshift", input, dim, True)
