"""The backend conformance suite: what every backend must do, checked against the CPU.

A backend author runs :func:`run_conformance` (or parametrizes pytest over
:func:`conformance_checks`) with a device of their type; each check builds the same
computation on that device and on the CPU and compares values, dtypes, gradients and errors.
"""

from __future__ import annotations

import numpy as np

import flambeau

__all__ = ["assert_close", "conformance_checks", "run_conformance"]


#: torch.testing's default (rtol, atol) per dtype; a complex dtype takes its parts' tolerances
_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5),
               "complex128": (1e-7, 1e-7)}
#: the dtype a Python number compares as (torch.testing compares a Python float as float64)
_NUMBER_DTYPES = ((bool, flambeau.bool), (int, flambeau.int64), (float, flambeau.float64),
                  (complex, flambeau.complex128))


def _as_tensor(value, like=None, check_dtype=True):
    if isinstance(value, flambeau.Tensor):
        return value
    for kind, dt in _NUMBER_DTYPES:
        if type(value) is kind:
            return flambeau.tensor(value, dtype=dt, device="cpu")
    arr = np.asarray(value)
    if like is not None and not check_dtype:
        return flambeau.as_tensor(arr, dtype=like.dtype)
    return flambeau.as_tensor(arr)


def assert_close(actual, expected, *, rtol=None, atol=None, equal_nan=False, check_dtype=True,
                 msg=None):
    """Assert two tensors (or a tensor and an array-like or number) are equal within
    tolerances, as ``torch.testing.assert_close``: ``|actual - expected| <= atol + rtol *
    |expected|`` elementwise, where ``|.|`` is the modulus for complex values (not each part
    apart). Equal infinities are close; NaNs only with ``equal_nan`` (a complex value is NaN
    when either part is).

    Default tolerances depend on the dtype (as torch's): float16 1e-3, bfloat16 1.6e-2,
    float32 and complex64 1.3e-6, float64 and complex128 1e-7 relative; 0 (exact) for bool and
    integer dtypes. With ``check_dtype=False`` and two dtypes, the looser tolerances apply.
    A Python number compares as float64 / complex128 / int64 / bool.

    Raises
    ------
    AssertionError
        If shapes or (with ``check_dtype``) dtypes differ, or values are not close.
    ValueError
        If only one of ``rtol`` and ``atol`` is given.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.testing import assert_close
    >>> assert_close(flambeau.tensor([1.0, 2.0]), flambeau.tensor([1.0, 2.0 + 1e-9]))
    >>> assert_close(flambeau.tensor([1 + 1j]), flambeau.tensor([1 + 1.000001j]))
    >>> assert_close(flambeau.tensor([1 + 1j]), flambeau.tensor([1 + 1.1j]))
    Traceback (most recent call last):
    ...
    AssertionError: tensors are not close: 1 of 1 elements differ, greatest absolute ...
    """
    if (rtol is None) != (atol is None):
        raise ValueError(f"assert_close: both 'rtol' and 'atol' must be either specified or "
                         f"omitted, but got {'no rtol' if rtol is None else 'no atol'}")
    a = _as_tensor(actual)
    e = _as_tensor(expected, a, check_dtype)
    if tuple(a.shape) != tuple(e.shape):
        raise AssertionError(msg or f"shapes differ: {tuple(a.shape)} vs {tuple(e.shape)}")
    if check_dtype and a.dtype is not e.dtype:
        raise AssertionError(msg or f"dtypes differ: {a.dtype} vs {e.dtype}")
    if rtol is None:
        pairs = [_TOLERANCES.get(d.name, (0.0, 0.0)) for d in (a.dtype, e.dtype)]
        rtol, atol = max(p[0] for p in pairs), max(p[1] for p in pairs)
    ha, he = (_host_values(t) for t in (a, e))
    if ha.dtype.kind == "b" and he.dtype.kind == "b":
        close = ha == he
    else:
        close = _isclose(ha, he, rtol, atol, equal_nan)
    if not close.all():
        with np.errstate(invalid="ignore", over="ignore"):
            diff = np.abs(_numeric(ha) - _numeric(he))
        # the worst mismatch: NaN counts as the greatest difference
        worst_of = np.where(close, -1.0, np.nan_to_num(diff.astype(np.float64), nan=np.inf))
        worst = tuple(int(i) for i in np.unravel_index(np.argmax(worst_of), close.shape))
        raise AssertionError(
            msg or f"tensors are not close: {int((~close).sum())} of {close.size} elements "
            f"differ, greatest absolute difference {float(diff[worst]):.3g} at index "
            f"{worst} (rtol={rtol:g}, atol={atol:g})\nactual: {a.detach().cpu()._data}\n"
            f"expected: {e.detach().cpu()._data}"
        )


def _numeric(h):
    return h.astype(np.int64) if h.dtype.kind == "b" else h


def _host_values(t):
    """``t``'s values on the host, widened for comparing: float64, complex128, int64 or bool."""
    h = t.detach().cpu()._data
    if h.dtype.kind == "c":
        return h.astype(np.complex128)
    if h.dtype.kind == "b":
        return h
    if h.dtype.kind in "iu":
        return h.astype(np.int64)
    return h.astype(np.float64)


def _isclose(a, e, rtol, atol, equal_nan):
    """torch.isclose: equal values (infinities included) are close; otherwise finite values
    within ``atol + rtol * |e|``, the modulus for complex values; NaNs per ``equal_nan``."""
    with np.errstate(invalid="ignore", over="ignore"):
        close = a == e
        finite = np.isfinite(a) & np.isfinite(e)
        close |= finite & (np.abs(a - e) <= atol + rtol * np.abs(e))
        if equal_nan:
            close |= np.isnan(a) & np.isnan(e)
    return np.asarray(close)


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


def _check_complex(device):
    """complex64/complex128: creation, transfer, elementwise and shape ops, indexing writes and
    random draws on the device match the CPU."""
    cf, cd = flambeau.complex64, flambeau.complex128
    for make in (lambda d: flambeau.zeros(2, 3, dtype=cf, device=d),
                 lambda d: flambeau.full((2,), 1 - 2j, device=d),
                 lambda d: flambeau.tensor([[1j, 2], [3 - 1j, 0.5]], dtype=cd, device=d),
                 lambda d: flambeau.eye(2, dtype=cf, device=d),
                 lambda d: flambeau.linspace(0, 1 + 2j, 5, device=d)):
        on_dev, on_cpu = _pair(device, make)
        if on_dev.dtype is not on_cpu.dtype:
            raise AssertionError(f"complex creation gave {on_dev.dtype}, the CPU {on_cpu.dtype}")
        assert_close(on_dev.cpu(), on_cpu)
    g = flambeau.Generator().manual_seed(0)
    x = flambeau.randn(3, 4, dtype=cd, generator=g)
    y = flambeau.randn(4, dtype=cd, generator=g)
    xd, yd = x.to(device), y.to(device)
    if xd.dtype is not cd or xd.device.type != device.type:
        raise AssertionError(f".to({device}) of a complex128 tensor gave {xd.dtype} on "
                             f"{xd.device}")
    assert_close(xd.cpu(), x)
    assert_close(xd.to(cf).cpu(), x.to(cf))
    for op in (lambda a, b: a + b, lambda a, b: a * b - 2j, lambda a, b: a.conj(),
               lambda a, b: a.abs(), lambda a, b: flambeau.view_as_real(a),
               lambda a, b: a.real * b.imag, lambda a, b: a.t().contiguous()[::2],
               lambda a, b: flambeau.cat([a, b[None]]), lambda a, b: a.flip(1),
               lambda a, b: a[flambeau.tensor([2, 0]).to(a.device)]):
        assert_close(op(xd, yd).cpu(), op(x, y))
    xd[0, 1] = 5j
    if xd[0, 1].item() != 5j:
        raise AssertionError("__setitem__ of a complex value did not write it")
    gen = flambeau.Generator(device)
    draws = []
    for _ in range(2):
        gen.manual_seed(7)
        draws.append(flambeau.randn(64, dtype=cf, generator=gen, device=device))
    assert_close(draws[0].cpu(), draws[1].cpu())
    if draws[0].dtype is not cf or not bool((draws[0].imag != 0).any()):
        raise AssertionError("randn(dtype=complex64) drew no imaginary parts")


def _check_inplace_version(device):
    x = flambeau.zeros(3, device=device)
    v = x._version_counter.value
    x.add_(1)
    if x._version_counter.value == v:
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
    ("random", _check_random), ("complex", _check_complex),
    ("inplace_version", _check_inplace_version),
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
