"""Padding layers: constant, zero, reflection, replication and circular, in 1-3 dims."""

from __future__ import annotations

import flambeau.nn.functional as F
from flambeau.nn.modules.module import Module

__all__ = [
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
    "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
    "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
]

def _widths(padding, nd, name):
    if isinstance(padding, int):
        return (padding,) * (2 * nd)
    padding = tuple(int(p) for p in padding)
    if len(padding) != 2 * nd:
        raise ValueError(f"{name}: padding must be an int or a tuple of {2 * nd} ints, got "
                         f"{padding!r}")
    return padding


class _PadNd(Module):
    _mode = "constant"
    _nd = 1

    def __init__(self, padding, value=0.0):
        super().__init__()
        self.padding = _widths(padding, self._nd, type(self).__name__)
        if self._mode == "constant":
            self.value = value

    def forward(self, input):
        if input.ndim not in (self._nd + 1, self._nd + 2):
            raise RuntimeError(
                f"{type(self).__name__}: expected a {self._nd + 1}D or {self._nd + 2}D input, got "
                f"shape {tuple(input.shape)}"
            )
        if self._mode == "constant":
            return F.pad(input, self.padding, value=self.value)
        return F.pad(input, self.padding, mode=self._mode)

    def extra_repr(self):
        if self._mode == "constant" and type(self).__name__.startswith("Constant"):
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


class ConstantPad1d(_PadNd):
    """1-D padding that pads with ``value``.

    ``padding`` is an int or 2 ints (left, right).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.arange(4.0).reshape(1, 1, 4)
    >>> nn.ConstantPad1d(1, 2.0)(x).shape
    flambeau.Size([1, 1, 6])
    """

    _mode = "constant"
    _nd = 1

    def __init__(self, padding, value):
        super().__init__(padding, value)


class ConstantPad2d(_PadNd):
    """2-D padding that pads with ``value``.

    ``padding`` is an int or 4 ints (left, right, top, bottom).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.arange(4.0).reshape(1, 1, 2, 2)
    >>> nn.ConstantPad2d(1, 2.0)(x).shape
    flambeau.Size([1, 1, 4, 4])
    """

    _mode = "constant"
    _nd = 2

    def __init__(self, padding, value):
        super().__init__(padding, value)


class ConstantPad3d(_PadNd):
    """3-D padding that pads with ``value``.

    ``padding`` is an int or 6 ints (left, right, top, bottom, front, back).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.ones(1, 1, 2, 2, 2)
    >>> nn.ConstantPad3d(1, 2.0)(x).shape
    flambeau.Size([1, 1, 4, 4, 4])
    """

    _mode = "constant"
    _nd = 3

    def __init__(self, padding, value):
        super().__init__(padding, value)


class ZeroPad1d(ConstantPad1d):
    """1-D padding that pads with zeros.

    ``padding`` is an int or 2 ints (left, right).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.arange(4.0).reshape(1, 1, 4)
    >>> nn.ZeroPad1d(1)(x).shape
    flambeau.Size([1, 1, 6])
    """

    _nd = 1

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ZeroPad2d(ConstantPad2d):
    """2-D padding that pads with zeros.

    ``padding`` is an int or 4 ints (left, right, top, bottom).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.arange(4.0).reshape(1, 1, 2, 2)
    >>> nn.ZeroPad2d(1)(x).shape
    flambeau.Size([1, 1, 4, 4])
    """

    _nd = 2

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ZeroPad3d(ConstantPad3d):
    """3-D padding that pads with zeros.

    ``padding`` is an int or 6 ints (left, right, top, bottom, front, back).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.ones(1, 1, 2, 2, 2)
    >>> nn.ZeroPad3d(1)(x).shape
    flambeau.Size([1, 1, 4, 4, 4])
    """

    _nd = 3

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ReflectionPad1d(_PadNd):
    """1-D padding that mirrors the input at its edges (the edge is not repeated).

    ``padding`` is an int or 2 ints (left, right).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.arange(4.0).reshape(1, 1, 4)
    >>> nn.ReflectionPad1d(1)(x).shape
    flambeau.Size([1, 1, 6])
    """

    _mode = "reflect"
    _nd = 1

    def __init__(self, padding):
        super().__init__(padding)


class ReflectionPad2d(_PadNd):
    """2-D padding that mirrors the input at its edges (the edge is not repeated).

    ``padding`` is an int or 4 ints (left, right, top, bottom).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.arange(4.0).reshape(1, 1, 2, 2)
    >>> nn.ReflectionPad2d(1)(x).shape
    flambeau.Size([1, 1, 4, 4])
    """

    _mode = "reflect"
    _nd = 2

    def __init__(self, padding):
        super().__init__(padding)


class ReflectionPad3d(_PadNd):
    """3-D padding that mirrors the input at its edges (the edge is not repeated).

    ``padding`` is an int or 6 ints (left, right, top, bottom, front, back).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.ones(1, 1, 2, 2, 2)
    >>> nn.ReflectionPad3d(1)(x).shape
    flambeau.Size([1, 1, 4, 4, 4])
    """

    _mode = "reflect"
    _nd = 3

    def __init__(self, padding):
        super().__init__(padding)


class ReplicationPad1d(_PadNd):
    """1-D padding that repeats the edge values.

    ``padding`` is an int or 2 ints (left, right).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.arange(4.0).reshape(1, 1, 4)
    >>> nn.ReplicationPad1d(1)(x).shape
    flambeau.Size([1, 1, 6])
    """

    _mode = "replicate"
    _nd = 1

    def __init__(self, padding):
        super().__init__(padding)


class ReplicationPad2d(_PadNd):
    """2-D padding that repeats the edge values.

    ``padding`` is an int or 4 ints (left, right, top, bottom).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.arange(4.0).reshape(1, 1, 2, 2)
    >>> nn.ReplicationPad2d(1)(x).shape
    flambeau.Size([1, 1, 4, 4])
    """

    _mode = "replicate"
    _nd = 2

    def __init__(self, padding):
        super().__init__(padding)


class ReplicationPad3d(_PadNd):
    """3-D padding that repeats the edge values.

    ``padding`` is an int or 6 ints (left, right, top, bottom, front, back).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.ones(1, 1, 2, 2, 2)
    >>> nn.ReplicationPad3d(1)(x).shape
    flambeau.Size([1, 1, 4, 4, 4])
    """

    _mode = "replicate"
    _nd = 3

    def __init__(self, padding):
        super().__init__(padding)


class CircularPad1d(_PadNd):
    """1-D padding that wraps the input around.

    ``padding`` is an int or 2 ints (left, right).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.arange(4.0).reshape(1, 1, 4)
    >>> nn.CircularPad1d(1)(x).shape
    flambeau.Size([1, 1, 6])
    """

    _mode = "circular"
    _nd = 1

    def __init__(self, padding):
        super().__init__(padding)


class CircularPad2d(_PadNd):
    """2-D padding that wraps the input around.

    ``padding`` is an int or 4 ints (left, right, top, bottom).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.arange(4.0).reshape(1, 1, 2, 2)
    >>> nn.CircularPad2d(1)(x).shape
    flambeau.Size([1, 1, 4, 4])
    """

    _mode = "circular"
    _nd = 2

    def __init__(self, padding):
        super().__init__(padding)


class CircularPad3d(_PadNd):
    """3-D padding that wraps the input around.

    ``padding`` is an int or 6 ints (left, right, top, bottom, front, back).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.ones(1, 1, 2, 2, 2)
    >>> nn.CircularPad3d(1)(x).shape
    flambeau.Size([1, 1, 4, 4, 4])
    """

    _mode = "circular"
    _nd = 3

    def __init__(self, padding):
        super().__init__(padding)
