"""Optimizers on a sparse parameter (``nn.Parameter`` of a sparse COO tensor) with its sparse
gradients, against torch: SGD steps it in sparse arithmetic (momentum, Nesterov, weight
decay, maximize), SparseAdam refuses it and Adam refuses its sparse gradient, as torch's."""

import warnings

import numpy as np
import pytest

import flambeau
from flambeau import optim

torch = pytest.importorskip("torch")
nn = pytest.importorskip("flambeau.nn")  # an optional dependency of flambeau-optim
warnings.filterwarnings("ignore", "Sparse", UserWarning)

IDX, VALS = [[0, 1, 2, 2], [1, 0, 2, 0]], [1.0, 2.0, 3.0, -1.0]
X = np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32)


def _run(lib, param_cls, name, kwargs, steps=3):
    p = param_cls(lib.sparse_coo_tensor(IDX, VALS, (3, 3)))
    opt = getattr(lib.optim, name)([p], **kwargs)
    for step in range(steps):
        opt.zero_grad()
        (lib.sparse.mm(p, lib.tensor(X)) ** 2).sum().mul(step + 1).backward()
        opt.step()
    return p


@pytest.mark.parametrize("kwargs", [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.1, momentum=0.9, nesterov=True),
    dict(lr=0.1, momentum=0.5, dampening=0.3, maximize=True),
    dict(lr=0.1, weight_decay=0.1),
    dict(lr=0.1, foreach=True),
])
def test_sgd_steps_a_sparse_parameter_as_torch(kwargs):
    got = _run(flambeau, nn.Parameter, "SGD", kwargs)
    want = _run(torch, torch.nn.Parameter, "SGD", kwargs)
    assert isinstance(got, nn.Parameter) and got.is_sparse and want.is_sparse
    np.testing.assert_allclose(got.detach().to_dense().cpu().numpy(),
                               want.detach().to_dense().numpy(), rtol=1e-5, atol=1e-6)


def test_sparse_adam_refuses_a_sparse_parameter_as_torch():
    p = nn.Parameter(flambeau.eye(2).to_sparse())
    with pytest.raises(ValueError, match=r"Sparse params at indices \[\[0, 0\]\]: SparseAdam "
                       "requires dense parameter tensors"):
        optim.SparseAdam([p])
    with pytest.raises(ValueError, match="SparseAdam requires dense parameter tensors"):
        torch.optim.SparseAdam([torch.nn.Parameter(torch.eye(2).to_sparse())])


def test_adam_refuses_the_sparse_gradient_as_torch():
    with pytest.raises(RuntimeError, match="Adam does not support sparse gradients, please "
                       "consider SparseAdam instead"):
        _run(flambeau, nn.Parameter, "Adam", dict(lr=0.1), steps=1)
    with pytest.raises(RuntimeError, match="Adam does not support sparse gradients"):
        _run(torch, torch.nn.Parameter, "Adam", dict(lr=0.1), steps=1)


def test_zero_grad_keeps_an_empty_sparse_gradient():
    p = nn.Parameter(flambeau.eye(2).to_sparse())
    opt = optim.SGD([p], lr=0.1)
    flambeau.sparse.mm(p, flambeau.ones(2, 1)).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert p.grad.is_sparse and p.grad._nnz() == 0


@pytest.mark.parametrize("layout", ["bsr", "bsc"])
def test_blocked_parameter_refused_when_added(layout):
    p = getattr(flambeau.eye(4), f"to_sparse_{layout}")((2, 2)).requires_grad_()
    with pytest.raises(ValueError, match=f"SGD can't optimize a flambeau.sparse_{layout} tensor "
                       r"\(parameter 0, shape \(4, 4\)\): optimize its values instead"):
        optim.SGD([p], lr=0.1)


def test_weight_decay_refuses_a_dense_parameters_sparse_gradient_beside_a_sparse_one():
    # the sparse parameter's decay term is sparse; the embedding's weight is dense, so its
    # sparse gradient + decay is torch's add(sparse, dense) error, raised before either moves
    def case(lib):
        sparse = lib.nn.Parameter(lib.sparse_coo_tensor(IDX, VALS, (3, 3)))
        emb = lib.nn.Embedding(3, 2, sparse=True)
        opt = lib.optim.SGD([sparse, emb.weight], lr=0.1, weight_decay=0.1)
        lib.sparse.mm(sparse, lib.tensor(X)).sum().backward()
        emb(lib.tensor([0, 2])).sum().backward()
        before = (sparse.detach().to_dense().cpu().numpy().copy(),
                  emb.weight.detach().cpu().numpy().copy())
        with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
            opt.step()
        return before, (sparse.detach().to_dense().cpu().numpy(),
                        emb.weight.detach().cpu().numpy())

    before, after = case(flambeau)
    for b, a in zip(before, after):
        np.testing.assert_array_equal(a, b)
    case(torch)
