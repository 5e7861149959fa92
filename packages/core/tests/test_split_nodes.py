"""split, chunk and unbind as one multi-output view node each (torch's SplitBackward0,
SplitWithSizesBackward0 and UnbindBackward0), narrow and tensor_split as SliceBackward0:
node names, gradients when only some pieces are used, views of the input, and torch's refusal
of in-place writes into the pieces of a multi-output view while recording."""

import numpy as np
import pytest

import flambeau
from flambeau.autograd import gradcheck, gradgradcheck
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()

PIECES = {
    "split": (lambda x: x.split(2), "SplitBackward0"),
    "chunk": (lambda x: x.chunk(3, 1), "SplitBackward0"),
    "split_sizes": (lambda x: x.split([1, 4]), "SplitWithSizesBackward0"),
    "split_with_sizes": (lambda x: x.split_with_sizes([3, 2]), "SplitWithSizesBackward0"),
    "unbind": (lambda x: x.unbind(1), "UnbindBackward0"),
    "tensor_split": (lambda x: x.tensor_split(2), "SliceBackward0"),
    "narrow": (lambda x: (x.narrow(0, 1, 2),), "SliceBackward0"),
}


def _x(requires_grad=True, dtype=flambeau.float64):
    rng = np.random.default_rng(0)
    return flambeau.tensor(rng.standard_normal((5, 3)), dtype=dtype,
                           requires_grad=requires_grad)


@pytest.mark.parametrize("op", PIECES)
def test_node_names_match_torch(op):
    fn, name = PIECES[op]
    pieces = fn(_x())
    assert {p.grad_fn.name() for p in pieces} == {name}
    if torch is not None:
        theirs = fn(torch.zeros(5, 3, requires_grad=True))
        assert {p.grad_fn.name() for p in theirs} == {name}


@pytest.mark.parametrize("op", ["split", "chunk", "split_sizes", "unbind"])
def test_the_pieces_share_one_node_and_view_the_input(op):
    x = _x() * 1
    pieces = PIECES[op][0](x)
    assert len({id(p.grad_fn) for p in pieces}) == 1
    assert pieces[0].grad_fn.next_functions[0] == (x.grad_fn, 0)
    assert all(p._base is x for p in pieces)
    with flambeau.no_grad():
        x.mul_(2)  # a write into the input shows in every piece
    assert flambeau.equal(pieces[-1], PIECES[op][0](x.detach())[-1])


@pytest.mark.parametrize("op", ["split", "chunk", "split_sizes", "unbind", "tensor_split"])
@pytest.mark.parametrize("used", [(0,), (-1,), (0, -1), "all"])
def test_gradients_when_some_pieces_are_used(op, used):
    fn = PIECES[op][0]

    def program(x):
        pieces = fn(x)
        chosen = range(len(pieces)) if used == "all" else used
        return sum(((k + 2) * pieces[k]).sin().sum() for k in chosen)

    x = _x()
    assert gradcheck(program, (x,))
    assert gradgradcheck(program, (x,))
    program(x).backward()
    if torch is not None:
        tx = torch.tensor(x.detach().cpu().numpy(), requires_grad=True)
        program(tx).backward()
        np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-12)


def test_a_piece_without_gradient_gets_zeros_in_the_join():
    x = flambeau.arange(6.0, requires_grad=True)
    a, b, c = x.split(2)
    (3 * b).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 3.0, 3.0, 0.0, 0.0]
    x.grad = None
    rows = flambeau.arange(6.0).reshape(3, 2).requires_grad_()
    rows.unbind(0)[2].sum().backward()
    assert rows.grad.tolist() == [[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]]


def test_integer_pieces_split_without_a_node():
    pieces = flambeau.arange(5).split(2)
    assert [p.tolist() for p in pieces] == [[0, 1], [2, 3], [4]]
    assert all(p.grad_fn is None for p in pieces)


@pytest.mark.parametrize("op, name", [("split", "Split"), ("chunk", "Split"),
                                      ("split_sizes", "SplitWithSizes"), ("unbind", "Unbind")])
@pytest.mark.parametrize("leaf", [True, False])
def test_writing_a_piece_in_place_while_recording_raises_like_torch(op, name, leaf):
    x = _x() if leaf else _x() * 1
    piece = PIECES[op][0](x)[1]
    message = (f"output 1 of {name} is a view and is being modified inplace. This view is the "
               "output of a function that returns multiple views")
    with pytest.raises(RuntimeError, match=message):
        piece.mul_(2)
    assert flambeau.equal(piece, PIECES[op][0](x.detach())[1])  # nothing was written
    if torch is not None:
        tx = torch.zeros(5, 3, requires_grad=True)
        with pytest.raises(RuntimeError, match=message.replace("output 1", "Output 1")):
            PIECES[op][0](tx if leaf else tx * 1)[1].mul_(2)


@pytest.mark.parametrize("op", ["split", "unbind"])
def test_pieces_may_be_written_without_recording(op):
    x = _x(requires_grad=False)
    PIECES[op][0](x)[0].fill_(7.0)  # nothing requires grad
    assert x[0, 0].item() == 7.0
    w = _x()
    with flambeau.no_grad():
        PIECES[op][0](w)[0].fill_(5.0)  # an initialisation, as nn.init does
    assert w[0, 0].item() == 5.0


@pytest.mark.parametrize("op, rows", [("tensor_split", [0, 1, 2]), ("narrow", [1, 2])])
def test_slice_pieces_may_be_written_while_recording(op, rows):
    y = _x()
    z = y * 1
    PIECES[op][0](z)[0].mul_(2)  # a SliceBackward0 view: the base gets the write's history
    z.sum().backward()
    expected = np.ones((5, 3))
    expected[rows] = 2.0
    np.testing.assert_array_equal(y.grad.cpu().numpy(), expected)
