"""A 3-rank job for ``python -m flambeau.distributed.run --nproc-per-node 3``: every
collective of the "gloo" backend against NumPy, with uneven splits, roots other than 0,
sub-groups and async handles. Prints ``rank R ok`` when every check passed."""

import datetime

import numpy as np

import flambeau
import flambeau.distributed as dist
from flambeau.distributed import ReduceOp


def check(got, want):
    np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-6)


dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
rank, n = dist.get_rank(), dist.get_world_size()
assert n == 3 and dist.get_backend() == "gloo"
every = [np.arange(4.0) + 10 * r for r in range(n)]  # rank r's data
mine = flambeau.tensor(every[rank])

for op, fn in [(ReduceOp.SUM, np.sum), (ReduceOp.AVG, np.mean), (ReduceOp.PRODUCT, np.prod),
               (ReduceOp.MIN, np.min), (ReduceOp.MAX, np.max)]:
    t = mine.clone()
    dist.all_reduce(t, op=op, async_op=True).wait(timeout=30)
    check(t, fn(every, axis=0))
    t = mine.clone()
    dist.reduce(t, dst=2, op=op)
    check(t, fn(every, axis=0) if rank == 2 else every[rank])

t = mine.clone() if rank == 1 else flambeau.zeros(4, dtype=flambeau.float64)
dist.broadcast(t, src=1)
check(t, every[1])

out = [flambeau.zeros(4, dtype=flambeau.float64) for _ in range(n)]
dist.all_gather(out, mine)
for r in range(n):
    check(out[r], every[r])
cat = flambeau.zeros(3 * 4, dtype=flambeau.float64)
dist.all_gather_into_tensor(cat, mine)
check(cat, np.concatenate(every))

# reduce_scatter: rank r's input slice j is every[r] + j; rank j gets the sum over r
inputs = [mine + j for j in range(n)]
got = flambeau.zeros(4, dtype=flambeau.float64)
dist.reduce_scatter(got, inputs, op=ReduceOp.MAX)
check(got, np.max(every, axis=0) + rank)
got = flambeau.zeros(4, dtype=flambeau.float64)
dist.reduce_scatter_tensor(got, flambeau.cat(inputs))
check(got, np.sum(every, axis=0) + n * rank)

gathered = [flambeau.zeros(4, dtype=flambeau.float64) for _ in range(n)] if rank == 2 else None
dist.gather(mine, gathered, dst=2)
if rank == 2:
    for r in range(n):
        check(gathered[r], every[r])
t = flambeau.zeros(4, dtype=flambeau.float64)
dist.scatter(t, [flambeau.full((4,), float(j)).double() for j in range(n)] if rank == 1 else None,
             src=1)
check(t, np.full(4, float(rank)))

# all_to_all_single with uneven splits: rank r sends r + 1 + j rows ... to rank j
sends = [rank + 1 + j for j in range(n)]
receives = [r + 1 + rank for r in range(n)]
source = flambeau.arange(sum(sends), dtype=flambeau.int64) + 100 * rank
got = flambeau.zeros(sum(receives), dtype=flambeau.int64)
dist.all_to_all_single(got, source, receives, sends)
want = []
for r in range(n):
    start = sum(r + 1 + j for j in range(rank))
    want.extend(range(100 * r + start, 100 * r + start + r + 1 + rank))
check(got, want)
outs = [flambeau.zeros(2, dtype=flambeau.int64) for _ in range(n)]
dist.all_to_all(outs, [flambeau.tensor([rank, j]) for j in range(n)])
for r in range(n):
    check(outs[r], [r, rank])

# a ring of batched sends and receives; then tagged send/recv, any source
right, left = (rank + 1) % n, (rank - 1) % n
got = flambeau.zeros(4, dtype=flambeau.float64)
works = dist.batch_isend_irecv([dist.P2POp(dist.irecv, got, left),
                                dist.P2POp(dist.isend, mine, right)])
for w in works:
    w.wait()
check(got, every[left])
if rank == 0:
    senders = sorted(dist.recv(flambeau.zeros(1), tag=5) for _ in range(n - 1))
    assert senders == [1, 2], senders
else:
    dist.send(flambeau.ones(1) * rank, dst=0, tag=5)

# sub-groups: [0, 2] and [1]; the non-member's tensors are left alone
pair = dist.new_group([0, 2])
t = mine.clone()
dist.all_reduce(t, group=pair)
check(t, every[0] + every[2] if rank != 1 else every[1])
mine_sub, _ = dist.new_subgroups(group_size=1)
dist.all_reduce(mine.clone(), group=mine_sub)

objects = [None] * n
dist.all_gather_object(objects, {"rank": rank})
assert objects == [{"rank": r} for r in range(n)]
box = [None]
dist.scatter_object_list(box, [f"to {r}" for r in range(n)] if rank == 2 else None, src=2)
assert box == [f"to {rank}"]
objs = ["x", rank] if rank == 0 else [None, None]
dist.broadcast_object_list(objs, src=0)
assert objs == ["x", 0]
dist.monitored_barrier(timeout=30)
dist.barrier()
print(f"rank {rank} ok", flush=True)
dist.destroy_process_group()
