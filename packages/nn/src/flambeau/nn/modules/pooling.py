"""Pooling layers: max, average, adaptive pooling and max unpooling."""

from __future__ import annotations

import flambeau.nn.functional as F
from flambeau.nn.modules.module import Module

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
    "AvgPool1d", "AvgPool2d", "AvgPool3d", "LPPool1d", "LPPool2d", "LPPool3d", "MaxPool1d",
    "MaxPool2d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d",
    "FractionalMaxPool2d", "FractionalMaxPool3d", "MaxUnpool3d",
]


def _ntuple(x, n):
    """``x`` as an n-tuple, as torch's modules store their sizes (not importing
    flambeau.nn.modules.utils: the package's star import would then take it for nn.utils)."""
    return tuple(x) if isinstance(x, (tuple, list)) else (x,) * n


class _MaxPoolNd(Module):
    _fn = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return type(self)._fn(input, self.kernel_size, self.stride, self.padding, self.dilation,
                              ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling; see :func:`flambeau.nn.functional.max_pool1d`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.MaxPool1d(3, stride=2)(flambeau.randn(20, 16, 50)).shape
    flambeau.Size([20, 16, 24])
    """

    _fn = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling (``stride`` defaults to ``kernel_size``).

    Parameters
    ----------
    kernel_size, stride, padding, dilation : int or tuple
        Window geometry; padding is implicit negative infinity.
    return_indices : bool
        Also return the flat position of each maximum (for :class:`MaxUnpool2d`).
    ceil_mode : bool
        Round the output size up instead of down.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.MaxPool2d(2)(flambeau.randn(1, 3, 8, 8)).shape
    flambeau.Size([1, 3, 4, 4])
    """

    _fn = staticmethod(F.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """3-D max pooling.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.MaxPool3d(2)(flambeau.randn(1, 2, 4, 4, 4)).shape
    flambeau.Size([1, 2, 2, 2, 2])
    """

    _fn = staticmethod(F.max_pool3d)


class _AvgPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """1-D average pooling.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.AvgPool1d(2)(flambeau.tensor([[[1.0, 3.0, 2.0, 4.0]]]))
    tensor([[[2., 3.]]])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        # as torch's, the 1-d layer stores 1-tuples and has no divisor_override
        Module.__init__(self)
        self.kernel_size = _ntuple(kernel_size, 1)
        self.stride = _ntuple(stride if stride is not None else kernel_size, 1)
        self.padding = _ntuple(padding, 1)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """2-D average pooling (``count_include_pad`` counts the zero padding in the mean).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.AvgPool2d(2)(flambeau.ones(1, 1, 4, 4)).shape
    flambeau.Size([1, 1, 2, 2])
    """

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class AvgPool3d(_AvgPoolNd):
    """3-D average pooling.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.AvgPool3d(2)(flambeau.ones(1, 1, 4, 4, 4)).shape
    flambeau.Size([1, 1, 2, 2, 2])
    """

    def forward(self, input):
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class _AdaptivePool(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices


class AdaptiveAvgPool1d(_AdaptivePool):
    """Average pooling to a fixed output length.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.AdaptiveAvgPool1d(5)(flambeau.randn(1, 64, 8)).shape
    flambeau.Size([1, 64, 5])
    """

    def __init__(self, output_size):
        super().__init__(output_size)

    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePool):
    """Average pooling to a fixed ``(H, W)`` (``None`` keeps that input size).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.AdaptiveAvgPool2d((5, 7))(flambeau.randn(1, 64, 8, 9)).shape
    flambeau.Size([1, 64, 5, 7])
    """

    def __init__(self, output_size):
        super().__init__(output_size)

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool3d(_AdaptivePool):
    """Average pooling to a fixed ``(D, H, W)`` (``None`` keeps that input size).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> pool = nn.AdaptiveAvgPool3d((5, None, 7))
    >>> pool(flambeau.randn(1, 64, 8, 9, 10)).shape, pool
    (flambeau.Size([1, 64, 5, 9, 7]), AdaptiveAvgPool3d(output_size=(5, None, 7)))
    """

    def __init__(self, output_size):
        super().__init__(output_size)

    def forward(self, input):
        return F.adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """Max pooling to a fixed output length.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.AdaptiveMaxPool1d(5)(flambeau.randn(1, 64, 8)).shape
    flambeau.Size([1, 64, 5])
    """

    def forward(self, input):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """Max pooling to a fixed ``(H, W)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.AdaptiveMaxPool2d(1)(flambeau.randn(1, 64, 8, 9)).shape
    flambeau.Size([1, 64, 1, 1])
    """

    def forward(self, input):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """Max pooling to a fixed ``(D, H, W)``; ``return_indices`` also gives flat positions in
    D*H*W.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> y, i = nn.AdaptiveMaxPool3d(1, return_indices=True)(flambeau.randn(2, 3, 4, 5, 6))
    >>> y.shape, i.shape, i.dtype
    (flambeau.Size([2, 3, 1, 1, 1]), flambeau.Size([2, 3, 1, 1, 1]), flambeau.int64)
    """

    def forward(self, input):
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, self._nd)
        self.stride = _ntuple(stride if stride is not None else kernel_size, self._nd)
        self.padding = _ntuple(padding, self._nd)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of :class:`MaxPool1d`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> y, i = nn.MaxPool1d(2, return_indices=True)(flambeau.tensor([[[1.0, 3.0, 2.0, 0.0]]]))
    >>> nn.MaxUnpool1d(2)(y, i)
    tensor([[[0., 3., 2., 0.]]])
    """

    _nd = 1

    def forward(self, input, indices, output_size=None):
        return F.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of :class:`MaxPool2d`: maxima back in place, zeros elsewhere.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> y, i = nn.MaxPool2d(2, return_indices=True)(flambeau.randn(1, 1, 4, 4))
    >>> nn.MaxUnpool2d(2)(y, i).shape
    flambeau.Size([1, 1, 4, 4])
    """

    _nd = 2

    def forward(self, input, indices, output_size=None):
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of :class:`MaxPool3d`: maxima back in place, zeros elsewhere.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> y, i = nn.MaxPool3d(2, return_indices=True)(flambeau.randn(1, 1, 4, 4, 4))
    >>> nn.MaxUnpool3d(2)(y, i).shape
    flambeau.Size([1, 1, 4, 4, 4])
    """

    _nd = 3

    def forward(self, input, indices, output_size=None):
        return F.max_unpool3d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)


class _FractionalMaxPoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):
        super().__init__()
        nd, name = self._nd, type(self).__name__

        def tup(v):
            return tuple(v) if isinstance(v, (tuple, list)) else (v,) * nd

        self.kernel_size = tup(kernel_size)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = tup(output_size) if output_size is not None else None
        self.output_ratio = tup(output_ratio) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling "
                             f"ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        fn = F.fractional_max_pool2d if self._nd == 2 else F.fractional_max_pool3d
        return fn(input, self.kernel_size, self.output_size, self.output_ratio,
                  self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """2-D fractional max pooling; see :func:`flambeau.nn.functional.fractional_max_pool2d`.

    Parameters
    ----------
    kernel_size : int or tuple of 2 ints
        The window size.
    output_size : int or tuple of 2 ints, optional
        The output ``(H_out, W_out)``.
    output_ratio : float or tuple of 2 floats, optional
        The output size as a fraction in ``(0, 1)`` of the input size.
    return_indices : bool
        Also return the flat positions of the maxima (for :class:`MaxUnpool2d`).
    _random_samples : Tensor, optional
        Fixed draws ``(N, C, 2)`` (a buffer, saved in the state dict); fresh ones each call
        when None.

    Raises
    ------
    ValueError
        Neither or both of ``output_size`` and ``output_ratio``, or a ratio outside (0, 1).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.FractionalMaxPool2d(3, output_ratio=(0.5, 0.5))(flambeau.randn(20, 16, 50, 32)).shape
    flambeau.Size([20, 16, 25, 16])
    """

    _nd = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """3-D fractional max pooling; see :func:`flambeau.nn.functional.fractional_max_pool3d`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.FractionalMaxPool3d(3, output_size=(13, 12, 11))(flambeau.randn(2, 4, 16, 16, 16)).shape
    flambeau.Size([2, 4, 13, 12, 11])
    """

    _nd = 3


class _LPPoolNd(Module):
    _nd = 2

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")

    def forward(self, input):
        fn = {1: F.lp_pool1d, 2: F.lp_pool2d, 3: F.lp_pool3d}[self._nd]
        return fn(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool1d(_LPPoolNd):
    """1-D power-average pooling, ``(sum x**p)**(1/p)`` per window.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.LPPool1d(2, 2)(flambeau.tensor([[[3.0, 4.0]]]))
    tensor([[[5.]]])
    """

    _nd = 1


class LPPool2d(_LPPoolNd):
    """2-D power-average pooling, ``(sum x**p)**(1/p)`` per window.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.LPPool2d(2, 2)(flambeau.ones(1, 1, 4, 4)).shape
    flambeau.Size([1, 1, 2, 2])
    """

    _nd = 2


class LPPool3d(_LPPoolNd):
    """3-D power-average pooling, ``(sum x**p)**(1/p)`` per window.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.LPPool3d(1, 2)(flambeau.ones(1, 1, 2, 2, 2)).flatten()
    tensor([8.])
    """

    _nd = 3
