"""Communication backends are pluggy plugins found through entry points."""

from types import SimpleNamespace

import pytest

import flambeau.distributed as dist
from flambeau.distributed import CommBackend, _registry
from flambeau.distributed.hookspecs import hookimpl


def test_builtin_backends_are_registered_through_entry_points():
    assert dist.comm_backend_names() == ["gloo", "mpi", "nccl"]
    assert dist.get_comm_backend("gloo").device_types == ("cpu",)
    assert dist.get_comm_backend("mpi").device_types == ("cpu",)
    assert dist.get_comm_backend("NCCL").device_types == ("cuda",)


def test_unknown_backend_lists_the_installed_ones():
    with pytest.raises(ValueError, match="unknown communication backend 'ucc'; installed "
                                         "backends: gloo, mpi, nccl"):  # fmt: skip
        dist.get_comm_backend("ucc")
    with pytest.raises(ValueError, match="unknown communication backend 'ucc'"):
        dist.init_process_group("ucc")
    assert not dist.is_initialized()


class _Plugin:
    def __init__(self, *backends):
        self.backends = backends

    @hookimpl
    def flambeau_comm_backends(self):
        return list(self.backends)


class _Loopback(CommBackend):
    name, device_types = "loopback", ("cpu",)


def _fake_entry_points(monkeypatch, plugins):
    real = _registry.entry_points

    def entry_points(group):
        eps = list(real(group=group))
        for name, plugin in plugins.items():
            dist_meta = SimpleNamespace(metadata={"Name": f"dist-{name}"})
            eps.append(SimpleNamespace(name=name, dist=dist_meta, load=lambda p=plugin: p))
        return eps

    monkeypatch.setattr(_registry, "entry_points", entry_points)
    _registry.reload()


@pytest.fixture
def restore_registry():
    yield
    _registry.reload()


def test_third_party_backend_registers_through_the_hook(monkeypatch, restore_registry):
    _fake_entry_points(monkeypatch, {"loop": _Plugin(_Loopback())})
    assert dist.comm_backend_names() == ["gloo", "loopback", "mpi", "nccl"]
    assert isinstance(dist.get_comm_backend("loopback"), _Loopback)


def test_duplicate_backend_names_are_an_error_naming_both_plugins(monkeypatch, restore_registry):
    class FakeMpi(CommBackend):
        name, device_types = "mpi", ("cpu",)

    _fake_entry_points(monkeypatch, {"other": _Plugin(FakeMpi())})
    with pytest.raises(dist.CommBackendRegistryError,
                       match=r"'mpi' is registered by two plugins: mpi \(flambeau-distributed\) "
                             r"and other \(dist-other\)"):  # fmt: skip
        dist.comm_backend_names()


def test_a_broken_plugin_is_reported_without_hiding_the_others(monkeypatch, restore_registry):
    _fake_entry_points(monkeypatch, {"bad": _Plugin("not a backend")})
    assert dist.comm_backend_names() == ["gloo", "mpi", "nccl"]
    with pytest.raises(ValueError, match=r"failed to load: bad \(dist-bad\): returned 'not a "
                                         r"backend', not a flambeau.distributed.CommBackend"):
        dist.get_comm_backend("loopback")
