"""flambeau.cpu.amp: torch's deprecated CPU names (``torch.cpu.amp.autocast``, ``GradScaler``),
and flambeau.cpu as a package that keeps every name it had."""

from __future__ import annotations

import importlib
import pickle
import warnings

import pytest

import flambeau


def _warning(make):
    """The one warning ``make()`` emits: (category, text, file it is attributed to)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make()
    assert len(caught) == 1
    return caught[0].category, str(caught[0].message), caught[0].filename


def test_importable_as_torch_code_does():
    from flambeau.cpu.amp import GradScaler, autocast

    assert flambeau.cpu.amp.autocast is autocast and flambeau.cpu.amp.GradScaler is GradScaler
    assert importlib.import_module("flambeau.cpu.amp") is flambeau.cpu.amp
    assert flambeau.cpu.amp.__all__ == ["autocast", "GradScaler"]
    assert issubclass(autocast, flambeau.amp.autocast)
    assert issubclass(GradScaler, flambeau.amp.GradScaler)
    assert (autocast.__module__, autocast.__qualname__) == ("flambeau.cpu.amp", "autocast")
    # distinct from flambeau.cuda.amp's classes, which warn about cuda
    assert autocast is not flambeau.cuda.amp.autocast


def test_cpu_package_keeps_its_names():
    assert flambeau.cpu.__all__ == ["is_available", "is_initialized", "synchronize",
                                    "current_device", "set_device", "device_count", "Stream",
                                    "current_stream", "stream"]
    assert flambeau.cpu.is_available() and flambeau.cpu.is_initialized()
    assert (flambeau.cpu.current_device(), flambeau.cpu.device_count()) == ("cpu", 1)
    assert flambeau.cpu.synchronize() is None and flambeau.cpu.set_device("cpu") is None
    s = flambeau.cpu.Stream()
    assert s.query() and flambeau.cpu.current_stream().query()
    with flambeau.cpu.stream(s):
        pass
    assert flambeau.get_device_module("cpu") is flambeau.cpu


@pytest.mark.parity
@pytest.mark.parametrize("name,make", [
    ("autocast", lambda lib: lib.cpu.amp.autocast()),
    ("GradScaler", lambda lib: lib.cpu.amp.GradScaler()),
])
def test_warnings_are_torchs(name, make):
    torch = pytest.importorskip("torch")
    category, text, filename = _warning(lambda: make(flambeau))
    theirs = _warning(lambda: make(torch))
    assert category is theirs[0] is FutureWarning
    assert text == theirs[1].replace("torch", "flambeau")
    assert text == (f"`flambeau.cpu.amp.{name}(args...)` is deprecated. Please use "
                    f"`flambeau.amp.{name}('cpu', args...)` instead.")
    assert filename == __file__  # attributed to the caller, not to flambeau


@pytest.mark.parity
def test_autocast_is_the_cpu_region():
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        region, theirs = flambeau.cpu.amp.autocast(), torch.cpu.amp.autocast()
        half = flambeau.cpu.amp.autocast(dtype=flambeau.float16, cache_enabled=False)
        off = flambeau.cpu.amp.autocast(enabled=False)
    assert (region.device, str(region.fast_dtype)) == \
        (theirs.device, str(theirs.fast_dtype).replace("torch", "flambeau"))
    assert (region.device, region.fast_dtype) == ("cpu", flambeau.bfloat16)
    a = flambeau.ones(2, 3, device="cpu")
    with region:
        assert flambeau.is_autocast_enabled("cpu") and not flambeau.is_autocast_enabled("cuda")
        assert (a @ a.mT).dtype == flambeau.bfloat16
        with off:
            assert not flambeau.is_autocast_enabled("cpu")
            assert (a @ a.mT).dtype == flambeau.float32
    assert not flambeau.is_autocast_enabled("cpu")
    with half:
        assert (a @ a.mT).dtype == flambeau.float16

    @region
    def matmul(x):
        return x @ x.mT

    assert matmul(a).dtype == flambeau.bfloat16


def test_grad_scaler_keeps_its_options_and_scales_on_the_cpu():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        scaler = flambeau.cpu.amp.GradScaler(init_scale=8.0, growth_factor=4.0,
                                             backoff_factor=0.25, growth_interval=3)
        off = flambeau.cpu.amp.GradScaler(enabled=False)
    assert scaler.is_enabled() and not off.is_enabled()
    assert (scaler.get_scale(), scaler.get_growth_factor(), scaler.get_backoff_factor(),
            scaler.get_growth_interval()) == (8.0, 4.0, 0.25, 3)
    loss = flambeau.tensor(2.0, device="cpu")
    assert scaler.scale(loss).item() == 16.0 and off.scale(loss).item() == 2.0


def test_regions_pickle_as_torch_code_expects():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        region = pickle.loads(pickle.dumps(flambeau.cpu.amp.autocast(dtype=flambeau.float16)))
    assert type(region) is flambeau.cpu.amp.autocast and region.fast_dtype == flambeau.float16
