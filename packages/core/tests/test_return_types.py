"""Ops that return ``(values, indices)`` return the named tuple type of their name."""

import pickle

import numpy as np
import pytest

import flambeau
from flambeau import return_types

X = [[1.0, 5.0, 2.0], [3.0, 2.0, 2.0]]

CALLS = {
    "max": lambda m, x: m.max(x, 1), "min": lambda m, x: m.min(x, 0),
    "sort": lambda m, x: m.sort(x), "topk": lambda m, x: m.topk(x, 2),
    "kthvalue": lambda m, x: m.kthvalue(x, 2), "median": lambda m, x: m.median(x, 1),
    "nanmedian": lambda m, x: m.nanmedian(x, 1), "mode": lambda m, x: m.mode(x),
    "cummax": lambda m, x: m.cummax(x, 1), "cummin": lambda m, x: m.cummin(x, 0),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_op_returns_its_own_named_tuple(name):
    result = CALLS[name](flambeau, flambeau.tensor(X))
    assert type(result) is getattr(return_types, name)
    assert type(result).__name__ == name and result._fields == ("values", "indices")
    values, indices = result  # still a tuple
    assert values is result.values and indices is result.indices
    assert repr(result) == (f"flambeau.return_types.{name}(\nvalues={result.values!r},\n"
                            f"indices={result.indices!r})")
    again = pickle.loads(pickle.dumps(result))
    assert type(again) is type(result)
    np.testing.assert_array_equal(again.values.cpu().numpy(), values.cpu().numpy())


def test_the_methods_return_the_same_types():
    x = flambeau.tensor(X)
    assert type(x.max(dim=0)) is return_types.max
    assert type(x.sort(descending=True)) is return_types.sort
    assert type(x.topk(1)) is return_types.topk


@pytest.mark.host_only  # compares reprs with torch CPU tensors
@pytest.mark.parametrize("name", sorted(CALLS))
def test_names_and_values_match_torch(name):
    torch = pytest.importorskip("torch")
    theirs = CALLS[name](torch, torch.tensor(X))
    ours = CALLS[name](flambeau, flambeau.tensor(X))
    assert type(theirs).__name__ == type(ours).__name__
    assert repr(theirs).replace("torch.", "") == repr(ours).replace("flambeau.", "")
