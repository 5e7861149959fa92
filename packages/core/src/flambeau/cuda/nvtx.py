"""``flambeau.cuda.nvtx``: NVTX annotations that Nsight Systems shows on its timeline.

The calls go to CuPy's ``cupy.cuda.nvtx`` through the flambeau-cuda plugin; they need CuPy
with NVTX, not a GPU (without a profiler attached they cost next to nothing). Where NVTX is
missing (no plugin, no CuPy) they raise a RuntimeError, as torch's do in a build without CUDA.

Examples
--------
>>> import flambeau
>>> with flambeau.cuda.nvtx.range("step {}", 3):  # doctest: +SKIP
...     y = flambeau.ones(2, device="cuda") * 2
"""

from __future__ import annotations

import contextlib
import threading

__all__ = ["range_push", "range_pop", "mark", "range"]

_depth = threading.local()  # NVTX ranges nest per thread


def _nvtx(name: str):
    from flambeau.cuda._runtime import _cuda_backend

    b = _cuda_backend()
    module = b.cuda_module().nvtx() if b is not None and hasattr(b, "cuda_module") else None
    if module is None:
        reason = ("CuPy with NVTX" if b is not None else
                  "the CUDA backend: pip install flambeau-cuda[cuda12]")
        raise RuntimeError(f"flambeau.cuda.nvtx.{name} needs {reason}")
    return module


def range_push(msg: str) -> int:
    """Open a nested range named ``msg``; returns its zero-based depth.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.nvtx.range_push("forward")  # doctest: +SKIP
    0
    >>> flambeau.cuda.nvtx.range_pop()  # doctest: +SKIP
    0
    """
    _nvtx("range_push").RangePush(str(msg))
    depth = getattr(_depth, "n", 0)
    _depth.n = depth + 1
    return depth


def range_pop() -> int:
    """Close the innermost open range of this thread; returns its depth (-1 when none
    was open, as NVTX answers).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.nvtx.range_push("a"); flambeau.cuda.nvtx.range_pop()  # doctest: +SKIP
    0
    0
    """
    module = _nvtx("range_pop")
    depth = getattr(_depth, "n", 0)
    if depth == 0:
        return -1
    module.RangePop()
    _depth.n = depth - 1
    return depth - 1


def mark(msg: str) -> None:
    """An instant event named ``msg``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.nvtx.mark("checkpoint saved")  # doctest: +SKIP
    """
    _nvtx("mark").Mark(str(msg))


@contextlib.contextmanager
def range(msg: str, *args, **kwargs):  # torch's name, shadowing the builtin here
    """Context manager: a range named ``msg.format(*args, **kwargs)`` around its block.

    Examples
    --------
    >>> import flambeau
    >>> with flambeau.cuda.nvtx.range("epoch {}", 1):  # doctest: +SKIP
    ...     pass
    """
    range_push(msg.format(*args, **kwargs))
    try:
        yield
    finally:
        range_pop()
