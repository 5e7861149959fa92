"""One launch for a list of tensors: the body of an :class:`ElementwiseSpec` run over several
tensors at once, as torch's ``foreach`` optimizers do.

A fused optimizer update is one launch per parameter; a ResNet-18 has 62 of them, and each
launch costs about 20 us of host time through CuPy, so the step took 1.8 ms against torch's
0.3. Here one kernel covers them all: the host writes a table of the tensors' offsets into the
concatenated index space and their pointers, copies it to the device, and each thread finds
its tensor by a binary search over the offsets, then binds the spec's array parameters by
reference and runs the spec's body unchanged. Only C-contiguous arrays of one dtype qualify;
:func:`launch` returns False otherwise and the caller launches per tensor.
"""

from __future__ import annotations

import functools

import numpy as np

from flambeau_cuda import _cupy
from flambeau_cuda._kernels._spec import ACC_TYPES, ElementwiseSpec, dtype_name

__all__ = ["elementwise_args", "launch", "source", "table"]

_CTYPES = {"float64": "double", "float32": "float", "bool": "bool", "int64": "long long",
           "int32": "int"}
_DTYPES = ("float32", "float64")  # the half types would need CUDA's headers in a raw kernel
_SCALARS = {"float64": np.float64, "bool": np.bool_, "int64": np.int64, "int32": np.int32}
_BLOCK = 256
_MAX_BLOCKS = 132 * 16  # enough to fill an H100 with the grid-stride loop


@functools.lru_cache(maxsize=None)
def _params(spec: ElementwiseSpec):
    """``(arrays, scalars)``: the names of the spec's ``T`` parameters (inputs then outputs)
    and the ``(type, name)`` of its other inputs, in order (parsed once per spec: every
    optimizer step asks)."""
    arrays, scalars = [], []
    for part in (spec.in_params + ", " + spec.out_params).split(","):
        words = part.split()
        if not words:
            continue
        if words[0] == "T":
            arrays.append(words[1])
        else:
            scalars.append((words[0], words[1]))
    return tuple(arrays), tuple(scalars)


def elementwise_args(spec: ElementwiseSpec, arrays, scalars) -> list:
    """The positional arguments of ``spec``'s ``cupy.ElementwiseKernel`` for one tensor:
    ``arrays`` (in the order of the ``T`` parameters) and ``scalars`` placed as the spec
    declares them, inputs then outputs.

    Examples
    --------
    >>> from flambeau_cuda._kernels._multi import elementwise_args
    >>> from flambeau_cuda._kernels._spec import ElementwiseSpec
    >>> spec = ElementwiseSpec("axpy", "T x, float64 a", "T y", "y = (T)(a * x + y);")
    >>> elementwise_args(spec, ["x", "y"], [2.0])
    ['x', 2.0, 'y']
    """
    arrays, scalars = iter(arrays), iter(scalars)
    out = []
    for part in (spec.in_params + ", " + spec.out_params).split(","):
        words = part.split()
        if words:
            out.append(next(arrays) if words[0] == "T" else next(scalars))
    return out


def source(spec: ElementwiseSpec, dtype: str, kernel_name: str) -> str:
    """The CUDA C of ``spec`` over a table of tensors, for arrays of dtype name ``dtype``.

    The table holds ``count + 1`` offsets (the last is the total) then, per tensor, one
    pointer per array parameter of the spec.

    Examples
    --------
    >>> from flambeau_cuda._kernels._multi import source
    >>> from flambeau_cuda._kernels._spec import ElementwiseSpec
    >>> spec = ElementwiseSpec("axpy", "T x, float64 a", "T y", "y = (T)(a * x + y);")
    >>> "T& x = ((T*)ptrs[t * 2 + 0])[j];" in source(spec, "float32", "k")
    True
    """
    arrays, scalars = _params(spec)
    ctype = _CTYPES[dtype]
    decls = "".join(f", {_CTYPES[t]} {name}" for t, name in scalars)
    binds = "".join(f"    T& {name} = ((T*)ptrs[t * {len(arrays)} + {k}])[j];\n"
                    for k, name in enumerate(arrays))
    return f"""typedef {ctype} T;
typedef {ACC_TYPES.get(dtype, "double")} acc_t;
{spec.preamble}
extern "C" __global__ void {kernel_name}(
    const unsigned long long* __restrict__ table, long long total, int count{decls}) {{
  const unsigned long long* offsets = table;
  const unsigned long long* ptrs = table + count + 1;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (long long)blockDim.x * gridDim.x) {{
    int t = 0, hi = count;  // the last tensor whose offset is <= i
    while (hi - t > 1) {{
      int mid = (t + hi) >> 1;
      if ((long long)offsets[mid] <= i) t = mid; else hi = mid;
    }}
    long long j = i - (long long)offsets[t];
{binds}    {{
{spec.body}
    }}
  }}
}}
"""


def table(tensors) -> np.ndarray:
    """The host table of :func:`source` for ``tensors``, a list of tuples of arrays (one per
    array parameter): offsets, then pointers.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau_cuda._kernels._multi import table
    >>> a, b = np.zeros(3), np.zeros(2)
    >>> t = table([(a,), (b,)])
    >>> t[:3].tolist(), int(t[3]) == a.ctypes.data
    ([0, 3, 5], True)
    """
    sizes = [arrays[0].size for arrays in tensors]
    offsets = np.zeros(len(tensors) + 1, np.uint64)
    np.cumsum(sizes, out=offsets[1:])
    pointers = np.array([_pointer(a) for arrays in tensors for a in arrays], np.uint64)
    return np.concatenate([offsets, pointers])


def _pointer(a):
    data = getattr(a, "data", None)
    return data.ptr if hasattr(data, "ptr") else a.ctypes.data


def launch(spec: ElementwiseSpec, tensors, scalars) -> bool:
    """Run ``spec`` once over ``tensors`` (tuples of CuPy arrays in the order of the spec's
    ``T`` parameters) with the scalar inputs ``scalars``; False, launching nothing, unless the
    arrays are all C-contiguous, of one dtype (float32 or float64) and of one size per tuple.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._multi import launch
    >>> from flambeau_cuda._kernels._spec import ElementwiseSpec
    >>> spec = ElementwiseSpec("axpy", "T x, float64 a", "T y", "y = (T)(a * x + y);")
    >>> ys = [cupy.ones(3), cupy.ones(2)]  # doctest: +SKIP
    >>> launch(spec, [(cupy.ones(3), ys[0]), (cupy.ones(2), ys[1])], [2.0])  # doctest: +SKIP
    True
    >>> ys[1].tolist()  # doctest: +SKIP
    [3.0, 3.0]
    """
    tensors = [arrays for arrays in tensors if arrays[0].size]
    if not tensors:
        return True
    dtype = tensors[0][0].dtype
    name = dtype_name(dtype)
    if name not in _DTYPES:
        return False
    for arrays in tensors:
        size = arrays[0].size
        for a in arrays:
            if a.dtype != dtype or a.size != size or not a.flags.c_contiguous:
                return False
    cupy = _cupy.load()
    host = table(tensors)
    total = int(host[len(tensors)])
    _, params = _params(spec)
    args = [cupy.asarray(host), np.int64(total), np.int32(len(tensors))]
    args += [_SCALARS[t](v) for (t, _), v in zip(params, scalars, strict=True)]
    blocks = min(-(-total // _BLOCK), _MAX_BLOCKS)
    _kernel(spec, name)((blocks,), (_BLOCK,), tuple(args))
    return True


_built: dict = {}


def _kernel(spec, dtype):
    key = (spec, dtype)
    kernel = _built.get(key)
    if kernel is None:
        name = f"flambeau_multi_{spec.name}_{dtype}"
        kernel = _built[key] = _cupy.load().RawKernel(source(spec, dtype, name), name)
    return kernel
