"""flambeau.load of whole objects pickled by torch.save (weights_only=False), and the
``_metadata`` of state dicts through flambeau's own format."""

import collections
import io
import pickle
import zipfile
from collections import OrderedDict

import pytest

import flambeau
from flambeau._serialization import CheckpointError


def test_flambeau_format_keeps_state_dict_metadata():
    sd = OrderedDict([("w", flambeau.ones(2)), ("b", flambeau.zeros(1))])
    sd._metadata = OrderedDict([("", {"version": 1}), ("bn", {"version": 2})])
    buf = io.BytesIO()
    flambeau.save({"sd": sd, "plain": OrderedDict(a=1)}, buf)
    buf.seek(0)
    out = flambeau.load(buf)
    assert type(out["sd"]) is OrderedDict and list(out["sd"]) == ["w", "b"]
    assert type(out["sd"]._metadata) is OrderedDict
    assert list(out["sd"]._metadata.items()) == [("", {"version": 1}), ("bn", {"version": 2})]
    assert not hasattr(out["plain"], "_metadata")


# ------------------------------------------------------------------ whole objects in torch files


def _torch_zip(data_pkl):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", data_pkl)
    buf.seek(0)
    return buf


class _Probe:
    """Records that the unpickler built it (it must not when another global is refused)."""

    built = []

    def __setstate__(self, state):
        _Probe.built.append(state)


def _probe_then(module, name):
    """A protocol-2 pickle of [_Probe(), module.name]."""
    return (b"\x80\x02]q\x00(c" + __name__.encode() + b"\n_Probe\n)\x81}b"
            + f"c{module}\n{name}\n".encode() + b"e.")


def test_weights_only_false_builds_user_classes_and_torch_functions():
    _Probe.built.clear()
    probe, tanh = flambeau.load(_torch_zip(_probe_then("torch", "tanh")), weights_only=False)
    assert type(probe) is _Probe and _Probe.built == [{}] and tanh is flambeau.tanh
    # torch.tanh and friends pickle as attributes of torch._C._VariableFunctionsClass
    data = (b"\x80\x02c__builtin__\ngetattr\nctorch._C\n_VariableFunctionsClass\n"
            b"X\x07\x00\x00\x00sigmoid\x86R.")
    assert flambeau.load(_torch_zip(data), weights_only=False) is flambeau.sigmoid


def test_torch_global_without_counterpart_is_refused_before_anything_is_built():
    _Probe.built.clear()
    buf = _torch_zip(_probe_then("torch.nn.modules.foo", "NoSuchLayer"))
    with pytest.raises(pickle.UnpicklingError, match=(
            r"can't rebuild 'torch.nn.modules.foo.NoSuchLayer' from this PyTorch file: "
            r"flambeau has no counterpart for it \(torch's classes and functions load as "
            r"flambeau's of the same public name")):
        flambeau.load(buf, weights_only=False)
    assert _Probe.built == []


def test_undefined_user_class_is_named():
    buf = _torch_zip(b"\x80\x02c_no_such_module_x\nNet\n)\x81.")
    with pytest.raises(CheckpointError, match=r"can't rebuild '_no_such_module_x.Net': No "
                                              r"module named '_no_such_module_x'. Import or "
                                              r"define it"):
        flambeau.load(buf, weights_only=False)


@pytest.mark.parametrize("protocol", [2, 4])
def test_weights_only_refusal_names_every_global_first(protocol):
    _Probe.built.clear()
    data = pickle.dumps([_Probe(), _Probe, collections.Counter()], protocol=protocol)
    with pytest.raises(pickle.UnpicklingError, match=(
            rf"refused to load the globals '{__name__}._Probe', 'collections.Counter': with "
            r"weights_only=True")):
        flambeau.load(_torch_zip(data))
    assert _Probe.built == []
    out = flambeau.load(_torch_zip(data), weights_only=False)
    assert type(out[0]) is _Probe and out[1] is _Probe and out[2] == collections.Counter()


def test_a_module_object_in_the_file_is_left_alone():
    # torch._C._VariableFunctionsClass is flambeau's top-level module: its namespace is not
    # walked for tensors (nor changed)
    data = b"\x80\x02]q\x00(ctorch._C\n_VariableFunctionsClass\nctorch\nfloat64\ne."
    before = dict(vars(flambeau))
    module, dtype = flambeau.load(_torch_zip(data), weights_only=False)
    assert module is flambeau and dtype is flambeau.float64
    assert vars(flambeau) == before


def test_removable_handle_takes_torchs_pickled_layout():
    """torch pickles a hook handle as (hooks dict, id[, extra dicts]): a module saved whole
    keeps some (a lazy module's _initialize_hook), and removing one must still work."""
    from flambeau.utils.hooks import RemovableHandle

    hooks, extra = {7: print}, {7: True}
    handle = RemovableHandle.__new__(RemovableHandle)
    handle.__setstate__((hooks, 7, (extra, None)))
    assert RemovableHandle(hooks).id > 7  # new ids move past the loaded one
    handle.remove()
    assert hooks == {} and extra == {}
    bare = RemovableHandle.__new__(RemovableHandle)
    bare.__setstate__((None, 3))  # torch's handle whose dict was gone
    bare.remove()
    assert bare.id == 3 and bare.hooks_dict_ref == {}
    ours = pickle.loads(pickle.dumps(RemovableHandle({})))  # flambeau's own layout
    assert ours.hooks_dict_ref == {} and ours.extra_dict_ref == ()
