"""In-place ops: write a result into a tensor's own storage and rebase its autograd history.

Under no_grad (optimizer steps, init) an in-place op is a plain array write. While recording,
the op runs out of place on a snapshot of the tensor, the values are copied into the tensor's
storage (so views see them), the version counter is bumped (so stale saved tensors are caught)
and the tensor's ``grad_fn`` becomes the op's node.
"""

from __future__ import annotations

from flambeau._ops._util import FLOAT_NP
from flambeau.autograd._function import _INFERENCE_INPLACE_MESSAGE, _InferenceVersion
from flambeau.autograd._grad_mode import state


def _check_cast(t, result, op):
    src, dst = result._data.dtype, t._data.dtype
    if src == dst:
        return result
    rank = {"b": 0, "u": 1, "i": 1, "f": 2, "V": 2}
    if rank.get(src.kind, 2) > rank.get(dst.kind, 2) or (src in FLOAT_NP and dst not in FLOAT_NP):
        raise RuntimeError(
            f"{op}: result type {result.dtype} can't be cast to the desired output type {t.dtype}"
        )
    return result.to(t.dtype)


def write_result(t, compute, op, snapshot=True):
    """Run ``compute(src)`` and store its result in ``t`` in place.

    While recording, ``src`` is a snapshot of ``t`` that the op may save for its backward;
    ``snapshot=False`` (ops whose backward does not read their input, such as ``relu_``)
    computes from ``t`` itself, sparing a copy and a recorded op.
    """
    if t._version.__class__ is _InferenceVersion and not state.inference:
        raise RuntimeError(_INFERENCE_INPLACE_MESSAGE)  # before the write, not after
    recording = state.grad_enabled
    if recording:
        if t.grad_fn is None and t._requires_grad:
            raise RuntimeError(
                f"{op}: a leaf Variable that requires grad is being used in an in-place "
                "operation. Wrap it in flambeau.no_grad() or clone() it first."
            )
        base = t._base
        if base is not None and (base._requires_grad or base.grad_fn is not None):
            if base.grad_fn is None:
                raise RuntimeError(
                    f"{op}: a view of a leaf Variable that requires grad is being used in an "
                    "in-place operation."
                )
            raise RuntimeError(
                f"{op}: in-place modification of a view of a tensor that requires grad is not "
                "supported by flambeau's autograd yet; use an out-of-place op or clone() first"
            )
        if not snapshot:
            src = t
        else:
            src = t.clone() if t._requires_grad else t.detach().clone()
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
    if result._data is not t._data:
        t._device._xp.copyto(t._data, result._data, casting="unsafe")
    t._version.value += 1
    if recording and result.grad_fn is not None:
        t.grad_fn = result.grad_fn
        t._output_nr = result._output_nr
        t._requires_grad = True
    return t


def fast_ufunc(t, ufunc_name, other, op):
    """``t = ufunc(t, other)`` straight into ``t``'s storage when nothing is recorded."""
    if t._version.__class__ is _InferenceVersion and not state.inference:
        raise RuntimeError(_INFERENCE_INPLACE_MESSAGE)  # before the write, not after
    xp = t._device._xp
    o = other._data if hasattr(other, "_data") else other
    if hasattr(other, "_data") and other._device is not t._device:
        raise RuntimeError(
            f"{op}: expected all tensors to be on the same device, but found at least two "
            f"devices, {t._device} and {other._device}"
        )
    try:
        getattr(xp, ufunc_name)(t._data, o, out=t._data, casting="same_kind")
    except ValueError:
        raise RuntimeError(
            f"{op}: output with shape {list(t.shape)} doesn't match the broadcast shape of "
            f"the operands {list(t.shape)} and "
            f"{list(other.shape) if hasattr(other, 'shape') else []}"
        ) from None
    except TypeError:
        raise RuntimeError(
            f"{op}: result type {getattr(other, 'dtype', type(other).__name__)} can't be cast "
            f"to the desired output type {t.dtype}"
        ) from None
    t._version.value += 1
    return t
