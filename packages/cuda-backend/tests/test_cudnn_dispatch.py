"""The cuDNN convolution path's bookkeeping, on the host: when it declines, how it caches
graphs, what it hands the frontend. ``cudnn`` and ``cupy`` are small fakes that record calls
(the real ones need a GPU; ``test_gpu.py`` compares real cuDNN results with im2col)."""

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
        create_handle=lambda: "handle",
        set_stream=lambda handle, stream: log.append(("stream", handle, stream)),
        backend_version=lambda: 91000,
    )
    def empty(shape, dtype):
        log.append(("empty", tuple(np.atleast_1d(shape)), dtype))
        return FakeArray(np.atleast_1d(shape), dtype, ptr=8192)

    cupy = types.SimpleNamespace(
        ascontiguousarray=lambda a: a, uint8="uint8", empty=empty,
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
