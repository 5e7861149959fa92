"""vmap: map a function over a dimension of its inputs.

Examples
--------
>>> import flambeau
>>> from flambeau.func import vmap
>>> vmap(flambeau.dot)(flambeau.ones(2, 3), flambeau.ones(2, 3))
tensor([3., 3.])
"""

from __future__ import annotations

import functools

from flambeau import _random
from flambeau._tensor import Tensor
from flambeau.func._pytree import broadcast_prefix
from flambeau.func._transforms import _check_chunk, _check_randomness, _fname
from flambeau.utils._pytree import tree_flatten, tree_unflatten

__all__ = ["vmap"]


class _NoRandomness:
    """Stands in for a generator's stream while ``randomness="error"`` forbids drawing."""

    def __getattr__(self, name):
        if name.startswith("__"):  # introspection (copy, doctest), not a draw
            raise AttributeError(name)
        raise RuntimeError(
            "vmap: called random operation while in randomness error mode. Please either use "
            "the 'same' or 'different' randomness flags on vmap or perform the randomness "
            "operation out of vmap")


_FORBIDDEN = _NoRandomness()


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Vectorize ``func`` over a dimension of its inputs.

    ``vmap(func)(*args)`` calls ``func`` on each slice of the arguments along their mapped
    dimension (``in_dims``) and stacks the results along ``out_dims``: it is
    ``stack([func(*[a.select(d, i) ...]) for i in range(batch)])``, for pytrees (tuples,
    lists, dicts) of tensors in and out. This implementation runs ``func`` once per batch
    element (as PyTorch does for operations without a batching rule), which is correct for
    every function, composes with itself and with :func:`grad`, :func:`jacrev` and the
    rest (``vmap(grad(loss))`` gives per-sample gradients), and is differentiable; it is
    not faster than the loop.

    Parameters
    ----------
    func : callable
        Takes the arguments' slices positionally (keyword arguments are passed unmapped)
        and returns a Tensor or a pytree of Tensors.
    in_dims : int, None or pytree
        The mapped dimension of each argument: one int for every argument, or a tuple
        with one entry per positional argument; an entry may be a nested structure
        matching that argument or one int/None for the whole of it. ``None`` passes the
        argument unchanged to every call (needed for non-Tensor arguments).
    out_dims : int, None or pytree
        Where the mapped dimension goes in each output (negative counts from the end).
        ``None`` returns an output unstacked; it must then be the same for every element.
    randomness : {"error", "different", "same"}
        What random operations inside ``func`` do: ``"error"`` raises (for draws from the
        default generators); ``"different"`` draws independently for each element (the
        loop's natural behaviour); ``"same"`` restores the default generators' state
        before each element, so every element draws the same numbers, and leaves them as
        one element's draws left them. Explicit ``generator=`` objects are not affected.
    chunk_size : int, optional
        Accepted and validated for compatibility; elements run one at a time anyway.

    Returns
    -------
    callable
        The vectorized function.

    Raises
    ------
    ValueError
        When an argument given an int ``in_dim`` is not a Tensor, ``in_dim`` is out of
        range for its tensor, ``in_dims`` does not fit the arguments' structure, the
        mapped sizes differ, no input is mapped, ``func`` returns a non-Tensor for an
        output with an int ``out_dim``, or ``chunk_size`` is not positive.
    RuntimeError
        For an unknown ``randomness``, or a random draw under ``randomness="error"``.
    IndexError
        When an ``out_dim`` is out of range for its output.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.func import vmap
    >>> x = flambeau.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> vmap(lambda row: row.sum())(x)
    tensor([3., 7.])
    >>> vmap(lambda col, s: col * s, in_dims=(1, None))(x, 10.0)
    tensor([[10., 30.],
            [20., 40.]])
    >>> vmap(lambda row: row * 2, out_dims=1)(x)
    tensor([[2., 6.],
            [4., 8.]])
    """
    _check_randomness(randomness)
    _check_chunk(chunk_size, "vmap")
    name = _fname(func)

    @functools.wraps(func)
    def vectorized(*args, **kwargs):
        return _vmap_call(func, name, in_dims, out_dims, randomness, args, kwargs)

    return vectorized


def _api(name, in_dims=None, out_dims=None):
    if out_dims is not None:
        return f"vmap({name}, ..., out_dims={out_dims!r})(<inputs>)"
    return f"vmap({name}, in_dims={in_dims!r}, ...)(<inputs>)"


def _flat_in_dims(name, in_dims, args):
    api = _api(name, in_dims)
    if not args:
        raise ValueError(
            f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you "
            "are trying to vmap over a function with no inputs. The latter is unsupported.")
    if not isinstance(in_dims, (int, tuple)) or isinstance(in_dims, bool):
        raise ValueError(
            f"{api}: expected `in_dims` to be int or a (potentially nested) tuple matching the "
            f"structure of inputs, got: {type(in_dims).__name__}.")
    leaves, spec = tree_flatten(args)
    if isinstance(in_dims, int):
        dims = [in_dims] * len(leaves)
    else:
        dims = broadcast_prefix(in_dims, args)
        if dims is None:
            raise ValueError(
                f"{api}: in_dims is not compatible with the structure of `inputs`. in_dims "
                f"has structure {tree_flatten(in_dims)[1]} but inputs has structure {spec}.")
    sizes = []
    for leaf, d in zip(leaves, dims):
        if d is None:
            continue
        if isinstance(d, bool) or not isinstance(d, int):
            raise ValueError(
                f"{api}: Got in_dim={d!r} for an input but in_dim must be either an integer "
                "dimension or None.")
        if not isinstance(leaf, Tensor):
            raise ValueError(
                f"{api}: Got in_dim={d} for an input but the input is of type "
                f"{type(leaf).__name__}. We cannot vmap over non-Tensor arguments, please use "
                "None as the respective in_dim")
        if not -leaf.ndim <= d < leaf.ndim:
            raise ValueError(
                f"{api}: Got in_dim={d} for some input, but that input is a Tensor of "
                f"dimensionality {leaf.ndim} (shape {tuple(leaf.shape)}) so expected in_dim to "
                f"satisfy {-leaf.ndim} <= in_dim < {leaf.ndim}.")
        sizes.append(leaf.shape[d])
    if not sizes:
        raise ValueError(
            f"{api}: at least one input must be mapped over (a Tensor with an int in_dim); "
            f"got in_dims={in_dims!r} for inputs of structure {spec}")
    if len(set(sizes)) != 1:
        raise ValueError(
            "vmap: Expected all tensors to have the same size in the mapped dimension, got "
            f"sizes {sizes} for the mapped dimension")
    return leaves, spec, dims, sizes[0]


class _Randomness:
    """Applies the ``randomness`` mode to the default generators around each call."""

    def __init__(self, mode, leaves):
        self.mode = mode
        devices = {"cpu"} | {str(t.device) for t in leaves if isinstance(t, Tensor)}
        self.gens = [_random.default_generator_for(d) for d in sorted(devices)]
        self.saved = None

    def __enter__(self):
        if self.mode == "error":
            self.streams = [g._rng for g in self.gens]
            for g in self.gens:
                g._rng = _FORBIDDEN
        elif self.mode == "same":
            self.saved = [None if g._rng is _FORBIDDEN else g.get_state() for g in self.gens]
        return self

    def before_element(self, i):
        if self.mode == "same" and i:
            for g, state in zip(self.gens, self.saved):
                if state is not None:
                    g.set_state(state)

    def __exit__(self, *exc):
        if self.mode == "error":
            for g, stream in zip(self.gens, self.streams):
                g._rng = stream
        return False


def _vmap_call(func, name, in_dims, out_dims, randomness, args, kwargs):
    leaves, spec, dims, size = _flat_in_dims(name, in_dims, args)
    if size == 0:
        raise ValueError(
            f"{_api(name, in_dims)}: the mapped dimension has size 0; this vmap runs the "
            "function once per element, so it cannot tell the outputs' shapes without one")
    results = []
    with _Randomness(randomness, leaves) as rand:
        for i in range(size):
            rand.before_element(i)
            sliced = [leaf if d is None else leaf.select(d, i) for leaf, d in zip(leaves, dims)]
            results.append(func(*tree_unflatten(sliced, spec), **kwargs))
    return _stack_outputs(name, out_dims, results)


def _stack_outputs(name, out_dims, results):
    from flambeau._ops.shape import stack

    first_leaves, out_spec = tree_flatten(results[0])
    if isinstance(out_dims, bool) or not (out_dims is None or isinstance(out_dims, (int, tuple,
                                                                                    list))):
        raise ValueError(
            f"{_api(name, out_dims=out_dims)}: expected `out_dims` to be int or a (potentially "
            f"nested) tuple matching the structure of outputs, got: {type(out_dims).__name__}.")
    if out_dims is None or isinstance(out_dims, int):
        dims = [out_dims] * len(first_leaves)
    else:
        dims = broadcast_prefix(out_dims, results[0])
        if dims is None:
            raise ValueError(
                f"{_api(name, out_dims=out_dims)}: out_dims is not compatible with the "
                f"structure of `outputs`. out_dims has structure {tree_flatten(out_dims)[1]} "
                f"but outputs has structure {out_spec}.")
    per_elem = []
    for r in results:
        leaves, s = tree_flatten(r)
        if s != out_spec:
            raise ValueError(
                f"vmap({name}, ...): `{name}` must return outputs of the same structure for "
                f"every element, got {out_spec} and {s}")
        per_elem.append(leaves)
    out = []
    for j, d in enumerate(dims):
        column = [leaves[j] for leaves in per_elem]
        if d is None:
            first = column[0]
            for other in column[1:]:
                if not _same(first, other):
                    raise ValueError(
                        f"vmap({name}, ...): `{name}` can not return a BatchedTensor when "
                        f"out_dim is None (output {j} differs between batch elements)")
            out.append(first)
            continue
        if isinstance(d, bool) or not isinstance(d, int):
            raise ValueError(
                f"{_api(name, out_dims=out_dims)}: Got out_dim={d!r} for an output but "
                "out_dim must be either an integer dimension or None.")
        for leaf in column:
            if not isinstance(leaf, Tensor):
                raise ValueError(
                    f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                    f"{type(leaf).__name__}. Did you mean to set out_dims= to None for output?")
        nd = column[0].ndim + 1
        if not -nd <= d < nd:
            raise IndexError(
                f"vmap({name}, ...): Dimension out of range (expected to be in range of "
                f"[{-nd}, {nd - 1}], but got {d}) for out_dim of output {j}, of shape "
                f"{tuple(column[0].shape)} per element")
        out.append(stack(column, dim=d))
    return tree_unflatten(out, out_spec)


def _same(a, b):
    if a is b:
        return True
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return a.shape == b.shape and bool((a == b).all())
    try:
        return bool(a == b)
    except Exception:
        return False
