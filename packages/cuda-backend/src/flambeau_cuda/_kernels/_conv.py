"""2-d convolution as im2col + one cuBLAS GEMM (batched over groups), and its two adjoints.

Signatures are flambeau-nn's (``padding`` a tuple of ``(low, high)`` pairs):

- ``conv2d(x, w, stride, padding, dilation, groups) -> y``
- ``conv2d_backward_input(g, w, input_shape, stride, padding, dilation, groups) -> gx``
- ``conv2d_backward_weight(x, g, weight_shape, stride, padding, dilation, groups) -> gw``

:data:`IM2COL` gathers every window into a ``(N*OH*OW, C*KH*KW)`` matrix in one pass (zero
padding is done by the bounds test, so the input is never copied into a padded buffer);
:data:`COL2IM` is its adjoint written as a gather per input pixel (no atomics). cuDNN is
not used: CuPy 14 dropped its cuDNN wrappers; see the package README for the measurement
plan against NVIDIA's cudnn-frontend.
"""

from __future__ import annotations

from flambeau_cuda._kernels._spec import INDEX_LIMIT, ElementwiseSpec, dtype_name, narrowed

__all__ = ["IM2COL", "COL2IM", "IM2COL_I32", "COL2IM_I32", "conv2d", "conv2d_backward_input",
           "conv2d_backward_weight", "geometry", "windows_covering"]

_GEO = ("int64 C, int64 H, int64 W, int64 OH, int64 OW, int64 KH, int64 KW, int64 sh, "
        "int64 sw, int64 ph, int64 pw, int64 dh, int64 dw")

IM2COL = ElementwiseSpec("im2col", "raw T x, " + _GEO, "T col", r"""
long long t = i;
long long kw = t % KW; t /= KW;
long long kh = t % KH; t /= KH;
long long c = t % C; t /= C;
long long ow = t % OW; t /= OW;
long long oh = t % OH; long long n = t / OH;
long long h = oh * sh - ph + kh * dh, w = ow * sw - pw + kw * dw;
col = (h >= 0 && h < H && w >= 0 && w < W) ? x[((n * C + c) * H + h) * W + w] : (T)0;
""")


def windows_covering(body: str) -> str:
    """C loops over the windows that cover input pixel ``(h, w)``: ``body`` runs with each
    one's output position ``(oh, ow)`` and the pixel's offset ``(kh, kw)`` inside it (the
    adjoint of a windowed gather, written as a gather itself: no atomics)."""
    return r"""
for (long long kh = 0; kh < KH; ++kh) {
    long long th = h + ph - kh * dh;
    if (th < 0 || th % sh) continue;
    long long oh = th / sh;
    if (oh >= OH) continue;
    for (long long kw = 0; kw < KW; ++kw) {
        long long tw = w + pw - kw * dw;
        if (tw < 0 || tw % sw) continue;
        long long ow = tw / sw;
        if (ow >= OW) continue;
""" + body + "\n    }\n}\n"


COL2IM = ElementwiseSpec("col2im", "raw T col, " + _GEO, "T dx", r"""
long long t = i;
long long w = t % W; t /= W;
long long h = t % H; t /= H;
long long c = t % C; long long n = t / C;
acc_t sum = 0;
""" + windows_covering(
    "sum += (acc_t)col[((((n * OH + oh) * OW + ow) * C + c) * KH + kh) * KW + kw];") + r"""
dx = (T)sum;
""")


IM2COL_I32, COL2IM_I32 = narrowed(IM2COL), narrowed(COL2IM)


def geometry(x_shape, w_shape, stride, padding, dilation, out=None):
    """The 13 integer arguments of :data:`IM2COL` / :data:`COL2IM`, as a tuple.

    Examples
    --------
    >>> from flambeau_cuda._kernels._conv import geometry
    >>> geometry((1, 3, 8, 8), (4, 3, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1))
    (3, 8, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1)
    """
    _, c, h, w = x_shape
    kh, kw = w_shape[2:]
    if out is None:
        out = tuple((n + lo + hi - d * (k - 1) - 1) // s + 1 for n, k, s, (lo, hi), d in
                    zip((h, w), (kh, kw), stride, padding, dilation))
    return (c, h, w, *out, kh, kw, stride[0], stride[1], padding[0][0], padding[1][0],
            dilation[0], dilation[1])


def _im2col(x, geo):
    from flambeau_cuda import _cupy

    cupy = _cupy.load()
    x = cupy.ascontiguousarray(x)
    c, _, _, oh, ow, kh, kw = geo[:7]
    col = cupy.empty((x.shape[0] * oh * ow, c * kh * kw), dtype=x.dtype)
    spec = IM2COL_I32 if max(x.size, col.size) < INDEX_LIMIT else IM2COL
    spec.build(dtype_name(x.dtype))(x, *geo, col)
    return col


def _grouped(a, groups):
    """``(rows, groups * k)`` as ``(groups, rows, k)`` (a view)."""
    return a.reshape(a.shape[0], groups, -1).transpose(1, 0, 2)


def conv2d(x, w, stride, padding, dilation, groups):
    """The ``"conv2d"`` kernel.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._conv import conv2d
    >>> y = conv2d(cupy.ones((1, 1, 4, 4)), cupy.ones((1, 1, 3, 3)), (1, 1), ((0, 0), (0, 0)),
    ...            (1, 1), 1)  # doctest: +SKIP
    >>> y.tolist()  # doctest: +SKIP
    [[[[9.0, 9.0], [9.0, 9.0]]]]
    """
    from flambeau_cuda import _cupy
    from flambeau_cuda._kernels._linalg import matmul

    cupy = _cupy.load()
    geo = geometry(x.shape, w.shape, stride, padding, dilation)
    n, co = x.shape[0], w.shape[0]
    oh, ow = geo[3:5]
    cols = _grouped(_im2col(x, geo), groups)                  # (G, N*L, Cg*K)
    wg = w.reshape(groups, co // groups, -1).transpose(0, 2, 1)  # (G, Cg*K, Cog)
    y = matmul(cols, wg, True)                                         # (G, N*L, Cog)
    # torch's convolutions return contiguous NCHW tensors (code calls .view on them)
    return cupy.ascontiguousarray(y.transpose(1, 0, 2).reshape(n, oh, ow, co).transpose(0, 3, 1, 2))


def conv2d_backward_input(g, w, input_shape, stride, padding, dilation, groups):
    """The ``"conv2d_backward_input"`` kernel (also the transposed convolution).

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._conv import conv2d_backward_input
    >>> geo = ((0, 0), (0, 0))
    >>> g, w = cupy.ones((1, 1, 2, 2)), cupy.ones((1, 1, 3, 3))  # doctest: +SKIP
    >>> gx = conv2d_backward_input(g, w, (1, 1, 4, 4), (1, 1), geo, (1, 1), 1)  # doctest: +SKIP
    >>> gx[0, 0].tolist()  # doctest: +SKIP
    [[1.0, 2.0, 2.0, 1.0], [2.0, 4.0, 4.0, 2.0], [2.0, 4.0, 4.0, 2.0], [1.0, 2.0, 2.0, 1.0]]
    """
    from flambeau_cuda import _cupy
    from flambeau_cuda._kernels._linalg import matmul

    cupy = _cupy.load()
    n, co, oh, ow = g.shape
    geo = geometry(tuple(input_shape), w.shape, stride, padding, dilation, out=(oh, ow))
    gm = _grouped(g.transpose(0, 2, 3, 1).reshape(n * oh * ow, co), groups)  # (G, N*L, Cog)
    wg = w.reshape(groups, co // groups, -1)                                 # (G, Cog, Cg*K)
    dcols = cupy.ascontiguousarray(matmul(gm, wg, True).transpose(1, 0, 2))       # (N*L, G, Cg*K)
    gx = cupy.empty(tuple(input_shape), dtype=g.dtype)
    spec = COL2IM_I32 if max(dcols.size, gx.size) < INDEX_LIMIT else COL2IM
    spec.build(dtype_name(g.dtype))(dcols, *geo, gx)
    return gx


def conv2d_backward_weight(x, g, weight_shape, stride, padding, dilation, groups):
    """The ``"conv2d_backward_weight"`` kernel.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._conv import conv2d_backward_weight
    >>> geo = ((0, 0), (0, 0))
    >>> x, g = cupy.ones((1, 1, 4, 4)), cupy.ones((1, 1, 2, 2))  # doctest: +SKIP
    >>> gw = conv2d_backward_weight(x, g, (1, 1, 3, 3), (1, 1), geo, (1, 1), 1)  # doctest: +SKIP
    >>> float(gw.sum())  # doctest: +SKIP
    36.0
    """
    from flambeau_cuda._kernels._linalg import matmul

    n, co, oh, ow = g.shape
    geo = geometry(x.shape, tuple(weight_shape), stride, padding, dilation, out=(oh, ow))
    cols = _grouped(_im2col(x, geo), groups)                                 # (G, N*L, Cg*K)
    gm = _grouped(g.transpose(0, 2, 3, 1).reshape(n * oh * ow, co), groups)  # (G, N*L, Cog)
    gw = matmul(gm.transpose(0, 2, 1), cols, True)                               # (G, Cog, Cg*K)
    return gw.reshape(tuple(weight_shape))
