"""flambeau-cuda: GPU training steps against PyTorch CUDA on the same GPU.

Rows: ResNet-18 training (batch 128, 3x32x32 and 3x224x224; images/s as time per step, torch
with ``cudnn.benchmark``), the MLP 784-256-10 and LSTM steps of the flambeau-nn benchmarks,
and a Transformer encoder layer (d_model 512, 8 heads, seq 256, batch 32) forward+backward
with and without float16 autocast. Each step ends with a device synchronize, so the time is
the GPU's. Without a CUDA device (or without flambeau-cuda) every row is reported with no
timings and the target "skipped: no CUDA device".
"""

from __future__ import annotations

import numpy as np
from _timing import best_of

RESNET_BATCH = 128
MLP_BATCH, LSTM = 128, (35, 32, 32, 128)  # seq, batch, input, hidden
TRANSFORMER = (512, 8, 256, 32)  # d_model, heads, seq, batch

ROWS = [
    ("cuda: ResNet-18 train step, batch 128, 3x32x32", ">= 0.7x torch (cudnn.benchmark)"),
    ("cuda: ResNet-18 train step, batch 128, 3x224x224", ">= 0.7x torch (cudnn.benchmark)"),
    ("cuda: MLP 784-256-10 fwd+bwd+SGD (batch 128)", "per-step vs torch"),
    ("cuda: LSTM fwd+bwd (input 32, hidden 128, seq 35, batch 32)", "per-step vs torch"),
    ("cuda: Transformer encoder layer fwd+bwd (512, 8 heads, seq 256, batch 32)",
     "vs torch"),
    ("cuda: Transformer encoder layer fwd+bwd, float16 autocast", "vs torch"),
]


def _sync(mod):
    mod.cuda.synchronize()


def _resnet_step(mod, models, size):
    """One SGD training step of ResNet-18 on random images of ``size`` pixels."""
    mod.manual_seed(0)
    model = models.resnet18(num_classes=10).to("cuda")
    opt = mod.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = mod.tensor(rng.standard_normal((RESNET_BATCH, 3, size, size), dtype=np.float32))
    x = x.to("cuda")
    y = mod.tensor(rng.integers(0, 10, RESNET_BATCH)).to("cuda")

    def run():
        opt.zero_grad()
        mod.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        _sync(mod)

    return run


def _mlp_step(mod):
    nn = mod.nn
    mod.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)).to("cuda")
    opt = mod.optim.SGD(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    x = mod.tensor(rng.standard_normal((MLP_BATCH, 784), dtype=np.float32)).to("cuda")
    y = mod.tensor(rng.integers(0, 10, MLP_BATCH)).to("cuda")

    def run():
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        _sync(mod)

    return run


def _lstm_step(mod):
    seq, batch, inp, hidden = LSTM
    mod.manual_seed(0)
    lstm = mod.nn.LSTM(inp, hidden).to("cuda")
    rng = np.random.default_rng(0)
    x = mod.tensor(rng.standard_normal((seq, batch, inp), dtype=np.float32)).to("cuda")

    def run():
        for p in lstm.parameters():
            p.grad = None
        out, _ = lstm(x)
        out.sum().backward()
        _sync(mod)

    return run


def _transformer_step(mod, autocast):
    d, heads, seq, batch = TRANSFORMER
    mod.manual_seed(0)
    layer = mod.nn.TransformerEncoderLayer(d, heads, dim_feedforward=4 * d, dropout=0.0,
                                           batch_first=True).to("cuda")
    rng = np.random.default_rng(0)
    x = mod.tensor(rng.standard_normal((batch, seq, d), dtype=np.float32)).to("cuda")

    def run():
        for p in layer.parameters():
            p.grad = None
        if autocast:
            with mod.autocast("cuda", dtype=mod.float16):
                out = layer(x)
        else:
            out = layer(x)
        out.float().sum().backward()
        _sync(mod)

    return run


def _skipped(reason="skipped: no CUDA device"):
    return [{"name": name, "flambeau_s": None, "torch_s": None, "target": reason}
            for name, _ in ROWS]


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    torch.backends.cudnn.benchmark = True
    import torch.optim  # noqa: F401 - the submodule the steps use
    import torchvision.models  # noqa: F401 - may be missing: handled by the caller

    return torch


def run():
    import flambeau

    if not flambeau.cuda.is_available():
        return _skipped()
    import flambeau.nn  # noqa: F401 - subpackages, imported for their side effect on flambeau
    import flambeau.optim  # noqa: F401
    from flambeau.vision import models as our_models

    try:
        torch = _torch_cuda()
    except ImportError:
        torch = None
    their_models = None
    if torch is not None:
        import torchvision.models as their_models
    # best of many steps: the host-bound steps vary by up to 2x from one to the next (for
    # torch too; session 13 saw ResNet-18 ratios of 0.56 to 0.82 between runs of best-of-3)
    steps = [
        (lambda m, ms: _resnet_step(m, ms, 32), 20),
        (lambda m, ms: _resnet_step(m, ms, 224), 10),
        (lambda m, ms: _mlp_step(m), 50),
        (lambda m, ms: _lstm_step(m), 20),
        (lambda m, ms: _transformer_step(m, False), 10),
        (lambda m, ms: _transformer_step(m, True), 10),
    ]
    rows = []
    for (name, target), (make, repeat) in zip(ROWS, steps, strict=True):
        ours = best_of(make(flambeau, our_models), repeat=repeat, warmup=2)
        theirs = best_of(make(torch, their_models), repeat=repeat, warmup=2) if torch else None
        rows.append({"name": f"{name} [{flambeau.cuda.get_device_name(0)}]",
                     "flambeau_s": ours, "torch_s": theirs, "target": target})
    return rows
