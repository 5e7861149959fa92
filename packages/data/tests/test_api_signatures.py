"""The API surface of flambeau.utils.data against torch.utils.data: names and signatures.

Signatures compare parameter names, order, kinds and default values with their types
(generators by kind, functions by name).
"""

import importlib
import inspect
import warnings

import pytest

import flambeau
import flambeau.utils.data as fdata
from flambeau.testing import signature_of

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.parity

# torch.utils.data names flambeau does not have, on purpose
MISSING_OK = {
    # DataPipes: the legacy torchdata API, deprecated by PyTorch and frozen since torchdata
    # 0.10 removed it; new code uses datasets, samplers and DataLoader
    "DFIterDataPipe", "DataChunk", "IterDataPipe", "MapDataPipe", "functional_datapipe",
    "argument_validation", "runtime_validation", "runtime_validation_disabled",
    "guaranteed_datapipes_determinism", "non_deterministic",
    # private (listed in torch's __all__ by accident of history)
    "_DatasetKind",
}

# signatures that differ on purpose
SIGNATURE_OK = {
    # torch 2.2 dropped Sampler's ``data_source`` argument; flambeau still accepts (and
    # ignores) it, so older subclasses calling ``super().__init__(data_source)`` still run
    "Sampler",
}

SUBMODULES = ["dataloader", "dataset", "distributed", "sampler"]


SHARED = [n for n in torch.utils.data.__all__ if n not in MISSING_OK]


def test_every_torch_name_exists():
    missing = {n for n in torch.utils.data.__all__ if not hasattr(fdata, n)}
    assert missing == MISSING_OK


@pytest.mark.parametrize("sub", SUBMODULES)
def test_submodules_have_torch_names(sub):
    tmod = importlib.import_module(f"torch.utils.data.{sub}")
    ours = importlib.import_module(f"flambeau.utils.data.{sub}")
    assert [n for n in tmod.__all__ if not hasattr(ours, n)] == []


@pytest.mark.parametrize("name", [n for n in SHARED if n not in SIGNATURE_OK])
def test_signatures_match(name):
    t, f = getattr(torch.utils.data, name), getattr(fdata, name)
    assert signature_of(f) == signature_of(t)


def test_sampler_accepts_the_old_data_source_argument():
    # the deliberate difference of SIGNATURE_OK: torch 2.13 raises TypeError here
    assert fdata.Sampler([1, 2]) is not None
    assert fdata.Sampler() is not None


@pytest.mark.parametrize("name", [n for n in SHARED
                                  if inspect.isclass(getattr(torch.utils.data, n))])
def test_public_methods_match(name):
    t, f = getattr(torch.utils.data, name), getattr(fdata, name)
    public = {m for m in dir(t) if not m.startswith("_")}
    assert sorted(m for m in public if not hasattr(f, m)) == []
    for m in sorted(public):
        if inspect.isfunction(inspect.getattr_static(t, m)):
            assert signature_of(getattr(f, m)) == signature_of(getattr(t, m)), m


def test_random_split_defaults_to_the_default_cpu_generator():
    flambeau.manual_seed(7)
    a = [list(s) for s in fdata.random_split(range(10), [0.5, 0.5])]
    b = [list(s) for s in fdata.random_split(range(10), [0.5, 0.5],
                                             generator=flambeau.default_generator)]
    flambeau.manual_seed(7)
    again = [list(s) for s in fdata.random_split(range(10), [0.5, 0.5])]
    none = [list(s) for s in fdata.random_split(range(10), [0.5, 0.5], generator=None)]
    assert a == again and a != b
    assert sorted(none[0] + none[1]) == list(range(10))


def test_concat_dataset_cummulative_sizes_warns():
    ds = fdata.ConcatDataset([[1, 2], [3]])
    with pytest.warns(DeprecationWarning, match="cumulative_sizes"):
        assert ds.cummulative_sizes == [2, 3]


def test_dataloader_warns_about_more_workers_than_cpus(monkeypatch):
    import os

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fdata.DataLoader(range(4), num_workers=0)  # nothing to say
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fdata.DataLoader(range(4), num_workers=2)
    with pytest.warns(UserWarning, match="3 worker processes.*2 CPUs"):
        loader = fdata.DataLoader(range(4), num_workers=3)
    with pytest.warns(UserWarning, match="2 CPUs"):
        loader.check_worker_number_rationality()
