"""The Philox generator: known answers, exact state, distributions, and its CUDA C on the host."""

import numpy as np
import pytest
from _csource import Kernel, call, have_gxx, host_library

from flambeau_cuda._rng import (
    DRAW_SPECS,
    KEEP_SPECS,
    PER_BLOCK,
    NumpyEngine,
    PhiloxRNG,
    dropout_mask,
    philox4x32,
)

# Random123's known-answer vectors for Philox4x32-10
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize(("ctr", "key", "expected"), KAT)
def test_philox_known_answers(ctr, key, expected):
    assert tuple(int(w) for w in philox4x32(np.array([ctr], np.uint32), key)[0]) == expected


def rng(seed=3):
    return PhiloxRNG(seed, NumpyEngine())


def test_state_round_trip_is_exact_for_every_draw():
    r = rng()
    r.random((5,), np.float32)
    state = r.get_state()
    draws = [r.random((3, 2), np.float64), r.standard_normal((7,), np.float32),
             r.integers(-5, 5, (9,), np.int64), r.permutation(6)]
    r.set_state(state)
    again = [r.random((3, 2), np.float64), r.standard_normal((7,), np.float32),
             r.integers(-5, 5, (9,), np.int64), r.permutation(6)]
    for a, b in zip(draws, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_offset_advances_by_whole_blocks():
    r = rng()
    r.random((5,), np.float32)  # 4 per block: 2 blocks
    r.standard_normal((3,), np.float64)  # 2 per block: 2 blocks
    assert r.get_state() == (3).to_bytes(8, "little") + (4).to_bytes(8, "little")


def test_consecutive_draws_continue_the_stream():
    a = rng().random((8,), np.float32)
    r = rng()
    b = np.concatenate([r.random((4,), np.float32), r.random((4,), np.float32)])
    np.testing.assert_array_equal(a, b)


def test_seeds_give_different_streams():
    assert not np.array_equal(rng(1).random((8,), np.float32), rng(2).random((8,), np.float32))


def test_distributions():
    r = rng(11)
    u = r.random((200_000,), np.float32)
    assert u.dtype == np.float32 and u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.005
    z = r.standard_normal((200_000,), np.float64)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    k = r.integers(-2, 3, (100_000,), np.int32)
    assert k.dtype == np.int32 and set(np.unique(k)) == {-2, -1, 0, 1, 2}
    assert np.all(np.abs(np.bincount(k + 2) / k.size - 0.2) < 0.01)
    assert sorted(r.permutation(50)) == list(range(50))
    assert r.random((2,), np.float16).dtype == np.float16


def test_bad_arguments_leave_the_state():
    r = rng()
    state = r.get_state()
    with pytest.raises(ValueError, match="expected low < high, got low=3, high=3"):
        r.integers(3, 3, (2,), np.int64)
    with pytest.raises(ValueError, match="expected 16 bytes of Philox state"):
        r.set_state(b"\x00" * 32)
    assert r.get_state() == state


@pytest.fixture(scope="module")
def host_draws():
    if not have_gxx():
        pytest.skip("g++ is not installed")
    dtypes = {"uniform32": np.float32, "uniform64": np.float64, "normal32": np.float32,
              "normal64": np.float64, "integers": np.int64}
    kernels = {k: Kernel(f"rng_{k}", DRAW_SPECS[k], dtypes[k]) for k in DRAW_SPECS}
    return host_library(kernels.values()), kernels, dtypes


@pytest.mark.parametrize("kind", sorted(PER_BLOCK))
def test_cuda_source_matches_the_host_reference(host_draws, kind):
    lib, kernels, dtypes = host_draws
    n, seed, offset = 11, 0x1234_5678_9ABC_DEF0, 2**32 - 2  # offset crosses the counter word
    out = np.zeros(n, dtypes[kind])
    extra = (-7, 100) if kind == "integers" else ()
    call(lib, kernels[kind], -(-n // PER_BLOCK[kind]), seed, offset, n, *extra, out)
    ref = NumpyEngine().draw(kind, n, seed=seed, offset=offset,
                             **({"low": -7, "span": 100} if extra else {}))
    if kind.startswith("normal"):
        np.testing.assert_allclose(out, ref, rtol=1e-6, atol=1e-6)
    else:
        np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_keep_mask_is_dropouts_generic_mask_of_the_same_draws(dtype, p):
    rng = PhiloxRNG(11, NumpyEngine())
    state = rng.get_state()
    mask = dropout_mask(rng, (7, 9), p, dtype)
    after = rng.get_state()
    rng.set_state(state)
    draw = rng.random((7, 9), np.float64 if dtype == np.float64 else np.float32)
    generic = (draw >= p).astype(dtype)
    generic *= 1.0 / (1.0 - p)  # nn's generic dropout, step by step
    assert mask.dtype == dtype
    np.testing.assert_array_equal(mask, generic)
    assert rng.get_state() == after  # the stream moved on by the same blocks


def test_dropout_mask_declines_other_generators_and_dtypes():
    assert dropout_mask(np.random.default_rng(0), (3,), 0.5, np.float32) is None
    assert dropout_mask(PhiloxRNG(0, NumpyEngine()), (3,), 0.5, np.int64) is None


@pytest.mark.parametrize(("kind", "dtype"), [("uniform32", np.float32), ("uniform32", np.float64),
                                             ("uniform64", np.float64)])
def test_keep_mask_cuda_source_matches_the_host_reference(kind, dtype):
    if not have_gxx():
        pytest.skip("g++ is not installed")
    kernel = Kernel(f"keep_{kind}_{np.dtype(dtype).name}", KEEP_SPECS[kind], dtype)
    lib = host_library([kernel])
    n, seed, offset, p, scale = 13, 99, 2**32 - 3, 0.3, 1 / 0.7
    out = np.zeros(n, dtype)
    call(lib, kernel, -(-n // PER_BLOCK[kind]), seed, offset, n, p, scale, out)
    ref = NumpyEngine().keep(kind, n, seed=seed, offset=offset, p=p, scale=scale, dtype=dtype)
    np.testing.assert_array_equal(out, ref)
    assert 0 < np.count_nonzero(out) < n


def test_poisson_on_a_device_stream_follows_its_seed():
    # a device generator has no NumPy stream: poisson seeds one from a draw of its own
    import flambeau
    from flambeau._creation import _host_rng

    gen = flambeau.Generator()
    gen._rng = PhiloxRNG(7, NumpyEngine())
    state = gen._rng.get_state()
    first = _host_rng(gen).poisson(3.0, 6)
    assert gen._rng.get_state() != state  # the device stream advanced
    gen._rng.set_state(state)
    np.testing.assert_array_equal(_host_rng(gen).poisson(3.0, 6), first)
