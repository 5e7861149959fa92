"""The "nccl" backend's host-side bookkeeping, on a fake NCCL (runs without a GPU or CuPy)."""

import types

import numpy as np
import pytest

from flambeau.distributed._nccl_backend import NcclCommunicator


class DeviceArray(np.ndarray):
    """A NumPy array with CuPy's ``.data.ptr``: what the communicator hands to NCCL."""

    @property
    def data(self):
        return types.SimpleNamespace(ptr=self.__array_interface__["data"][0])


class FakeNccl:
    NCCL_UINT8 = "u8"

    def __init__(self):
        self.calls = []

    def groupStart(self):  # noqa: N802 - CuPy's names
        self.calls.append(("groupStart",))

    def groupEnd(self):  # noqa: N802
        self.calls.append(("groupEnd",))


class FakeComm:
    def __init__(self, nccl):
        self.nccl = nccl

    def send(self, ptr, count, dtype, peer, stream):
        self.nccl.calls.append(("send", ptr, count, peer))

    def recv(self, ptr, count, dtype, peer, stream):
        self.nccl.calls.append(("recv", ptr, count, peer))


class FakeMpi:
    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        def call(*args):
            self.calls.append((name, *args))
            return f"mpi {name}"

        return call


def communicator(rank, size):
    comm = NcclCommunicator.__new__(NcclCommunicator)  # no CuPy: the fakes stand in for it
    comm._nccl = FakeNccl()
    comm.comm = FakeComm(comm._nccl)
    comm.mpi = FakeMpi()
    comm.rank, comm.size = rank, size
    comm._stream = lambda: 0
    comm._work = lambda async_op: ("work", async_op)
    comm._cupy = types.SimpleNamespace(cuda=types.SimpleNamespace(
        get_current_stream=lambda: types.SimpleNamespace(synchronize=lambda: None)))
    return comm


def ptr(a):
    return a.__array_interface__["data"][0]


def test_all_to_all_is_one_group_call_of_sends_and_receives_at_the_right_offsets():
    comm = communicator(rank=1, size=3)
    send = np.arange(10, dtype="u1").view(DeviceArray)
    out = np.zeros(9, dtype="u1").view(DeviceArray)
    # to ranks 0, 1, 2: 3, 4, 3 bytes; from ranks 0, 1, 2: 2, 4, 3 bytes
    assert comm.all_to_all(out, [2, 4, 3], send, [3, 4, 3], async_op=True) == ("work", True)
    calls = comm._nccl.calls
    assert calls[0] == ("groupStart",) and calls[-1] == ("groupEnd",)
    assert calls[1:-1] == [
        ("send", ptr(send), 3, 0), ("recv", ptr(out), 2, 0),
        ("send", ptr(send) + 7, 3, 2), ("recv", ptr(out) + 6, 3, 2),
    ]
    np.testing.assert_array_equal(out[2:6], [3, 4, 5, 6])  # its own piece: a device copy


def test_all_to_all_skips_empty_pieces():
    comm = communicator(rank=0, size=2)
    send, out = np.arange(2, dtype="u1").view(DeviceArray), np.zeros(5, "u1").view(DeviceArray)
    comm.all_to_all(out, [2, 3], send, [2, 0], async_op=False)
    assert [c[0] for c in comm._nccl.calls] == ["groupStart", "recv", "groupEnd"]


def test_coalesced_wraps_point_to_point_in_one_group_call_even_on_error():
    comm = communicator(rank=0, size=2)
    with comm.coalesced():
        comm.comm.send(1, 1, "u8", 1, 0)
    with pytest.raises(RuntimeError, match="boom"), comm.coalesced():
        raise RuntimeError("boom")
    assert [c[0] for c in comm._nccl.calls] == ["groupStart", "send", "groupEnd", "groupStart",
                                                "groupEnd"]  # fmt: skip


def test_objects_and_monitored_barrier_go_through_mpi():
    comm = communicator(rank=0, size=2)
    assert comm.gather_object("x", 1) == "mpi gather_object"
    assert comm.scatter_object(["a", "b"], 0) == "mpi scatter_object"
    comm.send_object({"k": 1}, 1, 0)
    assert comm.recv_object(None, 0) == "mpi recv_object"
    assert comm.monitored_barrier(2.0) == "mpi monitored_barrier"
    assert comm.mpi.calls == [("gather_object", "x", 1), ("scatter_object", ["a", "b"], 0),
                              ("send_object", {"k": 1}, 1, 0), ("recv_object", None, 0),
                              ("monitored_barrier", 2.0)]  # fmt: skip
