"""The backward engine: an iterative walk of the graph in reverse topological order."""

from __future__ import annotations

import sys

from flambeau._compat import strided as _strided
from flambeau.autograd import _anomaly
from flambeau.autograd._function import _FREED_MESSAGE, AccumulateGrad
from flambeau.autograd._grad_mode import state as _grad_state


def _topological_order(root_nodes):
    """Nodes reachable from ``root_nodes``, each before every node it sends gradients to.

    Reverse post-order of an iterative depth-first search (no recursion, so a chain of a
    hundred thousand ops is fine). The stack holds nodes and, apart, the number of each
    one's inputs not yet looked at: no tuple per node, which the cyclic garbage collector
    would track (on a long chain, a full collection of them in the middle of backward).
    Inputs are explored last one first.
    """
    visited = set()
    post = []
    add, append = visited.add, post.append
    for root in root_nodes:
        if root in visited:
            continue
        add(root)
        stack, left = [root], [len(root._next)]
        while stack:
            node = stack[-1]
            i = left[-1]
            nexts = node._next
            while i:
                i -= 1
                child = nexts[i]
                if child is not None and child not in visited:
                    left[-1] = i
                    add(child)
                    stack.append(child)
                    left.append(len(child._next))
                    break
            else:
                stack.pop()
                left.pop()
                append(node)
    post.reverse()
    return post


def _needed(order, targets):
    """Nodes on some path to a ``targets`` node (the others need not run)."""
    needed = set()
    for node in reversed(order):  # children first
        if node in targets or any(child in needed for child in node._next):
            needed.add(node)
    return needed


def _sum_to(grad, shape):
    """Reduce a broadcast gradient back to an input's shape."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and grad.shape[i + lead] != 1
    )
    if axes:
        grad = grad.sum(axes, keepdim=True) if lead == 0 else grad.sum(axes)
    if lead and grad.shape != shape:
        grad = grad.reshape(shape)
    elif grad.shape != shape:
        grad = grad.reshape(shape)
    return grad


def _check_nan(node, i, grad):
    xp = grad._device.backend.xp
    if grad._data.dtype.kind == "f" and bool(xp.isnan(grad._data).any()):
        trace = node._trace or "(no forward traceback: the op ran before anomaly detection)\n"
        raise RuntimeError(
            f"Function '{node.name()}' returned nan values in its {i}th output.\n"
            f"The forward call that created it:\n{trace}"
        )


def run_backward(roots, grads, *, retain_graph, create_graph, inputs=None, accumulate=True,
                 allow_unused=False):
    """Propagate ``grads`` from ``roots`` through the graph.

    With ``accumulate`` (``Tensor.backward``) leaf gradients are added to ``.grad`` (only the
    leaves in ``inputs`` when given). Without it (``autograd.grad``) the gradients of
    ``inputs`` are returned and no ``.grad`` changes.
    """
    from flambeau._tensor import Tensor

    buffers: dict = {}
    root_nodes = []
    # ids of gradient arrays given to a .grad in this pass, or owned by the caller: a second
    # holder gets a copy, so in-place updates of one .grad never change another
    handed = {id(g._data) for g in grads}
    for t, g in zip(roots, grads):
        node, nr = _edge_of(t)
        if node is None:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn "
                f"(tensor of shape {tuple(t.shape)}); call requires_grad_() on the leaves or "
                "remove a surrounding no_grad()"
            )
        _add_to_buffer(buffers, node, nr, g)
        root_nodes.append(node)

    order = _topological_order(root_nodes)
    captures = {}  # (node, nr) -> position in inputs
    input_list = list(inputs) if inputs is not None else None
    if input_list is not None:
        for i, t in enumerate(input_list):
            if not isinstance(t, Tensor):
                raise TypeError(f"inputs[{i}] is a {type(t).__name__}, not a Tensor")
            if not t.requires_grad:
                raise RuntimeError(f"inputs[{i}] does not require grad (shape {tuple(t.shape)})")
            node, nr = _edge_of(t)
            captures[(node, nr)] = i
        needed = _needed(order, {n for n, _ in captures})
        order = [n for n in order if n in needed]
    captured = [None] * len(input_list) if input_list is not None else None

    prev_mode = _grad_state.grad_enabled
    _grad_state.grad_enabled = create_graph
    prev_task = _grad_state.task
    _grad_state.task = _Task(order, accumulate and input_list is None)
    anomaly = _anomaly.enabled() and _anomaly.check_nan_enabled()
    try:
        for node in order:
            node_grads = buffers.pop(node, None)
            if node_grads is None:
                continue
            hooks = node._hooks
            if hooks:
                node_grads = _run_tensor_hooks(hooks, node_grads)
            if node._pre_hooks:
                node_grads = _run_pre_hooks(node, node_grads)
            if captures:
                for nr, g in enumerate(node_grads):
                    pos = captures.get((node, nr))
                    if pos is not None:
                        captured[pos] = g
            if type(node) is AccumulateGrad:
                if accumulate and (input_list is None or (node, 0) in captures):
                    _accumulate(node.variable, node_grads[0], create_graph, handed)
                    for hook in node._grad_hooks or ():
                        hook(node.variable)
                    for hook in node._post_hooks or ():
                        hook((), tuple(node_grads))
                continue
            _apply_node(node, node_grads, buffers, retain_graph, anomaly)
    finally:
        _grad_state.grad_enabled = prev_mode
        _grad_state.task = prev_task

    if input_list is None:
        return None
    if accumulate:
        for (node, nr), pos in captures.items():
            if type(node) is not AccumulateGrad and captured[pos] is not None:
                _accumulate(input_list[pos], captured[pos], create_graph, handed)
        return None
    for i, g in enumerate(captured):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"One of the differentiated Tensors (inputs[{i}], shape "
                f"{tuple(input_list[i].shape)}) appears to not have been used in the graph. "
                "Set allow_unused=True if this is the desired behavior."
            )
    return captured


def _edge_of(t):
    fn = t.grad_fn
    if fn is not None:
        return fn, t._output_nr
    if t._requires_grad:
        acc = t._accum
        if acc is None:
            acc = t._accum = AccumulateGrad(t)
        return acc, 0
    return None, 0


def _private(t, holders):
    """Whether ``holders`` known references (a buffer slot, the caller's local...) are all
    that hold ``t`` and its memory, so that writing into its array in place changes nothing
    anyone else can see."""
    data = t._data
    # also counted: for t, the parameter and getrefcount's argument; for its array, t, the
    # local `data` and getrefcount's argument
    return (sys.getrefcount(t) <= holders + 2 and sys.getrefcount(data) <= 3
            and getattr(data, "base", None) is None)


def _sole_holder(t, g):
    """Whether the buffer is the only holder of ``t`` and of its memory, so that adding ``g``
    into it in place changes nothing anyone else can see."""
    # the holders: the buffer slot, the caller's local and the parameter t (and no local
    # may hold t's array: _private counts its references too). Two sparse gradients (a
    # sparse embedding looked up twice, a CSR matrix used twice) are added by _sum, never
    # in place.
    return (t.layout is _strided and t._data.shape == g._data.shape
            and t._data.dtype == g._data.dtype and t._device is g._device
            and t._data.__class__ is g._data.__class__ and _private(t, 3))


def _add_to_buffer(buffers, node, nr, g):
    slots = buffers.get(node)
    if slots is None:
        meta = node._out_meta
        slots = buffers[node] = [None] * (len(meta) if meta is not None else 1)
    prev = slots[nr]
    slots[nr] = g if prev is None else _sum(prev, g)


def _run_tensor_hooks(hooks, node_grads):
    node_grads = list(node_grads)
    for nr, fns in hooks.items():
        g = node_grads[nr]
        if g is None:
            continue
        for fn in fns:
            out = fn(g)
            if out is not None:
                g = out
        node_grads[nr] = g
    return node_grads


class _Task:
    """What the running backward pass computes, for checkpoint and multi-grad hooks."""

    __slots__ = ("order", "accumulates_all", "_nodes", "__weakref__")

    def __init__(self, order, accumulates_all):
        self.order = order
        self.accumulates_all = accumulates_all  # .backward() without inputs=
        self._nodes = None

    def will_run(self, node) -> bool:
        if self._nodes is None:
            self._nodes = set(self.order)
        return node in self._nodes


def _checked_hook_result(hook, out, expected):
    if out.__class__ is not tuple:
        out = tuple(out)
    if len(out) != expected:
        raise RuntimeError(
            f"hook '{getattr(hook, '__name__', hook)}' has returned an incorrect number of "
            f"values (got {len(out)}, but expected {expected})"
        )
    return out


def _run_pre_hooks(node, node_grads):
    grads = tuple(node_grads)
    for hook in list(node._pre_hooks):
        out = hook(grads)
        if out is not None:
            grads = _checked_hook_result(hook, out, len(grads))
    return list(grads)


def _run_post_hooks(node, results, node_grads):
    grad_outputs = tuple(node_grads)
    for hook in list(node._post_hooks):
        out = hook(results, grad_outputs)
        if out is not None:
            results = _checked_hook_result(hook, out, len(results))
    return results


def _apply_node(node, node_grads, buffers, retain_graph, anomaly):
    if node._freed:
        raise RuntimeError(_FREED_MESSAGE)
    if node._out_meta is not None and node._materialize:
        from flambeau._tensor import Tensor

        for i, g in enumerate(node_grads):
            if g is None:
                shape, dtype, device = node._out_meta[i]
                node_grads[i] = Tensor._make(device.backend.xp.zeros(shape, dtype), device)
    private = False
    if not _grad_state.grad_enabled:
        if node._backward_into is not None and not anomaly and not node._post_hooks:
            if _backward_into_buffer(node, node_grads[0], buffers):
                _release_saved(node, retain_graph)
                return
        if node._may_overwrite_grad and node_grads[0] is not None:
            # the holder: node_grads
            private = node._grad_private = _private(node_grads[0], 1)
    try:
        results = node.backward(node, *node_grads)
    finally:
        if private:
            node._grad_private = False
    if results.__class__ is not tuple:
        results = (results,)
    nexts = node._next
    if len(results) < len(nexts):
        raise RuntimeError(
            f"function {node.name()} returned an incorrect number of gradients "
            f"(expected {len(nexts)}, got {len(results)})"
        )
    if node._post_hooks:
        results = _run_post_hooks(node, results, node_grads)
    in_shapes, in_dtypes, nrs = node._in_shapes, node._in_dtypes, node._next_nrs
    for i, child in enumerate(nexts):
        if child is None:
            continue
        g = results[i]
        if g is None:
            continue
        shape, dtype = in_shapes[i], in_dtypes[i]
        data = g._data
        if data.shape != shape:
            try:
                g = _sum_to(g, shape)
            except Exception:
                raise RuntimeError(
                    f"function {node.name()} returned a gradient of shape {tuple(g.shape)} for "
                    f"input {i}, which has shape {tuple(shape)}"
                ) from None
        if data.dtype is not dtype and data.dtype != dtype:
            if data.dtype.kind == "c" and dtype.kind != "c":
                g = g.real  # a real input of a complex result: the real part, as torch
            g = g.to(_dtype_of(dtype))
        if anomaly:
            _check_nan(node, i, g)
        nr = nrs[i]
        slots = buffers.get(child)
        if slots is None:
            meta = child._out_meta
            slots = buffers[child] = [None] * (len(meta) if meta is not None else 1)
        prev = slots[nr]
        if prev is None:
            slots[nr] = g
        elif _sole_holder(prev, g) and not _grad_state.grad_enabled:
            # nothing else can see prev's memory: add in place, as torch's input buffer does
            # (no new array: for a weight used at every time step, or a buffer written one
            # slice per step, that is most of backward's memory traffic)
            prev._device._xp.add(prev._data, g._data, out=prev._data)
        else:
            slots[nr] = _sum(prev, g)
    _release_saved(node, retain_graph)


def _release_saved(node, retain_graph):
    if not retain_graph and node._saved:
        # as torch: only a node that saved tensors can't run again; one that saved nothing
        # (expand, add...) may be backpropagated through a second time
        node._saved = None
        node._freed = True


def _backward_into_buffer(node, g, buffers):
    """Let ``node`` add its input's gradient straight into the sum already buffered for that
    input, when nothing else holds that sum: for ``h[:, t]`` read at every step of a loop,
    each step then costs the size of the slice instead of a zeros array the size of ``h``
    and a full-size addition."""
    child = node._next[0]
    if child is None or g is None:
        return False
    slots = buffers.get(child)
    prev = slots[node._next_nrs[0]] if slots is not None else None
    if prev is None:
        return False
    # the holders: the buffer slot and the local `prev`
    if not _private(prev, 2):
        return False
    data = prev._data
    if (data.shape != node._in_shapes[0] or data.dtype != node._in_dtypes[0]
            or data.dtype != g._data.dtype or prev._device is not g._device):
        return False
    return node._backward_into(node, prev, g)


def _dtype_of(np_dtype):
    from flambeau._dtype import from_numpy_dtype

    return from_numpy_dtype(np_dtype)


def _owns_its_memory(data):
    """Whether writing into ``data`` can change no other array: it owns its memory, or it is
    a view (a reshape, a row) of an array that nothing but ``data`` holds, such as the
    temporary a gradient was reshaped from. Such a view becomes ``.grad`` as it is, without the
    copy other views get (on a GPU, one launch per batch norm weight and bias every step)."""
    base = getattr(data, "base", None)
    if base is None:
        return True
    # the holders: data's own reference, the local ``base`` and getrefcount's argument
    return (sys.getrefcount(base) <= 3 and getattr(base, "base", None) is None
            and type(base) is type(data))


def _accumulate(t, g, create_graph, handed):
    """Add ``g`` to ``t.grad`` (a new tensor when building a graph, in place otherwise).

    Tensor hooks have already run: the walk applies them to every node's incoming grads.
    """
    if g._data.shape != t._data.shape:
        g = _sum_to(g, t._data.shape)
    # the slot itself: the shape is made to match above (the setter's checks are for users)
    if t._grad is None:
        if create_graph:
            t._grad = g
        else:
            data = g._data
            if id(data) in handed or not _owns_its_memory(data):
                data = data.copy()
            handed.add(id(data))
            t._grad = type(g)._make(data, g._device)
    elif create_graph or g.is_sparse or t._grad._data.__class__ is not g._data.__class__:
        t._grad = _sum(t._grad, g)
    else:
        grad = t._grad
        grad._data += g._data
        grad._version_counter.value += 1


def _sum(a, b):
    """Two gradients of one tensor added: dense when either is (a sparse one is added into
    the dense one), sparse when both are."""
    if a.is_sparse and not b.is_sparse:
        return b + a
    return a + b

