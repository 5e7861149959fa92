"""The cuDNN convolution path's bookkeeping, on the host: when it declines, how it caches
graphs, what it hands the frontend. ``cudnn`` and ``cupy`` are small fakes that record calls
(the real ones need a GPU; ``test_gpu.py`` compares real cuDNN results with im2col)."""

import ctypes
import sys
import types

import numpy as np
import pytest

import flambeau.backends.cudnn as switches
from flambeau_cuda import _cupy
from flambeau_cuda._kernels import _cudnn, first_answer, kernel_table


class FakeArray:
    """What ``_cudnn`` reads of a CuPy array."""

    def __init__(self, shape, dtype="float32", ptr=4096):
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.size = int(np.prod(self.shape))
        self.data = types.SimpleNamespace(ptr=ptr)
        self.device = types.SimpleNamespace(id=0)

    def copy(self):
        return FakeArray(self.shape, self.dtype, ptr=self.data.ptr + 65536)


class FakeHandle(str):
    """cudnn-frontend's Handle: ``backend_handle`` is the cudnnHandle_t."""

    backend_handle = 77


class FakeGraph:
    def __init__(self, log, **kwargs):
        self.log, self.uids = log, iter(range(1, 100))
        log.append(("pygraph", kwargs["io_data_type"]))

    def tensor(self, name, dim, stride, data_type):
        return types.SimpleNamespace(name=name, dim=dim, stride=stride, uid=next(self.uids))

    def _out(self, op, kwargs):
        self.log.append((op, kwargs["pre_padding"], kwargs["post_padding"], kwargs["stride"]))
        out = types.SimpleNamespace(uid=next(self.uids))
        out.set_output = out.set_data_type = lambda *_: out
        out.set_dim = lambda dim: (self.log.append(("dim", dim)), out)[1]
        out.set_stride = lambda stride: (self.log.append(("stride", stride)), out)[1]
        return out

    def conv_fprop(self, image, weight, **kwargs):
        return self._out("fprop", kwargs)

    def conv_dgrad(self, loss, filter, **kwargs):
        return self._out("dgrad", kwargs)

    def conv_wgrad(self, image, loss, **kwargs):
        return self._out("wgrad", kwargs)

    def deselect_numeric_notes(self, notes):
        self.log.append(("deselect", notes))

    def build(self, modes):
        self.log.append(("build", modes))

    def get_workspace_size(self):
        return 256

    def execute(self, pack, workspace, handle, tensor_uids=None):
        """Both binding forms of cudnn-frontend 1.32, logged as a uid -> pointer dict."""
        ordered = tensor_uids is not None
        self.log.append(("execute", dict(zip(tensor_uids, pack)) if ordered else pack,
                         workspace, handle, "ordered" if ordered else "dict"))


class RawFakeGraph(FakeGraph):
    """A graph with the private C++ entry point of cudnn-frontend 1.32 that ``_RawLaunch``
    calls: ``_lowered_graph._execute_with_raw_ptrs(address, count, workspace, handle,
    index)`` reads ``count`` pointers at ``address``, in ascending uid order."""

    selected_engine = None
    _plans, _plan_index = ["plan"], 0

    def __init__(self, log, **kwargs):
        super().__init__(log, **kwargs)
        self.uids = iter(range(99, 0, -1))
        self._lowered_graph = types.SimpleNamespace(_execute_with_raw_ptrs=self._raw)
        self.built_uids = []

    def tensor(self, name, dim, stride, data_type):
        t = super().tensor(name, dim, stride, data_type)
        self.built_uids.append(t.uid)
        return t

    def _out(self, op, kwargs):
        out = super()._out(op, kwargs)
        self.built_uids.append(out.uid)
        return out

    def _variant_pack_uids(self):
        return sorted(self.built_uids)

    def _materialize_backend_plan(self, index):
        return types.SimpleNamespace(cpp_index=3 + index)

    def _raw(self, address, count, workspace, handle, index):
        pointers = list((ctypes.c_uint64 * count).from_address(address))
        self.log.append(("raw", dict(zip(self._variant_pack_uids(), pointers)), workspace,
                         handle, index))


class OldFakeGraph(FakeGraph):
    """A frontend from before the ordered binding: ``execute`` takes a dict only."""

    def execute(self, pack, workspace, handle):
        self.log.append(("execute", pack, workspace, handle, "dict"))


@pytest.fixture
def fakes(monkeypatch):
    """A recording ``cudnn`` module and enough of ``cupy``; returns the call log (its
    ``cudnn`` attribute is the fake module)."""
    log = _Log()
    cudnn = types.SimpleNamespace(
        data_type=types.SimpleNamespace(FLOAT="FLOAT", HALF="HALF"),
        heur_mode=types.SimpleNamespace(A="A", FALLBACK="FALLBACK"),
        numerical_note=types.SimpleNamespace(TENSOR_CORE="TENSOR_CORE"),
        pygraph=lambda **kw: FakeGraph(log, **kw),
        create_handle=lambda: FakeHandle("handle"),
        set_stream=lambda handle, stream: log.append(("stream", handle, stream)),
        backend_version=lambda: 91000,
    )
    def empty(shape, dtype):
        log.append(("empty", tuple(np.atleast_1d(shape)), dtype))
        return FakeArray(np.atleast_1d(shape), dtype, ptr=8192)

    def full(shape, value, dtype):
        log.append(("full", tuple(shape), value))
        return FakeArray(shape, dtype, ptr=12288)

    cupy = types.SimpleNamespace(
        ascontiguousarray=lambda a: a, uint8="uint8", empty=empty, full=full,
        cuda=types.SimpleNamespace(Device=lambda i: _NullContext(),
                                   get_current_stream=lambda: types.SimpleNamespace(
                                       ptr=log.stream)),
    )
    log.stream = 7
    monkeypatch.setattr(_cudnn, "_module", [cudnn])
    monkeypatch.setattr(_cudnn, "_plans", {})
    monkeypatch.setattr(_cudnn, "_declined", {})
    monkeypatch.setattr(_cudnn, "_handles", {})
    monkeypatch.setattr(_cudnn, "_ordered_execute", [True])
    monkeypatch.setattr(_cudnn, "_streams", {})
    monkeypatch.setattr(_cudnn, "_workspaces", {})
    monkeypatch.setattr(_cudnn, "_raw_launch", [True])
    monkeypatch.setattr(_cupy, "load", lambda: cupy)
    log.cudnn = cudnn
    return log


class _Log(list):
    pass


class _NullContext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


GEO = ((2, 2), ((1, 0), (1, 0)), (1, 1), 1)  # stride, asymmetric padding, dilation, groups


def test_without_cudnn_frontend_every_kernel_declines(monkeypatch):
    monkeypatch.setattr(_cudnn, "_module", [None])
    x, w = FakeArray((1, 2, 5, 5)), FakeArray((3, 2, 3, 3))
    assert _cudnn.conv2d(x, w, *GEO) is None and _cudnn.version() is None
    assert _cudnn.conv2d_backward_input(FakeArray((1, 3, 3, 3)), w, x.shape, *GEO) is None
    assert _cudnn.conv2d_backward_weight(x, FakeArray((1, 3, 3, 3)), w.shape, *GEO) is None


def test_forward_builds_one_graph_per_shape_then_only_executes(fakes):
    x, w = FakeArray((2, 4, 9, 9)), FakeArray((6, 4, 3, 3))
    y = _cudnn.conv2d(x, w, *GEO)
    assert y.shape == (2, 6, 4, 4)  # (9 + 1 + 0 - 3) // 2 + 1
    assert ("fprop", [1, 1], [0, 0], [2, 2]) in fakes
    assert ("build", ["A", "FALLBACK"]) in fakes
    assert ("stride", [96, 16, 4, 1]) in fakes  # the output is contiguous NCHW
    execute = [e for e in fakes if e[0] == "execute"]
    assert execute == [("execute", {1: 4096, 2: 4096, 3: 8192}, 8192, "handle", "ordered")]
    assert ("stream", "handle", 7) in fakes  # cuDNN runs on CuPy's current stream
    fakes.clear()
    _cudnn.conv2d(x, w, *GEO)
    # cached: no second build, the handle keeps its stream, the workspace is kept; only the
    # output is allocated
    assert fakes == [("empty", (2, 6, 4, 4), np.dtype("float32")),
                     ("execute", {1: 4096, 2: 4096, 3: 8192}, 8192, "handle", "ordered")]


def test_the_workspace_is_kept_per_stream_and_grown_to_the_largest_size(fakes, monkeypatch):
    x, w = FakeArray((2, 4, 9, 9)), FakeArray((6, 4, 3, 3))

    def workspaces():
        return [e[1] for e in fakes if e[0] == "empty" and e[2] == "uint8"]

    _cudnn.conv2d(x, w, *GEO)
    _cudnn.conv2d(x, w, *GEO)
    assert workspaces() == [(256,)]  # one allocation for both launches
    monkeypatch.setattr(FakeGraph, "get_workspace_size", lambda self: 1024)
    _cudnn.conv2d(FakeArray((2, 4, 7, 7)), w, *GEO)  # a new graph wanting more: grown
    _cudnn.conv2d(x, w, *GEO)  # the smaller one uses the larger buffer
    assert workspaces() == [(256,), (1024,)]
    fakes.stream = 9  # another stream: its own workspace, and the handle is moved to it
    _cudnn.conv2d(x, w, *GEO)
    assert workspaces() == [(256,), (1024,), (256,)]
    assert [e for e in fakes if e[0] == "stream"] == [("stream", "handle", 7),
                                                       ("stream", "handle", 9)]
    _cudnn.release_workspaces()
    assert _cudnn._workspaces == {}
    _cudnn.conv2d(x, w, *GEO)
    assert workspaces()[-1] == (256,)


def test_a_graph_without_workspace_gets_a_null_pointer(fakes, monkeypatch):
    monkeypatch.setattr(FakeGraph, "get_workspace_size", lambda self: 0)
    _cudnn.conv2d(FakeArray((2, 4, 9, 9)), FakeArray((6, 4, 3, 3)), *GEO)
    (execute,) = [e for e in fakes if e[0] == "execute"]
    assert execute[2] is None and not any(e[0] == "empty" and e[2] == "uint8" for e in fakes)


def test_a_frontend_without_ordered_binding_gets_a_dict_from_then_on(fakes):
    fakes.cudnn.pygraph = lambda **kw: OldFakeGraph(fakes, **kw)
    x, w = FakeArray((2, 4, 9, 9)), FakeArray((6, 4, 3, 3))
    for _ in range(2):
        _cudnn.conv2d(x, w, *GEO)
    execute = [e for e in fakes if e[0] == "execute"]
    assert execute == [("execute", {1: 4096, 2: 4096, 3: 8192}, 8192, "handle", "dict")] * 2
    assert _cudnn._ordered_execute == [False]


@pytest.fixture
def raw_fakes(fakes, monkeypatch):
    """``fakes`` with graphs that have the frontend's C++ entry point; ``agree`` is what the
    check of the first raw launch finds."""
    fakes.cudnn.pygraph = lambda **kw: RawFakeGraph(fakes, **kw)
    fakes.agree = True
    monkeypatch.setattr(_cudnn, "_agree", lambda xp, expected, got: fakes.agree)
    return fakes


def test_after_a_checked_first_launch_graphs_launch_through_the_c_entry_point(raw_fakes):
    x, w = FakeArray((2, 4, 9, 9)), FakeArray((6, 4, 3, 3), ptr=1024)
    _cudnn.conv2d(x, w, *GEO)
    # the first launch goes through execute, then the raw launch runs once on copies of
    # the operands into a NaN-filled output, to be compared with what execute wrote;
    # the fake numbers uids downwards (x 99, w 98, y 97), so the pointers, handed over in
    # ascending uid order, are the operands' in reverse
    execute, full, raw = [e for e in raw_fakes if e[0] in ("execute", "raw", "full")]
    assert execute == ("execute", {99: 4096, 98: 1024, 97: 8192}, 8192, "handle", "ordered")
    assert full[:2] == ("full", (2, 6, 4, 4)) and np.isnan(full[2])
    assert raw == ("raw", {97: 12288, 98: 1024 + 65536, 99: 4096 + 65536}, 8192, 77, 3)
    raw_fakes.clear()
    _cudnn.conv2d(x, w, *GEO)
    assert raw_fakes == [("empty", (2, 6, 4, 4), np.dtype("float32")),
                         ("raw", {97: 8192, 98: 1024, 99: 4096}, 8192, 77, 3)]
    assert _cudnn.launch_path() == "raw"


def test_a_raw_launch_that_disagrees_with_execute_turns_raw_launches_off(raw_fakes):
    raw_fakes.agree = False
    x, w = FakeArray((2, 4, 9, 9)), FakeArray((6, 4, 3, 3))
    for _ in range(2):
        _cudnn.conv2d(x, w, *GEO)
    assert [e[0] for e in raw_fakes if e[0] in ("execute", "raw")] == ["execute", "raw",
                                                                        "execute"]
    assert _cudnn.launch_path() == "execute: the raw launch wrote other values than execute"
    _cudnn.conv2d(FakeArray((2, 4, 7, 7)), w, *GEO)  # not tried again for another graph
    assert [e[0] for e in raw_fakes if e[0] in ("execute", "raw")][-1] == "execute"
    assert sum(e[0] == "raw" for e in raw_fakes) == 1


def test_a_raw_launch_that_raises_turns_raw_launches_off(raw_fakes, monkeypatch):
    def fail(self, *args):
        raise RuntimeError("CUDNN_STATUS_BAD_PARAM")

    monkeypatch.setattr(RawFakeGraph, "_raw", fail)
    x, w = FakeArray((2, 4, 9, 9)), FakeArray((6, 4, 3, 3))
    assert _cudnn.conv2d(x, w, *GEO).shape == (2, 6, 4, 4)  # execute's result stands
    assert _cudnn.launch_path() == ("execute: the raw launch failed (RuntimeError: "
                                    "CUDNN_STATUS_BAD_PARAM)")


def test_a_frontend_without_the_c_entry_point_is_launched_through_execute(fakes):
    x, w = FakeArray((2, 4, 9, 9)), FakeArray((6, 4, 3, 3))
    for _ in range(2):
        _cudnn.conv2d(x, w, *GEO)
    assert [e[0] for e in fakes if e[0] in ("execute", "raw")] == ["execute"] * 2
    assert _cudnn.launch_path().startswith("execute: AttributeError")


def test_a_graph_a_python_engine_serves_keeps_execute_alone(raw_fakes, monkeypatch):
    monkeypatch.setattr(RawFakeGraph, "selected_engine", types.SimpleNamespace(name="jit"))
    x, w = FakeArray((2, 4, 9, 9)), FakeArray((6, 4, 3, 3))
    for _ in range(2):
        _cudnn.conv2d(x, w, *GEO)
    assert [e[0] for e in raw_fakes if e[0] in ("execute", "raw")] == ["execute"] * 2
    assert _cudnn.launch_path() == "raw"  # other graphs may still take it


@pytest.mark.parametrize("case", ["same", "reordered sum", "unwritten", "wrong",
                                  "nan where expected", "inf"])
def test_agree_accepts_run_to_run_differences_only(case):
    expected = np.array([[1.0, -2.0], [3e-5, 40.0]], "float32")
    got = {"same": expected, "reordered sum": expected * (1 + 1e-4) + 1e-5,
           "unwritten": np.full_like(expected, np.nan), "wrong": expected[::-1],
           "nan where expected": np.where(expected > 30, np.nan, expected),
           "inf": expected}[case]
    if case == "inf":
        expected, got = expected.copy(), expected.copy()
        expected[0, 0] = got[0, 0] = np.inf
    assert _cudnn._agree(np, expected, got) == (case in ("same", "reordered sum", "inf"))


def test_gradients_build_dgrad_and_wgrad_with_the_operand_shapes(fakes):
    x, w, g = FakeArray((2, 4, 9, 9)), FakeArray((6, 4, 3, 3)), FakeArray((2, 6, 4, 4))
    assert _cudnn.conv2d_backward_input(g, w, x.shape, *GEO).shape == x.shape
    assert _cudnn.conv2d_backward_weight(x, g, w.shape, *GEO).shape == w.shape
    ops = [e for e in fakes if e[0] in ("dgrad", "wgrad", "dim")]
    assert ops == [("dgrad", [1, 1], [0, 0], [2, 2]), ("dim", [2, 4, 9, 9]),
                   ("wgrad", [1, 1], [0, 0], [2, 2]), ("dim", [6, 4, 3, 3])]


def test_float32_without_tf32_leaves_out_tensor_core_engines(fakes, monkeypatch):
    x, w = FakeArray((1, 2, 5, 5)), FakeArray((3, 2, 3, 3))
    _cudnn.conv2d(x, w, *GEO)
    assert ("deselect", ["TENSOR_CORE"]) not in fakes  # allow_tf32 is on by default
    monkeypatch.setattr(switches, "allow_tf32", False)
    _cudnn.conv2d(x, w, *GEO)  # a graph of its own, without the tensor-core engines
    assert ("deselect", ["TENSOR_CORE"]) in fakes
    fakes.clear()
    _cudnn.conv2d(FakeArray((1, 2, 5, 5), "float16"), FakeArray((3, 2, 3, 3), "float16"), *GEO)
    assert ("pygraph", "HALF") in fakes and ("deselect", ["TENSOR_CORE"]) not in fakes


@pytest.mark.parametrize("case", ["float64", "disabled", "misaligned"])
def test_declines_what_it_does_not_serve(fakes, monkeypatch, case):
    dtype = "float64" if case == "float64" else "float32"
    x, w = FakeArray((1, 2, 5, 5), dtype), FakeArray((3, 2, 3, 3), dtype)
    if case == "disabled":
        monkeypatch.setattr(switches, "enabled", False)
    if case == "misaligned":
        x.data.ptr = 4100
    assert _cudnn.conv2d(x, w, *GEO) is None
    assert not any(e[0] == "execute" for e in fakes)


def test_a_shape_cudnn_cannot_build_is_remembered_and_declined(fakes, monkeypatch):
    def refuse(self, modes):
        self.log.append(("build", modes))
        raise RuntimeError("No valid engine configs")

    monkeypatch.setattr(FakeGraph, "build", refuse)
    x, w = FakeArray((1, 2, 5, 5)), FakeArray((3, 2, 3, 3))
    assert _cudnn.conv2d(x, w, *GEO) is None
    assert _cudnn.conv2d(x, w, *GEO) is None
    assert sum(e[0] == "build" for e in fakes) == 1  # not retried for every call
    (why,) = _cudnn.declined().values()
    assert why == "RuntimeError: No valid engine configs"


def test_the_table_falls_back_to_im2col_when_cudnn_declines(monkeypatch):
    calls = []
    table = kernel_table()
    monkeypatch.setattr(_cudnn, "_module", [None])
    monkeypatch.setitem(sys.modules, "cupy", None)  # the im2col path would need CuPy
    with pytest.raises(ImportError, match="CuPy is not installed"):
        table["conv2d"](FakeArray((1, 2, 5, 5), "float64"), FakeArray((3, 2, 3, 3), "float64"),
                        *GEO)
    first = first_answer(lambda *a: calls.append("cudnn"), lambda *a: calls.append("im2col") or 1)
    assert first() == 1 and calls == ["cudnn", "im2col"]


def test_backend_reports_the_cudnn_version(fakes):
    from flambeau_cuda._backend import CudaBackend

    assert CudaBackend().cudnn_version() == 91000


def test_backend_reports_the_cuda_runtime_version(fakes):
    from flambeau_cuda._backend import CudaBackend

    cupy = _cupy.load()
    cupy.cuda.runtime = types.SimpleNamespace(runtimeGetVersion=lambda: 12080)
    backend = CudaBackend()
    backend._xp = cupy  # the module the backend reads the runtime from
    assert backend.cuda_version() == "12.8"
