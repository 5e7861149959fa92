"""Host cost per op on CUDA: flambeau against raw CuPy and torch (run on the GPU machine).

python .ci/gpu/host_costs.py [OUTDIR]: microseconds to queue one small op (no synchronize
inside the loop), then a cProfile of the ResNet-18 32x32 training step sorted by internal and
by cumulative time, so that the Python cost per recorded op shows where it goes.
"""

import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

import cupy
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_cuda  # noqa: E402

import flambeau  # noqa: E402
import flambeau.nn  # noqa: E402
import flambeau.optim  # noqa: E402, F401
from flambeau.vision import models  # noqa: E402

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else None
if OUT:
    OUT.mkdir(parents=True, exist_ok=True)


def per_call_us(fn, sync, n=2000):
    for _ in range(50):
        fn()
    sync()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    sync()
    return (time.perf_counter() - t) / n * 1e6


def host_costs():
    fx = flambeau.randn(64, 64, device="cuda")
    fw = flambeau.randn(64, 64, device="cuda", requires_grad=True)
    cx, tx = cupy.asarray(fx._data), torch.randn(64, 64, device="cuda")
    tw = torch.randn(64, 64, device="cuda", requires_grad=True)
    f4 = flambeau.randn(8, 16, 8, 8, device="cuda")
    t4 = torch.randn(8, 16, 8, 8, device="cuda")
    fsync, tsync = flambeau.cuda.synchronize, torch.cuda.synchronize
    fbn, tbn = flambeau.nn.BatchNorm2d(16).cuda(), torch.nn.BatchNorm2d(16).cuda()
    fconv = flambeau.nn.Conv2d(16, 16, 3, padding=1).cuda()
    tconv = torch.nn.Conv2d(16, 16, 3, padding=1).cuda()
    rows = [
        ("x + x", lambda: fx + fx, lambda: cx + cx, lambda: tx + tx),
        ("x.relu()", lambda: fx.relu(), lambda: cupy.maximum(cx, 0), lambda: tx.relu()),
        ("x * w (w requires grad)", lambda: fx * fw, None, lambda: tx * tw),
        ("x @ w (w requires grad)", lambda: fx @ fw, lambda: cx @ cx, lambda: tx @ tw),
        ("x.sum()", lambda: fx.sum(), lambda: cx.sum(), lambda: tx.sum()),
        ("empty(64, 64)", lambda: flambeau.empty(64, 64, device="cuda"),
         lambda: cupy.empty((64, 64), "float32"), lambda: torch.empty(64, 64, device="cuda")),
        ("BatchNorm2d(16) train", lambda: fbn(f4), None, lambda: tbn(t4)),
        ("Conv2d(16, 16, 3)", lambda: fconv(f4), None, lambda: tconv(t4)),
    ]
    print("### host microseconds per call (queue only)")
    print("| op | flambeau | cupy | torch |")
    print("|---|---|---|---|")
    for name, f, c, t in rows:
        fu = per_call_us(f, fsync)
        cu = per_call_us(c, fsync) if c else float("nan")
        tu = per_call_us(t, tsync)
        print(f"| {name} | {fu:.1f} | {cu:.1f} | {tu:.1f} |")


def profile_resnet():
    step = bench_cuda._resnet_step(flambeau, models, 32)
    real_sync = flambeau.cuda.synchronize
    for _ in range(3):
        step()
    flambeau.cuda.synchronize = lambda *a: None
    try:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(5):
            step()
        prof.disable()
    finally:
        flambeau.cuda.synchronize = real_sync
    real_sync()
    for key, n in (("tottime", 70), ("cumulative", 70)):
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats(key).print_stats(n)
        text = s.getvalue()
        print(f"### resnet32 x5 by {key}")
        print("\n".join(ln[:170] for ln in text.splitlines() if ln.strip()))
        if OUT:
            (OUT / f"resnet32-{key}.txt").write_text(text)


host_costs()
profile_resnet()
