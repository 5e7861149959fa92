"""ResNet-18's convolutions on cuDNN (cudnn-frontend graphs) against im2col + cuBLAS.

Run on the GPU machine after ``on_device cudnn`` installed cudnn-frontend (that step runs
this script). For each layer shape of ResNet-18 at batch 128 (224x224 and 32x32 inputs),
float32 (TF32 allowed, torch's default for convolutions) and float16, it times the forward,
input-gradient and weight-gradient kernels of both paths with CUDA events (median of 20
after 5 warm-ups), checks they agree, and prints the ratio im2col / cuDNN (above 1: cuDNN is
faster). Then the host cost of one call of each path on a tiny shape (what a Python-bound
step pays per convolution), and the ResNet-18 training step of ``benchmarks/bench_cuda.py``
with ``flambeau.backends.cudnn.enabled`` on and off. Graphs cuDNN declined are listed last.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from pathlib import Path

import cupy
import numpy as np

import flambeau.backends.cudnn as switches
from flambeau_cuda._kernels import _conv, _cudnn

BATCH = 128
def resnet18_layers(size):
    """ResNet-18's distinct convolutions for ``size`` px inputs, as (name, in channels, in
    size, out channels, kernel, stride, padding, how many in the net)."""
    layers = [(f"stem 7x7/2 3->64 @{size}", 3, size, 64, 7, 2, 3, 1)]
    at = size // 4  # after the stem and the max pool
    layers.append((f"3x3 64 @{at}", 64, at, 64, 3, 1, 1, 4))
    for c in (64, 128, 256):  # the first block of the next stage halves the size
        layers += [(f"3x3/2 {c}->{2 * c} @{at}", c, at, 2 * c, 3, 2, 1, 1),
                   (f"1x1/2 {c}->{2 * c} @{at}", c, at, 2 * c, 1, 2, 0, 1)]
        at = (at + 1) // 2
        layers.append((f"3x3 {2 * c} @{at}", 2 * c, at, 2 * c, 3, 1, 1, 3))
    return layers


OPS = ("fwd", "dgrad", "wgrad")


def gpu_time(fn, warmup=5, repeat=20):
    """Median milliseconds of ``fn()`` on the GPU, by CUDA events."""
    for _ in range(warmup):
        fn()
    start, end = cupy.cuda.Event(), cupy.cuda.Event()
    times = []
    for _ in range(repeat):
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, end))
    return statistics.median(times)


def calls(layer, dtype):
    """``{op: (im2col call, cuDNN call)}`` for one layer, on random operands."""
    _, c, size, k, r, s, p, _ = layer
    rng = cupy.random.default_rng(0)
    x = rng.standard_normal((BATCH, c, size, size), dtype="float32").astype(dtype)
    w = (rng.standard_normal((k, c, r, r), dtype="float32") / (c * r * r) ** 0.5).astype(dtype)
    geo = ((s, s), ((p, p), (p, p)), (1, 1), 1)
    out = (size + 2 * p - r) // s + 1
    g = rng.standard_normal((BATCH, k, out, out), dtype="float32").astype(dtype)
    args = {"fwd": (x, w, *geo), "dgrad": (g, w, x.shape, *geo), "wgrad": (x, g, w.shape, *geo)}
    names = {"fwd": "conv2d", "dgrad": "conv2d_backward_input",
             "wgrad": "conv2d_backward_weight"}
    return {op: tuple((lambda f=getattr(mod, names[op]), a=args[op]: f(*a))
                      for mod in (_conv, _cudnn)) for op in OPS}


def agreement(ours, theirs):
    """Largest difference relative to the largest magnitude (float32 accumulation)."""
    a, b = ours.astype("float32"), theirs.astype("float32")
    return float(cupy.abs(a - b).max() / max(float(cupy.abs(a).max()), 1e-30))


def layer_table(layers, dtype):
    print(f"\n### {dtype}, batch {BATCH} (ms, median of 20; ratio = im2col / cuDNN)\n")
    print("| layer | op | im2col | cuDNN | ratio | rel. diff |")
    print("|---|---|---|---|---|---|")
    totals = [0.0, 0.0]
    for layer in layers:
        for op, (im2col, cudnn_call) in calls(layer, dtype).items():
            try:
                theirs = cudnn_call()
            except Exception as exc:  # a failure is a finding: report it and go on
                print(f"| {layer[0]} | {op} | | | | cuDNN raised {type(exc).__name__}: {exc} |")
                continue
            if theirs is None:
                print(f"| {layer[0]} | {op} | | declined | | |")
                continue
            diff = agreement(im2col(), theirs)
            a, b = gpu_time(im2col), gpu_time(cudnn_call)
            totals[0] += a * layer[-1]
            totals[1] += b * layer[-1]
            print(f"| {layer[0]} | {op} | {a:.3f} | {b:.3f} | {a / b:.2f} | {diff:.1e} |")
    if totals[1]:
        print(f"| **all, weighted by count in the net** | | {totals[0]:.2f} | {totals[1]:.2f} "
              f"| {totals[0] / totals[1]:.2f} | |")


def host_cost():
    """Microseconds of host time per call on a tiny convolution (the GPU is never the limit):
    im2col, cuDNN as launched by default (``_cudnn.launch_path()``), and cuDNN through the
    frontend's Python ``execute``."""
    x = cupy.ones((2, 8, 8, 8), "float32")
    w = cupy.ones((8, 8, 3, 3), "float32")
    geo = ((1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    print("\n### host time per forward call, 2x8x8x8 input (us)\n")
    rows = (("im2col", _conv.conv2d, contextlib.nullcontext),
            (f"cuDNN, {_cudnn.launch_path()}", _cudnn.conv2d, contextlib.nullcontext),
            ("cuDNN, execute", _cudnn.conv2d, _through_execute))
    for name, fn, context in rows:
        with context():
            if fn(x, w, *geo) is None:
                print(f"- {name}: declined")
                continue
            cupy.cuda.Device().synchronize()
            start = time.perf_counter()
            for _ in range(500):
                fn(x, w, *geo)
            host = (time.perf_counter() - start) / 500 * 1e6
            cupy.cuda.Device().synchronize()
        print(f"- {name}: {host:.1f}")


@contextlib.contextmanager
def _through_execute():
    """Every cached and new graph launched through the frontend's ``execute``."""
    kept = {key: plan.raw for key, plan in _cudnn._plans.items() if plan is not None}
    saved, _cudnn._raw_launch[0] = _cudnn._raw_launch[0], "measuring execute"
    for key in kept:
        _cudnn._plans[key].raw = False
    try:
        yield
    finally:
        _cudnn._raw_launch[0] = saved
        for key, raw in kept.items():
            _cudnn._plans[key].raw = raw


def resnet_steps():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import bench_cuda
    from _timing import best_of

    import flambeau.nn  # noqa: F401 - subpackages the step uses
    import flambeau.optim  # noqa: F401
    from flambeau.vision import models

    print("\n### ResNet-18 train step, batch 128 (ms, best of 3)\n")
    print("| input | im2col | cuDNN | ratio |")
    print("|---|---|---|---|")
    for size in (32, 224):
        times = []
        for enabled in (False, True):
            switches.enabled = enabled
            times.append(best_of(bench_cuda._resnet_step(flambeau, models, size), repeat=3,
                                 warmup=2) * 1e3)
        print(f"| {size}x{size} | {times[0]:.1f} | {times[1]:.1f} | {times[0] / times[1]:.2f} |")
    switches.enabled = True


def main():
    print(f"{cupy.cuda.runtime.getDeviceProperties(0)['name'].decode()}, cuDNN "
          f"{_cudnn.version()}, cupy {cupy.__version__}, numpy {np.__version__}")
    if _cudnn.version() is None:
        print("cudnn-frontend or libcudnn is missing: nothing to compare")
        return 1
    for dtype in ("float32", "float16"):
        layer_table(resnet18_layers(224) + resnet18_layers(32), dtype)
    host_cost()
    resnet_steps()
    print("\n### graphs cuDNN declined\n")
    for key, why in _cudnn.declined().items():
        print(f"- {key}: {why[:300]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
