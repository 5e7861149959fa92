"""Where the time of the CUDA benchmarks goes (run on the GPU machine, prints a report).

python .ci/gpu/profile.py [OUTDIR]: for each training step of benchmarks/bench_cuda.py, the
wall time per step with a synchronize, the host time to queue one step (no synchronize: when it
is close to the wall time the step is bound by Python, not by the GPU), and the top functions
of a cProfile of a few steps. Then per-layer GPU times of ResNet-18's convolutions at 224x224
against torch.
"""

import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_cuda  # noqa: E402

import flambeau  # noqa: E402
import flambeau.nn  # noqa: E402, F401
import flambeau.optim  # noqa: E402, F401
from flambeau.vision import models  # noqa: E402

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else None
if OUT:
    OUT.mkdir(parents=True, exist_ok=True)


def timed(step, n=10):
    step()
    flambeau.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(n):
        step()
    flambeau.cuda.synchronize()
    return (time.perf_counter() - t) / n


def report(name, make):
    step = make()
    wall = timed(step)
    # queue time: the bench steps end with a synchronize; strip it by timing the step with
    # flambeau.cuda.synchronize replaced by a no-op
    real_sync = flambeau.cuda.synchronize
    flambeau.cuda.synchronize = lambda *a: None
    try:
        step()
        real_sync()
        t = time.perf_counter()
        for _ in range(5):
            step()
        queue = (time.perf_counter() - t) / 5
        real_sync()
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(3):
            step()
        prof.disable()
        real_sync()
    finally:
        flambeau.cuda.synchronize = real_sync
    s = io.StringIO()
    pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(22)
    text = s.getvalue()
    print(f"### {name}: wall {wall * 1e3:.2f} ms/step, host queue {queue * 1e3:.2f} ms/step")
    lines = [ln for ln in text.splitlines() if ln.strip()][4:30]
    print("\n".join(ln[:160] for ln in lines))
    if OUT:
        (OUT / f"profile-{name}.txt").write_text(text)


report("resnet32", lambda: bench_cuda._resnet_step(flambeau, models, 32))
report("mlp", lambda: bench_cuda._mlp_step(flambeau))
report("lstm", lambda: bench_cuda._lstm_step(flambeau))
report("transformer", lambda: bench_cuda._transformer_step(flambeau, False))

# GPU time of conv forward + backward at ResNet-18's 224x224 shapes (batch 128), vs torch
import torch  # noqa: E402

torch.backends.cudnn.benchmark = True
shapes = [(3, 64, 224, 7, 2, 3), (64, 64, 56, 3, 1, 1), (64, 128, 56, 3, 2, 1),
          (128, 128, 28, 3, 1, 1), (256, 256, 14, 3, 1, 1), (512, 512, 7, 3, 1, 1),
          (256, 512, 14, 1, 2, 0)]
print("### conv fwd+bwd, batch 128: flambeau ms / torch ms")
for cin, cout, hw, k, s, p in shapes:
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((128, cin, hw, hw), dtype=np.float32)
    ws = rng.standard_normal((cout, cin, k, k), dtype=np.float32) * 0.05
    row = []
    for lib in (flambeau, torch):
        x = lib.tensor(xs).to("cuda").requires_grad_()
        w = lib.tensor(ws).to("cuda").requires_grad_()
        F = lib.nn.functional

        def step():
            y = F.conv2d(x, w, stride=s, padding=p)
            y.backward(y)
            x.grad = None
            w.grad = None

        step()
        lib.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(5):
            step()
        lib.cuda.synchronize()
        row.append((time.perf_counter() - t) / 5 * 1e3)
    print(f"conv {cin}->{cout} {hw}x{hw} k{k} s{s}: {row[0]:.2f} / {row[1]:.2f}")
