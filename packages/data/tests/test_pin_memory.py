"""``DataLoader(pin_memory=True)`` on a machine without an accelerator, as torch 2.13's: a
warning at each new iterator and unpinned batches (``Tensor.pin_memory()`` raises there);
``pin_memory_device`` is deprecated with torch's warning."""

import warnings

import numpy as np
import pytest
from leakcheck import no_leftovers  # noqa: F401 - autouse fixture

import flambeau
from flambeau.data import DataLoader, TensorDataset

_NO_ACCELERATOR = ("'pin_memory' argument is set as true but no accelerator is found, then "
                   "device pinned memory won't be used.")


def _batches_and_warnings(lib, loader_cls, dataset, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loader = loader_cls(dataset, batch_size=2, **kwargs)
        batches = [b[0].cpu().numpy().tolist() for b in loader]
        batches += [b[0].cpu().numpy().tolist() for b in loader]  # a second epoch warns again
    return batches, [(str(w.message), w.category.__name__, w.filename) for w in caught]


@pytest.mark.parametrize("kwargs", [{"pin_memory": True}, {"pin_memory": True, "num_workers": 1},
                                    {"pin_memory": True, "pin_memory_device": "cuda"},
                                    {"pin_memory": False, "pin_memory_device": "cuda"}])
def test_without_an_accelerator_as_torch(kwargs):
    if flambeau.accelerator.is_available():
        pytest.skip("an accelerator pins the batches here")
    got, got_warnings = _batches_and_warnings(
        flambeau, DataLoader, TensorDataset(flambeau.arange(5.0)), **kwargs)
    assert got == [[0.0, 1.0], [2.0, 3.0], [4.0]] * 2
    assert all(filename == __file__ for *_, filename in got_warnings)  # the user's line
    expected = []
    if kwargs["pin_memory"]:
        if "pin_memory_device" in kwargs:
            expected.append("pin_memory_device is deprecated, the current accelerator will be "
                            "used as the device,ignore pin_memory_device='cuda'.")
        expected.append(_NO_ACCELERATOR)
    assert [m for m, *_ in got_warnings] == expected * 2
    assert {c for _, c, _ in got_warnings} <= {"UserWarning"}
    torch = pytest.importorskip("torch")
    if torch.accelerator.is_available():
        return
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import TensorDataset as TorchDataset

    want, want_warnings = _batches_and_warnings(
        torch, TorchLoader, TorchDataset(torch.arange(5.0)), **kwargs)
    assert got == want
    assert [m for m, *_ in got_warnings] == [m for m, *_ in want_warnings]


def test_batches_are_not_pinned_and_pin_memory_raises_without_an_accelerator():
    if flambeau.accelerator.is_available():
        pytest.skip("an accelerator pins the batches here")
    with pytest.warns(UserWarning, match="no accelerator is found"):
        # CPU samples: a device's batch stays on the device, where pinning is refused anyway
        samples = TensorDataset(flambeau.ones(2, device="cpu"))
        batch = next(iter(DataLoader(samples, pin_memory=True)))[0]
    assert not batch.is_pinned()
    np.testing.assert_array_equal(batch.cpu().numpy(), [1.0])
    with pytest.raises(RuntimeError, match="pin_memory: cannot access an accelerator device "
                                           "when none is available"):
        batch.pin_memory()
