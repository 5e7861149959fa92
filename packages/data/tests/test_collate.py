import collections

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flambeau
from flambeau.data import default_collate, default_convert

Point = collections.namedtuple("Point", ["x", "y"])


def test_tensors_stack():
    out = default_collate([flambeau.tensor([1.0, 2.0]), flambeau.tensor([3.0, 4.0])])
    assert isinstance(out, flambeau.Tensor) and out.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert out.dtype == flambeau.float32


def test_numbers_and_strings():
    assert default_collate([1.5, 2.5]).dtype == flambeau.float64
    ints = default_collate([1, 2, 3])
    assert ints.dtype == flambeau.int64 and ints.tolist() == [1, 2, 3]
    bools = default_collate([True, False])
    assert bools.dtype == flambeau.bool and bools.tolist() == [True, False]
    assert default_collate(["a", "b"]) == ["a", "b"]
    assert default_collate([b"a", b"b"]) == [b"a", b"b"]


def test_numpy_arrays_and_scalars():
    out = default_collate([np.zeros((2, 2), np.int32), np.ones((2, 2), np.int32)])
    assert isinstance(out, flambeau.Tensor) and out.dtype == flambeau.int32
    assert out.shape == (2, 2, 2) and out.sum().item() == 4
    scalars = default_collate([np.float32(1.0), np.float32(2.0)])
    assert scalars.dtype == flambeau.float32 and scalars.tolist() == [1.0, 2.0]
    assert default_collate([np.str_("a"), np.str_("b")]) == ["a", "b"]


def test_nested_structures():
    batch = [{"img": flambeau.ones(2), "meta": (i, f"s{i}"), "p": Point(i, [i, -i])}
             for i in range(3)]
    out = default_collate(batch)
    assert out["img"].shape == (3, 2)
    assert isinstance(out["meta"], list)  # tuples come back as lists, as in PyTorch
    assert out["meta"][0].tolist() == [0, 1, 2] and out["meta"][1] == ["s0", "s1", "s2"]
    assert isinstance(out["p"], Point) and out["p"].x.tolist() == [0, 1, 2]
    assert [t.tolist() for t in out["p"].y] == [[0, 1, 2], [0, -1, -2]]


def test_mismatched_shapes_name_the_field():
    batch = [{"img": flambeau.ones(3)}, {"img": flambeau.ones(3)}, {"img": flambeau.ones(4)}]
    with pytest.raises(RuntimeError, match=r"at \['img'\]: sample 0 has shape \(3,\) but "
                                           r"sample 2 has shape \(4,\)"):
        default_collate(batch)
    with pytest.raises(RuntimeError, match=r"at \[1\]\.y: sample 0 has shape \(2,\)"):
        default_collate([(0, Point(1, np.ones(2))), (0, Point(1, np.ones(5)))])


def test_unequal_sequence_lengths():
    with pytest.raises(RuntimeError, match=r"equal size; got sizes \[1, 2\]"):
        default_collate([[1], [1, 2]])


@pytest.mark.parametrize("batch, match", [
    ([object(), object()], "found <class 'object'>"),
    ([np.array(["a"]), np.array(["b"])], "numpy array of dtype <U1"),
])
def test_unsupported_types(batch, match):
    with pytest.raises(TypeError, match=match):
        default_collate(batch)


def test_bad_batch_argument():
    with pytest.raises(ValueError, match="empty batch"):
        default_collate([])
    with pytest.raises(TypeError, match="expected a list of samples"):
        default_collate("ab")


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 3), max_size=3), n=st.integers(1, 5))
def test_stacking_any_shape(shape, n):
    arrays = [np.full(shape, i, np.float32) for i in range(n)]
    out = default_collate([flambeau.tensor(a) for a in arrays])
    assert out.shape == (n, *shape)
    np.testing.assert_array_equal(out.cpu().numpy(), np.stack(arrays))


@pytest.mark.parity
def test_matches_torch_default_collate():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    rng = np.random.default_rng(0)
    samples = [{"x": rng.random((2, 3)).astype(np.float32), "y": int(i), "w": float(i) / 3,
                "pair": (np.int64(i), rng.random(2))} for i in range(4)]
    ours, theirs = default_collate(samples), torch_collate(samples)
    np.testing.assert_array_equal(ours["x"].cpu().numpy(), theirs["x"].cpu().numpy())
    assert ours["y"].tolist() == theirs["y"].tolist() and str(theirs["y"].dtype) == "torch.int64"
    np.testing.assert_array_equal(ours["w"].cpu().numpy(), theirs["w"].cpu().numpy())
    assert ours["w"].dtype == flambeau.float64 and theirs["w"].dtype == torch.float64
    assert type(ours["pair"]) is type(theirs["pair"]) is list
    for a, b in zip(ours["pair"], theirs["pair"]):
        np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())


def test_default_convert():
    out = default_convert({"a": np.arange(3), "b": (np.float32(2), "s"), "c": 1})
    assert isinstance(out["a"], flambeau.Tensor) and out["a"].tolist() == [0, 1, 2]
    assert isinstance(out["b"], list) and out["b"][0].item() == 2.0 and out["b"][1] == "s"
    assert out["c"] == 1
    assert default_convert(Point(np.zeros(1), 2)).x.tolist() == [0.0]
    text = np.array(["a"])
    assert default_convert(text) is text


def test_samples_of_another_numpy_backend_stay_on_their_device():
    # testdev's plain arrays are NumPy's: the CPU's fast path made them a CPU batch
    from flambeau.backends import backend_names

    if "testdev" not in backend_names():
        pytest.skip("needs the test plugin's testdev device")
    samples = [flambeau.tensor([float(i), 1.0], device="testdev:1") for i in range(3)]
    batch = default_collate(samples)
    assert batch.device == flambeau.device("testdev:1")
    np.testing.assert_array_equal(batch.cpu().numpy(), [[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
