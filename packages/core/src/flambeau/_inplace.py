"""In-place ops: write a result into a tensor's own storage and rebase its autograd history.

Under no_grad (optimizer steps, init) an in-place op is a plain array write. While recording,
the op runs out of place on a snapshot of the tensor (none for ops whose backward does not
read their input), the values are copied into the tensor's storage (so views see them), the
version counter is bumped (so stale saved tensors are caught) and the tensor's ``grad_fn``
becomes the op's node. ``add_``, ``sub_`` and ``relu_`` on a tensor that is not a view write
into its storage directly (:func:`record_in_place`), as torch's in-place ops do.
"""

from __future__ import annotations

from flambeau import _dtype
from flambeau._ops._util import (
    FLOAT8_NP,
    FLOAT_NP,
    LOW_PRECISION_NP,
    fit_scalar,
    float8_in_place_operand,
    half_ufunc,
)
from flambeau._ops.strided_numeric import rebase_view_history, view_geometry
from flambeau.autograd import _forward
from flambeau.autograd import _function as _autograd_function
from flambeau.autograd._function import (
    _INFERENCE_INPLACE_MESSAGE,
    _InferenceVersion,
    refresh_view,
)
from flambeau.autograd._grad_mode import state

#: in-place ops whose result is real for a complex tensor: PyTorch refuses them there
_REAL_FOR_COMPLEX = frozenset({"abs_", "absolute_"})


def _check_cast(t, result, op):
    src, dst = result._data.dtype, t._data.dtype
    if src == dst:
        return result
    if op in _REAL_FOR_COMPLEX and dst.kind == "c":
        raise RuntimeError(f"{op}: in-place abs is not supported for complex tensors (got "
                           f"{t.dtype}; its result is real): use abs() instead")
    # a real result fits a complex tensor, as in PyTorch; a complex one fits no real tensor
    rank = {"b": 0, "u": 1, "i": 1, "f": 2, "V": 2, "c": 3}
    if rank.get(src.kind, 2) > rank.get(dst.kind, 2) or (
            src in FLOAT_NP and dst not in FLOAT_NP and dst.kind != "c"):
        raise RuntimeError(
            f"{op}: result type {result.dtype} can't be cast to the desired output type {t.dtype}"
        )
    return result.to(t.dtype)


def needs_history(t) -> bool:
    """Whether a write into ``t`` while recording must go through :func:`write_result`:
    ``t`` requires grad, or it is a view of a tensor that does (and must be rebased)."""
    base = t._base
    if base is None:
        return t._requires_grad
    return refresh_view(t) or base._requires_grad


def write_result(t, compute, op, snapshot=True):
    """Run ``compute(src)`` and store its result in ``t`` in place.

    While recording, ``src`` is a snapshot of ``t`` that the op may save for its backward;
    ``snapshot=False`` (ops whose backward does not read their input, such as ``relu_``)
    computes from ``t`` itself, sparing a copy and a recorded op. A write into a view gives
    the view's base a :class:`~flambeau._ops.strided_numeric.CopySlices` history, as in
    PyTorch, so gradients reach both the base's old values and the written ones.
    """
    if t._version_counter.__class__ is _InferenceVersion and not state.inference:
        raise RuntimeError(_INFERENCE_INPLACE_MESSAGE)  # before the write, not after
    recording = state.grad_enabled
    base = t._base
    if recording:
        if base is None:
            if t._grad_fn is None and t._requires_grad:
                raise RuntimeError(
                    f"{op}: a leaf Variable that requires grad is being used in an in-place "
                    "operation. Wrap it in flambeau.no_grad() or clone() it first."
                )
        else:
            _refuse_view_of_leaf(t, op)
            refresh_view(t)
        if not snapshot:
            src = t
        else:
            src = t.clone() if t._requires_grad else t.detach().clone()
            if _autograd_function._forward_ad_on and src._grad_fn is None:
                _forward.snapshot(src, t)  # detach() dropped the tangent
    else:
        src = t
    result = _check_cast(t, compute(src), op)
    if result._data.shape != t._data.shape:
        try:
            result = result.expand(*t._data.shape)
        except RuntimeError:
            raise RuntimeError(
                f"{op}: output with shape {list(t.shape)} doesn't match the broadcast shape "
                f"{list(result.shape)}"
            ) from None
    into_view = recording and base is not None and (
        result._grad_fn is not None or base._requires_grad)
    geo = check_view_write(t, op) if into_view else None
    _check_no_internal_overlap(t, op)
    if result._data is not t._data:
        t._device._xp.copyto(t._data, result._data, casting="unsafe")
    t._version_counter.value += 1
    if _autograd_function._forward_ad_on:
        _forward.after_write(t, result)
    if into_view:
        rebase_view_history(t, result, geo)
    elif recording and result._grad_fn is not None:
        t._take_history(result._grad_fn, result._output_nr)
    return t


def can_write_in_place(t, other=None):
    """Whether an in-place op on ``t`` (with tensor operand ``other``) may, while recording,
    compute straight into ``t``'s storage with :func:`record_in_place`: ``t`` is not a view, a
    leaf that requires grad, an inference tensor or an expanded tensor, and ``other`` (if any)
    is a tensor of ``t``'s dtype and device that broadcasts to ``t``'s shape and is not a view
    of ``t``. Anything else takes :func:`write_result`, which also raises the errors."""
    if (t._base is not None or (t._grad_fn is None and t._requires_grad)
            or t._version_counter.__class__ is _InferenceVersion or 0 in t._data.strides):
        return False
    if other is None:
        return True
    a, b = t._data, getattr(other, "_data", None)
    # a view of t would be read while t is written (the out-of-place path reads it first)
    return (b is not None and other._base is not t and other._device is t._device
            and b.dtype == a.dtype
            and b.ndim <= a.ndim
            and all(m in (1, n) for m, n in zip(reversed(b.shape), reversed(a.shape))))


def record_in_place(t, fn_cls, *args):
    """``fn_cls.apply(t, *args)``, whose forward writes into ``t``'s storage and bumps its
    version, then ``t`` takes the node as its history: one array write, as torch's in-place
    ops, where :func:`write_result` computes out of place and copies (two). The node's inputs
    are ``t``'s old history and ``args``'."""
    result = fn_cls.apply(t, *args)
    t._take_history(result._grad_fn, result._output_nr)
    return t


def _refuse_view_of_leaf(view, op):
    """Raise torch's errors for an in-place write, while recording, into ``view``: an output of
    split, chunk or unbind, or a view of a leaf that requires grad."""
    fn = view._grad_fn
    if getattr(fn, "_multi_output_view", False):
        raise RuntimeError(
            f"{op}: output {view._output_nr} of {fn.name().removesuffix('Backward0')} is a view "
            "and is being modified inplace. This view is the output of a function that returns "
            "multiple views. Such functions do not allow the output views to be modified "
            "inplace. You should replace the inplace operation by an out-of-place one."
        )
    base = view._base
    if base._requires_grad and base._grad_fn is None:
        raise RuntimeError(
            f"{op}: a view of a leaf Variable that requires grad is being used in an "
            "in-place operation."
        )


def check_view_write(view, op):
    """Raise PyTorch's errors for an in-place write into ``view`` that autograd can't record;
    return the view's geometry in its base (see ``view_geometry``) for the rebase."""
    _refuse_view_of_leaf(view, op)
    if view._view_version is None:
        raise RuntimeError(
            f"{op}: a view was created in no_grad mode and is being modified inplace with grad "
            "mode enabled. Given that this use case is ambiguous and error-prone, it is "
            "forbidden. You can clarify your code by moving both the view and the inplace "
            "either both inside the no_grad block (if you don't want the inplace to be "
            "tracked) or both outside (if you want the inplace to be tracked)."
        )
    geo = view_geometry(view)
    if geo is None:
        raise RuntimeError(
            f"{op}: in-place write with gradient into a view of dtype {view.dtype} and shape "
            f"{list(view.shape)} of a {view._base.dtype} tensor of shape "
            f"{list(view._base.shape)}; autograd can't relate the two. Write into the base, "
            "or clone() the view first."
        )
    return geo


def _check_no_internal_overlap(t, op):
    a = t._data
    if any(s == 0 and n > 1 for n, s in zip(a.shape, a.strides)):
        raise RuntimeError(
            f"{op}: unsupported operation: more than one element of the written-to tensor "
            f"(shape {list(a.shape)}, strides {list(t.stride())}) refers to a single memory "
            "location. Please clone() the tensor before performing the operation."
        )


def fast_ufunc(t, ufunc_name, other, op):
    """``t = ufunc(t, other)`` straight into ``t``'s storage when nothing is recorded."""
    if t._version_counter.__class__ is _InferenceVersion and not state.inference:
        raise RuntimeError(_INFERENCE_INPLACE_MESSAGE)  # before the write, not after
    xp = t._device._xp
    o = other._data if hasattr(other, "_data") else other
    if hasattr(other, "_data") and other._device is not t._device:
        raise RuntimeError(
            f"{op}: expected all tensors to be on the same device, but found at least two "
            f"devices, {t._device} and {other._device}"
        )
    if 0 in t._data.strides:  # an expanded tensor: NumPy calls it read-only, CuPy writes it
        _check_no_internal_overlap(t, op)
    if t._data.dtype in FLOAT8_NP or (o.__class__ in (float, int)
                                      and t._data.dtype in LOW_PRECISION_NP):
        if t._data.dtype in FLOAT8_NP:
            o = float8_in_place_operand(t, other)
        half_ufunc(xp, ufunc_name, t._data, o, out=t._data)  # in float32, as torch
        t._version_counter.value += 1
        return t
    if o.__class__ is int:  # uint8 += -1 wraps around in torch; NumPy raises OverflowError
        o = fit_scalar(t, o)
    elif getattr(o, "dtype", None) in FLOAT8_NP:  # NumPy casts it; torch promotes no float8
        _dtype.result_type(t, other)  # but a 0-d one, a scalar to it
    try:
        try:
            getattr(xp, ufunc_name)(t._data, o, out=t._data, casting="same_kind")
        except TypeError:
            # NumPy's same_kind refuses signed to unsigned integers (uint8 += int32); torch
            # only refuses a lower kind (float to integer, integer to bool)
            from flambeau._dtype import result_type

            if result_type(t, other).category > t.dtype.category:  # flambeau.can_cast's rule
                raise
            getattr(xp, ufunc_name)(t._data, o, out=t._data, casting="unsafe")
    except ValueError:
        raise RuntimeError(
            f"{op}: output with shape {list(t.shape)} doesn't match the broadcast shape of "
            f"the operands {list(t.shape)} and "
            f"{list(other.shape) if hasattr(other, 'shape') else []}"
        ) from None
    except TypeError:
        from flambeau._dtype import result_type

        raise RuntimeError(
            f"{op}: result type {result_type(t, other)} can't be cast to the desired output "
            f"type {t.dtype}"
        ) from None
    t._version_counter.value += 1
    return t
