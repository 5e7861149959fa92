"""Bool scalar subscripts (``x[True]``, ``x[False]``, ``h[True] = v``...) against torch.

torch reads a bool scalar as a new dim of size 1 indexed with ``[0]`` (True) or ``[]``
(False): an advanced index, so ``x[True]`` is a copy of shape ``(1, *x.shape)``, not a
view, and ``x[False]`` is empty, of shape ``(0, *x.shape)``. A write ``h[True] = v``
writes ``h`` (recorded by autograd), and a bare ``h[False] = v`` writes nothing at all.
The tests run on the default device (``FLAMBEAU_TEST_DEVICE``) and compare with torch on
the CPU.
"""

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.parity

E, S = Ellipsis, slice(None)

READS = [True, False, (True,), (False,), (True, 0), (0, True), (E, True), (True, E),
         (True, True), (True, False), (None, True), (True, S), (True, S, 1), (1, True, 2),
         (True, [0, 1]), ([1, 0], True), (S, True, [0, 1]), (True, E, 0), (E, False, 0),
         (0, None, True, S, [1, 2])]


def _both(values, requires_grad=False):
    """The same float64 values as a flambeau tensor (default device) and a torch tensor."""
    return (flambeau.tensor(values, dtype=flambeau.float64, requires_grad=requires_grad),
            torch.tensor(values, dtype=torch.float64, requires_grad=requires_grad))


def _np(t):
    return t.detach().cpu().numpy()


def _x():
    return np.arange(24.0).reshape(2, 3, 4)


@pytest.mark.parametrize("index", READS, ids=repr)
def test_read_values_and_shape_match_torch(index):
    x, tx = _both(_x())
    y, ty = x[index], tx[index]
    assert tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_array_equal(_np(y), _np(ty))


@pytest.mark.parametrize("index", [True, (True,), (True, 0), (E, True), (None, True)],
                         ids=repr)
def test_read_is_a_copy_as_in_torch(index):
    # torch: not a view (no _base), its own version counter, no shared memory
    x, tx = _both(_x())
    for lib_x in (x, tx):
        y = lib_x[index]
        assert y._base is None
        y.mul_(-1)                     # writes the copy only
        lib_x.add_(100)                # writes x only
    np.testing.assert_array_equal(_np(x), _np(tx))
    np.testing.assert_array_equal(_np(x), _x() + 100)
    y, ty = x[index], tx[index]
    x.add_(1)
    tx.add_(1)
    np.testing.assert_array_equal(_np(y), _np(ty))
    assert y._version == ty._version == 0
    assert x._version == tx._version == 2


def test_false_reads_an_empty_tensor():
    x, tx = _both(_x())
    y = x[False]
    assert tuple(y.shape) == tuple(tx[False].shape) == (0, 2, 3, 4)
    assert y.dtype == flambeau.float64 and y._base is None


@pytest.mark.parametrize("index", READS, ids=repr)
def test_read_gradient_matches_torch(index):
    x, tx = _both(_x(), requires_grad=True)
    y, ty = x[index], tx[index]
    w = np.random.default_rng(0).standard_normal(tuple(ty.shape))
    (y * flambeau.tensor(w, dtype=flambeau.float64)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(_np(x.grad), _np(tx.grad), rtol=0, atol=0)


WRITES = [(True, (4,)), (True, (3, 4)), ((True,), ()), ((True, 0), (4,)), ((0, True), (1, 4)),
          ((E, True), (2, 3, 4, 1)), ((True, S, 1), (4,)), ((False,), (4,)),
          ((True, False), ()), ((True, [0, 1]), (3, 4)), (False, (4,))]


@pytest.mark.parametrize("index,vshape", WRITES, ids=repr)
@pytest.mark.parametrize("grads", ["x", "v", "both"])
def test_write_under_autograd_matches_torch(index, vshape, grads):
    # h = x.clone(); h[index] = v, with x and/or v requiring grad: torch records it
    rng = np.random.default_rng(1)
    x, tx = _both(_x(), requires_grad=grads in ("x", "both"))
    v, tv = _both(rng.standard_normal(vshape), requires_grad=grads in ("v", "both"))
    h, th = x.clone(), tx.clone()
    h[index] = v
    th[index] = tv
    np.testing.assert_array_equal(_np(h), _np(th))
    assert h._version == th._version
    assert h.requires_grad == th.requires_grad
    if not th.requires_grad:  # a bare False write of v into a clone of a constant x
        return
    w = rng.standard_normal(h.shape)
    (h * flambeau.tensor(w, dtype=flambeau.float64)).sum().backward()
    (th * torch.tensor(w)).sum().backward()
    for ours, theirs in ((x, tx), (v, tv)):
        if theirs.requires_grad:
            if theirs.grad is None:  # a bare False: v is not used at all
                assert ours.grad is None
            else:
                np.testing.assert_allclose(_np(ours.grad), _np(theirs.grad), atol=1e-12)


@pytest.mark.parametrize("index,vshape", WRITES, ids=repr)
def test_write_without_autograd_matches_torch(index, vshape):
    x, tx = _both(_x())
    v, tv = _both(np.random.default_rng(2).standard_normal(vshape))
    x[index] = v
    tx[index] = tv
    np.testing.assert_array_equal(_np(x), _np(tx))
    assert x._version == tx._version


def test_bare_false_write_is_a_no_op_and_tuples_check_shapes():
    x, tx = _both(_x())
    x[False] = flambeau.ones(7, dtype=flambeau.float64)  # torch checks nothing here
    tx[False] = torch.ones(7, dtype=torch.float64)
    assert x._version == tx._version == 0
    with pytest.raises(RuntimeError):
        tx[(False,)] = torch.ones(7, dtype=torch.float64)
    with pytest.raises(RuntimeError, match=r"shape mismatch: value of shape \(7,\) cannot be "
                                           r"broadcast to indexing result of shape \(0, 2, 3, 4\)"):
        x[(False,)] = flambeau.ones(7, dtype=flambeau.float64)
    with pytest.raises(RuntimeError, match=r"shape \(7,\) .* shape \(1, 2, 3, 4\)"):
        x[True] = flambeau.ones(7, dtype=flambeau.float64)
    np.testing.assert_array_equal(_np(x), _x())
