"""Loading PyTorch files (torch.save zip and legacy, safetensors) without running code."""

import io
import os
import pickle
import sys
import zipfile

import numpy as np
import pytest

import flambeau
from flambeau._serialization import CheckpointError
from flambeau._torch_pickle import UnsafePickleError

# ------------------------------------------------------------------ hand-made pickles


def _str(s):
    b = s.encode()
    return b"X" + len(b).to_bytes(4, "little") + b


def _int(i):
    return b"J" + i.to_bytes(4, "little", signed=True)


def _tuple(items):
    return b"(" + b"".join(items) + b"t"


def _tensor_pickle(size, stride, offset, numel, storage=b"ctorch\nFloatStorage\n"):
    """A data.pkl rebuilding one float tensor from storage '0', as torch.save writes it."""
    pid = _tuple([_str("storage"), storage, _str("0"), _str("cpu"), _int(numel)]) + b"Q"
    args = _tuple([pid, _int(offset), _tuple([_int(s) for s in size]),
                   _tuple([_int(s) for s in stride]), b"\x89", b"}"])
    return b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n" + args + b"R."


def _torch_zip(path, data_pkl, storages=None):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", data_pkl)
        zf.writestr("archive/byteorder", "little")
        for key, raw in (storages or {}).items():
            zf.writestr(f"archive/data/{key}", raw)


def test_hand_made_tensor_pickle(tmp_path):
    raw = np.arange(6, dtype=np.float32).tobytes()
    _torch_zip(tmp_path / "t.pt", _tensor_pickle((2, 2), (1, 2), 1, 6), {"0": raw})
    t = flambeau.load(tmp_path / "t.pt")
    assert t.tolist() == [[1.0, 3.0], [2.0, 4.0]]


def test_view_outside_storage_is_refused(tmp_path):
    raw = np.arange(6, dtype=np.float32).tobytes()
    _torch_zip(tmp_path / "t.pt", _tensor_pickle((4, 4), (4, 1), 0, 6), {"0": raw})
    with pytest.raises(CheckpointError, match=r"t.pt.*reaches element 15 of a storage of 6"):
        flambeau.load(tmp_path / "t.pt")


def test_storage_size_mismatch_and_missing_storage(tmp_path):
    _torch_zip(tmp_path / "a.pt", _tensor_pickle((2,), (1,), 0, 6), {"0": b"\0" * 8})
    with pytest.raises(CheckpointError, match=r"holds 8 bytes, expected 24"):
        flambeau.load(tmp_path / "a.pt")
    _torch_zip(tmp_path / "b.pt", _tensor_pickle((2,), (1,), 0, 2))
    with pytest.raises(CheckpointError, match=r"no entry 'archive/data/0'"):
        flambeau.load(tmp_path / "b.pt")


def test_zip_without_data_pkl(tmp_path):
    with zipfile.ZipFile(tmp_path / "z.pt", "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(CheckpointError, match=r"z.pt.*without a PyTorch 'data.pkl'"):
        flambeau.load(tmp_path / "z.pt")


# ------------------------------------------------------------------ malicious pickles


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_os_system_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"w": _Evil(marker)}, protocol=2)
    _torch_zip(tmp_path / "evil.pt", payload)
    (tmp_path / "evil_raw.pt").write_bytes(payload)
    for name in ("evil.pt", "evil_raw.pt"):
        with pytest.raises(pickle.UnpicklingError, match=r"refused to load the global "
                                                         r"'(posix|nt|os)\.system'") as err:
            flambeau.load(tmp_path / name)
        assert isinstance(err.value, CheckpointError) and name in str(err.value)
    assert not marker.exists()


@pytest.mark.parametrize("global_", [b"cbuiltins\neval\n", b"c__builtin__\ngetattr\n",
                                     b"cnumpy.core.multiarray\n_reconstruct\n",
                                     b"ctorch\nload\n", b"csubprocess\nPopen\n"])
def test_other_globals_are_refused(global_, tmp_path):
    _torch_zip(tmp_path / "g.pt", b"\x80\x02" + global_ + _tuple([_str("1+1")]) + b"R.")
    with pytest.raises(UnsafePickleError, match="refused to load the global"):
        flambeau.load(tmp_path / "g.pt")


def test_torch_saved_malicious_object_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    marker = tmp_path / "pwned"
    torch.save({"w": torch.ones(2), "x": _Evil(marker)}, tmp_path / "evil.pt")
    with pytest.raises(UnsafePickleError, match="system"):
        flambeau.load(tmp_path / "evil.pt")
    assert not marker.exists()


# ------------------------------------------------------------------ files from PyTorch


def _torch_model(torch):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))


def _forward(sd, x):
    """The Sequential above, in flambeau ops (on the device the file's tensors load to)."""
    x = x.to(sd["0.weight"].device)
    h = flambeau.relu(x @ sd["0.weight"].t() + sd["0.bias"])
    return h @ sd["2.weight"].t() + sd["2.bias"]


@pytest.mark.parity
def test_torch_state_dict_gives_torch_outputs(tmp_path):
    torch = pytest.importorskip("torch")
    model = _torch_model(torch)
    torch.save(model.state_dict(), tmp_path / "m.pth")
    sd = flambeau.load(tmp_path / "m.pth")
    assert list(sd) == list(model.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    expected = model(torch.from_numpy(x)).detach().cpu().numpy()
    np.testing.assert_allclose(_forward(sd, flambeau.tensor(x)).cpu().numpy(), expected, rtol=1e-6,
                               atol=1e-6)


@pytest.mark.parity
def test_torch_state_dict_into_flambeau_nn(tmp_path):
    torch = pytest.importorskip("torch")
    nn = pytest.importorskip("flambeau.nn")
    if not all(hasattr(nn, n) for n in ("Sequential", "Linear", "ReLU")):
        pytest.skip("flambeau.nn is not complete yet")
    model = _torch_model(torch)
    torch.save(model.state_dict(), tmp_path / "m.pth")
    ours = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    ours.load_state_dict(flambeau.load(tmp_path / "m.pth"))
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(flambeau.tensor(x)).detach().cpu().numpy(),
                               model(torch.from_numpy(x)).detach().cpu().numpy(), rtol=1e-6,
                               atol=1e-6)


@pytest.mark.parity
def test_torch_file_every_dtype_views_and_containers(tmp_path):
    torch = pytest.importorskip("torch")
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    obj = {
        "dtypes": {str(d): (torch.arange(6).reshape(2, 3) - 2).to(d) for d in (
            torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64,
            torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool)},
        "base": base, "t": base.t(), "row": base[1], "scalar": torch.tensor(2.5),
        "param": torch.nn.Parameter(torch.ones(2)),
        "size": torch.Size([2, 3]), "dtype": torch.float16, "device": torch.device("cpu"),
        "set": {1, 2}, "tuple": (1, "a", None, 2.5),
    }
    torch.save(obj, tmp_path / "all.pt")
    torch.save(obj, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    for name in ("all.pt", "legacy.pt"):
        out = flambeau.load(tmp_path / name)
        for key, t in obj["dtypes"].items():
            ours = out["dtypes"][key]
            assert ours.dtype.name == key.split(".")[1]
            assert ours.float().tolist() == t.float().tolist()
        assert out["t"].tolist() == base.t().tolist() and out["row"].tolist() == [4, 5, 6, 7]
        assert out["scalar"].shape == () and out["scalar"].item() == 2.5
        assert out["param"].requires_grad and not out["base"].requires_grad
        assert out["size"] == flambeau.Size([2, 3]) and out["dtype"] is flambeau.float16
        assert out["device"] == flambeau.device("cpu")
        assert out["set"] == {1, 2} and out["tuple"] == (1, "a", None, 2.5)
        out["base"][0, 0] = 100.0  # views of one storage share memory, as in PyTorch
        assert out["t"][0, 0].item() == 100.0


@pytest.mark.parity
def test_torch_optimizer_state_dict(tmp_path):
    torch = pytest.importorskip("torch")
    model = _torch_model(torch)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.ones(1, 4)).sum().backward()
    opt.step()
    torch.save(opt.state_dict(), tmp_path / "opt.pt")
    sd = flambeau.load(tmp_path / "opt.pt")
    assert sd["param_groups"][0]["lr"] == 0.01 and sd["param_groups"][0]["params"] == [0, 1, 2, 3]
    ref = opt.state_dict()["state"][0]["exp_avg"].cpu().numpy()
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"].cpu().numpy(), ref)


@pytest.mark.parity
def test_loads_without_torch(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    torch.save(_torch_model(torch).state_dict(), tmp_path / "m.pth")
    monkeypatch.setitem(sys.modules, "torch", None)  # any `import torch` now fails
    assert flambeau.load(tmp_path / "m.pth")["0.weight"].shape == (3, 4)


@pytest.mark.parity
def test_truncated_torch_file(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save(_torch_model(torch).state_dict(), tmp_path / "m.pth")
    data = (tmp_path / "m.pth").read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 100):
        (tmp_path / "cut.pth").write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match=r"cut.pth.*corrupt"):
            flambeau.load(tmp_path / "cut.pth")


# ------------------------------------------------------------------ tensor classes


class _Tagged(flambeau.Tensor):
    """The flambeau counterpart of a torch.Tensor subclass of a torch file."""


@pytest.mark.parity
@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_torch_parameters_keep_requires_grad(legacy, tmp_path):
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.ones(2))
    p.note = "kept"  # pickled with _rebuild_parameter_with_state
    obj = {"p": p, "frozen": torch.nn.Parameter(torch.ones(2), requires_grad=False),
           "t": torch.ones(1, requires_grad=True), "plain": torch.ones(1)}
    torch.save(obj, tmp_path / "p.pt", _use_new_zipfile_serialization=not legacy)
    expected = torch.load(tmp_path / "p.pt")
    out = flambeau.load(tmp_path / "p.pt")
    for key, t in expected.items():
        assert out[key].requires_grad == t.requires_grad and out[key].is_leaf
        assert out[key].tolist() == t.tolist()


@pytest.mark.parity
def test_torch_tensor_subclass_loads_when_allowed(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    theirs = type("_TorchTagged", (torch.Tensor,), {"__module__": __name__})
    monkeypatch.setattr(sys.modules[__name__], "_TorchTagged", theirs, raising=False)
    t = torch.arange(3.0).as_subclass(theirs)
    t.note = "w"
    torch.save({"t": t}, tmp_path / "s.pt")
    with pytest.raises(UnsafePickleError, match=r"refused to load the global "
                                                r"'.*\._TorchTagged'"):
        flambeau.load(tmp_path / "s.pt")  # torch.load refuses it too
    with flambeau.serialization.safe_globals([(_Tagged, f"{__name__}._TorchTagged")]):
        out = flambeau.load(tmp_path / "s.pt")["t"]
    assert type(out) is _Tagged and out.note == "w" and out.tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parity
def test_torch_lazy_state_dict_refused_by_default(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save(torch.nn.LazyLinear(3).state_dict(), tmp_path / "lazy.pt")
    with pytest.raises(pickle.UnpicklingError):
        torch.load(tmp_path / "lazy.pt")
    with pytest.raises(UnsafePickleError, match=r"lazy.pt': refused to rebuild a tensor of "
                                                r"class 'flambeau.nn.parameter."
                                                r"UninitializedParameter'.*weights_only=False"):
        flambeau.load(tmp_path / "lazy.pt")


def test_rebuild_from_type_of_another_class_is_refused(tmp_path):
    args = _tuple([b"ctorch._utils\n_rebuild_tensor_v2\n", b"cbuiltins\nset\n",
                   _tuple([]), b"}"])
    _torch_zip(tmp_path / "t.pt", b"\x80\x02ctorch._tensor\n_rebuild_from_type_v2\n" + args
               + b"R.")
    with pytest.raises(CheckpointError, match=r"t.pt': _rebuild_from_type_v2: only tensors, "
                                              r"parameters and allowed Tensor subclasses"):
        flambeau.load(tmp_path / "t.pt")


# ------------------------------------------------------------------ safetensors with torch


@pytest.mark.parity
def test_torch_safetensors_file_loads(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    model = _torch_model(torch)
    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    sd["half"] = torch.linspace(-1, 1, 5).to(torch.bfloat16)
    st_torch.save_file(sd, str(tmp_path / "m.safetensors"))
    ours = flambeau.load(tmp_path / "m.safetensors")
    assert ours["half"].dtype is flambeau.bfloat16
    assert ours["half"].float().tolist() == sd["half"].float().tolist()
    x = np.ones((2, 4), dtype=np.float32)
    np.testing.assert_allclose(_forward(ours, flambeau.tensor(x)).cpu().numpy(),
                               model(torch.from_numpy(x)).detach().cpu().numpy(), rtol=1e-6)


@pytest.mark.parity
def test_flambeau_safetensors_read_by_torch(tmp_path):
    pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    sd = {"w": flambeau.randn(3, 2), "b": flambeau.tensor([True, False]),
          "h": flambeau.tensor([0.5, -2.0], dtype=flambeau.bfloat16),
          "i": flambeau.arange(4, dtype=flambeau.int8)}
    flambeau.save(sd, tmp_path / "f.safetensors")
    theirs = st_torch.load_file(str(tmp_path / "f.safetensors"))
    for k, v in sd.items():
        assert str(theirs[k].dtype) == f"torch.{v.dtype.name}"
        assert theirs[k].float().tolist() == v.float().tolist()


def test_bytes_in_memory_dispatch_on_content(tmp_path):
    """The suffix does not matter: a safetensors file named .pt still loads."""
    buf = io.BytesIO()
    flambeau.save({"a": flambeau.ones(1)}, buf)
    (tmp_path / "weights.pt").write_bytes(buf.getvalue())
    (tmp_path / "weights.safetensors.bin").write_bytes(buf.getvalue())
    assert flambeau.load(tmp_path / "weights.pt")["a"].tolist() == [1.0]
    assert flambeau.load(tmp_path / "weights.safetensors.bin")["a"].tolist() == [1.0]
