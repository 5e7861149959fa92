"""flambeau.native_layer_norm, native_batch_norm, native_group_norm and native_dropout beyond
the parity cases of test_toplevel.py: dtypes of the statistics, which outputs autograd
records, gradchecks, the dropout mask, and errors."""

import numpy as np
import pytest

import flambeau
from flambeau.autograd import gradcheck, gradgradcheck
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()


def _r(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _calls(lib, low):
    """The native norms of a ``low``-precision input, with and without float32 parameters."""
    x = lib.tensor(_r(2, 6, 4)).to(getattr(lib, low))
    w, b = lib.ones(6), lib.zeros(6)
    return {
        "layer": lib.native_layer_norm(x, [4], lib.ones(4), lib.zeros(4), 1e-5),
        "layer_plain": lib.native_layer_norm(x, [4], None, None, 1e-5),
        "batch": lib.native_batch_norm(x, w, b, lib.zeros(6), lib.ones(6), True, 0.1, 1e-5),
        "batch_plain": lib.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5),
        "batch_eval": lib.native_batch_norm(x, w, b, lib.zeros(6), lib.ones(6), False, 0.1,
                                            1e-5),
        "group": lib.native_group_norm(x, w, b, 2, 6, 4, 3, 1e-5),
        "group_plain": lib.native_group_norm(x, None, None, 2, 6, 4, 3, 1e-5),
    }


@pytest.mark.parametrize("low", ["bfloat16", "float16"])
def test_statistics_dtypes_as_torch(low):
    ours = {k: [str(t.dtype).split(".")[-1] for t in v] for k, v in _calls(flambeau, low).items()}
    assert ours["batch"] == [low, "float32", "float32"]
    assert ours["batch_plain"] == [low, low, low]
    if torch is not None:
        theirs = {k: [str(t.dtype).split(".")[-1] for t in v]
                  for k, v in _calls(torch, low).items()}
        assert ours == theirs


def test_which_outputs_autograd_records_as_torch():
    x = flambeau.tensor(_r(2, 6, 4), requires_grad=True)
    ours = [
        [t.requires_grad for t in flambeau.native_layer_norm(x, [4], None, None, 1e-5)],
        [t.requires_grad for t in flambeau.native_batch_norm(x, None, None, None, None, True,
                                                             0.1, 1e-5)],
        [t.requires_grad for t in flambeau.native_group_norm(x, None, None, 2, 6, 4, 3, 1e-5)],
        [t.requires_grad for t in flambeau.native_dropout(x, 0.5, True)],
    ]
    assert ours == [[True, False, False], [True, False, False], [True, True, True],
                    [True, False]]
    if torch is not None:
        tx = torch.tensor(_r(2, 6, 4), requires_grad=True)
        theirs = [
            [t.requires_grad for t in torch.native_layer_norm(tx, [4], None, None, 1e-5)],
            [t.requires_grad for t in torch.native_batch_norm(tx, None, None, None, None, True,
                                                              0.1, 1e-5)],
            [t.requires_grad for t in torch.native_group_norm(tx, None, None, 2, 6, 4, 3,
                                                              1e-5)],
            [t.requires_grad for t in torch.native_dropout(tx, 0.5, True)],
        ]
        assert ours == theirs


def test_group_norm_statistics_gradients_as_torch():
    # torch records mean and rstd: a loss of them reaches the input
    a = _r(2, 6, 3)
    x = flambeau.tensor(a, requires_grad=True)
    out, mean, rstd = flambeau.native_group_norm(x, None, None, 2, 6, 3, 3, 1e-5)
    (out.sum() + (mean * 2).sum() + rstd.sum()).backward()
    if torch is not None:
        tx = torch.tensor(a, requires_grad=True)
        tout, tmean, trstd = torch.native_group_norm(tx, None, None, 2, 6, 3, 3, 1e-5)
        (tout.sum() + (tmean * 2).sum() + trstd.sum()).backward()
        np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-6,
                                   atol=1e-9)


@pytest.mark.parametrize("fn", [
    lambda x, w, b: flambeau.native_layer_norm(x, [4], w.reshape(3, 4)[0], b.reshape(3, 4)[0],
                                               1e-5)[0],
    lambda x, w, b: flambeau.native_batch_norm(x, w[:3], b[:3], None, None, True, 0.1,
                                               1e-5)[0],
    lambda x, w, b: flambeau.native_group_norm(x, w[:3], b[:3], 2, 3, 4, 3, 1e-5),
])
def test_gradcheck_and_gradgradcheck(fn):
    x = flambeau.tensor(_r(2, 3, 4), requires_grad=True)
    w = flambeau.tensor(_r(12, seed=1), requires_grad=True)
    b = flambeau.tensor(_r(12, seed=2), requires_grad=True)
    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))


def test_dropout_mask_is_what_was_kept():
    flambeau.manual_seed(0)
    x = flambeau.randn(20000)
    out, mask = flambeau.native_dropout(x, 0.25, True)
    assert mask.dtype == flambeau.bool and abs(float((~mask).float().mean()) - 0.25) < 0.02
    kept = mask.cpu().numpy()
    np.testing.assert_allclose(out.cpu().numpy()[kept], x.cpu().numpy()[kept] / 0.75,
                               rtol=1e-6)
    assert not out.cpu().numpy()[~kept].any()
    y = flambeau.ones(3, requires_grad=True)
    out, mask = flambeau.native_dropout(y, 0.5, None)  # train=None is training, as in torch
    out.sum().backward()
    np.testing.assert_array_equal(y.grad.cpu().numpy(), mask.cpu().numpy() * 2.0)
    z = flambeau.ones(3)
    same, everything = flambeau.native_dropout(z, 0.5, False)
    assert same is not z and flambeau.equal(same, z) and bool(everything.all())


@pytest.mark.parametrize("call, error, message", [
    (lambda lib: lib.native_dropout(lib.ones(3), 1.5, True), RuntimeError,
     r"bernoulli_ expects p to be in \[0, 1\], but got p=-0.5"),
    (lambda lib: lib.native_dropout(lib.ones(3, dtype=lib.int64), 0.5, True), RuntimeError,
     "result type Float can't be cast to the desired output type Long"),
    (lambda lib: lib.native_layer_norm(lib.ones(2, 3), [4], None, None, 1e-5), RuntimeError,
     r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], but got input of "
     r"size\[?\s?\[?2, 3\]"),
    (lambda lib: lib.native_group_norm(lib.ones(2, 3, 4), None, None, 2, 3, 4, 2, 1e-5),
     RuntimeError, r"(number of channels in input|channels in input \(3\)) to be divisible by "
                   r"num_groups"),
    (lambda lib: lib.native_group_norm(lib.ones(2, 3, 4), None, None, 2, 3, 5, 1, 1e-5),
     RuntimeError, r"(N \* C \* HxW|X.numel\(\) == N \* C \* HxW)"),
    (lambda lib: lib.native_batch_norm(lib.ones(0, 3), None, None, None, None, True, 0.1, 1e-5),
     RuntimeError, r"input tensor must have at least one element, but got input_sizes = "
                   r"\[0, 3\]"),
    (lambda lib: lib.native_batch_norm(lib.ones(2, 3), None, None, lib.zeros(3), None, True,
                                       0.1, 1e-5), (ValueError, RuntimeError),
     "running_mean and running_var"),
])
def test_errors_as_torch(call, error, message):
    with pytest.raises(error, match=message):
        call(flambeau)
    if torch is not None:
        with pytest.raises(error, match=message):
            call(torch)


def test_batch_norm_without_running_statistics_in_eval_is_refused():
    # torch 2.13 crashes the process here: flambeau raises
    with pytest.raises(RuntimeError, match="running_mean and running_var are needed"):
        flambeau.native_batch_norm(flambeau.ones(2, 3), None, None, None, None, False, 0.1, 1e-5)


def test_native_batch_norm_writes_into_out_as_torch():
    a = _r(4, 3, 2)
    outs = [flambeau.empty(0, dtype=flambeau.float64) for _ in range(3)]
    got = flambeau.native_batch_norm(flambeau.tensor(a), None, None, None, None, True, 0.1,
                                     1e-5, out=tuple(outs))
    assert all(g is o for g, o in zip(got, outs))
    if torch is not None:
        want = torch.native_batch_norm(torch.tensor(a), None, None, None, None, True, 0.1, 1e-5)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.cpu().numpy(), w.numpy(), rtol=1e-10)
