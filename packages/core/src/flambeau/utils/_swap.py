"""``flambeau.utils.swap_tensors``: swap what two tensor objects are, keeping who they are."""

from __future__ import annotations

import gc
import weakref

_SWAPPED_AWAY = (
    "swap_tensors: this leaf's AccumulateGrad node was made before the tensor was swapped "
    "(flambeau.utils.swap_tensors): backward through a graph recorded before the swap would "
    "put its gradient into the other tensor. With "
    "flambeau.__future__.set_swap_module_params_on_conversion(True), change a module's "
    "device or dtype (m.cpu(), m.half()) before running forward, or after both forward and "
    "backward, not in between."
)


def _slot_names(cls) -> list[str]:
    """The instance slots of ``cls`` and its bases (not ``__dict__``/``__weakref__``)."""
    names = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__dict__", "__weakref__") and name not in names:
                names.append(name)
    return names


def _in_use(t1, t2) -> tuple[str, str] | None:
    """Which of ``t1``/``t2`` (its argument name) is held beside names, containers and its own
    leaf node, and by what: a view of it, or a graph node that saved it for backward (found
    among the objects the garbage collector tracks, where PyTorch's swap counts uses of the
    tensor). Each scan of those objects costs time in proportion to the whole program's
    objects, so both tensors share one scan, and a second one runs only when a tuple (what a
    node keeps its saved tensors in) holds either."""
    from flambeau._tensor import Tensor
    from flambeau.autograd._function import Node

    refs = gc.get_referrers(t1, t2)
    named = (("t1", t1), ("t2", t2))  # made after the scan, so that it finds no such tuple
    tuples = []
    for ref in refs:
        # a view or detach() alias shares its version counter (a tensor holding t as its
        # .grad does not)
        if isinstance(ref, Tensor):
            for name, t in named:
                if ref is not t and ref._version_counter is t._version_counter:
                    return name, "a view or alias of it"
        elif isinstance(ref, tuple):
            tuples.append(ref)
    if tuples:  # a node keeps what it saved for backward as a tuple in its ``_saved``
        by_id = {id(x): x for x in tuples}
        for ref in gc.get_referrers(*tuples):
            # the node itself holds it, or its __dict__ once that was made
            saved = ref.get("_saved") if isinstance(ref, dict) else (
                ref._saved if isinstance(ref, Node) else None)
            if saved is not None and by_id.get(id(saved)) is saved:
                for name, t in named:
                    if any(x is t for x in saved):
                        return name, "a node of the autograd graph that saved it for backward"
    return None


def _poison(node) -> None:
    def refuse(grad_outputs):
        raise RuntimeError(_SWAPPED_AWAY)

    node.register_prehook(refuse)


def swap_tensors(t1, t2) -> None:
    """Swap the contents of two tensors in place: afterwards ``t1`` is what ``t2`` was (data,
    device, dtype, ``requires_grad``, ``grad``, class and attributes) and the other way round,
    while every reference to either object stays valid. PyTorch's
    ``torch.utils.swap_tensors``, which ``nn.Module`` uses to convert parameters under
    ``flambeau.__future__.set_swap_module_params_on_conversion(True)``.

    A leaf that was used in a graph may be swapped; backward through that older graph then
    raises instead of putting a gradient into the wrong tensor, as in PyTorch. Finding what
    holds a tensor scans the objects the garbage collector tracks (a few milliseconds a call
    in a large program).

    Raises
    ------
    TypeError
        If ``t1`` or ``t2`` is not a tensor.
    RuntimeError
        If either has a weak reference, their classes have different ``__slots__``, or a view
        of either or a graph node that saved either for backward holds it (PyTorch refuses
        these too, by use count).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.utils import swap_tensors
    >>> a = flambeau.tensor([1.0, 2.0])
    >>> b = flambeau.tensor([3.0, 4.0, 5.0], requires_grad=True)
    >>> keep = a
    >>> swap_tensors(a, b)
    >>> keep is a, a, b
    (True, tensor([3., 4., 5.], requires_grad=True), tensor([1., 2.]))
    """
    # imported here: flambeau.utils is imported while flambeau._tensor is (utils.hooks)
    from flambeau._tensor import Tensor

    for name, t in (("t1", t1), ("t2", t2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"swap_tensors: {name} must be a Tensor, got {type(t).__name__}")
    if t1 is t2:
        return
    for name, t in (("t1", t1), ("t2", t2)):
        if weakref.getweakrefs(t):
            raise RuntimeError(f"Cannot swap {name} because it has weakref associated with it")
    slots = _slot_names(type(t1))
    if set(slots) != set(_slot_names(type(t2))):
        raise RuntimeError("Cannot swap t1 and t2 if they have different slots")
    held = _in_use(t1, t2)
    if held is not None:
        raise RuntimeError(f"Cannot swap {held[0]}: {held[1]} holds it; swap only tensors "
                           "that no view and no graph node refers to")
    # graphs recorded before the swap reach each leaf through its node: they must not run
    for t in (t1, t2):
        if t._accum is not None:
            _poison(t._accum)
            t._accum = None
    if type(t1) is not type(t2):  # every Tensor class has one layout (a __dict__ included)
        t1.__class__, t2.__class__ = type(t2), type(t1)
    t1.__dict__, t2.__dict__ = t2.__dict__, t1.__dict__
    missing = object()
    for name in slots:
        v1, v2 = getattr(t1, name, missing), getattr(t2, name, missing)
        for t, v in ((t1, v2), (t2, v1)):
            if v is missing:
                if hasattr(t, name):
                    delattr(t, name)
            else:
                setattr(t, name, v)
