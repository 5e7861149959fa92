"""Compile the CUDA C of the kernel specs without a GPU: for the host (g++) and with nvcc.

An :class:`~flambeau_cuda._kernels._spec.ElementwiseSpec` body is plain C++ over scalars,
references and raw pointers, so wrapping it in a loop over ``i`` gives a host function that
computes what each GPU thread computes; :func:`host_library` builds all of them in one g++
call and :func:`call` runs one on NumPy arrays. :func:`device_source` wraps the same bodies
in ``__global__`` functions for an nvcc syntax/type check.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["Kernel", "host_library", "host_raw_library", "device_source", "compile_device",
           "call", "have_gxx", "have_nvcc"]

_CTYPES = {"float64": "double", "float32": "float", "int64": "long long",
           "uint64": "unsigned long long", "int32": "int", "bool": "bool"}
_DTYPES = {c: name for name, c in _CTYPES.items()}
_FFI = {"double": ctypes.c_double, "float": ctypes.c_float, "long long": ctypes.c_longlong,
        "unsigned long long": ctypes.c_ulonglong, "int": ctypes.c_int, "bool": ctypes.c_bool}


def have_gxx() -> bool:
    return shutil.which("g++") is not None


def have_nvcc() -> bool:
    return shutil.which("nvcc") is not None


class Kernel:
    """One (spec, dtype) instance: its C entry point name and parameter list."""

    def __init__(self, tag, spec, dtype, preamble=None):
        self.tag, self.spec, self.dtype = tag, spec, np.dtype(dtype)
        self.preamble = spec.source_for(self.dtype.name) if preamble is None else preamble
        self.params = []  # (name, ctype, kind) with kind in "array", "raw", "scalar"
        n_inputs = len([p for p in spec.in_params.split(",") if p.strip()])
        parts = [p for p in (spec.in_params + ", " + spec.out_params).split(",") if p.split()]
        for index, part in enumerate(parts):
            words = part.split()
            raw = words[0] == "raw"
            type_name, name = words[-2], words[-1]
            ctype = "T" if type_name == "T" else _CTYPES[type_name]
            # inputs of a named type are scalars here; outputs are always arrays
            array = ctype == "T" or index >= n_inputs
            self.params.append((name, ctype, "raw" if raw else ("array" if array else "scalar")))

    def _signature(self):
        args = ["long long n__"]
        for name, ctype, kind in self.params:
            if kind == "raw":
                args.append(f"{ctype}* {name}")
            elif kind == "array":
                args.append(f"{ctype}* {name}__p")
            else:
                args.append(f"{ctype} {name}")
        return ", ".join(args)

    def _bind(self):
        return "".join(f"    {ctype}& {name} = {name}__p[i];\n" for name, ctype, kind in
                       self.params if kind == "array")

    def dtype_of(self, ctype):
        """The NumPy dtype of arrays of C type ``ctype`` (``T``: the kernel's dtype)."""
        return self.dtype if ctype == "T" else np.dtype(_DTYPES[ctype])

    def source(self, device: bool) -> str:
        ctype = _CTYPES[self.dtype.name]
        head = "__global__ void" if device else 'extern "C" void'
        loop = ("long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;\n"
                "    if (i >= n__) return;\n" if device else
                "for (long long i = 0; i < n__; ++i) {\n")
        close = "" if device else "}\n"
        return (f"namespace ns_{self.tag} {{\ntypedef {ctype} T;\n{self.preamble}\n"
                f"{head} {self.tag}({self._signature()}) {{\n    {loop}{self._bind()}"
                f"{self.spec.body}\n{close}}}\n}}\n")


_HEADER = "#include <cmath>\n#include <cstdint>\nusing namespace std;\n"


def host_library(kernels, workdir=None):
    """Compile ``kernels`` for the host in one g++ call; returns the loaded library."""
    return _compile_host(_HEADER + "#define __device__\n" +
                         "".join(k.source(False) for k in kernels), workdir)


#: what a raw ``__global__`` kernel needs to compile and run as a host function: one thread
#: per block (``blockDim`` 1), the block chosen with ``flambeau_set_block`` before each call
_RAW_HEADER = _HEADER + r"""
#define __global__
#define __device__
#define __shared__ static
#define __syncthreads()
struct flambeau_dim3 { unsigned int x, y, z; };
static flambeau_dim3 blockIdx = {0, 0, 0}, threadIdx = {0, 0, 0}, blockDim = {1, 1, 1},
                     gridDim = {1, 1, 1};
extern "C" void flambeau_set_block(unsigned int x, unsigned int y, unsigned int grid_x) {
  blockIdx.x = x; blockIdx.y = y; gridDim.x = grid_x;
}
static inline double atomicAdd(double* p, double v) { double old = *p; *p += v; return old; }
"""


def host_raw_library(sources, workdir=None):
    """Compile raw CUDA kernel ``sources`` (each with its own typedefs, so each in its own
    namespace) for the host in one g++ call; returns the loaded library."""
    return _compile_host(_RAW_HEADER + "".join(f"namespace raw_{i} {{\n{text}\n}}\n"
                                                for i, text in enumerate(sources)), workdir)


def _compile_host(src, workdir=None):
    """``src`` compiled by g++ into a shared library, loaded."""
    folder = Path(workdir or tempfile.mkdtemp(prefix="flambeau_cuda_host_"))
    (folder / "k.cpp").write_text(src)
    subprocess.run(["g++", "-O1", "-shared", "-fPIC", "-o", str(folder / "k.so"),
                    str(folder / "k.cpp")], check=True, capture_output=True, text=True)
    return ctypes.CDLL(str(folder / "k.so"))


def call(lib, kernel, n, *args):
    """Run ``kernel`` over ``n`` indices; arrays are passed by pointer (updated in place)."""
    fn = getattr(lib, kernel.tag)
    cargs = [ctypes.c_longlong(n)]
    for (name, ctype, kind), value in zip(kernel.params, args, strict=True):
        if kind == "scalar":
            cargs.append(_FFI[ctype](value))
        else:
            want = kernel.dtype_of(ctype)
            if value.dtype != want or not value.flags.c_contiguous:
                raise TypeError(f"{kernel.tag}: {name} must be a contiguous {want}")
            cargs.append(ctypes.c_void_p(value.ctypes.data))
    fn(*cargs)


def device_source(kernels) -> str:
    """All ``kernels`` as ``__global__`` functions in one CUDA translation unit."""
    return _HEADER + "".join(k.source(True) for k in kernels)


def compile_device(kernels, arch="sm_90"):
    """nvcc -ptx of :func:`device_source`; returns the CompletedProcess."""
    folder = Path(tempfile.mkdtemp(prefix="flambeau_cuda_dev_"))
    (folder / "k.cu").write_text(device_source(kernels))
    return subprocess.run(["nvcc", "-ptx", f"-arch={arch}", "-o", str(folder / "k.ptx"),
                           str(folder / "k.cu")], capture_output=True, text=True)
