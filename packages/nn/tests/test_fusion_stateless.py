"""nn.utils: conv/linear + batch norm fusion, stateless.functional_call, get_total_norm,
clip_grads_with_norm_ and skip_init."""

import math
import warnings

import numpy as np
import pytest
from _helpers_a import assert_close

import flambeau
from flambeau import nn
from flambeau.nn.utils import (
    clip_grads_with_norm_,
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
    fusion,
    get_total_norm,
    parametrize,
    skip_init,
)
from flambeau.nn.utils.stateless import functional_call


def from_torch(t):
    return flambeau.tensor(np.array(t.detach().cpu().numpy()))


def randomize_bn(bn, rng):
    c = bn.num_features
    with flambeau.no_grad():
        bn.running_mean.copy_(flambeau.tensor(rng.standard_normal(c)))
        bn.running_var.copy_(flambeau.tensor(rng.uniform(0.5, 2.0, c)))
        if bn.weight is not None:
            bn.weight.copy_(flambeau.tensor(rng.standard_normal(c)))
            bn.bias.copy_(flambeau.tensor(rng.standard_normal(c)))


# ---------------------------------------------------------------------------- fusion
@pytest.mark.parametrize("conv,bn,x_shape,transpose", [
    (lambda: nn.Conv1d(2, 3, 3), lambda: nn.BatchNorm1d(3), (2, 2, 6), False),
    (lambda: nn.Conv2d(2, 4, 3, bias=False), lambda: nn.BatchNorm2d(4), (2, 2, 5, 5), False),
    (lambda: nn.Conv2d(2, 4, 3, groups=2), lambda: nn.BatchNorm2d(4, affine=False),
     (1, 2, 5, 5), False),
    (lambda: nn.Conv3d(1, 2, 2), lambda: nn.BatchNorm3d(2), (1, 1, 3, 3, 3), False),
    (lambda: nn.ConvTranspose2d(3, 2, 2), lambda: nn.BatchNorm2d(2), (1, 3, 3, 3), True),
])
def test_fuse_conv_bn_matches_the_pair(conv, bn, x_shape, transpose):
    rng = np.random.default_rng(0)
    conv, bn = conv().double().eval(), bn().double().eval()
    randomize_bn(bn, rng)
    before = {k: v.clone() for k, v in conv.state_dict().items()}
    fused = fuse_conv_bn_eval(conv, bn, transpose=transpose)
    x = flambeau.tensor(rng.standard_normal(x_shape))
    assert_close(fused(x), bn(conv(x)), atol=1e-12, rtol=1e-12)
    assert type(fused) is type(conv) and fused is not conv
    assert isinstance(fused.weight, nn.Parameter) and isinstance(fused.bias, nn.Parameter)
    for k, v in conv.state_dict().items():  # the original is not changed
        assert np.array_equal(v.cpu().numpy(), before[k].cpu().numpy())


def test_fuse_linear_bn_matches_the_pair():
    rng = np.random.default_rng(1)
    for lin, bn in ((nn.Linear(3, 4), nn.BatchNorm1d(4)),
                    (nn.Linear(3, 4), nn.BatchNorm1d(1)),
                    (nn.Linear(3, 4, bias=False), nn.BatchNorm1d(4, affine=False))):
        lin, bn = lin.double().eval(), bn.double().eval()
        randomize_bn(bn, rng)
        x = flambeau.tensor(rng.standard_normal((5, 3)))
        y = lin(x)
        # one batch norm channel: every output feature goes through the same affine map
        expected = bn(y.reshape(20, 1)).reshape(5, 4) if bn.num_features == 1 else bn(y)
        assert_close(fuse_linear_bn_eval(lin, bn)(x), expected, atol=1e-12, rtol=1e-12)
    assert fusion.fuse_linear_bn_eval is fuse_linear_bn_eval


@pytest.mark.parity
def test_fusion_weights_parity():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    w, b = rng.standard_normal((4, 2, 3, 3)), rng.standard_normal(4)
    rm, rv = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    g, beta = rng.standard_normal(4), rng.standard_normal(4)
    for transpose in (False, True):
        shape_w = w if not transpose else w.transpose(1, 0, 2, 3)
        args = [shape_w, b, rm, rv]
        f = fuse_conv_bn_weights(*map(flambeau.tensor, args), 1e-3, flambeau.tensor(g),
                                 flambeau.tensor(beta), transpose)
        t = torch.nn.utils.fuse_conv_bn_weights(*map(torch.tensor, args), 1e-3,
                                                torch.tensor(g), torch.tensor(beta), transpose)
        for a, c in zip(f, t):
            assert_close(a, c, atol=1e-13, rtol=1e-13)
            assert a.requires_grad == c.requires_grad
    f = fuse_conv_bn_weights(flambeau.tensor(w), None, flambeau.tensor(rm),
                             flambeau.tensor(rv), 1e-5, None, None)
    t = torch.nn.utils.fuse_conv_bn_weights(torch.tensor(w), None, torch.tensor(rm),
                                            torch.tensor(rv), 1e-5, None, None)
    for a, c in zip(f, t):
        assert_close(a, c, atol=1e-13, rtol=1e-13)
    lw, lb = rng.standard_normal((4, 3)), rng.standard_normal(4)
    f = fuse_linear_bn_weights(*map(flambeau.tensor, (lw, lb, rm, rv)), 1e-5,
                               flambeau.tensor(g), flambeau.tensor(beta))
    t = torch.nn.utils.fuse_linear_bn_weights(*map(torch.tensor, (lw, lb, rm, rv)), 1e-5,
                                              torch.tensor(g), torch.tensor(beta))
    for a, c in zip(f, t):
        assert_close(a, c, atol=1e-13, rtol=1e-13)


def test_fusion_dtypes_and_requires_grad():
    w = nn.Parameter(flambeau.ones(2, 1, 1, dtype=flambeau.float64))
    fw, fb = fuse_conv_bn_weights(w, None, flambeau.zeros(2), flambeau.ones(2), 0.0, None, None)
    assert fw.dtype == fb.dtype == flambeau.float64
    assert fw.requires_grad and not fb.requires_grad and fw.is_leaf


def test_fusion_errors():
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        fuse_conv_bn_eval(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2).eval())
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        fuse_linear_bn_eval(nn.Linear(1, 2).eval(), nn.BatchNorm1d(2))
    with pytest.raises(AssertionError, match="linear.out_features=2 and bn.num_features=3"):
        fuse_linear_bn_eval(nn.Linear(1, 2).eval(), nn.BatchNorm1d(3).eval())
    with pytest.raises(AssertionError, match="running_mean and bn.running_var must not be None"):
        fuse_conv_bn_eval(nn.Conv2d(1, 2, 1).eval(),
                          nn.BatchNorm2d(2, track_running_stats=False).eval())


# ---------------------------------------------------------------------------- functional_call
class Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(2, 2)
        self.b = nn.Linear(2, 2)
        self.b.weight = self.a.weight
        self.register_buffer("scale", flambeau.ones(1))

    def forward(self, x, shift=0.0):
        return self.b(self.a(x)) * self.scale + shift


def test_functional_call_replaces_and_restores():
    m = Tied()
    w0, s0 = m.a.weight, m.scale
    x = flambeau.ones(1, 2)
    w = flambeau.eye(2, requires_grad=True)
    out = functional_call(m, {"a.weight": w, "scale": flambeau.tensor([2.0])}, x,
                          {"shift": 1.0})
    # tied: b.weight is w too, so out = ((x + ba) + bb) * 2 + 1
    expected = ((x + m.a.bias) + m.b.bias) * 2 + 1
    assert_close(out, expected.detach(), atol=1e-6, rtol=0)
    out.sum().backward()
    assert w.grad is not None and m.a.weight.grad is None
    assert m.a.weight is w0 and m.b.weight is w0 and m.scale is s0
    # untied: only a.weight changes
    out2 = functional_call(m, {"a.weight": flambeau.eye(2)}, (x,), tie_weights=False)
    expected2 = m.b(x + m.a.bias)
    assert_close(out2, expected2, atol=1e-6, rtol=0)


def test_functional_call_errors_restore_state():
    m = Tied()
    w0 = m.a.weight

    class Boom(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(1, 1)

        def forward(self, x):
            raise ValueError("boom")

    b = Boom()
    lw = b.lin.weight
    with pytest.raises(ValueError, match="boom"):
        functional_call(b, {"lin.weight": flambeau.zeros(1, 1)}, flambeau.ones(1, 1))
    assert b.lin.weight is lw
    with pytest.raises(RuntimeError, match=r"Error\(s\) in reparametrizing for Tied:\n\t"
                                           r"Unexpected key\(s\): 'zzz'.\n\tMissing key\(s\): "
                                           r"'a.bias'"):
        functional_call(m, {"a.weight": flambeau.eye(2), "zzz": flambeau.ones(1)},
                        flambeau.ones(1, 2), strict=True)
    with pytest.raises(ValueError, match=r"functional_call got multiple values for keys "
                                         r"\['a.weight', 'b.weight'\], which are tied"):
        functional_call(m, {"a.weight": flambeau.eye(2), "b.weight": flambeau.eye(2)},
                        flambeau.ones(1, 2))
    with pytest.raises(AttributeError, match="Tied has no attribute `c`"):
        functional_call(m, {"c.weight": flambeau.eye(2)}, flambeau.ones(1, 2))
    with pytest.raises(TypeError, match="is not an instance of flambeau.Tensor"):
        functional_call(m, {"a.weight": [[1.0]]}, flambeau.ones(1, 2))
    with pytest.raises(TypeError, match="must be a dict"):
        functional_call(m, [("a.weight", flambeau.eye(2))], flambeau.ones(1, 2))
    assert m.a.weight is w0 and m.b.weight is w0
    # a key the module does not have is an attribute during the call, then removed
    functional_call(m, {"extra": flambeau.ones(1)}, flambeau.ones(1, 2))
    assert not hasattr(m, "extra")


@pytest.mark.parity
def test_functional_call_parity_with_parametrization():
    torch = pytest.importorskip("torch")
    from torch.nn.utils import parametrize as TP

    class Double(nn.Module):
        def forward(self, X):
            return 2 * X

        def right_inverse(self, X):
            return X / 2

    class TDouble(torch.nn.Module):
        def forward(self, X):
            return 2 * X

        def right_inverse(self, X):
            return X / 2

    torch.manual_seed(0)
    tm = torch.nn.Linear(2, 2).double()
    fm = nn.Linear(2, 2).double()
    fm.load_state_dict({k: from_torch(v) for k, v in tm.state_dict().items()})
    parametrize.register_parametrization(fm, "weight", Double())
    TP.register_parametrization(tm, "weight", TDouble())
    W = np.array([[1.0, 2.0], [3.0, -1.0]])
    x = np.array([[0.5, -1.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        for key in ("weight", "parametrizations.weight.original"):
            f = functional_call(fm, {key: flambeau.tensor(W)}, flambeau.tensor(x))
            t = torch.nn.utils.stateless.functional_call(tm, {key: torch.tensor(W)},
                                                         torch.tensor(x))
            assert_close(f, t, atol=1e-12, rtol=1e-12, what=key)
    assert_close(fm.weight, tm.weight, atol=1e-12, rtol=1e-12)


# ---------------------------------------------------------------------------- norms
@pytest.mark.parity
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf, "inf"])
def test_get_total_norm_and_clip_parity(norm_type):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((3, 2)), rng.standard_normal(4), rng.standard_normal(())]
    f = get_total_norm([flambeau.tensor(a) for a in arrays], norm_type)
    t = torch.nn.utils.get_total_norm([torch.tensor(a) for a in arrays], norm_type)
    assert f.dtype == flambeau.float64 and f.ndim == 0
    assert_close(f, t, atol=1e-12, rtol=1e-12)
    ps = [nn.Parameter(flambeau.zeros(*a.shape)) for a in arrays]
    tps = [torch.nn.Parameter(torch.zeros(a.shape)) for a in arrays]
    for p, tp, a in zip(ps, tps, arrays):
        p.grad = flambeau.tensor(a.astype(np.float32))
        tp.grad = torch.tensor(a.astype(np.float32))
    total = get_total_norm([p.grad for p in ps], norm_type)
    assert clip_grads_with_norm_(ps, 0.7, total) is None
    torch.nn.utils.clip_grads_with_norm_(
        tps, 0.7, torch.nn.utils.get_total_norm([p.grad for p in tps], norm_type))
    for p, tp in zip(ps, tps):
        assert_close(p.grad, tp.grad, atol=1e-7, rtol=1e-6)


def test_get_total_norm_edge_cases():
    assert get_total_norm([]).item() == 0.0
    x = flambeau.tensor([3.0, 4.0], requires_grad=True)
    total = get_total_norm(x)
    assert total.item() == pytest.approx(5.0) and not total.requires_grad
    mixed = get_total_norm([flambeau.ones(2), flambeau.ones(3, dtype=flambeau.float64)])
    assert mixed.dtype == flambeau.float64 and mixed.item() == pytest.approx(math.sqrt(5))
    bad = [flambeau.tensor([1.0, float("nan")])]
    assert math.isnan(get_total_norm(bad).item())
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from "
                                           "`parameters` is non-finite"):
        get_total_norm(bad, error_if_nonfinite=True)


def test_clip_grads_with_norm_only_scales_down():
    p = nn.Parameter(flambeau.zeros(2))
    p.grad = flambeau.tensor([3.0, 4.0])
    clip_grads_with_norm_(p, 10.0, flambeau.tensor(5.0))
    assert p.grad.tolist() == [3.0, 4.0]
    clip_grads_with_norm_([p], 1.0, 5.0)  # a float norm is accepted too
    assert_close(p.grad, [0.6, 0.8], atol=1e-6, rtol=0)
    q = nn.Parameter(flambeau.zeros(1))  # no grad: skipped
    clip_grads_with_norm_([q], 1.0, 5.0)
    assert q.grad is None


# ---------------------------------------------------------------------------- skip_init
def test_skip_init():
    flambeau.manual_seed(0)
    expected = flambeau.rand(3)
    flambeau.manual_seed(0)
    m = skip_init(nn.Linear, 10, 4, bias=False, dtype=flambeau.float64)
    assert m.weight.shape == (4, 10) and m.bias is None and m.weight.dtype == flambeau.float64
    assert np.array_equal(flambeau.rand(3).cpu().numpy(), expected.cpu().numpy())  # no draw seen
    assert m.weight.device == flambeau.device("cpu")
    with pytest.raises(RuntimeError, match="Expected a Module; got"):
        skip_init(int)
    with pytest.raises(RuntimeError, match="Module must support a 'device' arg"):
        skip_init(nn.ReLU)
