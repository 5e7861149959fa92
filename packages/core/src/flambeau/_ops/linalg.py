"""Matrix products: matmul (@), mm, bmm, einsum, outer, dot, addmm, baddbmm."""

from __future__ import annotations

import string

from flambeau import _sparse
from flambeau._ops._util import Tensor, check_same_device, promote, with_out, write_out
from flambeau._ops.complex import conj
from flambeau.amp import _autocast
from flambeau.autograd._function import Function, node_variant


def _matmul_error(a, b, k1, k2):
    return RuntimeError(
        f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
        f"({k1} != {k2})"
    )


class Matmul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._device._backend.matmul(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        # grad_a = g @ b^H, grad_b = a^H @ g: the conjugate transposes, for complex inputs
        a, b = ctx.saved_tensors
        ga = gb = None
        if a._data.dtype.kind == "c":
            a, b = conj(a), conj(b)
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if ctx.needs_input_grad[0] else None,
                    g * a if ctx.needs_input_grad[1] else None)
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = g2.unsqueeze(-2)
        if b.ndim == 1:
            g2 = g2.unsqueeze(-1)
        if ctx.needs_input_grad[0]:
            ga = matmul(g2, b2.mT)
            if a.ndim == 1:
                ga = ga.squeeze(-2)
                if ga.ndim > 1:
                    ga = ga.reshape(-1, a.shape[0]).sum(0)
        if ctx.needs_input_grad[1]:
            gb = matmul(a2.mT, g2)
            if b.ndim == 1:
                gb = gb.squeeze(-1)
                if gb.ndim > 1:
                    gb = gb.reshape(-1, b.shape[0]).sum(0)
        return ga, gb


#: the node of matmul by the operands' numbers of dims: torch's op for them (its other
#: cases reshape around one of these, where flambeau records one MatmulBackward0)
_MATMUL_NODES = {(2, 2): node_variant(Matmul, "MmBackward0"),
                 (2, 1): node_variant(Matmul, "MvBackward0"),
                 (1, 1): node_variant(Matmul, "DotBackward0"),
                 (3, 3): node_variant(Matmul, "BmmBackward0")}


def matmul(input, other, *, out=None):
    """Matrix product with NumPy/PyTorch broadcasting of batch dims (``@``).

    Examples
    --------
    >>> import flambeau
    >>> a = flambeau.ones(2, 3)
    >>> (a @ flambeau.ones(3, 4)).shape
    flambeau.Size([2, 4])
    >>> try:
    ...     a @ flambeau.ones(4, 5)
    ... except RuntimeError as e:
    ...     print(e)
    matmul: shapes (2, 3) and (4, 5) cannot be multiplied (3 != 4)
    """
    if _autocast.active:
        input, other = _autocast.cast_inputs("lower", input, other)
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(
            f"matmul: expected Tensor arguments, got {type(input).__name__} and "
            f"{type(other).__name__}"
        )
    if input._data.ndim == 0 or other._data.ndim == 0:
        raise RuntimeError(
            f"matmul: both arguments need at least 1 dimension, got shapes {tuple(input.shape)} "
            f"and {tuple(other.shape)}"
        )
    k1 = input._data.shape[-1]
    k2 = other._data.shape[-2] if other._data.ndim > 1 else other._data.shape[0]
    if k1 != k2:
        raise _matmul_error(input, other, k1, k2)
    if input._data.dtype != other._data.dtype:  # PyTorch does not promote in matmul
        raise RuntimeError(
            f"matmul: expected both arguments to have the same dtype, but got "
            f"{input.dtype} and {other.dtype}"
        )
    if input._device is not other._device:
        check_same_device("matmul", input, other)
    try:
        cls = _MATMUL_NODES.get((input._data.ndim, other._data.ndim), Matmul)
        result = cls.apply(input, other)
    except ValueError:
        raise RuntimeError(
            f"matmul: batch dims of shapes {tuple(input.shape)} and {tuple(other.shape)} cannot "
            "be broadcast"
        ) from None
    except (_sparse.SparseUnsupported, TypeError):
        # a sparse operand's data refuses the dense product (CuPy's refusal is a TypeError):
        # free when none is sparse
        if not (isinstance(input._data, _sparse.RefusingStorage)
                or isinstance(other._data, _sparse.RefusingStorage)):
            raise
        result = _sparse.matmul(input, other)
    return write_out(result, out, exact=True)


def mm(input, mat2, *, out=None):
    """Product of two matrices (2-D only).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.mm(flambeau.eye(2), flambeau.tensor([[1.0], [2.0]]))
    tensor([[1.],
            [2.]])
    """
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got shapes {tuple(input.shape)} and "
                           f"{tuple(mat2.shape)}")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mm: shapes {tuple(input.shape)} and {tuple(mat2.shape)} cannot be "
                           f"multiplied ({input.shape[1]} != {mat2.shape[0]})")
    return write_out(matmul(input, mat2), out, exact=True)


def bmm(input, mat2, *, out=None):
    """Batched product of (b, n, m) and (b, m, p) tensors.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.bmm(flambeau.ones(4, 2, 3), flambeau.ones(4, 3, 5)).shape
    flambeau.Size([4, 2, 5])
    """
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got shapes {tuple(input.shape)} and "
                           f"{tuple(mat2.shape)}")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: shapes {tuple(input.shape)} and "
                           f"{tuple(mat2.shape)}")
    return write_out(matmul(input, mat2), out, exact=True)


@with_out(exact=True)
def mv(input, vec):
    """Matrix-vector product.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.mv(flambeau.eye(2), flambeau.tensor([3.0, 4.0]))
    tensor([3., 4.])
    """
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got shapes "
                           f"{tuple(input.shape)} and {tuple(vec.shape)}")
    return matmul(input, vec)


@with_out(exact=True)
@_autocast.not_cast  # in no autocast list (matmul is): it runs in its inputs' dtype
def dot(input, tensor):
    """Dot product of two 1-D tensors (complex ones are not conjugated: see
    :func:`flambeau.vdot`).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.dot(flambeau.tensor([1.0, 2.0]), flambeau.tensor([3.0, 4.0]))
    tensor(11.)
    """
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D "
                           "tensors")
    return matmul(input, tensor)


@with_out(exact=True)
def inner(input, other):
    """Sum of products over the last dimension (``dot`` for vectors, a scalar times a tensor).

    The result has shape ``input.shape[:-1] + other.shape[:-1]``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.inner(flambeau.tensor([[1.0, 2.0], [3.0, 4.0]]), flambeau.tensor([1.0, 1.0]))
    tensor([3., 7.])
    """
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(
            f"inner: the last dimensions of shapes {tuple(input.shape)} and "
            f"{tuple(other.shape)} must match ({input.shape[-1]} != {other.shape[-1]})"
        )
    k = input.shape[-1]
    flat = matmul(input.reshape(-1, k), other.reshape(-1, k).t())
    return flat.reshape(*input.shape[:-1], *other.shape[:-1])


@with_out
def outer(input, vec2):
    """Outer product of two vectors.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.outer(flambeau.tensor([1, 2]), flambeau.tensor([1, 10]))
    tensor([[ 1, 10],
            [ 2, 20]])
    """
    a, b = promote("outer", input, vec2)
    return a.reshape(-1, 1) * b.reshape(1, -1)


ger = outer


@with_out(exact=True)
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.addmm(flambeau.ones(2, 2), flambeau.eye(2), flambeau.eye(2))
    tensor([[2., 1.],
            [1., 2.]])
    """
    if _autocast.active:
        input, mat1, mat2 = _autocast.cast_inputs("lower", input, mat1, mat2)
    prod = mm(mat1, mat2)
    if alpha != 1:
        prod = prod * alpha
    return prod + (input if beta == 1 else input * beta) if beta != 0 else prod


@with_out(exact=True)
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * bmm(batch1, batch2)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.baddbmm(flambeau.zeros(1, 2, 2), flambeau.ones(1, 2, 1),
    ...                  flambeau.ones(1, 1, 2)).shape
    flambeau.Size([1, 2, 2])
    """
    if _autocast.active:
        input, batch1, batch2 = _autocast.cast_inputs("lower", input, batch1, batch2)
    prod = bmm(batch1, batch2)
    if alpha != 1:
        prod = prod * alpha
    return prod + (input if beta == 1 else input * beta) if beta != 0 else prod


@with_out(exact=True)
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.addmv(flambeau.ones(2), flambeau.eye(2), flambeau.ones(2))
    tensor([2., 2.])
    """
    if _autocast.active:
        input, mat, vec = _autocast.cast_inputs("lower", input, mat, vec)
    prod = mv(mat, vec)
    if alpha != 1:
        prod = prod * alpha
    return prod + (input if beta == 1 else input * beta) if beta != 0 else prod


# ------------------------------------------------------------------ einsum


def _parse_einsum(equation, operands):
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->")
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise RuntimeError(
            f"einsum(): {len(terms)} subscripts in '{equation}' but {len(operands)} operands"
        )
    used = set(eq) - set(",.->")
    free = [c for c in string.ascii_letters if c not in used]
    ell_letters = None
    out_terms = []
    for term, op in zip(terms, operands):
        if "..." in term:
            n_ell = op.ndim - (len(term) - 3)
            if ell_letters is None or n_ell > len(ell_letters):
                ell_letters = "".join(free[:n_ell]) if ell_letters is None else \
                    "".join(free[:n_ell])
            term = term.replace("...", ell_letters[len(ell_letters) - n_ell:] if n_ell else "")
        if len(term) != op.ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in '{equation}' does not match the number "
                f"of dimensions ({op.ndim}) of an operand of shape {tuple(op.shape)}"
            )
        out_terms.append(term)
    if rhs is None:
        counts = {}
        for t in out_terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        rhs = (ell_letters or "") + "".join(
            sorted(c for c, n in counts.items() if n == 1 and c not in (ell_letters or ""))
        )
    elif "..." in rhs:
        rhs = rhs.replace("...", ell_letters or "")
    return out_terms, rhs


class Einsum(Function):
    @staticmethod
    def forward(ctx, spec, *operands):
        terms, rhs = spec
        ctx.spec = spec
        ctx.save_for_backward(*operands)
        xp = operands[0]._device._xp
        arrays = [o._data for o in operands]
        dt = arrays[0].dtype
        if dt.kind == "V":  # NumPy's einsum has no bfloat16 loop: compute in float32
            arrays = [a.astype("float32") for a in arrays]
        out = xp.einsum(",".join(terms) + "->" + rhs, *arrays, optimize=len(operands) > 2)
        return out.astype(dt, copy=False)

    @staticmethod
    def backward(ctx, g):
        terms, rhs = ctx.spec
        operands = ctx.saved_tensors
        grads = [None]
        for i, (term, op) in enumerate(zip(terms, operands)):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            others = [(t, o) for j, (t, o) in enumerate(zip(terms, operands)) if j != i]
            if op._data.dtype.kind == "c":  # g * conj(d out / d op): the others conjugated
                others = [(t, conj(o)) for t, o in others]
            available = set(rhs).union(*[set(t) for t, _ in others])
            target = "".join(c for c in dict.fromkeys(term) if c in available)
            spec = ([rhs] + [t for t, _ in others], target)
            gi = Einsum.apply(spec, g, *[o for _, o in others])
            # letters summed inside this operand only, or repeated (diagonals): expand back
            if target != term:
                gi = _expand_einsum_grad(gi, target, term, op.shape)
            grads.append(gi)
        return tuple(grads)


def _expand_einsum_grad(gi, target, term, shape):
    from flambeau._creation import eye

    sizes = dict(zip(term, shape))
    if len(set(term)) == len(term):
        shaped = gi
        cur = target
        for c in term:
            if c not in cur:
                shaped = shaped.unsqueeze(-1)
                cur += c
        order = [cur.index(c) for c in term]
        return shaped.permute(*order).expand(*[sizes[c] for c in term])
    # repeated letters (a diagonal such as 'ii'): multiply by identity masks
    letters = list(dict.fromkeys(term))
    full = gi
    cur = target
    for c in letters:
        if c not in cur:
            full = full.unsqueeze(-1).expand(*full.shape, sizes[c])
            cur += c
    expr_in = [cur]
    args = [full]
    pieces = list(term)
    seen = {}
    for k, c in enumerate(term):
        if c in seen:
            fresh = next(x for x in string.ascii_letters if x not in cur + "".join(pieces))
            pieces[k] = fresh
            expr_in.append(c + fresh)
            args.append(eye(sizes[c], dtype=gi.dtype, device=gi.device))
        seen[c] = True
    return Einsum.apply((expr_in, "".join(pieces)), *args)


def einsum(equation, *operands):
    """Sums of products written in Einstein notation, e.g. ``"bij,bjk->bik"``.

    Examples
    --------
    >>> import flambeau
    >>> a, b = flambeau.ones(2, 3), flambeau.ones(3, 4)
    >>> flambeau.einsum("ij,jk->ik", a, b).shape
    flambeau.Size([2, 4])
    >>> flambeau.einsum("ii", flambeau.eye(3))
    tensor(3.)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    if _autocast.active:
        operands = _autocast.cast_inputs("lower", *operands)
    first = operands[0]
    for o in operands[1:]:
        if o._data.dtype != first._data.dtype:
            raise RuntimeError(f"einsum(): operands have different dtypes: {first.dtype} and "
                               f"{o.dtype}")
    terms, rhs = _parse_einsum(equation, operands)
    try:
        return Einsum.apply((terms, rhs), *operands)
    except ValueError as e:
        raise RuntimeError(f"einsum(): {e} (equation '{equation}', shapes "
                           f"{[tuple(o.shape) for o in operands]})") from None
