"""Complex numbers: parts, conjugation, polar form and the real <-> complex views.

Gradients follow PyTorch's convention: for a real loss ``L`` of a complex ``z = x + iy``,
``z.grad`` is ``dL/dx + i dL/dy`` (the conjugate Wirtinger derivative times two), so
``z - lr * z.grad`` descends. A real input of a complex result gets the real part.

``conj`` materializes the conjugate (PyTorch returns a lazy view with its conjugate bit set;
flambeau has no such bit, so ``is_conj`` is always False and writes to the input do not show
through an earlier ``conj``).
"""

from __future__ import annotations

import warnings

import numpy as np

from flambeau import _dtype
from flambeau._ops import elementwise as ew
from flambeau._ops import shape as sh
from flambeau._ops._util import FLOAT_NP, make, need_tensor, to_float, write_out
from flambeau.autograd._function import Function

__all__ = [
    "angle", "complex", "conj", "conj_physical", "is_complex", "is_conj", "is_neg", "isreal",
    "polar", "real", "imag", "resolve_conj", "resolve_neg", "view_as_complex", "view_as_real",
]


def _is_complex(t):
    return t._data.dtype.kind == "c"


# ------------------------------------------------------------------ queries


def is_complex(input):
    """Whether ``input`` has a complex dtype (complex64 or complex128).

    Raises
    ------
    TypeError
        If ``input`` is not a tensor.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.is_complex(flambeau.zeros(1))
    False
    >>> flambeau.zeros(1, dtype=flambeau.cfloat).is_complex()
    True
    """
    need_tensor("is_complex", input)
    return _is_complex(input)


def is_conj(input):
    """Whether the conjugate bit is set: always ``False`` (flambeau conjugates eagerly).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.tensor([1 + 2j]).conj().is_conj()
    False
    """
    return False


def is_neg(input):
    """Whether the negative bit is set: always ``False`` (flambeau negates eagerly).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(1).is_neg()
    False
    """
    return False


def isreal(input):
    """Whether each element is real: True for real dtypes, ``imag == 0`` for complex ones.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.isreal(flambeau.tensor([1 + 0j, 1j, 2.5]))
    tensor([ True, False,  True])
    """
    xp = input._device._xp
    if _is_complex(input):
        return make(input._data.imag == 0, input)
    return make(xp.ones(input._data.shape, dtype=bool), input)


# ------------------------------------------------------------------ parts


class Real(Function):
    """The real part, a view of the complex storage."""

    _is_view = True

    @staticmethod
    def forward(ctx, z):
        return z._data.real

    @staticmethod
    def backward(ctx, g):
        return g  # the engine makes it complex: d(Re z) passes the gradient to x only


class Imag(Function):
    """The imaginary part, a view of the complex storage."""

    _is_view = True

    @staticmethod
    def forward(ctx, z):
        return z._data.imag

    @staticmethod
    def backward(ctx, g):
        return Complex.apply(ew.mul(g, 0.0), g)  # the gradient goes to y: i * g


def real(input):
    """The real part, a view sharing ``input``'s memory (``input`` itself if it is real).

    Examples
    --------
    >>> import flambeau
    >>> z = flambeau.tensor([1.5 + 2j, -3j])
    >>> z.real
    tensor([1.5000, -0.0000])
    >>> z.real[0] = 7.0
    >>> z
    tensor([7.+2.j, -0.-3.j])
    >>> x = flambeau.tensor([1.5, -2.0])
    >>> flambeau.real(x) is x, x.real is x
    (True, True)
    """
    return Real.apply(input) if _is_complex(input) else input


def imag(input):
    """The imaginary part of a complex tensor, a view sharing its memory.

    Raises
    ------
    RuntimeError
        If ``input`` is real (as in PyTorch).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.tensor([1.5 + 2j, -3j]).imag
    tensor([ 2., -3.])
    """
    if not _is_complex(input):
        raise RuntimeError(f"imag is not implemented for tensors with non-complex dtypes "
                           f"(got {input.dtype})")
    return Imag.apply(input)


def _set_real(self, value):
    real(self).copy_(value)


def _set_imag(self, value):
    imag(self).copy_(value)


# ------------------------------------------------------------------ conjugation


class Conj(Function):
    @staticmethod
    def forward(ctx, z):
        return z._device._xp.conj(z._data)

    @staticmethod
    def backward(ctx, g):
        return Conj.apply(g)


def conj(input):
    """The complex conjugate (``input`` itself for real tensors, as in PyTorch).

    flambeau computes the conjugate at once where PyTorch returns a lazy view.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.conj(flambeau.tensor([1 + 2j]))
    tensor([1.-2.j])
    >>> x = flambeau.tensor([1.0, -2.0])
    >>> flambeau.conj(x) is x
    True
    """
    return Conj.apply(input) if _is_complex(input) else input


def conj_physical(input, *, out=None):
    """The conjugate in new memory (``input`` itself for real tensors, as in PyTorch).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.tensor([1 - 1j]).conj_physical()
    tensor([1.+1.j])
    >>> x = flambeau.tensor([1.0, -2.0])
    >>> x.conj_physical() is x
    True
    """
    if _is_complex(input):
        return write_out(Conj.apply(input), out)
    return input if out is None else write_out(input.clone(), out)


def resolve_conj(input):
    """``input`` with its conjugate bit resolved: ``input`` itself (the bit is never set).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([1.0])
    >>> flambeau.resolve_conj(x) is x
    True
    """
    return input


def resolve_neg(input):
    """``input`` with its negative bit resolved: ``input`` itself (the bit is never set).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([1.0])
    >>> x.resolve_neg() is x
    True
    """
    return input


def _conj_transpose(self, dims):
    t = sh.transpose(self, *dims)
    return conj(t) if _is_complex(t) else t


def _H(self):
    """The conjugate transpose of a matrix (``t()`` for real 2-D tensors).

    Raises
    ------
    RuntimeError
        If the tensor is not 2-D (0-D tensors are returned with a deprecation warning).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.tensor([[1, 2], [3, 4]]).H
    tensor([[1, 3],
            [2, 4]])
    >>> flambeau.tensor([[1j, 2]]).H
    tensor([[0.-1.j],
            [2.-0.j]])
    """
    if self._data.ndim == 0:
        warnings.warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=2)
        return self
    if self._data.ndim != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{self._data.ndim}-D tensor."
                           + (" For batches of matrices, consider using tensor.mH"
                              if self._data.ndim > 2 else ""))
    return _conj_transpose(self, (0, 1))


def _mH(self):
    """The conjugate transpose of each matrix (``mT`` for real tensors).

    Raises
    ------
    RuntimeError
        If the tensor is 1-D (0-D tensors are returned with a deprecation warning).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(4, 2, 3).mH.shape
    flambeau.Size([4, 3, 2])
    """
    if self._data.ndim == 0:
        warnings.warn("Tensor.mH is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=2)
        return self
    if self._data.ndim < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. "
                           f"Got {self._data.ndim}-D tensor.")
    return _conj_transpose(self, (-2, -1))


# ------------------------------------------------------------------ angle


class Angle(Function):
    """The argument of each element (real input: 0 or pi, NaN kept)."""

    @staticmethod
    def forward(ctx, x):
        xp = x._device._xp
        a = x._data
        if a.dtype.kind == "c":
            ctx.save_for_backward(x)
            return xp.angle(a)
        ctx.save_for_backward(None)
        out = xp.where(a < 0, a.dtype.type(3.141592653589793), a.dtype.type(0))
        return xp.where(xp.isnan(a), a, out).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        if z is None:
            # the angle of a real number is piecewise constant: PyTorch's gradient is zero
            return ew.mul(g, 0.0)
        # d angle = (x dy - y dx) / |z|^2: the gradient is g * i z / |z|^2, zero at z = 0
        r2 = ew.square(ew.abs(z))
        safe = ew.where(r2 == 0, 1.0, r2)
        return ew.where(r2 == 0, 0.0, ew.mul(g, ew.div(ew.mul(z, 1j), safe)))


def angle(input, *, out=None):
    """The argument of each element, in radians: ``atan2(imag, real)`` for complex inputs;
    ``pi`` for negative and ``0`` for other real numbers (NaN stays NaN).

    Integer and bool inputs give the default float dtype; complex ones their real dtype.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.angle(flambeau.tensor([-2.0, 0.0, 3.0]))
    tensor([3.1416, 0.0000, 0.0000])
    >>> flambeau.tensor([1j, -1 - 1j]).angle()
    tensor([ 1.5708, -2.3562])
    """
    if input._data.dtype not in FLOAT_NP and not _is_complex(input):
        input = to_float(input)
    return write_out(Angle.apply(input), out)


# ------------------------------------------------------------------ building complex tensors


class ViewAsReal(Function):
    _is_view = True

    @staticmethod
    def forward(ctx, z):
        a = z._data
        return a[..., None].view(a.real.dtype)

    @staticmethod
    def backward(ctx, g):
        return view_as_complex(g.contiguous())


class ViewAsComplex(Function):
    _is_view = True

    @staticmethod
    def forward(ctx, x):
        a = x._data
        return a.view(_dtype.to_dtype(a.dtype).to_complex().np)[..., 0]

    @staticmethod
    def backward(ctx, g):
        return view_as_real(g)


def view_as_real(input):
    """A real view of a complex tensor, with a last dimension of size 2 holding the real
    and imaginary parts.

    Raises
    ------
    RuntimeError
        If ``input`` is not complex.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.view_as_real(flambeau.tensor([1 + 2j, 3 - 4j]))
    tensor([[ 1.,  2.],
            [ 3., -4.]])
    """
    if not _is_complex(input):
        raise RuntimeError(f"view_as_real is only supported for complex tensors, got a "
                           f"{input.dtype} tensor of shape {list(input.shape)}")
    return ViewAsReal.apply(input)


def view_as_complex(input):
    """A complex view of a float32/float64 tensor whose last dimension (of size 2, stride
    1) holds real and imaginary parts.

    Raises
    ------
    RuntimeError
        If the dtype is not float32/float64, the last dimension is not of size 2 and stride
        1, or another stride or the storage offset is odd.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.view_as_complex(flambeau.tensor([[1.0, 2.0], [3.0, -4.0]]))
    tensor([1.+2.j, 3.-4.j])
    """
    op = "view_as_complex"
    if input.dtype not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(f"{op} is only supported for float32 and float64 tensors, but got a "
                           f"tensor of dtype {input.dtype}")
    shape, strides = list(input.shape), list(input.stride())
    if not shape or shape[-1] != 2:
        raise RuntimeError(f"{op}: Tensor must have a last dimension of size 2 (got shape "
                           f"{shape})")
    if strides[-1] != 1:
        raise RuntimeError(f"{op}: Tensor must have a last dimension with stride 1 (got strides "
                           f"{strides})")
    if any(s % 2 for s in strides[:-1]) or input.storage_offset() % 2:
        raise RuntimeError(f"{op}: Tensor must have a stride divisible by 2 for all but last "
                           f"dimension and an even storage offset (got strides {strides}, "
                           f"offset {input.storage_offset()})")
    return ViewAsComplex.apply(input)


def _check_parts(op, a, b):
    """The two real tensors a complex one is built from: both float32 or both float64."""
    if a.dtype is not b.dtype or a.dtype not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(f"{op}: expected both inputs to be float32 or both float64, got "
                           f"{a.dtype} and {b.dtype} (shapes {list(a.shape)}, "
                           f"{list(b.shape)})")


class Complex(Function):
    @staticmethod
    def forward(ctx, re, im):
        a, b = re._data, im._data
        xp = re._device._xp
        try:
            shape = np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise RuntimeError(f"complex: the shapes of real {list(a.shape)} and imag "
                               f"{list(b.shape)} cannot be broadcast together") from None
        z = xp.empty(shape, dtype=_dtype.to_dtype(a.dtype).to_complex().np)
        z.real, z.imag = a, b  # part by part: inf * 1j would put a NaN in the real part
        return z

    @staticmethod
    def backward(ctx, g):
        return real(g), imag(g)


def complex(real, imag, *, out=None):  # noqa: A001 - PyTorch's name
    """The complex tensor ``real + i imag`` (both float32, or both float64, broadcast).

    Raises
    ------
    RuntimeError
        If the dtypes differ or are not float32/float64 (float16 would need complex32).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.complex(flambeau.tensor([1.0, 2.0]), flambeau.tensor([0.5, -1.0]))
    tensor([1.+0.5000j, 2.-1.0000j])
    """
    _check_parts("complex", real, imag)
    return write_out(Complex.apply(real, imag), out)


def polar(abs, angle, *, out=None):  # noqa: A002 - PyTorch's names
    """The complex tensor with modulus ``abs`` and argument ``angle``: ``abs * (cos(angle) +
    i sin(angle))``.

    Raises
    ------
    RuntimeError
        If the dtypes differ or are not float32/float64.

    Examples
    --------
    >>> import flambeau, math
    >>> flambeau.polar(flambeau.tensor([2.0]), flambeau.tensor([math.pi / 2]))
    tensor([-8.7423e-08+2.j])
    """
    _check_parts("polar", abs, angle)
    z = complex(ew.mul(abs, ew.cos(angle)), ew.mul(abs, ew.sin(angle)))
    return write_out(z, out)


TENSOR_METHODS = {
    "is_complex": is_complex, "is_conj": is_conj, "is_neg": is_neg, "isreal": isreal,
    "conj": conj, "conj_physical": conj_physical, "resolve_conj": resolve_conj,
    "resolve_neg": resolve_neg, "angle": angle,
    "real": property(real, _set_real, doc=real.__doc__),
    "imag": property(imag, _set_imag, doc=imag.__doc__),
    "H": property(_H), "mH": property(_mH),
}
