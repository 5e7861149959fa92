"""The backward graph's footprint in the cyclic garbage collector.

Every object a graph keeps that the collector tracks is visited by each of its full passes,
and a long graph triggers several while it is built: on a 100,000-op chain those passes
cost more than the ops themselves. These tests pin how few such objects a node keeps.
"""

import subprocess
import sys

import numpy as np
import pytest

import flambeau

_GROWTH = """
import gc, sys
import flambeau
ops = {"mul": lambda y: y * 1.0, "add": lambda y: y + y, "exp": lambda y: y.exp()}
op = ops[sys.argv[1]]
for _ in range(100):  # unrecorded first (the suite's earlier tests, a no_grad pass)
    op(flambeau.ones(3))
x = flambeau.ones(3, requires_grad=True)
op(op(x)).sum().backward()  # first recorded calls: caches, lazy imports
gc.collect(); gc.collect()
before = len(gc.get_objects())
y = x
for _ in range(500):
    y = op(y)
gc.collect(); gc.collect()  # the second untracks tuples whose items the first untracked
print(len(gc.get_objects()) - before)
"""


# the node and the tuple of the nodes its inputs come from: the output numbers, the input
# shapes and dtypes and the flags are tuples the collector stops tracking; exp saves its
# output: the tuple of saved tensors, the tensor and its version counter. No dict of its
# own, even when the op ran unrecorded many times before (CPython then stops adding keys
# to the node class's shared instance keys: see _seed_node_keys). Counted in a fresh
# interpreter, where those calls come first whatever order the suite runs in
@pytest.mark.parametrize("op, per_node", [("mul", 2), ("add", 2), ("exp", 5)])
def test_a_node_keeps_few_tracked_objects(op, per_node):
    done = subprocess.run([sys.executable, "-c", _GROWTH, op], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    grown = int(done.stdout.split()[-1])
    assert grown <= per_node * 500 + 10  # + the last output and its version counter


def test_backward_of_a_long_chain():
    # the iterative walk (a stack of nodes and one of counts) reaches the leaf through
    # 20,000 nodes; the gradient is the product of the factors
    x = flambeau.tensor([1.0, 2.0], dtype=flambeau.float64, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), [1.0001 ** 20_000] * 2, rtol=1e-9)


def test_topological_order_of_random_graphs():
    # each node once, and before every node it sends gradients to, from several roots
    # (one given twice) over graphs with shared inputs and inputs without a node
    from flambeau.autograd._engine import _topological_order

    class Node:
        _next = ()

    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(1, 20))
        nodes = [Node() for _ in range(n)]
        for i, node in enumerate(nodes):
            node._next = tuple(nodes[int(rng.integers(i + 1, n))]
                               if i + 1 < n and rng.random() > 0.2 else None
                               for _ in range(int(rng.integers(0, 4))))
        roots = [nodes[int(i)] for i in rng.choice(n, size=min(n, 3), replace=False)]
        order = _topological_order(roots + roots[:1])
        reach, stack = set(), list(roots)
        while stack:
            node = stack.pop()
            if node not in reach:
                reach.add(node)
                stack.extend(c for c in node._next if c is not None)
        assert len(order) == len(set(order)) == len(reach) and set(order) == reach
        position = {node: i for i, node in enumerate(order)}
        for node in order:
            assert all(position[node] < position[c] for c in node._next if c is not None)


def test_next_functions_name_later_outputs():
    # output numbers live apart from the nodes: next_functions pairs them up again
    x = flambeau.arange(4.0, requires_grad=True)
    a, b = x.split(2)
    y = b * a
    (fn_b, nr_b), (fn_a, nr_a) = y.grad_fn.next_functions
    assert fn_b is fn_a is a.grad_fn
    assert (nr_b, nr_a) == (1, 0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [2.0, 3.0, 0.0, 1.0])


def test_next_functions_of_later_outputs_as_torch():
    torch = pytest.importorskip("torch")
    got, want = [], []
    for mod, out in ((flambeau, got), (torch, want)):
        x = mod.arange(4.0, requires_grad=True)
        a, b = x.split(2)
        y = b * a
        out.append([(fn.name(), nr) for fn, nr in y.grad_fn.next_functions])
        y.sum().backward()
        out.append(x.grad.cpu().numpy().tolist())
    assert got == want
