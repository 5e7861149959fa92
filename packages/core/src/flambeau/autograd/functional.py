"""Higher-level derivatives of a function of tensors (PyTorch's ``torch.autograd.functional``).

``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``vhp`` and ``hvp`` take a function and the
point (a Tensor or a tuple of Tensors) and return the result in the same form: a Tensor for
a Tensor, tuples for tuples. The results are detached unless ``create_graph=True``, which
keeps them differentiable (with respect to inputs that require grad). Forward-mode products
use the double-vjp identity ``J v = d/du <J^T u, v>``.

Examples
--------
>>> import flambeau
>>> from flambeau.autograd.functional import jacobian
>>> jacobian(lambda x: x ** 2, flambeau.tensor([1.0, 2.0]))
tensor([[2., 0.],
        [0., 4.]])
"""

from __future__ import annotations

from flambeau import _creation
from flambeau._tensor import Tensor
from flambeau.autograd import _grad_mode
from flambeau.autograd import grad as _grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


class _enable_grad:
    def __enter__(self):
        self.prev = _grad_mode.state.grad_enabled
        _grad_mode.state.grad_enabled = True

    def __exit__(self, *exc):
        _grad_mode.state.grad_enabled = self.prev
        return False


def _as_tuple(value, what, fn):
    is_tuple = isinstance(value, tuple)
    items = value if is_tuple else (value,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f"the value at index {i} has" if is_tuple else f"the given {what} has"
            raise TypeError(
                f"{fn}: The {what} given to {fn} must be either a Tensor or a tuple of Tensors "
                f"but {where} type {type(item).__name__}.")
    return is_tuple, items


def _prepare(inputs, create_graph):
    """Stand-ins to differentiate against: connected to the originals only for create_graph."""
    return tuple(x.view_as(x) if create_graph and x.requires_grad
                 else x.detach().requires_grad_(True) for x in inputs)


def _call(func, inputs, fn):
    out = func(*inputs)
    return _as_tuple(out, "outputs of the user-provided function", fn)


def _finish(tensors, create_graph, is_tuple):
    if not create_graph:
        tensors = tuple(t.detach() if isinstance(t, Tensor) else
                        tuple(s.detach() for s in t) for t in tensors)
    return tensors if is_tuple else tensors[0]


def _check_v(v, others, fn, what="outputs"):
    if v is None:
        if len(others) != 1 or others[0].numel() != 1:
            if what == "outputs":
                raise RuntimeError(
                    f"{fn}: The vector v can only be None if the user-provided function returns "
                    f"a single Tensor with a single element (got {len(others)} output(s) of "
                    f"shape(s) {[tuple(o.shape) for o in others]}).")
            raise RuntimeError(
                f"{fn}: The vector v can only be None if the input to the user-provided "
                f"function is a single Tensor with a single element (got {len(others)} "
                f"input(s) of shape(s) {[tuple(o.shape) for o in others]}).")
        return tuple(_creation.ones_like(o) for o in others)
    _, v = _as_tuple(v, "v", fn)
    if len(v) != len(others):
        if len(others) == 1:
            raise RuntimeError(
                f"{fn}: The given v should contain a single Tensor (got {len(v)}).")
        raise RuntimeError(
            f"{fn}: v is a tuple of invalid length: should be {len(others)} but got {len(v)}.")
    for i, (a, b) in enumerate(zip(v, others)):
        if tuple(a.shape) != tuple(b.shape):
            prefix = f"Entry {i} in " if len(others) > 1 else ""
            raise RuntimeError(
                f"{fn}: {prefix}v has invalid size: should be {tuple(b.shape)} but got "
                f"{tuple(a.shape)}.")
    return v


def _check_outputs_differentiable(outputs, strict, fn):
    if strict:
        for i, o in enumerate(outputs):
            if not o.requires_grad:
                raise RuntimeError(
                    f"{fn}: Output {i} of the user-provided function does not require "
                    "gradients. The outputs must be computed in a differentiable manner from "
                    "the input when running in strict mode.")


def _vjp_raw(outputs, inputs, cotangents, create_graph):
    """Per-input vjp, None where an input is not reached."""
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    if not pairs:
        return [None] * len(inputs)
    return list(_grad([o for o, _ in pairs], list(inputs), grad_outputs=[c for _, c in pairs],
                      retain_graph=True, create_graph=create_graph, allow_unused=True))


def _fill(grads, like, strict, fn, create_graph, message):
    out = []
    for i, (g, x) in enumerate(zip(grads, like)):
        if g is None:
            if strict:
                raise RuntimeError(f"{fn}: {message.format(i=i)} This is not allowed in strict "
                                   "mode.")
            g = _creation.zeros_like(x)
        elif strict and create_graph and not g.requires_grad:
            raise RuntimeError(
                f"{fn}: The gradient with respect to input {i} is independent of the inputs of "
                "the user-provided function. This is not allowed in strict mode when "
                "create_graph=True.")
        out.append(g)
    return tuple(out)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """The vector-Jacobian product of ``func`` at ``inputs`` with ``v``.

    Parameters
    ----------
    func : callable
        Takes Tensors positionally and returns a Tensor or a tuple of Tensors.
    inputs : Tensor or tuple of Tensor
        The point at which to differentiate.
    v : Tensor or tuple of Tensor, optional
        Shaped as the outputs; may be omitted when ``func`` returns one single-element
        Tensor.
    create_graph : bool
        Make the results differentiable (default False: they are detached).
    strict : bool
        Raise when an output does not depend on an input instead of returning zeros.

    Returns
    -------
    tuple
        ``(func_output, vjp)``, each shaped as ``func``'s output and as ``inputs``.

    Raises
    ------
    TypeError
        When ``inputs`` or the outputs are not Tensors or tuples of Tensors.
    RuntimeError
        When ``v`` is missing or does not match the outputs, or under ``strict``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.autograd.functional import vjp
    >>> vjp(lambda x: x ** 2, flambeau.tensor([1.0, 2.0]), flambeau.tensor([1.0, 1.0]))
    (tensor([1., 4.]), tensor([2., 4.]))
    """
    fn = "vjp"
    with _enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", fn)
        inputs = _prepare(inputs, create_graph)
        out_tuple, outputs = _call(func, inputs, fn)
        v = _check_v(v, outputs, fn)
        _check_outputs_differentiable(outputs, strict, fn)
        grads = _vjp_raw(outputs, inputs, v, create_graph)
        grads = _fill(grads, inputs, strict, fn, create_graph,
                      "The output of the user-provided function is independent of input {i}.")
    return _finish(outputs, create_graph, out_tuple), _finish(grads, create_graph, in_tuple)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """The Jacobian-vector product of ``func`` at ``inputs`` with ``v``.

    Computed with the double-vjp trick (two reverse passes).

    Parameters
    ----------
    func : callable
        Takes Tensors positionally and returns a Tensor or a tuple of Tensors.
    inputs : Tensor or tuple of Tensor
        The point at which to differentiate.
    v : Tensor or tuple of Tensor, optional
        Shaped as ``inputs``; may be omitted when the input is one single-element Tensor.
    create_graph : bool
        Make the results differentiable (default False).
    strict : bool
        Raise when an output does not depend on an input instead of returning zeros.

    Returns
    -------
    tuple
        ``(func_output, jvp)``, both shaped as ``func``'s output.

    Raises
    ------
    TypeError
        When ``inputs`` or the outputs are not Tensors or tuples of Tensors.
    RuntimeError
        When ``v`` is missing or does not match the inputs, or under ``strict``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.autograd.functional import jvp
    >>> jvp(lambda x: x.sum(), flambeau.tensor([1.0, 2.0]), flambeau.tensor([3.0, 4.0]))
    (tensor(3.), tensor(7.))
    """
    fn = "jvp"
    with _enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", fn)
        inputs = _prepare(inputs, create_graph)
        v = _check_v(v, inputs, fn, what="inputs")
        out_tuple, outputs = _call(func, inputs, fn)
        _check_outputs_differentiable(outputs, strict, fn)
        dummies = [_creation.zeros_like(o).requires_grad_(True) for o in outputs]
        vjps = _vjp_raw(outputs, inputs, dummies, True)
        vjps = _fill(vjps, inputs, strict, fn, False,
                     "The output of the user-provided function is independent of input {i}.")
        pairs = [(g, t) for g, t in zip(vjps, v) if g.requires_grad]
        jv = [None] * len(outputs)
        if pairs:
            jv = list(_grad([g for g, _ in pairs], dummies, grad_outputs=[t for _, t in pairs],
                            retain_graph=True, create_graph=create_graph, allow_unused=True))
        jv = _fill(jv, outputs, strict, fn, create_graph,
                   "The gradient with respect to the input is independent of entry {i} in the "
                   "grad_outputs when using the double backward trick to compute forward mode "
                   "gradients.")
    return _finish(outputs, create_graph, out_tuple), _finish(jv, create_graph, out_tuple)


def _jacobian_tables(outputs, inputs, create_graph, strict, forward, fn):
    """table[i][j] = d outputs[i] / d inputs[j], shaped ``out.shape + in.shape``."""
    from flambeau._ops.shape import stack

    table = [[None] * len(inputs) for _ in outputs]
    if forward:
        live = [i for i, o in enumerate(outputs) if o.requires_grad]
        dummies = [_creation.zeros_like(outputs[i]).requires_grad_(True) for i in live]
        vjps = (_vjp_raw([outputs[i] for i in live], inputs, dummies, True) if live
                else [None] * len(inputs))
        for j, (x, g) in enumerate(zip(inputs, vjps)):
            if g is None or not g.requires_grad:
                continue
            n = x.numel()
            cols = []
            for k in range(n):
                e = _creation.zeros(n, dtype=x.dtype, device=x.device)
                e[k] = 1
                cols.append(_grad([g], dummies, grad_outputs=[e.reshape(x.shape)],
                                  retain_graph=True, create_graph=create_graph,
                                  allow_unused=True))
            for li, i in enumerate(live):
                o = outputs[i]
                if n and all(c[li] is None for c in cols):
                    continue
                parts = [c[li] if c[li] is not None else _creation.zeros_like(o) for c in cols]
                table[i][j] = (stack(parts, dim=-1).reshape(*o.shape, *x.shape) if n else None)
    else:
        for i, o in enumerate(outputs):
            n = o.numel()
            rows = []
            for k in range(n):
                e = _creation.zeros(n, dtype=o.dtype, device=o.device)
                e[k] = 1
                rows.append(_vjp_raw([o], inputs, [e.reshape(o.shape)], create_graph))
            for j, x in enumerate(inputs):
                if n and all(r[j] is None for r in rows):
                    continue
                parts = [r[j] if r[j] is not None else _creation.zeros_like(x) for r in rows]
                table[i][j] = stack(parts).reshape(*o.shape, *x.shape) if n else None
    for i, o in enumerate(outputs):
        for j, x in enumerate(inputs):
            if table[i][j] is None:
                if strict and o.numel() and x.numel():
                    raise RuntimeError(
                        f"{fn}: Output {i} of the user-provided function is independent of "
                        f"input {j}. This is not allowed in strict mode.")
                table[i][j] = _creation.zeros(*o.shape, *x.shape, dtype=o.dtype,
                                              device=o.device)
    return table


def _shape_table(table, out_tuple, in_tuple, create_graph):
    if not create_graph:
        table = [[t.detach() for t in row] for row in table]
    rows = [tuple(row) if in_tuple else row[0] for row in table]
    return tuple(rows) if out_tuple else rows[0]


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``.

    Parameters
    ----------
    func : callable
        Takes Tensors positionally and returns a Tensor or a tuple of Tensors.
    inputs : Tensor or tuple of Tensor
        The point at which to differentiate.
    create_graph : bool
        Make the result differentiable (default False).
    strict : bool
        Raise when an output does not depend on an input instead of returning zeros.
    vectorize : bool
        Accepted for compatibility; the rows (or columns) are computed one at a time.
    strategy : {"reverse-mode", "forward-mode"}
        One reverse pass per output element, or one double-vjp product per input element
        (better when there are more outputs than inputs).

    Returns
    -------
    Tensor or tuple
        ``J[i][j]`` of shape ``output_i.shape + input_j.shape``: a Tensor for one input and
        one output, a tuple over the Tensor side for mixed cases, a tuple of tuples when
        both are tuples.

    Raises
    ------
    ValueError
        For an unknown ``strategy``.
    RuntimeError
        Under ``strict``, for an output that does not depend on an input.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.autograd.functional import jacobian
    >>> x, y = flambeau.tensor([1.0, 2.0]), flambeau.tensor([3.0, 4.0])
    >>> jacobian(lambda a, b: a * b, (x, y))
    (tensor([[3., 0.],
            [0., 4.]]), tensor([[1., 0.],
            [0., 2.]]))
    """
    fn = "jacobian"
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError(
            f'{fn}: Expected strategy to be either "forward-mode" or "reverse-mode", got '
            f'{strategy!r}. Hint: If your function has more outputs than inputs, "forward-mode" '
            'tends to be more performant. Otherwise, prefer to use "reverse-mode".')
    with _enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", fn)
        inputs = _prepare(inputs, create_graph)
        out_tuple, outputs = _call(func, inputs, fn)
        _check_outputs_differentiable(outputs, strict, fn)
        table = _jacobian_tables(outputs, inputs, create_graph, strict,
                                 strategy == "forward-mode", fn)
    return _shape_table(table, out_tuple, in_tuple, create_graph)


def _scalar_output(out, fn):
    """``(out as returned, its element as a 0-d tensor)``; checks ``out`` is one element."""
    is_tuple, outs = _as_tuple(out, "outputs of the user-provided function", fn)
    if is_tuple and len(outs) != 1:
        raise RuntimeError(f"{fn}: The function given to {fn} should return a single Tensor"
                           f" (got a tuple of {len(outs)}).")
    if outs[0].numel() != 1:
        raise RuntimeError(
            f"{fn}: The Tensor returned by the function given to {fn} should contain a "
            f"single element (got shape {tuple(outs[0].shape)}).")
    return out, outs[0].reshape(())


def _scalar_function(func, fn):
    return lambda *inputs: _scalar_output(func(*inputs), fn)[1]


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of the scalar function ``func`` at ``inputs``.

    Parameters
    ----------
    func : callable
        Takes Tensors positionally and returns a Tensor with a single element.
    inputs : Tensor or tuple of Tensor
        The point at which to differentiate.
    create_graph : bool
        Make the result differentiable (default False).
    strict : bool
        Raise when the gradient does not depend on an input (a linear function).
    vectorize : bool
        Accepted for compatibility.
    outer_jacobian_strategy : {"reverse-mode", "forward-mode"}
        The strategy of the outer Jacobian (of the gradient).

    Returns
    -------
    Tensor or tuple of tuple of Tensor
        ``H[i][j]`` of shape ``input_i.shape + input_j.shape`` (a Tensor for one input).

    Raises
    ------
    RuntimeError
        When ``func`` does not return a single-element Tensor, or under ``strict``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.autograd.functional import hessian
    >>> hessian(lambda x: (x ** 3).sum(), flambeau.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    fn = "hessian"
    scalar = _scalar_function(func, fn)

    def gradient(*xs):
        out = scalar(*xs)
        if strict and not out.requires_grad:
            raise RuntimeError(
                f"{fn}: Output 0 of the user-provided function does not require gradients. "
                "The outputs must be computed in a differentiable manner from the input when "
                "running in strict mode.")
        grads = _vjp_raw([out], xs, [_creation.ones_like(out)], True)
        return tuple(g if g is not None else _creation.zeros_like(x) for g, x in zip(grads, xs))

    with _enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", fn)
        inputs = _prepare(inputs, create_graph)
        grads = gradient(*inputs)
        if strict:
            for i, g in enumerate(grads):
                if not g.requires_grad:
                    raise RuntimeError(
                        f"{fn}: While computing the hessian, found that the jacobian of the "
                        f"user-provided function with respect to input {i} is independent of "
                        "the input. This is not allowed in strict mode. You should ensure that "
                        "your function is twice differentiable and that the jacobian depends "
                        "on the inputs (this would be violated by a linear function for "
                        "example).")
        table = _jacobian_tables(grads, inputs, create_graph, strict,
                                 outer_jacobian_strategy == "forward-mode", fn)
    return _shape_table(table, in_tuple, in_tuple, create_graph)


def _second_order(func, inputs, v, create_graph, strict, fn):
    with _enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", fn)
        inputs = _prepare(inputs, create_graph)
        v = _check_v(v, inputs, fn, what="inputs")
        raw, out = _scalar_output(func(*inputs), fn)
        _check_outputs_differentiable([out], strict, fn)
        grads = _vjp_raw([out], inputs, [_creation.ones_like(out)], True)
        grads = _fill(grads, inputs, strict, fn, False,
                      "The output of the user-provided function is independent of input {i}.")
        pairs = [(g, t) for g, t in zip(grads, v) if g.requires_grad]
        if strict and len(pairs) != len(grads):
            raise RuntimeError(
                f"{fn}: The jacobian of the user-provided function is independent of input "
                f"{[g.requires_grad for g in grads].index(False)}. This is not allowed in "
                "strict mode.")
        res = [None] * len(inputs)
        if pairs:
            res = _grad([g for g, _ in pairs], list(inputs), grad_outputs=[t for _, t in pairs],
                        retain_graph=True, create_graph=create_graph, allow_unused=True)
        res = _fill(res, inputs, strict, fn, create_graph,
                    "The hessian of the user-provided function is independent of input {i}.")
    raw_tuple, raw = _as_tuple(raw, "outputs", fn)
    return _finish(raw, create_graph, raw_tuple), _finish(res, create_graph, in_tuple)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """The vector-Hessian product ``v^T H`` of the scalar function ``func`` at ``inputs``.

    Parameters
    ----------
    func : callable
        Takes Tensors positionally and returns a Tensor with a single element.
    inputs : Tensor or tuple of Tensor
        The point at which to differentiate.
    v : Tensor or tuple of Tensor, optional
        Shaped as ``inputs``; may be omitted when the input is one single-element Tensor.
    create_graph : bool
        Make the results differentiable (default False).
    strict : bool
        Raise when the gradient does not depend on an input instead of returning zeros.

    Returns
    -------
    tuple
        ``(func_output, vhp)``, ``vhp`` shaped as ``inputs``.

    Raises
    ------
    RuntimeError
        When ``func`` does not return a single-element Tensor, ``v`` does not match, or
        under ``strict``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.autograd.functional import vhp
    >>> vhp(lambda x: (x ** 3).sum(), flambeau.tensor([1.0, 2.0]), flambeau.tensor([1.0, 1.0]))
    (tensor(9.), tensor([ 6., 12.]))
    """
    return _second_order(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """The Hessian-vector product ``H v`` of the scalar function ``func`` at ``inputs``.

    The Hessian of a twice continuously differentiable function is symmetric, so this is
    computed as :func:`vhp` (two reverse passes).

    Parameters
    ----------
    func : callable
        Takes Tensors positionally and returns a Tensor with a single element.
    inputs : Tensor or tuple of Tensor
        The point at which to differentiate.
    v : Tensor or tuple of Tensor, optional
        Shaped as ``inputs``; may be omitted when the input is one single-element Tensor.
    create_graph : bool
        Make the results differentiable (default False).
    strict : bool
        Raise when the gradient does not depend on an input instead of returning zeros.

    Returns
    -------
    tuple
        ``(func_output, hvp)``, ``hvp`` shaped as ``inputs``.

    Raises
    ------
    RuntimeError
        When ``func`` does not return a single-element Tensor, ``v`` does not match, or
        under ``strict``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.autograd.functional import hvp
    >>> f = lambda x, y: (x * y ** 2).sum()
    >>> hvp(f, (flambeau.tensor([1.0]), flambeau.tensor([2.0])),
    ...     (flambeau.tensor([1.0]), flambeau.tensor([0.0])))
    (tensor(4.), (tensor([0.]), tensor([4.])))
    """
    return _second_order(func, inputs, v, create_graph, strict, "hvp")
