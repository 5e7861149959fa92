"""Switches for gradient recording: no_grad, enable_grad, set_grad_enabled, inference_mode."""

from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _State(threading.local):
    grad_enabled = True
    inference = False
    multithreading = True  # set_multithreading_enabled (backward runs in the caller anyway)
    saved_hooks = None  # (pack, unpack) of the innermost saved_tensors_hooks
    saved_hooks_disabled = None  # the message of disable_saved_tensors_hooks
    task = None  # what the running backward pass computes (see _engine.run_backward)


state = _State()


def is_grad_enabled() -> bool:
    """Whether operations are being recorded for autograd.

    Examples
    --------
    >>> import flambeau
    >>> with flambeau.no_grad():
    ...     flambeau.is_grad_enabled()
    False
    """
    return state.grad_enabled


def is_inference_mode_enabled() -> bool:
    """Whether an :class:`inference_mode` block is active.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.is_inference_mode_enabled()
    False
    """
    return state.inference


class _GradModeContext:
    """Base of the grad-mode switches: a context manager that is also a decorator."""

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args):
                return fn(*args, **kwargs)

        return wrapper

    _args: tuple = ()

    def __exit__(self, *exc):
        state.grad_enabled = self._prev
        return False


class no_grad(_GradModeContext):
    """Do not record operations: results have ``requires_grad=False``.

    Works as a context manager and as a decorator.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.ones(2, requires_grad=True)
    >>> with flambeau.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    def __enter__(self):
        self._prev = state.grad_enabled
        state.grad_enabled = False


class enable_grad(_GradModeContext):
    """Record operations again inside a :class:`no_grad` block.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.ones(2, requires_grad=True)
    >>> with flambeau.no_grad():
    ...     with flambeau.enable_grad():
    ...         y = x * 2
    >>> y.requires_grad
    True
    """

    def __enter__(self):
        self._prev = state.grad_enabled
        state.grad_enabled = True


class _Switch(_GradModeContext):
    """A per-thread switch (the ``state`` field ``_field``) set when it is made, so that it
    works as a plain call, as a context manager (restored on exit), and as a decorator, which
    switches only inside the calls."""

    _field = ""

    def __init__(self, mode: bool):
        self._args = (mode,)
        self._prev = getattr(state, self._field)
        setattr(state, self._field, bool(mode))

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        setattr(state, self._field, self._prev)
        return False

    def __call__(self, fn):
        setattr(state, self._field, self._prev)  # decorating switches nothing by itself
        return super().__call__(fn)


class set_grad_enabled(_Switch):
    """Turn recording on or off; a function call, a context manager or a decorator.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.ones(2, requires_grad=True)
    >>> with flambeau.set_grad_enabled(False):
    ...     (x * 2).requires_grad
    False
    """

    _field = "grad_enabled"


class inference_mode(_GradModeContext):
    """Like :class:`no_grad`, for code that only runs models forward.

    Tensors created inside are *inference tensors* (``is_inference()`` is True): they can't
    be saved for backward or updated in place outside inference mode.
    ``inference_mode(False)`` turns it off inside an enclosing block and enables gradients.

    Examples
    --------
    >>> import flambeau
    >>> with flambeau.inference_mode():
    ...     y = flambeau.ones(2, requires_grad=True).mul(2)
    >>> y.requires_grad, y.is_inference()
    (False, True)
    >>> with flambeau.inference_mode():
    ...     with flambeau.inference_mode(False):
    ...         flambeau.ones(1).is_inference(), flambeau.is_grad_enabled()
    (False, True)
    """

    def __init__(self, mode: bool = True):
        self._args = (mode,)
        self._mode = mode

    def __enter__(self):
        self._prev = state.grad_enabled
        self._prev_inf = state.inference
        mode = bool(self._mode)
        state.grad_enabled = not mode
        state.inference = mode

    def __exit__(self, *exc):
        state.inference = self._prev_inf
        return super().__exit__(*exc)


class set_multithreading_enabled(_Switch):
    """Say whether backward may run on worker threads (PyTorch's per-thread switch); a function
    call, a context manager or a decorator.

    flambeau's backward always runs in the calling thread, so the switch changes nothing but
    :func:`is_multithreading_enabled`: code written for PyTorch that turns it off (to keep
    backward on the caller's thread) works unchanged.

    Examples
    --------
    >>> import flambeau
    >>> with flambeau.autograd.set_multithreading_enabled(False):
    ...     flambeau.autograd.is_multithreading_enabled()
    False
    >>> flambeau.autograd.is_multithreading_enabled()
    True
    """

    _field = "multithreading"


def is_multithreading_enabled() -> bool:
    """Whether :class:`set_multithreading_enabled` is on in this thread (it is by default).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.autograd.is_multithreading_enabled()
    True
    """
    return state.multithreading
