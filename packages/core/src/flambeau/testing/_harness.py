"""Run :class:`~flambeau.testing._cases.OpCase` s: forward values, gradients, torch parity.

``check_case`` is the one entry point tests and backend authors need; it is made of
``check_forward`` (values, dtype and shape against torch or the NumPy reference),
``check_gradients`` (``gradcheck`` and ``gradgradcheck`` in float64) and ``check_parity``
(gradients against torch's).
"""

from __future__ import annotations

import functools

import numpy as np

from flambeau.testing._cases import OpCase, _NoGrad

__all__ = [
    "check_case", "check_forward", "check_gradients", "check_parity", "available_devices",
    "device_params", "torch_or_none", "assert_close", "case_params", "case_dtype_params",
    "op_tests",
]


def torch_or_none():
    """The ``torch`` module if importable, else None.

    Examples
    --------
    >>> from flambeau.testing._harness import torch_or_none
    >>> torch_or_none() is None or hasattr(torch_or_none(), "tensor")
    True
    """
    try:
        import torch
    except ImportError:
        return None
    return torch


def available_devices():
    """The device names to run cases on: ``"cpu"``, plus ``"cuda"`` when a GPU backend works.

    Examples
    --------
    >>> from flambeau.testing._harness import available_devices
    >>> available_devices()[0]
    'cpu'
    """
    import flambeau
    from flambeau.testing._device_plugin import requested_device, unavailable_reason

    devices = ["cpu"]
    try:
        if flambeau.cuda.is_available():
            devices.append("cuda")
    except Exception:  # noqa: BLE001 - a broken GPU plugin means "no GPU" for op tests
        pass
    extra = (requested_device() or "cpu").partition(":")[0]
    if extra not in devices and unavailable_reason(extra) is None:
        devices.append(extra)
    return devices


def device_params():
    """pytest parameters ``cpu`` and ``cuda``; the CUDA one skips cleanly without a GPU.

    A device type named by ``FLAMBEAU_TEST_DEVICE`` (a third-party backend's, say) is added.

    Examples
    --------
    >>> from flambeau.testing._harness import device_params
    >>> [p.values[0] for p in device_params()][:2]
    ['cpu', 'cuda']
    """
    import pytest

    from flambeau.testing._device_plugin import requested_device

    names = ["cpu", "cuda"]
    extra = (requested_device() or "cpu").partition(":")[0]
    if extra not in names:
        names.append(extra)
    have = available_devices()
    return [pytest.param(d, id=d, marks=pytest.mark.skipif(d not in have, reason=f"no {d}"))
            for d in names]


def case_params(cases, differentiable_only=False):
    """pytest parameters, one per case, with the case's name as id.

    Examples
    --------
    >>> from flambeau.testing._cases import ELEMENTWISE_CASES
    >>> from flambeau.testing._harness import case_params
    >>> case_params(ELEMENTWISE_CASES)[0].id
    'neg'
    """
    import pytest

    return [pytest.param(c, id=c.name) for c in cases
            if c.differentiable or not differentiable_only]


def case_dtype_params(cases):
    """pytest parameters ``(case, dtype)`` for every dtype of every case.

    Examples
    --------
    >>> from flambeau.testing._cases import ELEMENTWISE_CASES
    >>> from flambeau.testing._harness import case_dtype_params
    >>> case_dtype_params(ELEMENTWISE_CASES)[0].id
    'neg-float64'
    """
    import pytest

    return [pytest.param(c, dt, id=f"{c.name}-{dt}") for c in cases for dt in c.dtypes]


# ------------------------------------------------------------------ building arguments


def _is_float_array(a):
    return a.dtype.kind == "f" or a.dtype.name == "bfloat16"


def _build(value, make, leaves):
    """Turn the arrays inside ``value`` into tensors with ``make(array, grad)``."""
    if isinstance(value, _NoGrad):
        return make(value.array, False)
    if isinstance(value, np.ndarray):
        t = make(value, _is_float_array(value))
        if getattr(t, "requires_grad", False):
            leaves.append(t)
        return t
    if isinstance(value, (list, tuple)) and any(
            isinstance(v, (np.ndarray, _NoGrad, list, tuple)) for v in value):
        return type(value)(_build(v, make, leaves) for v in value)
    return value


def _flambeau_args(sample, device, grad):
    import flambeau

    def make(arr, wants_grad):
        t = flambeau.tensor(arr, device=device)
        return t.requires_grad_() if grad and wants_grad else t

    leaves = []
    args = _build(sample.args, make, leaves)
    kwargs = {k: _build(v, make, leaves) for k, v in sample.kwargs.items()}
    return args, kwargs, leaves


def _torch_args(sample, grad):
    import torch

    def make(arr, wants_grad):
        if arr.dtype.name == "bfloat16":
            t = torch.from_numpy(arr.astype(np.float32)).to(torch.bfloat16)
        else:
            t = torch.from_numpy(np.array(arr, copy=True))
        return t.requires_grad_() if grad and wants_grad else t

    leaves = []
    args = _build(sample.args, make, leaves)
    kwargs = {k: _build(v, make, leaves) for k, v in sample.kwargs.items()}
    return args, kwargs, leaves


def _numpy_args(sample):
    def plain(v):
        if isinstance(v, _NoGrad):
            return v.array
        if isinstance(v, (list, tuple)) and any(isinstance(x, (_NoGrad, list, tuple)) for x in v):
            return type(v)(plain(x) for x in v)
        return v

    return plain(sample.args), {k: plain(v) for k, v in sample.kwargs.items()}


def _flatten(out):
    """The leaves of an op's result (tensors and plain values) in order."""
    if isinstance(out, (tuple, list)):
        return [leaf for item in out for leaf in _flatten(item)]
    return [out]


# ------------------------------------------------------------------ comparisons


def _to_numpy(x):
    """Host float64/int/bool array of a flambeau tensor, a torch tensor or an array."""
    if hasattr(x, "_host"):
        arr = x._host()
    elif hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu()
        arr = (x.float() if str(x.dtype) == "torch.bfloat16" else x).numpy(force=True)
    else:
        arr = np.asarray(x)
    if arr.dtype.name in ("bfloat16", "float16"):
        arr = arr.astype(np.float32)
    return arr


def assert_close(actual, expected, atol, rtol, what):
    """Assert two arrays (or tensors) have the same shape and close values (NaNs equal).

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.testing._harness import assert_close
    >>> assert_close(np.ones(2), np.ones(2) + 1e-12, 1e-9, 0, "ones")
    """
    a, e = _to_numpy(actual), _to_numpy(expected)
    if a.shape != e.shape:
        raise AssertionError(f"{what}: shape {a.shape} != expected {e.shape}")
    if a.dtype.kind == "b" or e.dtype.kind == "b":
        ok = np.array_equal(a.astype(bool), e.astype(bool))
    else:
        ok = np.allclose(a.astype(np.float64), e.astype(np.float64), atol=atol, rtol=rtol,
                         equal_nan=True)
    if not ok:
        with np.errstate(invalid="ignore"):
            diff = np.nanmax(np.abs(a.astype(np.float64) - e.astype(np.float64))) \
                if a.size else 0.0
        raise AssertionError(f"{what}: values differ (max abs diff {diff:.3g}, atol {atol}, "
                             f"rtol {rtol})\nactual:\n{a}\nexpected:\n{e}")


def _torch_dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def _compare_outputs(case, sample, got, expected, dtypes_too):
    got_leaves, exp_leaves = _flatten(got), _flatten(expected)
    where = f"{case.name} {sample!r}"
    if len(got_leaves) != len(exp_leaves):
        raise AssertionError(f"{where}: {len(got_leaves)} outputs, expected {len(exp_leaves)}")
    for i, (g, e) in enumerate(zip(got_leaves, exp_leaves)):
        if not hasattr(g, "_data"):
            if hasattr(e, "shape") or hasattr(e, "dtype"):
                raise AssertionError(f"{where}: output {i} is {type(g).__name__}, expected an "
                                     "array")
            if g != e:
                raise AssertionError(f"{where}: output {i} is {g!r}, expected {e!r}")
            continue
        if dtypes_too and case.check_dtype and hasattr(e, "requires_grad"):
            if g.dtype.name != _torch_dtype_name(e):
                raise AssertionError(f"{where}: output {i} has dtype {g.dtype}, torch gives "
                                     f"{e.dtype}")
        if hasattr(e, "shape") and tuple(g.shape) != tuple(e.shape):
            raise AssertionError(f"{where}: output {i} has shape {tuple(g.shape)}, expected "
                                 f"{tuple(e.shape)}")
        tol = case.tolerance(g.dtype.name) if g.dtype.is_floating_point else (0, 0)
        assert_close(g, e, *tol, f"{where} output {i}")


def _reference(case, sample, use_torch):
    """The expected outputs, from torch or from the NumPy reference (None if neither)."""
    if use_torch and case.torch_fn is not None:
        args, kwargs, _ = _torch_args(sample, grad=False)
        return case.torch_fn(*args, **kwargs), True
    if case.numpy_ref is not None:
        args, kwargs = _numpy_args(sample)
        return case.numpy_ref(*args, **kwargs), False
    return None, False


def _on_case_device(check):
    """Run ``check(case, device, ...)`` with ``device`` as the default device, so that the
    tensors a case makes for itself (``flambeau.eye(n)``...) live beside its inputs."""

    @functools.wraps(check)
    def run(case, device="cpu", *args, **kwargs):
        import flambeau

        with flambeau.device(device):
            return check(case, device, *args, **kwargs)

    return run


@_on_case_device
def check_forward(case: OpCase, device="cpu", dtype="float32", *, reference="auto"):
    """Check forward values (and dtype and shape, against torch) on every sample.

    ``reference`` is ``"torch"``, ``"numpy"`` or ``"auto"`` (torch when importable). Returns
    the number of samples compared.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.testing._cases import OpCase, both
    >>> from flambeau.testing._harness import check_forward
    >>> case = OpCase("exp", *both(lambda lib, x: lib.exp(x)),
    ...               inputs=lambda rng, dt: [(rng.standard_normal(3).astype(dt),)],
    ...               numpy_ref=np.exp)
    >>> check_forward(case, dtype="float64", reference="numpy")
    1
    """
    use_torch = reference == "torch" or (reference == "auto" and torch_or_none() is not None)
    if use_torch and torch_or_none() is None:
        raise RuntimeError("check_forward: reference='torch' but torch is not importable")
    compared = 0
    for sample in case.samples(dtype):
        expected, from_torch = _reference(case, sample, use_torch)
        if expected is None:
            continue
        args, kwargs, _ = _flambeau_args(sample, device, grad=False)
        got = case.fn(*args, **kwargs)
        _compare_outputs(case, sample, got, expected, from_torch)
        compared += 1
    return compared


def _float_outputs(out):
    return [o for o in _flatten(out) if hasattr(o, "requires_grad") and o.requires_grad]


@_on_case_device
def check_gradients(case: OpCase, device="cpu", *, gradgrad=None):
    """``gradcheck`` (and ``gradgradcheck`` unless the case skips it) in float64.

    Returns the number of samples checked.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.testing._cases import OpCase, both
    >>> from flambeau.testing._harness import check_gradients
    >>> case = OpCase("tanh", *both(lambda lib, x: lib.tanh(x)),
    ...               inputs=lambda rng, dt: [(rng.standard_normal(2).astype(dt),)])
    >>> check_gradients(case)
    1
    """
    from flambeau.autograd import gradcheck

    if not case.differentiable:
        return 0
    gradgrad = not case.skip_gradgrad if gradgrad is None else gradgrad
    checked = 0
    for sample in case.samples("float64"):
        args, kwargs, leaves = _flambeau_args(sample, device, grad=True)
        if not leaves:
            continue
        fn = _over_leaves(case.fn, args, kwargs, leaves)
        try:
            gradcheck(fn, tuple(leaves), eps=1e-6, atol=1e-5, rtol=1e-3)
            if gradgrad:
                _gradgradcheck(fn, leaves)
        except Exception as exc:
            raise AssertionError(f"{case.name} {sample!r}: {exc}") from exc
        checked += 1
    return checked


def _over_leaves(fn, args, kwargs, leaves):
    """``fn`` as a function of the leaf tensors only (nested lists of tensors are rebuilt)."""
    ids = {id(t): i for i, t in enumerate(leaves)}

    def swap(value, new):
        if id(value) in ids:
            return new[ids[id(value)]]
        if isinstance(value, (list, tuple)) and any(id(v) in ids or isinstance(v, (list, tuple))
                                                    for v in value):
            return type(value)(swap(v, new) for v in value)
        return value

    def call(*new):
        out = fn(*swap(args, new), **{k: swap(v, new) for k, v in kwargs.items()})
        return tuple(o for o in _flatten(out) if hasattr(o, "dtype") and o.is_floating_point())

    return call


def _gradgradcheck(fn, leaves):
    """gradcheck of ``(inputs, v) -> d(fn(inputs) . v)/d(inputs)``, recorded even when the
    finite-difference pass runs under no_grad (so the inner gradient always has a graph)."""
    import flambeau
    from flambeau.autograd import grad, gradcheck

    with flambeau.no_grad():
        outs = fn(*leaves)
    rng = np.random.default_rng(7)
    vs = [flambeau.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype, device=o.device,
                          requires_grad=True) for o in outs]
    n = len(leaves)

    def first_grad(*args):
        with flambeau.enable_grad():
            outs = fn(*args[:n])
            used = [(o, v) for o, v in zip(outs, args[n:]) if o.requires_grad]
            gs = grad([o for o, _ in used], list(args[:n]), [v for _, v in used],
                      create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None and g.requires_grad)

    gradcheck(first_grad, tuple(leaves) + tuple(vs), eps=1e-6, atol=1e-5, rtol=1e-3)


@_on_case_device
def check_parity(case: OpCase, device="cpu", dtype="float64"):
    """Forward values and the gradients of every float input against torch's.

    The output gradients are the same random values on both sides. Returns the number of
    samples compared.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.testing._cases import OpCase, both
    >>> from flambeau.testing._harness import check_parity, torch_or_none
    >>> case = OpCase("sigmoid", *both(lambda lib, x: lib.sigmoid(x)),
    ...               inputs=lambda rng, dt: [(rng.standard_normal(3).astype(dt),)])
    >>> torch_or_none() is None or check_parity(case) == 1
    True
    """
    import torch

    import flambeau

    if case.torch_fn is None:
        return 0
    check_forward(case, device, dtype, reference="torch")
    if not case.differentiable:
        return 0
    atol, rtol = case.tolerance(dtype)
    compared = 0
    for k, sample in enumerate(case.samples(dtype)):
        f_args, f_kwargs, f_leaves = _flambeau_args(sample, device, grad=True)
        t_args, t_kwargs, t_leaves = _torch_args(sample, grad=True)
        if not f_leaves:
            continue
        f_outs = _float_outputs(case.fn(*f_args, **f_kwargs))
        t_outs = _float_outputs(case.torch_fn(*t_args, **t_kwargs))
        if not t_outs:
            continue
        rng = np.random.default_rng(1000 + k)
        seeds = [rng.standard_normal(tuple(o.shape)).astype(_to_numpy(o).dtype)
                 for o in t_outs]
        f_grads = flambeau.autograd.grad(
            f_outs, f_leaves, [flambeau.tensor(s, device=device).to(o.dtype)
                               for s, o in zip(seeds, f_outs)], allow_unused=True)
        try:
            t_grads = torch.autograd.grad(
                t_outs, t_leaves, [torch.from_numpy(s).to(o.dtype)
                                   for s, o in zip(seeds, t_outs)], allow_unused=True)
        except (RuntimeError, NotImplementedError) as exc:
            if "not implemented" in str(exc):
                continue  # an older torch without this derivative; gradcheck covers ours
            raise
        for i, (fg, tg, leaf) in enumerate(zip(f_grads, t_grads, t_leaves)):
            fg = np.zeros(tuple(leaf.shape)) if fg is None else fg
            tg = np.zeros(tuple(leaf.shape)) if tg is None else tg
            assert_close(fg, tg, atol * 10, rtol * 10, f"{case.name} {sample!r} grad of input {i}")
        compared += 1
    return compared


def check_case(case: OpCase, device="cpu", dtype=None):
    """Every check that applies: forward (all dtypes), gradients, torch parity if importable.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.testing._cases import OpCase, both
    >>> from flambeau.testing._harness import check_case
    >>> case = OpCase("square", *both(lambda lib, x: lib.square(x)),
    ...               inputs=lambda rng, dt: [(rng.standard_normal(2).astype(dt),)],
    ...               numpy_ref=np.square)
    >>> check_case(case)
    """
    dtypes = case.dtypes if dtype is None else (dtype,)
    have_torch = torch_or_none() is not None
    for dt in dtypes:
        if have_torch:
            check_parity(case, device, dt)
        else:
            check_forward(case, device, dt, reference="numpy")
    check_gradients(case, device)



def op_tests(cases):
    """The three parametrized pytest functions every op test module runs over ``cases``.

    ``test_gradcheck`` (float64 gradcheck and gradgradcheck), ``test_numpy_reference``
    (forward values where a NumPy reference exists) and ``test_parity`` (values, dtypes and
    gradients against torch, marked ``parity``, skipped without torch); each on every device.

    Examples
    --------
    >>> from flambeau.testing._cases import LINALG_CASES
    >>> from flambeau.testing._harness import op_tests
    >>> [f.__name__ for f in op_tests(LINALG_CASES)]
    ['test_gradcheck', 'test_numpy_reference', 'test_parity']
    """
    import pytest

    devices = pytest.mark.parametrize("device", device_params())

    @devices
    @pytest.mark.parametrize("case", case_params(cases, differentiable_only=True))
    def test_gradcheck(case, device):
        assert check_gradients(case, device) > 0

    @devices
    @pytest.mark.parametrize("case", case_params([c for c in cases if c.numpy_ref]))
    def test_numpy_reference(case, device):
        for dt in case.dtypes:
            assert check_forward(case, device, dt, reference="numpy") > 0

    @pytest.mark.parity
    @devices
    @pytest.mark.parametrize(("case", "dtype"), case_dtype_params(cases))
    def test_parity(case, dtype, device):
        pytest.importorskip("torch")
        check_parity(case, device, dtype)

    return test_gradcheck, test_numpy_reference, test_parity
