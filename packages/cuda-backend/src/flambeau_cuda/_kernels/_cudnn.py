"""2-d convolutions through cuDNN's graph API, where NVIDIA's cudnn-frontend is installed.

CuPy 14 no longer wraps cuDNN, so this module talks to it through the ``cudnn`` package of
``nvidia-cudnn-frontend`` (``pip install flambeau-cuda[cudnn]``). The three kernels have the
signatures of :mod:`flambeau_cuda._kernels._conv` and return None to *decline*: when the
frontend or the cuDNN library is missing, when ``flambeau.backends.cudnn.enabled`` is False,
for a dtype cuDNN is not asked for here (only float16 and float32 are), for a buffer that
is not 16-byte aligned, or when cuDNN has no engine for the shape. The caller then runs the
im2col + cuBLAS path, which serves every case.

One cuDNN graph is built per operation, device, dtype, shape and geometry, the first time it
is met (heuristics mode A, then the fallback list), and kept: later calls only bind pointers
and launch. Tensors stay NCHW; their strides tell cuDNN the layout, so nothing is transposed
here. A float32 graph built while ``flambeau.backends.cudnn.allow_tf32`` is False leaves out
the engines that use tensor cores (TF32), as torch does.
"""

from __future__ import annotations

import array

import flambeau.backends.cudnn as _switches
from flambeau_cuda._kernels._conv import geometry
from flambeau_cuda._kernels._spec import dtype_name
from flambeau_cuda._settings import allow_tf32

__all__ = ["conv2d", "conv2d_backward_input", "conv2d_backward_weight", "declined",
           "launch_path", "load", "release_workspaces", "version"]

_IO_TYPES = {"float32": "FLOAT", "float16": "HALF"}
_ALIGNMENT = 16  # bytes: cuDNN's tensor descriptors promise this much to its engines

_module: list = []           # [cudnn module or None], filled by load()
_handles: dict = {}          # device id -> cudnn.Handle
_plans: dict = {}            # key -> _Plan, or None where cuDNN has no engine
_declined: dict = {}         # key -> why cuDNN declined (for the measurement and bug reports)
_streams: dict = {}          # device id -> the stream pointer its handle was last given
_workspaces: dict = {}       # (device id, stream pointer) -> the largest workspace asked for
_raw_launch: list = [True]   # [True], or [why the frontend's C++ launch is not used]


def load():
    """The ``cudnn`` module of cudnn-frontend, or None where it or libcudnn cannot be loaded.

    Examples
    --------
    >>> from flambeau_cuda._kernels._cudnn import load
    >>> module = load()
    >>> module is None or hasattr(module, "pygraph")
    True
    """
    if not _module:
        _preload_library()
        try:
            import cudnn

            cudnn.backend_version()  # loads libcudnn: fails here, not in the first convolution
        except Exception:  # ImportError, or OSError / RuntimeError from the library loader
            cudnn = None
        _module.append(cudnn)
    return _module[0]


def _preload_library():
    """Load libcudnn from NVIDIA's wheels where the frontend does not look for it.

    The frontend searches ``nvidia/cudnn/lib`` (the CUDA 12 wheel's layout), then asks the
    dynamic loader for ``libcudnn.so.9``; the CUDA 13 wheels keep the library in another
    folder. Once loaded here, the loader finds it by name.
    """
    import ctypes
    import glob
    import os
    import sysconfig

    root = sysconfig.get_path("purelib")
    for pattern in ("nvidia/cudnn/lib/libcudnn.so.9", "nvidia/*/lib/libcudnn.so.9",
                    "nvidia/*/*/lib/libcudnn.so.9"):
        for path in sorted(glob.glob(os.path.join(root, pattern))):
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                return path
            except OSError:  # a wheel for another CUDA major version, say
                continue
    return None


def version() -> int | None:
    """cuDNN's version as torch reports it (91000 for 9.10.0), or None without cuDNN.

    Examples
    --------
    >>> from flambeau_cuda._kernels._cudnn import version
    >>> v = version()
    >>> v is None or v >= 90000
    True
    """
    cudnn = load()
    return None if cudnn is None else int(cudnn.backend_version())


def declined() -> dict:
    """``{(operation, dtype, device, x_shape, w_shape, y_shape, geometry...): reason}`` for
    the graphs cuDNN could not build (their convolutions run on im2col + cuBLAS).

    Examples
    --------
    >>> from flambeau_cuda._kernels._cudnn import declined
    >>> isinstance(declined(), dict)
    True
    """
    return dict(_declined)


def launch_path() -> str:
    """How built graphs are launched: ``"raw"`` (the frontend's C++ entry point, pointers in
    uid order) or ``"execute: <why not raw>"`` (the frontend's Python ``execute``).

    Examples
    --------
    >>> from flambeau_cuda._kernels._cudnn import launch_path
    >>> launch_path() == "raw" or launch_path().startswith("execute: ")
    True
    """
    why = _raw_launch[0]
    return "raw" if why is True else f"execute: {why}"


class _Plan:
    """A built graph with its operand tensors, their uids (inputs then output), workspace
    size, and its raw launch: a :class:`_RawLaunch`, None before the first launch, False
    where the graph is launched through ``execute``."""

    __slots__ = ("graph", "inputs", "output", "uids", "workspace", "raw")

    def __init__(self, graph, inputs, output, workspace):
        self.graph, self.inputs, self.output, self.workspace = graph, inputs, output, workspace
        self.uids = tuple(t.uid for t in (*inputs, output))
        self.raw = None


class _RawLaunch:
    """A built graph launched through the frontend's C++ side, past its Python ``execute``.

    With bare pointers as operands (all a CuPy array comes down to), cudnn-frontend 1.32's
    ``execute`` describes every operand in Python on every call, before it hands C++ an array
    of pointers in ascending uid order: session 13's profile of the 32x32 ResNet-18 step
    found it the largest host cost of the step (60 convolutions). This builds that array and
    calls the lowered graph's ``_execute_with_raw_ptrs`` directly. That is a private entry
    point, so :func:`_checked_raw_launch` takes it only where every piece of it is found, and
    only after its first launch of each graph wrote what ``execute`` wrote.

    Raises LookupError where this graph is served by something else than cuDNN's backend
    (a Python engine of the frontend) or binds other operands, and AttributeError or
    TypeError where the frontend has no such entry point.
    """

    __slots__ = ("call", "order", "handle", "index")

    def __init__(self, graph, uids, handle):
        self.call = graph._lowered_graph._execute_with_raw_ptrs
        if graph.selected_engine is not None:
            raise LookupError(f"the frontend's {graph.selected_engine.name} engine serves it")
        slots = list(graph._variant_pack_uids() or ())
        if sorted(slots) != sorted(uids):
            raise LookupError(f"the graph binds the uids {slots}, not {list(uids)}")
        self.order = tuple(uids.index(uid) for uid in slots)  # our operand for each slot
        chosen = graph._materialize_backend_plan(graph._plan_index) if graph._plans else None
        index = None if chosen is None else chosen.cpp_index
        self.index = -1 if index is None else int(index)
        self.handle = int(handle.backend_handle or 0)

    def __call__(self, pointers, workspace):
        """Launch on ``pointers`` (inputs then output, as :attr:`_Plan.uids`)."""
        slots = array.array("Q", [pointers[k] for k in self.order])
        self.call(slots.buffer_info()[0], len(slots), workspace or 0, self.handle, self.index)


#: whether the frontend takes ``execute(buffers, ..., tensor_uids=uids)``; older ones (before
#: the ordered binding) only take a dict of uid -> pointer
_ordered_execute = [True]


def _execute(plan, pointers, workspace, handle):
    """Launch ``plan`` on ``pointers`` (inputs then output). The ordered form hands the frontend
    the pointers in the order of ``plan.uids``, which its C++ side binds without the Python
    normalization of a dict that a call otherwise goes through."""
    if _ordered_execute[0]:
        try:
            plan.graph.execute(pointers, workspace, handle=handle, tensor_uids=plan.uids)
            return
        except TypeError as exc:
            if "tensor_uids" not in str(exc):
                raise
            _ordered_execute[0] = False
    plan.graph.execute(dict(zip(plan.uids, pointers)), workspace, handle=handle)


def _contiguous_strides(shape):
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return strides[::-1]


def _handle(cudnn, cupy, device):
    handle = _handles.get(device)
    if handle is None:
        with cupy.cuda.Device(device):
            handle = _handles[device] = cudnn.create_handle()
    return handle


def _build(cudnn, handle, op, io_name, x_shape, w_shape, y_shape, stride, padding, dilation,
           tf32):
    io = getattr(cudnn.data_type, io_name)
    graph = cudnn.pygraph(io_data_type=io, intermediate_data_type=cudnn.data_type.FLOAT,
                          compute_data_type=cudnn.data_type.FLOAT, handle=handle)

    def operand(name, shape):
        return graph.tensor(name=name, dim=list(shape), stride=_contiguous_strides(shape),
                            data_type=io)

    attrs = {"pre_padding": [lo for lo, _ in padding],
             "post_padding": [hi for _, hi in padding],
             "stride": list(stride), "dilation": list(dilation),
             "compute_data_type": cudnn.data_type.FLOAT}
    if op == "fprop":
        inputs = (operand("x", x_shape), operand("w", w_shape))
        out, out_shape = graph.conv_fprop(image=inputs[0], weight=inputs[1], **attrs), y_shape
    elif op == "dgrad":
        inputs = (operand("dy", y_shape), operand("w", w_shape))
        out, out_shape = graph.conv_dgrad(loss=inputs[0], filter=inputs[1], **attrs), x_shape
    else:
        inputs = (operand("x", x_shape), operand("dy", y_shape))
        out, out_shape = graph.conv_wgrad(image=inputs[0], loss=inputs[1], **attrs), w_shape
    out.set_output(True).set_data_type(io)
    out.set_dim(list(out_shape)).set_stride(_contiguous_strides(out_shape))
    if io_name == "FLOAT" and not tf32:
        graph.deselect_numeric_notes([cudnn.numerical_note.TENSOR_CORE])
    graph.build([cudnn.heur_mode.A, cudnn.heur_mode.FALLBACK])
    return _Plan(graph, inputs, out, int(graph.get_workspace_size()))


def _plan(cudnn, handle, op, dtype, device, shapes, stride, padding, dilation):
    tf32 = dtype == "float32" and allow_tf32(conv=True)
    key = (op, dtype, device, *shapes, tuple(stride), tuple(map(tuple, padding)),
           tuple(dilation), tf32)
    if key not in _plans:
        try:
            plan = _build(cudnn, handle, op, _IO_TYPES[dtype], *shapes, stride, padding,
                          dilation, tf32)
        except Exception as exc:  # no engine for this shape (cudnnGraphNotSupportedError, ...)
            plan, _declined[key] = None, f"{type(exc).__name__}: {exc}"
        _plans[key] = plan
    return _plans[key]


def _run(op, operands, out_shape, shapes, stride, padding, dilation):
    """``out`` computed by the cached graph for ``op``, or None where cuDNN declines."""
    dtype = dtype_name(operands[0].dtype)
    if dtype not in _IO_TYPES or not _switches.enabled:
        return None
    cudnn = load()
    if cudnn is None:
        return None
    from flambeau_cuda import _cupy

    cupy = _cupy.load()
    operands = [cupy.ascontiguousarray(a) for a in operands]
    pointers = [a.data.ptr for a in operands]
    if any(p % _ALIGNMENT for p in pointers):
        return None
    device = operands[0].device.id
    handle = _handle(cudnn, cupy, device)
    plan = _plan(cudnn, handle, op, dtype, device, shapes, stride, padding, dilation)
    if plan is None:
        return None
    out = cupy.empty(tuple(out_shape), dtype=operands[0].dtype)
    stream = cupy.cuda.get_current_stream().ptr
    if _streams.get(device) != stream:  # a pybind11 call per launch otherwise
        cudnn.set_stream(handle, stream)
        _streams[device] = stream
    workspace = _workspace(cupy, device, stream, plan.workspace)
    pointers.append(out.data.ptr)
    if plan.raw:
        plan.raw(pointers, workspace)
        return out
    _execute(plan, pointers, workspace, handle)
    if plan.raw is None:
        plan.raw = _checked_raw_launch(cupy, plan, handle, operands, out, workspace)
    return out


def _checked_raw_launch(cupy, plan, handle, operands, out, workspace):
    """``plan``'s :class:`_RawLaunch` if it writes what ``execute`` just wrote into ``out``,
    else False (``plan`` is launched through ``execute`` from then on).

    The check runs on copies of the operands into a NaN-filled output, so a wrong binding
    overwrites nothing of the caller's. A frontend without the entry point, or a raw launch
    that disagrees or fails, turns raw launches off for the process (:func:`launch_path`
    says why); a graph that a Python engine of the frontend serves keeps ``execute`` alone.
    """
    if _raw_launch[0] is not True:
        return False
    try:
        raw = _RawLaunch(plan.graph, plan.uids, handle)
    except LookupError:
        return False
    except Exception as exc:  # AttributeError, TypeError: the frontend has no such entry
        _raw_launch[0] = f"{type(exc).__name__}: {exc}"
        return False
    copies = [a.copy() for a in operands]
    check = cupy.full(out.shape, float("nan"), out.dtype)
    try:
        raw([*(a.data.ptr for a in copies), check.data.ptr], workspace)
        agree = _agree(cupy, out, check)
    except Exception as exc:
        _raw_launch[0] = f"the raw launch failed ({type(exc).__name__}: {exc})"
        return False
    if not agree:
        _raw_launch[0] = "the raw launch wrote other values than execute"
        return False
    return raw


def _agree(xp, expected, got):
    """Whether ``got`` holds ``expected`` up to a run-to-run difference of cuDNN (weight
    gradients may sum in another order: 1e-2 relative, or 1e-3 of the largest magnitude),
    with NaN where it has NaN (a slot left unwritten shows as NaN).

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau_cuda._kernels._cudnn import _agree
    >>> a = np.array([1.0, -2.0, np.nan, 1e-6], "float32")
    >>> _agree(np, a, a + 1e-4), _agree(np, a, np.full(4, np.nan, "float32"))
    (True, False)
    """
    finite = xp.isfinite(expected)
    peak = float(xp.abs(xp.where(finite, expected, 0)).max()) if expected.size else 0.0
    return bool(xp.allclose(got, expected, rtol=1e-2, atol=1e-3 * peak, equal_nan=True))


def _workspace(cupy, device, stream, size):
    """A pointer to ``size`` bytes of workspace for a launch on ``stream``, or None.

    One buffer per device and stream, grown to the largest size asked for and kept, as torch
    keeps cuDNN's workspace: an allocation per convolution is host time the launch does not
    need. Launches on one stream run in order, so they can share it; a replaced buffer goes
    back to CuPy's pool, which hands it out again only on the same stream.
    """
    if not size:
        return None
    key = (device, stream)
    buffer = _workspaces.get(key)
    if buffer is None or buffer.size < size:
        buffer = _workspaces[key] = cupy.empty(size, dtype=cupy.uint8)
    return buffer.data.ptr


def release_workspaces() -> None:
    """Drop the kept workspaces (``flambeau.cuda.empty_cache`` calls this first, so that
    their memory goes back to the driver too).

    Examples
    --------
    >>> from flambeau_cuda._kernels._cudnn import release_workspaces
    >>> release_workspaces()
    """
    _workspaces.clear()


def conv2d(x, w, stride, padding, dilation, groups):
    """The ``"conv2d"`` kernel on cuDNN, or None where it declines (see the module).

    ``groups`` is implied by the shapes (``x.shape[1] == groups * w.shape[1]``), as cuDNN
    reads it.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._cudnn import conv2d
    >>> y = conv2d(cupy.ones((1, 1, 4, 4), "float32"), cupy.ones((1, 1, 3, 3), "float32"),
    ...            (1, 1), ((0, 0), (0, 0)), (1, 1), 1)  # doctest: +SKIP
    >>> y is None or y.tolist() == [[[[9.0, 9.0], [9.0, 9.0]]]]  # doctest: +SKIP
    True
    """
    y_shape = (x.shape[0], w.shape[0], *geometry(x.shape, w.shape, stride, padding,
                                                 dilation)[3:5])
    return _run("fprop", (x, w), y_shape, (tuple(x.shape), tuple(w.shape), y_shape),
                stride, padding, dilation)


def conv2d_backward_input(g, w, input_shape, stride, padding, dilation, groups):
    """The ``"conv2d_backward_input"`` kernel on cuDNN (a dgrad graph), or None.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._cudnn import conv2d_backward_input
    >>> g = cupy.ones((1, 1, 2, 2), "float32")  # doctest: +SKIP
    >>> w = cupy.ones((1, 1, 3, 3), "float32")  # doctest: +SKIP
    >>> gx = conv2d_backward_input(g, w, (1, 1, 4, 4), (1, 1), ((0, 0), (0, 0)), (1, 1),
    ...                            1)  # doctest: +SKIP
    >>> gx is None or gx[0, 0, 0].tolist() == [1.0, 2.0, 2.0, 1.0]  # doctest: +SKIP
    True
    """
    x_shape = tuple(input_shape)
    return _run("dgrad", (g, w), x_shape, (x_shape, tuple(w.shape), tuple(g.shape)),
                stride, padding, dilation)


def conv2d_backward_weight(x, g, weight_shape, stride, padding, dilation, groups):
    """The ``"conv2d_backward_weight"`` kernel on cuDNN (a wgrad graph), or None.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._cudnn import conv2d_backward_weight
    >>> x = cupy.ones((1, 1, 4, 4), "float32")  # doctest: +SKIP
    >>> g = cupy.ones((1, 1, 2, 2), "float32")  # doctest: +SKIP
    >>> gw = conv2d_backward_weight(x, g, (1, 1, 3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1),
    ...                             1)  # doctest: +SKIP
    >>> gw is None or float(gw.sum()) == 36.0  # doctest: +SKIP
    True
    """
    w_shape = tuple(weight_shape)
    return _run("wgrad", (x, g), w_shape, (tuple(x.shape), w_shape, tuple(g.shape)),
                stride, padding, dilation)
