"""flambeau.nn.functional: linear and bilinear maps."""

from __future__ import annotations

import flambeau
from flambeau import Tensor
from flambeau._ops.elementwise import _conj
from flambeau._ops.reduction import accumulated_sum
from flambeau.amp import _autocast
from flambeau.autograd import Function, _forward
from flambeau.autograd._function import node_variant
from flambeau.nn._complex import refuse_complex_grad

__all__ = ["bilinear", "linear"]


class _Linear(Function):
    """``x @ weight.T + bias`` as one node: one matrix product forward, two backward.

    Named as torch's node of a linear layer, ``AddmmBackward0`` (``_LinearNoBias``:
    ``MmBackward0``), with its inputs in torch's order (bias, input, weight); torch's
    graph also has a ``TBackward0`` between the weight and that node, and views around it
    for inputs of other than 2 dims, where flambeau has the one node."""

    _node_name = "AddmmBackward0"
    _graph_inputs = (2, 0, 1)

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        a = x._data
        flat = a if a.ndim == 2 else a.reshape(-1, a.shape[-1])
        out = x._device._backend.matmul(flat, weight._data.T)
        if bias is not None:
            out += bias._data
        return out if a.ndim == 2 else out.reshape(a.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        if flambeau.is_grad_enabled():  # create_graph: stay differentiable
            return _linear_backward_ops(ctx, g, x, weight)
        needs = ctx.needs_input_grad
        n_out, n_in = weight.shape
        g2 = g._data.reshape(-1, n_out)
        gx = gw = gb = None
        mm = g._device._backend.matmul
        w, a = weight._data, x._data
        if w.dtype.kind == "c":  # PyTorch's convention: g @ conj(W), g^T @ conj(x)
            w, a = w.conj(), a.conj()
        if needs[0]:
            gx = Tensor._make(mm(g2, w).reshape(x.shape), g._device)
        if needs[1]:
            gw = Tensor._make(mm(g2.T, a.reshape(-1, n_in)), g._device)
        if ctx.has_bias and needs[2]:
            gb = Tensor._make(accumulated_sum(g._device._xp, g2, 0, False), g._device)
        return gx, gw, gb


_forward.register(_forward.multilinear_bias(-1), _Linear)  # its jvp: x @ tw.T + tx @ w.T + tb


_LinearNoBias = node_variant(_Linear, "MmBackward0", (0, 1))


def _linear_backward_ops(ctx, g, x, weight):
    needs = ctx.needs_input_grad
    gx = gw = gb = None
    if needs[0]:
        gx = g.matmul(_conj(weight))
    if needs[1] or (ctx.has_bias and needs[2]):
        g2 = g.reshape(-1, weight.shape[0])
        if needs[1]:
            gw = g2.mT.matmul(_conj(x).reshape(-1, weight.shape[1]))
        if ctx.has_bias and needs[2]:
            gb = g2.sum(0)
    return gx, gw, gb


def _check_tensor(name, value, op):
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` over the last dimension of ``input``.

    Parameters
    ----------
    input : Tensor
        Shape ``(*, in_features)``.
    weight : Tensor
        Shape ``(out_features, in_features)``.
    bias : Tensor, optional
        Shape ``(out_features,)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.linear(flambeau.ones(2, 3), flambeau.ones(4, 3), flambeau.zeros(4)).shape
    flambeau.Size([2, 4])
    """
    if _autocast.active:
        input, weight, bias = _autocast.cast_inputs("lower", input, weight, bias)
    _check_tensor("input", input, "linear")
    _check_tensor("weight", weight, "linear")
    if weight.ndim != 2 or input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise RuntimeError(
            f"linear: input shape {tuple(input.shape)} and weight shape {tuple(weight.shape)} "
            f"are incompatible (expected input with last dimension "
            f"{weight.shape[1] if weight.ndim == 2 else '?'}, weight of shape (out, in))"
        )
    # any bias other than the usual (out,) or () one must expand to the output (torch's rule)
    odd_bias = bias is not None and tuple(bias.shape) not in ((weight.shape[0],), ())
    if odd_bias:
        out_shape = tuple(input.shape[:-1]) + (weight.shape[0],)
        if not _expands_to(tuple(bias.shape), out_shape):
            raise RuntimeError(
                f"linear: bias of shape {tuple(bias.shape)} does not match weight shape "
                f"{tuple(weight.shape)} (expected ({weight.shape[0]},), or a shape that "
                f"expands to the output's {out_shape})"
            )
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(
            f"linear: input and weight must have the same dtype, got {input.dtype} and "
            f"{weight.dtype}"
        )
    if input._device is not weight._device:
        raise RuntimeError(
            f"linear: expected all tensors to be on the same device, got input on "
            f"{input.device} and weight on {weight.device}"
        )
    if odd_bias:  # the fused node takes the usual bias; autograd reduces any other's gradient
        return _LinearNoBias.apply(input, weight, None) + bias
    return (_Linear if bias is not None else _LinearNoBias).apply(input, weight, bias)


def _expands_to(shape, target):
    """Whether ``shape`` broadcasts to ``target`` without changing it (``expand``'s rule)."""
    if len(shape) > len(target):
        return False
    return all(s in (1, t) for s, t in zip(reversed(shape), reversed(target)))


def bilinear(input1, input2, weight, bias=None):
    """``y[..., o] = input1 @ weight[o] @ input2 + bias[o]``.

    Parameters
    ----------
    input1 : Tensor
        Shape ``(*, in1_features)``.
    input2 : Tensor
        Shape ``(*, in2_features)`` (the same leading shape).
    weight : Tensor
        Shape ``(out_features, in1_features, in2_features)``.
    bias : Tensor, optional
        Shape ``(out_features,)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.bilinear(flambeau.ones(5, 2), flambeau.ones(5, 3), flambeau.ones(4, 2, 3)).shape
    flambeau.Size([5, 4])
    """
    if _autocast.active:
        input1, input2, weight, bias = _autocast.cast_inputs("lower", input1, input2, weight, bias)
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        _check_tensor(name, t, "bilinear")
    if (weight.ndim != 3 or input1.shape[-1] != weight.shape[1]
            or input2.shape[-1] != weight.shape[2] or input1.shape[:-1] != input2.shape[:-1]):
        raise RuntimeError(
            f"bilinear: shapes input1 {tuple(input1.shape)}, input2 {tuple(input2.shape)} and "
            f"weight {tuple(weight.shape)} are incompatible (expected (*, in1), (*, in2) and "
            "(out, in1, in2))"
        )
    if "c" in (input1._data.dtype.kind, input2._data.dtype.kind, weight._data.dtype.kind):
        refuse_complex_grad("bilinear", input1, input2, weight, bias)  # as PyTorch's
    lead = tuple(input1.shape[:-1])
    n_out, in1, in2 = weight.shape
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    # (N, in1) @ (in1, out * in2): one matrix product, then contract in2 per output
    t = x1.matmul(weight.permute(1, 0, 2).reshape(in1, n_out * in2)).reshape(-1, n_out, in2)
    out = (t * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(*lead, n_out)
