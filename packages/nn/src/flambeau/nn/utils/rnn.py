"""Variable-length sequences for RNNs: PackedSequence, packing, padding.

Packing and unpacking are a single index selection each (differentiable), built from the
lengths on the host.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

import flambeau
from flambeau._tensor import Tensor

__all__ = [
    "PackedSequence", "invert_permutation", "pack_padded_sequence", "pack_sequence",
    "pad_packed_sequence", "pad_sequence", "unpack_sequence", "unpad_sequence",
]


_PackedFields = namedtuple("PackedSequence",
                           ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_PackedFields):
    """Time-major concatenation of the active rows of a batch of sequences.

    ``data[sum(batch_sizes[:t]) : sum(batch_sizes[:t + 1])]`` holds step ``t`` of the
    ``batch_sizes[t]`` longest sequences (sorted by decreasing length; ``sorted_indices``
    maps back to the original batch order). Built by :func:`pack_sequence` and
    :func:`pack_padded_sequence`; as in torch, ``PackedSequence(data, batch_sizes,
    sorted_indices)`` fills in ``unsorted_indices``, and ``PackedSequence((data,
    batch_sizes))`` takes the first two fields as a pair.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.nn.utils.rnn import pack_sequence
    >>> p = pack_sequence([flambeau.tensor([1.0, 2.0, 3.0]), flambeau.tensor([4.0])])
    >>> p.data, p.batch_sizes
    (tensor([1., 4., 2., 3.]), tensor([2, 1, 1]))
    >>> p.double().data.dtype
    flambeau.float64
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        elif batch_sizes.device.type != "cpu":
            raise ValueError("PackedSequence: batch_sizes should always be on CPU; build "
                             "packed sequences with pack_sequence or pack_padded_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The same packed sequence with ``data`` moved or cast; the indices follow ``data``'s
        device and ``batch_sizes`` stays on the host. ``self`` when nothing changes.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.nn.utils.rnn import pack_sequence
        >>> p = pack_sequence([flambeau.ones(2), flambeau.ones(1)])
        >>> p.to(flambeau.float64).data.dtype, p.to("cpu") is p
        (flambeau.float64, True)
        """
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = (lambda t: None if t is None else t.to(data.device))  # noqa: E731
        return type(self)(data, self.batch_sizes, move(self.sorted_indices),
                          move(self.unsorted_indices))

    def cuda(self, *args, **kwargs):
        """:meth:`to` a CUDA device (``data.cuda(*args, **kwargs)``'s).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.nn.utils.rnn import pack_sequence
        >>> p = pack_sequence([flambeau.ones(2)])
        >>> q = p.cuda() if flambeau.cuda.is_available() else p
        """
        return self.to(self.data.cuda(*args, **kwargs).device)

    def cpu(self, *args, **kwargs):
        """:meth:`to` the CPU.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.nn.utils.rnn import pack_sequence
        >>> pack_sequence([flambeau.ones(2)]).cpu().data.device
        device(type='cpu')
        """
        return self.to(self.data.cpu(*args, **kwargs).device)

    def double(self):
        """``data`` as float64 (see :meth:`to`)."""
        return self.to(dtype=flambeau.float64)

    def float(self):
        """``data`` as float32 (see :meth:`to`)."""
        return self.to(dtype=flambeau.float32)

    def half(self):
        """``data`` as float16 (see :meth:`to`)."""
        return self.to(dtype=flambeau.float16)

    def long(self):
        """``data`` as int64 (see :meth:`to`)."""
        return self.to(dtype=flambeau.int64)

    def int(self):
        """``data`` as int32 (see :meth:`to`)."""
        return self.to(dtype=flambeau.int32)

    def short(self):
        """``data`` as int16 (see :meth:`to`)."""
        return self.to(dtype=flambeau.int16)

    def char(self):
        """``data`` as int8 (see :meth:`to`)."""
        return self.to(dtype=flambeau.int8)

    def byte(self):
        """``data`` as uint8 (see :meth:`to`)."""
        return self.to(dtype=flambeau.uint8)

    def is_pinned(self):
        """Whether ``data`` is in pinned host memory."""
        return self.data.is_pinned()

    def pin_memory(self):
        """The packed sequence with ``data`` (and the indices) in pinned host memory."""
        pin = (lambda t: None if t is None else t.pin_memory())  # noqa: E731
        return type(self)(self.data.pin_memory(), self.batch_sizes,
                          pin(self.sorted_indices), pin(self.unsorted_indices))

    @property
    def is_cuda(self):
        """Whether ``data`` is on a CUDA device."""
        return self.data.is_cuda


def invert_permutation(permutation):
    """The inverse of the 1-D index permutation ``permutation`` (None stays None):
    ``out[permutation[i]] == i``, on the same device.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.nn.utils.rnn import invert_permutation
    >>> invert_permutation(flambeau.tensor([2, 0, 1]))
    tensor([1, 2, 0])
    """
    if permutation is None:
        return None
    positions = flambeau.arange(permutation.numel(), device=permutation.device)
    return flambeau.empty_like(permutation).scatter_(0, permutation, positions)


def _host_ints(x, what):
    if isinstance(x, Tensor):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise ValueError(f"{what} must be a 1-D sequence of ints, got {x!r}")
    return arr.astype(np.int64)


def _batch_sizes(sorted_lengths):
    steps = int(sorted_lengths[0]) if len(sorted_lengths) else 0
    return (sorted_lengths[None, :] > np.arange(steps)[:, None]).sum(1)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch ``(T, B, *)`` (or ``(B, T, *)``) of sequences of ``lengths``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.nn.utils.rnn import pack_padded_sequence
    >>> x = flambeau.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]])
    >>> pack_padded_sequence(x, [3, 2], batch_first=True).data
    tensor([1., 4., 2., 5., 3.])
    """
    lengths = _host_ints(lengths, "pack_padded_sequence: lengths")
    x = input.transpose(0, 1) if batch_first else input
    steps, batch = x.shape[0], x.shape[1]
    if len(lengths) != batch:
        raise ValueError(f"pack_padded_sequence: got {len(lengths)} lengths for a batch of "
                         f"{batch} (input shape {tuple(input.shape)})")
    if len(lengths) and (lengths.min() <= 0 or lengths.max() > steps):
        raise RuntimeError(f"pack_padded_sequence: lengths must be in [1, {steps}], got "
                           f"{lengths.tolist()}")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(
                "pack_padded_sequence: `lengths` array must be sorted in decreasing order when "
                "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                "pack_padded_sequence and/or pack_sequence to sidestep this requirement if you "
                "do not need ONNX exportability."
            )
        order = None
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
    sizes = _batch_sizes(lengths)
    cols = np.arange(batch) if order is None else order
    # row (t, b) of the flattened (T*B, *) input, for the active rows in time-major order
    rows = (np.arange(len(sizes))[:, None] * batch + cols[None, :])
    rows = rows[np.arange(batch)[None, :] < sizes[:, None]]
    flat = x.reshape(steps * batch, *x.shape[2:])
    data = flat.index_select(0, flambeau.as_tensor(rows, device=input.device))
    sorted_idx = unsorted_idx = None
    if order is not None:
        sorted_idx = flambeau.as_tensor(order, device=data.device)
        unsorted_idx = flambeau.as_tensor(np.argsort(order), device=data.device)
    return PackedSequence(data, flambeau.as_tensor(sizes, device="cpu"), sorted_idx,
                          unsorted_idx)  # batch_sizes stay on the host, as in torch


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Unpack to ``(padded, lengths)``, the inverse of :func:`pack_padded_sequence`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.nn.utils.rnn import pack_sequence, pad_packed_sequence
    >>> p = pack_sequence([flambeau.tensor([1.0, 2.0]), flambeau.tensor([3.0])])
    >>> pad_packed_sequence(p, batch_first=True)
    (tensor([[1., 2.],
            [3., 0.]]), tensor([2, 1]))
    """
    data, sizes = sequence.data, _host_ints(sequence.batch_sizes, "batch_sizes")
    batch = int(sizes[0])
    steps = len(sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: total_length {total_length} is less than "
                             f"the longest sequence length {steps}")
        steps = int(total_length)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    t = np.arange(steps)[:, None]
    b = np.arange(batch)[None, :]
    active = np.zeros((steps, batch), bool)
    active[:len(sizes)] = b < sizes[:, None]
    src = np.where(active, offsets[np.minimum(t, len(sizes) - 1)] + b, data.shape[0])
    lengths = active.sum(0)
    if sequence.unsorted_indices is not None:
        unsorted = _host_ints(sequence.unsorted_indices, "unsorted_indices")
        src, lengths = src[:, unsorted], lengths[unsorted]
    fill = flambeau.full((1, *data.shape[1:]), padding_value, dtype=data.dtype,
                         device=data.device)
    padded = flambeau.cat([data, fill]).index_select(
        0, flambeau.as_tensor(src.reshape(-1), device=data.device))
    padded = padded.reshape(steps, batch, *data.shape[1:])
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, flambeau.as_tensor(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shape ``(L_i, *)`` into ``(L_max, B, *)`` (or ``(B, L_max, *)``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.nn.utils.rnn import pad_sequence
    >>> pad_sequence([flambeau.ones(2), flambeau.ones(1)], batch_first=True)
    tensor([[1., 1.],
            [1., 0.]])
    """
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    rows = []
    for s in sequences:
        extra = longest - s.shape[0]
        if extra:
            fill = flambeau.full((extra, *s.shape[1:]), padding_value, dtype=s.dtype,
                                 device=s.device)
            s = flambeau.cat([s, fill] if padding_side == "right" else [fill, s])
        rows.append(s)
    return flambeau.stack(rows, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of sequences of ``lengths``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.nn.utils.rnn import unpad_sequence
    >>> [t.tolist() for t in unpad_sequence(flambeau.tensor([[1, 2], [3, 0]]), [2, 1], True)]
    [[1, 2], [3]]
    """
    lengths = _host_ints(lengths, "unpad_sequence: lengths")
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i, :int(n)] for i, n in enumerate(lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of ``(L_i, *)`` tensors (``pad_sequence`` + ``pack_padded_sequence``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.nn.utils.rnn import pack_sequence
    >>> pack_sequence([flambeau.ones(1), flambeau.ones(3)], enforce_sorted=False).batch_sizes
    tensor([2, 1, 1])
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences held by a :class:`PackedSequence`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.nn.utils.rnn import pack_sequence, unpack_sequence
    >>> p = pack_sequence([flambeau.ones(2), flambeau.ones(1)])
    >>> [tuple(t.shape) for t in unpack_sequence(p)]
    [(2,), (1,)]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
