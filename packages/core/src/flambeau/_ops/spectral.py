"""Spectral ops: the FFT kernels behind :mod:`flambeau.fft`, and ``stft`` / ``istft``.

Three differentiable kernels do every transform, as in PyTorch: :class:`FftC2C`
(complex-to-complex, or a real input's full spectrum), :class:`FftR2C` (a real input's
one-sided spectrum) and :class:`FftC2R` (a one-sided spectrum back to a real signal). They
run the backend's ``xp.fft`` (``numpy.fft`` or ``cupy.fft``) over several axes at once and
keep PyTorch's dtypes (float32 / complex64 in, complex64 / float32 out). Padding and
truncation to ``n`` / ``s`` happen before them, with :func:`~flambeau._ops.shape.pad`, so
that the gradients of dropped entries are zero.

Each backward pass is the adjoint transform, written with the same kernels so that second
derivatives work. With the DFT matrix ``F`` (``F[k, j] = exp(-2 pi i jk / n)``):

* ``fft`` with norm ``"backward"`` is ``F``; its adjoint is ``F^H``, which is ``ifft`` with norm
  ``"forward"``: backward swaps the direction and the norms ``"backward"`` <-> ``"forward"``
  (``"ortho"`` is unitary).
* ``rfft`` is ``F`` followed by keeping bins ``0, ..., n // 2``. Its adjoint zero-pads the
  gradient to ``n`` bins, applies ``F^H`` and takes the real part. That real part is
  ``irfft`` (norm ``"forward"``) of the gradient with the bins other than DC and Nyquist halved:
  ``irfft`` doubles them, and reads only the real parts of DC and Nyquist, as the real part
  of ``F^H`` does.
* ``irfft`` reads bin ``k`` once (DC, and Nyquist for even ``n``) or twice (the others, through
  its conjugate mirror), ignoring the imaginary parts of DC and Nyquist. Its adjoint is
  ``rfft`` of the gradient with those bins doubled; the imaginary parts of DC and Nyquist
  get a zero gradient.

Over several axes only the last one is one-sided; the complex axes before it are ``F`` or
``F^H``, which commute with the halving and doubling of the last axis.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from flambeau import _dtype
from flambeau._ops import elementwise as ew
from flambeau._ops import shape as sh
from flambeau._ops._util import LOW_PRECISION_NP, make, need_tensor
from flambeau.autograd._function import Function

__all__ = ["stft", "istft"]

#: norm in the forward pass -> norm of the adjoint transform
SWAP_NORM = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


# ------------------------------------------------------------------ argument checks


def check_norm(op, norm):
    """``norm`` as one of ``"backward"``, ``"ortho"``, ``"forward"`` (None is ``"backward"``)."""
    if norm is None:
        return "backward"
    if not isinstance(norm, str):
        raise TypeError(f"{op}(): argument 'norm' must be str, not {type(norm).__name__}")
    if norm not in SWAP_NORM:
        raise RuntimeError(f'{op}: Invalid normalization mode: "{norm}" (expected "backward", '
                           f'"ortho", "forward" or None)')
    return norm


def check_signal(op, input, *, real=False):
    """``input`` ready for a transform: a float32/float64/complex tensor (integers and bools
    become the default float dtype, as in PyTorch; half precision is refused as PyTorch does
    on the CPU)."""
    need_tensor(op, input)
    dt = input._data.dtype
    if dt in LOW_PRECISION_NP:
        raise RuntimeError(f"{op}: Unsupported dtype {input.dtype} (FFTs take float32, float64, "
                           f"complex64 or complex128, as PyTorch's on the CPU): convert the "
                           f"input with .float() first")
    if dt.kind in "biu":
        input = input.to(_dtype.get_default_dtype())
    elif real and dt.kind == "c":
        raise RuntimeError(f"{op} expects a real input tensor, but got {input.dtype} (shape "
                           f"{tuple(input.shape)})")
    return input


def check_out(op, result, out):
    """Refuse an ``out`` of the other kind (complex for a real result or the reverse)."""
    if out is None:
        return
    need_tensor(op, out, "out")
    want_complex = result._data.dtype.kind == "c"
    if (out._data.dtype.kind == "c") != want_complex:
        kind = "complex" if want_complex else "floating point"
        raise RuntimeError(f"{op} expects a {kind} output tensor, but got {out.dtype}")


# ------------------------------------------------------------------ kernels


def _complex_np(a):
    return _dtype.to_dtype(a.dtype).to_complex().np


def _real_np(a):
    return _dtype.to_dtype(a.dtype).to_real().np


def _last_axis_weights(like, axis, values):
    """``values`` (1-D host array) as a tensor broadcasting along ``axis`` of ``like``."""
    shape = [1] * like._data.ndim
    shape[axis] = values.size
    arr = values.astype(_real_np(like._data)).reshape(shape)
    xp = like._device._xp
    return make(xp.asarray(arr) if xp is not np else arr, like)


def _transform(device, name, a, axes, norm, s=None):
    """``xp.fft.<name>`` of ``a`` on ``device``, through its backend's ``fft`` kernel where it
    has one (the NumPy backend's runs SciPy's, which is much faster in single precision)."""
    out = device.backend.run_kernel("fft", name, a, axes, norm, s)
    if out is None:
        out = getattr(device._xp.fft, name)(a, s=s, axes=axes, norm=norm)
    return out


def _mirror(xp, a, axes):
    """``a`` at the negated indices ``-k mod n`` along each of ``axes``."""
    for ax in axes:
        n = a.shape[ax]
        if n > 1:
            a = xp.take(a, xp.asarray((-np.arange(n)) % n), axis=ax)
    return a


def _full_spectrum(device, a, axes, norm):
    """``fftn(a, axes, norm)`` of a real ``a`` from its half spectrum (``rfftn`` and the
    conjugate mirror of it: about half the work of a complex transform)."""
    xp = device._xp
    half = _transform(device, "rfftn", a, axes, norm).astype(_complex_np(a), copy=False)
    last, n = axes[-1], a.shape[axes[-1]]
    m = half.shape[last]
    if m == n:
        return half
    out = xp.empty(a.shape, dtype=half.dtype)
    lead = (slice(None),) * last
    out[lead + (slice(0, m),)] = half
    # bin k > n // 2 of the last axis is the conjugate of bin n - k at the negated indices
    # of the other axes
    xp.conjugate(_mirror(xp, half, axes[:-1])[lead + (slice(n - m, 0, -1),)],
                 out=out[lead + (slice(m, n),)])
    return out


class FftC2C(Function):
    """``fftn`` (``forward``) or ``ifftn`` over ``axes`` with ``norm``; a real input is treated
    as complex (its gradient is the real part)."""

    @staticmethod
    def forward(ctx, x, axes, norm, forward):
        a = x._data
        xp = x._device._xp
        real_input = a.dtype.kind != "c"
        ctx.meta = (axes, norm, forward, real_input)
        cdt = _complex_np(a)
        if not axes:
            return a.astype(cdt)
        if real_input:
            # ifftn(x, norm) of a real x is conj(fftn(x, the other norm))
            out = _full_spectrum(x._device, a, axes, norm if forward else SWAP_NORM[norm])
            return out if forward else xp.conjugate(out, out=out)
        out = _transform(x._device, "fftn" if forward else "ifftn", a, axes, norm)
        return out.astype(cdt, copy=False)

    @staticmethod
    def backward(ctx, g):
        axes, norm, forward, real_input = ctx.meta
        if real_input:
            return RealC2C.apply(g, axes, SWAP_NORM[norm], not forward), None, None, None
        return FftC2C.apply(g, axes, SWAP_NORM[norm], not forward), None, None, None


class RealC2C(Function):
    """The real part of :class:`FftC2C` (the adjoint of a real input's full transform),
    computed by a complex-to-real transform of the Hermitian part of the input."""

    @staticmethod
    def forward(ctx, z, axes, norm, forward):
        a = z._data
        xp = z._device._xp
        ctx.meta = (axes, norm, forward)
        rdt = _real_np(a)
        if not axes:
            return a.real.astype(rdt)
        if forward:  # Re(fftn(z, norm)) = Re(ifftn(conj(z), the other norm))
            a, norm = xp.conjugate(a), SWAP_NORM[norm]
        # Re(ifftn(z)) = ifftn(h) for the Hermitian part h = (z + conj(z at -k)) / 2, which
        # irfftn computes from bins 0 .. n // 2 of the last axis
        last, n = axes[-1], a.shape[axes[-1]]
        lead = (slice(None),) * last
        m = n // 2 + 1
        mirror = _mirror(xp, a, axes[:-1])
        mirror = xp.take(mirror, xp.asarray((-np.arange(m)) % n), axis=last)
        h = (a[lead + (slice(0, m),)] + xp.conjugate(mirror)) * rdt.type(0.5)
        s = [a.shape[ax] for ax in axes[:-1]] + [n]
        return _transform(z._device, "irfftn", h, axes, norm, s).astype(rdt, copy=False)

    @staticmethod
    def backward(ctx, g):
        axes, norm, forward = ctx.meta
        return FftC2C.apply(g, axes, SWAP_NORM[norm], not forward), None, None, None


class FftR2C(Function):
    """``rfftn`` over ``axes`` of a real input: bins ``0, ..., n // 2`` along the last axis."""

    @staticmethod
    def forward(ctx, x, axes, norm):
        a = x._data
        ctx.meta = (axes, norm, a.shape[axes[-1]])
        out = _transform(x._device, "rfftn", a, axes, norm)
        return out.astype(_complex_np(a), copy=False)

    @staticmethod
    def backward(ctx, g):
        axes, norm, n = ctx.meta
        m = n // 2 + 1
        # the adjoint: zero-pad to n bins, F^H, real part; irfft doubles bins 1 .. n - m
        half = np.full(m, 0.5)
        half[0] = 1.0
        if n % 2 == 0:
            half[-1] = 1.0
        h = ew.mul(g, _last_axis_weights(g, axes[-1], half))
        return FftC2R.apply(h, axes, SWAP_NORM[norm], n), None, None


class FftC2R(Function):
    """``irfftn`` over ``axes``: ``n`` real samples along the last axis from its ``n // 2 + 1``
    bins (the input is already cut or padded to them)."""

    @staticmethod
    def forward(ctx, x, axes, norm, n):
        a = x._data
        ctx.meta = (axes, norm, n, a.dtype.kind != "c")
        s = [a.shape[ax] for ax in axes[:-1]] + [n]
        out = _transform(x._device, "irfftn", a, axes, norm, s)
        return out.astype(_real_np(a), copy=False)

    @staticmethod
    def backward(ctx, g):
        axes, norm, n, real_input = ctx.meta
        m = n // 2 + 1
        twice = np.full(m, 2.0)
        twice[0] = 1.0
        if n % 2 == 0:
            twice[-1] = 1.0
        gx = ew.mul(FftR2C.apply(g, axes, SWAP_NORM[norm]),
                    _last_axis_weights(g, axes[-1], twice))
        if real_input:
            from flambeau._ops.complex import real

            gx = real(gx)
        return gx, None, None, None


# ------------------------------------------------------------------ frames and overlap-add

#: above this many frames per output sample (``ceil(n / step)``), overlap-add scatters
#: with one indexed add instead of one strided add per frame offset
_OLA_SHIFTS_MAX = 32


def _overlap_add(xp, kernels, f, step, length):
    """Sum frames ``f`` (``(..., T, n)``, frame ``t`` starting at ``t * step``) into
    ``(..., length)`` signals, without a loop over frames."""
    *lead, frames, n = f.shape
    lead = tuple(lead)
    if frames == 0 or n == 0:
        return xp.zeros(lead + (length,), dtype=f.dtype)
    shifts = -(-n // step)
    if shifts <= _OLA_SHIFTS_MAX:
        # cut every frame into blocks of ``step``: block j of frame t lands on block t + j
        if shifts * step != n:
            f = xp.concatenate([f, xp.zeros(lead + (frames, shifts * step - n), f.dtype)], -1)
        blocks = f.reshape(lead + (frames, shifts, step))
        out = xp.zeros(lead + (frames + shifts - 1, step), dtype=f.dtype)
        for j in range(shifts):
            out[..., j:j + frames, :] += blocks[..., j, :]
        out = out.reshape(lead + ((frames + shifts - 1) * step,))
        total = out.shape[-1]
        if total >= length:
            return out[..., :length]
        return xp.concatenate([out, xp.zeros(lead + (length - total,), f.dtype)], -1)
    # one scatter: sample k of frame t lands on t * step + k
    index = (xp.arange(frames)[:, None] * step + xp.arange(n)[None, :]).reshape(-1)
    rows = math.prod(lead)
    out = xp.zeros((length, rows), dtype=f.dtype)
    values = xp.ascontiguousarray(f.reshape(rows, frames * n).T)
    (kernels.get("index_add_at") or xp.add.at)(out, index, values)
    return xp.ascontiguousarray(out.T).reshape(lead + (length,))


class Frames(Function):
    """Frames of ``size`` samples every ``step`` along the last dim, as a new last dim
    (``(..., L)`` -> ``(..., T, size)``, a strided view); backward overlap-adds."""

    _is_view = True

    @staticmethod
    def forward(ctx, x, size, step):
        a = x._data
        length = a.shape[-1]
        ctx.meta = (length, step)
        frames = (length - size) // step + 1
        shape = a.shape[:-1] + (frames, size)
        strides = a.strides[:-1] + (a.strides[-1] * step, a.strides[-1])
        return x._device._xp.lib.stride_tricks.as_strided(a, shape, strides)

    @staticmethod
    def backward(ctx, g):
        length, step = ctx.meta
        return OverlapAdd.apply(g, step, length), None, None


class OverlapAdd(Function):
    """The sum of frames ``(..., T, n)`` placed every ``step`` samples in ``(..., length)``
    signals; backward cuts the gradient into frames."""

    @staticmethod
    def forward(ctx, f, step, length):
        ctx.meta = (f._data.shape[-1], step)
        return _overlap_add(f._device._xp, f._device._backend.kernels, f._data, step, length)

    @staticmethod
    def backward(ctx, g):
        n, step = ctx.meta
        return Frames.apply(g, n, step), None, None


# ------------------------------------------------------------------ stft / istft

_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_signal(op, x, left, right, mode):
    """Pad the last dim of ``x`` by ``left`` / ``right`` samples as ``nn.functional.pad``'s
    ``mode`` does."""
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"{op}: Unrecognised padding mode {mode!r} (expected one of "
                                  f"{', '.join(map(repr, _PAD_MODES))})")
    if left == 0 and right == 0:
        return x
    if mode == "constant":
        return sh.pad(x, (left, right))
    length = x._data.shape[-1]
    if mode == "reflect" and max(left, right) >= length:
        raise RuntimeError(f"{op}: reflect padding of ({left}, {right}) samples needs a signal "
                           f"longer than the padding, but the input has {length} samples "
                           f"(shape {tuple(x.shape)}): use a shorter n_fft, "
                           f"pad_mode='constant' or center=False")
    if mode == "circular" and max(left, right) > length:
        raise RuntimeError(f"{op}: circular padding of ({left}, {right}) samples needs at "
                           f"least as many samples, but the input has {length} (shape "
                           f"{tuple(x.shape)})")
    if mode == "replicate" and length == 0:
        raise RuntimeError(f"{op}: replicate padding needs a non-empty signal")
    last = x._data.ndim - 1
    lead = tuple(x._data.shape[:-1])
    if mode == "reflect":
        parts = [sh.flip(sh.narrow(x, last, 1, left), (last,)), x,
                 sh.flip(sh.narrow(x, last, length - 1 - right, right), (last,))]
    elif mode == "replicate":
        parts = [sh.expand(sh.narrow(x, last, 0, 1), *lead, left), x,
                 sh.expand(sh.narrow(x, last, length - 1, 1), *lead, right)]
    else:
        parts = [sh.narrow(x, last, length - left, left), x, sh.narrow(x, last, 0, right)]
    return sh.cat(parts, last)  # slices and flips: their gradients are slices too


def _call_repr(op, input, n_fft, hop_length, win_length, window, **rest):
    win = "None" if window is None else f"{window.dtype}{list(window.shape)}"
    extra = "".join(f", {k}={v}" for k, v in rest.items())
    return (f"{op}({input.dtype}{list(input.shape)}, n_fft={n_fft}, hop_length={hop_length}, "
            f"win_length={win_length}, window={win}{extra})")


def _centered_window(window, win_length, n_fft, like, dtype):
    """The window padded with zeros on both sides to ``n_fft`` (None: no window needed)."""
    if window is None:
        if win_length == n_fft:
            return None
        from flambeau._creation import ones

        window = ones(win_length, dtype=dtype, device=like.device)
    if win_length < n_fft:
        left = (n_fft - win_length) // 2
        window = sh.pad(window, (left, n_fft - win_length - left))
    return window


def _check_signal_and_window(op, input, window):
    """torch's checks of stft/istft's tensors: both tensors, on one device."""
    need_tensor(op, input)
    if window is not None:
        need_tensor(op, window, "window")
        if window._device is not input._device:
            raise RuntimeError(f"{op} input and window must be on the same device but got "
                               f"self on {input.device} and window on {window.device}")


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
         pad_mode="reflect", normalized=False, onesided=None, return_complex=None,
         align_to_window=None):
    r"""Short-time Fourier transform, as ``torch.stft``.

    Frame ``m`` holds ``input[m * hop_length : m * hop_length + n_fft]`` (after the centre
    padding), multiplied by ``window`` (zero-padded on both sides to ``n_fft`` when shorter);
    each frame's DFT is a column of the result:

    .. math:: X[\omega, m] = \sum_{k=0}^{n\_fft - 1} w[k]\, x[m \cdot hop + k]\,
              e^{-2\pi i \omega k / n\_fft}

    All frames are a strided view of the signal transformed by one FFT call; gradients flow
    to ``input`` and ``window`` (overlapping frames add theirs up).

    Parameters
    ----------
    input : Tensor
        ``(L,)`` or ``(B, L)`` signal, floating point or complex.
    n_fft : int
        Size of each frame's Fourier transform.
    hop_length : int, optional
        Samples between the starts of neighbouring frames (default ``n_fft // 4``).
    win_length : int, optional
        Length of ``window`` (default ``n_fft``), at most ``n_fft``.
    window : Tensor, optional
        1-D window of ``win_length`` samples (default: a rectangular window, with a warning,
        as PyTorch).
    center : bool
        Pad ``n_fft // 2`` samples on both sides so that frame ``m`` is centred at
        ``m * hop_length``.
    pad_mode : str
        How ``center`` pads: ``"reflect"`` (default), ``"constant"``, ``"replicate"`` or
        ``"circular"``.
    normalized : bool
        Multiply by ``n_fft ** -0.5`` (the ``"ortho"`` norm).
    onesided : bool, optional
        Return bins ``0, ..., n_fft // 2`` only (default: True for real input and window).
    return_complex : bool
        Required for real inputs, as in PyTorch: True gives a complex tensor, False (deprecated)
        a real one with a last dimension of 2 (real and imaginary parts).
    align_to_window : bool, optional
        With ``center=False``, pad ``(n_fft - win_length) // 2`` samples on both sides (with
        ``pad_mode``) so that frames start where their window starts.

    Returns
    -------
    Tensor
        ``(B?, N, T)`` complex, ``N = n_fft // 2 + 1`` when one-sided (else ``n_fft``) and
        ``T = 1 + (L' - n_fft) // hop_length`` frames of the padded length ``L'``.

    Raises
    ------
    RuntimeError
        If ``return_complex`` is missing for a real input, the input is not 1-D or 2-D or
        not floating point, ``n_fft``, ``hop_length``, ``win_length`` or the window's shape
        is invalid, or a one-sided result is asked of complex data.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.arange(8.0)
    >>> flambeau.stft(x, 4, hop_length=2, window=flambeau.ones(4), center=False,
    ...               return_complex=True)
    tensor([[ 6.+0.j, 14.+0.j, 22.+0.j],
            [-2.+2.j, -2.+2.j, -2.+2.j],
            [-2.+0.j, -2.+0.j, -2.+0.j]])
    >>> x = flambeau.randn(2, 1000, requires_grad=True)
    >>> spec = flambeau.stft(x, 256, window=flambeau.hann_window(256), return_complex=True)
    >>> spec.shape
    flambeau.Size([2, 129, 16])
    >>> spec.abs().sum().backward()
    >>> x.grad.shape
    flambeau.Size([2, 1000])
    """
    op = "stft"
    _check_signal_and_window(op, input, window)
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    hop = n_fft // 4 if hop_length is None else hop_length
    win_length_ = n_fft if win_length is None else win_length
    window_complex = window is not None and window._data.dtype.kind == "c"
    if return_complex is None:
        if not (input._data.dtype.kind == "c" or window_complex):
            raise RuntimeError(
                "stft requires the return_complex parameter be given for real inputs, and will "
                "further require that return_complex=True in a future release (as PyTorch): "
                "pass return_complex=True (torch.view_as_real gives the old real format)")
        return_complex = True
    elif not return_complex:
        warnings.warn("stft with return_complex=False is deprecated. In a future release, stft "
                      "will return complex tensors for all inputs, and return_complex=False "
                      "will raise an error. Note: you can still call flambeau.view_as_real on "
                      "the complex output to recover the old return format.", UserWarning,
                      stacklevel=2)
    if window is None:
        warnings.warn("A window was not provided. A rectangular window will be applied, which "
                      "is known to cause spectral leakage. Other windows such as "
                      "flambeau.hann_window or flambeau.hamming_window are recommended to "
                      "reduce spectral leakage. To suppress this warning and use a rectangular "
                      "window, explicitly set `window=flambeau.ones(n_fft, device=<device>)`.",
                      UserWarning, stacklevel=2)

    def fail(message):
        shown = _call_repr(op, input, n_fft, hop, win_length_, window, normalized=normalized,
                           onesided=onesided, return_complex=return_complex)
        return RuntimeError(f"{shown}: {message}")

    kind = input._data.dtype.kind
    if kind not in "fc" and input._data.dtype.name != "bfloat16":
        raise fail("expected a tensor of floating point or complex values")
    if input._data.dtype in LOW_PRECISION_NP:
        raise fail(f"FFTs do not support {input.dtype} (as PyTorch on the CPU): convert the "
                   f"input with .float()")
    if input._data.ndim not in (1, 2):
        raise fail(f"expected a 1D or 2D tensor, got {input._data.ndim}D")
    x = input if input._data.ndim == 2 else sh.unsqueeze(input, 0)
    if center:
        pad = n_fft // 2
        x = _pad_signal(op, x, pad, pad, pad_mode)
    length = x._data.shape[-1]
    if not 0 < n_fft <= length:
        raise fail(f"expected 0 < n_fft <= {length} (the{' padded' if center else ''} signal "
                   f"length), but got n_fft={n_fft}")
    if hop <= 0:
        raise fail(f"expected hop_length > 0, but got hop_length={hop}")
    if not 0 < win_length_ <= n_fft:
        raise fail(f"expected 0 < win_length <= n_fft, but got win_length={win_length_}")
    if window is not None and (window._data.ndim != 1 or window._data.shape[0] != win_length_):
        raise fail(f"expected a 1D window tensor of size equal to win_length={win_length_}, "
                   f"but got window with size {list(window.shape)}")
    window_ = _centered_window(window, win_length_, n_fft, x, x.dtype)
    if not center and align_to_window:
        side = (n_fft - win_length_) // 2
        x = _pad_signal(op, x, side, side, pad_mode)

    frames = Frames.apply(x, n_fft, hop)  # (B, T, n_fft), a strided view
    if window_ is not None:
        frames = ew.mul(frames, window_)
    complex_fft = frames._data.dtype.kind == "c"
    onesided = not complex_fft if onesided is None else onesided
    norm = "ortho" if normalized else "backward"
    if onesided:
        if complex_fft:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        out = FftR2C.apply(frames, (2,), norm)
    else:
        out = FftC2C.apply(frames, (2,), norm, True)
    out = sh.transpose(out, 1, 2)
    if input._data.ndim == 1:
        out = sh.squeeze(out, 0)
    if return_complex:
        return out
    from flambeau._ops.complex import view_as_real

    return view_as_real(out)


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
          normalized=False, onesided=None, length=None, return_complex=False):
    """Inverse short-time Fourier transform, as ``torch.istft``: the least-squares signal
    whose :func:`stft` is ``input`` (Griffin and Lim's overlap-add).

    Each column's inverse DFT is multiplied by the window, the frames are overlap-added (one
    vectorized add, no loop over frames), and the sum is divided by the overlap-add of the
    squared window. That envelope must be nonzero wherever the result has samples (the NOLA
    condition), or the call raises. Gradients flow to ``input`` and ``window``.

    Parameters
    ----------
    input : Tensor
        ``(N, T)`` or ``(B, N, T)`` complex spectrogram, as :func:`stft` returns it.
    n_fft, hop_length, win_length, window, center, normalized
        As given to :func:`stft` (``window`` defaults to a rectangular window, with a
        warning).
    onesided : bool, optional
        Whether ``input`` has bins ``0, ..., n_fft // 2`` only (default: ``N != n_fft``).
    length : int, optional
        Length of the result: the signal is trimmed, or zero-padded with a warning (default
        ``(T - 1) * hop_length`` when centred, ``n_fft + (T - 1) * hop_length`` otherwise).
    return_complex : bool
        Return a complex signal (needs a two-sided ``input``); default False: a real one.

    Returns
    -------
    Tensor
        ``(B?, length)`` signal, real unless ``return_complex``.

    Raises
    ------
    RuntimeError
        If ``input`` is not complex or not 2-D/3-D, its frequency size does not match
        ``n_fft`` and ``onesided``, ``hop_length``, ``win_length`` or the window's shape is
        invalid, or the window overlap-add is zero somewhere (NOLA).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.randn(3, 500)
    >>> w = flambeau.hann_window(128)
    >>> spec = flambeau.stft(x, 128, hop_length=32, window=w, return_complex=True)
    >>> y = flambeau.istft(spec, 128, hop_length=32, window=w, length=500)
    >>> y.shape, bool((y - x).abs().max() < 1e-5)
    (flambeau.Size([3, 500]), True)
    """
    op = "istft"
    _check_signal_and_window(op, input, window)
    hop = n_fft // 4 if hop_length is None else hop_length
    win_length_ = n_fft if win_length is None else win_length
    if input._data.dtype.kind != "c":
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           f"from stft with return_complex=True (got {input.dtype} of shape "
                           f"{tuple(input.shape)}; flambeau.view_as_complex converts the old "
                           "real format).")

    def fail(message):
        shown = _call_repr(op, input, n_fft, hop, win_length_, window, center=center,
                           normalized=normalized, onesided=onesided, length=length,
                           return_complex=return_complex)
        return RuntimeError(f"{shown}: {message}")

    if input._data.ndim not in (2, 3):
        raise fail(f"expected a tensor with 2 or 3 dimensions ((n_freq, n_frames) or "
                   f"(batch, n_freq, n_frames)), but got {input._data.ndim}")
    n_frames, fft_size = input._data.shape[-1], input._data.shape[-2]
    expected_len = n_fft + hop * (n_frames - 1)
    if input._data.size == 0:
        raise fail("input tensor cannot be empty.")
    onesided_ = fft_size != n_fft if onesided is None else onesided
    if onesided_ and n_fft // 2 + 1 != fft_size:
        raise fail(f"expected the frequency dimension (2nd to the last) of the input tensor to "
                   f"match n_fft / 2 + 1 = {n_fft // 2 + 1} when onesided=True, but got "
                   f"{fft_size}")
    if not onesided_ and n_fft != fft_size:
        raise fail(f"expected the frequency dimension (2nd to the last) of the input tensor to "
                   f"match n_fft = {n_fft} when onesided=False, but got {fft_size}")
    if not 0 < hop <= win_length_:
        raise fail(f"expected 0 < hop_length <= win_length, but got hop_length={hop}")
    if not 0 < win_length_ <= n_fft:
        raise fail(f"expected 0 < win_length <= n_fft, but got win_length={win_length_}")
    if window is not None and (window._data.ndim != 1 or window._data.shape[0] != win_length_):
        raise fail(f"Invalid window shape. window has to be 1D and length of `win_length` "
                   f"({win_length_}), but got shape {list(window.shape)}")
    if length is not None and length <= 0:
        raise fail(f"expected length > 0, but got length={length}")
    if window is None:
        warnings.warn("A window was not provided. A rectangular window will be applied. Please "
                      "provide the same window used by stft to make the inversion lossless. To "
                      "suppress this warning and use a rectangular window, explicitly set "
                      "`window=flambeau.ones(n_fft, device=<device>)`.", UserWarning,
                      stacklevel=2)
        from flambeau._creation import ones

        window = ones(win_length_, dtype=input.dtype.to_real(), device=input.device)
    window_ = _centered_window(window, win_length_, n_fft, input, None)

    spec = input if input._data.ndim == 3 else sh.unsqueeze(input, 0)
    spec = sh.transpose(spec, 1, 2)  # (B, T, N)
    norm = "ortho" if normalized else "backward"
    if return_complex:
        if onesided_:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        frames = FftC2C.apply(spec, (2,), norm, False)
    else:
        if window_._data.dtype.kind == "c":
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        if not onesided_:
            spec = sh.narrow(spec, 2, 0, n_fft // 2 + 1)
        frames = FftC2R.apply(spec, (2,), norm, n_fft)

    y = OverlapAdd.apply(ew.mul(frames, window_), hop, expected_len)  # (B, expected_len)
    square = ew.mul(window_, window_)  # PyTorch's window.pow(2), for complex windows too
    envelope = OverlapAdd.apply(sh.expand(square, n_frames, n_fft), hop, expected_len)

    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = expected_len - n_fft // 2
    else:
        end = expected_len
    stop = min(end, expected_len)
    y = sh.narrow(y, 1, start, max(stop - start, 0))
    envelope = sh.narrow(envelope, 0, start, max(stop - start, 0))
    if bool((envelope._device._xp.abs(envelope._data) < 1e-11).any()):
        raise fail("window overlap add min < 1e-11: the squared windows sum to zero at some "
                   "output samples, so the signal cannot be recovered there (the NOLA "
                   "condition fails). Use a window and hop_length whose squared windows "
                   "overlap everywhere (a periodic Hann window with hop_length <= n_fft // 2 "
                   "does), or center=True")
    y = ew.div(y, envelope)
    if input._data.ndim == 2:
        y = sh.squeeze(y, 0)
    if end > expected_len:
        warnings.warn("The length of signal is shorter than the length parameter. Result is "
                      "being padded with zeros in the tail. Please check your center and "
                      "hop_length settings.", UserWarning, stacklevel=2)
        y = sh.pad(y, (0, end - expected_len))
    return y


TENSOR_METHODS = {"stft": stft, "istft": istft}
