"""``flambeau.jit``: TorchScript's API in flambeau's eager world.

flambeau has no TorchScript: nothing is ever being scripted or traced, ``script`` and
``trace`` give back what they are given (which runs eagerly, as :func:`flambeau.compile`
does), the decorators that steer the compiler return the function, and ``fork`` runs the
call at once and hands back a finished future. Model code that asks
``flambeau.jit.is_scripting()`` or carries ``@flambeau.jit.ignore`` runs unchanged.

Examples
--------
>>> import flambeau
>>> def double(x):
...     return x * 2
>>> flambeau.jit.script(double) is double, flambeau.jit.is_scripting()
(True, False)
>>> flambeau.jit.wait(flambeau.jit.fork(double, flambeau.ones(1)))
tensor([2.])
"""

from __future__ import annotations

import builtins
import types
import typing
from typing import Any, Final, NamedTuple  # noqa: F401 - Final: torch.jit.Final, annotations

from flambeau.futures import Future

# also ``Final`` (typing's, for ``x: flambeau.jit.Final[int]`` annotations in modules)
__all__ = ["annotate", "export", "fork", "ignore", "is_scripting", "is_tracing", "script",
           "trace", "unused", "wait", "Future", "script_if_tracing", "interface",
           "trace_module", "freeze", "optimize_for_inference", "set_fusion_strategy",
           "enable_onednn_fusion", "onednn_fusion_enabled", "strict_fusion", "Attribute",
           "Error", "isinstance", "save", "load"]


def is_scripting() -> bool:
    """Whether this code is being compiled by TorchScript: never, in flambeau.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.jit.is_scripting()
    False
    """
    return False


def is_tracing() -> bool:
    """Whether this code is being traced: never, in flambeau.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.jit.is_tracing()
    False
    """
    return False


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """``obj`` itself (a function or module): it runs eagerly, as everything in flambeau.

    Examples
    --------
    >>> import flambeau
    >>> f = lambda x: x + 1
    >>> flambeau.jit.script(f) is f
    True
    """
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """``func`` itself: flambeau records no traces, so the function runs as written for every
    input (a trace would replay ``example_inputs``' path).

    Examples
    --------
    >>> import flambeau
    >>> f = lambda x: x.relu()
    >>> flambeau.jit.trace(f, (flambeau.ones(2),)) is f
    True
    """
    return func


def ignore(drop=False, **kwargs):
    """Leave a function to Python (``@ignore`` or ``@ignore(drop=True)``): it is returned
    unchanged.

    Examples
    --------
    >>> import flambeau
    >>> @flambeau.jit.ignore
    ... def f():
    ...     return 1
    >>> f()
    1
    """
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    """Mark a method the compiler may skip: returned unchanged.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.jit.unused(len)([1, 2])
    2
    """
    return fn


def export(fn):
    """Mark a method to compile as an entry point: returned unchanged.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.jit.export(abs)(-3)
    3
    """
    return fn


def annotate(the_type, the_value):
    """``the_value`` (the type is for the compiler).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.jit.annotate(list, [])
    []
    """
    return the_value


def fork(func, *args, **kwargs):
    """Run ``func(*args, **kwargs)`` now and return a completed :class:`Future` of its result.

    As PyTorch's eager ``fork``, the call runs at once in the calling thread: an exception
    it raises propagates here.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.jit.wait(flambeau.jit.fork(max, 2, 5))
    5
    """
    future = Future()
    future.set_result(func(*args, **kwargs))
    return future


def wait(future):
    """The result of a :func:`fork` (or of any :class:`Future`), waiting for it.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.jit.wait(flambeau.jit.fork(sum, [1, 2]))
    3
    """
    return future.wait()


def script_if_tracing(fn):
    """``fn`` itself: nothing is ever traced, so there is nothing to script.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.jit.script_if_tracing(abs)(-2)
    2
    """
    return fn


def interface(obj):
    """Declare a TorchScript interface type: the class is returned unchanged.

    Examples
    --------
    >>> import flambeau
    >>> @flambeau.jit.interface
    ... class Scorer:
    ...     def score(self, x): ...
    >>> Scorer.__name__
    'Scorer'
    """
    return obj


def trace_module(mod, inputs, optimize=None, check_trace=True, check_inputs=None,
                 check_tolerance=1e-05, strict=True, _force_outplace=False, _module_class=None,
                 _compilation_unit=None, example_inputs_is_kwarg=False, _store_inputs=True):
    """``mod`` itself, after checking ``inputs`` maps method names to example inputs.

    Raises
    ------
    AttributeError
        When ``inputs`` is not a dict or names a method ``mod`` lacks.

    Examples
    --------
    >>> import flambeau
    >>> class Twice:
    ...     def forward(self, x):
    ...         return 2 * x
    >>> m = Twice()
    >>> flambeau.jit.trace_module(m, {"forward": flambeau.ones(1)}) is m
    True
    """
    if not _isinstance(inputs, dict):
        raise AttributeError("trace_module: expected a dictionary of (method_name, input) "
                             f"pairs, got {type(inputs).__name__}")
    missing = [name for name in inputs if not callable(getattr(mod, name, None))]
    if missing:
        raise AttributeError(f"trace_module: {type(mod).__name__} has no method "
                             f"{', '.join(map(repr, missing))}")
    return mod


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """``mod`` itself: freezing inlines a scripted module's weights, which eager flambeau has no
    use for. As PyTorch's, it refuses a module in training mode.

    Raises
    ------
    RuntimeError
        When ``mod`` is in training mode.

    Examples
    --------
    >>> import flambeau
    >>> class Model:  # any nn.Module in eval mode
    ...     training = False
    >>> model = Model()
    >>> flambeau.jit.freeze(model) is model
    True
    """
    if getattr(mod, "training", False):
        raise RuntimeError("freeze: Freezing is currently only implemented for modules in "
                           "eval mode. Please call .eval() on your module before freezing.")
    return mod


def optimize_for_inference(mod, other_methods=None):
    """``mod`` in eval mode (PyTorch's freezes and fuses a scripted module; flambeau runs it
    eagerly as it is).

    Examples
    --------
    >>> import flambeau
    >>> class Model:  # any nn.Module
    ...     training = True
    ...     def eval(self):
    ...         self.training = False
    ...         return self
    >>> flambeau.jit.optimize_for_inference(Model()).training
    False
    """
    return freeze(mod.eval(), preserved_attrs=other_methods)


_FUSION_DEFAULT = [("STATIC", 2), ("DYNAMIC", 10)]
_fusion = {"strategy": list(_FUSION_DEFAULT), "onednn": False}


def set_fusion_strategy(strategy):
    """Set the TorchScript fuser's specialization strategy; return the previous one.

    flambeau fuses nothing: the strategy is checked and remembered only.

    Raises
    ------
    ValueError
        When an entry is not a ``("STATIC" or "DYNAMIC", depth)`` pair.

    Examples
    --------
    >>> import flambeau
    >>> previous = flambeau.jit.set_fusion_strategy([("DYNAMIC", 3)])
    >>> previous
    [('STATIC', 2), ('DYNAMIC', 10)]
    >>> flambeau.jit.set_fusion_strategy(previous)
    [('DYNAMIC', 3)]
    """
    pairs = [tuple(entry) for entry in strategy]
    for entry in pairs:
        if (len(entry) != 2 or entry[0] not in ("STATIC", "DYNAMIC")
                or not _isinstance(entry[1], int) or _isinstance(entry[1], bool)):
            raise ValueError(f"set_fusion_strategy: each entry must be (\"STATIC\" or "
                             f"\"DYNAMIC\", depth: int), got {entry!r}")
    previous, _fusion["strategy"] = _fusion["strategy"], pairs
    return previous


def enable_onednn_fusion(enabled: bool) -> None:
    """Turn the oneDNN graph fuser on or off (remembered; flambeau runs eagerly either way).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.jit.enable_onednn_fusion(True); flambeau.jit.onednn_fusion_enabled()
    True
    >>> flambeau.jit.enable_onednn_fusion(False)
    """
    _fusion["onednn"] = bool(enabled)


def onednn_fusion_enabled() -> bool:
    """Whether :func:`enable_onednn_fusion` turned the oneDNN fuser on (off by default).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.jit.onednn_fusion_enabled()
    False
    """
    return _fusion["onednn"]


class strict_fusion:  # noqa: N801 - PyTorch's name
    """``with strict_fusion():`` asks the fuser to fuse the whole block; eagerly, nothing.

    Examples
    --------
    >>> import flambeau
    >>> with flambeau.jit.strict_fusion():
    ...     y = flambeau.ones(2) * 2
    >>> y
    tensor([2., 2.])
    """

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Attribute(NamedTuple):
    """A module attribute's value with its TorchScript type: ``Attribute(value, type)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.jit.Attribute([], list)
    Attribute(value=[], type=<class 'list'>)
    """

    value: Any
    type: Any


class Error(Exception):
    """The exception TorchScript code raises (PyTorch's ``torch.jit.Error``).

    Examples
    --------
    >>> import flambeau
    >>> issubclass(flambeau.jit.Error, Exception)
    True
    """


def isinstance(obj, target_type) -> bool:  # noqa: A001 - PyTorch's name
    """Whether ``obj`` is a ``target_type``, for typing's containers too, element by element.

    ``target_type`` may be a class or ``List[T]``, ``Dict[K, V]``, ``Tuple[...]``,
    ``Optional[T]``, ``Union[...]`` (or the built-in ``list[T]``... forms), nested.

    Raises
    ------
    RuntimeError
        For a container type without its element types (``list``, ``List``), as PyTorch.

    Examples
    --------
    >>> import flambeau
    >>> from typing import Dict, List, Optional
    >>> flambeau.jit.isinstance([1, 2], List[int]), flambeau.jit.isinstance([1, "a"], List[int])
    (True, False)
    >>> flambeau.jit.isinstance({"w": flambeau.ones(1)}, Dict[str, flambeau.Tensor])
    True
    >>> flambeau.jit.isinstance(None, Optional[int])
    True
    """
    bare = {list: "list", dict: "dict", tuple: "tuple", typing.List: "List",
            typing.Dict: "Dict", typing.Tuple: "Tuple"}.get(target_type)
    if bare is not None:
        raise RuntimeError(f"isinstance: Attempted to use {bare} without a contained type. "
                           f"Please add a contained type, e.g. {bare}[int]")
    return _matches(obj, target_type)


_isinstance = builtins.isinstance  # this module's ``isinstance`` is PyTorch's jit one


def _matches(obj, target) -> bool:
    origin = typing.get_origin(target)
    args = typing.get_args(target)
    if target is Any:
        return True
    if target is None or target is type(None):
        return obj is None
    if origin is None:
        return _isinstance(obj, target)
    if origin is typing.Union or origin is types.UnionType:
        return any(_matches(obj, a) for a in args)
    if origin in (list, tuple, dict) and not _isinstance(obj, origin):
        return False
    if origin is list:
        return not args or all(_matches(x, args[0]) for x in obj)
    if origin is dict:
        return not args or all(_matches(k, args[0]) and _matches(v, args[1])
                               for k, v in obj.items())
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_matches(x, args[0]) for x in obj)
        return len(obj) == len(args) and all(_matches(x, a) for x, a in zip(obj, args))
    return _isinstance(obj, origin)


_JIT_MARK = "flambeau.jit"


def save(m, f, _extra_files=None) -> None:
    """Save a module (scripted or not: flambeau's are plain modules) for :func:`load`.

    The module is pickled whole with :func:`flambeau.save`, so :func:`load` needs its class
    importable; ``_extra_files`` (name -> str or bytes) are stored next to it.

    Examples
    --------
    >>> import flambeau, io
    >>> buffer = io.BytesIO()  # or a path; flambeau.nn modules are saved the same way
    >>> flambeau.jit.save({"scale": flambeau.ones(2)}, buffer, _extra_files={"info": "v1"})
    >>> extra = {"info": ""}
    >>> _ = buffer.seek(0)
    >>> flambeau.jit.load(buffer, _extra_files=extra)["scale"], extra["info"]
    (tensor([1., 1.]), b'v1')
    """
    from flambeau import _serialization

    extra = {name: data.encode() if _isinstance(data, str) else bytes(data)
             for name, data in (_extra_files or {}).items()}
    _serialization.save({_JIT_MARK: 1, "module": m, "extra_files": extra}, f)


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    """Load a module saved by :func:`save` (or a whole module saved by :func:`flambeau.save`).

    ``_extra_files`` (a dict) gets the bytes stored under its keys.

    Warnings
    --------
    Unlike ``torch.jit.load``, which reads TorchScript and runs no Python from the file, this
    unpickles the module (``weights_only=False``): a crafted file runs arbitrary code. Load
    only files you trust; for others, share ``state_dict()`` files and read them with
    ``flambeau.load(path, weights_only=True)``.

    Raises
    ------
    RuntimeError
        For a TorchScript archive written by PyTorch (flambeau cannot run TorchScript code:
        save the model's ``state_dict()`` with ``torch.save`` and load it into the flambeau
        model), or a missing extra file.

    Examples
    --------
    >>> import flambeau, io
    >>> buffer = io.BytesIO()
    >>> flambeau.jit.save(flambeau.jit.script([flambeau.zeros(1)]), buffer)
    >>> _ = buffer.seek(0)
    >>> flambeau.jit.load(buffer)
    [tensor([0.])]
    """
    from flambeau import _serialization

    _refuse_torchscript(f)
    obj = _serialization.load(f, map_location=map_location, weights_only=False)
    if not (_isinstance(obj, dict) and obj.get(_JIT_MARK) == 1):
        return obj
    stored = obj["extra_files"]
    if _extra_files is not None:
        missing = [name for name in _extra_files if name not in stored]
        if missing:
            raise RuntimeError(f"load: the file has no extra file {', '.join(missing)} (it "
                               f"has: {', '.join(stored) or 'none'})")
        for name in _extra_files:
            _extra_files[name] = stored[name]
    return obj["module"]


def _refuse_torchscript(f):
    import io
    import os
    import zipfile

    if _isinstance(f, (str, os.PathLike)):
        if not zipfile.is_zipfile(f):
            return
        with zipfile.ZipFile(f) as archive:  # closed: no file handle left open
            names = archive.namelist()
    else:
        start = f.tell()
        try:
            names = zipfile.ZipFile(f).namelist() if zipfile.is_zipfile(f) else []
        except (zipfile.BadZipFile, io.UnsupportedOperation):
            names = []
        f.seek(start)
    if any(n.endswith("/constants.pkl") for n in names) and any("/code/" in n for n in names):
        raise RuntimeError(
            "load: this is a TorchScript archive written by PyTorch's torch.jit.save; "
            "flambeau cannot run TorchScript code. Save the model's weights in PyTorch with "
            "torch.save(model.state_dict(), path) and load them into the flambeau model "
            "with model.load_state_dict(flambeau.load(path))")
