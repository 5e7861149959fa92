"""Creation functions: values, dtypes, shapes, devices and RNG reproducibility."""

import numpy as np
import pytest

import flambeau
from flambeau.testing._harness import device_params

DEVICES = pytest.mark.parametrize("device", device_params())


def _check(t, expected, dtype, device):
    assert t.dtype is dtype
    assert t.device.type == device
    np.testing.assert_array_equal(t.cpu().numpy(), np.asarray(expected))


@DEVICES
def test_tensor_infers_dtype(device):
    _check(flambeau.tensor([1, 2], device=device), [1, 2], flambeau.int64, device)
    _check(flambeau.tensor([1.0, 2], device=device), [1, 2], flambeau.float32, device)
    _check(flambeau.tensor([True, False], device=device), [True, False], flambeau.bool, device)
    _check(flambeau.tensor(3.5, device=device), 3.5, flambeau.float32, device)
    _check(flambeau.tensor([[1, 2], [3, 4]], dtype=flambeau.float64, device=device),
           [[1, 2], [3, 4]], flambeau.float64, device)
    assert flambeau.tensor([]).shape == (0,)
    assert flambeau.tensor(np.zeros((2, 0))).shape == (2, 0)


@pytest.mark.host_only
def test_tensor_copies_but_as_tensor_and_from_numpy_share():
    a = np.arange(3.0)
    t, s, f = flambeau.tensor(a), flambeau.as_tensor(a), flambeau.from_numpy(a)
    a[0] = 9
    assert t[0].item() == 0 and s[0].item() == 9 and f[0].item() == 9
    assert f.dtype is flambeau.float64
    assert flambeau.as_tensor(t) is t
    assert flambeau.as_tensor(t, dtype=flambeau.float64).dtype is flambeau.float64


def test_tensor_from_tensors_and_numpy_scalars():
    t = flambeau.tensor([flambeau.tensor(1.5), np.float32(2.0)])
    assert t.tolist() == [1.5, 2.0] and t.dtype is flambeau.float32


@DEVICES
def test_filled(device):
    _check(flambeau.zeros(2, 3, device=device), np.zeros((2, 3)), flambeau.float32, device)
    _check(flambeau.ones((2,), dtype=flambeau.int32, device=device), [1, 1], flambeau.int32,
           device)
    _check(flambeau.full((2,), 7, device=device), [7, 7], flambeau.int64, device)
    _check(flambeau.full((2,), 1.5, device=device), [1.5, 1.5], flambeau.float32, device)
    _check(flambeau.full((1,), True, device=device), [True], flambeau.bool, device)
    assert flambeau.empty(2, 3, device=device).shape == (2, 3)
    _check(flambeau.eye(2, 3, device=device), np.eye(2, 3), flambeau.float32, device)
    _check(flambeau.zeros((), device=device), 0.0, flambeau.float32, device)


@DEVICES
def test_like(device):
    x = flambeau.ones(2, 3, dtype=flambeau.float64, device=device)
    _check(flambeau.zeros_like(x), np.zeros((2, 3)), flambeau.float64, device)
    _check(flambeau.ones_like(x, dtype=flambeau.int8), np.ones((2, 3)), flambeau.int8, device)
    _check(flambeau.full_like(x, 4), np.full((2, 3), 4), flambeau.float64, device)
    assert flambeau.empty_like(x).shape == (2, 3)
    assert flambeau.rand_like(x).dtype is flambeau.float64
    assert flambeau.randn_like(x).shape == (2, 3)
    r = flambeau.randint_like(x, 3, 5)
    assert r.dtype is flambeau.float64 and set(r.flatten().tolist()) <= {3.0, 4.0}


@pytest.mark.parametrize(("args", "kwargs"), [
    ((5,), {}), ((1, 4), {}), ((0, 1, 0.25), {}), ((1, 2.5, 0.5), {}), ((5, 0, -2), {}),
    ((0, 5), {"dtype": flambeau.float64}), ((-3.0, 3.0), {}),
])
def test_arange_matches_torch(args, kwargs):
    torch = pytest.importorskip("torch")
    t_kwargs = {k: getattr(torch, v.name) for k, v in kwargs.items()}
    got, want = flambeau.arange(*args, **kwargs), torch.arange(*args, **t_kwargs)
    assert got.dtype.name == str(want.dtype).replace("torch.", "")
    np.testing.assert_allclose(got.cpu().numpy(), want.cpu().numpy())


@pytest.mark.parametrize("args", [(0, 1, 5), (-2, 2, 1), (1, 10, 4), (0, 1, 0)])
def test_linspace_logspace_match_torch(args):
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(flambeau.linspace(*args).cpu().numpy(),
                               torch.linspace(*args).cpu().numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(flambeau.logspace(*args).cpu().numpy(),
                               torch.logspace(*args).cpu().numpy(),
                               rtol=1e-5)
    assert flambeau.linspace(*args).dtype is flambeau.float32


def test_random_shapes_and_dtypes():
    assert flambeau.rand(2, 3).dtype is flambeau.float32
    assert flambeau.randn((2,), dtype=flambeau.float64).dtype is flambeau.float64
    r = flambeau.randint(2, 5, (100,))
    assert r.dtype is flambeau.int64 and 2 <= r.min().item() and r.max().item() <= 4
    assert flambeau.randint(3, (4,)).max().item() < 3
    p = flambeau.randperm(6)
    assert p.dtype is flambeau.int64 and sorted(p.tolist()) == list(range(6))
    u = flambeau.rand(1000)
    assert 0 <= u.min().item() and u.max().item() < 1 and abs(u.mean().item() - 0.5) < 0.05
    n = flambeau.randn(2000, dtype=flambeau.float64)
    assert abs(n.mean().item()) < 0.1 and abs(n.std().item() - 1) < 0.1


def test_normal_forms():
    m = flambeau.normal(flambeau.full((500,), 10.0), 0.01)
    assert m.shape == (500,) and abs(m.mean().item() - 10) < 0.01
    s = flambeau.normal(2.0, flambeau.full((3,), 0.0))
    assert s.tolist() == [2.0, 2.0, 2.0]
    assert flambeau.normal(0.0, 1.0, (2, 2)).shape == (2, 2)


def test_bernoulli_and_multinomial():
    b = flambeau.bernoulli(flambeau.tensor([0.0, 1.0, 0.0, 1.0]))
    assert b.tolist() == [0.0, 1.0, 0.0, 1.0] and b.dtype is flambeau.float32
    probs = flambeau.tensor([0.0, 0.0, 1.0, 0.0])
    assert flambeau.multinomial(probs, 3, replacement=True).tolist() == [2, 2, 2]
    draws = flambeau.multinomial(flambeau.tensor([1.0, 1.0, 1.0]), 3)
    assert sorted(draws.tolist()) == [0, 1, 2]
    batch = flambeau.multinomial(flambeau.tensor([[1.0, 0.0], [0.0, 1.0]]), 1)
    assert batch.tolist() == [[0], [1]]


_DRAWS = [
    lambda g: flambeau.rand(3, generator=g),
    lambda g: flambeau.randn(3, generator=g),
    lambda g: flambeau.randint(0, 100, (3,), generator=g),
    lambda g: flambeau.randperm(5, generator=g),
    lambda g: flambeau.normal(0.0, 1.0, (3,), generator=g),
    lambda g: flambeau.bernoulli(flambeau.full((5,), 0.5), generator=g),
    lambda g: flambeau.multinomial(flambeau.ones(4), 2, generator=g),
]


@pytest.mark.parametrize("draw", _DRAWS)
def test_manual_seed_reproduces(draw):
    flambeau.manual_seed(123)
    first = draw(None).tolist()
    flambeau.manual_seed(123)
    assert draw(None).tolist() == first
    flambeau.manual_seed(124)
    assert draw(None).tolist() != first or len(first) < 3


@pytest.mark.parametrize("draw", _DRAWS)
def test_generator_state_round_trip(draw):
    g = flambeau.Generator(flambeau.get_default_device()).manual_seed(7)
    state = g.get_state()
    first = draw(g).tolist()
    second = draw(g).tolist()
    g.set_state(state)
    assert draw(g).tolist() == first and draw(g).tolist() == second


def test_generator_is_independent_of_global_seed():
    g = flambeau.Generator().manual_seed(5)
    a = flambeau.rand(3, generator=g).tolist()
    flambeau.manual_seed(0)
    flambeau.rand(10)
    g.manual_seed(5)
    assert flambeau.rand(3, generator=g).tolist() == a


def test_ragged_list_is_rejected_naming_it():
    with pytest.raises(ValueError, match="(?i)ragged|sequence|length"):
        flambeau.tensor([[1, 2], [3]])


@pytest.mark.parametrize("data", [0.1, [0.1, 0.2], [[0.1], [1e-300]], (1, 0.3)])
def test_python_floats_go_straight_to_the_asked_dtype(data):
    # not through the default float32 first (which made 0.1 into 0.10000000149)
    got = flambeau.tensor(data, dtype=flambeau.float64).cpu().numpy()
    np.testing.assert_array_equal(got, np.asarray(data, dtype=np.float64))
    half = flambeau.tensor(data, dtype=flambeau.float16).cpu().numpy()
    np.testing.assert_array_equal(half, np.asarray(data, dtype=np.float64).astype(np.float16))


@pytest.mark.parametrize("where", ["cpu:0", ("cpu", 0)])
def test_a_cpu_index_is_dropped_from_the_tensors_device(where):
    # torch: torch.zeros(2, device="cpu:0").device == device("cpu"), so it mixes with CPU tensors
    dev = flambeau.device(*where) if isinstance(where, tuple) else where
    x = flambeau.zeros(2, device=dev)
    assert str(x.device) == "cpu" and x.device.index is None
    assert str(flambeau.ones(2, device="cpu").to(dev).device) == "cpu"
    assert (x + flambeau.ones(2, device="cpu")).cpu().numpy().tolist() == [1.0, 1.0]
    assert str(flambeau.device("cpu:0")) == "cpu:0"  # the device object keeps what it was given
