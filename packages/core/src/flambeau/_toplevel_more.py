"""PyTorch's smaller top-level functions: ``torch.X_`` in-place forms, the ``*_copy`` forms of
the view ops, global switches and queries (determinism, matmul precision, anomaly mode...),
``can_cast``, ``typename``, ``range``, ``empty_strided``, ``frombuffer`` and ``compile``.

The in-place functions are generated from one table (``_INPLACE_TABLE``): each calls the
Tensor method of the same name, and its docstring example comes from the same row.
"""

from __future__ import annotations

import builtins
import functools
import math
import numbers
import warnings

from flambeau import _compat, _creation, _dtype, _threads
from flambeau._device import canonical
from flambeau._ops import shape as sh
from flambeau._ops import shape_more as shm
from flambeau._ops._util import need_tensor as _need_tensor
from flambeau._ops._util import wrap_dim, write_out
from flambeau._tensor import Tensor
from flambeau.autograd import _anomaly

__all__ = [
    "OutOfMemoryError", "is_autocast_cache_enabled", "clear_autocast_cache",
    "get_autocast_cpu_dtype", "get_autocast_gpu_dtype", "is_autocast_cpu_enabled",
    "set_autocast_enabled", "set_autocast_dtype", "set_autocast_cache_enabled",
    "set_autocast_cpu_enabled", "set_autocast_cpu_dtype", "set_autocast_gpu_dtype",
    "autocast_increment_nesting", "autocast_decrement_nesting",
    "frobenius_norm", "nuclear_norm",
    # in-place functions are added from the table below
    "fill",
    # *_copy
    "alias_copy", "detach_copy", "diagonal_copy", "expand_copy", "permute_copy",
    "select_copy", "slice_copy", "split_copy", "split_with_sizes_copy", "squeeze_copy",
    "t_copy", "transpose_copy", "unbind_copy", "unfold_copy", "unsqueeze_copy", "view_copy",
    "indices_copy", "values_copy", "crow_indices_copy", "col_indices_copy",
    "ccol_indices_copy", "row_indices_copy",
    # switches and queries
    "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
    "get_deterministic_debug_mode", "set_float32_matmul_precision",
    "get_float32_matmul_precision", "get_num_interop_threads", "set_num_interop_threads",
    "set_flush_denormal", "set_warn_always", "is_warn_always_enabled", "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled", "set_anomaly_enabled", "is_storage",
    "typename", "can_cast",
    # creation and small ops
    "scalar_tensor", "rsub", "range", "get_device", "empty_strided", "empty_permuted",
    "frombuffer", "from_file", "compile",
]


# ------------------------------------------------------------------ in-place functions

#: name, the tensor the example starts from, the other arguments, the example's output,
#: the function it is the in-place version of (None: only the Tensor method)
_INPLACE_TABLE = [
    ("abs_", "flambeau.tensor([-1.5, 0.5])", "", "tensor([1.5000, 0.5000])", "abs"),
    ("acos_", "flambeau.tensor([0.0, 0.5])", "", "tensor([1.5708, 1.0472])", "acos"),
    ("acosh_", "flambeau.tensor([1.0, 2.0])", "", "tensor([0.0000, 1.3170])", "acosh"),
    ("arccos_", "flambeau.tensor([0.0, 0.5])", "", "tensor([1.5708, 1.0472])", "arccos"),
    ("arccosh_", "flambeau.tensor([1.0, 2.0])", "", "tensor([0.0000, 1.3170])", "arccosh"),
    ("arcsin_", "flambeau.tensor([0.0, 0.5])", "", "tensor([0.0000, 0.5236])", "arcsin"),
    ("arcsinh_", "flambeau.tensor([0.0, 1.0])", "", "tensor([0.0000, 0.8814])", "arcsinh"),
    ("arctan_", "flambeau.tensor([0.0, 1.0])", "", "tensor([0.0000, 0.7854])", "arctan"),
    ("arctanh_", "flambeau.tensor([0.0, 0.5])", "", "tensor([0.0000, 0.5493])", "arctanh"),
    ("asin_", "flambeau.tensor([0.0, 0.5])", "", "tensor([0.0000, 0.5236])", "asin"),
    ("asinh_", "flambeau.tensor([0.0, 1.0])", "", "tensor([0.0000, 0.8814])", "asinh"),
    ("atan_", "flambeau.tensor([0.0, 1.0])", "", "tensor([0.0000, 0.7854])", "atan"),
    ("atanh_", "flambeau.tensor([0.0, 0.5])", "", "tensor([0.0000, 0.5493])", "atanh"),
    ("ceil_", "flambeau.tensor([-1.5, 0.5])", "", "tensor([-1.,  1.])", "ceil"),
    ("clamp_", "flambeau.tensor([-2.0, 0.5, 2.0])", "-1, 1", "tensor([-1.0000,  0.5000,  1.0000])",
     "clamp"),
    ("clamp_max_", "flambeau.tensor([-2.0, 2.0])", "0", "tensor([-2.,  0.])", "clamp_max"),
    ("clamp_min_", "flambeau.tensor([-2.0, 2.0])", "0", "tensor([0., 2.])", "clamp_min"),
    ("clip_", "flambeau.tensor([-2.0, 0.5, 2.0])", "min=-1, max=1",
     "tensor([-1.0000,  0.5000,  1.0000])", "clip"),
    ("cos_", "flambeau.tensor([0.0, 1.0])", "", "tensor([1.0000, 0.5403])", "cos"),
    ("cosh_", "flambeau.tensor([0.0, 1.0])", "", "tensor([1.0000, 1.5431])", "cosh"),
    ("deg2rad_", "flambeau.tensor([180.0, 90.0])", "", "tensor([3.1416, 1.5708])", "deg2rad"),
    ("detach_", "flambeau.ones(2, requires_grad=True) * 2", "", "tensor([2., 2.])", "detach"),
    ("erf_", "flambeau.tensor([0.0, 1.0])", "", "tensor([0.0000, 0.8427])", "erf"),
    ("erfc_", "flambeau.tensor([0.0, 1.0])", "", "tensor([1.0000, 0.1573])", "erfc"),
    ("exp2_", "flambeau.tensor([0.0, 3.0])", "", "tensor([1., 8.])", "exp2"),
    ("exp_", "flambeau.tensor([0.0, 1.0])", "", "tensor([1.0000, 2.7183])", "exp"),
    ("expm1_", "flambeau.tensor([0.0, 1.0])", "", "tensor([0.0000, 1.7183])", "expm1"),
    ("fix_", "flambeau.tensor([-1.5, 1.5])", "", "tensor([-1.,  1.])", "fix"),
    ("floor_", "flambeau.tensor([-1.5, 0.5])", "", "tensor([-2.,  0.])", "floor"),
    ("frac_", "flambeau.tensor([-1.25, 1.5])", "", "tensor([-0.2500,  0.5000])", "frac"),
    ("gcd_", "flambeau.tensor([4, 6])", "flambeau.tensor([6, 9])", "tensor([2, 3])", "gcd"),
    ("i0_", "flambeau.tensor([0.0, 1.0])", "", "tensor([1.0000, 1.2661])", "i0"),
    ("lcm_", "flambeau.tensor([4, 6])", "flambeau.tensor([6, 9])", "tensor([12, 18])", "lcm"),
    ("ldexp_", "flambeau.tensor([1.0, 2.0])", "flambeau.tensor([2, 3])", "tensor([ 4., 16.])",
     "ldexp"),
    ("log10_", "flambeau.tensor([1.0, 5.0])", "", "tensor([0.0000, 0.6990])", "log10"),
    ("log1p_", "flambeau.tensor([0.0, 1.0])", "", "tensor([0.0000, 0.6931])", "log1p"),
    ("log2_", "flambeau.tensor([1.0, 8.0])", "", "tensor([0., 3.])", "log2"),
    ("log_", "flambeau.tensor([1.0, 4.0])", "", "tensor([0.0000, 1.3863])", "log"),
    ("logit_", "flambeau.tensor([0.25, 0.5])", "", "tensor([-1.0986,  0.0000])", "logit"),
    ("nan_to_num_", "flambeau.tensor([float('nan'), float('inf'), -float('inf')])",
     "nan=0.0, posinf=1.0, neginf=-1.0", "tensor([ 0.,  1., -1.])", "nan_to_num"),
    ("neg_", "flambeau.tensor([-1.5, 0.5])", "", "tensor([ 1.5000, -0.5000])", "neg"),
    ("negative_", "flambeau.tensor([-1.5, 0.5])", "", "tensor([ 1.5000, -0.5000])", "negative"),
    ("rad2deg_", "flambeau.tensor([0.0, 1.0])", "", "tensor([ 0.0000, 57.2958])", "rad2deg"),
    ("reciprocal_", "flambeau.tensor([2.0, 4.0])", "", "tensor([0.5000, 0.2500])", "reciprocal"),
    ("relu_", "flambeau.tensor([-1.5, 0.5])", "", "tensor([0.0000, 0.5000])", "relu"),
    ("round_", "flambeau.tensor([0.5, 1.5, 2.6])", "", "tensor([0., 2., 3.])", "round"),
    ("rsqrt_", "flambeau.tensor([1.0, 4.0])", "", "tensor([1.0000, 0.5000])", "rsqrt"),
    ("sigmoid_", "flambeau.tensor([0.0, 1.0])", "", "tensor([0.5000, 0.7311])", "sigmoid"),
    ("sin_", "flambeau.tensor([0.0, 1.0])", "", "tensor([0.0000, 0.8415])", "sin"),
    ("sinc_", "flambeau.tensor([0.0, 0.5])", "", "tensor([1.0000, 0.6366])", "sinc"),
    ("sinh_", "flambeau.tensor([0.0, 1.0])", "", "tensor([0.0000, 1.1752])", "sinh"),
    ("sqrt_", "flambeau.tensor([1.0, 4.0])", "", "tensor([1., 2.])", "sqrt"),
    ("square_", "flambeau.tensor([-1.5, 2.0])", "", "tensor([2.2500, 4.0000])", "square"),
    ("tan_", "flambeau.tensor([0.0, 1.0])", "", "tensor([0.0000, 1.5574])", "tan"),
    ("tanh_", "flambeau.tensor([0.0, 1.0])", "", "tensor([0.0000, 0.7616])", "tanh"),
    ("trunc_", "flambeau.tensor([-1.5, 1.5])", "", "tensor([-1.,  1.])", "trunc"),
    ("xlogy_", "flambeau.tensor([0.0, 2.0])", "flambeau.tensor([0.0, 3.0])",
     "tensor([0.0000, 2.1972])", "xlogy"),
    ("zero_", "flambeau.tensor([1.0, 2.0])", "", "tensor([0., 0.])", None),
    ("fill_", "flambeau.tensor([1.0, 2.0])", "3", "tensor([3., 3.])", "fill"),
    ("index_put_", "flambeau.zeros(3)",
     "(flambeau.tensor([0, 0]),), flambeau.tensor(1.0), accumulate=True",
     "tensor([2., 0., 0.])", "index_put"),
    ("resize_as_", "flambeau.tensor([1.0, 2.0, 3.0, 4.0])", "flambeau.zeros(2, 2)",
     "tensor([[1., 2.],\n                 [3., 4.]])", None),
]


def _inplace_function(name, setup, args, expected, base):
    def fn(input, *args, **kwargs):
        _need_tensor(name, input)
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = __name__
    call = f"flambeau.{name}(t, {args})" if args else f"flambeau.{name}(t)"
    what = (f"The in-place version of :func:`flambeau.{base}`" if base is not None
            else f"The function form of :meth:`flambeau.Tensor.{name}`")
    leaf = ("" if name == "detach_" else """
    As with every in-place op, ``input`` may not be a leaf tensor that requires grad while
    gradients are recorded (wrap the call in :class:`flambeau.no_grad`).
""")
    fn.__doc__ = f"""{what}: ``flambeau.{name}(input, ...)`` is
    ``input.{name}(...)``, which writes into ``input`` and returns it.
{leaf}
    Examples
    --------
    >>> import flambeau
    >>> t = {setup}
    >>> {call} is t, t
    (True, {expected})
    """
    return fn


for _row in _INPLACE_TABLE:
    globals()[_row[0]] = _inplace_function(*_row)
    __all__.append(_row[0])
del _row


def fill(input, value):
    """A tensor of ``input``'s shape, dtype and device filled with ``value`` (out of place).

    Differentiable: the gradient flows to ``value`` when it is a 0-dim tensor that requires
    grad; ``input`` gets a zero gradient.

    Raises
    ------
    RuntimeError
        If ``value`` is a tensor with dimensions.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.fill(flambeau.zeros(2, 2), 3)
    tensor([[3., 3.],
            [3., 3.]])
    """
    _need_tensor("fill", input)
    return input.clone().fill_(value)  # fill_ rejects a value with dimensions, as in PyTorch


# ------------------------------------------------------------------ *_copy


def _copy_of(result, out):
    """``result`` cloned (contiguous, differentiable), or written into ``out``."""
    if isinstance(result, (tuple, list)):
        return write_out(tuple(r.clone() for r in result), out)
    return write_out(result.clone(), out)


def _sparse_part_copy(part, layout, suffix, output):
    """``input.<part>()`` of a sparse tensor copied into new memory, as ``torch.<part>_copy``
    (a COO tensor's too, where torch 2.13's kernel refuses the layout); its example converts
    ``flambeau.eye(2)`` with ``to_sparse<suffix>()``."""
    def fn(input, *, out=None):
        return _copy_of(getattr(input, part)(), out)

    fn.__name__ = fn.__qualname__ = f"{part}_copy"
    fn.__doc__ = (f":meth:`Tensor.{part}` of a {layout} tensor copied into new memory (no "
                  f"storage shared with ``input``), as ``torch.{part}_copy``.\n\n"
                  f"    Examples\n    --------\n    >>> import flambeau\n"
                  f"    >>> flambeau.{part}_copy(flambeau.eye(2).to_sparse{suffix}())\n"
                  f"    {output}\n")
    return fn


indices_copy = _sparse_part_copy("indices", "coalesced sparse COO", "",
                                 "tensor([[0, 1],\n            [0, 1]])")
values_copy = _sparse_part_copy("values", "coalesced sparse COO, CSR or CSC", "_csr",
                                "tensor([1., 1.])")
crow_indices_copy = _sparse_part_copy("crow_indices", "CSR", "_csr", "tensor([0, 1, 2])")
col_indices_copy = _sparse_part_copy("col_indices", "CSR", "_csr", "tensor([0, 1])")
ccol_indices_copy = _sparse_part_copy("ccol_indices", "CSC", "_csc", "tensor([0, 1, 2])")
row_indices_copy = _sparse_part_copy("row_indices", "CSC", "_csc", "tensor([0, 1])")


def alias_copy(input, *, out=None):
    """A copy of ``input`` (PyTorch's ``alias`` followed by a copy): the same as ``clone``.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([1.0, 2.0]); y = flambeau.alias_copy(x); y[0] = 5
    >>> x, y
    (tensor([1., 2.]), tensor([5., 2.]))
    """
    return _copy_of(input, out)


def detach_copy(input, *, out=None):
    """``input.detach()`` copied into new memory: no autograd history, no shared storage.

    Examples
    --------
    >>> import flambeau
    >>> y = flambeau.detach_copy(flambeau.ones(2, requires_grad=True))
    >>> y, y.requires_grad
    (tensor([1., 1.]), False)
    """
    return _copy_of(input.detach(), out)


def diagonal_copy(input, offset=0, dim1=0, dim2=1, *, out=None):
    """:func:`flambeau.diagonal` copied into new memory.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.diagonal_copy(flambeau.arange(9.0).reshape(3, 3), 1)
    tensor([1., 5.])
    """
    return _copy_of(sh.diagonal(input, offset, dim1, dim2), out)


def expand_copy(input, size, *, implicit=False, out=None):
    """``input.expand(size)`` copied into new memory (every element stored).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.expand_copy(flambeau.tensor([[1], [2]]), (2, 3))
    tensor([[1, 1, 1],
            [2, 2, 2]])
    """
    return _copy_of(sh.expand(input, size), out)


def permute_copy(input, dims, *, out=None):
    """:func:`flambeau.permute` copied into new (contiguous) memory.

    Examples
    --------
    >>> import flambeau
    >>> y = flambeau.permute_copy(flambeau.zeros(2, 3, 4), (2, 0, 1))
    >>> y.shape, y.is_contiguous()
    (flambeau.Size([4, 2, 3]), True)
    """
    return _copy_of(sh.permute(input, dims), out)


def select_copy(input, dim, index, *, out=None):
    """:func:`flambeau.select` copied into new memory.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.select_copy(flambeau.arange(6).reshape(2, 3), 1, -1)
    tensor([2, 5])
    """
    return _copy_of(shm.select(input, dim, index), out)


def slice_copy(input, dim=0, start=None, end=None, step=1, *, out=None):
    """``input[..., start:end:step]`` along ``dim``, copied into new memory.

    Raises
    ------
    RuntimeError
        If ``step`` is not positive.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.slice_copy(flambeau.arange(10), 0, 2, 8, 3)
    tensor([2, 5])
    """
    _need_tensor("slice_copy", input)
    if step <= 0:
        raise RuntimeError(f"slice_copy: slice step must be positive, got {step}")
    if input.dim() == 0:
        raise IndexError("slice_copy: slice() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input.dim(), "slice_copy")
    index = (slice(None),) * d + (slice(start, end, step),)
    return _copy_of(input[index], out)


def split_copy(input, split_size, dim=0, *, out=None):
    """:func:`flambeau.split` with every piece copied into new memory.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.split_copy(flambeau.arange(5), 2)
    (tensor([0, 1]), tensor([2, 3]), tensor([4]))
    """
    return _copy_of(sh.split(input, split_size, dim), out)


def split_with_sizes_copy(input, split_sizes, dim=0, *, out=None):
    """:func:`flambeau.split_with_sizes` with every piece copied into new memory.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.split_with_sizes_copy(flambeau.arange(5), [1, 4])
    (tensor([0]), tensor([1, 2, 3, 4]))
    """
    return _copy_of(shm.split_with_sizes(input, split_sizes, dim), out)


def squeeze_copy(input, dim=None, *, out=None):
    """:func:`flambeau.squeeze` copied into new memory.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.squeeze_copy(flambeau.zeros(1, 2, 1)).shape
    flambeau.Size([2])
    """
    return _copy_of(sh.squeeze(input, dim), out)


def t_copy(input, *, out=None):
    """:func:`flambeau.t` copied into new (contiguous) memory.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.t_copy(flambeau.tensor([[1, 2, 3]]))
    tensor([[1],
            [2],
            [3]])
    """
    return _copy_of(sh.t(input), out)


def transpose_copy(input, dim0, dim1, *, out=None):
    """:func:`flambeau.transpose` copied into new (contiguous) memory.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.transpose_copy(flambeau.tensor([[1, 2], [3, 4]]), 0, 1)
    tensor([[1, 3],
            [2, 4]])
    """
    return _copy_of(sh.transpose(input, dim0, dim1), out)


def unbind_copy(input, dim=0, *, out=None):
    """:func:`flambeau.unbind` with every slice copied into new memory.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.unbind_copy(flambeau.tensor([[1, 2], [3, 4]]), 1)
    (tensor([1, 3]), tensor([2, 4]))
    """
    return _copy_of(sh.unbind(input, dim), out)


def unfold_copy(input, dimension, size, step, *, out=None):
    """``input.unfold(dimension, size, step)`` copied into new memory.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.unfold_copy(flambeau.arange(5), 0, 2, 2)
    tensor([[0, 1],
            [2, 3]])
    """
    return _copy_of(shm.unfold(input, dimension, size, step), out)


def unsqueeze_copy(input, dim, *, out=None):
    """:func:`flambeau.unsqueeze` copied into new memory.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.unsqueeze_copy(flambeau.tensor([1, 2]), 1)
    tensor([[1],
            [2]])
    """
    return _copy_of(sh.unsqueeze(input, dim), out)


def view_copy(input, size=None, *, dtype=None, out=None):
    """``input.view(size)`` (a shape, or a dtype to reinterpret the bytes: by position or as
    ``dtype=``, torch's two overloads) copied into new memory.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.view_copy(flambeau.arange(4), (2, -1))
    tensor([[0, 1],
            [2, 3]])
    """
    if (size is None) == (dtype is None):
        raise TypeError("view_copy() takes a size or a dtype (one of them)")
    if dtype is not None or isinstance(size, _dtype.dtype):
        return _copy_of(sh.view(input, size if dtype is None else dtype), out)
    return _copy_of(sh.view(input, *((size,) if isinstance(size, int) else (tuple(size),))),
                    out)


# ------------------------------------------------------------------ switches and queries

_state = {
    "deterministic": False,
    "warn_only": False,
    "matmul_precision": "highest",
    "interop_threads": _threads._default_threads(),
    "warn_always": False,
}


def _bool_arg(op, name, pos, value):
    if not isinstance(value, builtins.bool):
        raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be bool, not "
                        f"{type(value).__name__}")


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Record whether only deterministic algorithms may be used (``warn_only``: warn instead
    of raising), as ``torch.use_deterministic_algorithms``.

    flambeau's NumPy kernels are deterministic, so on the CPU the setting changes nothing;
    it is kept so that code which sets and queries it ports unchanged. The state is read by
    :func:`are_deterministic_algorithms_enabled` and :func:`get_deterministic_debug_mode`.

    Raises
    ------
    TypeError
        If ``mode`` or ``warn_only`` is not a bool.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.use_deterministic_algorithms(True, warn_only=True)
    >>> flambeau.get_deterministic_debug_mode()
    1
    >>> flambeau.use_deterministic_algorithms(False)
    >>> flambeau.are_deterministic_algorithms_enabled()
    False
    """
    _bool_arg("use_deterministic_algorithms", "mode", 1, mode)
    if not isinstance(warn_only, builtins.bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'warn_only' must be bool, "
                        f"not {type(warn_only).__name__}")
    _state["deterministic"], _state["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled():
    """Whether :func:`use_deterministic_algorithms` is on.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.are_deterministic_algorithms_enabled()
    False
    """
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    """Whether :func:`use_deterministic_algorithms` was called with ``warn_only=True``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.is_deterministic_algorithms_warn_only_enabled()
    False
    """
    return _state["warn_only"]


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode):
    """Set the determinism mode: ``"default"``/``0`` (off), ``"warn"``/``1`` (on, warn only)
    or ``"error"``/``2`` (on) — another spelling of :func:`use_deterministic_algorithms`.

    Raises
    ------
    RuntimeError
        If ``debug_mode`` is not one of the names or 0, 1, 2.
    TypeError
        If ``debug_mode`` is neither a str nor an int.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.set_deterministic_debug_mode("error")
    >>> flambeau.are_deterministic_algorithms_enabled(), flambeau.get_deterministic_debug_mode()
    (True, 2)
    >>> flambeau.set_deterministic_debug_mode(0)
    """
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"set_deterministic_debug_mode: invalid value of debug_mode, "
                               f"expected one of `default`, `warn`, `error`, but got "
                               f"{debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    elif isinstance(debug_mode, builtins.int):
        if debug_mode not in (0, 1, 2):
            raise RuntimeError(f"set_deterministic_debug_mode: invalid value of debug_mode, "
                               f"expected 0, 1, or 2, but got {debug_mode}")
    else:
        raise TypeError(f"set_deterministic_debug_mode: debug_mode must be str or int, but got "
                        f"{type(debug_mode)}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    """The determinism mode as an int: 0 (off), 1 (warn only) or 2 (error).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.get_deterministic_debug_mode()
    0
    """
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


_PRECISIONS = ("highest", "high", "medium")


def set_float32_matmul_precision(precision):
    """Record the float32 matrix-product precision: ``"highest"``, ``"high"`` or
    ``"medium"``.

    flambeau's float32 products always run in full float32 precision (NumPy/CuPy BLAS), so
    the setting is only recorded for :func:`get_float32_matmul_precision`. An unknown name
    warns and leaves the setting as it was, as in PyTorch.

    Raises
    ------
    RuntimeError
        If ``precision`` is not a str.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.set_float32_matmul_precision("high")
    >>> flambeau.get_float32_matmul_precision()
    'high'
    >>> flambeau.set_float32_matmul_precision("highest")
    """
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got "
                           f"{type(precision).__name__}")
    if precision not in _PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the "
                      "set_float32_matmul_precision call has no effect.", UserWarning,
                      stacklevel=2)
        return
    _state["matmul_precision"] = precision


def get_float32_matmul_precision():
    """The float32 matrix-product precision set by :func:`set_float32_matmul_precision`
    (``"highest"`` by default).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.get_float32_matmul_precision()
    'highest'
    """
    return _state["matmul_precision"]


def get_num_interop_threads():
    """The number of inter-op threads (recorded; flambeau runs ops one after another).

    Defaults to the number of cores the process may use.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.get_num_interop_threads() >= 1
    True
    """
    return _state["interop_threads"]


def set_num_interop_threads(n):
    """Record the number of inter-op threads, as ``torch.set_num_interop_threads``.

    flambeau has no inter-op thread pool (its intra-op threads are
    :func:`flambeau.set_num_threads`); the value is kept for :func:`get_num_interop_threads`.

    Raises
    ------
    RuntimeError
        If ``n`` is not an int or not positive.

    Examples
    --------
    >>> import flambeau
    >>> before = flambeau.get_num_interop_threads()
    >>> flambeau.set_num_interop_threads(2)
    >>> flambeau.get_num_interop_threads()
    2
    >>> flambeau.set_num_interop_threads(before)
    """
    if isinstance(n, builtins.bool) or not isinstance(n, builtins.int):
        raise RuntimeError(f"set_num_interop_threads expects an int, but got "
                           f"{type(n).__name__}")
    if n < 1:
        raise RuntimeError(f"set_num_interop_threads expects a positive integer, got {n}")
    _state["interop_threads"] = n


def set_flush_denormal(mode):
    """Ask to flush denormal floats to zero; returns whether the CPU setting was changed.

    PyTorch sets the x86 FTZ/DAZ flags and returns True. NumPy gives no way to set them, so
    flambeau leaves the floating-point mode alone and returns False, which is what PyTorch
    returns on CPUs where flushing is not supported: code that checks the result keeps
    working, and denormals keep their values.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.set_flush_denormal(True)
    False
    """
    _bool_arg("set_flush_denormal", "mode", 1, mode)
    return False


def set_warn_always(b):
    """Make warnings that are shown once per process (such as :func:`frombuffer`'s) show
    every time.

    Raises
    ------
    RuntimeError
        If ``b`` is not a bool.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.set_warn_always(True)
    >>> flambeau.is_warn_always_enabled()
    True
    >>> flambeau.set_warn_always(False)
    """
    if not isinstance(b, builtins.bool):
        raise RuntimeError(f"set_warn_always expects a bool, but got {type(b).__name__}")
    _state["warn_always"] = b


def is_warn_always_enabled():
    """Whether :func:`set_warn_always` is on.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.is_warn_always_enabled()
    False
    """
    return _state["warn_always"]


_warned_once = set()


def _warn_once(key, message):
    if _state["warn_always"] or key not in _warned_once:
        _warned_once.add(key)
        warnings.warn(message, UserWarning, stacklevel=3)


def is_anomaly_enabled():
    """Whether anomaly detection (:class:`flambeau.autograd.detect_anomaly`) is on in this
    thread.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.is_anomaly_enabled()
    False
    """
    return _anomaly.enabled()


def is_anomaly_check_nan_enabled():
    """Whether anomaly detection, when on, checks backward results for NaN (the default).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.is_anomaly_check_nan_enabled()
    True
    """
    return _anomaly.check_nan_enabled()


def set_anomaly_enabled(enabled, check_nan=True):
    """Turn anomaly detection on or off in this thread (the function form of
    :class:`flambeau.autograd.set_detect_anomaly`).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.set_anomaly_enabled(True, check_nan=False)
    >>> flambeau.is_anomaly_enabled(), flambeau.is_anomaly_check_nan_enabled()
    (True, False)
    >>> flambeau.set_anomaly_enabled(False)
    """
    _anomaly._set(builtins.bool(enabled), builtins.bool(check_nan))


def is_storage(obj):
    """Whether ``obj`` is a storage object: always False, flambeau tensors have no separate
    storage type.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.is_storage(flambeau.zeros(1))
    False
    """
    return False


def typename(obj):
    """The type name of ``obj``: ``t.type()`` for a tensor (``'flambeau.FloatTensor'``),
    else the module and qualified name of what ``obj`` is.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.typename(flambeau.zeros(1)), flambeau.typename(1.5)
    ('flambeau.FloatTensor', 'float')
    >>> flambeau.typename(flambeau.Tensor)
    'flambeau._tensor.Tensor'
    """
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", None)
    prefix = f"{module}." if module not in (None, "builtins", "__builtin__") else ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if not isinstance(name, str):
        name = type(obj).__name__
    return prefix + name


def can_cast(from_, to):
    """Whether a value of dtype ``from_`` may be cast to ``to`` under PyTorch's casting rule:
    never to a lower kind (floating point > integer > bool), any size within a kind.

    Raises
    ------
    TypeError
        If ``from_`` or ``to`` is not a dtype.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.can_cast(flambeau.float64, flambeau.float16)
    True
    >>> flambeau.can_cast(flambeau.float32, flambeau.int64)
    False
    """
    for name, pos, dt in (("from_", 1, from_), ("to", 2, to)):
        if not isinstance(dt, _dtype.dtype):
            raise TypeError(f"can_cast(): argument '{name}' (position {pos}) must be "
                            f"flambeau.dtype, not {type(dt).__name__}")
    return from_.category <= to.category  # bool < integer < floating point


# ------------------------------------------------------------------ creation and small ops


def scalar_tensor(s, *, dtype=None, layout=None, device=None, pin_memory=False,
                  requires_grad=False):
    """A 0-dim tensor holding the number ``s``, of the default float dtype unless ``dtype``
    is given (also for int and bool ``s``).

    Raises
    ------
    TypeError
        If ``s`` is not a number.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.scalar_tensor(3), flambeau.scalar_tensor(2.5, dtype=flambeau.int64)
    (tensor(3.), tensor(2))
    """
    if isinstance(s, Tensor) and s.numel() == 1:
        s = s.item()
    if not isinstance(s, numbers.Number):
        raise TypeError(f"scalar_tensor(): argument 's' (position 1) must be Number, not "
                        f"{type(s).__name__}")
    t = _creation.full((), s, dtype=dtype if dtype is not None else _dtype.get_default_dtype(),
                       device=device)
    t = _creation.pinned(t, pin_memory, "scalar_tensor")
    return t.requires_grad_(True) if requires_grad else t


def rsub(input, other, alpha=1):
    """``other - alpha * input``: :func:`flambeau.sub` with the operands swapped.

    Raises
    ------
    TypeError
        If ``input`` is not a tensor.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.rsub(flambeau.tensor([1.0, 2.0]), 5)
    tensor([4., 3.])
    >>> flambeau.rsub(flambeau.tensor([1.0, 2.0]), flambeau.tensor(3.0), alpha=2)
    tensor([ 1., -1.])
    """
    from flambeau._ops import elementwise as ew

    _need_tensor("rsub", input)
    return ew.sub(other, input, alpha=alpha)


_RANGE_WARNING = ("flambeau.range is deprecated and will be removed in a future release "
                  "because its behavior is inconsistent with Python's range builtin. Instead, "
                  "use flambeau.arange, which produces values in [start, end).")


def range(start, end, step=1, *, out=None, dtype=None, layout=_compat.strided,  # noqa: A001
          device=None,
          requires_grad=False):
    """Values from ``start`` to ``end`` **inclusive** by ``step`` (deprecated: use
    :func:`flambeau.arange`, which leaves ``end`` out). Warns with a ``UserWarning``.

    The dtype is the default float dtype unless ``dtype`` is given; the number of values is
    ``floor((end - start) / step) + 1``.

    Raises
    ------
    RuntimeError
        If ``step`` is 0 or has the wrong sign for ``start`` and ``end``.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     flambeau.range(1, 4), flambeau.range(1, 2, 0.5)
    (tensor([1., 2., 3., 4.]), tensor([1.0000, 1.5000, 2.0000]))
    """
    warnings.warn(_RANGE_WARNING, UserWarning, stacklevel=2)
    _compat.check_layout("range", layout)
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise RuntimeError("range: step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError(f"range: upper bound ({end}) and lower bound ({start}) inconsistent "
                           f"with step sign ({step})")
    n = math.floor((end - start) / step) + 1
    dev = canonical(device)
    np_dtype = _creation._np_dtype(dtype)
    xp = dev.backend.xp
    with dev.backend.use_device(dev.index):
        arr = (start + xp.arange(n, dtype="float64") * step).astype(np_dtype)
    return write_out(_creation._finish(arr, dev, requires_grad), out)


def get_device(input):
    """The device index of ``input``: -1 on the CPU, the GPU's index on CUDA.

    Raises
    ------
    TypeError
        If ``input`` is not a tensor.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.get_device(flambeau.zeros(1))
    -1
    """
    _need_tensor("get_device", input)
    return input.get_device()


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """An uninitialized tensor with the given ``size`` and ``stride`` (in elements).

    The tensor is a strided view of a buffer just large enough for it, so ``stride()`` reports
    ``stride`` (a stride of 0 makes elements share memory, as in PyTorch).

    Raises
    ------
    RuntimeError
        If ``size`` and ``stride`` differ in length, a size is negative or a stride negative.

    Examples
    --------
    >>> import flambeau
    >>> t = flambeau.empty_strided((2, 3), (1, 2))
    >>> t.shape, t.stride(), t.is_contiguous()
    (flambeau.Size([2, 3]), (1, 2), False)
    """
    shape = _creation._size_args((size,), "empty_strided")
    stride = tuple(builtins.int(s) for s in stride)
    if len(shape) != len(stride):
        raise RuntimeError(f"empty_strided: dimensionality of sizes ({len(shape)}) must match "
                           f"dimensionality of strides ({len(stride)})")
    if builtins.any(s < 0 for s in stride):
        raise RuntimeError(f"empty_strided: strides must be non-negative, got sizes="
                           f"{list(shape)} and strides={list(stride)}")
    dev = canonical(device)
    np_dtype = _creation._np_dtype(dtype)
    xp = dev.backend.xp
    extent = 0 if 0 in shape else 1 + builtins.sum((n - 1) * s for n, s in zip(shape, stride))
    with dev.backend.use_device(dev.index):
        buf = xp.empty(extent, dtype=np_dtype)
        item = buf.dtype.itemsize
        arr = xp.lib.stride_tricks.as_strided(buf, shape, tuple(s * item for s in stride))
    return _creation._finish(arr, dev, requires_grad, pin_memory, "empty_strided")


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    """An uninitialized tensor of shape ``size`` whose dims lie in memory in the order
    ``physical_layout`` (outermost first): ``empty([size[d] for d in physical_layout])``
    permuted back to ``size``.

    Raises
    ------
    RuntimeError
        If ``physical_layout`` is not a permutation of the dims of ``size``.

    Examples
    --------
    >>> import flambeau
    >>> t = flambeau.empty_permuted((2, 3, 4), (0, 2, 1))
    >>> t.shape, t.stride()
    (flambeau.Size([2, 3, 4]), (12, 1, 3))
    """
    shape = _creation._size_args((size,), "empty_permuted")
    perm = tuple(builtins.int(p) for p in physical_layout)
    if len(perm) != len(shape):
        raise RuntimeError(f"empty_permuted: Number of dimensions in size does not match the "
                           f"length of the physical_layout; i.e. len(size) = {len(shape)} is "
                           f"not equal to len(physical_layout) = {len(perm)}")
    for i, p in enumerate(perm):
        if not 0 <= p < len(shape):
            raise RuntimeError(f"empty_permuted: Dimension out of range (expected to be "
                               f"between 0 and {len(shape) - 1}, but got {p} at index {i})")
    if len(set(perm)) != len(perm):
        raise RuntimeError(f"empty_permuted: Duplicate dim not allowed in physical_layout "
                           f"{list(perm)}")
    dev = canonical(device)
    xp = dev.backend.xp
    with dev.backend.use_device(dev.index):
        phys = xp.empty(tuple(shape[p] for p in perm), dtype=_creation._np_dtype(dtype))
        arr = xp.transpose(phys, sorted(builtins.range(len(perm)), key=perm.__getitem__))
    return _creation._finish(arr, dev, requires_grad, pin_memory, "empty_permuted")


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D CPU tensor over the memory of an object with the buffer protocol (``bytearray``,
    ``array.array``, ``mmap``...), sharing it: writes through either side show in the other.

    ``offset`` bytes are skipped, then ``count`` elements are read (all that remain for -1).
    A read-only buffer (``bytes``) warns once per process (every time after
    :func:`set_warn_always`); its tensor is read-only in flambeau, so in-place writes raise
    (in PyTorch they would write into the supposedly immutable buffer).

    Raises
    ------
    ValueError
        If ``buffer`` has no buffer protocol, is empty, or ``count``/``offset`` do not fit.

    Examples
    --------
    >>> import array
    >>> import flambeau
    >>> a = array.array("i", [1, 2, 3])
    >>> t = flambeau.frombuffer(a, dtype=flambeau.int32); a[0] = 9
    >>> t
    tensor([9, 2, 3], dtype=flambeau.int32)
    """
    import numpy as np  # frombuffer reads host memory: the CPU backend's arrays are NumPy's

    try:
        view = memoryview(buffer)
    except TypeError:
        raise ValueError("frombuffer: object does not implement Python buffer protocol.") \
            from None
    length = view.nbytes
    item = _dtype.to_dtype(dtype).np.itemsize
    if length == 0 or count == 0:
        raise ValueError(f"frombuffer: both buffer length ({length}) and count ({count}) must "
                         "not be 0")
    if not 0 <= offset < length:
        raise ValueError(f"frombuffer: offset ({offset} bytes) must be non-negative and no "
                         f"greater than buffer length ({length} bytes) minus 1")
    if count < 0 and (length - offset) % item:
        raise ValueError(f"frombuffer: buffer length ({length - offset} bytes) after offset "
                         f"({offset} bytes) must be a multiple of element size ({item})")
    if count > 0 and count * item > length - offset:
        raise ValueError(f"frombuffer: requested buffer length ({count} * {item} bytes) after "
                         f"offset ({offset} bytes) must not be greater than actual buffer "
                         f"length ({length} bytes)")
    if view.readonly:
        _warn_once("frombuffer", "The given buffer is not writable, and flambeau does not "
                   "support writing to its tensor. You may want to copy the buffer to protect "
                   "its data or make it writable before converting it to a tensor.")
    arr = np.frombuffer(view.cast("B"), dtype=_dtype.to_dtype(dtype).np, count=count,
                        offset=offset)
    return _creation._finish(arr, canonical("cpu"), requires_grad)


def from_file(filename, shared=None, size=0, *, dtype=None, layout=None, device=None,
              pin_memory=False, requires_grad=False):
    """A 1-D tensor of the first ``size`` values of a file of raw values (``dtype``, the
    default dtype when None, in the machine's byte order), memory-mapped.

    With ``shared=True`` the tensor maps the file itself: writes to the tensor are written to
    the file, and processes mapping it see each other's writes; the file is created, or
    extended with zeros, to hold ``size`` values. Otherwise (``False`` or None) the mapping
    is private: the tensor starts with the file's values, and writes change the tensor
    only. On a device other than the CPU the tensor is a copy.

    Raises
    ------
    RuntimeError
        If ``size`` is negative, the file cannot be opened, or (not shared) it holds fewer
        than ``size`` values. With ``size=0`` (the default) no file is opened.
    TypeError
        If ``size`` is not an integer.
    NotImplementedError
        For a sparse ``layout``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import flambeau
    >>> path = os.path.join(tempfile.mkdtemp(), "values.bin")
    >>> np.arange(4, dtype=np.float32).tofile(path)
    >>> flambeau.from_file(path, size=4, dtype=flambeau.float32, device="cpu")
    tensor([0., 1., 2., 3.])
    >>> t = flambeau.from_file(path, True, 2, dtype=flambeau.float32, device="cpu")
    >>> t[0] = 7.0
    >>> np.fromfile(path, np.float32).tolist()
    [7.0, 1.0, 2.0, 3.0]
    """
    import os

    import numpy as np  # a file maps into host memory: the CPU backend's arrays are NumPy's

    np_dtype = _dtype.to_dtype(dtype if dtype is not None else _dtype.get_default_dtype()).np
    _compat.check_layout("from_file", layout)
    if not isinstance(size, numbers.Integral) or size.__class__ is bool:
        raise TypeError(f"from_file(): argument 'size' (position 3) must be int, not "
                        f"{type(size).__name__}")
    size = int(size)
    if size < 0:
        raise RuntimeError(f"from_file: size must be non-negative, got {size}")
    if size == 0:  # torch opens no file for no values (mmap refuses empty mappings)
        return _creation._finish(np.empty(0, np_dtype), canonical(device), requires_grad,
                                 pin_memory, "from_file")
    name = os.fspath(filename)
    nbytes = size * np_dtype.itemsize
    try:
        if shared:
            with open(name, "ab") as f:  # creates it; never truncates
                if f.tell() < nbytes:
                    f.truncate(nbytes)
        have = os.path.getsize(name)
    except OSError as e:
        mode = "read-write" if shared else "read-only"
        raise RuntimeError(f"from_file: unable to open file <{name}> in {mode} mode: "
                           f"{e.strerror} ({e.errno})") from None
    if have < nbytes:
        raise RuntimeError(f"from_file: file <{name}> size <{have}> is smaller than the "
                           f"required mapping size <{nbytes}> ({size} values of "
                           f"{_dtype.from_numpy_dtype(np_dtype)})")
    arr = np.memmap(name, np_dtype, "r+" if shared else "c", shape=(size,))
    return _creation._finish(arr.view(np.ndarray), canonical(device), requires_grad,
                             pin_memory, "from_file")


# ------------------------------------------------------------------ compile

_COMPILE_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs",
                  "max-autotune")


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor",  # noqa: A001
            mode=None, options=None, name=None, disable=False, recompile_limit=None,
            isolate_recompiles=False, shapes_spec=None):
    """Return ``model`` unchanged: flambeau runs eagerly and **does not compile anything**.

    ``torch.compile`` traces a module or function and generates fused kernels. flambeau has
    no compiler, so this accepts the same arguments, checks ``mode`` and ``options`` as
    PyTorch does, and gives back the same object (not a wrapper), which runs exactly as
    before. It works as a call, ``@flambeau.compile`` and ``@flambeau.compile(mode=...)``.

    Raises
    ------
    RuntimeError
        If ``mode`` is unknown, or both ``mode`` and ``options`` are given.
    AssertionError
        If ``model`` is not callable (as in PyTorch).

    Examples
    --------
    >>> import flambeau
    >>> @flambeau.compile(mode="reduce-overhead")
    ... def f(x):
    ...     return x * 2
    >>> f(flambeau.tensor([1.0]))
    tensor([2.])
    >>> flambeau.compile(f) is f
    True
    """
    settings = {"fullgraph": fullgraph, "dynamic": dynamic, "backend": backend, "mode": mode,
                "options": options, "name": name, "disable": disable,
                "recompile_limit": recompile_limit, "isolate_recompiles": isolate_recompiles,
                "shapes_spec": shapes_spec}
    if model is None:
        return functools.partial(_compile_now, **settings)
    return _compile_now(model, **settings)


def _compile_now(model, *, mode, options, **_):
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    if mode is not None and options is not None:
        raise RuntimeError("compile: Either mode or options can be specified, but both can't "
                           "be specified at the same time.")
    if mode is not None and mode not in _COMPILE_MODES:
        raise RuntimeError(f"compile: Unrecognized mode={mode}, should be one of: "
                           f"{', '.join(_COMPILE_MODES)}")
    return model


class OutOfMemoryError(RuntimeError):
    """An allocation on a device failed (PyTorch's ``torch.OutOfMemoryError``, which is
    ``torch.cuda.OutOfMemoryError`` too).

    ``flambeau.cuda.OutOfMemoryError`` is this class; a backend raises it or a subclass of
    it (flambeau-cuda's also derives from ``MemoryError``), whose message says how much was
    asked for and what the device's memory pool holds, so ``except
    flambeau.OutOfMemoryError`` catches the failure of every device.

    Examples
    --------
    >>> import flambeau
    >>> issubclass(flambeau.OutOfMemoryError, RuntimeError)
    True
    >>> flambeau.cuda.OutOfMemoryError is flambeau.OutOfMemoryError
    True
    """


def is_autocast_cache_enabled() -> bool:
    """Whether autocast keeps the low-precision copies it makes of leaf tensors (such as
    weights) for the rest of the outermost region, instead of casting at every use (on by
    default, and ``cache_enabled=`` of :class:`flambeau.autocast` sets it for a region).

    Examples
    --------
    >>> import flambeau
    >>> with flambeau.autocast("cpu", cache_enabled=False):
    ...     flambeau.is_autocast_cache_enabled()
    False
    >>> flambeau.is_autocast_cache_enabled()
    True
    """
    from flambeau.amp import _autocast

    return _autocast._state.cache_enabled


def clear_autocast_cache() -> None:
    """Drop the low-precision copies autocast keeps in this thread (it drops them itself when
    the outermost region ends).

    Examples
    --------
    >>> import flambeau
    >>> w = flambeau.ones(2, 2, requires_grad=True)
    >>> with flambeau.autocast("cpu"):
    ...     y = w @ w
    ...     flambeau.clear_autocast_cache()
    """
    from flambeau.amp import _autocast

    _autocast._state.cache.clear()


def _deprecated_autocast_query(name, replacement, query, setup, expected):
    """torch's deprecated ``torch.<name>()``: warns (DeprecationWarning) and returns
    ``query()``, the answer of ``flambeau.<replacement>``."""

    def fn():
        warnings.warn(f"flambeau.{name}() is deprecated. Please use flambeau.{replacement} "
                      "instead.", DeprecationWarning, stacklevel=2)
        return query()

    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = __name__
    fn.__doc__ = f"""Deprecated: ``flambeau.{replacement}`` (warns, as PyTorch).

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     {setup}flambeau.{name}()
    {expected}
    """
    return fn


def _amp():
    from flambeau import amp

    return amp


get_autocast_cpu_dtype = _deprecated_autocast_query(
    "get_autocast_cpu_dtype", "get_autocast_dtype('cpu')",
    lambda: _amp().get_autocast_dtype("cpu"), "", "flambeau.bfloat16")
get_autocast_gpu_dtype = _deprecated_autocast_query(
    "get_autocast_gpu_dtype", "get_autocast_dtype('cuda')",
    lambda: _amp().get_autocast_dtype("cuda"), "", "flambeau.float16")
is_autocast_cpu_enabled = _deprecated_autocast_query(
    "is_autocast_cpu_enabled", "is_autocast_enabled('cpu')",
    lambda: _amp().is_autocast_enabled("cpu"),
    'with flambeau.autocast("cpu"):\n    ...         ', "True")


# ------------------------------------------------------------------ autocast setters
# The state ``flambeau.autocast`` regions keep, set directly (torch's ``torch.set_autocast_*``,
# which ``torch.autocast`` is built on). A region restores what it found when it ends.


def _bool_arg(op, name, position, value):
    if not isinstance(value, bool):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be bool, not "
                        f"{type(value).__name__}")
    return value


#: the device types torch's autocast setters take (whether or not a backend is installed)
_TORCH_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip",
                       "ve", "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu",
                       "mtia", "privateuseone")


def _device_type_arg(op, device_type):
    if not isinstance(device_type, str):
        raise TypeError(f"{op}(): argument 'device_type' (position 1) must be str, not "
                        f"{type(device_type).__name__}")
    name = device_type.split(":")[0]  # 'cuda:0' names the device type, as in torch
    if name not in _TORCH_DEVICE_TYPES:
        from flambeau.backends import _registry

        if not _registry.has_backend(name):  # a plugin's own device type is one too
            raise RuntimeError(f"{op}(): expected one of {', '.join(_TORCH_DEVICE_TYPES)} "
                               f"device type at start of device string: {name}")
    return name


def _dtype_arg(op, dtype, position):
    if not isinstance(dtype, _dtype.dtype):
        raise TypeError(f"{op}(): argument 'dtype' (position {position}) must be "
                        f"flambeau.dtype, not {type(dtype).__name__}")
    return dtype


def set_autocast_enabled(device_type, enabled=None):
    """Turn autocast on or off for ``device_type`` in this thread, as entering a
    :class:`flambeau.autocast` region does (the region's exit restores the state it found).

    ``set_autocast_enabled(enabled)`` alone is for ``"cuda"``, as in PyTorch.

    Raises
    ------
    TypeError
        When ``enabled`` is not a bool or ``device_type`` not a string.
    RuntimeError
        For a ``device_type`` neither torch's nor an installed backend's.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.set_autocast_enabled("cpu", True)
    >>> (flambeau.ones(2, 2) @ flambeau.ones(2, 2)).dtype
    flambeau.bfloat16
    >>> flambeau.set_autocast_enabled("cpu", False)
    >>> flambeau.is_autocast_enabled("cpu")
    False
    """
    from flambeau.amp import _autocast

    op = "set_autocast_enabled"
    if enabled is None:  # the one-argument form
        device_type, enabled = "cuda", _bool_arg(op, "enabled", 1, device_type)
    else:
        device_type = _device_type_arg(op, device_type)
        _bool_arg(op, "enabled", 2, enabled)
    _autocast._set_enabled(device_type, enabled)


def set_autocast_dtype(device_type, dtype):
    """Set the dtype autocast uses for ``device_type`` in this thread (what
    :func:`flambeau.get_autocast_dtype` answers and a region without ``dtype`` takes).

    Raises
    ------
    TypeError
        When ``dtype`` is not a ``flambeau.dtype`` or ``device_type`` not a string.
    RuntimeError
        For a ``device_type`` neither torch's nor an installed backend's.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.set_autocast_dtype("cpu", flambeau.float16)
    >>> with flambeau.autocast("cpu"):
    ...     (flambeau.ones(2, 2) @ flambeau.ones(2, 2)).dtype
    flambeau.float16
    >>> flambeau.set_autocast_dtype("cpu", flambeau.bfloat16)
    """
    from flambeau.amp import _autocast

    op = "set_autocast_dtype"
    _autocast._set_dtype(_device_type_arg(op, device_type), _dtype_arg(op, dtype, 2))


def set_autocast_cache_enabled(enabled):
    """Whether autocast keeps its low-precision copies of leaf tensors in this thread (see
    :func:`flambeau.is_autocast_cache_enabled`).

    Raises
    ------
    TypeError
        When ``enabled`` is not a bool.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.set_autocast_cache_enabled(False)
    >>> flambeau.is_autocast_cache_enabled()
    False
    >>> flambeau.set_autocast_cache_enabled(True)
    """
    from flambeau.amp import _autocast

    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool (got {type(enabled).__name__})")
    _autocast._state.cache_enabled = enabled


def _deprecated_autocast_setter(name, replacement, device_type, kind):
    """torch's deprecated ``torch.<name>(value)``: warns (DeprecationWarning) and sets autocast's
    ``kind`` ("enabled" or "dtype") for ``device_type``."""
    setter = set_autocast_enabled if kind == "enabled" else set_autocast_dtype
    if kind == "enabled":
        value, undo, query = "True", "False", f"is_autocast_enabled('{device_type}')"
    else:
        value, query = "flambeau.float16", f"get_autocast_dtype('{device_type}')"
        undo = "flambeau.bfloat16" if device_type == "cpu" else "flambeau.float16"

    def fn(value):
        warnings.warn(f"flambeau.{name}({kind}) is deprecated. Please use "
                      f"flambeau.{replacement}('{device_type}', {kind}) instead.",
                      DeprecationWarning, stacklevel=2)
        if kind == "enabled":
            _bool_arg(name, "enabled", 1, value)
        else:
            _dtype_arg(name, value, 1)
        setter(device_type, value)

    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = __name__
    fn.__doc__ = f"""Deprecated: ``flambeau.{replacement}('{device_type}', {kind})`` (warns,
    as PyTorch).

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     flambeau.{name}({value})
    ...     answer = flambeau.{query}
    ...     flambeau.{name}({undo})
    >>> answer
    {value}
    """
    return fn


set_autocast_cpu_enabled = _deprecated_autocast_setter(
    "set_autocast_cpu_enabled", "set_autocast_enabled", "cpu", "enabled")
set_autocast_cpu_dtype = _deprecated_autocast_setter(
    "set_autocast_cpu_dtype", "set_autocast_dtype", "cpu", "dtype")
set_autocast_gpu_dtype = _deprecated_autocast_setter(
    "set_autocast_gpu_dtype", "set_autocast_dtype", "cuda", "dtype")


def autocast_increment_nesting():
    """Count one more autocast region entered in this thread; returns the new depth.

    :class:`flambeau.autocast` counts its regions itself: this is for code that builds its
    own on :func:`set_autocast_enabled`, and calls :func:`flambeau.clear_autocast_cache`
    when :func:`autocast_decrement_nesting` returns 0, as a region's exit does.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.autocast_increment_nesting()
    1
    >>> flambeau.autocast_decrement_nesting()
    0
    """
    from flambeau.amp import _autocast

    _autocast._state.depth += 1
    return _autocast._state.depth


def autocast_decrement_nesting():
    """Count one autocast region left in this thread; returns the new depth (which, as in
    PyTorch, may go below 0). See :func:`autocast_increment_nesting`.

    Examples
    --------
    >>> import flambeau
    >>> with flambeau.autocast("cpu"):
    ...     depth = flambeau.autocast_decrement_nesting()
    ...     _ = flambeau.autocast_increment_nesting()
    >>> depth
    0
    """
    from flambeau.amp import _autocast

    _autocast._state.depth -= 1
    return _autocast._state.depth


# ------------------------------------------------------------------ deprecated norms
# torch keeps them for TorchScript and warns once; linalg's norms compute them.


def frobenius_norm(input, dim, keepdim=False, *, out=None):
    """Deprecated: ``flambeau.linalg.vector_norm(input, 2, dim, keepdim)`` (warns once, as
    PyTorch). ``dim`` (an int or at most two ints) is required; ``[]`` means every dimension.

    Raises
    ------
    RuntimeError
        For more than two dimensions in ``dim``, or an input that is not floating point or
        complex.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     flambeau.frobenius_norm(flambeau.tensor([[3.0, 0.0], [0.0, 4.0]]), [0, 1])
    tensor(5.)
    """
    from flambeau import linalg

    _warn_once("frobenius_norm", "flambeau.frobenius_norm is deprecated, as torch's: use "
               "flambeau.linalg.vector_norm(A, 2., dim, keepdim) instead")
    dims = [dim] if isinstance(dim, numbers.Integral) else list(dim)
    if len(dims) > 2:
        raise RuntimeError(f"frobenius_norm: Expected at most 2 dimensions, but got "
                           f"{len(dims)} dimensions instead.")
    return linalg.vector_norm(input, 2, dims, keepdim, out=out)


def nuclear_norm(input, dim=None, keepdim=False, *, out=None):
    """Deprecated: ``flambeau.linalg.matrix_norm(input, "nuc", dim, keepdim)``, the sum of
    the singular values (warns once, as PyTorch).

    As torch's two overloads, ``nuclear_norm(input, keepdim=False)`` takes the last two
    dimensions and ``nuclear_norm(input, dim, keepdim=False)`` the two of ``dim``.

    Raises
    ------
    RuntimeError
        When ``dim`` is not two dimensions, or for an input that is not floating point or
        complex.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     flambeau.nuclear_norm(flambeau.tensor([[3.0, 0.0], [0.0, -4.0]]))
    tensor(7.)
    """
    from flambeau import linalg

    _warn_once("nuclear_norm", "flambeau.nuclear_norm is deprecated, as torch's: use "
               "flambeau.linalg.matrix_norm(A, 'nuc', dim, keepdim) instead")
    if isinstance(dim, bool):  # nuclear_norm(input, keepdim)
        dim, keepdim = None, dim
    return linalg.matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, out=out)
