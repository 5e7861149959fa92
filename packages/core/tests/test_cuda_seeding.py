"""``flambeau.cuda.manual_seed``/``manual_seed_all``/``seed``/``seed_all``: silently nothing
without CUDA, as in PyTorch (seeding helpers call them unconditionally), else the plugin's."""

import types

import numpy as np
import pytest
from test_cuda_legacy_types import _FakeCuda, _use_cuda_backend

import flambeau
from flambeau.testing._harness import torch_or_none

_SEEDERS = [("manual_seed", (7,)), ("manual_seed_all", (7,)), ("seed", ()), ("seed_all", ())]


@pytest.mark.parametrize("plugin", ["absent", "unavailable"])
@pytest.mark.parametrize("name, args", _SEEDERS)
def test_seeding_cuda_without_cuda_does_nothing(plugin, name, args):
    class Unavailable(_FakeCuda):
        def is_available(self):
            return False

    restore = _use_cuda_backend(None if plugin == "absent" else Unavailable())
    try:
        flambeau.manual_seed(0)
        expected = flambeau.rand(3).cpu().numpy()
        flambeau.manual_seed(0)
        assert getattr(flambeau.cuda, name)(*args) is None
        np.testing.assert_array_equal(flambeau.rand(3).cpu().numpy(), expected)  # CPU untouched
    finally:
        restore()
    torch = torch_or_none()
    if torch is not None and not torch.cuda.is_available():
        assert getattr(torch.cuda, name)(*args) is None  # torch takes it too


def test_seeding_cuda_goes_to_the_plugin():
    calls = []
    plugin = types.SimpleNamespace(manual_seed=lambda s: calls.append(("manual_seed", s)),
                                   manual_seed_all=lambda s: calls.append(("manual_seed_all", s)))
    restore = _use_cuda_backend(_FakeCuda(cuda_module=plugin))
    try:
        flambeau.cuda.manual_seed(5)
        flambeau.cuda.manual_seed_all(np.int64(6))
        flambeau.cuda.seed()
        flambeau.cuda.seed_all()
    finally:
        restore()
    assert calls[:2] == [("manual_seed", 5), ("manual_seed_all", 6)]
    assert [c[0] for c in calls[2:]] == ["manual_seed", "manual_seed_all"]
    assert all(type(s) is int and 0 <= s < 2 ** 63 for _, s in calls)
