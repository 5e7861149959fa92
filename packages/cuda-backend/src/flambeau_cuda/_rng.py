"""Counter-based random numbers on the GPU: Philox4x32-10, exact get_state / set_state.

The stream of a generator is fully described by its 64-bit ``seed`` (the Philox key) and a
64-bit ``offset`` (how many 128-bit counter blocks have been used). Block ``b`` is
``philox(counter=(b mod 2**32, b div 2**32, 0, 0), key=(seed mod 2**32, seed div 2**32))``; a
draw of ``n`` values uses the blocks ``offset .. offset + ceil(n / per_block) - 1`` and moves the
offset past them. So the state is 16 bytes, restoring it is exact, and every GPU thread computes
its own block independently (no sequential state to carry between threads or draws).

Values from a block's four 32-bit words ``w``:

- uniform float32: ``(w >> 8) * 2**-24`` (4 per block);
- uniform float64: ``((w0 >> 5) * 2**26 + (w1 >> 6)) * 2**-53`` (2 per block);
- normal: Box-Muller on two uniforms ``u1 = 1 - u`` (never 0) and ``u2`` (4 float32 or 2
  float64 per block);
- integers in ``[low, high)``: ``low + (w0 + w1 * 2**32) mod (high - low)`` (2 per block);
  the modulo bias is below ``(high - low) / 2**64``.

:data:`PHILOX_SOURCE` and :data:`DRAW_BODIES` are the CUDA C of the kernels;
:class:`NumpyEngine` computes the same streams on the host (the reference the GPU output is
tested against, and the way the generator's bookkeeping is tested without a GPU).
"""

from __future__ import annotations

import math

import numpy as np

from flambeau_cuda._kernels._spec import ElementwiseSpec, dtype_name

__all__ = ["PhiloxRNG", "CupyEngine", "NumpyEngine", "philox4x32", "PHILOX_SOURCE",
           "DRAW_BODIES", "DRAW_SPECS", "KEEP_SPECS", "PER_BLOCK", "dropout_mask"]

_M0, _M1 = 0xD2511F53, 0xCD9E8D57
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_ROUNDS = 10

PHILOX_SOURCE = r"""
__device__ inline void flb_philox(unsigned int c[4], unsigned int k0, unsigned int k1) {
    for (int r = 0; r < 10; ++r) {
        if (r) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
        unsigned long long p0 = (unsigned long long)0xD2511F53u * c[0];
        unsigned long long p1 = (unsigned long long)0xCD9E8D57u * c[2];
        unsigned int n0 = (unsigned int)(p1 >> 32) ^ c[1] ^ k0;
        unsigned int n2 = (unsigned int)(p0 >> 32) ^ c[3] ^ k1;
        c[1] = (unsigned int)p1; c[3] = (unsigned int)p0; c[0] = n0; c[2] = n2;
    }
}
__device__ inline double flb_u53(unsigned int a, unsigned int b) {
    return ((a >> 5) * 67108864.0 + (b >> 6)) * (1.0 / 9007199254740992.0);
}
__device__ inline void flb_box_muller(double u1, double u2, double* z0, double* z1) {
    double r = sqrt(-2.0 * log(u1));
    double t = 6.283185307179586 * u2;
    *z0 = r * cos(t); *z1 = r * sin(t);
}
"""

# Each body runs once per block ``i``; ``out`` is the raw output, ``n`` its size.
_BLOCK = r"""
unsigned long long b = offset + (unsigned long long)i;
unsigned int c[4] = {(unsigned int)b, (unsigned int)(b >> 32), 0u, 0u};
flb_philox(c, (unsigned int)seed, (unsigned int)(seed >> 32));
"""
DRAW_BODIES = {
    "uniform32": _BLOCK + r"""
for (int k = 0; k < 4; ++k) {
    long long j = 4 * (long long)i + k;
    if (j < n) out[j] = (float)(c[k] >> 8) * (1.0f / 16777216.0f);
}
""",
    "uniform64": _BLOCK + r"""
for (int k = 0; k < 2; ++k) {
    long long j = 2 * (long long)i + k;
    if (j < n) out[j] = flb_u53(c[2 * k], c[2 * k + 1]);
}
""",
    "normal32": _BLOCK + r"""
for (int k = 0; k < 2; ++k) {
    double z0, z1;
    flb_box_muller(1.0 - (c[2 * k] >> 8) * (1.0 / 16777216.0),
                   (c[2 * k + 1] >> 8) * (1.0 / 16777216.0), &z0, &z1);
    long long j = 4 * (long long)i + 2 * k;
    if (j < n) out[j] = (float)z0;
    if (j + 1 < n) out[j + 1] = (float)z1;
}
""",
    "normal64": _BLOCK + r"""
double z0, z1;
flb_box_muller(1.0 - flb_u53(c[0], c[1]), flb_u53(c[2], c[3]), &z0, &z1);
long long j = 2 * (long long)i;
if (j < n) out[j] = z0;
if (j + 1 < n) out[j + 1] = z1;
""",
    "integers": _BLOCK + r"""
for (int k = 0; k < 2; ++k) {
    long long j = 2 * (long long)i + k;
    unsigned long long w = c[2 * k] | ((unsigned long long)c[2 * k + 1] << 32);
    if (j < n) out[j] = (long long)((unsigned long long)low + w % span);
}
""",
}
_PARAMS = "uint64 seed, uint64 offset, int64 n"
#: the draws as kernel specs (one GPU thread per counter block)
DRAW_SPECS = {
    kind: ElementwiseSpec(f"philox_{kind}", _PARAMS + (", int64 low, uint64 span" if kind ==
                                                        "integers" else ""),
                          "raw T out", body, PHILOX_SOURCE)
    for kind, body in DRAW_BODIES.items()
}
# Dropout's scaled keep mask from the uniform draws of the same blocks: one launch instead of
# draw, compare, cast and scale (``p`` is compared at the draw's precision, as NumPy does).
_KEEP_BODIES = {
    "uniform32": _BLOCK + r"""
for (int k = 0; k < 4; ++k) {
    long long j = 4 * (long long)i + k;
    float u = (float)(c[k] >> 8) * (1.0f / 16777216.0f);
    if (j < n) out[j] = u >= (float)p ? (T)scale : (T)0;
}
""",
    "uniform64": _BLOCK + r"""
for (int k = 0; k < 2; ++k) {
    long long j = 2 * (long long)i + k;
    if (j < n) out[j] = flb_u53(c[2 * k], c[2 * k + 1]) >= p ? (T)scale : (T)0;
}
""",
}
#: the keep masks as kernel specs, by the uniform draw they compare
KEEP_SPECS = {
    kind: ElementwiseSpec(f"philox_keep_{kind}", _PARAMS + ", float64 p, float64 scale",
                          "raw T out", body, PHILOX_SOURCE)
    for kind, body in _KEEP_BODIES.items()
}
#: values produced per counter block, by draw kind
PER_BLOCK = {"uniform32": 4, "uniform64": 2, "normal32": 4, "normal64": 2, "integers": 2}
_OUT_DTYPE = {"uniform32": np.float32, "uniform64": np.float64, "normal32": np.float32,
              "normal64": np.float64, "integers": np.int64}


def philox4x32(counters, key):
    """Philox4x32-10 of ``(N, 4)`` uint32 counters under a ``(k0, k1)`` key, on the host.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau_cuda._rng import philox4x32
    >>> [hex(w) for w in philox4x32(np.zeros((1, 4), np.uint32), (0, 0))[0]]
    ['0x6627e8d5', '0xe169c58d', '0xbc57ac4c', '0x9b00dbd8']
    """
    c = [np.asarray(counters, dtype=np.uint32)[:, j].astype(np.uint64) for j in range(4)]
    k0, k1 = int(key[0]), int(key[1])
    mask = np.uint64(0xFFFFFFFF)
    for r in range(_ROUNDS):
        if r:
            k0, k1 = (k0 + _W0) & 0xFFFFFFFF, (k1 + _W1) & 0xFFFFFFFF
        p0, p1 = np.uint64(_M0) * c[0], np.uint64(_M1) * c[2]
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ np.uint64(k0), p1 & mask,
             (p0 >> np.uint64(32)) ^ c[3] ^ np.uint64(k1), p0 & mask]
    return np.stack(c, axis=1).astype(np.uint32)


class NumpyEngine:
    """The draws of :data:`DRAW_BODIES` computed with NumPy on the host.

    Examples
    --------
    >>> from flambeau_cuda._rng import NumpyEngine
    >>> NumpyEngine().draw("uniform32", 3, seed=0, offset=0).round(4)
    array([0.399 , 0.8805, 0.7357], dtype=float32)
    """

    def draw(self, kind, n, *, seed, offset, low=0, span=0):
        per = PER_BLOCK[kind]
        blocks = np.arange(offset, offset + -(-n // per), dtype=np.uint64)
        counters = np.zeros((blocks.size, 4), np.uint32)
        counters[:, 0] = (blocks & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        counters[:, 1] = (blocks >> np.uint64(32)).astype(np.uint32)
        w = philox4x32(counters, (seed & 0xFFFFFFFF, seed >> 32)).astype(np.uint64)
        if kind == "uniform32":
            out = ((w >> np.uint64(8)).astype(np.float32) * np.float32(2.0**-24)).reshape(-1)
        elif kind == "uniform64":
            out = _u53(w[:, 0::2], w[:, 1::2]).reshape(-1)
        elif kind == "normal32":
            u = (w >> np.uint64(8)).astype(np.float64) * 2.0**-24
            out = _box_muller(1.0 - u[:, 0::2], u[:, 1::2]).astype(np.float32).reshape(-1)
        elif kind == "normal64":
            out = _box_muller(1.0 - _u53(w[:, :1], w[:, 1:2]), _u53(w[:, 2:3], w[:, 3:]))
            out = out.reshape(-1)
        else:
            words = w[:, 0::2] | (w[:, 1::2] << np.uint64(32))
            out = (np.uint64(low % 2**64) + words % np.uint64(span)).view(np.int64).reshape(-1)
        return out[:n]

    def keep(self, kind, n, *, seed, offset, p, scale, dtype):
        """:data:`KEEP_SPECS` on the host: ``scale`` where the ``kind`` draw is >= ``p``."""
        u = self.draw(kind, n, seed=seed, offset=offset)
        return np.where(u >= u.dtype.type(p), np.dtype(dtype).type(scale),
                        np.dtype(dtype).type(0))


def _u53(a, b):
    return ((a >> np.uint64(5)).astype(np.float64) * 67108864.0
            + (b >> np.uint64(6)).astype(np.float64)) * 2.0**-53


def _box_muller(u1, u2):
    r = np.sqrt(-2.0 * np.log(u1))
    t = 2 * math.pi * u2
    # interleave (z0, z1) of each pair, as the kernel writes them
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=-1)


class CupyEngine:
    """The draws of :data:`DRAW_BODIES` as CuPy ElementwiseKernels on device ``index``.

    Examples
    --------
    >>> from flambeau_cuda._rng import CupyEngine
    >>> CupyEngine(0).draw("uniform32", 3, seed=0, offset=0)  # doctest: +SKIP
    array([0.3991..., 0.8805..., 0.7357...], dtype=float32)
    """

    def __init__(self, index):
        self.index = index

    def draw(self, kind, n, *, seed, offset, low=0, span=0):
        from flambeau_cuda import _cupy

        cupy = _cupy.load()
        with cupy.cuda.Device(self.index):
            out = cupy.empty(n, dtype=_OUT_DTYPE[kind])
            blocks = -(-n // PER_BLOCK[kind])
            if blocks:
                args = [np.uint64(seed), np.uint64(offset), np.int64(n)]
                if kind == "integers":
                    args += [np.int64(low), np.uint64(span)]
                DRAW_SPECS[kind].build(dtype_name(out.dtype))(*args, out, size=blocks)
        return out

    def keep(self, kind, n, *, seed, offset, p, scale, dtype):
        from flambeau_cuda import _cupy

        cupy = _cupy.load()
        with cupy.cuda.Device(self.index):
            out = cupy.empty(n, dtype=dtype)
            blocks = -(-n // PER_BLOCK[kind])
            if blocks:
                KEEP_SPECS[kind].build(dtype_name(out.dtype))(
                    np.uint64(seed), np.uint64(offset), np.int64(n), np.float64(p),
                    np.float64(scale), out, size=blocks)
        return out


class PhiloxRNG:
    """A generator's stream: the methods of :class:`flambeau.backends.HostRNG` on Philox.

    Parameters
    ----------
    seed : int
        A 64-bit seed (the Philox key).
    engine : CupyEngine or NumpyEngine
        Where the numbers are computed.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau_cuda._rng import NumpyEngine, PhiloxRNG
    >>> rng = PhiloxRNG(7, NumpyEngine())
    >>> state = rng.get_state(); a = rng.random((2, 3), np.float32)
    >>> rng.set_state(state); bool((a == rng.random((2, 3), np.float32)).all())
    True
    """

    __slots__ = ("_seed", "_offset", "_engine")

    def __init__(self, seed: int, engine):
        self._seed = int(seed) & 0xFFFF_FFFF_FFFF_FFFF
        self._offset = 0
        self._engine = engine

    def _draw(self, kind, shape, method="draw", **extra):
        n = math.prod(shape) if isinstance(shape, tuple) else int(shape)
        out = getattr(self._engine, method)(kind, n, seed=self._seed, offset=self._offset,
                                            **extra)
        self._offset = (self._offset + -(-n // PER_BLOCK[kind])) & 0xFFFF_FFFF_FFFF_FFFF
        return out.reshape(shape)

    def keep_mask(self, shape, p, dtype):
        """Dropout's scaled keep mask, from the draws of ``random(shape, ...)``: ``1 / (1 - p)``
        (rounded to ``dtype``) where the draw is >= ``p``, else 0. On a GPU, one launch.

        Examples
        --------
        >>> import numpy as np
        >>> from flambeau_cuda._rng import NumpyEngine, PhiloxRNG
        >>> PhiloxRNG(0, NumpyEngine()).keep_mask((4,), 0.5, np.float32)
        array([0., 2., 2., 2.], dtype=float32)
        """
        dtype = np.dtype(dtype)
        kind = "uniform64" if dtype == np.float64 else "uniform32"
        scale = float(dtype.type(1.0 / (1.0 - p)))  # exact in dtype: no double rounding
        return self._draw(kind, shape, "keep", p=p, scale=scale, dtype=dtype)

    def random(self, shape, dtype):
        kind = "uniform64" if np.dtype(dtype) == np.float64 else "uniform32"
        out = self._draw(kind, shape)
        return out if out.dtype == dtype else out.astype(dtype)

    def standard_normal(self, shape, dtype):
        kind = "normal64" if np.dtype(dtype) == np.float64 else "normal32"
        out = self._draw(kind, shape)
        return out if out.dtype == dtype else out.astype(dtype)

    def integers(self, low, high, shape, dtype):
        low, high = int(low), int(high)
        if high <= low:
            raise ValueError(f"random_: expected low < high, got low={low}, high={high}")
        if high - low > 2**64 - 1:
            raise ValueError(f"random_: the range [{low}, {high}) is wider than 2**64 - 1")
        out = self._draw("integers", shape, low=low, span=high - low)
        return out.astype(dtype, copy=False)

    def permutation(self, n):
        keys = self._draw("integers", (int(n),), low=0, span=2**62)
        return keys.argsort()

    def get_state(self) -> bytes:
        return self._seed.to_bytes(8, "little") + self._offset.to_bytes(8, "little")

    def set_state(self, blob: bytes) -> None:
        if len(blob) != 16:
            raise ValueError(f"Generator.set_state: expected 16 bytes of Philox state (seed, "
                             f"offset) for a cuda generator, got {len(blob)}")
        self._seed = int.from_bytes(blob[:8], "little")
        self._offset = int.from_bytes(blob[8:], "little")


def dropout_mask(rng, shape, p, dtype):
    """The ``"dropout_mask"`` kernel: :meth:`PhiloxRNG.keep_mask`, or None (to draw it the
    generic way) for another generator or a dtype other than float16, float32 and float64.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau_cuda._rng import NumpyEngine, PhiloxRNG, dropout_mask
    >>> dropout_mask(PhiloxRNG(0, NumpyEngine()), (2, 2), 0.25, np.float64).shape
    (2, 2)
    >>> dropout_mask(np.random.default_rng(0), (2, 2), 0.25, np.float64) is None
    True
    """
    if not isinstance(rng, PhiloxRNG) or np.dtype(dtype).name not in (
            "float16", "float32", "float64"):
        return None
    return rng.keep_mask(shape, p, dtype)
