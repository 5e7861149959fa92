"""Recording: timing wrappers on the op and backward paths while a profiler records.

No check sits on the hot paths when no profiler runs. While a :class:`Recording` runs,
``Function.apply`` (defined once on the base class; every op inherits it), the backward
engine's ``_apply_node`` and ``_accumulate``, and the in-place methods' ``fast_ufunc`` and
``write_result`` (module attributes, looked up on each call) are replaced by wrappers that
time each call; ``stop`` puts the very same objects back.

Each call becomes a raw record: a list (the cheapest object to make on the hot path) of the
fields below. Records nest per thread: every thread that runs ops keeps its own stack of
open records, so ops of other threads are recorded too, each under its own thread id.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time

from flambeau._tensor import Tensor
from flambeau.autograd import _engine
from flambeau.autograd._function import Function

# the fields of a raw record
NAME, KIND, TID, PARENT, START, END, SHAPES, DTYPES, MEMORY, STACK = range(10)
OP, USER = "cpu_op", "user_annotation"  # the kinds, named as in torch's Chrome traces

#: the Recording in progress, or None
active = None
#: the profiler object between its start() and stop(), or None: one at a time
_owner = None

_clock = time.perf_counter_ns
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[0-9])(?=[A-Z][a-z])")
_op_names: dict = {}
#: what a subclass that only names its node as another torch overload defines
_NAMING_ONLY = frozenset({"_node_name", "_graph_inputs", "_node_cls", "__module__",
                          "__qualname__", "__doc__", "__firstlineno__", "__static_attributes__"})
_dtype_names: dict = {}


def claim(owner) -> None:
    """Make ``owner`` the running profiler; RuntimeError if another one runs."""
    global _owner
    if _owner is not None and _owner is not owner:
        raise RuntimeError(
            "Profiler is already enabled: flambeau records one profile at a time, over all "
            f"threads, and {type(_owner).__name__} object at {id(_owner):#x} is running. Stop "
            "it (leave its `with` block, or call its stop()) before starting another one"
        )
    _owner = owner


def release(owner) -> None:
    global _owner
    if _owner is owner:
        _owner = None


def op_name(cls) -> str:
    """The event name of ``Function`` subclass ``cls``.

    flambeau's own ops: ``"flambeau::"`` and the class name in snake case
    (``Matmul`` -> ``flambeau::matmul``, ``_LayerNorm`` -> ``flambeau::layer_norm``), as
    torch names its ``aten::`` ops; users' Functions: their class name, as in torch. An op's
    subclass that only names its node as one of torch's overloads (``_Mm``, a matmul of
    matrices) is named as the op it derives from.
    """
    name = _op_names.get(cls)
    if name is None:
        name = cls.__name__
        if cls.__module__.partition(".")[0] == "flambeau":
            op = cls
            while set(op.__dict__) <= _NAMING_ONLY:
                op = op.__base__
            name = "flambeau::" + _CAMEL.sub("_", op.__name__.lstrip("_")).lower()
        _op_names[cls] = name
    return name


class _Thread(threading.local):
    """One thread's open records (innermost last) and its id."""

    def __init__(self):
        self.open = []
        self.tid = threading.get_native_id()


class Recording:
    """The hooks installed from :meth:`start` to :meth:`stop`, and the records they make."""

    def __init__(self, *, record_shapes=False, profile_memory=False, with_stack=False):
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.records: list = []
        self.start_ns = self.stop_ns = None
        self._threads = _Thread()
        self._saved = None

    def start(self) -> None:
        global active
        if active is not None:
            raise RuntimeError("a recording is already running")  # claim() prevents it
        hooks = _hooks(self)
        self._saved = [(owner, attr, owner.__dict__[attr]) for owner, attr, _ in hooks]
        for owner, attr, wrapper in hooks:
            setattr(owner, attr, wrapper)
        active = self
        self.start_ns = _clock()

    def stop(self) -> None:
        """Put the original functions back (again and again: a no-op once stopped)."""
        global active
        if self._saved is None:
            return
        self.stop_ns = _clock()
        for owner, attr, original in self._saved:
            setattr(owner, attr, original)
        self._saved = None
        if active is self:
            active = None

    def enter(self, name, kind, args=()):
        """Open a record on this thread, inside the innermost one open; return it."""
        thread = self._threads
        stack = thread.open
        record = [name, kind, thread.tid, stack[-1] if stack else None, 0, 0,
                  None, None, None, None]
        if self.record_shapes and args:
            record[SHAPES], record[DTYPES] = _describe(args)
        if self.with_stack:
            record[STACK] = _python_stack()
        self.records.append(record)
        stack.append(record)
        record[START] = _clock()
        return record

    def leave(self, record) -> None:
        record[END] = _clock()
        stack = self._threads.open
        if stack and stack[-1] is record:
            stack.pop()
        elif record in stack:  # ranges left out of order
            stack.remove(record)


def _hooks(recording):
    """``(owner, attribute, timing wrapper)`` for each function a recording replaces: each
    one is looked up on ``owner`` at every call, so replacing it costs nothing when off."""
    from flambeau import _inplace

    apply = Function.__dict__["apply"].__func__
    enter, leave = recording.enter, recording.leave
    memory = recording.profile_memory

    def profiled_apply(cls, *args):
        record = enter(op_name(cls), OP, args)
        try:
            out = apply(cls, *args)
        finally:
            leave(record)
        if memory:
            record[MEMORY] = _new_bytes(out, args)
        return out

    def timed(original, name, inputs, allocates=True):
        """``original`` recorded as an op named ``name(*args)``, with the shapes of the
        tensors ``inputs(*args)``; in place (not ``allocates``): no memory of its own."""
        def wrapper(*args, **kwargs):
            record = enter(name(*args), OP, inputs(*args))
            if memory and not allocates:
                record[MEMORY] = (0, 0)
            try:
                return original(*args, **kwargs)
            finally:
                leave(record)

        return wrapper

    return [
        (Function, "apply", classmethod(profiled_apply)),
        (_engine, "_apply_node",
         timed(_engine._apply_node, lambda node, *_: node.name(), lambda _, grads, *r: grads)),
        (_engine, "_accumulate",
         timed(_engine._accumulate, lambda *_: "AccumulateGrad", lambda _, g, *r: (g,))),
        # in-place methods: outside autograd (optimizer-style updates) they run no Function
        (_inplace, "fast_ufunc",
         timed(_inplace.fast_ufunc, lambda t, u, o, op: "flambeau::" + op,
               lambda t, u, o, op: (t, o), allocates=False)),
        (_inplace, "write_result",
         timed(_inplace.write_result, lambda t, c, op, *r: "flambeau::" + op,
               lambda t, *r: (t,), allocates=False)),
    ]


def _describe(args):
    """Input shapes and types of an op's arguments, as torch records them."""
    shapes, dtypes = [], []
    for a in args:
        if isinstance(a, Tensor):
            data = a._data
            shapes.append(list(data.shape))
            name = _dtype_names.get(data.dtype)
            if name is None:  # numpy makes the name anew on each read, slowly
                name = _dtype_names[data.dtype] = data.dtype.name
            dtypes.append(name)
            continue
        shapes.append([])
        if isinstance(a, (bool, int, float, complex)):
            dtypes.append("Scalar")
        elif isinstance(a, (list, tuple)) and a and all(isinstance(t, Tensor) for t in a):
            dtypes.append("TensorList")
        else:
            dtypes.append("")
    return shapes, dtypes


def _new_bytes(out, args):
    """(host bytes, device bytes) of the arrays an op returned that share no memory with
    its inputs: what it allocated and handed on. What it freed is not seen."""
    inputs = {id(_root(a._data)) for a in args if isinstance(a, Tensor)}
    host = device = 0
    for o in out if out.__class__ is tuple else (out,):
        if isinstance(o, Tensor) and id(_root(o._data)) not in inputs:
            if o._device.type == "cpu":
                host += o._data.nbytes
            else:
                device += o._data.nbytes
    return host, device


def _root(array):
    """The object that owns ``array``'s memory (the end of its chain of ``base``)."""
    while getattr(array, "base", None) is not None:
        array = array.base
    return array


_internal: tuple = ()


def _python_stack() -> list:
    """The Python call stack of the caller, innermost first, without flambeau's frames."""
    global _internal
    if not _internal:
        import flambeau

        _internal = tuple({os.path.join(p, "") for d in flambeau.__path__
                           for p in (d, os.path.realpath(d))})
    frames = []
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if not code.co_filename.startswith(_internal):
            frames.append(f"{code.co_filename}({frame.f_lineno}): {code.co_name}")
        frame = frame.f_back
    return frames
