"""Kernel specifications: CUDA C bodies with their parameters, compiled by CuPy on first use.

Keeping the source as data (not only inside ``cupy.ElementwiseKernel`` calls) lets the tests
compile the same bodies with a host C++ compiler and with nvcc, without a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ElementwiseSpec", "ACC_TYPES", "dtype_name", "narrowed", "INDEX_LIMIT"]

#: the C type arithmetic is carried out in, by the array's dtype name (half types widen)
ACC_TYPES = {"float64": "double", "float32": "float", "float16": "float", "bfloat16": "float"}


@dataclass(frozen=True)
class ElementwiseSpec:
    """A ``cupy.ElementwiseKernel``: parameters in CuPy's syntax and a C body.

    The body may use ``acc_t``, the accumulation type chosen per dtype by :data:`ACC_TYPES`.

    Examples
    --------
    >>> from flambeau_cuda._kernels._spec import ElementwiseSpec
    >>> s = ElementwiseSpec("scale", "T x, float64 a", "T y", "y = (T)((acc_t)x * a);")
    >>> s.source_for("float32").startswith("typedef float acc_t;")
    True
    """

    name: str
    in_params: str
    out_params: str
    body: str
    preamble: str = ""

    def source_for(self, dtype_name: str) -> str:
        """The preamble with ``acc_t`` defined for arrays of ``dtype_name``."""
        acc = ACC_TYPES.get(dtype_name, "double")
        return f"typedef {acc} acc_t;\n{self.preamble}"

    def build(self, dtype_name: str):
        """The compiled ``cupy.ElementwiseKernel`` for arrays of ``dtype_name`` (cached)."""
        key = (self, dtype_name)
        kernel = _built.get(key)
        if kernel is None:
            from flambeau_cuda import _cupy

            kernel = _built[key] = _cupy.load().ElementwiseKernel(
                self.in_params, self.out_params, self.body,
                f"flambeau_{self.name}_{dtype_name}", preamble=self.source_for(dtype_name))
        return kernel


_built: dict = {}


_names: dict = {}


def dtype_name(dtype) -> str:
    """``dtype.name``, cached: NumPy computes the name in Python (a few microseconds, paid by
    every kernel call that picks its compiled kernel by dtype).

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau_cuda._kernels._spec import dtype_name
    >>> dtype_name(np.dtype("float32"))
    'float32'
    """
    name = _names.get(dtype)
    if name is None:
        name = _names[dtype] = dtype.name
    return name


#: arrays with fewer elements than this can be indexed in 32 bits
INDEX_LIMIT = 2**31


def narrowed(spec: ElementwiseSpec) -> ElementwiseSpec:
    """``spec`` with its index arithmetic in 32 bits: ``long long`` locals become ``int`` and
    ``int64`` parameters ``int32``, for arrays of fewer than :data:`INDEX_LIMIT` elements.

    A 64-bit integer division costs several times a 32-bit one on a GPU, and the window
    kernels (im2col, col2im, max pooling) divide a dozen times per element: in 64 bits the
    max-pool backward of ResNet-18's first layer at 224x224 took 4.8 ms on an H100 (torch:
    2.1).

    Examples
    --------
    >>> from flambeau_cuda._kernels._spec import ElementwiseSpec, narrowed
    >>> s = narrowed(ElementwiseSpec("k", "raw T x, int64 W", "T y", "long long w = i % W;"))
    >>> s.name, s.in_params, s.body
    ('k_i32', 'raw T x, int32 W', 'int w = i % W;')
    """
    return ElementwiseSpec(spec.name + "_i32", spec.in_params.replace("int64 ", "int32 "),
                           spec.out_params, spec.body.replace("long long", "int"),
                           spec.preamble)
