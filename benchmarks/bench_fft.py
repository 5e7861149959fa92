"""flambeau.fft and stft: forward + backward of a batch of signals, against PyTorch.

* ``fft`` / ``rfft`` of a (64, 4096) float32 tensor, loss ``out.abs().sum()``;
* ``stft`` of a (8, 16000) float32 signal (one second at 16 kHz), ``n_fft=400``, hop 100,
  Hann window, loss ``spec.abs().sum()``; and ``istft`` back, loss ``y.sum()``.

Each framework is timed in fresh processes of its own (``versus_torch``).
"""

from __future__ import annotations

import importlib

import numpy as np
from _timing import best_of, versus_torch

TARGET = "track (one FFT call per op; backward is one FFT as well)"


def _signal(shape):
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def _fft(mod, name):
    x = mod.tensor(_signal((64, 4096)), requires_grad=True)
    fn = getattr(mod.fft, name)

    def run():
        x.grad = None
        fn(x).abs().sum().backward()

    return run


def _stft(mod):
    x = mod.tensor(_signal((8, 16000)), requires_grad=True)
    window = mod.hann_window(400)

    def run():
        x.grad = None
        spec = mod.stft(x, 400, hop_length=100, window=window, return_complex=True)
        spec.abs().sum().backward()

    return run


def _istft(mod):
    window = mod.hann_window(400)
    spec = mod.stft(mod.tensor(_signal((8, 16000))), 400, hop_length=100, window=window,
                    return_complex=True).detach().requires_grad_()

    def run():
        spec.grad = None
        mod.istft(spec, 400, hop_length=100, window=window, length=16000).sum().backward()

    return run


def measure(framework: str, case: str) -> float:
    """Best time of one forward + backward of ``case`` with ``framework``."""
    mod = importlib.import_module(framework)
    if case in ("fft", "rfft"):
        return best_of(_fft(mod, case), repeat=10, warmup=2)
    if case == "stft":
        return best_of(_stft(mod), repeat=10, warmup=2)
    return best_of(_istft(mod), repeat=10, warmup=2)


def run() -> list[dict]:
    cases = [
        ("fft", "fft.fft (64, 4096) f32, fwd+bwd of abs().sum()"),
        ("rfft", "fft.rfft (64, 4096) f32, fwd+bwd of abs().sum()"),
        ("stft", "stft (8, 16000) f32, n_fft=400 hop=100 hann, fwd+bwd"),
        ("istft", "istft of that stft, length=16000, fwd+bwd"),
    ]
    return [versus_torch("bench_fft", label, TARGET, repr(case)) for case, label in cases]
