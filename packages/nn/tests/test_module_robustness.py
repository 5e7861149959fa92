"""Module edge cases a user hits, compared with torch: removed hooks leave no marks behind,
a load whose copy fails (or that fails after a nested load) changes nothing."""

import pytest

import flambeau
from flambeau import nn


def _libs():
    torch = pytest.importorskip("torch")
    return ((flambeau, nn), (torch, torch.nn))


def _marks(m):
    return [set(getattr(m, name)) for name in ("_forward_pre_hooks_with_kwargs",
                                               "_forward_hooks_with_kwargs",
                                               "_forward_hooks_always_called")]


def test_removed_forward_hooks_leave_no_marks_as_torch():
    for lib, lib_nn in _libs():
        m = lib_nn.Linear(2, 1)
        kept = m.register_forward_hook(lambda mod, args, kwargs, out: None, with_kwargs=True,
                                       always_call=True)
        handles = [
            m.register_forward_pre_hook(lambda mod, args, kwargs: None, with_kwargs=True),
            m.register_forward_hook(lambda mod, args, kwargs, out: None, with_kwargs=True),
            m.register_forward_hook(lambda mod, args, out: None, always_call=True),
            m.register_forward_hook(lambda mod, args, kwargs, out: None, with_kwargs=True,
                                    always_call=True, prepend=True),
        ]
        for h in handles:
            h.remove()
            h.remove()  # a second remove does nothing
        assert _marks(m) == [set(), {kept.id}, {kept.id}], lib.__name__
        assert list(m._forward_pre_hooks) == [] and list(m._forward_hooks) == [kept.id]
        kept.remove()
        assert _marks(m) == [set(), set(), set()], lib.__name__

