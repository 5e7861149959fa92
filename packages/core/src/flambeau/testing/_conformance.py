"""The backend conformance suite: what every backend must do, checked against the CPU.

A backend author runs :func:`run_conformance` (or parametrizes pytest over
:func:`conformance_checks`) with a device of their type; each check builds the same
computation on that device and on the CPU and compares values, dtypes, gradients and errors.
"""

from __future__ import annotations

import numpy as np

import flambeau

__all__ = ["assert_close", "conformance_checks", "run_conformance"]


def assert_close(actual, expected, *, rtol=None, atol=None, check_dtype=True, msg=None):
    """Assert two tensors (or a tensor and an array-like) are equal within tolerances.

    Default tolerances depend on the dtype (as ``torch.testing.assert_close``): float16 1e-3,
    bfloat16 1.6e-2, float32 1.3e-6, float64 1e-7 relative.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.testing import assert_close
    >>> assert_close(flambeau.tensor([1.0, 2.0]), flambeau.tensor([1.0, 2.0 + 1e-9]))
    """
    a = actual if isinstance(actual, flambeau.Tensor) else flambeau.as_tensor(actual)
    e = expected if isinstance(expected, flambeau.Tensor) else flambeau.as_tensor(
        np.asarray(expected), dtype=a.dtype if not check_dtype else None)
    if tuple(a.shape) != tuple(e.shape):
        raise AssertionError(msg or f"shapes differ: {tuple(a.shape)} vs {tuple(e.shape)}")
    if check_dtype and a.dtype is not e.dtype:
        raise AssertionError(msg or f"dtypes differ: {a.dtype} vs {e.dtype}")
    default = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7)}.get(a.dtype.name, (0.0, 0.0))
    rtol = default[0] if rtol is None else rtol
    atol = default[1] if atol is None else atol
    ha = a.detach().cpu()._data.astype(np.float64) if a.dtype.is_floating_point else \
        a.detach().cpu()._data
    he = e.detach().cpu()._data.astype(np.float64) if e.dtype.is_floating_point else \
        e.detach().cpu()._data
    if not np.allclose(ha, he, rtol=rtol, atol=atol, equal_nan=True):
        diff = np.abs(ha.astype(np.float64) - he.astype(np.float64))
        raise AssertionError(
            msg or f"tensors are not close: max abs difference {diff.max():.3g} (rtol={rtol}, "
            f"atol={atol})\nactual: {ha}\nexpected: {he}"
        )


def _pair(device, fn):
    """Run ``fn(device)`` on the device and on the CPU."""
    return fn(flambeau.device(device)), fn(flambeau.device("cpu"))


def _check_creation(device):
    for make in (lambda d: flambeau.zeros(2, 3, device=d), lambda d: flambeau.ones(4, device=d),
                 lambda d: flambeau.arange(5, device=d), lambda d: flambeau.full((2,), 7.5,
                                                                                 device=d),
                 lambda d: flambeau.eye(3, device=d),
                 lambda d: flambeau.tensor([[1, 2], [3, 4]], device=d),
                 lambda d: flambeau.linspace(0, 1, 5, device=d)):
        on_dev, on_cpu = _pair(device, make)
        if on_dev.device != flambeau.device(device) and on_dev.device.type != device.type:
            raise AssertionError(f"created on {on_dev.device}, expected {device}")
        assert_close(on_dev, on_cpu)


def _check_transfer(device):
    host = flambeau.randn(3, 4, dtype=flambeau.float64)
    there = host.to(device)
    if there.device.type != device.type:
        raise AssertionError(f".to({device}) gave a tensor on {there.device}")
    assert_close(there.cpu(), host)
    assert_close(there.to(flambeau.float32).cpu(), host.float())


def _check_elementwise(device):
    a = flambeau.randn(3, 1, dtype=flambeau.float64)
    b = flambeau.randn(1, 4, dtype=flambeau.float64)
    for op in (lambda x, y: x + y, lambda x, y: x * y - y, lambda x, y: x / (y.abs() + 1),
               lambda x, y: (x.exp() + y.tanh().abs()).sqrt(), lambda x, y: flambeau.maximum(x, y),
               lambda x, y: flambeau.where(x > y, x, y), lambda x, y: x ** 2 + 3.0):
        assert_close(op(a.to(device), b.to(device)).cpu(), op(a, b))


def _check_reductions(device):
    x = flambeau.randn(4, 5, dtype=flambeau.float64)
    xd = x.to(device)
    for op in (lambda t: t.sum(), lambda t: t.mean(1), lambda t: t.max(0).values,
               lambda t: t.argmax(1), lambda t: t.var(0), lambda t: t.softmax(1),
               lambda t: t.logsumexp(1), lambda t: t.cumsum(0)):
        assert_close(op(xd).cpu(), op(x))


def _check_matmul(device):
    a = flambeau.randn(2, 3, 4, dtype=flambeau.float64)
    b = flambeau.randn(4, 5, dtype=flambeau.float64)
    assert_close((a.to(device) @ b.to(device)).cpu(), a @ b)


def _check_indexing(device):
    x = flambeau.arange(12, dtype=flambeau.float32).reshape(3, 4)
    xd = x.to(device)
    assert_close(xd[1:, ::2].cpu(), x[1:, ::2])
    idx = flambeau.tensor([2, 0])
    assert_close(xd[idx.to(device)].cpu(), x[idx])
    xd[0, 0] = 100.0
    if xd[0, 0].item() != 100.0:
        raise AssertionError("__setitem__ did not write the value")


def _check_autograd(device):
    def grads(dev):
        w = flambeau.randn(3, 2, dtype=flambeau.float64, generator=flambeau.Generator()
                           .manual_seed(0)).to(dev).requires_grad_()
        x = flambeau.ones(4, 3, dtype=flambeau.float64, device=dev)
        loss = (x @ w).tanh().pow(2).mean()
        loss.backward()
        return w.grad

    on_dev, on_cpu = _pair(device, grads)
    assert_close(on_dev.cpu(), on_cpu)


def _check_random(device):
    g = flambeau.Generator(device)
    g.manual_seed(123)
    a = flambeau.rand(5, generator=g, device=device)
    g.manual_seed(123)
    b = flambeau.rand(5, generator=g, device=device)
    assert_close(a.cpu(), b.cpu())
    if not bool(((a >= 0) & (a < 1)).all()):
        raise AssertionError("rand() drew values outside [0, 1)")


def _check_inplace_version(device):
    x = flambeau.zeros(3, device=device)
    v = x._version.value
    x.add_(1)
    if x._version.value == v:
        raise AssertionError("in-place add_ did not bump the version counter")
    assert_close(x.cpu(), flambeau.ones(3))


def _check_mixed_device_error(device):
    if device.type == "cpu":
        return
    try:
        flambeau.ones(2, device=device) + flambeau.ones(2, device="cpu")
    except RuntimeError as exc:
        if str(device) not in str(exc) or "cpu" not in str(exc):
            raise AssertionError(f"mixed-device error does not name both devices: {exc}") from None
    else:
        raise AssertionError("adding a tensor on another device to a CPU tensor did not raise")


def _check_synchronize(device):
    device.backend.synchronize(device.index)


_CHECKS = [
    ("creation", _check_creation), ("transfer", _check_transfer),
    ("elementwise", _check_elementwise), ("reductions", _check_reductions),
    ("matmul", _check_matmul), ("indexing", _check_indexing), ("autograd", _check_autograd),
    ("random", _check_random), ("inplace_version", _check_inplace_version),
    ("mixed_device_error", _check_mixed_device_error), ("synchronize", _check_synchronize),
]


def conformance_checks():
    """The checks as ``(name, check(device))`` pairs, for parametrizing a test suite.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.testing import conformance_checks
    >>> dict(conformance_checks())["matmul"](flambeau.device("cpu"))
    """
    return list(_CHECKS)


def run_conformance(device) -> list:
    """Run every check on ``device``; returns the failures as ``(name, message)`` pairs.

    Examples
    --------
    >>> from flambeau.testing import run_conformance
    >>> run_conformance("cpu")
    []
    """
    dev = flambeau.device(device)
    failures = []
    for name, check in _CHECKS:
        try:
            check(dev)
        except Exception as exc:  # report every failing check, not only the first
            failures.append((name, f"{type(exc).__name__}: {exc}"))
    return failures
