"""flambeau.utils.swap_tensors against torch.utils.swap_tensors: what moves, and when it
refuses."""

import weakref

import pytest

import flambeau
from flambeau.testing._harness import torch_or_none
from flambeau.utils import swap_tensors

torch = torch_or_none()


def _swap_plain(lib, swap):
    a = lib.tensor([1.0, 2.0], device="cpu")
    b = lib.tensor([3.0, 4.0, 5.0], device="cpu", requires_grad=True)
    b.grad = lib.ones(3, device="cpu")
    keep_a, keep_b = a, b
    swap(a, b)
    return (keep_a is a and keep_b is b, a.cpu().detach().numpy().tolist(), a.requires_grad,
            a.grad.cpu().numpy().tolist(), b.cpu().numpy().tolist(), b.requires_grad, b.grad)


def test_contents_move_and_identities_stay_as_in_torch():
    got = _swap_plain(flambeau, swap_tensors)
    assert got == (True, [3.0, 4.0, 5.0], True, [1.0, 1.0, 1.0], [1.0, 2.0], False, None)
    if torch is not None:
        assert got == _swap_plain(torch, torch.utils.swap_tensors)


def test_classes_and_attributes_move_between_tensors_with_a_dict():
    class Tagged(flambeau.Tensor):
        pass

    a = flambeau.zeros(1, device="cpu").as_subclass(Tagged)
    b = flambeau.ones(2, device="cpu").as_subclass(Tagged)
    a.tag = "a"
    swap_tensors(a, b)
    assert (a.tolist(), vars(a), b.tolist(), vars(b)) == ([1.0, 1.0], {}, [0.0], {"tag": "a"})

    class Other(flambeau.Tensor):
        pass

    c = flambeau.ones(1, device="cpu").as_subclass(Other)
    swap_tensors(a, c)
    assert type(a) is Other and type(c) is Tagged


def test_a_leaf_used_in_a_graph_is_swapped_and_its_old_graph_refuses_backward():
    def case(lib, swap):
        x = lib.zeros(2, device="cpu", requires_grad=True)
        y = (x * 2).sum()  # x not saved: only its leaf node refers to it
        swap(x, lib.ones(2, device="cpu", requires_grad=True))
        with pytest.raises(RuntimeError, match="swap_tensors"):
            y.backward()
        (x * 3).sum().backward()  # a graph recorded after the swap works
        return x.grad.cpu().numpy().tolist()

    assert case(flambeau, swap_tensors) == [3.0, 3.0]
    if torch is not None:
        assert case(torch, torch.utils.swap_tensors) == [3.0, 3.0]


def test_refusals():
    x = flambeau.zeros(2)
    ref = weakref.ref(x)
    with pytest.raises(RuntimeError, match="Cannot swap t1 because it has weakref associated "
                                           "with it"):
        swap_tensors(x, flambeau.ones(2))
    with pytest.raises(RuntimeError, match="Cannot swap t2 because it has weakref associated "
                                           "with it"):
        swap_tensors(flambeau.ones(2), x)
    del ref
    view = x[:1]
    with pytest.raises(RuntimeError, match="Cannot swap t1: a view or alias of it holds it"):
        swap_tensors(x, flambeau.ones(2))
    del view
    w = flambeau.zeros(2, requires_grad=True)
    y = (w * w).sum()  # w saved for backward
    with pytest.raises(RuntimeError, match="Cannot swap t2: a node of the autograd graph that "
                                           "saved it for backward holds it"):
        swap_tensors(flambeau.ones(2), w)
    y.backward()  # frees what was saved: now it may go
    swap_tensors(flambeau.ones(2), w)

    class Slotted(flambeau.Tensor):
        __slots__ = ("extra",)

    with pytest.raises(RuntimeError, match="Cannot swap t1 and t2 if they have different "
                                           "slots"):
        swap_tensors(flambeau.zeros(1).as_subclass(Slotted), flambeau.zeros(1))

    with pytest.raises(TypeError, match="swap_tensors: t2 must be a Tensor, got int"):
        swap_tensors(flambeau.zeros(1), 1)
    if torch is not None:  # torch refuses the same cases
        t = torch.zeros(2)
        ref = weakref.ref(t)
        with pytest.raises(RuntimeError, match="weakref"):
            torch.utils.swap_tensors(t, torch.ones(2))
        assert ref() is t
        w = torch.zeros(2, requires_grad=True)
        y = (w * w).sum()
        with pytest.raises(RuntimeError, match="use_count"):
            torch.utils.swap_tensors(torch.ones(2), w)


def test_a_swap_scans_the_garbage_collectors_objects_once(monkeypatch):
    # each scan costs time in proportion to the whole program's objects: a swap of two tensors
    # nothing else holds must not pay one per tensor
    import gc

    scans = []
    real = gc.get_referrers
    monkeypatch.setattr(gc, "get_referrers", lambda *objs: scans.append(objs) or real(*objs))
    a, b = flambeau.zeros(2), flambeau.ones(3)
    swap_tensors(a, b)
    assert len(scans) == 1
    assert (a.cpu().numpy().tolist(), b.cpu().numpy().tolist()) == ([1.0] * 3, [0.0] * 2)


def _swap_with_parameter(lib, swap, parameter_first):
    nn = pytest.importorskip(lib.__name__ + ".nn")
    a = lib.tensor([1.0, 2.0])
    b = nn.Parameter(lib.tensor([3.0]))
    b.note = "kept"  # an attribute moves with the Parameter's contents
    if parameter_first:
        a, b = b, a
    keep_a, keep_b = a, b
    swap(a, b)
    return [(type(t).__name__, isinstance(t, nn.Parameter), t.detach().cpu().numpy().tolist(),
             t.requires_grad, t.__dict__.get("note")) for t in (a, b)] + [
        keep_a is a and keep_b is b]


@pytest.mark.parametrize("parameter_first", [False, True])
def test_a_tensor_swaps_with_a_parameter_as_torch(parameter_first):
    """A Parameter had a __dict__ that the base Tensor lacked, so Python refused to change
    either object's class and swap_tensors refused the pair; torch swaps them."""
    ours = _swap_with_parameter(flambeau, swap_tensors, parameter_first)
    if torch is not None:
        assert ours == _swap_with_parameter(torch, torch.utils.swap_tensors, parameter_first)
    moved = ours[1] if not parameter_first else ours[0]
    assert moved == ("Tensor", False, [1.0, 2.0], False, None)


def test_plain_tensors_take_attributes_as_torchs():
    """Attributes on a plain tensor (which now has a __dict__) survive deepcopy and pickle,
    as torch's do."""
    import copy
    import pickle

    for lib in [flambeau] if torch is None else [flambeau, torch]:
        t = lib.ones(1)
        t.note = 3
        assert t.__dict__ == {"note": 3} and lib.ones(1).__dict__ == {}
        assert copy.deepcopy(t).note == 3 and pickle.loads(pickle.dumps(t)).note == 3
        assert pickle.loads(pickle.dumps(lib.ones(1))).__dict__ == {}


@pytest.mark.parametrize("layout", ["strided", "sparse_coo"])
def test_plain_tensor_attributes_survive_save_and_deepcopy_as_torchs(layout):
    """flambeau.save keeps a plain tensor's attributes (it dropped them) and deepcopy copies
    them deeply (it shared them with the copy), as torch does."""
    import copy
    import io

    for lib in [flambeau] if torch is None else [flambeau, torch]:
        t = lib.ones(2, 2) if layout == "strided" else lib.ones(2, 2).to_sparse()
        t.note = [3]
        twin = copy.deepcopy(t)
        assert twin.note == [3] and twin.note is not t.note
        buffer = io.BytesIO()
        lib.save({"t": t, "bare": lib.ones(1)}, buffer)
        buffer.seek(0)
        loaded = lib.load(buffer, weights_only=True)
        assert loaded["t"].note == [3] and loaded["bare"].__dict__ == {}
        assert loaded["t"].layout == t.layout
