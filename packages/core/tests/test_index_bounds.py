"""Index bounds as torch 2.13 checks them: gather, scatter, scatter_add, scatter_reduce,
index_select, index_add, index_copy and index_reduce refuse negative indices (NumPy would
count them from the end, silently), while index_fill, take, take_along_dim and subscripts
count them from the end; bincount refuses negative values."""

from __future__ import annotations

import pytest

import flambeau


def _x():
    return flambeau.arange(12.0).reshape(3, 4)


@pytest.mark.parametrize(("call", "exc", "name"), [
    (lambda x: x.gather(1, flambeau.tensor([[0, -1]])), RuntimeError, "gather"),
    (lambda x: x.gather(1, flambeau.tensor([[4]])), RuntimeError, "gather"),
    (lambda x: x.scatter(1, flambeau.tensor([[0, -1]]), 5.0), RuntimeError, "scatter"),
    (lambda x: x.scatter_add(1, flambeau.tensor([[-1]]), flambeau.ones(1, 1)), RuntimeError,
     "scatter"),
    (lambda x: x.scatter_reduce(1, flambeau.tensor([[-1]]), flambeau.ones(1, 1), "sum"),
     RuntimeError, "scatter_reduce"),
    (lambda x: x.index_select(1, flambeau.tensor([-1])), RuntimeError, "index_select"),
    (lambda x: x.index_add(1, flambeau.tensor([-1]), flambeau.ones(3, 1)), RuntimeError,
     "index_add"),
    (lambda x: x.index_copy(1, flambeau.tensor([-1]), flambeau.ones(3, 1)), IndexError,
     "index_copy"),
    (lambda x: x.index_reduce(1, flambeau.tensor([-1]), flambeau.ones(3, 1), "prod"),
     IndexError, "index_reduce"),
    (lambda x: x.index_fill(1, flambeau.tensor([4]), 7.0), IndexError, "index_fill"),
])
def test_out_of_range_indices_are_refused(call, exc, name):
    x = _x()
    with pytest.raises(exc, match=rf"{name}\(\): index -?\d+ is out of bounds for dimension 1 "
                                  r"with size 4"):
        call(x)
    assert x.tolist() == _x().tolist()


def test_negative_indices_count_from_the_end_where_torch_takes_them():
    x = _x()
    assert x.index_fill(1, flambeau.tensor([-1]), 7.0)[:, 3].tolist() == [7.0, 7.0, 7.0]
    assert x.take(flambeau.tensor([-1])).tolist() == [11.0]
    assert flambeau.take_along_dim(x, flambeau.tensor([[-1, 0]]), 1).tolist() == [
        [3.0, 0.0], [7.0, 4.0], [11.0, 8.0]]
    assert flambeau.take_along_dim(x, flambeau.tensor([-1])).tolist() == [11.0]
    assert x[flambeau.tensor([-1])].tolist() == [[8.0, 9.0, 10.0, 11.0]]


def test_bincount_refuses_negative_values():
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral"):
        flambeau.bincount(flambeau.tensor([-1, 2]))
    with pytest.raises(RuntimeError, match="bincount only supports 1-d"):
        flambeau.bincount(flambeau.tensor([[1, 2]]))
    assert flambeau.bincount(flambeau.tensor([True, False, True])).tolist() == [1, 2]
