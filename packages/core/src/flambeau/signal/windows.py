"""Window functions, as ``torch.signal.windows`` (SciPy's ``scipy.signal.windows`` names).

Each function returns a 1-D tensor of ``M`` points. ``sym=True`` (the default) gives a
symmetric window, for filter design; ``sym=False`` a periodic one, for spectral analysis: the
first ``M`` points of the symmetric window of ``M + 1`` points. ``M == 0`` gives an empty
tensor and ``M == 1`` the single point ``1`` (the exponential window with a ``center`` of
its own excepted).

The values are computed in float64 and then cast to ``dtype``, float32 or float64 (the
default dtype when ``dtype`` is None): other dtypes are refused, as by PyTorch. The result
is a leaf tensor; ``requires_grad=True`` makes it require gradients.

Examples
--------
>>> import flambeau
>>> from flambeau.signal import windows
>>> windows.hann(5)
tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
>>> windows.hann(4, sym=False)
tensor([0.0000, 0.5000, 1.0000, 0.5000])
>>> windows.gaussian(3, std=1.0, dtype=flambeau.float64)
tensor([0.6065, 1.0000, 0.6065], dtype=flambeau.float64)
"""

from __future__ import annotations

import collections.abc
import math
import operator

from flambeau import _creation, _dtype
from flambeau._compat import strided
from flambeau._ops.shape_more import _cosine_sum, _i0e, _window

__all__ = [
    "bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
    "general_hamming", "hamming", "hann", "kaiser", "nuttall",
]

#: the coefficients of the Blackman and Nuttall windows (SciPy's, as PyTorch's)
_BLACKMAN = (0.42, 0.5, 0.08)
_NUTTALL = (0.3635819, 0.4891775, 0.1365995, 0.0106411)

_COMMON = """sym : bool, optional
        True (default): a symmetric window, for filter design. False: a periodic one, for
        spectral analysis (the first ``M`` points of the symmetric window of ``M + 1``).
    dtype : flambeau.dtype, optional
        flambeau.float32 or flambeau.float64; None (default) is the default dtype
        (:func:`flambeau.get_default_dtype`).
    layout : flambeau.layout, optional
        Only ``flambeau.strided`` (the default).
    device : flambeau.device, optional
        Where the window lives; None (default) is the default device.
    requires_grad : bool, optional
        Whether the returned (leaf) tensor requires gradients. Default False."""


def _documented(fn):
    """Put the parameters every window shares into the ``{common}`` slot of its docstring."""
    fn.__doc__ = fn.__doc__.replace("{common}", _COMMON)
    return fn


def _checked(name, M, layout, dtype):
    """The window's dtype, after PyTorch's checks of ``M``, ``layout`` and ``dtype``.

    ``name`` is the function the messages name (PyTorch's: ``hann`` reports as
    ``general_cosine``, which it is a case of).
    """
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    dt = _dtype.get_default_dtype() if dtype is None else dtype
    if dt is not _dtype.float32 and dt is not _dtype.float64:
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dt}")
    return dt


def _length(public, M, computed_at_one=False):
    """``M`` as an int.

    ``M == 0`` and, for windows that return ``[1.]`` without computing anything,
    ``M == 1`` are taken in any numeric form (``0.0``, ``True``), as PyTorch takes them;
    a window that has points to compute needs an integer.
    """
    if M == 0:
        return 0
    if M == 1 and not computed_at_one:
        return 1
    if not isinstance(M, bool):
        try:
            return operator.index(M)
        except TypeError:
            pass
    raise TypeError(f"{public}(): argument 'M' must be int, not {type(M).__name__}")


def _general_cosine(public, M, a, sym, dtype, layout, device, requires_grad):
    """``general_cosine`` for every window that is a case of it (PyTorch names it in errors)."""
    name = "general_cosine"
    dt = _checked(name, M, layout, dtype)
    length = _length(public, M)
    if length <= 1:
        return _window(public, length, not sym, dt, device, requires_grad, None)
    if not isinstance(a, collections.abc.Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    coefficients = [float(c) for c in a]
    if not coefficients:
        raise ValueError("Coefficients cannot be empty")
    return _window(public, length, not sym, dt, device, requires_grad,
                   lambda xp, n, N: _cosine_sum(xp, n, N, coefficients))


@_documented
def bartlett(M: int, *, sym: bool = True, dtype=None, layout=strided, device=None,
             requires_grad: bool = False):
    """The Bartlett (triangular) window ``1 - |2 n / (M - 1) - 1|``, zero at both ends.

    Parameters
    ----------
    M : int
        The number of points; non-negative.
    {common}

    Returns
    -------
    Tensor
        The window, of shape ``(M,)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.signal import windows
    >>> windows.bartlett(5)
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    >>> windows.bartlett(4, sym=False)
    tensor([0.0000, 0.5000, 1.0000, 0.5000])
    """
    dt = _checked("bartlett", M, layout, dtype)
    return _window("bartlett", _length("bartlett", M), not sym, dt, device, requires_grad,
                   lambda xp, n, N: 1.0 - xp.abs(2.0 * n / (N - 1) - 1.0))


@_documented
def blackman(M: int, *, sym: bool = True, dtype=None, layout=strided, device=None,
             requires_grad: bool = False):
    """The Blackman window ``0.42 - 0.5 cos(2 pi n / (M - 1)) + 0.08 cos(4 pi n / (M - 1))``.

    Parameters
    ----------
    M : int
        The number of points; non-negative.
    {common}

    Returns
    -------
    Tensor
        The window, of shape ``(M,)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.signal import windows
    >>> windows.blackman(5)[1:4]
    tensor([0.3400, 1.0000, 0.3400])
    >>> windows.blackman(4, sym=False, dtype=flambeau.float64)[1:]
    tensor([0.3400, 1.0000, 0.3400], dtype=flambeau.float64)
    """
    dt = _checked("blackman", M, layout, dtype)
    return _window("blackman", _length("blackman", M), not sym, dt, device, requires_grad,
                   lambda xp, n, N: _cosine_sum(xp, n, N, _BLACKMAN))


@_documented
def cosine(M: int, *, sym: bool = True, dtype=None, layout=strided, device=None,
           requires_grad: bool = False):
    """The cosine (sine) window ``sin(pi (n + 0.5) / M)``, with ``M + 1`` for ``sym=False``.

    Parameters
    ----------
    M : int
        The number of points; non-negative.
    {common}

    Returns
    -------
    Tensor
        The window, of shape ``(M,)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.signal import windows
    >>> windows.cosine(3)
    tensor([0.5000, 1.0000, 0.5000])
    >>> windows.cosine(3, sym=False)
    tensor([0.3827, 0.9239, 0.9239])
    """
    dt = _checked("cosine", M, layout, dtype)
    return _window("cosine", _length("cosine", M, computed_at_one=True), not sym, dt, device,
                   requires_grad, lambda xp, n, N: xp.sin(math.pi * (n + 0.5) / N))


@_documented
def exponential(M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True,
                dtype=None, layout=strided, device=None, requires_grad: bool = False):
    """The exponential (Poisson) window ``exp(-|n - center| / tau)``.

    Parameters
    ----------
    M : int
        The number of points; non-negative.
    center : float, optional
        Where the window peaks. None (default) is the middle, ``(M - 1) / 2`` (``M / 2`` for
        ``sym=False``); any other value needs ``sym=False``.
    tau : float, optional
        The decay: the window falls by a factor ``e`` every ``tau`` points. Positive; default
        1.0.
    {common}

    Returns
    -------
    Tensor
        The window, of shape ``(M,)``.

    Raises
    ------
    ValueError
        If ``tau`` is not positive, or ``center`` is given for a symmetric window.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.signal import windows
    >>> windows.exponential(5, tau=2.0)
    tensor([0.3679, 0.6065, 1.0000, 0.6065, 0.3679])
    >>> windows.exponential(4, center=0.0, sym=False, dtype=flambeau.float64)
    tensor([1.0000, 0.3679, 0.1353, 0.0498], dtype=flambeau.float64)
    """
    name = "exponential"
    dt = _checked(name, M, layout, dtype)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    length = _length(name, M, computed_at_one=True)
    if length == 0 or center is None and length == 1:
        return _window(name, length, not sym, dt, device, requires_grad, None)
    rate = 1.0 / float(tau)
    if center is not None:
        try:
            center = float(center)
        except (TypeError, ValueError):
            raise TypeError(f"{name}(): argument 'center' must be a number, not "
                            f"{type(center).__name__}") from None
        if length == 1:  # the single point at 0, not 1 as without a center
            return _creation.full((1,), math.exp(-abs(center) * rate), dtype=dt,
                                  device=device, requires_grad=requires_grad)

    def values(xp, n, N):
        peak = (N - 1) / 2.0 if center is None else center
        return xp.exp(-xp.abs(n - peak) * rate)

    return _window(name, length, not sym, dt, device, requires_grad, values)


@_documented
def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype=None, layout=strided,
             device=None, requires_grad: bool = False):
    """The Gaussian window ``exp(-((n - (M - 1) / 2) / std) ** 2 / 2)``.

    Parameters
    ----------
    M : int
        The number of points; non-negative.
    std : float, optional
        The standard deviation, in points. Positive; default 1.0.
    {common}

    Returns
    -------
    Tensor
        The window, of shape ``(M,)``.

    Raises
    ------
    ValueError
        If ``std`` is not positive.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.signal import windows
    >>> windows.gaussian(5)
    tensor([0.1353, 0.6065, 1.0000, 0.6065, 0.1353])
    >>> windows.gaussian(4, std=2.0, sym=False)
    tensor([0.6065, 0.8825, 1.0000, 0.8825])
    """
    name = "gaussian"
    dt = _checked(name, M, layout, dtype)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    scale = 1.0 / float(std)

    def values(xp, n, N):
        z = (n - (N - 1) / 2.0) * scale
        return xp.exp(-0.5 * z * z)

    return _window(name, _length(name, M, computed_at_one=True), not sym, dt, device,
                   requires_grad, values)


@_documented
def general_cosine(M, *, a: collections.abc.Iterable, sym: bool = True, dtype=None,
                   layout=strided, device=None, requires_grad: bool = False):
    """The generalized cosine window ``sum_k (-1) ** k a[k] cos(2 pi k n / (M - 1))``.

    Hann, Hamming, Blackman and Nuttall windows are cases of it.

    Parameters
    ----------
    M : int
        The number of points; non-negative.
    a : iterable of float
        The coefficients ``a[0], a[1], ...`` of the cosine terms; at least one. Required,
        keyword-only.
    {common}

    Returns
    -------
    Tensor
        The window, of shape ``(M,)``.

    Raises
    ------
    TypeError
        If ``a`` is not iterable.
    ValueError
        If ``a`` is empty.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.signal import windows
    >>> windows.general_cosine(5, a=[0.5, 0.5])
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    >>> windows.general_cosine(4, a=(0.46, 0.54), sym=False, dtype=flambeau.float64)
    tensor([-0.0800,  0.4600,  1.0000,  0.4600], dtype=flambeau.float64)
    """
    return _general_cosine("general_cosine", M, a, sym, dtype, layout, device, requires_grad)


@_documented
def general_hamming(M, *, alpha: float = 0.54, sym: bool = True, dtype=None, layout=strided,
                    device=None, requires_grad: bool = False):
    """The generalized Hamming window ``alpha - (1 - alpha) cos(2 pi n / (M - 1))``.

    ``alpha=0.54`` is the Hamming window, ``alpha=0.5`` the Hann window.

    Parameters
    ----------
    M : int
        The number of points; non-negative.
    alpha : float, optional
        The weight of the constant term. Default 0.54.
    {common}

    Returns
    -------
    Tensor
        The window, of shape ``(M,)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.signal import windows
    >>> windows.general_hamming(5, alpha=0.6)
    tensor([0.2000, 0.6000, 1.0000, 0.6000, 0.2000])
    >>> windows.general_hamming(4, sym=False, dtype=flambeau.float64)
    tensor([0.0800, 0.5400, 1.0000, 0.5400], dtype=flambeau.float64)
    """
    return _general_cosine("general_hamming", M, [alpha, 1.0 - alpha], sym, dtype, layout,
                           device, requires_grad)


@_documented
def hamming(M: int, *, sym: bool = True, dtype=None, layout=strided, device=None,
            requires_grad: bool = False):
    """The Hamming window ``0.54 - 0.46 cos(2 pi n / (M - 1))``.

    Parameters
    ----------
    M : int
        The number of points; non-negative.
    {common}

    Returns
    -------
    Tensor
        The window, of shape ``(M,)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.signal import windows
    >>> windows.hamming(5)
    tensor([0.0800, 0.5400, 1.0000, 0.5400, 0.0800])
    >>> windows.hamming(4, sym=False, dtype=flambeau.float64)
    tensor([0.0800, 0.5400, 1.0000, 0.5400], dtype=flambeau.float64)
    """
    return _general_cosine("hamming", M, [0.54, 1.0 - 0.54], sym, dtype, layout, device,
                           requires_grad)


@_documented
def hann(M: int, *, sym: bool = True, dtype=None, layout=strided, device=None,
         requires_grad: bool = False):
    """The Hann window ``0.5 - 0.5 cos(2 pi n / (M - 1))``.

    Parameters
    ----------
    M : int
        The number of points; non-negative.
    {common}

    Returns
    -------
    Tensor
        The window, of shape ``(M,)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.signal import windows
    >>> windows.hann(5)
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    >>> windows.hann(4, sym=False, requires_grad=True)
    tensor([0.0000, 0.5000, 1.0000, 0.5000], requires_grad=True)
    """
    return _general_cosine("hann", M, [0.5, 0.5], sym, dtype, layout, device, requires_grad)


@_documented
def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype=None, layout=strided,
           device=None, requires_grad: bool = False):
    """The Kaiser window ``I0(beta sqrt(1 - (2 n / (M - 1) - 1) ** 2)) / I0(beta)``.

    ``I0`` is the zeroth-order modified Bessel function of the first kind, computed in
    float64 and exponentially scaled, so a large ``beta`` does not overflow (PyTorch, which
    computes it in ``dtype``, gives NaN there).

    Parameters
    ----------
    M : int
        The number of points; non-negative.
    beta : float, optional
        The shape: 0 is the rectangular window; larger values narrow the window. Non-negative;
        default 12.0.
    {common}

    Returns
    -------
    Tensor
        The window, of shape ``(M,)``.

    Raises
    ------
    ValueError
        If ``beta`` is negative.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.signal import windows
    >>> windows.kaiser(5, beta=0.0)
    tensor([1., 1., 1., 1., 1.])
    >>> windows.kaiser(5, beta=5.0, dtype=flambeau.float64)
    tensor([0.0367, 0.5529, 1.0000, 0.5529, 0.0367], dtype=flambeau.float64)
    """
    name = "kaiser"
    dt = _checked(name, M, layout, dtype)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    b = float(beta)

    def values(xp, n, N):
        r = 2.0 * n / (N - 1) - 1.0
        arg = b * xp.sqrt(xp.clip(1.0 - r * r, 0.0, None))
        # I0(arg) / I0(b) = i0e(arg) / i0e(b) * exp(arg - b), with arg <= b: no overflow
        return _i0e(xp, arg) / _i0e(xp, b) * xp.exp(arg - b)

    return _window(name, _length(name, M), not sym, dt, device, requires_grad, values)


@_documented
def nuttall(M: int, *, sym: bool = True, dtype=None, layout=strided, device=None,
            requires_grad: bool = False):
    """The minimum 4-term Blackman-Harris window of Nuttall.

    ``0.3635819 - 0.4891775 cos(2 pi n / (M - 1)) + 0.1365995 cos(4 pi n / (M - 1))
    - 0.0106411 cos(6 pi n / (M - 1))``.

    Parameters
    ----------
    M : int
        The number of points; non-negative.
    {common}

    Returns
    -------
    Tensor
        The window, of shape ``(M,)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.signal import windows
    >>> windows.nuttall(5)
    tensor([3.6280e-04, 2.2698e-01, 1.0000e+00, 2.2698e-01, 3.6280e-04])
    >>> windows.nuttall(4, sym=False, dtype=flambeau.float64)
    tensor([3.6280e-04, 2.2698e-01, 1.0000e+00, 2.2698e-01], dtype=flambeau.float64)
    """
    return _general_cosine("nuttall", M, _NUTTALL, sym, dtype, layout, device, requires_grad)
