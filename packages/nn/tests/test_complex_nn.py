"""Complex tensors in flambeau.nn, against PyTorch: complex parameters and buffers,
Module.to and the casts, state dicts, the parameter utilities and gradient clipping, the
layers PyTorch runs on complex tensors (values and gradients in complex64 and complex128),
gradcheck/gradgradcheck of the functional linear and convolution forms, nn.init, and the
functions PyTorch refuses for complex tensors.

Gradients follow PyTorch's convention: for a real loss ``L`` of ``z = x + iy``, ``z.grad`` is
``dL/dx + i dL/dy``; the losses here weigh real and imaginary parts differently and add a
modulus, ``(out * conj(w)).real.sum() + out.abs().sum()``. The tests run on the CPU (the
``cpu_default`` fixture), as torch's tensors do.
"""

import warnings

import numpy as np
import pytest

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck, gradgradcheck

pytestmark = pytest.mark.usefixtures("cpu_default")

COMPLEX = ["complex64", "complex128"]
TOL = {"complex64": dict(rtol=1e-3, atol=1e-4), "complex128": dict(rtol=1e-9, atol=1e-11)}


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _cx(shape, dtype="complex128", seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return (scale * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape))).astype(dtype)


def _close(got, want, dtype, what=""):
    got = got.detach().cpu().numpy() if isinstance(got, flambeau.Tensor) else np.asarray(got)
    want = want.detach().numpy() if hasattr(want, "detach") else np.asarray(want)
    assert got.dtype == want.dtype, (what, got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, err_msg=what, **TOL[dtype])


def _real_loss(lib, out, weights):
    """A real loss of ``out`` (complex or real) that sees both parts of complex outputs."""
    w = lib.tensor(weights.astype(np.complex128 if out.dtype == lib.complex128 else np.complex64)
                   if out.is_complex() else weights.real.astype(np.float64 if out.dtype ==
                                                                lib.float64 else np.float32))
    return (out * w.conj()).real.sum() + out.abs().sum() if out.is_complex() else (out * w).sum()


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def _module_parity(torch, make, inputs, dtype, scale=0.5):
    """``make(lib, dtype)`` builds the same module in flambeau and torch; the torch weights
    are copied over, then outputs, input gradients and parameter gradients must agree."""
    fdt, tdt = getattr(flambeau, dtype), getattr(torch, dtype)
    tm, fm = make(torch, tdt), make(flambeau, fdt)
    fm.load_state_dict({k: flambeau.tensor(v.detach().numpy())
                        for k, v in tm.state_dict().items()})
    arrays = [_cx(s, dtype, seed=i + 1, scale=scale) for i, s in enumerate(inputs)]
    ta = [torch.tensor(a, requires_grad=True) for a in arrays]
    fa = [flambeau.tensor(a, requires_grad=True) for a in arrays]
    to, fo = _first(tm(*ta)), _first(fm(*fa))
    _close(fo, to, dtype, "output")
    weights = _cx(tuple(to.shape), "complex128", seed=99)
    _real_loss(torch, to, weights).backward()
    _real_loss(flambeau, fo, weights).backward()
    for i, (f, t) in enumerate(zip(fa, ta)):
        _close(f.grad, t.grad, dtype, f"grad of input {i}")
    t_params = dict(tm.named_parameters())
    for name, p in fm.named_parameters():
        _close(p.grad, t_params[name].grad, dtype, f"grad of {name}")


def _function_parity(torch, fn, shapes, dtype, real=(), scale=1.0):
    """``fn(lib, F, *tensors)`` on the same values in both libraries: values and gradients.
    Arguments at the positions in ``real`` are real (the complex dtype's precision)."""
    arrays = []
    for i, s in enumerate(shapes):
        a = _cx(s, dtype, seed=i + 1, scale=scale)
        arrays.append(a.real.copy() if i in real else a)
    ta = [torch.tensor(a, requires_grad=True) for a in arrays]
    fa = [flambeau.tensor(a, requires_grad=True) for a in arrays]
    to = fn(torch, torch.nn.functional, *ta)
    fo = fn(flambeau, F, *fa)
    _close(fo, to, dtype, "output")
    weights = _cx(tuple(to.shape), "complex128", seed=99)
    _real_loss(torch, to, weights).backward()
    _real_loss(flambeau, fo, weights).backward()
    for i, (f, t) in enumerate(zip(fa, ta)):
        _close(f.grad, t.grad, dtype, f"grad of argument {i}")


# ------------------------------------------------------------------ parameters and modules


def test_complex_parameters_and_buffers():
    m = nn.Linear(3, 2, dtype=flambeau.complex64)
    assert m.weight.dtype == m.bias.dtype == flambeau.complex64 and m.weight.requires_grad
    m.register_buffer("phase", flambeau.ones(2, dtype=flambeau.complex128))
    m.scale = nn.Parameter(flambeau.tensor([1j]))
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias", "scale"]
    # an integer parameter that needs no gradient is allowed, as in torch
    m.count = nn.Parameter(flambeau.tensor([3]), requires_grad=False)
    assert m.count.dtype == flambeau.int64
    with pytest.raises(RuntimeError, match="floating point and complex"):
        nn.Parameter(flambeau.tensor([1, 2]))
    # default initialization draws each part uniformly in +-1/sqrt(fan_in), as torch
    big = nn.Linear(100, 400, dtype=flambeau.complex128)
    for part in (big.weight.real, big.weight.imag, big.bias.real, big.bias.imag):
        assert 0.09 < float(part.abs().max()) <= 0.1


@pytest.mark.parity
def test_module_casts_as_torch(torch):
    def make(lib):
        net = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        net[0].weight.grad = lib.ones(2, 2)
        return net

    for lib in (flambeau, torch):
        net = make(lib)
        with pytest.warns(UserWarning, match="Complex modules are a new feature"):
            net.to(lib.complex128)
        assert net[0].weight.dtype == net[1].running_mean.dtype == lib.complex128
        assert net[0].weight.grad.dtype == lib.complex128
        assert net[1].num_batches_tracked.dtype == lib.int64  # integers are never cast
        for cast in ("float", "double", "half", "bfloat16"):  # complex tensors stay as they are
            assert getattr(net, cast)()[0].weight.dtype == lib.complex128
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            net.to(lib.complex64)[0].weight.data += 1j
        assert not any("discards" in str(w.message) for w in caught)  # complex to complex
        with pytest.warns(UserWarning, match="discards the imaginary part"):
            net.to(lib.float64)
        assert net[0].weight.dtype == lib.float64
        with pytest.raises(TypeError, match="only accepts floating point or complex dtypes"):
            net.to(lib.int32)
        assert net.type(lib.complex64)[1].num_batches_tracked.dtype == lib.complex64


@pytest.mark.parity
def test_state_dict_save_load(torch, tmp_path):
    net = nn.Sequential(nn.Linear(3, 2, dtype=flambeau.complex128),
                        nn.Conv1d(2, 2, 3, dtype=flambeau.complex64))
    flambeau.save(net.state_dict(), tmp_path / "net.pt")
    state = flambeau.load(tmp_path / "net.pt")
    assert [v.dtype for v in state.values()] == [flambeau.complex128] * 2 + [flambeau.complex64] * 2
    other = nn.Sequential(nn.Linear(3, 2, dtype=flambeau.complex128),
                          nn.Conv1d(2, 2, 3, dtype=flambeau.complex64))
    other.load_state_dict(state)
    for a, b in zip(net.parameters(), other.parameters()):
        assert a.dtype == b.dtype and bool((a == b).all())
    # a torch file of complex weights loads into the same layer
    tlin = torch.nn.Linear(3, 2, dtype=torch.complex128)
    torch.save(tlin.state_dict(), tmp_path / "torch.pt")
    lin = nn.Linear(3, 2, dtype=flambeau.complex128)
    lin.load_state_dict(flambeau.load(tmp_path / "torch.pt"))
    _close(lin.weight, tlin.weight, "complex128")
    # complex values into a real layer keep the real parts, with torch's warning
    real = nn.Linear(3, 2, dtype=flambeau.float64)
    with pytest.warns(Warning, match="discards the imaginary part"):
        real.load_state_dict(lin.state_dict())
    np.testing.assert_array_equal(real.weight.detach().numpy(), lin.weight.detach().numpy().real)


@pytest.mark.parity
@pytest.mark.parametrize("dtype", COMPLEX)
def test_parameter_vector_and_clipping(torch, dtype):
    nets, grads = {}, None
    for lib in (torch, flambeau):
        net = lib.nn.Sequential(lib.nn.Linear(3, 2, dtype=getattr(lib, dtype)),
                                lib.nn.Linear(2, 2, dtype=getattr(lib, dtype)))
        if lib is flambeau:
            net.load_state_dict({k: flambeau.tensor(v.detach().numpy())
                                 for k, v in nets[torch].state_dict().items()})
        net(lib.tensor(_cx((4, 3), dtype))).abs().sum().backward()
        nets[lib] = net
    fnet, tnet = nets[flambeau], nets[torch]
    _close(nn.utils.parameters_to_vector(fnet.parameters()),
           torch.nn.utils.parameters_to_vector(tnet.parameters()), dtype)
    _close(nn.utils.get_total_norm([p.grad for p in fnet.parameters()]),
           torch.nn.utils.get_total_norm([p.grad for p in tnet.parameters()]), dtype)
    for norm_type in (2.0, 1.0, float("inf")):
        got = nn.utils.clip_grad_norm_(fnet.parameters(), 0.3, norm_type)
        want = torch.nn.utils.clip_grad_norm_(tnet.parameters(), 0.3, norm_type)
        assert got.dtype == getattr(flambeau, want.dtype.__str__().split(".")[1])  # real
        _close(got, want, dtype)
        for p, q in zip(fnet.parameters(), tnet.parameters()):
            _close(p.grad, q.grad, dtype)
    nn.utils.clip_grads_with_norm_(fnet.parameters(), 0.01, flambeau.tensor(2.0))
    torch.nn.utils.clip_grads_with_norm_(tnet.parameters(), 0.01, torch.tensor(2.0))
    grads = [p.grad.clone() for p in fnet.parameters()]
    for p, q in zip(fnet.parameters(), tnet.parameters()):
        _close(p.grad, q.grad, dtype)
    # clip_grad_value_ compares values: refused (torch's clamp), nothing changed
    with pytest.raises(NotImplementedError):
        torch.nn.utils.clip_grad_value_(tnet.parameters(), 0.1)
    with pytest.raises(NotImplementedError, match=r"clip_grad_value_: not implemented for "
                                                  r"complex tensors \(got flambeau.complex"):
        nn.utils.clip_grad_value_(fnet.parameters(), 0.1)
    for p, g in zip(fnet.parameters(), grads):
        assert bool((p.grad == g).all())
    vec = _cx((sum(p.numel() for p in fnet.parameters()),), dtype, seed=5)
    nn.utils.vector_to_parameters(flambeau.tensor(vec), fnet.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(vec), tnet.parameters())
    for p, q in zip(fnet.parameters(), tnet.parameters()):
        _close(p, q, dtype)


@pytest.mark.parity
@pytest.mark.parametrize("kind", ["spectral_norm", "orthogonal", "orthogonal-cayley"])
def test_parametrizations(torch, kind):
    """Spectral norm (``u^H W v``) and unitary weights on complex tensors, as torch's."""
    weight = _cx((3, 3) if kind.startswith("orth") else (4, 3), "complex128", seed=3)
    layers = {}
    for lib in (torch, flambeau):
        layer = lib.nn.Linear(weight.shape[1], weight.shape[0], dtype=lib.complex128)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(weight))
        P = lib.nn.utils.parametrizations
        if kind == "spectral_norm":
            P.spectral_norm(layer)
        else:
            P.orthogonal(layer, orthogonal_map="cayley" if "cayley" in kind else None)
        layers[lib] = layer
    tw, fw = layers[torch].weight, layers[flambeau].weight
    # the power iteration starts from random vectors: converged to about 1e-8
    tol = dict(rtol=1e-6, atol=1e-7) if kind == "spectral_norm" else TOL["complex128"]
    np.testing.assert_allclose(fw.detach().numpy(), tw.detach().numpy(), **tol)
    if kind != "spectral_norm":
        eye = fw.mH @ fw
        np.testing.assert_allclose(eye.detach().numpy(), np.eye(3), atol=1e-12)
    weights = _cx((fw.shape[0], fw.shape[1]), "complex128", seed=9)
    _real_loss(torch, tw, weights).backward()
    _real_loss(flambeau, fw, weights).backward()
    name = "parametrizations.weight.original"
    np.testing.assert_allclose(dict(layers[flambeau].named_parameters())[name].grad.numpy(),
                               dict(layers[torch].named_parameters())[name].grad.numpy(), **tol)


def test_parametrization_refusals():
    w = nn.Linear(4, 3, dtype=flambeau.complex64)
    with pytest.raises(ValueError, match="householder parametrization does not support complex"):
        nn.utils.parametrizations.orthogonal(w, orthogonal_map="householder")
    for apply in (nn.utils.parametrizations.weight_norm, nn.utils.weight_norm):
        with pytest.raises(NotImplementedError, match=r"weight_norm: not implemented for "
                                                      r"complex tensors"):
            apply(w)
        assert [n for n, _ in w.named_parameters()] == ["weight", "bias"]  # left as it was
    # a module cast to complex after weight_norm refuses at the next forward
    real = nn.utils.parametrizations.weight_norm(nn.Linear(2, 2))
    with pytest.warns(UserWarning, match="Complex modules"):
        real.to(flambeau.complex64)
    with pytest.raises(NotImplementedError, match="weight_norm"):
        real(flambeau.ones(1, 2, dtype=flambeau.complex64))


# ------------------------------------------------------------------ layers


def _rnn(kind, **kw):
    return lambda lib, dt: getattr(lib.nn, kind)(3, 4, dtype=dt, **kw)


LAYERS = {
    "Linear": (lambda lib, dt: lib.nn.Linear(3, 4, dtype=dt), [(2, 5, 3)]),
    "Linear-nobias": (lambda lib, dt: lib.nn.Linear(3, 4, bias=False, dtype=dt), [(3,)]),
    "Conv1d": (lambda lib, dt: lib.nn.Conv1d(2, 3, 3, padding=1, padding_mode="circular",
                                             dtype=dt), [(2, 2, 7)]),
    "Conv2d": (lambda lib, dt: lib.nn.Conv2d(3, 4, 3, stride=2, padding=1, dtype=dt),
               [(2, 3, 7, 7)]),
    "Conv2d-channels-groups": (lambda lib, dt: lib.nn.Conv2d(8, 4, 3, padding=2, dilation=2,
                                                             groups=2, dtype=dt),
                               [(2, 8, 6, 6)]),
    "Conv2d-reflect": (lambda lib, dt: lib.nn.Conv2d(6, 4, 3, padding=1, padding_mode="reflect",
                                                     dtype=dt), [(1, 6, 5, 5)]),
    "Conv3d": (lambda lib, dt: lib.nn.Conv3d(2, 3, 2, dtype=dt), [(1, 2, 3, 4, 3)]),
    "ConvTranspose1d": (lambda lib, dt: lib.nn.ConvTranspose1d(2, 3, 3, stride=2, dtype=dt),
                        [(2, 2, 4)]),
    "ConvTranspose2d": (lambda lib, dt: lib.nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1,
                                                               output_padding=1, groups=2,
                                                               dtype=dt), [(1, 6, 4, 4)]),
    "ConvTranspose3d": (lambda lib, dt: lib.nn.ConvTranspose3d(2, 3, 2, dtype=dt),
                        [(1, 2, 2, 3, 2)]),
    "RNN": (_rnn("RNN", num_layers=2), [(5, 2, 3)]),
    "LSTM": (_rnn("LSTM", bidirectional=True, batch_first=True), [(2, 5, 3)]),
    "LSTM-proj": (_rnn("LSTM", proj_size=2), [(4, 2, 3)]),
    "GRU": (_rnn("GRU", num_layers=2, bidirectional=True), [(5, 2, 3)]),
    "RNNCell": (_rnn("RNNCell"), [(2, 3)]),
    "LSTMCell": (_rnn("LSTMCell"), [(2, 3)]),
    "GRUCell": (_rnn("GRUCell"), [(2, 3)]),
    "activations": (lambda lib, dt: lib.nn.Sequential(
        lib.nn.Linear(3, 4, dtype=dt), lib.nn.Tanh(), lib.nn.Sigmoid(), lib.nn.Softsign(),
        lib.nn.Tanhshrink(), lib.nn.Flatten(0), lib.nn.Unflatten(0, (2, 4)), lib.nn.Identity(),
        lib.nn.Dropout().eval()), [(2, 3)]),
    "RMSNorm": (lambda lib, dt: lib.nn.RMSNorm(4, dtype=dt), [(3, 4)]),
    "padding": (lambda lib, dt: lib.nn.Sequential(
        lib.nn.ZeroPad2d((1, 0, 2, 1)), lib.nn.ReflectionPad2d(1), lib.nn.ReplicationPad2d(2),
        lib.nn.CircularPad2d(1), lib.nn.ConstantPad2d(1, 2.5)), [(1, 2, 3, 4)]),
    "padding-1d-3d": (lambda lib, dt: lib.nn.Sequential(
        lib.nn.ReflectionPad3d(1), lib.nn.ReplicationPad3d(1), lib.nn.CircularPad3d(1),
        lib.nn.Flatten(2), lib.nn.ReflectionPad1d(2), lib.nn.ReplicationPad1d(1),
        lib.nn.CircularPad1d(1)), [(1, 1, 2, 3, 2)]),
    "shuffles-fold": (lambda lib, dt: lib.nn.Sequential(
        lib.nn.PixelShuffle(2), lib.nn.PixelUnshuffle(2), lib.nn.ChannelShuffle(2),
        lib.nn.Unfold(2), lib.nn.Fold((3, 3), 2)), [(1, 4, 3, 3)]),
}


@pytest.mark.parity
@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("layer", list(LAYERS))
def test_layer_parity(torch, layer, dtype):
    make, inputs = LAYERS[layer]
    _module_parity(torch, make, inputs, dtype)


FUNCTIONS = {
    "normalize": (lambda L, F, x: F.normalize(x, p=1, dim=0) + F.normalize(x), [(3, 4)], ()),
    "pairwise_distance": (lambda L, F, a, b: L.stack([F.pairwise_distance(a, b, p=p)
                                                      for p in (1, 2, 3, float("inf"))]),
                          [(3, 4), (3, 4)], ()),
    "triplet_margin_loss": (lambda L, F, a, p, n: F.triplet_margin_loss(a, p, n, swap=True),
                            [(3, 4)] * 3, ()),
    "l1_loss": (lambda L, F, x, y, r: L.stack([F.l1_loss(x, y), F.l1_loss(x, r)]),
                [(3, 4)] * 3, (2,)),
    "poisson_nll_loss": (lambda L, F, x, y, r: F.poisson_nll_loss(x, y, reduction="none")
                         + F.poisson_nll_loss(x, y, log_input=False)
                         + F.poisson_nll_loss(x, r.abs() * 3, full=True), [(3, 4)] * 3, (2,)),
    "gaussian_nll_loss": (lambda L, F, x, y, v: F.gaussian_nll_loss(x, y, v.abs() + 0.1,
                                                                    reduction="none"),
                          [(3, 4)] * 3, (2,)),
    "rms_norm": (lambda L, F, x, w: F.rms_norm(x, (4,), w) + F.rms_norm(x, (4,), eps=1e-3),
                 [(3, 4), (4,)], ()),
    "pad": (lambda L, F, x: F.pad(F.pad(F.pad(x, (1, 2), mode="reflect"), (1, 1),
                                        mode="replicate"), (1, 0, 0, 1), value=2.0),
            [(2, 3, 4)], ()),
    "dropout-identity": (lambda L, F, x: F.dropout(x, 0.5, training=False) + F.dropout(x, 0.0)
                         + F.dropout(x, 1.0) + F.alpha_dropout(x, 1.0, True)
                         + F.feature_alpha_dropout(x, 0.0, True), [(3, 4)], ()),
}


@pytest.mark.parity
@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_function_parity(torch, name, dtype):
    fn, shapes, real = FUNCTIONS[name]
    _function_parity(torch, fn, shapes, dtype, real)


# PyTorch computes these on complex tensors but has no complex gradient for them: they run
# where nothing is recorded and raise torch's error where a gradient would be recorded
NO_GRAD = {
    "bilinear": lambda L, F, a, b, w: F.bilinear(a, b[:, :3], w[:24].reshape(2, 4, 3)),
    "embedding": lambda L, F, a, b, w: F.embedding(L.tensor([[0, 2], [1, 1]]), a),
    "silu": lambda L, F, a, b, w: F.silu(a),
    "soft_margin_loss": lambda L, F, a, b, w: F.soft_margin_loss(a, b[:, :4]),
}


@pytest.mark.parity
@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("name", list(NO_GRAD))
def test_forward_only_functions(torch, name, dtype):
    arrays = [_cx((3, 4), dtype, 1), _cx((3, 5), dtype, 2), _cx((36,), dtype, 3)]
    with torch.no_grad():
        want = NO_GRAD[name](torch, torch.nn.functional, *map(torch.tensor, arrays))
    with flambeau.no_grad():
        got = NO_GRAD[name](flambeau, F, *map(flambeau.tensor, arrays))
    _close(got, want, dtype)
    message = f"{name} does not support automatic differentiation for outputs with complex dtype"
    for lib, fns in ((torch, torch.nn.functional), (flambeau, F)):
        # the first argument requires grad (soft_margin_loss's target may not, in torch)
        tensors = [lib.tensor(a, requires_grad=i == 0 or name != "soft_margin_loss")
                   for i, a in enumerate(arrays)]
        with pytest.raises(RuntimeError, match=message if lib is flambeau else
                           "does not support automatic differentiation"):
            NO_GRAD[name](lib, fns, *tensors)


@pytest.mark.parity
def test_embedding_modules(torch):
    emb = nn.Embedding(4, 3, dtype=flambeau.complex64)
    with pytest.raises(RuntimeError, match="embedding does not support automatic"):
        emb(flambeau.tensor([1, 2]))
    emb.weight.requires_grad_(False)
    assert emb(flambeau.tensor([1, 2])).dtype == flambeau.complex64
    weights = _cx((4, 3), "complex64")
    with torch.no_grad():
        want = torch.nn.functional.embedding(torch.tensor([3, 1]), torch.tensor(weights),
                                             max_norm=0.7)
    got = F.embedding(flambeau.tensor([3, 1]), flambeau.tensor(weights), max_norm=0.7)
    _close(got, want, "complex64")
    for lib in (torch, flambeau):
        with pytest.raises(RuntimeError):
            lib.nn.EmbeddingBag(4, 3, dtype=lib.complex64)(lib.tensor([[0, 1]]))


# ------------------------------------------------------------------ gradcheck


def _c128(*shape, seed=0):
    return flambeau.tensor(_cx(shape, "complex128", seed), requires_grad=True)


@pytest.mark.parametrize("case", ["linear", "linear-3d", "conv2d", "conv2d-groups",
                                  "conv_transpose2d"])
def test_gradcheck_complex128(case):
    fn, args = {
        "linear": (F.linear, (_c128(2, 3), _c128(4, 3, seed=1), _c128(4, seed=2))),
        "linear-3d": (F.linear, (_c128(2, 2, 3), _c128(2, 3, seed=1))),
        "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
                   (_c128(2, 3, 5, 5), _c128(4, 3, 3, 3, seed=1), _c128(4, seed=2))),
        "conv2d-groups": (lambda x, w: F.conv2d(x, w, padding=1, groups=2),
                          (_c128(1, 6, 4, 4), _c128(4, 3, 3, 3, seed=1))),
        "conv_transpose2d": (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, groups=2),
                             (_c128(1, 6, 3, 3), _c128(6, 2, 3, 3, seed=1), _c128(4, seed=2))),
    }[case]
    assert gradcheck(fn, args)
    assert gradgradcheck(fn, args)


# ------------------------------------------------------------------ nn.init


@pytest.mark.parity
def test_init_on_complex_tensors(torch):
    def parts(t):
        return [t.real, t.imag]

    flambeau.manual_seed(0)
    w = flambeau.empty(400, 250, dtype=flambeau.complex64)
    bound = 6 ** 0.5 / 650 ** 0.5  # xavier_uniform_: each part uniform in +-bound
    for p in parts(nn.init.xavier_uniform_(w)):
        assert 0.98 * bound < float(p.abs().max()) <= bound
    std = 2 ** 0.5 / 250 ** 0.5  # kaiming_normal_ (fan_in, leaky_relu(0)): std per part /sqrt2
    for p in parts(nn.init.kaiming_normal_(w)):
        assert abs(float(p.std()) - std / 2 ** 0.5) < 0.02 * std
    for p in parts(nn.init.normal_(w, 1.0, 2.0)):
        assert abs(float(p.mean()) - 1.0) < 0.02 and abs(float(p.std()) - 2 ** 0.5) < 0.02
    for p in parts(nn.init.uniform_(w, -1.0, 2.0)):
        assert -1.0 <= float(p.min()) < -0.99 and 1.99 < float(p.max()) < 2.0
    assert nn.init.constant_(flambeau.empty(2, dtype=flambeau.complex128), 1 - 2j).tolist() == [
        1 - 2j, 1 - 2j]
    assert nn.init.eye_(flambeau.empty(2, 3, dtype=flambeau.complex64)).tolist() == (
        torch.nn.init.eye_(torch.empty(2, 3, dtype=torch.complex64)).tolist())
    assert nn.init.dirac_(flambeau.empty(2, 2, 3, dtype=flambeau.complex64)).tolist() == (
        torch.nn.init.dirac_(torch.empty(2, 2, 3, dtype=torch.complex64)).tolist())
    # trunc_normal_ compares values and orthogonal_ fixes signs with sign(): both refused
    for name in ("trunc_normal_", "orthogonal_"):
        with pytest.raises(NotImplementedError):
            getattr(torch.nn.init, name)(torch.empty(3, 3, dtype=torch.complex64))
        with pytest.raises(NotImplementedError, match=rf"{name}: not implemented for complex "
                                                      r"tensors \(got flambeau.complex64\)"):
            getattr(nn.init, name)(flambeau.empty(3, 3, dtype=flambeau.complex64))
    assert nn.init.orthogonal_(flambeau.empty(0, 3, dtype=flambeau.complex64)).shape == (0, 3)


# ------------------------------------------------------------------ refusals


def _x(L, *shape):
    n = int(np.prod(shape))
    return (L.arange(n, dtype=L.float32).reshape(shape) / n - 0.3) * (1 + 1j)


def _t(L, *shape):
    return L.tensor(np.arange(int(np.prod(shape))).reshape(shape) % 2)


# (name in the message, call): each call raises in flambeau and in torch, given the library
# ``L`` and its functional namespace ``F``
REFUSED = [
    ("max_pool1d", lambda L, F: F.max_pool1d(_x(L, 1, 2, 6), 2)),
    ("max_pool2d", lambda L, F: L.nn.MaxPool2d(2)(_x(L, 1, 2, 4, 4))),
    ("max_pool3d", lambda L, F: F.max_pool3d(_x(L, 1, 1, 2, 2, 2), 2)),
    ("adaptive_max_pool2d", lambda L, F: F.adaptive_max_pool2d(_x(L, 1, 2, 4, 4), 2)),
    ("fractional_max_pool2d", lambda L, F: F.fractional_max_pool2d(_x(L, 1, 1, 6, 6), 2,
                                                                   output_size=3)),
    ("max_unpool1d", lambda L, F: F.max_unpool1d(_x(L, 1, 1, 2), L.tensor([[[0, 2]]]), 2)),
    ("avg_pool1d", lambda L, F: F.avg_pool1d(_x(L, 1, 2, 6), 2)),
    ("avg_pool2d", lambda L, F: L.nn.AvgPool2d(2)(_x(L, 1, 2, 4, 4))),
    ("adaptive_avg_pool2d", lambda L, F: L.nn.AdaptiveAvgPool2d(2)(_x(L, 1, 2, 4, 4))),
    ("lp_pool2d", lambda L, F: F.lp_pool2d(_x(L, 1, 2, 4, 4), 2, 2)),
    ("interpolate", lambda L, F: L.nn.Upsample(scale_factor=2)(_x(L, 1, 1, 2, 2))),
    ("interpolate", lambda L, F: F.interpolate(_x(L, 1, 1, 4), size=2, mode="linear")),
    ("grid_sample", lambda L, F: F.grid_sample(_x(L, 1, 1, 3, 3), L.zeros(1, 2, 2, 2),
                                               align_corners=False)),
    ("relu", lambda L, F: L.nn.ReLU()(_x(L, 3))),
    ("relu6", lambda L, F: F.relu6(_x(L, 3))),
    ("hardtanh", lambda L, F: F.hardtanh(_x(L, 3))),
    ("leaky_relu", lambda L, F: L.nn.LeakyReLU()(_x(L, 3))),
    ("elu", lambda L, F: F.elu(_x(L, 3))),
    ("gelu", lambda L, F: L.nn.GELU()(_x(L, 3))),
    ("mish", lambda L, F: F.mish(_x(L, 3))),
    ("softplus", lambda L, F: F.softplus(_x(L, 3))),
    ("logsigmoid", lambda L, F: F.logsigmoid(_x(L, 3))),
    ("hardswish", lambda L, F: F.hardswish(_x(L, 3))),
    ("prelu", lambda L, F: F.prelu(_x(L, 2, 3), _x(L, 1))),
    ("glu", lambda L, F: F.glu(_x(L, 4))),
    ("softmax", lambda L, F: L.nn.Softmax(0)(_x(L, 3))),
    ("log_softmax", lambda L, F: F.log_softmax(_x(L, 3), 0)),
    ("softmin", lambda L, F: F.softmin(_x(L, 3), 0)),
    ("scaled_dot_product_attention", lambda L, F: F.scaled_dot_product_attention(
        _x(L, 1, 2, 3), _x(L, 1, 2, 3), _x(L, 1, 2, 3))),
    ("MultiheadAttention", lambda L, F: L.nn.MultiheadAttention(4, 2, dtype=L.complex64)(
        _x(L, 2, 1, 4), _x(L, 2, 1, 4), _x(L, 2, 1, 4))),
    ("cosine_similarity", lambda L, F: F.cosine_similarity(_x(L, 2, 3), _x(L, 2, 3))),
    ("dropout", lambda L, F: F.dropout(_x(L, 4), 0.5)),
    ("dropout2d", lambda L, F: L.nn.Dropout2d()(_x(L, 1, 2, 2, 2))),
    ("alpha_dropout", lambda L, F: F.alpha_dropout(_x(L, 4), 0.5, training=True)),
    ("batch_norm", lambda L, F: L.nn.BatchNorm1d(3, dtype=L.complex64)(_x(L, 4, 3))),
    ("batch_norm", lambda L, F: F.batch_norm(_x(L, 4, 3), None, None, training=True)),
    ("layer_norm", lambda L, F: L.nn.LayerNorm(3, dtype=L.complex64)(_x(L, 4, 3))),
    ("group_norm", lambda L, F: F.group_norm(_x(L, 2, 4, 3), 2)),
    ("instance_norm", lambda L, F: F.instance_norm(_x(L, 2, 3, 4))),
    ("local_response_norm", lambda L, F: F.local_response_norm(_x(L, 2, 3, 4, 4), 2)),
    ("mse_loss", lambda L, F: L.nn.MSELoss()(_x(L, 3), _x(L, 3))),
    ("mse_loss", lambda L, F: F.mse_loss(L.zeros(3), _x(L, 3))),
    ("smooth_l1_loss", lambda L, F: F.smooth_l1_loss(_x(L, 3), _x(L, 3))),
    ("huber_loss", lambda L, F: F.huber_loss(_x(L, 3), _x(L, 3))),
    ("cross_entropy", lambda L, F: L.nn.CrossEntropyLoss()(_x(L, 2, 3), _t(L, 2))),
    ("nll_loss", lambda L, F: F.nll_loss(_x(L, 2, 3), _t(L, 2))),
    ("binary_cross_entropy", lambda L, F: F.binary_cross_entropy(_x(L, 3), _x(L, 3))),
    ("binary_cross_entropy_with_logits",
     lambda L, F: F.binary_cross_entropy_with_logits(_x(L, 3), _x(L, 3))),
    ("kl_div", lambda L, F: F.kl_div(_x(L, 3), _x(L, 3))),
    ("hinge_embedding_loss", lambda L, F: F.hinge_embedding_loss(_x(L, 3), _x(L, 3))),
    ("margin_ranking_loss", lambda L, F: F.margin_ranking_loss(_x(L, 3), _x(L, 3), _x(L, 3))),
    ("cosine_embedding_loss",
     lambda L, F: F.cosine_embedding_loss(_x(L, 2, 3), _x(L, 2, 3), L.tensor([1, -1]))),
    ("multi_margin_loss", lambda L, F: F.multi_margin_loss(_x(L, 2, 3), _t(L, 2))),
    ("multilabel_margin_loss",
     lambda L, F: F.multilabel_margin_loss(_x(L, 2, 3), L.tensor([[0, -1, 1], [1, -1, 0]]))),
    ("multilabel_soft_margin_loss",
     lambda L, F: F.multilabel_soft_margin_loss(_x(L, 2, 3), _x(L, 2, 3))),
    ("gaussian_nll_loss", lambda L, F: F.gaussian_nll_loss(_x(L, 3), _x(L, 3), 1.0)),
    ("poisson_nll_loss", lambda L, F: F.poisson_nll_loss(_x(L, 3), _x(L, 3), full=True)),
    ("ctc_loss", lambda L, F: F.ctc_loss(_x(L, 5, 1, 3), L.tensor([[1, 2]]), L.tensor([5]),
                                         L.tensor([2]))),
    ("embedding_bag", lambda L, F: F.embedding_bag(L.tensor([[0, 1]]), _x(L, 3, 2))),
    ("RNN", lambda L, F: L.nn.RNN(2, 2, nonlinearity="relu", dtype=L.complex64)(_x(L, 3, 1, 2))),
]


@pytest.mark.parity
@pytest.mark.parametrize("name, call", REFUSED, ids=[n for n, _ in REFUSED])
def test_refused_as_in_torch(torch, name, call):
    with pytest.raises((RuntimeError, TypeError, ValueError)):
        call(torch, torch.nn.functional)
    with pytest.raises(NotImplementedError) as info:
        call(flambeau, F)
    message = str(info.value)
    assert "not implemented for complex tensors (got flambeau.complex64)" in message
    if name != "RNN":  # the RNN layer says which of its steps refuses (relu)
        assert message.startswith(f"{name}: "), message


def test_refusals_keep_real_paths():
    """The guards only refuse complex tensors: integer inputs still get the old messages,
    and complex padding values are refused as in torch."""
    with pytest.raises(RuntimeError, match="relu6: expected a floating point input"):
        F.relu6(flambeau.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="avg_pool1d: expected a floating point input"):
        F.avg_pool1d(flambeau.ones(1, 1, 4, dtype=flambeau.int64), 2)
    with pytest.raises(TypeError, match=r"pad\(\): argument 'value' \(position 4\) must be "
                                        "float, not complex"):
        F.pad(flambeau.ones(2), (1, 1), value=1j)
    # p = 0 and p = 1 draw nothing: allowed, as in torch
    z = flambeau.tensor([1 + 1j, 2j])
    assert F.dropout(z, 0.0).tolist() == z.tolist()
    assert F.dropout(z, 1.0).tolist() == [0j, 0j]
