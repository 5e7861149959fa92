"""flambeau.save / flambeau.load keep nn.Parameter, nn.Buffer and the tensors of lazy modules,
in flambeau's checkpoints and in files written by torch.save, as torch.load does."""

import io
import pickle

import numpy as np
import pytest

import flambeau
from flambeau import nn
from flambeau._torch_pickle import UnsafePickleError


def _flambeau_roundtrip(obj, **kw):
    buf = io.BytesIO()
    flambeau.save(obj, buf)
    buf.seek(0)
    return flambeau.load(buf, **kw)


def _from_torch(torch, obj, **kw):
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return flambeau.load(buf, **kw)


def _kinds(out, parameter, buffer):
    """(class kind, requires_grad, persistent) of each value, comparable across frameworks."""
    def kind(v):
        if isinstance(v, parameter):
            return "Parameter"
        return "Buffer" if isinstance(v, buffer) else "Tensor"

    return {k: (kind(v), v.requires_grad, getattr(v, "persistent", None))
            for k, v in out.items() if k != "shared"}


@pytest.mark.parity
def test_parameters_and_buffers_load_back_as_torch_s(tmp_path):
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.ones(2))
    theirs = {"p": p, "frozen": torch.nn.Parameter(torch.ones(2), requires_grad=False),
              "b": torch.nn.Buffer(torch.ones(1), persistent=False),
              "t": torch.ones(1, requires_grad=True), "shared": [p]}
    torch.save(theirs, tmp_path / "t.pt")
    expected = torch.load(tmp_path / "t.pt")
    q = nn.Parameter(flambeau.ones(2))
    ours = {"p": q, "frozen": nn.Parameter(flambeau.ones(2), requires_grad=False),
            "b": nn.Buffer(flambeau.ones(1), persistent=False),
            "t": flambeau.ones(1, requires_grad=True), "shared": [q]}
    want = _kinds(expected, torch.nn.Parameter, torch.nn.Buffer)
    assert want["p"] == ("Parameter", True, None) and want["b"] == ("Buffer", False, False)
    for out in (_flambeau_roundtrip(ours), flambeau.load(tmp_path / "t.pt")):
        assert _kinds(out, nn.Parameter, nn.Buffer) == want
        assert out["shared"][0] is out["p"] and out["p"].is_leaf
        assert out["p"].detach().cpu().numpy().tolist() == [1.0, 1.0]
    for wo in (True, False):  # torch gives Parameters with either
        assert type(_from_torch(torch, {"p": p}, weights_only=wo)["p"]) is nn.Parameter


@pytest.mark.parity
def test_parameter_attributes_come_back(tmp_path):
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.ones(2))
    p.note = "from torch"
    q = nn.Parameter(flambeau.ones(2))
    q.note = "from flambeau"
    assert torch.load(io.BytesIO(_torch_bytes(torch, p))).note == "from torch"
    assert flambeau.load(io.BytesIO(_torch_bytes(torch, p))).note == "from torch"
    assert _flambeau_roundtrip(q).note == "from flambeau"


def _torch_bytes(torch, obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def test_state_dict_with_keep_vars_loads_into_a_module():
    flambeau.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    sd = _flambeau_roundtrip(model.state_dict(keep_vars=True))
    assert [type(v).__name__ for v in sd.values()] == ["Parameter"] * 4 + ["Tensor"] * 3
    twin = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    twin.load_state_dict(sd)
    x = flambeau.randn(5, 3)
    np.testing.assert_array_equal(twin(x).detach().cpu().numpy(),
                                  model(x).detach().cpu().numpy())


# ------------------------------------------------------------------ lazy modules


def _lazy_files(torch):
    """A LazyLinear's and a LazyBatchNorm1d's state dicts, as flambeau and torch save them."""
    ours = {"fc": nn.LazyLinear(3).state_dict(), "bn": nn.LazyBatchNorm1d().state_dict()}
    theirs = {"fc": torch.nn.LazyLinear(3).state_dict(),
              "bn": torch.nn.LazyBatchNorm1d().state_dict()}
    buf = io.BytesIO()
    flambeau.save(ours, buf)
    return {"flambeau": buf.getvalue(), "torch": _torch_bytes(torch, theirs)}


@pytest.mark.parity
@pytest.mark.parametrize("fmt", ["flambeau", "torch"])
def test_lazy_state_dict_refused_unless_trusted_as_torch(fmt):
    torch = pytest.importorskip("torch")
    data = _lazy_files(torch)[fmt]
    with pytest.raises(pickle.UnpicklingError, match="UninitializedParameter"):
        torch.load(io.BytesIO(_lazy_files(torch)["torch"]))  # torch's default refuses them
    with pytest.raises(UnsafePickleError, match=r"refused to rebuild a tensor of class "
                                                r"'flambeau.nn.parameter.UninitializedParameter'"
                                                r".*weights_only=False"):
        flambeau.load(io.BytesIO(data))
    with flambeau.serialization.safe_globals([nn.UninitializedParameter,
                                              nn.UninitializedBuffer]):
        allowed = flambeau.load(io.BytesIO(data))
    trusted = flambeau.load(io.BytesIO(data), weights_only=False)
    expected = torch.load(io.BytesIO(_lazy_files(torch)["torch"]), weights_only=False)
    for out in (allowed, trusted):
        for key in ("fc", "bn"):
            assert list(out[key]) == list(expected[key])
            assert [type(v).__name__ for v in out[key].values()] == [
                type(v).__name__ for v in expected[key].values()]
            assert [v.requires_grad for v in out[key].values()] == [
                v.requires_grad for v in expected[key].values()]
        assert out["bn"]["running_mean"].persistent


@pytest.mark.parity
@pytest.mark.parametrize("fmt", ["flambeau", "torch"])
def test_lazy_state_dict_loads_into_a_lazy_module(fmt):
    torch = pytest.importorskip("torch")
    sd = flambeau.load(io.BytesIO(_lazy_files(torch)[fmt]), weights_only=False)
    fc, bn = nn.LazyLinear(3), nn.LazyBatchNorm1d()
    assert not fc.load_state_dict(sd["fc"]).missing_keys
    assert not bn.load_state_dict(sd["bn"]).missing_keys
    assert fc.has_uninitialized_params() and bn.has_uninitialized_params()
    assert fc(flambeau.ones(2, 5)).shape == (2, 3) and fc.in_features == 5
    assert bn(flambeau.randn(4, 3)).shape == (4, 3) and type(bn) is nn.BatchNorm1d
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized "
                                           "parameter"):
        nn.Linear(2, 3).load_state_dict(sd["fc"])  # as torch's


def test_lazy_state_dict_keeps_dtype_in_flambeau_checkpoints():
    fc = nn.LazyLinear(3, dtype=flambeau.float64)
    out = _flambeau_roundtrip(fc.state_dict(), weights_only=False)
    assert all(type(v) is nn.UninitializedParameter and v.dtype is flambeau.float64
               for v in out.values())
