"""A state_dict's ``_metadata`` (each module's ``version``), as torch's: the same keys and
versions, kept by flambeau.save/load and through torch files, and used on loading (BatchNorm's
``num_batches_tracked`` came in version 2)."""

import io
from collections import OrderedDict

import numpy as np
import pytest

import flambeau


def _model(lib):
    n = lib.nn
    return n.Sequential(n.Conv2d(1, 2, 3), n.BatchNorm2d(2),
                        n.Sequential(n.InstanceNorm1d(2, track_running_stats=True), n.LayerNorm(2)),
                        n.LSTM(2, 3), n.SyncBatchNorm(2))


def _round_trip(obj, save, load):
    buf = io.BytesIO()
    save(obj, buf)
    buf.seek(0)
    return load(buf)


@pytest.mark.parity
def test_metadata_keys_and_versions_as_torch():
    torch = pytest.importorskip("torch")
    want = _model(torch).state_dict()._metadata
    got = _model(flambeau).state_dict()._metadata
    assert type(got) is OrderedDict and list(got.items()) == list(want.items())
    assert got["1"] == {"version": 2} and got["2.1"] == {"version": 1}


def test_flambeau_save_load_keeps_metadata():
    sd = _model(flambeau).state_dict()
    loaded = _round_trip({"model": sd}, flambeau.save, flambeau.load)["model"]
    assert type(loaded) is OrderedDict and list(loaded) == list(sd)
    assert list(loaded._metadata.items()) == list(sd._metadata.items())
    # a plain dict or an OrderedDict without metadata gets none
    loaded = _round_trip([OrderedDict(a=1), {"b": 2}], flambeau.save, flambeau.load)
    assert not hasattr(loaded[0], "_metadata") and not hasattr(loaded[1], "_metadata")


@pytest.mark.parity
def test_torch_saved_state_dict_keeps_metadata():
    torch = pytest.importorskip("torch")
    sd = _model(torch).state_dict()
    loaded = _round_trip(sd, torch.save, flambeau.load)
    assert list(loaded._metadata.items()) == list(sd._metadata.items())
    model = _model(flambeau)
    assert str(model.load_state_dict(loaded)) == "<All keys matched successfully>"
    np.testing.assert_array_equal(model[0].weight.detach().cpu().numpy(),
                                  sd["0.weight"].numpy())


def _without_tracked(lib, metadata):
    """A BatchNorm1d's state dict without num_batches_tracked, its metadata as given."""
    m = lib.nn.BatchNorm1d(2)
    sd = OrderedDict((k, v) for k, v in m.state_dict().items() if k != "num_batches_tracked")
    if metadata is not None:
        sd._metadata = OrderedDict([("", metadata)])
    return sd


def _load_result(lib, sd):
    """What load_state_dict gives: the message, and num_batches_tracked after it."""
    m = lib.nn.BatchNorm1d(2)
    m.num_batches_tracked += 5
    try:
        out = str(m.load_state_dict(sd))
    except RuntimeError as exc:
        out = str(exc)
    return out, int(m.num_batches_tracked)


@pytest.mark.parity
@pytest.mark.parametrize("metadata", [None, {}, {"version": 1}, {"version": 2}],
                         ids=["no-metadata", "no-version", "v1", "v2"])
def test_batchnorm_upgrade_as_torch(metadata):
    torch = pytest.importorskip("torch")
    want = _load_result(torch, _without_tracked(torch, metadata))
    got = _load_result(flambeau, _without_tracked(flambeau, metadata))
    assert got == want
    # before version 2 the counter is kept; from version 2 it must be there
    assert want[1] == 5
    assert ("Missing key(s)" in want[0]) == (metadata == {"version": 2})


@pytest.mark.parity
def test_batchnorm_upgrade_without_a_counter_as_torch():
    torch = pytest.importorskip("torch")

    def message(lib):
        m = lib.nn.BatchNorm1d(2)
        m.num_batches_tracked = None  # tracking stats, but no counter: torch adds a zero one
        with pytest.raises(RuntimeError) as err:
            m.load_state_dict(_without_tracked(lib, None))
        return str(err.value)

    assert message(flambeau) == message(torch)
    assert 'Unexpected key(s) in state_dict: "num_batches_tracked"' in message(flambeau)


@pytest.mark.parity
def test_instance_norm_old_running_stats_error_as_torch():
    torch = pytest.importorskip("torch")

    def message(lib, metadata):
        sd = OrderedDict(running_mean=lib.zeros(2), running_var=lib.ones(2))
        if metadata is not None:
            sd._metadata = OrderedDict([("", metadata)])
        with pytest.raises(RuntimeError) as err:
            lib.nn.InstanceNorm1d(2).load_state_dict(sd)
        return str(err.value)

    with_no_version = message(flambeau, None)
    assert message(torch, None).startswith(
        'Error(s) in loading state_dict for InstanceNorm1d:\n\tUnexpected running stats buffer(s) '
        '"running_mean" and "running_var" for InstanceNorm1d with track_running_stats=False')
    assert with_no_version == (
        'Error(s) in loading state_dict for InstanceNorm1d:\n\tUnexpected running stats '
        'buffer(s) "running_mean" and "running_var" for InstanceNorm1d with '
        'track_running_stats=False: a state dict saved before PyTorch 0.4.0 may hold them, as '
        'InstanceNorm1d tracked them by default then. Remove these keys from the state dict, '
        'or create InstanceNorm1d with track_running_stats=True to use them')
    # with a version, they are unexpected keys, as in torch
    assert message(flambeau, {"version": 1}) == message(torch, {"version": 1})
