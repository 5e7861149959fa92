"""``flambeau.autograd.forward_ad``: PyTorch's dual-tensor API for forward-mode AD.

Inside a :class:`dual_level`, :func:`make_dual` pairs a tensor with a tangent and
:func:`unpack_dual` reads the tangent of anything computed from such dual tensors: the
Jacobian-vector product ``J @ tangent``.

As in PyTorch, every op computes the tangents of its outputs as it runs, from those of its
inputs, whatever the grad mode (under :class:`flambeau.no_grad` too), without requiring
grad and without recording a backward graph. In-place ops update the tangent of the tensor
they write; a view of a dual tensor carries the same view of its tangent, and writing a
dual tensor into a view of one without a tangent gives the base a tangent (zero outside
the view). A custom
:class:`~flambeau.autograd.Function`'s ``jvp`` staticmethod is used when it defines one
(with ``ctx.save_for_forward``). Elementwise arithmetic and math, matmul and einsum,
reductions, softmax, views, indexing, ``cat``/``stack``, ``where``, copies and casts (and
flambeau.nn's linear and convolutions) have their own jvp rules; any other op gets its
tangent through its backward (the double-vjp identity ``J t = d/du <J^T u, t>`` on that op
alone), which costs a recorded forward and two backward passes of the op. A custom
Function without ``jvp`` whose backward is not differentiable (``once_differentiable``)
raises PyTorch's ``NotImplementedError``.

What differs from PyTorch:

- A custom Function without ``jvp`` works when its ``backward`` is differentiable (PyTorch
  raises ``NotImplementedError``), at the cost of the fallback above.
- Levels are global, not per thread.

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

from typing import NamedTuple

from flambeau._tensor import Tensor
from flambeau.autograd import _forward

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual",
           "unpack_dual", "dual_level"]


def _level(level, api) -> bool:
    """Whether a level is active, after checking ``level`` names it (there is one: 0)."""
    active = _forward.level != 0
    if level is not None and (not active or level != 0):
        raise RuntimeError(f"{api}: dual level {level} is not active (the active level is "
                           f"{0 if active else 'none'})")
    return active


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
    if _forward.level:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _forward.enter()
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
    if not _forward.level:
        raise RuntimeError("exit_dual_level: no dual level is active; enter one with "
                           "enter_dual_level() or `with dual_level():`")
    _level(level, "exit_dual_level")
    _forward.leave()


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
    """A view of ``tensor`` that carries ``tangent`` as its forward gradient.

    It stays connected to ``tensor``'s backward graph and requires grad where ``tensor``
    does.

    Parameters
    ----------
    tensor : Tensor
        The primal: floating point or complex.
    tangent : Tensor
        The direction: same shape and device as ``tensor``; kept as it is (no copy), so
        in-place ops on the dual tensor update it.
    level : int, optional
        The level (the active one; there is only ever one).

    Raises
    ------
    RuntimeError
        Outside a dual level; when the shapes or devices differ; when ``tensor`` already
        has a tangent at this level.
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
    if not _level(level, "make_dual"):
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
    if _forward.tangent_of(tensor) is not None:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward "
                           "gradient at the same level 0 is not supported.")
    dual = tensor.view_as(tensor)
    _forward.set_tangent(dual, tangent, track=True)
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of ``tensor``: its values, and ``J @ t`` of the dual tensors.

    The tangent is None when ``tensor`` was not computed from a dual tensor of the active
    level (or outside any level). The primal is a view of ``tensor`` without a tangent,
    connected to ``tensor``'s backward graph.

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
    if not _level(level, "unpack_dual") or not isinstance(tensor, Tensor):
        return UnpackedDualTensor(tensor, None)
    tangent = _forward.tangent_of(tensor)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    from flambeau.autograd import _function

    _function._forward_ad_on = False  # the view carries no tangent
    try:
        primal = tensor.view_as(tensor)
    finally:
        _function._forward_ad_on = True
    _forward.set_tangent(primal, None)
    return UnpackedDualTensor(primal, tangent)
