"""Compile the CUDA C of the kernel specs without a GPU: for the host (g++) and with nvcc.

An :class:`~flambeau_cuda._kernels._spec.ElementwiseSpec` body is plain C++ over scalars,
references and raw pointers, so wrapping it in a loop over ``i`` gives a host function that
computes what each GPU thread computes; :func:`host_library` builds all of them in one g++
call and :func:`call` runs one on NumPy arrays. :func:`device_source` wraps the same bodies
in ``__global__`` functions for an nvcc syntax/type check. :func:`host_raw_library` compiles
raw ``__global__`` kernels for the host and :class:`RawLaunch` launches one as CuPy's
``RawKernel`` does, ``kernel(grid, block, args)``, checking the arguments against its C
signature.
"""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["Kernel", "RawLaunch", "host_library", "host_raw_library", "device_source",
           "compile_device", "call", "have_gxx", "have_nvcc"]

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
#: per block (``blockDim`` 1), the block chosen with ``flambeau_set_block`` before each call;
#: :class:`RawLaunch` also sets ``blockDim.x`` and ``gridDim.y`` (``flambeau_set_dims``) and
#: ``threadIdx.x`` (``flambeau_set_thread``) to run every thread of a block in turn
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
extern "C" void flambeau_set_dims(unsigned int block_x, unsigned int grid_y) {
  blockDim.x = block_x; gridDim.y = grid_y;
}
extern "C" void flambeau_set_thread(unsigned int x) { threadIdx.x = x; }
static inline double atomicAdd(double* p, double v) { double old = *p; *p += v; return old; }
"""


def host_raw_library(sources, workdir=None):
    """Compile raw CUDA kernel ``sources`` (each with its own typedefs, so each in its own
    namespace) for the host in one g++ call; returns the loaded library."""
    return _compile_host(_RAW_HEADER + "".join(f"namespace raw_{i} {{\n{text}\n}}\n"
                                                for i, text in enumerate(sources)), workdir)


#: the NumPy scalar type CuPy must be given for each C scalar type of a raw kernel's parameter
_RAW_SCALARS = {"unsigned int": np.uint32, "int": np.int32, "long long": np.int64,
                "unsigned long long": np.uint64, "double": np.float64, "float": np.float32,
                "bool": np.bool_}
_RAW_FFI = {"unsigned int": ctypes.c_uint, "int": ctypes.c_int, "long long": ctypes.c_longlong,
            "unsigned long long": ctypes.c_ulonglong, "double": ctypes.c_double,
            "float": ctypes.c_float, "bool": ctypes.c_bool}


class RawLaunch:
    """Kernel ``name`` of ``code`` (compiled into ``lib`` by :func:`host_raw_library`) launched
    as a ``cupy.RawKernel``: ``launch(grid, block, args)``.

    Each argument must match the kernel's C parameter as CuPy would pass it: a C-contiguous
    NumPy array of the pointee's dtype (or an ``np.uint64`` address, 0 for NULL) for a pointer,
    a NumPy scalar of the exact C type (``np.uint32`` for ``unsigned int``, ...) otherwise; a
    mismatch raises TypeError (on a GPU it would be read as garbage). The grid (up to 2-d) runs
    block by block. A kernel without ``__syncthreads`` runs every thread of a block in turn,
    with the launch's ``blockDim.x``; one with ``__syncthreads`` (a shared-memory reduction,
    whose threads cannot run one after another) runs with ``blockDim.x`` 1, which its loops
    over ``blockDim.x`` must tolerate, after checking that the launch's block is a power of two
    that fits its ``__shared__`` arrays.
    """

    def __init__(self, lib, code, name):
        self.lib, self.name, self.fn = lib, name, getattr(lib, name)
        types = {alias: ctype for ctype, alias in
                 re.findall(r"typedef\s+([\w ]+?)\s+(\w+)\s*;", code)}
        head = re.search(r"__global__\s+void\s+" + name + r"\s*\(([^)]*)\)\s*\{", code)
        if head is None:
            raise ValueError(f"no __global__ kernel {name!r} in the code")
        self.params = [self._param(text, types) for text in head.group(1).split(",")]
        body = _braced(code, head.end() - 1)
        self.syncs = "__syncthreads" in body
        shared = re.findall(r"__shared__[^;]*;", body)
        self.shared = min((int(n) for decl in shared for n in re.findall(r"\[(\d+)\]", decl)),
                          default=None)

    @staticmethod
    def _param(text, types):
        """``(name, ctype, pointer)`` of one C parameter, typedefs resolved."""
        pointer = "*" in text
        words = [w for w in text.replace("*", " ").split() if w not in ("const", "__restrict__")]
        ctype = " ".join(words[:-1])
        while ctype in types:
            ctype = types[ctype]
        return words[-1], ctype, pointer

    def _convert(self, args):
        if not isinstance(args, tuple):
            raise TypeError(f"{self.name}: the arguments must be a tuple, not {type(args)}")
        if len(args) != len(self.params):
            raise TypeError(f"{self.name}: {len(args)} arguments for {len(self.params)} "
                            f"parameters")
        out = []
        for (name, ctype, pointer), value in zip(self.params, args, strict=True):
            where = f"{self.name}: parameter {name} ({ctype}{'*' if pointer else ''})"
            if pointer and isinstance(value, np.ndarray):
                want = np.dtype(_RAW_SCALARS[ctype])
                if value.dtype != want or not value.flags.c_contiguous:
                    raise TypeError(f"{where}: got a {value.dtype} array of strides "
                                    f"{value.strides}, want a C-contiguous {want} array")
                out.append(ctypes.c_void_p(value.ctypes.data))
            elif pointer:
                if type(value) is not np.uint64:
                    raise TypeError(f"{where}: got {type(value).__name__}, want an array or "
                                    f"np.uint64")
                out.append(ctypes.c_void_p(int(value)))
            else:
                if type(value) is not _RAW_SCALARS[ctype]:
                    raise TypeError(f"{where}: got {type(value).__name__}, want "
                                    f"{_RAW_SCALARS[ctype].__name__}")
                out.append(_RAW_FFI[ctype](value.item()))
        return out

    def __call__(self, grid, block, args):
        grid, block = _dims(grid), _dims(block)
        if grid[2] != 1 or block[1:] != (1, 1):
            raise ValueError(f"{self.name}: only 2-d grids of 1-d blocks are emulated, got "
                             f"grid {grid}, block {block}")
        if not (1 <= block[0] <= 1024 and grid[0] < 2**31 and grid[1] < 2**16):
            raise ValueError(f"{self.name}: grid {grid} or block {block} out of CUDA's range")
        threads = block[0]
        if self.syncs:
            if threads & (threads - 1) or (self.shared is not None and threads > self.shared):
                raise ValueError(f"{self.name}: block {threads} is not a power of two within "
                                 f"the {self.shared} slots of its shared arrays")
            threads = 1
        cargs = self._convert(args)
        lib = self.lib
        lib.flambeau_set_dims(threads, grid[1])
        for bx in range(grid[0]):
            for by in range(grid[1]):
                lib.flambeau_set_block(bx, by, grid[0])
                for tx in range(threads):
                    lib.flambeau_set_thread(tx)
                    self.fn(*cargs)


def _dims(shape):
    """A CuPy grid or block (an int or a tuple of up to 3 ints) as ``(x, y, z)``."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if not 1 <= len(shape) <= 3 or not all(isinstance(d, (int, np.integer)) and d >= 1
                                            for d in shape):
        raise ValueError(f"a grid or block must be 1 to 3 positive ints, got {shape}")
    return tuple(int(d) for d in shape) + (1,) * (3 - len(shape))


def _braced(code, start):
    """The text of ``code`` from the ``{`` at ``start`` to its matching ``}``."""
    depth = 0
    for i in range(start, len(code)):
        depth += {"{": 1, "}": -1}.get(code[i], 0)
        if depth == 0:
            return code[start:i + 1]
    raise ValueError("unbalanced braces")


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
