"""``flambeau.Stream`` and ``flambeau.Event``: PyTorch's device-agnostic streams and events.

One class for every device: on a CUDA device they wrap the flambeau-cuda plugin's
``flambeau.cuda.Stream``/``Event`` and do what those do; on the CPU (and any device whose
backend runs its work as it is called) the work queued on a stream is always done, so
``query()`` is True and ``synchronize()`` returns at once, while recording an event, which
such a device cannot do, raises the RuntimeError PyTorch's CPU build raises.
"""

from __future__ import annotations

__all__ = ["Stream", "Event"]

#: torch's DeviceType numbers, which ``Stream.device_type`` reports as torch's does
_DEVICE_TYPE_NUMBERS = {"cpu": 0, "cuda": 1}


def _resolve(device, what):
    """The device a stream or event is for: ``device``, else the current accelerator's,
    else the CPU; and the plugin's ``flambeau.cuda`` module for a CUDA one (None otherwise)."""
    from flambeau import accelerator
    from flambeau._device import device as as_device

    if device is None:
        current = accelerator.current_accelerator()
        dev = as_device("cpu") if current is None else current
    else:
        dev = as_device(device)
    if dev.type != "cuda":
        return dev, None
    from flambeau.cuda import _runtime

    cuda = _runtime._plugin(what)  # RuntimeError naming what is missing without CUDA
    index = dev.index if dev.index is not None else cuda.current_device()
    return as_device("cuda", index), cuda


def _no_events(dev):
    return RuntimeError(f"{dev.type} backend doesn't support events.")


class Stream:
    """A queue of work on a device (PyTorch's ``torch.Stream``), for any device type.

    ``Stream(device=None, *, priority=0)``: a new stream on ``device`` (the current
    accelerator's, else the CPU, when None). On CUDA it is a ``flambeau.cuda.Stream``; on
    the CPU work is done when it is called, so :meth:`query` is True, :meth:`synchronize`
    returns at once and :meth:`wait_event` has nothing to wait for, while
    :meth:`record_event` and :meth:`wait_stream` raise, as in PyTorch.

    Raises
    ------
    RuntimeError
        For a CUDA stream where CUDA cannot be used (the error says what is missing).

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.Stream(device="cpu")
    >>> s
    flambeau.Stream device_type=cpu, device_index=-1, stream_id=0
    >>> s.query(), s.synchronize()
    (True, None)
    >>> with s:  # the current stream of its device for the block
    ...     y = flambeau.ones(2) * 2
    """

    __slots__ = ("device", "_impl")

    def __init__(self, device=None, *, priority: int = 0):
        self.device, cuda = _resolve(device, "Stream")
        self._impl = None if cuda is None else cuda.Stream(self.device.index, priority)

    @property
    def device_type(self) -> int:
        """PyTorch's number of the device type (0 for the CPU, 1 for CUDA)."""
        return _DEVICE_TYPE_NUMBERS.get(self.device.type, -1)

    @property
    def device_index(self) -> int:
        """The device's index (-1 for the CPU, as in PyTorch)."""
        return -1 if self.device.index is None else self.device.index

    @property
    def stream_id(self) -> int:
        """An id of the stream: the ``cudaStream_t`` handle on CUDA, 0 on the CPU."""
        return 0 if self._impl is None else self._impl.cuda_stream

    native_handle = stream_id

    def query(self) -> bool:
        """Whether all the work queued on this stream has finished."""
        return True if self._impl is None else self._impl.query()

    def synchronize(self) -> None:
        """Wait until the work queued on this stream has finished."""
        if self._impl is not None:
            self._impl.synchronize()

    def wait_event(self, event) -> None:
        """Make the work queued on this stream from now on wait for ``event`` (one not
        recorded yet has nothing to wait for)."""
        # a flambeau.Event, or the plugin's flambeau.cuda.Event that a CUDA one wraps
        impl = getattr(event, "_impl", event)
        if self._impl is not None and impl is not None and getattr(event, "_recorded", True):
            self._impl.wait_event(impl)

    def wait_stream(self, stream) -> None:
        """Make the work queued on this stream from now on wait for the work queued on
        ``stream`` so far."""
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        """Record ``event`` (a new one when None) on this stream; returns it."""
        if self._impl is None:
            raise _no_events(self.device)
        event = Event(self.device) if event is None else event
        event.record(self)
        return event

    def __enter__(self):
        """Make this stream the current one of its device for the ``with`` block (on CUDA,
        as ``flambeau.cuda.stream(s)``; the CPU's has nothing to switch); returns it."""
        if self._impl is not None:
            self._impl.__enter__()
        return self

    def __exit__(self, *exc):
        """Restore the device's stream from before the ``with`` block."""
        if self._impl is not None:
            self._impl.__exit__(*exc)
        return False

    def __eq__(self, other):
        return (isinstance(other, Stream) and self.device == other.device
                and self.stream_id == other.stream_id)

    def __hash__(self):
        return hash((str(self.device), self.stream_id))

    def __repr__(self):
        return (f"flambeau.Stream device_type={self.device.type}, device_index="
                f"{self.device_index}, stream_id={self.stream_id}")


class Event:
    """A marker in a stream's work (PyTorch's ``torch.Event``), for any device type.

    ``Event(device=None, *, enable_timing=False, blocking=False, interprocess=False)``: on
    CUDA a ``flambeau.cuda.Event``; on the CPU :meth:`query` is True and :meth:`synchronize`
    and :meth:`wait` return at once, while :meth:`record` raises, as in PyTorch.
    :meth:`elapsed_time` needs both events recorded.

    Raises
    ------
    RuntimeError
        For a CUDA event where CUDA cannot be used.

    Examples
    --------
    >>> import flambeau
    >>> e = flambeau.Event(device="cpu", enable_timing=True)
    >>> e
    flambeau.Event device_type=cpu, device_index=-1, event_flag=1, event_id=0
    >>> e.query(), e.synchronize()
    (True, None)
    """

    __slots__ = ("device", "_impl", "_timing", "_recorded")

    def __init__(self, device=None, *, enable_timing: bool = False, blocking: bool = False,
                 interprocess: bool = False):
        self.device, cuda = _resolve(device, "Event")
        self._timing, self._recorded = bool(enable_timing), False
        self._impl = None if cuda is None else cuda.Event(enable_timing, blocking, interprocess)

    @property
    def event_id(self) -> int:
        """0, as PyTorch's (its id of the native event, which flambeau does not expose)."""
        return 0

    def record(self, stream=None) -> None:
        """Record the event on ``stream`` (the device's current stream when None)."""
        if self._impl is None:
            raise _no_events(self.device)
        self._impl.record(None if stream is None else getattr(stream, "_impl", stream))
        self._recorded = True

    def query(self) -> bool:
        """Whether the work queued before the event was recorded has finished."""
        return True if self._impl is None or not self._recorded else self._impl.query()

    def synchronize(self) -> None:
        """Wait until the work queued before the event was recorded has finished."""
        if self._impl is not None and self._recorded:
            self._impl.synchronize()

    def wait(self, stream=None) -> None:
        """Make ``stream`` (the current one when None) wait for this event."""
        if self._impl is not None and self._recorded:
            self._impl.wait(None if stream is None else getattr(stream, "_impl", stream))

    def elapsed_time(self, end_event) -> float:
        """Milliseconds from this event to ``end_event`` (both recorded, with timing).

        Raises
        ------
        ValueError
            If either event was made without ``enable_timing=True`` or was not recorded.
        """
        if not (self._timing and end_event._timing):
            raise ValueError("Both events must be created with argument 'enable_timing=True'.")
        if not (self._recorded and end_event._recorded):
            raise ValueError("Both events must be recorded before calculating elapsed time.")
        return self._impl.elapsed_time(end_event._impl)

    def __repr__(self):
        index = -1 if self.device.index is None else self.device.index
        return (f"flambeau.Event device_type={self.device.type}, device_index={index}, "
                f"event_flag={int(self._timing)}, event_id={self.event_id}")


def record_stream(self, s) -> None:
    """Tell the allocator that stream ``s`` uses this CUDA tensor's memory: when the tensor is
    freed, its memory goes back to the pool only once the work queued on ``s`` by then
    has finished (as PyTorch's ``Tensor.record_stream``). Needed when a tensor made on one
    stream is used on another.

    Raises
    ------
    TypeError
        If ``s`` is not a stream.
    NotImplementedError
        For a tensor whose device has no streams (a CPU tensor), as in PyTorch.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(2, device="cpu")
    >>> x.record_stream(flambeau.Stream(device="cpu"))
    Traceback (most recent call last):
        ...
    NotImplementedError: record_stream: a cpu tensor has no streams (only CUDA tensors have)
    """
    if not isinstance(s, Stream) and not hasattr(s, "cuda_stream"):
        raise TypeError(f"record_stream(): argument 's' must be a flambeau.Stream or "
                        f"flambeau.cuda.Stream, not {type(s).__name__}")
    backend = self._device.backend
    recorder = getattr(backend, "record_stream", None)
    if recorder is None:
        raise NotImplementedError(f"record_stream: a {self._device.type} tensor has no streams "
                                  "(only CUDA tensors have)")
    recorder(self._data, getattr(s, "_impl", None) or s)
