"""``flambeau.xpu``: answers for an "xpu" plugin when one is installed, else as a PyTorch
build without XPU (pytorch/examples' mnist_forward_forward asks ``torch.xpu.is_available()``)."""

import contextlib

import numpy as np
import pytest
from test_cuda_legacy_types import _FakeCuda

import flambeau
from flambeau import _device
from flambeau.backends import Backend, _registry
from flambeau.testing._harness import torch_or_none


class _FakeXpu(_FakeCuda):
    """The cuda tests' NumPy backend with two devices, under the device type "xpu" (or
    another plugin-provided one)."""

    def __init__(self, device_type="xpu"):
        Backend.__init__(self, device_type, xp=np)


@contextlib.contextmanager
def installed(device_type):
    """:class:`_FakeXpu` serving ``device_type`` meanwhile (test_mps uses it too)."""
    backends, owners, _ = _registry._loaded()
    backends[device_type], owners[device_type] = _FakeXpu(device_type), "fake (tests)"
    try:
        yield backends[device_type]
    finally:
        del backends[device_type], owners[device_type]
        for key in [k for k, d in _device._cache.items() if d.type == device_type]:
            del _device._cache[key]


@pytest.fixture
def fake_xpu():
    with installed("xpu"):
        yield


def test_without_xpu_as_a_pytorch_build_without_it():
    assert "xpu" not in flambeau.backends.backend_names()
    flambeau.manual_seed(0)
    expected = flambeau.rand(3).cpu().numpy()
    flambeau.manual_seed(0)
    for name, args in (("manual_seed", (1,)), ("manual_seed_all", (1,)), ("seed", ()),
                       ("seed_all", ())):
        assert getattr(flambeau.xpu, name)(*args) is None
    np.testing.assert_array_equal(flambeau.rand(3).cpu().numpy(), expected)  # CPU untouched
    answers = (flambeau.xpu.is_available(), flambeau.xpu.device_count())
    assert answers == (False, 0)
    torch = torch_or_none()
    if torch is not None and not torch.xpu.is_available():
        assert (torch.xpu.is_available(), torch.xpu.device_count()) == answers
        assert torch.xpu.manual_seed_all(1) is None and torch.xpu.seed_all() is None


def test_an_xpu_plugin_is_reported_and_seeded(fake_xpu):
    assert flambeau.xpu.is_available() is True and flambeau.xpu.device_count() == 2
    flambeau.xpu.manual_seed_all(5)
    first = [flambeau.rand(3, device=f"xpu:{i}").cpu().numpy() for i in range(2)]
    flambeau.xpu.manual_seed_all(5)
    again = [flambeau.rand(3, device=f"xpu:{i}").cpu().numpy() for i in range(2)]
    np.testing.assert_array_equal(first, again)
    flambeau.xpu.manual_seed(6)  # the current device only
    a = flambeau.rand(3, device="xpu:0").cpu().numpy()
    b = flambeau.rand(3, device="xpu:1").cpu().numpy()
    flambeau.xpu.manual_seed(6)
    np.testing.assert_array_equal(flambeau.rand(3, device="xpu:0").cpu().numpy(), a)
    assert not np.array_equal(flambeau.rand(3, device="xpu:1").cpu().numpy(), b)
    flambeau.xpu.seed_all()
    seeds = {flambeau._random.default_generator_for(f"xpu:{i}").initial_seed() for i in range(2)}
    assert len(seeds) == 1 and seeds != {5}
