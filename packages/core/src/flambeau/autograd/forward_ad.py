"""``flambeau.autograd.forward_ad``: PyTorch's dual-tensor API for forward-mode AD.

Inside a :class:`dual_level`, :func:`make_dual` pairs a tensor with a tangent and
:func:`unpack_dual` reads the tangent of anything computed from such dual tensors: the
Jacobian-vector product ``J @ tangent``.

flambeau computes these products with its reverse-mode engine, through the double-vjp
identity that :func:`flambeau.func.jvp` uses (``J t = d/du <J^T u, t>``), not by carrying
tangents along each op. Results are the same; what differs from PyTorch:

- A dual tensor requires grad (its operations must be recorded to be differentiated), so
  ``make_dual(x, t).requires_grad`` is True where PyTorch says False, and operations run
  under :class:`flambeau.no_grad` lose the tangent (:func:`unpack_dual` gives ``None``).
  The dual level turns that off again on exit.
- Each :func:`unpack_dual` of a computed tensor costs two backward passes over the graph
  between it and the dual tensors; reading the tangent of a dual tensor itself is free.
- A custom :class:`~flambeau.autograd.Function` is differentiated through its ``backward``
  (which must be differentiable); a ``jvp`` staticmethod is not used.
- An in-place operation on a dual tensor (or on its primal, or a view of either) is refused
  when a tangent is next read: the tangent was given for the values it replaced. Work on a
  ``clone()`` of the dual tensor instead.

Examples
--------
>>> import flambeau
>>> import flambeau.autograd.forward_ad as fwAD
>>> x = flambeau.tensor([1.0, 2.0])
>>> with fwAD.dual_level():
...     y = fwAD.make_dual(x, flambeau.tensor([1.0, 0.0])) ** 2
...     fwAD.unpack_dual(y).tangent
tensor([2., 0.])
"""

from __future__ import annotations

import weakref
from typing import NamedTuple

from flambeau._tensor import Tensor
from flambeau.autograd import _grad_mode

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual",
           "unpack_dual", "dual_level"]


class _Level:
    """The dual tensors of the active level: id -> (weak reference, tangent, own leaf,
    version counter, its value when the dual was made)."""

    def __init__(self):
        self.duals: dict[int, tuple] = {}
        self.primals: set[int] = set()  # ids of unpack_dual's primal views: no tangent

    def add(self, dual, tangent, own_leaf):
        key = id(dual)
        ref = weakref.ref(dual, lambda _, key=key: self.duals.pop(key, None))
        counter = dual._version_counter
        self.duals[key] = (ref, tangent, own_leaf, counter, counter.value)

    def check_unmodified(self):
        """Refuse to read tangents after an in-place write into a dual tensor's storage: the
        tangents were given for the values it replaced, and the graph no longer leads to them
        (PyTorch carries the tangent through the write; the double-vjp emulation cannot)."""
        for _, _, _, counter, seen in self.duals.values():
            if counter.value != seen:
                raise RuntimeError(
                    "unpack_dual: a dual tensor (or the tensor it was made from, or a view of "
                    "either) was modified by an in-place operation after make_dual; "
                    "flambeau's forward AD does not support that: apply the in-place "
                    "operation to dual.clone() instead")

    def close(self):
        for ref, _, own_leaf, _, _ in list(self.duals.values()):
            dual = ref()
            # an in-place write made it a non-leaf, whose flag cannot be turned off
            if dual is not None and own_leaf and dual.is_leaf:
                dual.requires_grad_(False)  # later operations on it are not recorded
        self.duals.clear()


_active: list[_Level] = []  # at most one: nested levels are refused, as in PyTorch


def _level(level, api) -> _Level | None:
    if level is not None and (not _active or level != 0):
        raise RuntimeError(f"{api}: dual level {level} is not active (the active level is "
                           f"{0 if _active else 'none'})")
    return _active[0] if _active else None


def enter_dual_level() -> int:
    """Enter a new forward-AD level and return its number (0: levels do not nest).

    Prefer the :class:`dual_level` context manager, which also leaves the level.

    Raises
    ------
    RuntimeError
        When a level is already active.

    Examples
    --------
    >>> import flambeau.autograd.forward_ad as fwAD
    >>> level = fwAD.enter_dual_level()
    >>> level
    0
    >>> fwAD.exit_dual_level(level=level)
    """
    if _active:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _active.append(_Level())
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """Leave the active forward-AD level: its dual tensors lose their tangents.

    Raises
    ------
    RuntimeError
        When no level is active, or ``level`` is not the active one.

    Examples
    --------
    >>> import flambeau.autograd.forward_ad as fwAD
    >>> fwAD.enter_dual_level()
    0
    >>> fwAD.exit_dual_level()
    """
    if not _active:
        raise RuntimeError("exit_dual_level: no dual level is active; enter one with "
                           "enter_dual_level() or `with dual_level():`")
    _level(level, "exit_dual_level")
    _active.pop().close()


class dual_level:  # noqa: N801 - PyTorch's name
    """Context manager of a forward-AD level: ``with dual_level(): ...``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     d = fwAD.make_dual(flambeau.tensor(3.0), flambeau.tensor(1.0))
    ...     fwAD.unpack_dual(d.exp()).tangent
    tensor(20.0855)
    """

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc) -> bool:
        exit_dual_level()
        return False


class UnpackedDualTensor(NamedTuple):
    """What :func:`unpack_dual` returns: ``(primal, tangent)``, tangent None if it has none.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.autograd.forward_ad import unpack_dual
    >>> unpack_dual(flambeau.tensor([1.0]))
    UnpackedDualTensor(primal=tensor([1.]), tangent=None)
    """

    primal: Tensor
    tangent: Tensor | None


def _check_floating(t, what):
    if not (t.is_floating_point() or t.is_complex()):
        raise ValueError(f"make_dual: Expected {what} to be floating point or complex, but "
                         f"got: {t.dtype}")


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A tensor with ``tensor``'s values that carries ``tangent`` as its forward gradient.

    It is a view of ``tensor`` and stays connected to ``tensor``'s backward graph.

    Parameters
    ----------
    tensor : Tensor
        The primal: floating point or complex.
    tangent : Tensor
        The direction: same shape and device as ``tensor``; kept as it is (no copy).
    level : int, optional
        The level (the active one; there is only ever one).

    Raises
    ------
    RuntimeError
        Outside a dual level; when the shapes or devices differ; when ``tensor`` is already a
        dual tensor of this level.
    ValueError
        When ``tensor`` or ``tangent`` is not floating point or complex.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     d = fwAD.make_dual(flambeau.tensor([1.0, 2.0]), flambeau.tensor([0.5, 0.5]))
    ...     fwAD.unpack_dual(d).tangent
    tensor([0.5000, 0.5000])
    """
    lvl = _level(level, "make_dual")
    if lvl is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        bad = tensor if not isinstance(tensor, Tensor) else tangent
        raise TypeError(f"make_dual: expected Tensors, got {type(bad).__name__}")
    _check_floating(tensor, "primal")
    _check_floating(tangent, "tangent")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            f"make_dual: Trying to set a forward gradient that has a different size than that "
            f"of the original Tensor, this is not supported. Tensor is of size "
            f"{list(tensor.shape)} while the given forward gradient is of size "
            f"{list(tangent.shape)}.")
    if tangent.device != tensor.device:
        raise RuntimeError(f"make_dual: the tangent is on {tangent.device} but the primal is "
                           f"on {tensor.device}; they must be on the same device")
    if id(tensor) in lvl.duals:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward "
                           "gradient at the same level 0 is not supported.")
    dual = tensor.view_as(tensor)
    own_leaf = not tensor.requires_grad
    if own_leaf:  # a leaf view of a tensor outside any graph: the graph's new source
        dual.requires_grad_(True)
    lvl.add(dual, tangent, own_leaf)
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of ``tensor``: its values, and ``J @ t`` of the dual tensors.

    The tangent is None when ``tensor`` was not computed from a dual tensor of the active
    level (or outside any level). The primal is a tensor with ``tensor``'s values and no
    tangent, connected to ``tensor``'s backward graph where that reaches tensors requiring
    grad outside forward AD.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     d = fwAD.make_dual(flambeau.tensor([1.0, 2.0]), flambeau.tensor([1.0, 1.0]))
    ...     primal, tangent = fwAD.unpack_dual(d.sin() * 2)
    >>> primal, tangent
    (tensor([1.6829, 1.8186]), tensor([ 1.0806, -0.8323]))
    """
    lvl = _level(level, "unpack_dual")
    if lvl is None or not isinstance(tensor, Tensor) or not lvl.duals:
        return UnpackedDualTensor(tensor, None)
    lvl.check_unmodified()
    entry = lvl.duals.get(id(tensor))
    if entry is not None:
        tangent, own = entry[1], entry[2]
        return UnpackedDualTensor(_primal(lvl, tensor, real_graph=not own), tangent)
    if not tensor.requires_grad or id(tensor) in lvl.primals:
        return UnpackedDualTensor(tensor, None)
    from flambeau.func._transforms import _jvp_leaves, _reaches_outside

    duals, tangents = [], []
    for ref, tangent, *_ in list(lvl.duals.values()):
        dual = ref()
        if dual is not None:
            duals.append(dual)
            tangents.append(tangent)
    # a leaf requiring grad other than the duals' own: the user differentiates through this
    real_graph = _reaches_outside([tensor], duals)
    with _grad_mode.enable_grad():
        jvp = _jvp_leaves([tensor], duals, tangents, create_graph=real_graph)[0]
    if jvp is not None and not real_graph:
        jvp = jvp.detach()
    return UnpackedDualTensor(_primal(lvl, tensor, real_graph), jvp)


def _primal(lvl, tensor, real_graph):
    """``tensor``'s values without a tangent: a view that keeps a real backward graph."""
    if not real_graph:
        return tensor.detach()
    primal = tensor.view_as(tensor)
    key = id(primal)
    lvl.primals.add(key)
    weakref.finalize(primal, lvl.primals.discard, key)
    return primal
