"""flambeau.autograd.graph: the backward graph's nodes and hooks on saved tensors.

Examples
--------
>>> import flambeau
>>> from flambeau.autograd.graph import Node
>>> y = flambeau.ones(2, requires_grad=True) * 2
>>> isinstance(y.grad_fn, Node), y.grad_fn.name()
(True, 'MulBackward0')
"""

from __future__ import annotations

import functools
import weakref

from flambeau.autograd._function import Node
from flambeau.autograd._grad_mode import state as _state

__all__ = ["Node", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
           "register_multi_grad_hook"]


class saved_tensors_hooks:
    """Pack and unpack hooks for the tensors saved for backward inside the block.

    Every tensor an op recorded in the block saves for backward (built-in ops and custom
    Functions' ``ctx.save_for_backward``) is passed to ``pack_hook(tensor)``, and the graph
    keeps what it returns instead of the tensor. When backward needs the tensor,
    ``unpack_hook(packed)`` must give back a tensor of the same value. Ops that are not
    recorded (no input requires grad, or under ``no_grad``) save nothing and call no hook.
    Nested blocks: the innermost pair applies.

    Parameters
    ----------
    pack_hook : callable
        ``pack_hook(tensor) -> object``; it must not modify ``tensor`` in place.
    unpack_hook : callable
        ``unpack_hook(object) -> Tensor``, called each time backward reads the saved tensor.

    Raises
    ------
    RuntimeError
        On entering while :class:`disable_saved_tensors_hooks` is active (its message), or
        when ``pack_hook`` modifies its input in place.
    TypeError
        When ``unpack_hook`` does not return a Tensor.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.autograd.graph import saved_tensors_hooks
    >>> calls = []
    >>> def pack(t):
    ...     calls.append("pack")
    ...     return t
    >>> def unpack(t):
    ...     calls.append("unpack")
    ...     return t
    >>> x = flambeau.tensor([2.0], requires_grad=True)
    >>> with saved_tensors_hooks(pack, unpack):
    ...     y = x * x
    >>> y.backward()
    >>> calls, x.grad
    (['pack', 'pack', 'unpack', 'unpack'], tensor([4.]))
    """

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        message = _state.saved_hooks_disabled
        if message is not None:
            raise RuntimeError(message)
        self._prev = _state.saved_hooks
        _state.saved_hooks = (self.pack_hook, self.unpack_hook)
        return self

    def __exit__(self, *exc):
        _state.saved_hooks = self._prev
        return False


class save_on_cpu(saved_tensors_hooks):
    """Keep the tensors saved for backward in CPU memory, moving them back when needed.

    Trades device memory for transfers in long forward passes on a GPU. CPU tensors are kept
    as they are. ``pin_memory`` is accepted for PyTorch code; flambeau's CPU backend has no
    pinned memory, so it changes nothing.

    Parameters
    ----------
    pin_memory : bool
        Accepted for compatibility.
    device_type : str
        Accepted for compatibility (PyTorch's default ``"cuda"``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.autograd.graph import save_on_cpu
    >>> x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    >>> with save_on_cpu():
    ...     y = (x * x).sum()
    >>> y.backward(); x.grad
    tensor([2., 4.])
    """

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack(tensor):
            return tensor.device, tensor.cpu()

        def unpack(packed):
            device, tensor = packed
            return tensor.to(device)

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Make :class:`saved_tensors_hooks` raise ``RuntimeError(error_message)`` in this block.

    For code that can't work with saved-tensor hooks. A context manager and a decorator.

    Parameters
    ----------
    error_message : str
        The message of the error raised on entering ``saved_tensors_hooks``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.autograd.graph import disable_saved_tensors_hooks, saved_tensors_hooks
    >>> with disable_saved_tensors_hooks("no hooks in here"):
    ...     with saved_tensors_hooks(lambda t: t, lambda t: t):
    ...         pass
    Traceback (most recent call last):
        ...
    RuntimeError: no hooks in here
    """

    def __init__(self, error_message):
        self.error_message = str(error_message)

    def __enter__(self):
        self._prev = _state.saved_hooks_disabled
        _state.saved_hooks_disabled = self.error_message
        return self

    def __exit__(self, *exc):
        _state.saved_hooks_disabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with disable_saved_tensors_hooks(self.error_message):
                return fn(*args, **kwargs)

        return wrapper


class _MultiHandle:
    """Removes the per-tensor hooks of one :func:`register_multi_grad_hook`."""

    def __init__(self, handles):
        self._handles = handles

    def remove(self):
        for h in self._handles:
            h.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """Call ``fn`` once the gradients of ``tensors`` are computed, in each backward pass.

    With ``mode="all"``, ``fn(grads)`` runs once per backward pass, after the gradient of
    every tensor of ``tensors`` that the pass computes is known; ``grads`` has one entry per
    tensor, None for those the pass does not reach. With ``mode="any"``, ``fn(grad)`` runs
    once per pass, with the first of these gradients to be computed. ``fn`` must not modify
    the gradients and should return None.

    Parameters
    ----------
    tensors : sequence of Tensor
        Tensors that require grad.
    fn : callable
        The hook.
    mode : {"all", "any"}
        When to call it.

    Returns
    -------
    handle
        Its ``remove()`` unregisters the hook.

    Raises
    ------
    ValueError
        For a ``mode`` other than ``"all"`` and ``"any"``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.autograd.graph import register_multi_grad_hook
    >>> a = flambeau.ones(2, requires_grad=True)
    >>> b = flambeau.ones(2, requires_grad=True)
    >>> seen = []
    >>> h = register_multi_grad_hook((a, b), lambda grads: seen.append(grads))
    >>> (a * 2 + b * 3).sum().backward()
    >>> seen
    [(tensor([2., 2.]), tensor([3., 3.]))]
    >>> (a * 2).sum().backward()
    >>> seen[-1]
    (tensor([2., 2.]), None)
    """
    from flambeau.autograd._engine import _edge_of

    if mode not in ("all", "any"):
        raise ValueError(f"register_multi_grad_hook: expects mode to be one of ('all', 'any') "
                         f"but got {mode!r}")
    tensors = tuple(tensors)
    n = len(tensors)
    # per backward pass (the engine's task object): the grads seen so far
    pass_state = {"task": None, "grads": None, "left": 0, "done": False}

    def start(task):
        pass_state["task"] = weakref.ref(task)  # not keeping the pass's graph alive
        pass_state["grads"] = [None] * n
        pass_state["done"] = False
        pass_state["left"] = sum(1 for t in tensors if task.will_run(_edge_of(t)[0]))

    def make_hook(i):
        def hook(grad):
            task = _state.task
            if pass_state["task"] is None or pass_state["task"]() is not task:
                start(task)
            if pass_state["done"]:
                return None
            if mode == "any":
                pass_state["done"] = True
                fn(grad)
                return None
            pass_state["grads"][i] = grad
            pass_state["left"] -= 1
            if pass_state["left"] <= 0:
                pass_state["done"] = True
                grads, pass_state["grads"] = tuple(pass_state["grads"]), None
                fn(grads)
            return None

        return hook

    return _MultiHandle([t.register_hook(make_hook(i)) for i, t in enumerate(tensors)])
