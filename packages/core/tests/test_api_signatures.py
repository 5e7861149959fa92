"""flambeau's signatures against torch's: parameter names, positions, keyword-only markers and
defaults of top-level functions, Tensor methods, linalg, fft, special and Python-level modules.

torch's C functions have no inspectable signature. Their docstrings start with one, but many
are wrong about what torch accepts (``torch.linalg.cholesky`` documents ``A`` and takes
``input``; ``Tensor.div`` documents ``value`` and takes ``other``), so the signatures of torch's
argument parser, stored as text in ``libtorch_python``, come first and the docstrings are the
fallback. Python-level callables on both sides compare through :func:`inspect.signature`.

A flambeau signature may merge several torch overloads (``max(input, dim)`` and
``max(input)``) and may take more than torch (``out=`` on Tensor methods), so each parameter
is checked against every overload: each name torch takes is taken, by position where torch
takes it by position, with one of torch's defaults.
"""

import ast
import functools
import inspect
import os
import re
import types

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")

P = inspect.Parameter
_POSITIONAL = (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)

# Deliberate or impossible differences: "where: message prefix" -> why.
ALLOWED = {
    # one signature merges torch's (dim, unbiased, keepdim) and (dim, *, correction, keepdim)
    # overloads; None means "not given", as torch's unbiased=True / correction=1 do
    "torch.std: 'unbiased' default": "merged overloads",
    "torch.var: 'unbiased' default": "merged overloads",
    "torch.std_mean: 'unbiased' default": "merged overloads",
    "torch.var_mean: 'unbiased' default": "merged overloads",
    "Tensor.std: 'unbiased' default": "merged overloads",
    "Tensor.var: 'unbiased' default": "merged overloads",
    # max(input, other) is maximum(input, other): flambeau takes the tensor at position 1
    # (dim's place), as torch does, but not by the keyword `other`
    "torch.max: takes no 'other'": "overload through position 1",
    "torch.min: takes no 'other'": "overload through position 1",
    "Tensor.max: takes no 'other'": "overload through position 1",
    "Tensor.min: takes no 'other'": "overload through position 1",
    # torch names result_type's operands by overload (tensor/other, scalar/tensor, ...):
    # flambeau takes any operands positionally, the only way that works for all of them
    "torch.result_type": "operands named by overload in torch",
    # serialization is not pickle-protocol based (zip files of our own writer)
    "torch.save: takes no 'pickle_module'": "own zip writer",
    "torch.save: takes no 'pickle_protocol'": "own zip writer",
    "torch.save: takes no '_use_new_zipfile_serialization'": "always the zip format",
    "torch.save: takes no '_disable_byteorder_record'": "always the zip format",
    "torch.load: takes no 'pickle_module'": "own unpickler (weights_only by default)",
    # flambeau compiles nothing: compile returns the model, with a backend name of its own
    "torch.compile: 'backend' default": "no compiler behind it",
    # set_(storage, offset, size, stride) needs storages shared between tensors
    "Tensor.set_: takes no 'storage_offset'": "no shared strided storages",
    "Tensor.set_: takes no 'size'": "no shared strided storages",
    "Tensor.set_: takes no 'stride'": "no shared strided storages",
    # torch's apply_/map_ take no keywords at all (their names are not part of the API)
    "Tensor.apply_": "positional only in torch",
    "Tensor.map_": "positional only in torch",
    # a number at src's place is the value (scatter(dim, index, 1.5) as torch's overloads)
    "Tensor.scatter: 'value' keyword-only (torch: positional)": "merged overloads",
    "torch.scatter: 'value' keyword-only (torch: positional)": "merged overloads",
    # trapezoid(y, x) or trapezoid(y, dx=1): dx=None means 1 when no x is given
    "torch.trapezoid: 'dx' default None (torch 1)": "merged overloads",
    "torch.trapz: 'dx' default None (torch 1)": "merged overloads",
    "torch.cumulative_trapezoid: 'dx' default None (torch 1)": "merged overloads",
    # view_copy(size) and view_copy(dtype): a dtype by position goes through size
    "torch.view_copy: 'dtype' keyword-only (torch: positional)": "merged overloads",
    # torch.norm (out at 4, dtype at 5) and Tensor.norm (dtype at 4) are one function here
    "torch.norm: 'dtype' at position 4 (torch: [5])": "one function for Tensor.norm too",
    "torch.norm: 'out' keyword-only (torch: positional)": "one function for Tensor.norm too",
    # isin's number overloads name their operand element/test_element: flambeau._keywords
    # takes those names (and a number in either place) without showing them
    "torch.isin: takes no 'element'": "overload names, through flambeau._keywords",
    "torch.isin: takes no 'test_element'": "overload names, through flambeau._keywords",
    # sub and subtract are one function: torch's subtract(input, number, alpha) overload,
    # and its deprecated sub one (x.sub(2, 5) still works), take alpha by position
    "torch.sub: 'alpha' positional (torch: keyword-only)": "deprecated overload",
    "Tensor.sub: 'alpha' positional (torch: keyword-only)": "deprecated overload",
    # torch's docs name copy_'s source src, its parser other: x.copy_(src=y) is a TypeError
    "Tensor.copy_: takes no 'src'": "torch's docs disagree with its parser",
    # one signature for view(size) and view(dtype): a dtype given by position goes through
    # *size, as torch's; by keyword it is dtype=
    "Tensor.view: 'dtype' keyword-only (torch: positional)": "merged overloads",
    # out_dtype= of mm/bmm/addmm/baddbmm only runs on CUDA in torch
    "torch.mm: takes no 'out_dtype'": "CUDA only in torch",
    "torch.bmm: takes no 'out_dtype'": "CUDA only in torch",
    "torch.addmm: takes no 'out_dtype'": "CUDA only in torch",
    "torch.baddbmm: takes no 'out_dtype'": "CUDA only in torch",
}


# Deliberate: torch's parser text disagrees with torch's behaviour, which we follow.
DELIBERATE = (
    # torch's parser text says Mean, yet these return unreduced values, as ours
    "torch.binary_cross_entropy_with_logits: 'reduction' default 0 (torch 1)",
    "torch.cosine_embedding_loss: 'reduction' default 0 (torch 1)",
    "torch.ctc_loss: 'reduction' default 0 (torch 1)",
    "torch.hinge_embedding_loss: 'reduction' default 0 (torch 1)",
    "torch.kl_div: 'reduction' default 0 (torch 1)",
    "torch.margin_ranking_loss: 'reduction' default 0 (torch 1)",
    "torch.triplet_margin_loss: 'reduction' default 0 (torch 1)",
    # stride=() means kernel_size, as torch's None
    "torch.max_pool1d: 'stride' default () (torch None)",
    "torch.max_pool1d_with_indices: 'stride' default () (torch None)",
    "torch.max_pool2d: 'stride' default () (torch None)",
    "torch.max_pool3d: 'stride' default () (torch None)",
)

# Known gaps from the session-18 sweep, still to fix (listed so that new ones fail).
KNOWN_GAPS = (
    # torch picks sections=/indices= by overload; ours is the documented indices_or_sections
    "Tensor.dsplit: takes no 'indices'",
    "Tensor.dsplit: takes no 'sections'",
    "Tensor.hsplit: takes no 'indices'",
    "Tensor.hsplit: takes no 'sections'",
    "Tensor.tensor_split: takes no 'indices'",
    "Tensor.tensor_split: takes no 'sections'",
    "Tensor.tensor_split: takes no 'tensor_indices_or_sections'",
    "Tensor.vsplit: takes no 'indices'",
    "Tensor.vsplit: takes no 'sections'",
    "torch.dsplit: takes no 'indices'",
    "torch.dsplit: takes no 'sections'",
    "torch.hsplit: takes no 'indices'",
    "torch.hsplit: takes no 'sections'",
    "torch.tensor_split: takes no 'indices'",
    "torch.tensor_split: takes no 'sections'",
    "torch.tensor_split: takes no 'tensor_indices_or_sections'",
    "torch.vsplit: takes no 'indices'",
    "torch.vsplit: takes no 'sections'",
    # legacy arguments and gradcheck modes (batched, forward-mode) flambeau lacks
    "torch.autograd.backward: 'inputs' at position 4 (torch: [5])",
    "torch.autograd.backward: takes no 'grad_variables'",
    "torch.autograd.grad: 'allow_unused' at position 5 (torch: [6])",
    "torch.autograd.grad: 'materialize_grads' at position 6 (torch: [8])",
    "torch.autograd.grad: takes no 'is_grads_batched'",
    "torch.autograd.grad: takes no 'only_inputs'",
    "torch.autograd.gradcheck: takes no 'check_backward_ad'",
    "torch.autograd.gradcheck: takes no 'check_batched_forward_grad'",
    "torch.autograd.gradcheck: takes no 'check_batched_grad'",
    "torch.autograd.gradcheck: takes no 'check_forward_ad'",
    "torch.autograd.gradcheck: takes no 'check_grad_dtypes'",
    "torch.autograd.gradcheck: takes no 'masked'",
    "torch.autograd.gradgradcheck: takes no 'check_batched_grad'",
    "torch.autograd.gradgradcheck: takes no 'check_fwd_over_rev'",
    "torch.autograd.gradgradcheck: takes no 'check_grad_dtypes'",
    "torch.autograd.gradgradcheck: takes no 'check_rev_over_rev'",
    "torch.autograd.gradgradcheck: takes no 'check_undefined_grad'",
    "torch.autograd.gradgradcheck: takes no 'fast_mode'",
    "torch.autograd.gradgradcheck: takes no 'masked'",
    "torch.autograd.gradgradcheck: takes no 'nondet_tol'",
    # torch's parser takes input= (and b=, other=) where its docs and flambeau say A= (B=)
    "torch.linalg.cholesky: takes no 'input'",
    "torch.linalg.cholesky_ex: takes no 'input'",
    "torch.linalg.cond: takes no 'input'",
    "torch.linalg.eig: takes no 'input'",
    "torch.linalg.eigh: takes no 'input'",
    "torch.linalg.eigvals: takes no 'input'",
    "torch.linalg.eigvalsh: takes no 'input'",
    "torch.linalg.householder_product: takes no 'input'",
    "torch.linalg.ldl_factor: takes no 'input'",
    "torch.linalg.ldl_factor_ex: takes no 'input'",
    "torch.linalg.lstsq: takes no 'b'",
    "torch.linalg.lstsq: takes no 'input'",
    "torch.linalg.matrix_exp: takes no 'input'",
    "torch.linalg.matrix_norm: takes no 'input'",
    "torch.linalg.matrix_power: takes no 'input'",
    "torch.linalg.matrix_rank: takes no 'input'",
    "torch.linalg.norm: takes no 'input'",
    "torch.linalg.pinv: takes no 'input'",
    "torch.linalg.solve_triangular: takes no 'input'",
    "torch.linalg.tensorinv: takes no 'input'",
    "torch.linalg.tensorsolve: takes no 'input'",
    "torch.linalg.tensorsolve: takes no 'other'",
    "torch.linalg.vector_norm: takes no 'input'",
    # torch's parser takes x= where its docs and flambeau say input=
    "torch.special.airy_ai: takes no 'x'",
    "torch.special.chebyshev_polynomial_t: takes no 'x'",
    "torch.special.chebyshev_polynomial_u: takes no 'x'",
    "torch.special.chebyshev_polynomial_v: takes no 'x'",
    "torch.special.chebyshev_polynomial_w: takes no 'x'",
    "torch.special.hermite_polynomial_h: takes no 'x'",
    "torch.special.hermite_polynomial_he: takes no 'x'",
    "torch.special.laguerre_polynomial_l: takes no 'x'",
    "torch.special.legendre_polynomial_p: takes no 'x'",
    "torch.special.log_softmax: 'dtype' positional (torch: keyword-only)",
    "torch.special.scaled_modified_bessel_k0: takes no 'x'",
    "torch.special.scaled_modified_bessel_k1: takes no 'x'",
    "torch.special.shifted_chebyshev_polynomial_t: takes no 'x'",
    "torch.special.shifted_chebyshev_polynomial_u: takes no 'x'",
    "torch.special.shifted_chebyshev_polynomial_v: takes no 'x'",
    "torch.special.shifted_chebyshev_polynomial_w: takes no 'x'",
    "torch.special.spherical_bessel_j0: takes no 'x'",
)
ALLOWED.update(dict.fromkeys(DELIBERATE, "deliberate"))
ALLOWED.update(dict.fromkeys(KNOWN_GAPS, "known gap"))


# ------------------------------------------------------------------ torch's signatures


def _split_top(text):
    """Split at commas outside brackets and quotes."""
    parts, depth, cur, quote = [], 0, "", None
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0 and not quote:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return parts + ([cur.strip()] if cur.strip() else [])


def _default(text):
    text = text.strip()
    for prefix in ("torch.", "c10::MemoryFormat::"):
        text = text.removeprefix(prefix)
    if text == "Contiguous":
        return "contiguous_format"
    if text.startswith("at::Reduction::"):  # the enum's values: None, Mean, Sum
        return ["None", "Mean", "Sum"].index(text.rsplit(":", 1)[1])
    if text.startswith("{") and text.endswith("}"):
        text = "(" + text[1:-1] + ",)"
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return tuple(value) if isinstance(value, list) else value


def _parse(text, typed):
    """[(name, kind, default)] of a signature's parameter text, or None if it will not parse.

    ``typed``: each parameter is ``Type name[=default]`` (the argument parser's text)."""
    params, kind = [], P.POSITIONAL_OR_KEYWORD
    for tok in _split_top(text):
        if tok == "*":
            kind = P.KEYWORD_ONLY
            continue
        name, eq, default = tok.partition("=")
        name = name.split()[-1] if typed and name.split() else name.strip()
        star = len(name) - len(name.lstrip("*"))
        name = name.lstrip("*")
        if not name.isidentifier():
            return None
        if star == 2:
            params.append((name, P.VAR_KEYWORD, P.empty))
        elif star == 1:
            params.append((name, P.VAR_POSITIONAL, P.empty))
            kind = P.KEYWORD_ONLY
        else:
            params.append((name, kind, _default(default) if eq else P.empty))
    return params


@functools.lru_cache(maxsize=1)
def _binding_signatures():
    """{name: [parameter text]} from the argument parser's signature strings."""
    path = os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_python.so")
    if not os.path.exists(path):
        return {}
    with open(path, "rb") as fh:
        data = fh.read()
    found = {}
    for name, args, flag in re.findall(
            rb"(?<=\x00)([a-z_][a-z0-9_]*)\(([^\x00()]*)\)(\|[a-z]+)?(?=\x00)", data):
        if not flag:  # |deprecated and |hidden overloads are not part of the API
            found.setdefault(name.decode(), []).append(args.decode())
    return found


_SIG_LINE = re.compile(r"^\s*(?:\.\. (?:function|method)::\s*)?(?:[\w.]+\.)?(\w+)\((.*)\)\s*$")


def _doc_signatures(obj, name):
    """The overloads a docstring starts with or lists as ``.. function::``/``.. method::``."""
    lines = [ln for ln in (obj.__doc__ or "").splitlines() if ln.strip()]
    candidates = lines[:1] + [ln for ln in lines if re.match(r"\s*\.\. (function|method)::", ln)]
    sigs = []
    for line in candidates:
        m = _SIG_LINE.match(line.split(" -> ")[0])
        if m and m.group(1) == name:
            parsed = _parse(m.group(2), typed=False)
            if parsed is not None:
                sigs.append(parsed)
    return sigs


def _inspected(obj):
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [(p.name, p.kind, _flambeau_default(p.default)) for p in sig.parameters.values()]


def _flambeau_default(value):
    if value is P.empty or isinstance(value, (bool, int, float, str, type(None))):
        return value
    if isinstance(value, list):
        return tuple(value)
    module = type(value).__module__ or ""
    if isinstance(value, torch.Size):
        return tuple(value)
    if module.startswith(("flambeau", "torch")):  # dtypes, layouts, memory formats, devices
        return str(value).removeprefix("flambeau.").removeprefix("torch.")
    return value if isinstance(value, tuple) else repr(value)


# ------------------------------------------------------------------ comparison


def _differences(overloads, params, method):
    """What a flambeau signature lacks or gets wrong against torch's overloads."""
    if method:
        if params and params[0][1] in _POSITIONAL:
            params = params[1:]  # self
        overloads = [o[1:] if o and o[0][0] in ("self", "input") else o for o in overloads]
    if any(o and o[0][1] == P.VAR_POSITIONAL and o[-1][1] == P.VAR_KEYWORD
           for o in overloads) and len(overloads) == 1:
        return []  # f(*args, **kwargs)
    has_varkw = any(k == P.VAR_KEYWORD for _, k, _ in params)
    var_pos = next((n for n, k, _ in params if k == P.VAR_POSITIONAL), None)
    positional = [n for n, k, _ in params if k in _POSITIONAL]
    ours = {n: (k, d) for n, k, d in params}
    out = []
    # where torch takes each name: positions, keyword-only, defaults
    where = {}
    for o in overloads:
        pos = 0
        for name, kind, default in o:
            if kind == P.VAR_KEYWORD:
                continue
            w = where.setdefault(name, {"pos": set(), "kw": False, "defaults": [],
                                        "required": False, "var": False})
            if kind == P.VAR_POSITIONAL:
                w["var"] = True
                continue
            if kind in _POSITIONAL:
                w["pos"].add(pos)
                pos += 1
            else:
                w["kw"] = True
            if default is P.empty:
                w["required"] = True
            else:
                w["defaults"].append(default)
    for name, w in where.items():
        if name == "self" or name in ("int", "float", "bool"):
            continue  # a Scalar first operand (pow(self, exponent)); a type in a docstring
        if name not in ours:
            if not has_varkw and not (w["var"] and var_pos):
                # a list argument of the parser (view(size)) is our *size
                if not (var_pos == name and w["pos"] == {0}):
                    out.append(f"takes no {name!r}")
            continue
        kind, default = ours[name]
        if kind == P.VAR_POSITIONAL:
            continue
        if w["pos"] and kind in _POSITIONAL:
            i = positional.index(name)
            if i not in w["pos"] and not (var_pos and i > min(w["pos"])):
                out.append(f"{name!r} at position {i} (torch: {sorted(w['pos'])})")
        elif w["pos"] and kind == P.KEYWORD_ONLY:
            out.append(f"{name!r} keyword-only (torch: positional)")
        elif not w["pos"] and kind in _POSITIONAL:
            out.append(f"{name!r} positional (torch: keyword-only)")
        if default is P.empty and w["defaults"] and not w["required"]:
            out.append(f"{name!r} required (torch default {w['defaults'][0]!r})")
        elif default is not P.empty and w["defaults"] and default not in w["defaults"]:
            out.append(f"{name!r} default {default!r} (torch {w['defaults'][0]!r})")
    return out


_SPACES = [("torch", "torch", "", flambeau), ("torch.linalg", "linalg", "linalg_", None),
           ("torch.fft", "fft", "fft_", None), ("torch.special", "special", "special_", None)]


def _cases():
    """(label, torch object, flambeau object, overloads, method) for every shared callable."""
    binding = _binding_signatures()

    def overloads(tobj, name, key, method=False):
        sig = _inspected(tobj) if not isinstance(tobj, types.BuiltinFunctionType) else None
        if sig is not None and {k for _, k, _ in sig} != {P.VAR_POSITIONAL, P.VAR_KEYWORD}:
            return [sig]
        found = [p for p in (_parse(t, typed=True) for t in binding.get(key, ())) if p]
        # the parser's strings hold functions' overloads (which take `input`) and methods'
        takes_input = [p for p in found if any(n == "input" for n, _, _ in p)]
        found = [p for p in found if p not in takes_input] if method else takes_input or found
        return found or _doc_signatures(tobj, name)

    for label, attr, prefix, fmod in _SPACES:
        tmod = torch if attr == "torch" else getattr(torch, attr)
        fmod = fmod or getattr(flambeau, attr)
        for name in sorted(dir(tmod)):
            if name.startswith("_") or not hasattr(fmod, name):
                continue
            tobj = getattr(tmod, name)
            if not callable(tobj) or isinstance(tobj, (type, types.ModuleType)):
                continue
            yield f"{label}.{name}", getattr(fmod, name), overloads(tobj, name, prefix + name), \
                False
    for name in sorted(dir(torch.Tensor)):
        if name.startswith("_") or not hasattr(flambeau.Tensor, name):
            continue
        tobj, fobj = getattr(torch.Tensor, name), getattr(flambeau.Tensor, name)
        if callable(tobj) and not isinstance(inspect.getattr_static(flambeau.Tensor, name),
                                             property):
            yield f"Tensor.{name}", fobj, overloads(tobj, name, name, True), True
    for modname in ("autograd", "autograd.functional", "autograd.forward_ad", "func", "amp",
                    "random", "distributions"):
        tmod, fmod = torch, flambeau
        for part in modname.split("."):
            tmod, fmod = getattr(tmod, part), getattr(fmod, part, None)
        if fmod is None:
            continue
        for name in sorted(getattr(tmod, "__all__", dir(tmod))):
            tobj, fobj = getattr(tmod, name, None), getattr(fmod, name, None)
            if fobj is None or tobj is None or isinstance(tobj, types.ModuleType):
                continue
            if isinstance(tobj, type):  # a class: its constructor
                if "__init__" not in vars(tobj) or not isinstance(fobj, type):
                    continue
                tobj, fobj = tobj.__init__, fobj.__init__
            sig = _inspected(tobj)
            if sig is not None and callable(fobj):
                yield f"torch.{modname}.{name}", fobj, [sig], name[0].isupper()


def _all_differences():
    found = {}
    for label, fobj, overloads, method in _cases():
        params = _inspected(fobj)
        if params is None or not overloads:
            continue
        for message in _differences(overloads, params, method):
            key = f"{label}: {message}"
            if not any(key == a or key.startswith(a + ":") or key.startswith(a + " ")
                       or label == a for a in ALLOWED):
                found[key] = True
    return sorted(found)


def test_signatures_match_torch():
    differences = _all_differences()
    assert not differences, "\n".join(differences)


def test_allow_list_entries_are_still_needed():
    # an allow-list entry that no longer matches anything hides nothing and should go
    raw = set()
    for label, fobj, overloads, method in _cases():
        params = _inspected(fobj)
        if params is not None and overloads:
            raw.update(f"{label}: {m}" for m in _differences(overloads, params, method))
            raw.add(label)
    stale = [a for a in ALLOWED if not any(r == a or r.startswith(a) for r in raw)]
    assert not stale, stale


def test_the_comparison_catches_a_wrong_signature():
    def add(input, other, alpha=2, *, out=None):  # alpha positional, wrong default
        pass

    def swapaxes(input, dim0, dim1):  # torch's names are axis0, axis1
        pass

    add_overloads = [_parse("Tensor input, Tensor other, *, Scalar alpha=1, Tensor out=None",
                            typed=True)]
    assert set(_differences(add_overloads, _inspected(add), False)) == {
        "'alpha' positional (torch: keyword-only)", "'alpha' default 2 (torch 1)"}
    swap_overloads = _doc_signatures(torch.swapaxes, "swapaxes")
    assert _differences(swap_overloads, _inspected(swapaxes), False) == [
        "takes no 'axis0'", "takes no 'axis1'"]


# ------------------------------------------------------------------ calls by keyword

_X = [[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]]
# (call, with `lib` standing for torch or flambeau and `x` a 2x3 float tensor of _X)
_CALLS = [
    lambda lib, x: lib.sum(input=x, dim=0, keepdim=True, dtype=lib.float64),
    lambda lib, x: lib.mean(input=x, dim=(0, 1), keepdim=False),
    lambda lib, x: lib.add(input=x, other=x, alpha=2),
    lambda lib, x: lib.sub(input=x, other=1.0, alpha=3),
    lambda lib, x: lib.clamp(input=x, min=-1.0, max=2.0),
    lambda lib, x: lib.matmul(input=x, other=x.T),
    lambda lib, x: lib.cat(tensors=[x, x], dim=1),
    lambda lib, x: lib.where(condition=x > 0, input=x, other=0.0),
    lambda lib, x: lib.softmax(input=x, dim=1, dtype=lib.float64),
    lambda lib, x: lib.argmax(input=x, dim=1, keepdim=True),
    lambda lib, x: lib.topk(input=x, k=2, dim=1, largest=False, sorted=True).values,
    lambda lib, x: lib.sort(input=x, dim=0, descending=True, stable=True).indices,
    lambda lib, x: lib.std(input=x, dim=1, correction=0, keepdim=True),
    lambda lib, x: lib.var(x, 1, True, True),  # (dim, unbiased, keepdim) by position
    lambda lib, x: lib.gather(input=x, dim=1, index=lib.tensor([[0], [2]])),
    lambda lib, x: lib.transpose(input=x, dim0=0, dim1=1),
    lambda lib, x: lib.swapaxes(input=x, axis0=0, axis1=1),
    lambda lib, x: lib.reshape(x, (3, 2)),
    lambda lib, x: lib.dot(input=x[0], tensor=x[1]),
    lambda lib, x: lib.max(input=x, dim=1, keepdim=False).values,
    lambda lib, x: lib.cumsum(input=x, dim=1, dtype=lib.float64),
    lambda lib, x: lib.zeros((2, 2), dtype=lib.int32),
    lambda lib, x: lib.full(size=(2,), fill_value=3.0),
    lambda lib, x: lib.promote_types(type1=lib.int32, type2=lib.float16) == lib.float16,
    lambda lib, x: lib.linalg.vector_norm(x, ord=1, dim=1),
    lambda lib, x: lib.fft.rfft(input=x, n=4, dim=1, norm="ortho").abs(),
    lambda lib, x: lib.special.expit(input=x),
    lambda lib, x: x.sum(dim=1, keepdim=True),
    lambda lib, x: x.where(x > 0, other=-1.0),
    lambda lib, x: x.split(split_size=2, dim=1)[1],
    lambda lib, x: x[0].dot(tensor=x[1]),
    lambda lib, x: x.swapaxes(axis0=1, axis1=0),
    lambda lib, x: x.float(memory_format=lib.preserve_format),
    lambda lib, x: x.T.contiguous(memory_format=lib.contiguous_format),
    lambda lib, x: x.new_ones((2,), dtype=lib.float64, layout=lib.strided, pin_memory=False),
]


@pytest.mark.parametrize("i", range(len(_CALLS)))
def test_calls_by_torchs_keywords_agree_with_torch(i):
    want = _CALLS[i](torch, torch.tensor(_X))
    got = _CALLS[i](flambeau, flambeau.tensor(_X))
    if isinstance(want, bool):
        assert got == want
        return
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(np.asarray(got.tolist()), np.asarray(want.tolist()), rtol=1e-6)


_OUT_CALLS = [
    lambda lib, x, out: lib.add(x, 1.0, alpha=2, out=out),
    lambda lib, x, out: lib.mul(input=x, other=x, out=out),
    lambda lib, x, out: lib.clamp(x, min=0.0, out=out),
    lambda lib, x, out: lib.sum(x, dim=0, keepdim=True, out=out[:1]),
    lambda lib, x, out: lib.matmul(x[:, :2], x[:, :2].T, out=out[:, :2]),
    lambda lib, x, out: lib.dot(x[0], x[1], out=out[0, 0]),
]


@pytest.mark.parametrize("i", range(len(_OUT_CALLS)))
def test_out_receives_the_result_as_in_torch(i):
    results = []
    for lib in (torch, flambeau):
        out = lib.zeros(2, 3)
        returned = _OUT_CALLS[i](lib, lib.tensor(_X), out)
        results.append((out.tolist(), returned.tolist()))
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6)
