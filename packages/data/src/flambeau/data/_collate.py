"""default_collate and default_convert: samples to batches, NumPy to tensors.

Stacked outputs are allocated through :func:`_allocate`, which a worker process points at its
shared-memory slot so that collation writes straight into the buffer the main process reads.
"""

from __future__ import annotations

import collections.abc
import contextlib

import numpy as np

import flambeau
from flambeau import Tensor

__all__ = ["default_collate", "default_convert"]

_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        "found {}{}")

_allocator = None  # None: plain np.empty; set by a worker while it collates into shared memory
_CPU = None


def _cpu():
    global _CPU
    if _CPU is None:
        dev = flambeau.device("cpu")
        dev.backend  # noqa: B018 - resolves the array type Tensor._make compares against
        _CPU = dev
    return _CPU


def _wrap(array):
    """A CPU tensor over a NumPy array, without a copy."""
    return Tensor._make(array, _cpu())


def _allocate(shape, dtype):
    if _allocator is not None:
        out = _allocator(shape, dtype)
        if out is not None:
            return out
    return np.empty(shape, dtype)


@contextlib.contextmanager
def _allocating_with(allocator):
    global _allocator
    previous, _allocator = _allocator, allocator
    try:
        yield
    finally:
        _allocator = previous


def _where(path):
    return f" at {path}" if path else ""


def _is_string_array(a):
    return a.dtype.kind in "OSUV"


def _stack_arrays(arrays, path):
    first = arrays[0]
    if len({a.shape for a in arrays}) > 1:
        other = next(i for i, a in enumerate(arrays) if a.shape != first.shape)
        raise RuntimeError(
            f"default_collate: cannot stack the samples{_where(path)}: sample 0 has shape "
            f"{tuple(first.shape)} but sample {other} has shape {tuple(arrays[other].shape)}; "
            f"pad or resize them to one shape, or pass a custom collate_fn")
    dtype = np.result_type(*{a.dtype for a in arrays})
    out = _allocate((len(arrays), *first.shape), dtype)
    if first.ndim:
        # concatenating along the existing axis 0 skips np.stack's per-array expand_dims
        rows = (len(arrays) * first.shape[0], *first.shape[1:])
        np.concatenate(arrays, axis=0, out=out.reshape(rows))
    else:
        out[...] = arrays
    return out


def _collate_tensors(batch, path):
    xp = batch[0]._device._xp
    arrays = [t._data for t in batch]
    if xp is np and batch[0]._device.type == "cpu":  # not every NumPy backend is the CPU
        return _wrap(_stack_arrays(arrays, path))
    devices = {t._device for t in batch}
    if len(devices) > 1:
        raise RuntimeError(f"default_collate: samples{_where(path)} are on different devices "
                           f"{sorted(map(str, devices))}")
    if len({a.shape for a in arrays}) > 1:
        _stack_arrays([np.empty(a.shape, np.uint8) for a in arrays], path)  # raises
    return Tensor._make(xp.stack(arrays), batch[0]._device)


def _collate(batch, path):
    elem = batch[0]
    kind = type(elem)
    if isinstance(elem, Tensor):
        return _collate_tensors(batch, path)
    if isinstance(elem, np.ndarray) or isinstance(elem, np.generic):
        if isinstance(elem, np.ndarray) and _is_string_array(elem):
            raise TypeError(_ERR.format(f"a numpy array of dtype {elem.dtype}", _where(path)))
        if isinstance(elem, np.generic) and _is_string_array(np.asarray(elem)):
            return list(batch)
        return _wrap(_stack_arrays([np.asarray(b) for b in batch], path))
    if isinstance(elem, float):
        return _wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, bool):
        return _wrap(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        ints = np.array(batch)
        # mixed ints and floats become the default float type, as torch.tensor(batch) does
        return _wrap(ints.astype(np.int64 if ints.dtype.kind in "iu" else np.float32,
                                 copy=False))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        out = {key: _collate([d[key] for d in batch], f"{path}[{key!r}]") for key in elem}
        try:
            return kind(out)
        except TypeError:
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return kind(*(_collate(list(s), f"{path}.{f}") for f, s in zip(elem._fields,
                                                                        zip(*batch))))
    if isinstance(elem, collections.abc.Sequence):
        sizes = set(map(len, batch))
        if len(sizes) > 1:
            raise RuntimeError(f"default_collate: each element in list of batch should be of "
                               f"equal size{_where(path)}; got sizes {sorted(sizes)}")
        columns = [_collate(list(s), f"{path}[{i}]") for i, s in enumerate(zip(*batch))]
        if isinstance(elem, tuple):
            return columns  # a list, as PyTorch returns for tuples
        try:
            return kind(columns)
        except TypeError:
            return columns
    raise TypeError(_ERR.format(kind, _where(path)))


def default_collate(batch):
    """Merge a list of samples into a batch, as ``torch.utils.data.default_collate``.

    Tensors, NumPy arrays and NumPy scalars are stacked along a new first dimension into one
    tensor; Python floats become a float64 tensor, ints int64, bools bool; strings and bytes
    stay lists; dicts, namedtuples, tuples and lists are collated field by field (tuples come
    back as lists, as in PyTorch). Samples that do not stack raise an error naming the field
    and the two shapes.

    Parameters
    ----------
    batch : list
        The samples.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.data import default_collate
    >>> b = default_collate([{"x": flambeau.ones(2), "y": 0}, {"x": flambeau.zeros(2), "y": 1}])
    >>> b["x"]
    tensor([[1., 1.],
            [0., 0.]])
    >>> b["y"]
    tensor([0, 1])
    >>> default_collate([(1.5, "a"), (2.5, "b")])
    [tensor([1.5000, 2.5000], dtype=flambeau.float64), ['a', 'b']]
    """
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)):
        raise TypeError(f"default_collate: expected a list of samples, got {type(batch)}")
    if len(batch) == 0:
        raise ValueError("default_collate: cannot collate an empty batch")
    return _collate(batch, "")


def default_convert(data):
    """Turn NumPy arrays (also inside dicts, lists, tuples) into tensors; leave the rest.

    The DataLoader's collate function when automatic batching is off (``batch_size=None``).

    Examples
    --------
    >>> import numpy
    >>> from flambeau.data import default_convert
    >>> default_convert({"a": numpy.arange(2), "b": "text"})
    {'a': tensor([0, 1]), 'b': 'text'}
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _is_string_array(data) else _wrap(data)
    if isinstance(data, np.generic):
        return data if _is_string_array(np.asarray(data)) else _wrap(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        out = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(out)
        except TypeError:
            return out
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
