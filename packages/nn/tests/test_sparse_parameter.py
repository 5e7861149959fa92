"""``nn.Parameter`` of a sparse tensor, as torch's: a Parameter of the sparse layout, with
sparse gradients, in ``state_dict``/``load_state_dict``, ``.to()``, deepcopy and save/load."""

import copy
import io
import warnings

import numpy as np
import pytest

import flambeau
from flambeau import nn

torch = pytest.importorskip("torch")
warnings.filterwarnings("ignore", "Sparse", UserWarning)

IDX, VALS = [[0, 1, 1], [1, 0, 1]], [1.0, 2.0, 3.0]


def _dense(t):
    return t.detach().to_dense().cpu().numpy()


def _pair(layout="coo"):
    ours = flambeau.sparse_coo_tensor(IDX, VALS, (2, 2))
    theirs = torch.sparse_coo_tensor(IDX, VALS, (2, 2))
    if layout != "coo":
        ours, theirs = (t.to_sparse(layout=getattr(lib, f"sparse_{layout}"))
                        for t, lib in ((ours, flambeau), (theirs, torch)))
    return nn.Parameter(ours), torch.nn.Parameter(theirs)


@pytest.mark.parametrize("layout", ["coo", "csr", "csc"])
def test_sparse_parameter_is_a_parameter_of_its_layout(layout):
    p, q = _pair(layout)
    assert isinstance(p, nn.Parameter) and type(p).__name__ == "Parameter"
    assert p.layout._name == str(q.layout).partition(".")[2]
    assert p.is_sparse == q.is_sparse and p.requires_grad and p.is_leaf
    assert repr(p).startswith("Parameter containing:\ntensor(")
    np.testing.assert_array_equal(_dense(p), q.to_dense().detach().numpy())
    assert not nn.Parameter(p.detach(), requires_grad=False).requires_grad


@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_sparse_gradient_of_a_sparse_parameter(layout):
    p, q = _pair(layout)
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    (flambeau.sparse.mm(p, flambeau.tensor(x)) ** 2).sum().backward()
    (torch.sparse.mm(q, torch.tensor(x)) ** 2).sum().backward()
    assert p.grad.layout is p.layout and q.grad.layout == q.layout
    np.testing.assert_allclose(_dense(p.grad), q.grad.to_dense().numpy(), rtol=1e-6)


def test_to_dense_and_mul_gradients_are_sparse():
    p, q = _pair()
    w = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    (p.to_dense() * flambeau.tensor(w)).sum().backward()
    (q.to_dense() * torch.tensor(w)).sum().backward()
    assert p.grad.is_sparse and q.grad.is_sparse
    np.testing.assert_array_equal(_dense(p.grad), q.grad.to_dense().numpy())


def test_dense_gradient_refused_as_torch():
    p, q = _pair()
    with pytest.raises(RuntimeError, match="attempting to assign a gradient to a tensor that "
                       "has data of a different type"):
        p.grad = flambeau.ones(2, 2)
    with pytest.raises(RuntimeError, match="attempting to assign a gradient"):
        q.grad = torch.ones(2, 2)


def test_detach_clone_to_are_plain_sparse_tensors():
    p, q = _pair()
    for ours, theirs in ((p.detach(), q.detach()), (p.data, q.data), (p.clone(), q.clone()),
                         (p.to(flambeau.float64), q.to(torch.float64))):
        assert not isinstance(ours, nn.Parameter) and not isinstance(theirs, torch.nn.Parameter)
        assert ours.is_sparse
        np.testing.assert_array_equal(_dense(ours), theirs.to_dense().detach().numpy())


def test_module_state_dict_load_and_to():
    m, tm = nn.Module(), torch.nn.Module()
    m.w, tm.w = _pair()
    sd, tsd = m.state_dict(), tm.state_dict()
    assert sd["w"].is_sparse and not isinstance(sd["w"], nn.Parameter)
    assert tsd["w"].is_sparse and not isinstance(tsd["w"], torch.nn.Parameter)
    p = m.w
    m.load_state_dict({"w": flambeau.eye(2).to_sparse()})
    tm.load_state_dict({"w": torch.eye(2).to_sparse()})
    assert m.w is p and isinstance(m.w, nn.Parameter) and m.w.requires_grad
    np.testing.assert_array_equal(_dense(m.w), tm.w.to_dense().detach().numpy())
    m.to(flambeau.float64)
    assert isinstance(m.w, nn.Parameter) and m.w.is_sparse and m.w.dtype is flambeau.float64


def test_load_dense_into_sparse_parameter_refused_and_unchanged():
    m = nn.Module()
    m.w, _ = _pair()
    with pytest.raises(RuntimeError, match="copying flambeau.strided into a tensor of layout "
                       "flambeau.sparse_coo is not supported"):
        m.load_state_dict({"w": flambeau.zeros(2, 2)})
    np.testing.assert_array_equal(_dense(m.w), [[0.0, 1.0], [2.0, 3.0]])


@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_deepcopy_and_save_load(layout):
    p, _ = _pair(layout)
    c = copy.deepcopy(p)
    assert isinstance(c, nn.Parameter) and c.layout is p.layout and c.requires_grad
    with flambeau.no_grad():
        p.mul_(2)
    np.testing.assert_array_equal(2 * _dense(c), _dense(p))
    buf = io.BytesIO()
    flambeau.save({"w": p}, buf)
    buf.seek(0)
    loaded = flambeau.load(buf)["w"]
    assert isinstance(loaded, nn.Parameter) and loaded.layout is p.layout
    np.testing.assert_array_equal(_dense(loaded), _dense(p))


def test_sparse_buffer_in_state_dict():
    m, tm = nn.Module(), torch.nn.Module()
    m.b = nn.Buffer(flambeau.eye(2).to_sparse())
    tm.b = torch.nn.Buffer(torch.eye(2).to_sparse())
    got, want = m.state_dict()["b"], tm.state_dict()["b"]
    assert got.is_sparse and want.is_sparse and list(m.buffers()) == [m.b]
    np.testing.assert_array_equal(_dense(got), want.to_dense().numpy())
