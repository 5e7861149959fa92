"""The building blocks of a synchronized batch norm (flambeau.batch_norm_stats,
batch_norm_gather_stats[_with_counts], batch_norm_elemt, batch_norm_backward_reduce,
batch_norm_backward_elemt, batch_norm_update_stats).

torch runs all but batch_norm_update_stats on CUDA only, so a simulated group of ranks (a
batch split in uneven parts, all-reduces as sums over the parts) is compared with torch's
batch norm of the whole batch: its output, running statistics and gradients.
"""

import numpy as np
import pytest

import flambeau
from flambeau.autograd import gradcheck

torch = pytest.importorskip("torch")

EPS, MOMENTUM = 1e-5, 0.2
SIZES = (3, 5, 2)  # the ranks' batch sizes


def _data(dtype=np.float64):
    g = np.random.default_rng(0)
    x = g.standard_normal((sum(SIZES), 4, 3)).astype(dtype) * 2 + 1
    w, b = g.standard_normal(4).astype(dtype), g.standard_normal(4).astype(dtype)
    rm, rv = g.standard_normal(4).astype(dtype), np.abs(g.standard_normal(4)).astype(dtype)
    cot = g.standard_normal(x.shape).astype(dtype)
    return x, w, b, rm, rv, cot


def _parts(t):
    return list(t.split(list(SIZES)))


def _synced_forward(x, w, b, rm, rv, with_counts=True):
    """What each rank computes, with the ranks' statistics gathered: the outputs by rank."""
    parts = _parts(x)
    stats = [flambeau.batch_norm_stats(p, EPS) for p in parts]
    mean = flambeau.stack([m for m, _ in stats])
    invstd = flambeau.stack([s for _, s in stats])
    counts = flambeau.tensor([p.numel() // p.shape[1] for p in parts])
    if with_counts:
        gmean, ginvstd = flambeau.batch_norm_gather_stats_with_counts(
            parts[0], mean, invstd, rm, rv, MOMENTUM, EPS, counts)
    else:
        gmean, ginvstd = flambeau.batch_norm_gather_stats(parts[0], mean, invstd, rm, rv,
                                                          MOMENTUM, EPS, int(counts[0]))
    return [flambeau.batch_norm_elemt(p, w, b, gmean, ginvstd, EPS) for p in parts], gmean, \
        ginvstd, counts


def _torch_whole(x, w, b, rm, rv, cot):
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    out = torch.nn.functional.batch_norm(tx, trm, trv, tw, tb, True, MOMENTUM, EPS)
    out.backward(torch.tensor(cot))
    return out, trm, trv, tx.grad, tw.grad, tb.grad


def test_forward_and_running_statistics_match_torch_on_the_whole_batch():
    x, w, b, rm, rv, cot = _data()
    frm, frv = flambeau.tensor(rm), flambeau.tensor(rv)
    outs, gmean, ginvstd, _ = _synced_forward(flambeau.tensor(x), flambeau.tensor(w),
                                              flambeau.tensor(b), frm, frv)
    tout, trm, trv, *_ = _torch_whole(x, w, b, rm, rv, cot)
    np.testing.assert_allclose(flambeau.cat(outs).cpu().numpy(), tout.detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(frm.cpu().numpy(), trm.numpy(), rtol=1e-10)
    np.testing.assert_allclose(frv.cpu().numpy(), trv.numpy(), rtol=1e-10)
    var, mean = torch.var_mean(torch.tensor(x), (0, 2), correction=0)
    np.testing.assert_allclose(gmean.cpu().numpy(), mean.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ginvstd.cpu().numpy(), (var + EPS).rsqrt().numpy(), rtol=1e-10)


def test_gather_stats_with_one_count_is_gather_stats_with_counts():
    x = flambeau.tensor(_data()[0][:9])  # three ranks of three samples
    sizes = [3, 3, 3]
    stats = [flambeau.batch_norm_stats(p, EPS) for p in x.split(sizes)]
    mean = flambeau.stack([m for m, _ in stats])
    invstd = flambeau.stack([s for _, s in stats])
    got = flambeau.batch_norm_gather_stats(x, mean, invstd, None, None, 0.1, EPS, 9)
    want = flambeau.batch_norm_gather_stats_with_counts(x, mean, invstd, None, None, 0.1, EPS,
                                                        flambeau.tensor([9, 9, 9]))
    for a, c in zip(got, want):
        np.testing.assert_allclose(a.cpu().numpy(), c.cpu().numpy(), rtol=1e-12)


def test_backward_matches_torch_on_the_whole_batch():
    x, w, b, rm, rv, cot = _data()
    fx, fw = flambeau.tensor(x), flambeau.tensor(w)
    parts, cots = _parts(fx), _parts(flambeau.tensor(cot))
    _, gmean, ginvstd, counts = _synced_forward(fx, fw, flambeau.tensor(b), None, None)
    reduced = [flambeau.batch_norm_backward_reduce(g, p, gmean, ginvstd, fw, True, True, True)
               for g, p in zip(cots, parts)]
    # the all-reduce of a real group: sums over the ranks
    sum_dy, sum_dy_xmu, grad_w, grad_b = (sum(r[k] for r in reduced) for k in range(4))
    grads = [flambeau.batch_norm_backward_elemt(g, p, gmean, ginvstd, fw, sum_dy, sum_dy_xmu,
                                                counts) for g, p in zip(cots, parts)]
    _, _, _, tgx, tgw, tgb = _torch_whole(x, w, b, rm, rv, cot)
    np.testing.assert_allclose(flambeau.cat(grads).cpu().numpy(), tgx.numpy(), rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(grad_w.cpu().numpy(), tgw.numpy(), rtol=1e-10)
    np.testing.assert_allclose(grad_b.cpu().numpy(), tgb.numpy(), rtol=1e-10)


def test_backward_reduce_leaves_out_what_is_not_asked():
    x, g = flambeau.ones(2, 3), flambeau.ones(2, 3)
    m, s = flambeau.zeros(3), flambeau.ones(3)
    assert flambeau.batch_norm_backward_reduce(g, x, m, s, None, False, False, False) == (
        None, None, None, None)
    sum_dy, sum_dy_xmu, gw, gb = flambeau.batch_norm_backward_reduce(g, x, m, s, None, True,
                                                                     False, True)
    assert gw is None and sum_dy.tolist() == gb.tolist() == [2.0, 2.0, 2.0]


def test_the_synced_forward_is_differentiable():
    # the blocks are recorded flambeau ops: autograd through them is the synced backward
    x, w, b, *_ = _data()
    fw, fb = flambeau.tensor(w[:2]), flambeau.tensor(b[:2])
    assert gradcheck(lambda t: flambeau.cat(_synced_forward(t, fw, fb, None, None)[0]),
                     (flambeau.tensor(x[:, :2], requires_grad=True),))


def test_half_inputs_keep_float32_statistics():
    x = flambeau.tensor(_data()[0]).to(flambeau.bfloat16)
    mean, invstd = flambeau.batch_norm_stats(x, EPS)
    assert mean.dtype == invstd.dtype == flambeau.float32
    out = flambeau.batch_norm_elemt(x, None, None, mean, invstd, EPS)
    assert out.dtype == flambeau.bfloat16
    want = flambeau.batch_norm_stats(x.float(), EPS)
    np.testing.assert_allclose(mean.cpu().numpy(), want[0].cpu().numpy(), rtol=1e-6)


def test_update_stats_of_one_value_per_channel_as_torch():
    a = _data()[0][:1, :, :1]
    ours, theirs = [flambeau.zeros(4, dtype=flambeau.float64), flambeau.ones(
        4, dtype=flambeau.float64)], [torch.zeros(4, dtype=torch.float64), torch.ones(
            4, dtype=torch.float64)]
    fm, fv = flambeau.batch_norm_update_stats(flambeau.tensor(a), *ours, 0.1)
    tm, tv = torch.batch_norm_update_stats(torch.tensor(a), *theirs, 0.1)
    np.testing.assert_allclose(fm.cpu().numpy(), tm.numpy())
    np.testing.assert_array_equal(fv.cpu().numpy(), tv.numpy())
    np.testing.assert_array_equal(ours[1].cpu().numpy(), theirs[1].numpy())  # NaN, as torch


@pytest.mark.parametrize("call, error, message", [
    (lambda: flambeau.batch_norm_stats([[1.0], [3.0]], EPS), TypeError,
     r"batch_norm_stats\(\): argument 'input' \(position 1\) must be Tensor, not list"),
    (lambda: flambeau.batch_norm_stats(flambeau.ones(3), EPS), IndexError,
     r"batch_norm_stats: Dimension out of range .* got shape \(3,\)"),
    (lambda: flambeau.batch_norm_update_stats(flambeau.ones(0, 3), None, None, 0.1),
     RuntimeError, r"input tensor must have at least one element, but got input_sizes = "
                   r"\[0, 3\]"),
    (lambda: flambeau.batch_norm_gather_stats_with_counts(
        flambeau.ones(2, 3), flambeau.ones(2, 3), flambeau.ones(2, 2), None, None, 0.1, EPS,
        flambeau.ones(2)), RuntimeError,
     r"expected mean and invstd of the same shape \(world_size, C\), got \(2, 3\) and "
     r"\(2, 2\)"),
    (lambda: flambeau.batch_norm_gather_stats_with_counts(
        flambeau.ones(2, 3), flambeau.ones(2, 3), flambeau.ones(2, 3), None, None, 0.1, EPS,
        flambeau.ones(3)), RuntimeError,
     r"expected counts of 2 entries \(one per row of mean\), got shape \(3,\)"),
])
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_torch_refuses_the_same_update_stats_input():
    with pytest.raises(RuntimeError, match="input tensor must have at least one element"):
        torch.batch_norm_update_stats(torch.ones(0, 3), None, None, 0.1)


def test_elemt_writes_into_out():
    x = flambeau.tensor(_data()[0])
    mean, invstd = flambeau.batch_norm_stats(x, EPS)
    out = flambeau.empty(0, dtype=flambeau.float64)
    assert flambeau.batch_norm_elemt(x, None, None, mean, invstd, EPS, out=out) is out
    want = torch.nn.functional.batch_norm(torch.tensor(_data()[0]), None, None, training=True,
                                          eps=EPS)
    np.testing.assert_allclose(out.cpu().numpy(), want.numpy(), rtol=1e-10, atol=1e-12)
