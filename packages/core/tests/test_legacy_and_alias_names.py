"""Names PyTorch code still uses that are aliases or legacy forms: autograd.Variable and the
grad_mode / anomaly_mode / variable modules, set_multithreading_enabled, Tensor.as_subclass,
cfloat / cdouble, const_data_ptr, to_dense, is_shared, flambeau.GradScaler,
flambeau.OutOfMemoryError and the autocast cache and deprecated autocast queries."""

import threading
import warnings

import numpy as np
import pytest

import flambeau
from flambeau.autograd import Variable
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()


# ------------------------------------------------------------------ Variable


def test_variable_is_a_new_leaf_sharing_storage():
    t = flambeau.tensor([1.0, 2.0])
    v = Variable(t, requires_grad=True)
    assert v is not t and v.requires_grad and not t.requires_grad and v.grad_fn is None
    assert v.data_ptr() == t.data_ptr()
    (v * v).sum().backward()
    assert v.grad.tolist() == [2.0, 4.0]
    y = v * 2  # a non-leaf gives a leaf too
    assert Variable(y).grad_fn is None and not Variable(y).requires_grad
    if torch is not None:
        tv = torch.autograd.Variable(torch.tensor([1.0, 2.0]), requires_grad=True)
        assert (tv.requires_grad, tv.grad_fn) == (v.requires_grad, None)


def test_every_tensor_is_a_variable():
    assert isinstance(flambeau.zeros(1), Variable)
    assert isinstance(flambeau.zeros(1).as_subclass(Tagged), Variable)  # subclasses too
    assert not isinstance([1.0], Variable) and not isinstance(np.zeros(1), Variable)


def test_variable_refuses_what_is_not_a_tensor_and_warns_for_volatile():
    with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
        Variable([1.0, 2.0])
    with pytest.warns(UserWarning, match="volatile was removed"):
        v = Variable(flambeau.ones(1), volatile=True)
    assert not v.requires_grad
    assert Variable().shape == (0,)


def test_the_modules_pytorch_code_imports_from():
    from flambeau.autograd.anomaly_mode import detect_anomaly, set_detect_anomaly
    from flambeau.autograd.grad_mode import (
        enable_grad,
        inference_mode,
        no_grad,
        set_grad_enabled,
        set_multithreading_enabled,
    )
    from flambeau.autograd.variable import Variable as V

    assert (no_grad, enable_grad, set_grad_enabled, inference_mode) == (
        flambeau.no_grad, flambeau.enable_grad, flambeau.set_grad_enabled,
        flambeau.inference_mode)
    assert detect_anomaly is flambeau.autograd.detect_anomaly
    assert set_detect_anomaly is flambeau.autograd.set_detect_anomaly
    assert set_multithreading_enabled is flambeau.autograd.set_multithreading_enabled
    assert V is Variable and flambeau.autograd.variable.Variable is Variable


# ------------------------------------------------------------------ set_multithreading_enabled


def test_set_multithreading_enabled_as_call_context_and_decorator():
    is_on = flambeau.autograd.is_multithreading_enabled
    assert is_on()
    with flambeau.autograd.set_multithreading_enabled(False):
        assert not is_on()
    assert is_on()

    @flambeau.autograd.set_multithreading_enabled(False)
    def inside():
        return is_on()

    assert inside() is False and is_on()
    flambeau.autograd.set_multithreading_enabled(False)  # a plain call switches it
    try:
        assert not is_on()
        seen = []
        worker = threading.Thread(target=lambda: seen.append(is_on()))
        worker.start()
        worker.join()
        assert seen == [True]  # per thread, as in torch
    finally:
        flambeau.autograd.set_multithreading_enabled(True)
    x = flambeau.ones(2, requires_grad=True)
    with flambeau.autograd.set_multithreading_enabled(False):
        (x * 3).sum().backward()  # backward is unaffected
    assert x.grad.tolist() == [3.0, 3.0]


# ------------------------------------------------------------------ Tensor methods


class Tagged(flambeau.Tensor):
    pass


def test_as_subclass_keeps_storage_and_history():
    x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    t = y.as_subclass(Tagged)
    assert type(t) is Tagged and t.requires_grad and t.grad_fn.name() == "AliasBackward0"
    assert t.data_ptr() == y.data_ptr() and t._base is y
    (t * t).sum().backward()
    assert x.grad.tolist() == [8.0, 16.0]
    with flambeau.no_grad():
        y.add_(1)
    assert t.tolist() == [3.0, 5.0]  # the same storage
    plain = flambeau.ones(2).as_subclass(Tagged)
    assert type(plain) is Tagged and plain.grad_fn is None and not plain.requires_grad
    if torch is not None:
        class TorchTagged(torch.Tensor):
            pass

        tx = torch.tensor([1.0, 2.0], requires_grad=True)
        assert (tx * 2).as_subclass(TorchTagged).grad_fn.name() == "AliasBackward0"


def test_as_subclass_refuses_a_class_that_is_not_a_tensor():
    with pytest.raises(TypeError, match="does not inherit from Tensor"):
        flambeau.ones(1).as_subclass(int)
    with pytest.raises(TypeError, match="does not inherit from Tensor"):
        flambeau.ones(1).as_subclass("Tensor")


def test_complex_casts_and_small_queries():
    t = flambeau.tensor([1.0, -2.0])
    assert t.cfloat().dtype is flambeau.complex64 and t.cdouble().dtype is flambeau.complex128
    assert t.cdouble().tolist() == [1 + 0j, -2 + 0j]
    assert t.const_data_ptr() == t.data_ptr()
    assert t[1:].const_data_ptr() == t.data_ptr() + t.element_size()
    assert t.to_dense() is t
    assert t.to_dense(flambeau.float64).dtype is flambeau.float64
    assert t.share_memory_() is t and t.is_shared() is (t.device.type == "cpu")  # host memory
    if torch is not None:
        assert torch.tensor([1.0]).cfloat().dtype is torch.complex64


# ------------------------------------------------------------------ top level


def test_grad_scaler_and_out_of_memory_error_at_the_top_level():
    assert flambeau.GradScaler is flambeau.amp.GradScaler
    assert issubclass(flambeau.OutOfMemoryError, RuntimeError)
    assert flambeau.cuda.OutOfMemoryError is flambeau.OutOfMemoryError
    with pytest.raises(flambeau.cuda.OutOfMemoryError):
        raise flambeau.OutOfMemoryError("out of memory")
    if torch is not None:
        assert issubclass(torch.OutOfMemoryError, RuntimeError)


def test_autocast_cache_switch_and_clear():
    assert flambeau.is_autocast_cache_enabled()
    w = flambeau.ones(2, 2, requires_grad=True)
    with flambeau.autocast(w.device.type):
        assert flambeau.is_autocast_cache_enabled()
        (w @ w).sum()
        cached = len(flambeau.amp._autocast._state.cache)
        flambeau.clear_autocast_cache()
        assert cached > 0 and not flambeau.amp._autocast._state.cache
    with flambeau.autocast("cpu", cache_enabled=False):
        assert not flambeau.is_autocast_cache_enabled()
    assert flambeau.is_autocast_cache_enabled()


@pytest.mark.parametrize("name, expected", [
    ("get_autocast_cpu_dtype", flambeau.bfloat16), ("get_autocast_gpu_dtype", flambeau.float16),
    ("is_autocast_cpu_enabled", False)])
def test_deprecated_autocast_queries_warn_and_answer(name, expected):
    with pytest.warns(DeprecationWarning, match=f"flambeau.{name}\\(\\) is deprecated"):
        assert getattr(flambeau, name)() == expected
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with flambeau.autocast("cpu", dtype=flambeau.float16):
            inside = getattr(flambeau, name)()
        if torch is not None:
            with torch.autocast("cpu", dtype=torch.float16):
                theirs = getattr(torch, name)()
            assert str(inside).split(".")[-1] == str(theirs).split(".")[-1]


# ------------------------------------------------------------------ jit, version, compiler


def test_jit_is_eager_and_its_decorators_return_the_function():
    def f(x):
        return x * 2

    for wrap in (flambeau.jit.script, flambeau.jit.ignore, flambeau.jit.ignore(drop=True),
                 flambeau.jit.unused, flambeau.jit.export, flambeau.compiler.disable,
                 flambeau.compiler.disable(recursive=False), flambeau.compiler.allow_in_graph,
                 flambeau.compiler.assume_constant_result):
        assert wrap(f) is f
    assert flambeau.jit.trace(f, (flambeau.ones(1),)) is f
    assert not flambeau.jit.is_scripting() and not flambeau.jit.is_tracing()
    assert not flambeau.compiler.is_compiling() and not flambeau.compiler.is_exporting()
    assert not flambeau.compiler.is_dynamo_compiling()
    assert flambeau.jit.annotate(list, [1]) == [1]
    assert flambeau.compiler.compile(f) is f
    if torch is not None:
        assert not torch.jit.is_scripting() and not torch.compiler.is_compiling()


def test_jit_fork_runs_at_once_and_wait_returns_or_raises():
    calls = []
    future = flambeau.jit.fork(lambda a, b=0: calls.append(a) or a + b, 2, b=3)
    assert calls == [2] and flambeau.jit.wait(future) == 5
    with pytest.raises(ZeroDivisionError):  # at once, as torch's eager fork
        flambeau.jit.fork(lambda: 1 / 0)


def test_version_module():
    assert flambeau.version.__version__ == flambeau.__version__
    assert flambeau.version.debug is False and flambeau.version.hip is None
    cuda_available = flambeau.cuda.is_available()
    assert (flambeau.version.cuda is None) == (not cuda_available)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        flambeau.version.nothing
    if torch is not None:
        assert set(flambeau.version.__all__) <= {n for n in dir(torch.version)}
