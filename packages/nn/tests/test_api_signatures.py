"""The API surface of flambeau.nn against torch.nn's: names, signatures, defaults, reprs,
state dict keys and attributes of modules built with the same arguments.

Every difference fails unless listed (with its reason) in one of the allow-lists below.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import typing
import warnings

import pytest

torch = pytest.importorskip("torch")

import flambeau  # noqa: E402
import flambeau.nn  # noqa: E402

# torch.nn's namespaces and their flambeau counterparts ("" is torch.nn itself)
NAMESPACES = ["", ".functional", ".init", ".parameter", ".attention", ".parallel", ".utils",
              ".utils.rnn", ".utils.parametrize", ".utils.parametrizations",
              ".utils.clip_grad", ".utils.stateless", ".utils.fusion", ".utils.prune",
              ".utils.convert_parameters", ".utils.memory_format"]

# ------------------------------------------------------------------ allow-lists

# public torch names flambeau does not provide
MISSING_NAMES = {
    **{f"nn.functional.{n}": "a typing or torch-function helper imported into torch's module"
       for n in ("BroadcastingList1", "BroadcastingList2", "BroadcastingList3", "Callable",
                 "DType", "Optional", "TYPE_CHECKING", "Tensor", "boolean_dispatch",
                 "handle_torch_function", "has_torch_function", "has_torch_function_unary",
                 "has_torch_function_variadic")},
    **{f"nn.functional.{n}": "a docstring fragment of torch's documentation build"
       for n in ("reproducibility_notes", "sparse_support_notes", "tf32_notes")},
    "nn.functional.GRID_SAMPLE_INTERPOLATION_MODES": "torch's mode -> ATen enum table",
    "nn.functional.GRID_SAMPLE_PADDING_MODES": "torch's mode -> ATen enum table",
    "nn.functional.assert_int_or_pair": "an internal argument check of torch's unfold/fold",
    **{f"nn.functional.{n}": "low-precision grouped/scaled GPU GEMMs (float8), no CPU kernel"
       for n in ("grouped_mm", "scaled_mm", "scaled_grouped_mm", "ScalingType",
                 "SwizzleType")},
    "nn.attention.WARN_FOR_UNFUSED_KERNELS": "a switch of torch's fused-kernel selection",
    **{f"nn.attention.{n}": "registry of CUDA flash-attention implementations"
       for n in ("register_flash_attention_impl", "activate_flash_attention_impl",
                 "list_flash_attention_impls", "current_flash_attention_impl",
                 "restore_flash_attention_impl")},
    **{f"nn.parallel.{n}": "single-process multi-GPU primitives; flambeau's DataParallel "
       "runs on one device (use DistributedDataParallel for several)"
       for n in ("replicate", "scatter", "gather", "parallel_apply")},
    "nn.utils.convert_parameters.Iterable": "a typing import in torch's module",
}

# names another package provides where it is installed (the lookup raises ImportError
# otherwise): left to that package's own tests, so this test gives the same answer either way
OTHER_PACKAGES = {"nn.parallel.DistributedDataParallel": "flambeau-distributed"}

# public methods of torch.nn classes that flambeau's classes lack
MISSING_METHODS = {
    **{f"{c}.{m}": "devices flambeau has no backend for"
       for c in ("Module",) for m in ("ipu", "mtia", "xpu")},
    **{f"{c}.{m}": "single-process multi-GPU helpers (see nn.parallel above)"
       for c in ("DataParallel",) for m in ("replicate", "scatter", "gather",
                                            "parallel_apply")},
    **{m: "torch's internal argument checks of RNN.forward (flambeau checks inline)"
       for m in ("RNNBase.check_input", "RNNBase.check_hidden_size",
                 "RNNBase.check_forward_args", "RNNBase.get_expected_hidden_size",
                 "RNNBase.permute_hidden", "LSTM.check_forward_args",
                 "LSTM.get_expected_cell_size", "LSTM.permute_hidden")},
    "MultiheadAttention.merge_masks": "an internal helper of torch's fused attention path",
}

# signatures that differ on purpose, keyed "nn.<namespace>.<name>[.<method>]"
SIGNATURES = {
    "nn.RNNBase.forward": "torch's base class has a placeholder forward(*input); flambeau's "
                          "RNNBase holds the forward(input, hx=None) LSTM/GRU/RNN share",
    "nn.attention.SDPBackend.__init__": "an enum: torch's pybind11 enum takes (value), "
                                        "Python's Enum (*args, **kwds); both SDPBackend(v)",
    "nn.functional.rrelu_": "torch's text signature (its docstring) omits the `generator` "
                            "keyword its builtin accepts, as flambeau's does",
}

# attributes (vars of an instance) that differ on purpose, keyed "Class.attribute"
ATTRIBUTES = {
    "TransformerEncoder.use_nested_tensor": "torch's nested-tensor fast path; flambeau has none",
    "TransformerEncoderLayer.activation_relu_or_gelu": "torch's fused fast-path flag; none here",
}

# subclass relations between public classes that differ on purpose
HIERARCHY = {
    **{(f"Lazy{k}{d}d", f"{k}{d}d"): "flambeau's lazy norms subclass the class they become "
       "(torch's are _LazyNormBase + _BatchNorm until the first forward)"
       for k in ("BatchNorm", "InstanceNorm") for d in (1, 2, 3)},
    ("UninitializedBuffer", "Buffer"): "flambeau's subclasses Buffer; torch's is a plain "
                                       "Tensor that passes isinstance(x, Buffer) (same result)",
}


# ------------------------------------------------------------------ helpers


def _namespace(prefix, suffix):
    return importlib.import_module(prefix + ".nn" + suffix)


def _public(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_")]
    return [n for n in names if not inspect.ismodule(getattr(module, n, None))]


def _has(module, name):
    try:
        return hasattr(module, name)
    except ImportError:  # a name served by a package that is not installed
        return False


def _generic(sig):
    """Whether ``sig`` is a pass-through ``(*args, **kwargs)`` that says nothing."""
    kinds = [p.kind for p in sig.parameters.values() if p.name not in ("self", "cls")]
    return sorted(kinds) == [inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD]


def _doc_signature(obj):
    """The signature of a torch builtin from the first line of its docstring."""
    doc = " ".join((obj.__doc__ or "").strip().splitlines()[:3])
    match = re.match(r"\w+\((.*?)\)\s*->", doc)
    if match is None:
        return None
    args = ast.parse(f"def f({match.group(1)}): pass").body[0].args
    names = [a.arg for a in args.args]
    defaults = [ast.literal_eval(ast.unparse(d)) if not isinstance(d, ast.BinOp)
                else eval(ast.unparse(d)) for d in args.defaults]  # "1./3"
    first = len(names) - len(defaults)
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return inspect.Signature(
        [inspect.Parameter(n, kind) for n in names[:first]]
        + [inspect.Parameter(n, kind, default=d) for n, d in zip(names[first:], defaults)])


def _torch_signatures(obj, owner=None, name=None):
    """torch's signatures of ``obj``, seeing through overloads, boolean dispatch and builtins.

    Returns ``(signatures, from_docstring)``; flambeau's must equal one of them (torch's
    ``Sequential`` has two overloads). ``([], False)`` when torch has none.
    """
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        sig = None
    if sig is not None and not _generic(sig):
        return [sig], False
    overloads = typing.get_overloads(obj) if hasattr(obj, "__module__") else []
    found = [s for s in map(inspect.signature, overloads) if not _generic(s)]
    if found:  # Module.to(*args, **kwargs) has overloads: either form is torch's
        return found + ([sig] if sig is not None else []), False
    dispatched = getattr(owner, "_" + name, None) if owner is not None and name else None
    if callable(dispatched):  # max_pool2d = boolean_dispatch(_max_pool2d, ...)
        return [inspect.signature(dispatched)], False
    if sig is None:
        doc = _doc_signature(obj)
        return ([doc], True) if doc is not None else ([], False)
    return [sig], False


def _default(value, loose):
    if value is inspect.Parameter.empty:
        return "<required>"
    if inspect.isfunction(value) or inspect.isbuiltin(value):
        return f"<function {value.__name__}>"  # e.g. Transformer's activation=F.relu
    if loose and isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(float(value))  # a docstring writes 1. or 1 where the code has 1.0
    return repr(value).replace("torch.", "flambeau.")


def _params(sig, loose=False):
    return [(p.name, p.kind.name, _default(p.default, loose))
            for p in sig.parameters.values() if p.name not in ("self", "cls")]


def _compare(key, torch_obj, flambeau_obj, found, owner=None, name=None, allowed_as=None):
    """Append to ``found`` a difference of signatures (unless ``key`` or ``allowed_as`` is in
    SIGNATURES); whether torch's signature could be read."""
    tsigs, loose = _torch_signatures(torch_obj, owner, name)
    if not tsigs:
        return False
    try:
        fsig = inspect.signature(flambeau_obj)
    except (TypeError, ValueError):
        found.append(f"{key}: flambeau's has no signature, torch's is {tsigs[0]}")
        return True
    if key in SIGNATURES or allowed_as in SIGNATURES:
        return True
    if all(_params(t, loose) != _params(fsig, loose) for t in tsigs):
        found.append(f"{key}:\n    torch    {tsigs[0]}\n    flambeau {fsig}")
    return True


def _pairs():
    """``(key, torch namespace, flambeau namespace, name)`` of every name both have."""
    out, missing = [], []
    for suffix in NAMESPACES:
        tmod, fmod = _namespace("torch", suffix), _namespace("flambeau", suffix)
        for name in _public(tmod):
            key = f"nn{suffix}.{name}"
            if key in OTHER_PACKAGES:
                continue
            if _has(fmod, name):
                out.append((key, tmod, fmod, name))
            else:
                missing.append(key)
    return out, missing


PAIRS, MISSING = _pairs()


def _is_tensor_class(cls):
    return inspect.isclass(cls) and issubclass(cls, torch.Tensor)


# ------------------------------------------------------------------ names and signatures


@pytest.mark.parametrize("suffix", NAMESPACES)
def test_namespaces_are_reached_by_attribute(suffix):
    """``flambeau.nn.utils.rnn`` as an attribute chain is the module of that name (a star
    import once put flambeau.nn.modules.utils in flambeau.nn.utils' place)."""
    module = flambeau
    for part in ("nn" + suffix).split("."):
        module = getattr(module, part)
    assert module is importlib.import_module("flambeau.nn" + suffix)


def test_every_torch_name_exists_or_is_listed():
    assert sorted(set(MISSING) - set(MISSING_NAMES)) == []
    # an entry for a name flambeau now has is stale
    assert sorted(set(MISSING_NAMES) - set(MISSING)) == []


def test_function_and_class_signatures_match_torch():
    found, compared = [], 0
    for key, tmod, fmod, name in PAIRS:
        tobj, fobj = getattr(tmod, name), getattr(fmod, name)
        if inspect.isclass(tobj):
            tinit = tobj.__init__
            tsigs, _ = _torch_signatures(tinit)
            if (not tsigs or _generic(tsigs[0])) and "__new__" in vars(tobj):
                # Parameter(data, requires_grad) and friends are built by __new__
                compared += _compare(f"{key}.__new__", tobj.__new__, fobj.__new__, found)
            else:
                compared += _compare(f"{key}.__init__", tinit, fobj.__init__, found)
        elif callable(tobj):
            compared += _compare(key, tobj, fobj, found, tmod, name)
    assert found == [], "\n".join(found)
    assert compared > 350  # the walk reached torch's namespaces


def _module_classes():
    return [(key, tmod, fmod, name) for key, tmod, fmod, name in PAIRS
            if inspect.isclass(getattr(tmod, name))
            and issubclass(getattr(tmod, name), torch.nn.Module)]


def test_public_methods_of_classes_match_torch():
    """forward and every other public method of torch.nn's classes (Tensor methods, core's
    business, are left out of Parameter and Buffer)."""
    found, missing, compared = [], [], 0
    for key, tmod, fmod, name in PAIRS:
        tcls, fcls = getattr(tmod, name), getattr(fmod, name)
        if not inspect.isclass(tcls) or _is_tensor_class(tcls):
            continue
        for meth in dir(tcls):
            if meth.startswith("_") or isinstance(inspect.getattr_static(tcls, meth), property):
                continue
            tm = getattr(tcls, meth)
            if not callable(tm) or inspect.isclass(tm):
                continue
            # named after torch's class that defines it: inherited methods are met often
            owner = next(c for c in tcls.__mro__ if meth in vars(c)).__name__
            if not hasattr(fcls, meth):
                missing.append(f"{owner}.{meth}")
                continue
            compared += _compare(f"{owner}.{meth}", tm, getattr(fcls, meth), found,
                                 allowed_as=f"{key}.{meth}")
    assert sorted(set(missing) - set(MISSING_METHODS)) == []
    assert sorted(set(MISSING_METHODS) - set(missing)) == []  # stale entries
    assert sorted(set(found)) == [], "\n".join(sorted(set(found)))
    assert compared > 300


def test_public_classes_keep_torch_subclass_relations():
    classes = [(name, getattr(tmod, name), getattr(fmod, name))
               for _, tmod, fmod, name in PAIRS
               if tmod is torch.nn and inspect.isclass(getattr(tmod, name))]
    found = []
    for a, ta, fa in classes:
        for b, tb, fb in classes:
            if a != b and issubclass(ta, tb) != issubclass(fa, fb) and (a, b) not in HIERARCHY:
                found.append(f"{a} subclass of {b}: torch {issubclass(ta, tb)}")
    assert found == []


# ------------------------------------------------------------------ module instances

# the value given to a required constructor argument of this name
REQUIRED = dict(
    in_features=4, out_features=3, in1_features=2, in2_features=3, num_features=4,
    normalized_shape=4, num_groups=2, num_channels=4, kernel_size=2, output_size=2, padding=1,
    value=0.5, in_channels=4, out_channels=6, embedding_dim=3, num_embeddings=10,
    input_size=4, hidden_size=6, d_model=8, nhead=2, embed_dim=8, num_heads=2,
    upscale_factor=2, downscale_factor=2, groups=2, size=2, threshold=0.1, norm_type=2,
    dim=1, unflattened_size=(2, 2), n_classes=10, cutoffs=[4, 8], num_layers=2, mode="LSTM",
    num_chunks=4, bias=True, num_classes=10,
)

# arguments that replace the generic ones (small Transformers; what Fold needs ...)
BASE = {
    "LSTM": dict(input_size=4, hidden_size=6, num_layers=2),
    "GRU": dict(input_size=4, hidden_size=6, num_layers=2),
    "RNN": dict(input_size=4, hidden_size=6, num_layers=2),
    "Upsample": dict(scale_factor=2),
    "Fold": dict(output_size=(4, 4), kernel_size=2),
    "FractionalMaxPool2d": dict(kernel_size=2, output_ratio=0.5),
    "FractionalMaxPool3d": dict(kernel_size=2, output_ratio=0.5),
    "Transformer": dict(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                        dim_feedforward=16),
}

# a non-default value for an optional argument of this name (bools are flipped, numbers
# moved); None: leave the argument out
VARIED = dict(
    padding_mode="reflect", nonlinearity="relu", reduction="sum", approximate="tanh",
    mode="max", padding_idx=1, max_norm=1.0, output_padding=1, dilation=2, stride=3, padding=1,
    proj_size=2, kdim=4, vdim=5, divisor_override=3, margin=0.5, dim=0, ignore_index=3,
    label_smoothing=0.1, activation="gelu", align_corners=True, size=4, scale_factor=3,
    dropout=0.2, min_val=-2.0, max_val=2.0, lambd=0.3, beta=2.0, threshold=10.0, alpha=2.0,
    eps=1e-3, momentum=0.2, p=0.3, norm_type=3.0, div_value=2.0, start_dim=0, end_dim=2,
    num_parameters=4, init=0.5, lower=0.2, upper=0.4, negative_slope=0.2, blank=1, delta=2.0,
    layer_norm_eps=1e-3, dim_feedforward=16, k=2.0, output_ratio=0.5, num_layers=3, groups=2,
    value=1.5, out_features=(2,), num_encoder_layers=2, num_decoder_layers=2,
    recompute_scale_factor=True, weight=None, pos_weight=None, norm=None, options=None,
    custom_encoder=None, custom_decoder=None, distance_function=None, device=None, dtype=None,
    size_average=None, reduce=None, min_value=None, max_value=None, _weight=None,
    _freeze=None,
)

CONTAINERS = {
    "Sequential": lambda nn, lib: nn.Sequential(nn.Linear(2, 3), nn.ReLU()),
    "ModuleList": lambda nn, lib: nn.ModuleList([nn.Linear(2, 3), nn.Tanh()]),
    "ModuleDict": lambda nn, lib: nn.ModuleDict({"a": nn.Linear(2, 3)}),
    "ParameterList": lambda nn, lib: nn.ParameterList(
        [nn.Parameter(lib.zeros(2)), lib.zeros(2, 3, dtype=lib.float64), "text"]),
    "ParameterDict": lambda nn, lib: nn.ParameterDict(
        {"a": nn.Parameter(lib.zeros(2)), "b": lib.ones(3, dtype=lib.float64), "c": 3}),
    "TransformerEncoder": lambda nn, lib: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16), 2, norm=nn.LayerNorm(8)),
    "TransformerDecoder": lambda nn, lib: nn.TransformerDecoder(
        nn.TransformerDecoderLayer(8, 2, 16, batch_first=True), 2),
    "DataParallel": lambda nn, lib: nn.DataParallel(nn.Linear(2, 3)),
    "RNNCellBase": lambda nn, lib: nn.RNNCellBase(4, 6, False, 3),
}


def _base_kwargs(name):
    if name in BASE:
        return dict(BASE[name])
    kwargs = {}
    for p in list(inspect.signature(getattr(torch.nn, name).__init__).parameters.values())[1:]:
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            kwargs[p.name] = REQUIRED[p.name]
    return kwargs


def _variations(name):
    """``(label, kwargs)``: the base arguments, then one optional argument changed at a time."""
    base = _base_kwargs(name)
    yield "default", base
    tsigs, _ = _torch_signatures(getattr(torch.nn, name).__init__)
    for p in tsigs[0].parameters.values():
        if p.default is p.empty or p.name in base:
            continue
        if p.name in VARIED:
            value = VARIED[p.name]
        elif isinstance(p.default, bool):
            value = not p.default
        elif isinstance(p.default, (int, float)):
            value = p.default + 1
        else:
            continue
        if value is None:
            continue
        yield f"{p.name}={value!r}", {**base, p.name: value}


def _shape(t):
    try:
        return tuple(t.shape)
    except RuntimeError:  # an uninitialized (lazy) parameter
        return "uninitialized"


def _attributes(module):
    out = {}
    for k, v in vars(module).items():
        if k.startswith("_") or f"{type(module).__name__}.{k}" in ATTRIBUTES:
            continue
        if isinstance(v, (bool, int, float, str, tuple, list, type(None))):
            out[k] = v
        elif inspect.isfunction(v) or inspect.isbuiltin(v):
            out[k] = f"<function {v.__name__}>"
        else:
            out[k] = f"<{type(v).__name__}>"
    return out


def _summary(module):
    text = repr(module).replace("torch.", "flambeau.")
    return {
        "repr": text,
        "state_dict": {k: _shape(v) for k, v in module.state_dict().items()},
        "parameters": {k: (_shape(v), v.requires_grad) for k, v in module.named_parameters()},
        "buffers": {k: (_shape(v), str(v.dtype).split(".")[-1])
                    for k, v in module.named_buffers()},
        "attributes": {name: _attributes(m) for name, m in module.named_modules()},
        "training": [m.training for m in module.modules()],
    }


def _build(lib, name, kwargs):
    nn = lib.nn
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name in CONTAINERS:
            return CONTAINERS[name](nn, lib)
        return getattr(nn, name)(**kwargs)


MODULE_NAMES = [name for _, tmod, _, name in _module_classes() if tmod is torch.nn
                and name != "Module"]


@pytest.mark.host_only  # torch's modules are built on the CPU: compare with CPU ones
@pytest.mark.parametrize("name", MODULE_NAMES)
def test_module_instances_match_torch(name):
    """repr, state dict keys and shapes, parameters, buffers and public attributes of modules
    built with the same arguments, for the defaults and each optional argument changed."""
    found, built = [], 0
    variations = [("default", {})] if name in CONTAINERS else list(_variations(name))
    for label, kwargs in variations:
        try:
            tm = _build(torch, name, kwargs)
        except Exception as e:  # noqa: BLE001 - an invalid combination in torch
            with pytest.raises(type(e)):
                _build(flambeau, name, kwargs)
            continue
        fm = _build(flambeau, name, kwargs)
        built += 1
        t, f = _summary(tm), _summary(fm)
        for part in t:
            if t[part] != f[part]:
                found.append(f"{name}({label}) {part}:\n    torch    {t[part]}\n"
                             f"    flambeau {f[part]}")
    assert built > 0
    assert found == [], "\n".join(found)


def test_the_walk_covers_the_module_classes():
    assert len(MODULE_NAMES) > 150
    for name in ("Linear", "Conv2d", "LSTM", "TransformerEncoderLayer", "BatchNorm2d"):
        assert name in MODULE_NAMES
