"""Per-layer GPU times of ResNet-18 against torch (run on the GPU machine, prints a table).

python .ci/gpu/layer_times.py [SIZE]: records every leaf module's input shape in one forward
pass of ResNet-18 (batch 128, SIZExSIZE images, default 224), then times each distinct
(layer, input shape) alone, forward and forward+backward, on flambeau and on torch, and the
parts of one training step (forward, backward, optimizer), so that what is slow shows.
"""

import copy
import sys
import time

import numpy as np
import torch
import torchvision.models as their_models

import flambeau
import flambeau.nn  # noqa: F401
import flambeau.optim  # noqa: F401
from flambeau.vision import models as our_models

SIZE = int(sys.argv[1]) if len(sys.argv) > 1 else 224
BATCH = 128
torch.backends.cudnn.benchmark = True


def gpu_ms(mod, fn, n=10):
    """Median wall time of fn() in ms, synchronized."""
    fn()
    mod.cuda.synchronize()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        mod.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return 1e3 * float(np.median(times))


def leaves(model):
    return [(n, m) for n, m in model.named_modules() if not list(m.children())]


def input_shapes(mod, model, x):
    shapes = {}
    def record(name):
        def hook(module, args, out):
            shapes.setdefault(name, tuple(args[0].shape))
        return hook

    hooks = [m.register_forward_hook(record(name)) for name, m in leaves(model)]
    model(x)
    for h in hooks:
        h.remove()
    return shapes


def layer_time(mod, layer, shape):
    if getattr(layer, "inplace", False):  # a leaf cannot be written in place
        layer = copy.copy(layer)
        layer.inplace = False
    x = mod.randn(*shape, device="cuda", requires_grad=True)
    y = layer(x)
    g = mod.ones_like(y)
    fwd = gpu_ms(mod, lambda: layer(x))
    both = gpu_ms(mod, lambda: layer(x).backward(g))
    return fwd, both


def main():
    ours = our_models.resnet18(num_classes=10).to("cuda")
    theirs = their_models.resnet18(num_classes=10).to("cuda")
    rng = np.random.default_rng(0)
    xn = rng.standard_normal((BATCH, 3, SIZE, SIZE), dtype=np.float32)
    shapes = input_shapes(flambeau, ours, flambeau.tensor(xn).to("cuda"))
    their_leaves = dict(leaves(theirs))
    seen = {}
    print(f"### ResNet-18 leaves, batch {BATCH}, {SIZE}x{SIZE} (ms; fwd, fwd+bwd)")
    print("| layer | input | count | ours fwd | torch fwd | ours f+b | torch f+b |")
    print("|---|---|---|---|---|---|---|")
    for name, layer in leaves(ours):
        if name not in shapes:
            continue
        key = (repr(layer), shapes[name])
        if key in seen:
            seen[key][1] += 1
            continue
        seen[key] = [name, 1]
    totals = [0.0, 0.0, 0.0, 0.0]
    for (desc, shape), (name, count) in seen.items():
        a = layer_time(flambeau, dict(leaves(ours))[name], shape)
        b = layer_time(torch, their_leaves[name], shape)
        for i, v in enumerate((a[0], b[0], a[1], b[1])):
            totals[i] += v * count
        print(f"| {desc[:40]} | {shape} | {count} | {a[0]:.3f} | {b[0]:.3f} | {a[1]:.3f} "
              f"| {b[1]:.3f} |")
    print("| **all, times count** | | | " + " | ".join(f"{t:.2f}" for t in totals) + " |")

    for mod, model in ((flambeau, ours), (torch, theirs)):
        x = mod.tensor(xn).to("cuda")
        y = mod.tensor(rng.integers(0, 10, BATCH)).to("cuda")
        opt = mod.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = mod.nn.functional.cross_entropy
        fwd = gpu_ms(mod, lambda: loss_fn(model(x), y))
        fb = gpu_ms(mod, lambda: loss_fn(model(x), y).backward())
        step = gpu_ms(mod, opt.step)
        zero = gpu_ms(mod, opt.zero_grad)
        print(f"{mod.__name__}: forward {fwd:.2f} ms, forward+backward {fb:.2f} ms, "
              f"SGD step {step:.2f} ms, zero_grad {zero:.3f} ms")


main()
