"""flambeau.norm / linalg.norm / linalg.matrix_norm with 'fro' and 'nuc' over a wrong number
of dims, against torch: the same error type (with the op and the dims in the message), and
the same values where torch computes one."""

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.parity


def _x(lib):
    return lib.tensor(np.arange(24.0).reshape(2, 3, 4) - 11.5)


def _v(lib):
    return lib.tensor(np.arange(3.0) - 1.0)


# (name, call, regex the message matches: the op and the dims)
ERRORS = [
    ("norm fro 3 dims", lambda lib: lib.norm(_x(lib), "fro", dim=(0, 1, 2)),
     r"^norm: p='fro' .* at most 2 dims, but got dim=\(0, 1, 2\) \(3 dims\) for an input of "
     r"shape \(2, 3, 4\); for the 2-norm over more dims, use p=2"),
    ("norm fro 3 dims list", lambda lib: lib.norm(_x(lib), "fro", dim=[2, 0, 1]),
     r"^norm: p='fro' .* dim=\(2, 0, 1\)"),
    ("norm fro 3 dims keepdim", lambda lib: lib.norm(_x(lib), "fro", (0, 1, 2), True),
     r"^norm: p='fro' .* dim=\(0, 1, 2\)"),
    ("Tensor.norm fro 3 dims", lambda lib: _x(lib).norm("fro", dim=(0, 1, 2)),
     r"^norm: p='fro' .* dim=\(0, 1, 2\)"),
    ("norm nuc 3 dims", lambda lib: lib.norm(_x(lib), "nuc", dim=(0, 1, 2)),
     r"^norm: p='nuc' .* exactly 2 dims, but got dim=\(0, 1, 2\) \(3 dims\) for an input "
     r"of shape \(2, 3, 4\)"),
    ("norm nuc 1 dim", lambda lib: lib.norm(_x(lib), "nuc", dim=(1,)),
     r"^norm: p='nuc' .* dim=\(1,\) \(1 dim\)"),
    ("norm nuc int dim", lambda lib: lib.norm(_x(lib), "nuc", dim=-1),
     r"^norm: p='nuc' .* dim=\(-1,\) \(1 dim\)"),
    ("norm nuc 3-D, no dim", lambda lib: lib.norm(_x(lib), "nuc"),
     r"^norm: p='nuc' .* dim=\(0, 1, 2\)"),
    ("norm nuc 1-D", lambda lib: lib.norm(_v(lib), "nuc"),
     r"^norm: p='nuc' .* dim=\(0,\) \(1 dim\) for an input of shape \(3,\)"),
    ("norm unknown string", lambda lib: lib.norm(_x(lib), "abc"),
     r"^norm: p='abc' is not supported"),
    ("linalg.norm fro 3 dims", lambda lib: lib.linalg.norm(_x(lib), "fro", dim=(0, 1, 2)),
     r"^linalg\.norm: dim must be an int or a tuple of 1 or 2 dims, but got \(0, 1, 2\) for "
     r"an input of shape \(2, 3, 4\)"),
    ("linalg.norm nuc 3 dims", lambda lib: lib.linalg.norm(_x(lib), "nuc", dim=(0, 1, 2)),
     r"^linalg\.norm: .* \(0, 1, 2\)"),
    ("linalg.norm fro 1 dim", lambda lib: lib.linalg.norm(_x(lib), "fro", dim=(0,)),
     r"^linalg\.matrix_norm: dim must be a pair of dims, but got \(0,\) \(1 dim\) for A of "
     r"shape \(2, 3, 4\)"),
    ("linalg.norm fro int dim", lambda lib: lib.linalg.norm(_x(lib), "fro", dim=1),
     r"^linalg\.matrix_norm: .* \(1,\)"),
    ("linalg.norm nuc 1 dim", lambda lib: lib.linalg.norm(_x(lib), "nuc", dim=(2,)),
     r"^linalg\.matrix_norm: .* \(2,\)"),
    ("linalg.norm fro 3-D, no dim", lambda lib: lib.linalg.norm(_x(lib), "fro"),
     r"^linalg\.norm: .* shape \(2, 3, 4\)"),
    ("linalg.norm nuc 1-D", lambda lib: lib.linalg.norm(_v(lib), "nuc"),
     r"^linalg\.matrix_norm: .* at least 2 dimensions"),
    ("matrix_norm fro 3 dims", lambda lib: lib.linalg.matrix_norm(_x(lib), "fro", (0, 1, 2)),
     r"^linalg\.matrix_norm: dim must be a pair of dims, but got \(0, 1, 2\) \(3 dims\) for "
     r"A of shape \(2, 3, 4\)"),
    ("matrix_norm nuc 3 dims", lambda lib: lib.linalg.matrix_norm(_x(lib), "nuc", (0, 1, 2)),
     r"^linalg\.matrix_norm: .* \(0, 1, 2\)"),
    ("matrix_norm fro 1 dim", lambda lib: lib.linalg.matrix_norm(_x(lib), "fro", (0,)),
     r"^linalg\.matrix_norm: .* \(0,\) \(1 dim\)"),
    ("matrix_norm nuc no dims", lambda lib: lib.linalg.matrix_norm(_x(lib), "nuc", ()),
     r"^linalg\.matrix_norm: .* \(\) \(0 dims\)"),
    ("matrix_norm fro int dim", lambda lib: lib.linalg.matrix_norm(_x(lib), "fro", dim=0),
     r"^linalg\.matrix_norm: dim must be a tuple of 2 ints, but got int 0"),
    ("matrix_norm nuc 1-D", lambda lib: lib.linalg.matrix_norm(_v(lib), "nuc"),
     r"^linalg\.matrix_norm: .* at least 2 dimensions"),
]


@pytest.mark.parametrize("call,message", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_wrong_dims_raise_torch_error_type(call, message):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(Exception, match=message) as ours:
        call(flambeau)
    assert type(ours.value) is type(theirs.value)  # RuntimeError, or TypeError for dim=0


VALUES = [
    ("fro 2 dims", lambda lib, x: lib.norm(x, "fro", dim=(0, 2))),
    ("fro 1 dim", lambda lib, x: lib.norm(x, "fro", dim=1)),
    ("fro no dim", lambda lib, x: lib.norm(x, "fro")),
    ("fro empty dims", lambda lib, x: lib.norm(x, "fro", dim=())),
    ("nuc 2 dims", lambda lib, x: lib.norm(x, "nuc", dim=(0, 2))),
    ("nuc 2 dims keepdim", lambda lib, x: lib.norm(x, "nuc", dim=(2, 1), keepdim=True)),
    ("nuc 2-D", lambda lib, x: lib.norm(x[0], "nuc")),
    ("nuc method", lambda lib, x: x.norm(p="nuc", dim=(1, 2))),
    ("p None", lambda lib, x: lib.norm(x, None, dim=(0, 1, 2))),
    ("p 2, 3 dims", lambda lib, x: lib.norm(x, 2, dim=(0, 1, 2))),
    ("p 1, 3 dims", lambda lib, x: lib.norm(x, 1, dim=[0, 1, 2])),
    ("linalg fro 2 dims", lambda lib, x: lib.linalg.norm(x, "fro", dim=(0, 1))),
    ("linalg nuc 2 dims", lambda lib, x: lib.linalg.norm(x, "nuc", dim=(1, 0))),
    ("matrix_norm nuc", lambda lib, x: lib.linalg.matrix_norm(x, "nuc")),
]


@pytest.mark.parametrize("call", [v[1] for v in VALUES], ids=[v[0] for v in VALUES])
def test_values_and_gradients_match_torch(call):
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    x = flambeau.tensor(a, device="cpu", requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    y, ty = call(flambeau, x), call(torch, tx)
    assert tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    w = np.random.default_rng(1).standard_normal(tuple(ty.shape))
    (y * flambeau.tensor(w, device="cpu")).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
