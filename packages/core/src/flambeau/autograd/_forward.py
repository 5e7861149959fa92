"""Forward-mode AD's engine: tangents carried along each op, eagerly.

While a dual level is active (:mod:`flambeau.autograd.forward_ad`), ``Function.apply`` hands
every op to :func:`apply` (one module-global flag test in ``apply``; nothing otherwise).
When no argument carries a tangent the op runs as usual. Otherwise the op runs once, as
usual (its backward graph is recorded only where an input requires grad), and the tangent
of each output is computed from the inputs' tangents by, in order of preference:

1. the Function's own ``jvp(ctx, *tangents)`` (custom Functions, as PyTorch's);
2. a rule of :data:`RULES`, keyed by the op's class (looked up along its MRO);
3. the double-vjp identity ``J t = d/du <J^T u, t>`` through the op's backward, run on
   detached copies of the inputs: any op whose backward is differentiable works, at the
   cost of a recorded forward and two backward passes of that one op. A custom Function
   whose backward is not differentiable raises PyTorch's ``NotImplementedError``.

Rules live in :data:`RULES`; other packages add their ops' with :func:`register`.

A tensor's tangent lives in its ``_fw_grad`` slot as ``(level, tangent)``: a tangent of a
level that has ended is never read, so leaving a level costs nothing per tensor.
Tangents are computed with forward AD off (a tangent has no tangent of its own) and with
the caller's grad mode (a tangent of tensors that require grad is differentiable).
"""

from __future__ import annotations

import weakref

from flambeau.autograd import _function
from flambeau.autograd._function import _TENSOR_TYPES, Function, mark_view
from flambeau.autograd._grad_mode import state as _grad_state

#: the number of the active dual level (0: none); levels are numbered from 1 as entered
level = 0
_entered = 0
#: weak references to the long-lived tensors given a tangent in the active level (the dual
#: tensors and those written in place), whose tangents are dropped when it ends
_tracked: list = []
_run = Function.apply.__func__  # the op itself, without the forward-AD hook
_installed = False  # core's rules (see _install)


def enter() -> None:
    global level, _entered, _installed
    if not _installed:
        _install()  # on first use: the op modules import this one
        _installed = True
    _entered += 1
    level = _entered
    _function._forward_ad_apply = apply
    _function._forward_ad_on = True


def leave() -> None:
    global level
    _function._forward_ad_on = False
    level = 0
    for ref in _tracked:
        t = ref()
        if t is not None:
            t._fw_grad = None
    _tracked.clear()


def tangent_of(t):
    """The tangent ``t`` carries in the active level, or None. A view made before its base
    got a tangent carries the same view of the base's."""
    entry = getattr(t, "_fw_grad", None)
    if entry is None or entry[0] != level:
        base = t._base
        if base is None:
            return None
        tangent = _view_of(tangent_of(base), t)
        if tangent is not None:  # kept; None is not (the base may get one later)
            set_tangent(t, tangent)
        return tangent
    return entry[1]


def _view_of(base_tangent, view):
    """The view of ``base_tangent`` that ``view`` is of its base, where the tangent is laid
    out as the base (None otherwise, or without a tangent)."""
    if base_tangent is None:
        return None
    from flambeau._ops.strided_numeric import as_strided, view_geometry

    geo = view_geometry(view)
    if geo is None:
        return None
    (shape, strides, offset), (size, stride, at) = geo
    data = base_tangent._data
    if data.shape != tuple(shape) or tuple(s // data.itemsize for s in data.strides) != tuple(
            strides):
        return None
    return as_strided(base_tangent, size, stride, base_tangent.storage_offset() + at - offset)


def set_tangent(t, tangent, track=False):
    """Give ``t`` the tangent ``tangent`` (None: explicitly none) in the active level."""
    t._fw_grad = (level, tangent)
    if track:
        _tracked.append(weakref.ref(t))


def _tangents(args):
    """The tangent of each argument (None for the others), or None when none has one."""
    tans = None
    for i, a in enumerate(args):
        if a.__class__ in _TENSOR_TYPES:
            t = tangent_of(a)
            if t is not None:
                if tans is None:
                    tans = [None] * len(args)
                tans[i] = t
    return tans


def apply(cls, args):
    """``cls.apply(*args)`` with the outputs' tangents (forward AD is on)."""
    _function._forward_ad_on = False
    try:
        tans = _tangents(args)
        if tans is None or not cls._differentiable:
            return _run(cls, *args)
        if getattr(cls, "jvp", None) is not Function.jvp:
            return _custom_jvp(cls, args, tans)
        rule = _rule(cls)
        if rule is None:
            return _double_vjp(cls, args, tans)
        out = _run(cls, *args)
        _attach(out, rule(cls, args, tans, out))
        return out
    finally:
        _function._forward_ad_on = True


def _attach(out, touts):
    """Give each floating output of an op its tangent."""
    if out.__class__ is not tuple:
        out, touts = (out,), (touts,)
    for o, t in zip(out, touts):
        if o is None or t is None or o._data.dtype.kind not in "fcV":
            continue
        set_tangent(o, fit(t, o))


def fit(t, out):
    """Tangent ``t`` broadcast to ``out``'s shape and cast to its dtype."""
    if t._data.shape != out._data.shape:
        t = t.expand(*out._data.shape)
    if t._data.dtype != out._data.dtype:
        t = t.to(out.dtype)
    return t


def _zeros(a):
    from flambeau._creation import zeros_like

    return zeros_like(a)


def _is_floating(a):
    return a.__class__ in _TENSOR_TYPES and a._data.dtype.kind in "fcV"


# ---------------------------------------------------------------- the fallback and custom jvp


def _needs_graph(args):
    return _grad_state.grad_enabled and any(
        a.__class__ in _TENSOR_TYPES and a._requires_grad for a in args)


def _not_implemented(cls):
    return NotImplementedError(
        f"{cls.__name__}: you must implement the jvp function for custom "
        "autograd.Function to use it with forward mode AD (flambeau differentiates "
        "through its backward otherwise, which must then be differentiable)")


def _double_vjp(cls, args, tans):
    """Outputs and tangents of an op without a jvp rule, through its backward."""
    rec, touts = _vjp_tangents(cls, args, tans)
    if cls._is_view or _needs_graph(args):
        out = _run(cls, *args)  # the outputs as the op makes them: views, or in the graph
    elif rec.__class__ is tuple:
        out = tuple(o.detach() if o is not None else None for o in rec)
    else:
        out = rec.detach()
    _attach(out, touts)
    return out


def _vjp_tangents(cls, args, tans):
    """``(outputs, tangents)`` of the op run on detached copies of ``args``: the tangents
    by the double-vjp identity through its backward (a tuple where the op returns one)."""
    from flambeau.autograd._grad_mode import enable_grad
    from flambeau.func._transforms import _apply_tangents, _linear_vjps

    # the tangents are differentiable (in the inputs that require grad, and in tangents
    # that do) where grad mode is on, as the rules' are
    graph = _grad_state.grad_enabled and any(
        a._requires_grad for a in (*args, *tans) if a.__class__ in _TENSOR_TYPES)
    leaf_args, leaves, leaf_tans = list(args), [], []
    for i, a in enumerate(args):
        if a.__class__ in _TENSOR_TYPES:
            if not (graph and a._requires_grad):
                leaf_args[i] = a = a.detach()
                if tans[i] is not None:
                    a.requires_grad_(True)
            if tans[i] is not None:
                leaves.append(a)
                leaf_tans.append(tans[i])
    with enable_grad():
        rec = _run(cls, *leaf_args)
        outs = rec if rec.__class__ is tuple else (rec,)
        diff = [o for o in outs if o is not None and o._requires_grad]
        dummies, vjps = _linear_vjps(diff, leaves)
        # a vjp outside the graph of the dummies: a user's backward that is not
        # differentiable (flambeau's are: theirs is a zero gradient, round's or sign's)
        if _is_custom(cls) and any(g is not None and not g._requires_grad for g in vjps):
            raise _not_implemented(cls)
        # a zero gradient: a zero tangent
        cols = iter(_apply_tangents(diff, dummies, vjps, leaf_tans, graph))
    touts = [(next(cols) if o._requires_grad else None) if o is not None else None
             for o in outs]
    touts = [_zeros(o) if t is None and o is not None and o._requires_grad else t
             for o, t in zip(outs, touts)]
    return rec, (tuple(touts) if rec.__class__ is tuple else touts[0])


def _is_custom(cls):
    return cls.__module__.partition(".")[0] != "flambeau"


def _custom_jvp(cls, args, tans):
    """A custom Function with its own ``jvp(ctx, *tangents)``, as PyTorch runs it."""
    if _needs_graph(args):
        out = _run(cls, *args)
        outs = out if out.__class__ is tuple else (out,)
        ctx = next((o._grad_fn for o in outs if o is not None and o._grad_fn is not None),
                   None)
    else:
        ctx = None
    if ctx is None:  # not recorded: run forward on a context of our own
        from flambeau.autograd._grad_mode import no_grad

        ctx = object.__new__(cls._node_cls)
        device = next(a._device for a in args if a.__class__ in _TENSOR_TYPES)
        with no_grad():
            raw = cls.forward(ctx, *args)
        if raw.__class__ is tuple:
            out = tuple(_function._as_output(ctx, o, args, device) for o in raw)
        else:
            out = _function._as_output(ctx, raw, args, device)
        if ctx._is_view:
            for o in out if out.__class__ is tuple else (out,):
                mark_view(o, args[0])
    grads = [t if t is not None else (_zeros(a) if _is_floating(a) and ctx._materialize
                                      else None)
             for a, t in zip(args, tans)]
    saved = getattr(ctx, "_saved_forward", None)
    if saved is not None:  # jvp reads what save_for_forward kept as ctx.saved_tensors
        kept = getattr(ctx, "_saved", None), getattr(ctx, "_saved_versions", ())
        ctx._saved, ctx._saved_versions = saved, tuple(
            None if t is None else t._version_counter.value for t in saved)
    try:
        touts = cls.jvp(ctx, *grads)
    finally:
        if saved is not None:
            ctx._saved, ctx._saved_versions = kept
    n = len(out) if out.__class__ is tuple else 1
    if n > 1 and (touts.__class__ not in (tuple, list) or len(touts) != n):
        raise RuntimeError(f"{cls.__name__}.jvp: expected {n} tangents (one per output of "
                           f"forward), got {touts!r:.80}")
    if n == 1 and touts.__class__ in (tuple, list):
        if len(touts) != 1:
            raise RuntimeError(f"{cls.__name__}.jvp: expected 1 tangent (one per output of "
                               f"forward), got {len(touts)}")
        touts = touts[0]
    for o, t in zip(out if n > 1 else (out,), touts if n > 1 else (touts,)):
        if o is not None and t is not None and tuple(t.shape) != tuple(o.shape):
            raise RuntimeError(f"{cls.__name__}.jvp: the tangent of an output of shape "
                               f"{tuple(o.shape)} has shape {tuple(t.shape)}; they must match")
    non_diff = ctx._non_diff
    if non_diff:
        touts = tuple(None if o is not None and id(o) in non_diff else t
                      for o, t in zip(out if n > 1 else (out,), touts if n > 1 else (touts,)))
        touts = touts if n > 1 else touts[0]
    _attach(out, touts)
    return out


# ---------------------------------------------------------------- rules

#: op class -> ``rule(cls, args, tangents, out)``: the tangent of each output (a tuple for
#: ops with several) from the tangents of the arguments (None where an argument has none)
RULES: dict = {}
_resolved: dict = {}


def _rule(cls):
    try:
        return _resolved[cls]
    except KeyError:
        pass
    rule = None
    from flambeau._ops.elementwise import _WrittenInPlace

    if not issubclass(cls, _WrittenInPlace):  # computed after their input is overwritten
        for k in cls.__mro__:
            rule = RULES.get(k)
            if rule is not None:
                break
    _resolved[cls] = rule
    return rule


def register(rule, *classes):
    """Use ``rule(cls, args, tangents, out)`` for the tangents of the ops ``classes`` (other
    packages register their ops' rules at import)."""
    for cls in classes:
        RULES[cls] = rule
    _resolved.clear()


def linear(cls, args, tans, out):
    """An op linear in its floating tensor arguments (views, reductions, copies, cat): the
    op itself applied to the tangents (zeros for a floating argument without one; the
    other arguments as they are)."""
    new = [(t if t is not None else (_zeros(a) if _is_floating(a) else a))
           if a.__class__ in _TENSOR_TYPES else a for a, t in zip(args, tans)]
    return _run(cls, *new)


def multilinear(cls, args, tans, out):
    """An op linear in each tensor argument (mul, matmul, einsum): the sum, over the
    arguments with a tangent, of the op with that argument replaced by its tangent."""
    total = None
    for i, t in enumerate(tans):
        if t is not None:
            term = _run(cls, *args[:i], t, *args[i + 1:])
            total = term if total is None else total + term
    return total


def multilinear_bias(bias_dim):
    """The rule of an op multilinear in its first two arguments plus a bias (the third,
    or None) added along dimension ``bias_dim`` of the result: linear (-1), conv (1)."""

    def rule(cls, args, tans, out):
        x, w, _, *rest = args
        total = multilinear(cls, (x, w, None, *rest), (*tans[:2], None, *tans[3:]), out)
        tb = tans[2]
        if tb is not None:
            if bias_dim >= 0 and tb._data.ndim:
                tb = tb.reshape(-1, *(1,) * (out._data.ndim - bias_dim - 1))
            total = fit(tb, out) if total is None else total + tb
        return total

    return rule


def _add_sub(cls, args, tans, out):
    from flambeau._ops.elementwise import Sub

    ta, tb = tans[0], tans[1]
    if tb is not None and issubclass(cls, Sub):
        tb = -tb
    return fit(tb if ta is None else ta if tb is None else ta + tb, out)


def _div(cls, args, tans, out):
    a, b = args
    ta, tb = tans
    res = None if ta is None else ta / b
    if tb is not None:
        term = -(out * tb) / b
        res = term if res is None else res + term
    return res


def _pow(cls, args, tans, out):
    from flambeau._ops.elementwise import (
        _conj,
        _pow_scalar_base_grad,
        _real_nonnegative,
        log,
        where,
    )

    a, b = args
    ta, tb = tans
    res = None
    if ta is not None:
        if b.__class__ in _TENSOR_TYPES:
            res = ta * where(b == 0, 0.0, b * a ** (b - 1))
        else:
            res = ta * 0.0 if b == 0 else ta * (b * a ** (b - 1))
    if tb is not None:
        # the slopes of Pow.backward: 0 at a zero base with a real exponent >= 0 (log 0 is
        # -inf), a complex log for a negative number base of a complex exponent
        if a.__class__ in _TENSOR_TYPES:
            term = tb * where((a == 0) & _real_nonnegative(b), 0.0, out * log(a))
        else:  # its backward gives g * conj(slope): conjugating around it gives t * slope
            term = _conj(_pow_scalar_base_grad(_conj(tb), a, b, out))
        res = term if res is None else res + term
    return res


def _unary(cls, args, tans, out):
    """An elementwise op of one real tensor: its Jacobian is diagonal, so its backward
    formula ``_grad(g, x, out)`` applied to the tangent is the jvp."""
    t = tans[0]
    if t._data.dtype.kind == "c" or args[0]._data.dtype.kind == "c":
        return _fallback_tangent(cls, args, tans)
    return cls._grad(t, args[0], out)


def _fallback_tangent(cls, args, tans):
    return _vjp_tangents(cls, args, tans)[1]


def _softmax(cls, args, tans, out):
    t, axis = tans[0], args[1]
    return out * (t - (out * t).sum(axis, keepdim=True))


def _log_softmax(cls, args, tans, out):
    t, axis = tans[0], args[1]
    return t - (out.exp() * t).sum(axis, keepdim=True)


def _where(cls, args, tans, out):
    cond, a, b = args
    ta = tans[1] if tans[1] is not None else (_zeros(a) if _is_floating(a) else 0.0)
    tb = tans[2] if tans[2] is not None else (_zeros(b) if _is_floating(b) else 0.0)
    return _run(cls, cond, ta, tb)


def _index_put(cls, args, tans, out):
    x, index, value, accumulate = args
    tx = tans[0] if tans[0] is not None else _zeros(x)
    tv = tans[2] if tans[2] is not None else (_zeros(value) if _is_floating(value) else 0.0)
    return _run(cls, tx, index, tv, accumulate)


def _reshape(cls, args, tans, out):
    # a tangent laid out unlike its primal (an expanded one) may not be viewable
    return _run(cls, tans[0], args[1], False)


def _install():
    from flambeau import _methods
    from flambeau._ops import complex as cx
    from flambeau._ops import elementwise as ew
    from flambeau._ops import indexing as ix
    from flambeau._ops import linalg as la
    from flambeau._ops import reduction as rd
    from flambeau._ops import shape as sh

    register(linear, rd.Sum, rd.Mean, rd.Cumsum, sh.Permute, sh.Expand, sh.Cat, sh.Stack,
             sh.Narrow, sh.Split, sh.Unbind, sh.Flip, sh.Roll, sh.Repeat, sh._Triangle,
             sh.Diagonal, ix.Index, ix.Gather, ix.IndexSelect, cx.Real, cx.Imag, cx.Conj,
             cx.ViewAsReal, cx.ViewAsComplex, cx.Complex, _methods.Clone, _methods.ToCopy)
    register(_reshape, sh.Reshape)
    register(multilinear, ew.Mul, la.Matmul, la.Einsum)
    register(_add_sub, ew.Add, ew.Sub)
    register(_div, ew.Div)
    register(_pow, ew.Pow)
    register(_unary, ew._Unary)
    register(_softmax, rd.Softmax)
    register(_log_softmax, rd.LogSoftmax)
    register(_where, ew.Where)
    register(_index_put, ix.IndexPut)



# ---------------------------------------------------------------- in-place writes


def involves(t, args=(), kwargs=None) -> bool:
    """Whether ``t`` or a tensor among ``args`` and ``kwargs``' values carries a tangent:
    an in-place op on ``t`` must then go through :func:`flambeau._inplace.write_result`,
    which computes the new values (and their tangent) with ops."""
    if tangent_of(t) is not None:
        return True
    for a in (*args, *(kwargs.values() if kwargs else ())):
        if a.__class__ in _TENSOR_TYPES and tangent_of(a) is not None:
            return True
    return False


def snapshot(src, t):
    """``src``, a copy of ``t`` made without ops (``detach().clone()``), takes its tangent."""
    tangent = tangent_of(t)
    if tangent is not None:
        set_tangent(src, tangent)


def after_write(t, result):
    """``result``'s values were just written into ``t``: its tangent becomes ``t``'s,
    written into ``t``'s own tangent where it has one (so views of ``t``, whose tangents
    are views of it, see the change), as PyTorch does."""
    if result is t:
        return
    new, old = tangent_of(result), tangent_of(t)
    if new is None and old is None:
        return
    _function._forward_ad_on = False
    try:
        new = _zeros(t) if new is None else fit(new, t)
        if old is None and t._base is not None:
            # a write into a view: its base gets a tangent (zero outside the view), whose
            # view the written one is, as PyTorch does
            base = t._base
            if tangent_of(base) is None:
                set_tangent(base, _zeros(base), track=True)
            old = _view_of(tangent_of(base), t)
            if old is not None:
                set_tangent(t, old)
        data = None if old is None else old._data
        if data is None or any(s == 0 and n > 1 for n, s in zip(data.shape, data.strides)):
            # none yet, or an expanded one that can't be written: a tangent of its own
            set_tangent(t, new.clone(), track=True)
            return
        t._device._xp.copyto(data, new._data, casting="unsafe")
        old._version_counter.value += 1
    finally:
        _function._forward_ad_on = True
