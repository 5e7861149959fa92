"""Function transforms built on reverse-mode autograd: grad, vjp, jvp, jacrev, jacfwd, hessian.

Each call differentiates with respect to fresh ``requires_grad`` stand-ins for the chosen
arguments, under grad mode, and builds the graph of the result (``create_graph``) whenever
grad mode is on outside: the results then stay differentiable, so the transforms nest
(``grad(grad(f))``, ``jacrev(jacfwd(f))``) and compose with ``vmap`` and with plain
``backward``. ``jvp`` runs forward-mode AD (dual tensors) where nothing it gets takes part
in a graph; otherwise, and for ``jacfwd``, forward-mode products use the double-vjp identity
``J v = d/du <J^T u, v>``: ``J^T u`` is linear in a dummy ``u``, so differentiating it with
respect to ``u`` along ``v`` gives ``J v``.

Examples
--------
>>> import flambeau
>>> from flambeau.func import grad
>>> grad(grad(lambda x: x ** 3))(flambeau.tensor(2.0))
tensor(12.)
"""

from __future__ import annotations

import functools

from flambeau import _creation
from flambeau._tensor import Tensor
from flambeau.autograd import _forward, _grad_mode
from flambeau.autograd import grad as _autograd_grad
from flambeau.autograd._function import AccumulateGrad
from flambeau.utils._pytree import tree_flatten, tree_unflatten, treespec_pprint

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd",
           "hessian"]


# ---------------------------------------------------------------------------- helpers
def _fname(func):
    return getattr(func, "__name__", type(func).__name__)


def _fresh(x, api):
    """A tensor to differentiate against that stands for ``x`` in the function's call.

    A tensor that already takes part in an outer graph gets a differentiable alias, so the
    result stays connected to it; any other tensor gets a new detached leaf.
    """
    if not isinstance(x, Tensor):
        raise ValueError(
            f"{api}: the arguments to differentiate must be Tensors (or tuples, lists and "
            f"dicts of Tensors), got {type(x).__name__}"
        )
    if x.requires_grad:
        return x.view_as(x)
    return x.detach().requires_grad_(True)


def _reaches_outside(tensors, fresh):
    """Whether the graph of ``tensors`` reaches a leaf that is not one of ``fresh``."""
    fresh_ids = {id(t) for t in fresh}
    seen = set()
    stack = []
    for t in tensors:
        if isinstance(t, Tensor) and t.requires_grad:
            if t.grad_fn is None:
                if id(t) not in fresh_ids:
                    return True
            else:
                stack.append(t.grad_fn)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if type(node) is AccumulateGrad:
            if id(node.variable) not in fresh_ids:
                return True
            continue
        for child in node._next:  # the nodes alone: no (node, output_nr) pairs to make
            if child is not None:
                stack.append(child)
    return False


class _Level:
    """One application of a transform: grad mode on inside, results tidied on the way out."""

    def __init__(self):
        self.outer = _grad_mode.state.grad_enabled  # build graphs for an enclosing level?
        self.fresh = []

    def __enter__(self):
        self._prev = _grad_mode.state.grad_enabled
        _grad_mode.state.grad_enabled = True
        return self

    def __exit__(self, *exc):
        _grad_mode.state.grad_enabled = self._prev
        return False

    def inputs(self, tree, api):
        leaves, spec = tree_flatten(tree)
        fresh = [_fresh(x, api) for x in leaves]
        self.fresh.extend(fresh)
        return tree_unflatten(fresh, spec), fresh

    def finish(self, tree, probe=()):
        """Detach the tensors of ``tree`` unless an enclosing level can differentiate them.

        That is when grad mode was on outside and the graph of ``probe`` (the function's
        outputs, from which everything in ``tree`` was computed) reaches a leaf other than
        this level's inputs: an outer level's input, or a tensor read from a closure. One walk
        of the forward graph, however many results.
        """
        leaves, spec = tree_flatten(tree)
        if self.outer and _reaches_outside(tree_flatten(probe)[0], self.fresh):
            return tree
        leaves = [t.detach() if isinstance(t, Tensor) else t for t in leaves]
        return tree_unflatten(leaves, spec)


def _vjp_leaves(outputs, inputs, cotangents, create_graph, retain_graph=True):
    """``sum_k cotangents[k] @ d outputs[k] / d inputs``: zeros where nothing connects."""
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    grads = [None] * len(inputs)
    if pairs:
        grads = list(_autograd_grad([o for o, _ in pairs], inputs,
                                    grad_outputs=[c for _, c in pairs],
                                    retain_graph=retain_graph or create_graph,
                                    create_graph=create_graph, allow_unused=True))
    return [g if g is not None else _creation.zeros_like(x) for g, x in zip(grads, inputs)]


def _check_argnums(argnums, nargs, api):
    if isinstance(argnums, bool) or not isinstance(argnums, (int, tuple)):
        raise RuntimeError(
            f"{api}: argnums must be int or Tuple[int, ...], got: {type(argnums).__name__}")
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    if not nums:
        raise RuntimeError(f"{api}: argnums must be non-empty")
    out = []
    for a in nums:
        if isinstance(a, bool) or not isinstance(a, int):
            raise RuntimeError(
                f"{api}: argnums must be int or Tuple[int, ...], got an element of type "
                f"{type(a).__name__}")
        if not -nargs <= a < nargs:
            raise RuntimeError(
                f"{api}: Got argnums={a}, but only {nargs} positional inputs "
                f"(expected {-nargs} <= argnums < {nargs})" if nargs else
                f"{api}: Got argnums={a}, but the function was called with no positional "
                "inputs")
        out.append(a % nargs)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{api}: argnums elements must be unique, got {argnums}")
    return out


def _split_aux(out, has_aux, api):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(
            f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True, "
            f"got {type(out).__name__}"
            + (f" of length {len(out)}" if isinstance(out, tuple) else ""))
    return out


def _check_tensors(leaves, api):
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            raise RuntimeError(
                f"{api}: expected f(*primals) to return only tensors, got unsupported type "
                f"{type(leaf).__name__}")


def _prepare(args, argnums, level, api):
    """The call's arguments with those at ``argnums`` replaced by this level's inputs."""
    nums = _check_argnums(argnums, len(args), api)
    args = list(args)
    diff, flat = [], []
    for i in nums:
        args[i], fresh = level.inputs(args[i], api)
        diff.append(args[i])
        flat.append(fresh)
    return args, nums, diff, flat


def _call_on_primals(func, primals, level, has_aux, api):
    """``func`` called on this level's stand-ins for all of ``primals`` (vjp, jvp,
    linearize): ``(out, aux, out_leaves, out_spec, diff, inputs)``, ``diff`` the primals'
    stand-ins and ``inputs`` their leaves."""
    call_args, _, diff, flat = (_prepare(primals, tuple(range(len(primals))), level, api)
                                if primals else ([], [], [], []))
    out, aux = _split_aux(func(*call_args), has_aux, api)
    out_leaves, out_spec = tree_flatten(out)
    _check_tensors(out_leaves, api)
    return out, aux, out_leaves, out_spec, diff, [t for leaves in flat for t in leaves]


def _per_argnum(argnums, diff, leaf_results):
    """Regroup per-input-leaf results into the argument pytrees ``diff`` (a tuple for tuple
    argnums)."""
    out, pos = [], 0
    for tree in diff:
        leaves, spec = tree_flatten(tree)
        out.append(tree_unflatten(leaf_results[pos:pos + len(leaves)], spec))
        pos += len(leaves)
    return tuple(out) if isinstance(argnums, tuple) else out[0]


# ---------------------------------------------------------------------------- grad
def grad_and_value(func, argnums=0, has_aux=False):
    """Turn ``func`` into a function returning its gradient and its value.

    ``func`` must return a 0-d tensor (or ``(output, aux)`` with ``has_aux``). The gradient
    is taken with respect to the positional arguments named by ``argnums`` only (each a
    Tensor or a tuple, list or dict of Tensors), even if they already require grad for an
    outer computation; tensors the function reads from elsewhere count as constants.

    Parameters
    ----------
    func : callable
        The function to differentiate.
    argnums : int or tuple of int
        Which positional arguments to differentiate with respect to (default 0). A tuple
        gives a tuple of gradients.
    has_aux : bool
        ``func`` returns ``(output, aux)``; ``aux`` is returned alongside, not
        differentiated.

    Returns
    -------
    callable
        ``(*args, **kwargs) -> (grad, value)``, or ``(grad, (value, aux))`` with
        ``has_aux``. ``grad`` has the structure of the chosen argument(s).

    Raises
    ------
    RuntimeError
        When ``func`` returns something other than a 0-d Tensor, ``argnums`` is out of
        range or repeated, or ``has_aux`` is set and ``func`` returns no pair.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.func import grad_and_value
    >>> grad_and_value(lambda x: (x ** 2).sum())(flambeau.tensor([1.0, 2.0]))
    (tensor([2., 4.]), tensor(5.))
    """
    api = f"grad_and_value({_fname(func)})(*args)"
    return _grad_impl(func, argnums, has_aux, api, with_value=True)


def grad(func, argnums=0, has_aux=False):
    """Turn ``func`` into a function returning the gradient of its (0-d) output.

    Like :func:`grad_and_value` without the value; nests (``grad(grad(f))``) and composes
    with :func:`vmap` (``vmap(grad(loss), in_dims=(None, 0, 0))`` gives per-sample
    gradients).

    Parameters
    ----------
    func : callable
        The function to differentiate; returns a 0-d Tensor (or ``(output, aux)``).
    argnums : int or tuple of int
        Which positional arguments to differentiate with respect to (default 0).
    has_aux : bool
        ``func`` returns ``(output, aux)``; the transformed function returns
        ``(grad, aux)``.

    Returns
    -------
    callable
        ``(*args, **kwargs) -> grad`` (or ``(grad, aux)``).

    Raises
    ------
    RuntimeError
        As :func:`grad_and_value`, with messages that start with ``grad(f)(*args)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.func import grad
    >>> grad(lambda x: x.sin().sum())(flambeau.tensor([0.0, 1.0]))
    tensor([1.0000, 0.5403])
    >>> grad(lambda w, x: (w * x).sum(), argnums=(0, 1))(flambeau.ones(2), flambeau.ones(2) * 3)
    (tensor([3., 3.]), tensor([1., 1.]))
    >>> grad(lambda p: p["a"].exp().sum())({"a": flambeau.zeros(2)})
    {'a': tensor([1., 1.])}
    """
    api = f"grad({_fname(func)})(*args)"
    return _grad_impl(func, argnums, has_aux, api, with_value=False)


def _grad_impl(func, argnums, has_aux, api, with_value):
    @functools.wraps(func)
    def transformed(*args, **kwargs):
        with _Level() as level:
            call_args, nums, diff, flat = _prepare(args, argnums, level, api)
            out = func(*call_args, **kwargs)
            out, aux = _split_aux(out, has_aux, api)
            if not isinstance(out, Tensor):
                raise RuntimeError(
                    f"{api}: Expected f(*args) to return a Tensor, got {type(out).__name__}")
            if out.ndim != 0:
                raise RuntimeError(
                    f"{api}: Expected f(*args) to return a scalar Tensor, got tensor with "
                    f"{out.ndim} dims (shape {tuple(out.shape)}). Maybe you wanted to use the "
                    "vjp or jacrev APIs instead?")
            inputs = [t for leaves in flat for t in leaves]
            grads = _vjp_leaves([out], inputs, [_creation.ones_like(out)], level.outer,
                                retain_graph=False)
            result = _per_argnum(argnums, diff, grads)
            result, out, aux = level.finish((result, out, aux), (out, aux))
        if with_value:
            return (result, (out, aux)) if has_aux else (result, out)
        return (result, aux) if has_aux else result

    return transformed


# ---------------------------------------------------------------------------- vjp
def vjp(func, *primals, has_aux=False):
    """Run ``func(*primals)`` and return its output with a function computing its vjp.

    Parameters
    ----------
    func : callable
        Takes ``len(primals)`` positional arguments and returns a Tensor or a pytree
        (tuples, lists, dicts) of Tensors.
    *primals : Tensor or pytree of Tensors
        The point at which to evaluate.
    has_aux : bool
        ``func`` returns ``(output, aux)``; ``aux`` is returned third.

    Returns
    -------
    tuple
        ``(output, vjp_fn)`` or ``(output, vjp_fn, aux)``. ``vjp_fn(cotangents)`` takes
        cotangents with the structure and shapes of ``output`` and returns a tuple with one
        gradient per primal; it may be called several times.

    Raises
    ------
    RuntimeError
        When ``func`` returns a non-Tensor, or the cotangents do not match the output.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.func import vjp
    >>> out, vjp_fn = vjp(lambda x: x ** 2, flambeau.tensor([1.0, 2.0]))
    >>> out, vjp_fn(flambeau.ones(2))
    (tensor([1., 4.]), (tensor([2., 4.]),))
    """
    api = f"vjp({_fname(func)}, *primals)"
    with _Level() as level:
        out, aux, out_leaves, out_spec, diff, inputs = _call_on_primals(
            func, primals, level, has_aux, api)

    def vjp_fn(cotangents, *, retain_graph=True, create_graph=None):
        ct_leaves, ct_spec = tree_flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError(
                f"{api}: Expected pytree structure of cotangents to be the same as pytree "
                f"structure of outputs to the function. cotangents: "
                f"{treespec_pprint(ct_spec)}, primal output: {treespec_pprint(out_spec)}")
        for i, (c, o) in enumerate(zip(ct_leaves, out_leaves)):
            if not isinstance(c, Tensor):
                raise RuntimeError(
                    f"{api}: cotangent {i} must be a Tensor, got {type(c).__name__}")
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(
                    f"{api}: Mismatch in shape: cotangent {i} has a shape of "
                    f"{tuple(c.shape)} and output {i} has a shape of {tuple(o.shape)}.")
        inner = _Level()
        inner.fresh = level.fresh
        build = inner.outer if create_graph is None else bool(create_graph)
        with inner:
            grads = _vjp_leaves(out_leaves, inputs, ct_leaves, build, retain_graph)
            result = tuple(_per_argnum(tuple(range(len(diff))), diff, grads))
        inner.outer = build
        return inner.finish(result, (out_leaves, ct_leaves))

    out = level.finish(out, out)
    if has_aux:
        return out, vjp_fn, level.finish(aux, aux)
    return out, vjp_fn


# ---------------------------------------------------------------------------- jvp
def _linear_vjps(outputs, inputs):
    """``(dummies, vjps)``: ``J^T u`` for each input, built (with its graph kept) for dummy
    cotangents ``u`` of the outputs that require grad; linear in ``u``."""
    live = [o for o in outputs if o.requires_grad]
    if not live:
        return [], []
    dummies = [_creation.zeros_like(o).requires_grad_(True) for o in live]
    vjps = _autograd_grad(live, inputs, grad_outputs=dummies, create_graph=True,
                          retain_graph=True, allow_unused=True)
    return dummies, vjps


def _apply_tangents(outputs, dummies, vjps, tangents, create_graph):
    """``J t`` for each output (None where it requires no grad): the derivative of
    ``<J^T u, t>`` with respect to the dummies ``u`` of :func:`_linear_vjps`."""
    pairs = [(g, t) for g, t in zip(vjps, tangents) if g is not None and g.requires_grad]
    cols = [None] * len(dummies)
    if pairs:
        cols = _autograd_grad([g for g, _ in pairs], dummies,
                              grad_outputs=[t for _, t in pairs], create_graph=create_graph,
                              retain_graph=True, allow_unused=True)
    it = iter(cols)
    return [(next(it) if o.requires_grad else None) for o in outputs]


def _jvp_leaves(outputs, inputs, tangents, create_graph):
    """``d outputs / d inputs @ tangents`` for each output, by the double-vjp identity."""
    dummies, vjps = _linear_vjps(outputs, inputs)
    return _apply_tangents(outputs, dummies, vjps, tangents, create_graph)


def _check_tangents(primals, tangents, api):
    """The tangents' leaves, after checking they match ``primals`` in structure and shapes."""
    p_leaves, p_spec = tree_flatten(primals)
    t_leaves, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(
            f"{api}: Expected primals and tangents to have the same python structure. For "
            f"example, if primals is a tuple of 3 tensors, tangents also must be. Got primals "
            f"with structure {p_spec} and tangents with structure {t_spec}")
    for i, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        if not isinstance(p, Tensor) or not isinstance(t, Tensor):
            bad = p if not isinstance(p, Tensor) else t
            raise RuntimeError(
                f"{api}: primals and tangents must be Tensors, got {type(bad).__name__} at "
                f"position {i}")
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(
                f"{api}: tangent {i} has shape {tuple(t.shape)} but its primal has shape "
                f"{tuple(p.shape)}; they must match")
    return t_leaves


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """The output of ``func(*primals)`` and its Jacobian-vector product with ``tangents``.

    Computed by forward-mode AD (``func`` runs once on dual tensors, see
    :mod:`flambeau.autograd.forward_ad`); inside a dual level, or when a primal or tangent
    takes part in a graph (``jvp`` within ``grad``), through the double-vjp identity instead
    (``func``'s backward formulas must then be differentiable, which holds for flambeau's
    ops).

    Parameters
    ----------
    func : callable
        Returns a Tensor or a pytree of Tensors.
    primals : tuple
        The positional arguments of ``func`` (Tensors or pytrees of Tensors).
    tangents : tuple
        The directions, with the structure and shapes of ``primals``.
    strict : bool
        Accepted for signature compatibility (PyTorch does not use it either).
    has_aux : bool
        ``func`` returns ``(output, aux)``; ``aux`` is returned third.

    Returns
    -------
    tuple
        ``(output, jvp_out)`` (or ``(output, jvp_out, aux)``), ``jvp_out`` shaped as
        ``output``.

    Raises
    ------
    RuntimeError
        When ``primals`` is not a tuple, ``tangents`` does not match it, or ``func``
        returns a non-Tensor.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.func import jvp
    >>> jvp(lambda x: x ** 2, (flambeau.tensor([1.0, 2.0]),), (flambeau.tensor([1.0, 0.5]),))
    (tensor([1., 4.]), tensor([2., 2.]))
    """
    api = f"jvp({_fname(func)}, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(
            f"{api}: Expected primals to be a tuple. E.g. it should be valid to call "
            f"f(*primals). Got {type(primals).__name__}")
    t_leaves = _check_tangents(primals, tangents, api)
    if not _forward.level and not any(
            t.requires_grad for t in (*tree_flatten(primals)[0], *t_leaves)):
        return _jvp_dual(func, primals, t_leaves, has_aux, api)
    with _Level() as level:
        out, aux, out_leaves, out_spec, _, inputs = _call_on_primals(
            func, primals, level, has_aux, api)
        cols = _jvp_leaves(out_leaves, inputs, t_leaves, level.outer)
        cols = [c if c is not None else _creation.zeros_like(o)
                for c, o in zip(cols, out_leaves)]
        out, jvp_out, aux = level.finish((out, tree_unflatten(cols, out_spec), aux),
                                         (out_leaves, t_leaves, aux))
    return (out, jvp_out, aux) if has_aux else (out, jvp_out)


def _jvp_dual(func, primals, t_leaves, has_aux, api):
    """:func:`jvp` by forward-mode AD: ``func`` runs once on dual tensors. Used outside any
    dual level when no primal or tangent takes part in a graph (the double-vjp path keeps
    those connected to an enclosing transform's graph)."""
    from flambeau.autograd import forward_ad as fwAD

    p_leaves, p_spec = tree_flatten(primals)
    with fwAD.dual_level():
        duals = [fwAD.make_dual(p, t) for p, t in zip(p_leaves, t_leaves)]
        out, aux = _split_aux(func(*tree_unflatten(duals, p_spec)), has_aux, api)
        out_leaves, out_spec = tree_flatten(out)
        _check_tensors(out_leaves, api)
        pairs = [fwAD.unpack_dual(o) for o in out_leaves]
        aux_leaves, aux_spec = tree_flatten(aux)
        aux = tree_unflatten([fwAD.unpack_dual(a).primal if isinstance(a, Tensor) else a
                              for a in aux_leaves], aux_spec)
    out = tree_unflatten([p for p, _ in pairs], out_spec)
    jvp_out = tree_unflatten([t if t is not None else _creation.zeros_like(p)
                              for p, t in pairs], out_spec)
    return (out, jvp_out, aux) if has_aux else (out, jvp_out)


def linearize(func, *primals):
    """``func(*primals)`` and a function computing its Jacobian-vector products at
    ``primals``, for many tangents.

    ``func`` runs once; ``jvp_fn(*tangents)`` (tangents shaped as ``primals``) then reuses its
    graph, so each product costs one reverse pass through the kept vector-Jacobian graph
    (the double-vjp identity of :func:`jvp`) instead of a new call of ``func``.

    Parameters
    ----------
    func : callable
        Takes the Tensors ``primals`` and returns a Tensor or a pytree of Tensors.
    *primals : Tensor
        The point at which ``func`` is linearized.

    Returns
    -------
    tuple
        ``(output, jvp_fn)``.

    Raises
    ------
    RuntimeError
        When a primal is not a Tensor, ``func`` returns a non-Tensor, or ``jvp_fn`` gets
        tangents of another structure or shape than ``primals``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.func import linearize
    >>> x = flambeau.tensor([0.0, 1.0])
    >>> out, jvp_fn = linearize(lambda x: x ** 3, x)
    >>> jvp_fn(flambeau.ones(2)), jvp_fn(flambeau.tensor([2.0, 2.0]))
    (tensor([0., 3.]), tensor([0., 6.]))
    """
    api = f"linearize({_fname(func)}, *primals)"
    for i, p in enumerate(primals):
        if not isinstance(p, Tensor):
            raise RuntimeError(f"{api}: primals must be Tensors, got {type(p).__name__} at "
                               f"position {i}")
    with _Level() as level:
        out, _, out_leaves, out_spec, _, inputs = _call_on_primals(func, primals, level, False,
                                                                   api)
        dummies, vjps = _linear_vjps(out_leaves, inputs)
        output = level.finish(out, out_leaves)

    def jvp_fn(*tangents):
        t_leaves = _check_tangents(primals, tangents, f"{api} jvp_fn(*tangents)")
        with _Level() as inner:
            inner.fresh = level.fresh  # what the products reach through func's inputs is inside
            cols = _apply_tangents(out_leaves, dummies, vjps, t_leaves, inner.outer)
            cols = [c if c is not None else _creation.zeros_like(o)
                    for c, o in zip(cols, out_leaves)]
            return inner.finish(tree_unflatten(cols, out_spec), (out_leaves, t_leaves))

    return output, jvp_fn


# ---------------------------------------------------------------------------- jacobians
def _one_hot(n, k, like):
    e = _creation.zeros(n, dtype=like.dtype, device=like.device)
    e[k] = 1
    return e


def _jac_rows(out_leaves, inputs, create_graph):
    """jac[i][j]: d out_leaves[i] / d inputs[j], shaped ``out.shape + input.shape``."""
    from flambeau._ops.shape import stack

    jac = []
    for o in out_leaves:
        n = o.numel()
        row = []
        if not o.requires_grad or n == 0:
            jac.append([_creation.zeros(*o.shape, *x.shape, dtype=x.dtype, device=x.device)
                        for x in inputs])
            continue
        per_elem = []
        for k in range(n):
            ct = _one_hot(n, k, o).reshape(o.shape)
            per_elem.append(_vjp_leaves([o], inputs, [ct], create_graph, retain_graph=True))
        for j, x in enumerate(inputs):
            row.append(stack([g[j] for g in per_elem]).reshape(*o.shape, *x.shape))
        jac.append(row)
    return jac


def _jac_cols(out_leaves, inputs, create_graph):
    """As :func:`_jac_rows`, a column (one input element) at a time, by double vjp."""
    from flambeau._ops.shape import stack

    live = [o for o in out_leaves if o.requires_grad]
    zeros = [[_creation.zeros(*o.shape, *x.shape, dtype=o.dtype, device=o.device)
              for x in inputs] for o in out_leaves]
    if not live:
        return zeros
    dummies = [_creation.zeros_like(o).requires_grad_(True) for o in live]
    vjps = _autograd_grad(live, inputs, grad_outputs=dummies, create_graph=True,
                          retain_graph=True, allow_unused=True)
    jac = [[None] * len(inputs) for _ in out_leaves]
    live_pos = [i for i, o in enumerate(out_leaves) if o.requires_grad]
    for j, (x, g) in enumerate(zip(inputs, vjps)):
        if g is None or not g.requires_grad or x.numel() == 0:
            continue
        n = x.numel()
        cols = []
        for k in range(n):
            e = _one_hot(n, k, x).reshape(x.shape)
            c = _autograd_grad([g], dummies, grad_outputs=[e], create_graph=create_graph,
                               retain_graph=True, allow_unused=True)
            cols.append([ci if ci is not None else _creation.zeros_like(d)
                         for ci, d in zip(c, dummies)])
        for li, i in enumerate(live_pos):
            o = out_leaves[i]
            jac[i][j] = stack([c[li] for c in cols], dim=-1).reshape(*o.shape, *x.shape)
    return [[jac[i][j] if jac[i][j] is not None else zeros[i][j] for j in range(len(inputs))]
            for i in range(len(out_leaves))]


def _jac_transform(func, argnums, has_aux, api, rows):
    @functools.wraps(func)
    def transformed(*args, **kwargs):
        with _Level() as level:
            call_args, nums, diff, flat = _prepare(args, argnums, level, api)
            out = func(*call_args, **kwargs)
            out, aux = _split_aux(out, has_aux, api)
            out_leaves, out_spec = tree_flatten(out)
            _check_tensors(out_leaves, api)
            inputs = [t for leaves in flat for t in leaves]
            jac = (_jac_rows if rows else _jac_cols)(out_leaves, inputs, level.outer)
            result = tree_unflatten([_per_argnum(argnums, diff, r) for r in jac],
                                    out_spec)
            result, aux = level.finish((result, aux), (out_leaves, aux))
        return (result, aux) if has_aux else result

    return transformed


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """Turn ``func`` into a function returning its Jacobian, one output element at a time.

    Each output element's gradient is one reverse pass (the "rev" in the name): best when
    the output is smaller than the input.

    Parameters
    ----------
    func : callable
        Returns a Tensor or a pytree of Tensors.
    argnums : int or tuple of int
        Which positional arguments to differentiate with respect to (default 0).
    has_aux : bool
        ``func`` returns ``(output, aux)``; the transformed function returns
        ``(jacobian, aux)``.
    chunk_size : int, optional
        Accepted for compatibility; the rows are computed one at a time either way.

    Returns
    -------
    callable
        ``(*args, **kwargs) -> jacobian``: for each output tensor (in the output's
        structure), the Jacobian with respect to the chosen argument(s) (a tuple for tuple
        ``argnums``), shaped ``output.shape + input.shape``.

    Raises
    ------
    RuntimeError
        When ``func`` returns a non-Tensor or ``argnums`` is invalid.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.func import jacrev
    >>> jacrev(lambda x: x ** 2)(flambeau.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    _check_chunk(chunk_size, "jacrev")
    return _jac_transform(func, argnums, has_aux, f"jacrev({_fname(func)})(*args)", True)


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """Turn ``func`` into a function returning its Jacobian, one input element at a time.

    Each column is a Jacobian-vector product (computed by the double-vjp identity): best
    when the input is smaller than the output. Same results and structure as
    :func:`jacrev`.

    Parameters
    ----------
    func : callable
        Returns a Tensor or a pytree of Tensors.
    argnums : int or tuple of int
        Which positional arguments to differentiate with respect to (default 0).
    has_aux : bool
        ``func`` returns ``(output, aux)``.
    randomness : str
        Accepted for compatibility ("error", "different", "same"): ``func`` runs once, so
        random operations draw once.

    Returns
    -------
    callable
        ``(*args, **kwargs) -> jacobian`` shaped ``output.shape + input.shape``.

    Raises
    ------
    RuntimeError
        When ``func`` returns a non-Tensor or ``argnums`` is invalid.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.func import jacfwd
    >>> jacfwd(lambda x: x.sum() * x)(flambeau.tensor([1.0, 2.0]))
    tensor([[4., 1.],
            [2., 5.]])
    """
    _check_randomness(randomness)
    return _jac_transform(func, argnums, has_aux, f"jacfwd({_fname(func)})(*args)", False)


def hessian(func, argnums=0):
    """Turn ``func`` into a function returning its Hessian: ``jacfwd(jacrev(func))``.

    Parameters
    ----------
    func : callable
        Returns a Tensor (usually 0-d).
    argnums : int or tuple of int
        Which positional arguments to differentiate with respect to (default 0).

    Returns
    -------
    callable
        ``(*args, **kwargs) -> hessian`` shaped ``output.shape + input.shape + input.shape``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.func import hessian
    >>> hessian(lambda x: (x ** 3).sum())(flambeau.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    return jacfwd(jacrev(func, argnums), argnums)


def _check_chunk(chunk_size, api):
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(
            chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"{api}: chunk_size should be None or greater than 0. (got "
                         f"{chunk_size})")


def _check_randomness(randomness):
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(
            "Only allowed values for randomness are 'error', 'different', or 'same'. Got "
            f"{randomness}")
