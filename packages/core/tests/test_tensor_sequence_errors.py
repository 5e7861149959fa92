"""cat, stack and their relatives refuse what torch refuses: a Tensor, or non-Tensor items."""

import pytest

import flambeau
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()

OPS = ["cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack", "column_stack",
       "row_stack"]


@pytest.mark.parametrize("op", OPS)
def test_a_tensor_is_not_a_sequence_of_tensors(op):
    name = "cat" if op.startswith("concat") else op  # torch's aliases: one function here
    with pytest.raises(TypeError, match=rf"^{name}\(\): argument 'tensors' \(position 1\) "
                                        r"must be tuple of Tensors, not Tensor$"):
        getattr(flambeau, op)(flambeau.ones(2, 2))
    if torch is not None:
        with pytest.raises(TypeError, match="must be tuple of Tensors, not Tensor"):
            getattr(torch, op)(torch.ones(2, 2))


@pytest.mark.parametrize("op", ["cat", "stack", "vstack", "dstack"])
def test_a_non_iterable_is_not_a_sequence_of_tensors(op):
    # was Python's bare "'NoneType' object is not iterable", naming neither op nor argument
    for bad, name in ((None, "NoneType"), (3, "int")):
        with pytest.raises(TypeError, match=rf"^{op}\(\): argument 'tensors' \(position 1\) "
                                            rf"must be tuple of Tensors, not {name}$"):
            getattr(flambeau, op)(bad)
        if torch is not None:
            with pytest.raises(TypeError, match=f"must be tuple of Tensors, not {name}"):
                getattr(torch, op)(bad)


@pytest.mark.parametrize("op", OPS)
def test_items_must_be_tensors(op):
    with pytest.raises(TypeError, match=r"expected Tensor as element 1 in argument 0, but got "
                                        r"int"):
        getattr(flambeau, op)([flambeau.ones(2, 2), 3])
    if torch is not None:
        with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 0, but "
                                            "got int"):
            getattr(torch, op)([torch.ones(2, 2), 3])


def test_generators_still_work_including_legacy_empty_tensors():
    assert flambeau.cat(t for t in [flambeau.ones(1), flambeau.zeros(1)]).tolist() == [1.0, 0.0]
    assert flambeau.cat(t for t in [flambeau.ones(0), flambeau.ones(0)]).shape == (0,)
