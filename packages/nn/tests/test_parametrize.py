"""flambeau.nn.utils.parametrize: registration, class swap, state_dict, caching, removal."""

import copy
import pickle

import numpy as np
import pytest
from _helpers_a import assert_close

import flambeau
from flambeau import nn
from flambeau.autograd import gradcheck
from flambeau.nn.utils import parametrize as P
from flambeau.nn.utils.stateless import functional_call


# Each parametrization is written once against a framework's ``nn`` so that the flambeau and
# the torch versions are the same code.
def symmetric(nnmod):
    class Symmetric(nnmod.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).mT

    return Symmetric()


def double(nnmod):
    class Double(nnmod.Module):
        def forward(self, X):
            return 2 * X

        def right_inverse(self, X):
            return X / 2

    return Double()


def split(nnmod):
    class Split(nnmod.Module):
        def forward(self, a, b):
            return a + 3 * b

        def right_inverse(self, X):
            return X * 0.25, X * 0.25

    return Split()


def from_torch(t):
    return flambeau.tensor(np.array(t.detach().cpu().numpy()))


def linear_pair(torch, n_in=3, n_out=3, seed=0):
    torch.manual_seed(seed)
    tm = torch.nn.Linear(n_in, n_out).double()
    fm = nn.Linear(n_in, n_out).double()
    fm.load_state_dict({k: from_torch(v) for k, v in tm.state_dict().items()})
    return fm, tm


def compare_forward_backward(fm, tm, torch, n_in=3, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, n_in))
    f_out, t_out = fm(flambeau.tensor(x)), tm(torch.tensor(x))
    assert_close(f_out, t_out, atol=1e-12, rtol=1e-12, what="output")
    g = rng.standard_normal(tuple(f_out.shape))
    f_out.backward(flambeau.tensor(g))
    t_out.backward(torch.tensor(g))
    t_params = dict(tm.named_parameters())
    assert [n for n, _ in fm.named_parameters()] == list(t_params)
    for name, p in fm.named_parameters():
        assert_close(p.grad, t_params[name].grad, atol=1e-12, rtol=1e-12, what=name)


# ---------------------------------------------------------------------------- parity
@pytest.mark.parity
@pytest.mark.parametrize("chain", [["symmetric"], ["double"], ["symmetric", "double"],
                                   ["split"], ["split", "symmetric", "double"]])
def test_parity_keys_values_grads(chain):
    torch = pytest.importorskip("torch")
    from torch.nn.utils import parametrize as TP

    makers = {"symmetric": symmetric, "double": double, "split": split}
    fm, tm = linear_pair(torch)
    for name in chain:
        P.register_parametrization(fm, "weight", makers[name](nn))
        TP.register_parametrization(tm, "weight", makers[name](torch.nn))
    P.register_parametrization(fm, "bias", double(nn))
    TP.register_parametrization(tm, "bias", double(torch.nn))
    assert list(fm.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in fm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    for k, v in tm.state_dict().items():
        assert_close(fm.state_dict()[k], v, atol=1e-15, rtol=1e-15, what=k)
    assert_close(fm.weight, tm.weight, atol=1e-15, rtol=1e-15)
    assert type(fm).__name__ == type(tm).__name__ == "ParametrizedLinear"
    compare_forward_backward(fm, tm, torch)


@pytest.mark.parity
def test_load_torch_state_dict_and_assignment_parity():
    torch = pytest.importorskip("torch")
    from torch.nn.utils import parametrize as TP

    fm, tm = linear_pair(torch, seed=3)
    P.register_parametrization(fm, "weight", split(nn))
    TP.register_parametrization(tm, "weight", split(torch.nn))
    with torch.no_grad():
        for p in tm.parameters():
            p.add_(torch.randn(p.shape, dtype=p.dtype))
    result = fm.load_state_dict({k: from_torch(v) for k, v in tm.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    assert_close(fm.weight, tm.weight, atol=1e-15, rtol=1e-15)
    # assigning goes through right_inverse in both
    target = np.arange(9.0).reshape(3, 3)
    fm.weight = flambeau.tensor(target)
    tm.weight = torch.tensor(target)
    for k, v in tm.state_dict().items():
        assert_close(fm.state_dict()[k], v, atol=1e-15, rtol=1e-15, what=k)
    assert_close(fm.weight, target, atol=1e-12, rtol=0)


@pytest.mark.parity
@pytest.mark.parametrize("leave", [True, False])
def test_remove_parity(leave):
    torch = pytest.importorskip("torch")
    from torch.nn.utils import parametrize as TP

    fm, tm = linear_pair(torch, seed=4)
    for m, P_, nnmod in ((fm, P, nn), (tm, TP, torch.nn)):
        P_.register_parametrization(m, "weight", symmetric(nnmod))
        P_.register_parametrization(m, "weight", double(nnmod))
        P_.remove_parametrizations(m, "weight", leave_parametrized=leave)
    assert type(fm) is nn.Linear and type(tm) is torch.nn.Linear
    assert list(fm.state_dict()) == list(tm.state_dict()) == ["bias", "weight"]
    assert_close(fm.weight, tm.weight, atol=1e-15, rtol=1e-15)


# ---------------------------------------------------------------------------- behaviour
def test_class_swap_keeps_parameter_identity_and_restores():
    m = nn.Linear(3, 3)
    w = m.weight
    P.register_parametrization(m, "weight", symmetric(nn))
    assert P.is_parametrized(m) and P.is_parametrized(m, "weight")
    assert not P.is_parametrized(m, "bias") and not P.is_parametrized(nn.Linear(1, 1))
    assert isinstance(m, nn.Linear) and type(m).__name__ == "ParametrizedLinear"
    assert P.type_before_parametrizations(m) is nn.Linear
    assert P.type_before_parametrizations(nn.ReLU()) is nn.ReLU
    assert m.parametrizations.weight.original is w
    assert "weight" not in m._parameters
    assert np.array_equal(m.weight.detach().cpu().numpy(),
                          (w.triu() + w.triu(1).mT).detach().cpu().numpy())
    # another module of the same class is untouched
    assert type(nn.Linear(3, 3)) is nn.Linear
    P.remove_parametrizations(m, "weight", leave_parametrized=False)
    assert type(m) is nn.Linear and m.weight is w and not hasattr(m, "parametrizations")
    assert not hasattr(type(m), "weight")


def test_parametrized_buffer_stays_a_buffer():
    m = nn.BatchNorm1d(3)
    P.register_parametrization(m, "running_var", double(nn))
    assert "parametrizations.running_var.original" in m.state_dict()
    assert [n for n, _ in m.named_buffers()][-1] == "parametrizations.running_var.original"
    assert m.parametrizations.running_var.original.tolist() == [0.5, 0.5, 0.5]
    assert m.running_var.tolist() == [1.0, 1.0, 1.0]
    out = m.eval()(flambeau.ones(2, 3))  # forward reads the parametrized buffer
    assert out.shape == (2, 3)
    P.remove_parametrizations(m, "running_var")
    assert "running_var" in m._buffers and m.running_var.tolist() == [1.0, 1.0, 1.0]


def test_several_originals_and_remove():
    m = nn.Linear(2, 2)
    w0 = m.weight.detach().clone()
    P.register_parametrization(m, "weight", split(nn))
    pl = m.parametrizations.weight
    assert not pl.is_tensor and pl.ntensors == 2
    assert isinstance(pl.original0, nn.Parameter) and isinstance(pl.original1, nn.Parameter)
    assert np.allclose(m.weight.detach().cpu().numpy(), w0.cpu().numpy())
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        P.remove_parametrizations(m, "weight", leave_parametrized=False)
    P.remove_parametrizations(m, "weight")
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    assert np.allclose(m.weight.detach().cpu().numpy(), w0.cpu().numpy())


def test_unsafe_shape_change_and_chaining():
    class Flat(nn.Module):
        def forward(self, X):
            return X.reshape(-1)

    m = nn.Linear(2, 3)
    P.register_parametrization(m, "weight", Flat(), unsafe=True)
    assert m.weight.shape == (6,) and m.parametrizations.weight.unsafe
    P.register_parametrization(m, "weight", double(nn))  # chained on the (6,) output
    assert m.weight.shape == (6,)
    assert np.allclose(m.weight.detach().cpu().numpy(),
                       2 * m.parametrizations.weight.original.detach().cpu().numpy().ravel())
    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(m, "weight", _Take2())
    P.register_parametrization(m, "weight", _Take2(), unsafe=True)
    assert m.weight.shape == (2,) and len(m.parametrizations.weight) == 3


class _Take2(nn.Module):
    def forward(self, X):
        return X[:2]


def test_cached():
    m = nn.Linear(2, 2)
    P.register_parametrization(m, "weight", double(nn))
    assert m.weight is not m.weight
    with P.cached():
        a = m.weight
        assert m.weight is a
        with P.cached():  # nested blocks share the cache
            assert m.weight is a
        assert m.weight is a
    assert m.weight is not a
    other = copy.deepcopy(m)
    with P.cached():  # keyed by module: a copy has its own value
        assert other.weight is not m.weight


def test_train_eval_deepcopy_pickle_and_dtype():
    m = nn.Linear(2, 2).eval()
    p = double(nn)
    P.register_parametrization(m, "weight", p)
    assert p.training is False  # follows the module at registration
    m.train()
    assert p.training
    m2 = copy.deepcopy(m)
    assert type(m2) is type(m)
    assert m2.parametrizations.weight.original is not m.parametrizations.weight.original
    assert np.array_equal(m2.weight.detach().cpu().numpy(), m.weight.detach().cpu().numpy())
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(m)
    m.double()
    assert m.weight.dtype == flambeau.float64
    assert m.parametrizations.weight.original.dtype == flambeau.float64


def test_transfer_parametrizations_and_params():
    a = nn.Linear(3, 3)
    P.register_parametrization(a, "weight", symmetric(nn))
    P.register_parametrization(a, "bias", split(nn))
    b = P.transfer_parametrizations_and_params(a, nn.Linear(3, 3))
    assert b.parametrizations.weight.original is a.parametrizations.weight.original
    assert b.parametrizations.bias.original1 is a.parametrizations.bias.original1
    assert np.array_equal(b.weight.detach().cpu().numpy(), a.weight.detach().cpu().numpy())
    assert list(b.state_dict()) == list(a.state_dict())
    c = P.transfer_parametrizations_and_params(a, nn.Module(), "weight")
    assert list(c.state_dict()) == ["parametrizations.weight.original"]
    same = nn.Linear(1, 1)
    assert P.transfer_parametrizations_and_params(nn.Linear(1, 1), same) is same


def test_gradcheck_through_parametrizations():
    x = flambeau.randn(4, 3, dtype=flambeau.float64)
    for make in (symmetric, double):
        m = nn.Linear(3, 3).double()
        P.register_parametrization(m, "weight", make(nn))
        P.register_parametrization(m, "weight", double(nn))
        w = m.parametrizations.weight.original.detach().clone().requires_grad_(True)
        assert gradcheck(
            lambda w: functional_call(m, {"parametrizations.weight.original": w}, (x,)), (w,))
    m = nn.Linear(3, 3).double()
    P.register_parametrization(m, "weight", split(nn))
    a = flambeau.randn(3, 3, dtype=flambeau.float64, requires_grad=True)
    b = flambeau.randn(3, 3, dtype=flambeau.float64, requires_grad=True)
    names = ("parametrizations.weight.original0", "parametrizations.weight.original1")
    assert gradcheck(lambda a, b: functional_call(m, dict(zip(names, (a, b))), (x,)), (a, b))


# ---------------------------------------------------------------------------- errors
def test_register_on_missing_attribute():
    m = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a "
                                         "parametrized element with name 'foo'"):
        P.register_parametrization(m, "foo", double(nn))
    assert type(m) is nn.Linear


def test_remove_when_not_parametrized():
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        P.remove_parametrizations(nn.Linear(2, 2), "weight")
    m = P.register_parametrization(nn.Linear(2, 2), "weight", double(nn))
    with pytest.raises(ValueError, match="does not have a parametrization on bias"):
        P.remove_parametrizations(m, "bias")


class _BadShapeInverse(nn.Module):
    def forward(self, X):
        return X

    def right_inverse(self, X):
        return X[:1]


def test_right_inverse_wrong_shape_at_registration_leaves_module_unchanged():
    m = nn.Linear(2, 3)
    w = m.weight
    before = w.detach().clone()
    with pytest.raises(ValueError, match=r"may not change the shape of the tensor, unless "
                                         r"`unsafe`.*\nunparametrized shape: "
                                         r"flambeau.Size\(\[3, 2"):
        P.register_parametrization(m, "weight", _BadShapeInverse())
    assert type(m) is nn.Linear and m.weight is w and w.shape == (3, 2)
    assert np.array_equal(w.detach().cpu().numpy(), before.cpu().numpy())


def test_chained_checks():
    m = P.register_parametrization(nn.Linear(2, 3), "weight", double(nn))
    with pytest.raises(ValueError, match="right_inverse must have the same shape as "
                                         "module.weight"):
        P.register_parametrization(m, "weight", _BadShapeInverse())
    with pytest.raises(ValueError, match="may not change the shape of the tensor, unless the"):
        P.register_parametrization(m, "weight", _Take2())

    class ToDouble(nn.Module):
        def forward(self, X):
            return X.double()

    with pytest.raises(ValueError, match="may not change the dtype"):
        P.register_parametrization(m, "weight", ToDouble())

    class NotTensor(nn.Module):
        def forward(self, X):
            return [X]

    with pytest.raises(ValueError, match="A parametrization must return a tensor. Got list"):
        P.register_parametrization(m, "weight", NotTensor())
    assert len(m.parametrizations.weight) == 1  # nothing was appended


def test_assignment_errors():
    m = P.register_parametrization(nn.Linear(2, 2), "weight", nn.Identity())
    with pytest.raises(RuntimeError, match="parametrization Identity does not implement "
                                           "right_inverse"):
        m.weight = flambeau.zeros(2, 2)
    m = P.register_parametrization(nn.Linear(2, 2), "weight", double(nn))
    with pytest.raises(ValueError, match="has dtype flambeau.float64 while `original` has "
                                         "dtype flambeau.float32"):
        m.weight = flambeau.zeros(2, 2, dtype=flambeau.float64)
    with pytest.raises(ValueError, match=r"has shape \(3, 2\) while `original` has shape"):
        m.weight = flambeau.zeros(3, 2)
    assert m.parametrizations.weight.original.shape == (2, 2)

    m = P.register_parametrization(nn.Linear(2, 2), "weight", split(nn))
    inverse = m.parametrizations.weight[0]
    inverse.right_inverse = lambda X: (X, X, X)
    with pytest.raises(ValueError, match="of length 2. Got a sequence of length 3"):
        m.weight = flambeau.zeros(2, 2)
    inverse.right_inverse = lambda X: X
    with pytest.raises(ValueError, match="must return a sequence of tensors. Got Tensor"):
        m.weight = flambeau.zeros(2, 2)
    inverse.right_inverse = lambda X: (X, X.double())
    before = m.parametrizations.weight.original0.detach().clone()
    with pytest.raises(ValueError, match="Tensor 1 returned by `right_inverse` has dtype "
                                         "flambeau.float64 while `original1`"):
        m.weight = flambeau.zeros(2, 2)
    # checked before anything is written
    assert np.array_equal(m.parametrizations.weight.original0.detach().cpu().numpy(),
                          before.cpu().numpy())


def test_parametrization_list_errors():
    with pytest.raises(ValueError, match="requires one or more modules"):
        P.ParametrizationList([], nn.Parameter(flambeau.zeros(1)))

    class NoTensor(nn.Module):
        def forward(self, X):
            return X

        def right_inverse(self, X):
            return 3

    with pytest.raises(ValueError, match="must return a Tensor or a Sequence of tensors .* "
                                         "Got int"):
        P.register_parametrization(nn.Linear(1, 1), "weight", NoTensor())

    class HalfInverse(nn.Module):
        def forward(self, X):
            return X

        def right_inverse(self, X):
            return X.double()

    with pytest.raises(ValueError, match="may not change the dtype.\noriginal.dtype: "
                                         "flambeau.float32"):
        P.register_parametrization(nn.Linear(1, 1), "weight", HalfInverse())

    class ListInverse(nn.Module):
        def forward(self, a, b):
            return a

        def right_inverse(self, X):
            return [X, "x"]

    with pytest.raises(ValueError, match="Got element 1 of the sequence with type str"):
        P.register_parametrization(nn.Linear(1, 1), "weight", ListInverse())


def test_assigning_a_parameter_to_a_parametrized_name_fails():
    m = P.register_parametrization(nn.Linear(2, 2), "weight", double(nn))
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        m.weight = nn.Parameter(flambeau.zeros(2, 2))


def test_load_state_dict_pre_hooks():
    """Module._register_load_state_dict_pre_hook (used by weight_norm for legacy keys)."""
    net = nn.Sequential(nn.Linear(2, 2))
    seen = []

    def rename(state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
        seen.append(prefix)
        if prefix + "w" in state_dict:
            state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")

    handle = net[0]._register_load_state_dict_pre_hook(rename)
    state = {"0.w": flambeau.ones(2, 2), "0.bias": flambeau.zeros(2)}
    net.load_state_dict(state)
    assert seen == ["0."] and list(state) == ["0.w", "0.bias"]  # the caller's dict is intact
    assert net[0].weight.tolist() == [[1.0, 1.0], [1.0, 1.0]]

    def complain(module, state_dict, prefix, local_metadata, strict, missing, unexpected,
                 errors):
        assert module is net
        errors.append("hook says no")

    net._register_load_state_dict_pre_hook(complain, with_module=True)
    with pytest.raises(RuntimeError, match="hook says no"):
        net.load_state_dict({"0.weight": flambeau.zeros(2, 2), "0.bias": flambeau.zeros(2)})
    assert net[0].weight.tolist() == [[1.0, 1.0], [1.0, 1.0]]  # a failed load changes nothing
    handle.remove()
    seen.clear()
    with pytest.raises(RuntimeError, match="hook says no"):
        net.load_state_dict(state, strict=False)
    assert seen == []
