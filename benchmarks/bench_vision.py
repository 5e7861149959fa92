"""Training throughput (images/s) of LeNet on 1x28x28, ResNet-18 and MobileNetV2 on 3x32x32,
batch 64.

flambeau runs flambeau.vision's models; PyTorch runs the same module trees written here with
torch.nn. One training step = forward, cross-entropy, backward, SGD (momentum) update. Both
use one BLAS/intra-op thread, so that the ratio compares the frameworks rather than how two
thread pools fare on a shared machine.
"""

from __future__ import annotations

from _timing import best_of

BATCH = 64


def _torch_lenet(torch):
    tnn = torch.nn
    return tnn.Sequential(
        tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2), tnn.AdaptiveAvgPool2d((5, 5)),
        tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(),
        tnn.Linear(84, 10))


def _torch_resnet18(torch):
    tnn = torch.nn

    class Block(tnn.Module):
        def __init__(self, inplanes, planes, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.relu = tnn.ReLU(inplace=True)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = tnn.Sequential(
                    tnn.Conv2d(inplanes, planes, 1, stride, bias=False), tnn.BatchNorm2d(planes))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    layers, inplanes = [], 64
    for i, width in enumerate((64, 128, 256, 512)):
        layers.append(tnn.Sequential(Block(inplanes, width, 1 if i == 0 else 2),
                                     Block(width, width, 1)))
        inplanes = width
    return tnn.Sequential(
        tnn.Conv2d(3, 64, 7, 2, 3, bias=False), tnn.BatchNorm2d(64), tnn.ReLU(inplace=True),
        tnn.MaxPool2d(3, 2, 1), *layers, tnn.AdaptiveAvgPool2d((1, 1)), tnn.Flatten(),
        tnn.Linear(512, 10))


def _torch_mobilenet_v2(torch):
    """torchvision's MobileNetV2 tree (widths already rounded to multiples of 8)."""
    tnn = torch.nn

    def cna(inp, out, kernel=3, stride=1, groups=1):
        return tnn.Sequential(
            tnn.Conv2d(inp, out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
            tnn.BatchNorm2d(out), tnn.ReLU6(inplace=True))

    class InvertedResidual(tnn.Module):
        def __init__(self, inp, oup, stride, expand):
            super().__init__()
            hidden = inp * expand
            self.use_res_connect = stride == 1 and inp == oup
            layers = [cna(inp, hidden, 1)] if expand != 1 else []
            self.conv = tnn.Sequential(
                *layers, cna(hidden, hidden, stride=stride, groups=hidden),
                tnn.Conv2d(hidden, oup, 1, bias=False), tnn.BatchNorm2d(oup))

        def forward(self, x):
            return x + self.conv(x) if self.use_res_connect else self.conv(x)

    features, channels = [cna(3, 32, stride=2)], 32
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)):
        for i in range(n):
            features.append(InvertedResidual(channels, c, s if i == 0 else 1, t))
            channels = c
    features.append(cna(channels, 1280, 1))
    return tnn.Sequential(*features, tnn.AdaptiveAvgPool2d((1, 1)), tnn.Flatten(),
                          tnn.Dropout(0.2), tnn.Linear(1280, 10))


def _flambeau_model(name):
    from flambeau.vision import models

    if name == "lenet":
        return models.lenet()
    return getattr(models, name)(num_classes=10)


def _torch_model(torch, name):
    builders = {"lenet": _torch_lenet, "resnet18": _torch_resnet18,
                "mobilenet_v2": _torch_mobilenet_v2}
    return builders[name](torch)


def _step_fn(model, loss_fn, optimizer, x, y):
    def step():
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    return step


def _flambeau_step(name, shape):
    import flambeau
    from flambeau import nn, optim
    model = _flambeau_model(name)
    x = flambeau.randn(BATCH, *shape)
    y = flambeau.randint(0, 10, (BATCH,))
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return _step_fn(model, nn.CrossEntropyLoss(), opt, x, y)


def _torch_step(torch, name, shape):
    model = _torch_model(torch, name)
    x = torch.randn(BATCH, *shape)
    y = torch.randint(0, 10, (BATCH,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return _step_fn(model, torch.nn.CrossEntropyLoss(), opt, x, y)


def run() -> list[dict]:
    from threadpoolctl import threadpool_limits

    try:
        import torch
    except ImportError:
        torch = None
    rows = []
    cases = (("lenet", (1, 28, 28), 5), ("resnet18", (3, 32, 32), 3),
             ("mobilenet_v2", (3, 32, 32), 3))
    with threadpool_limits(limits=1, user_api="blas"):
        if torch is not None:
            torch.set_num_threads(1)
        for name, shape, repeat in cases:
            ours = best_of(_flambeau_step(name, shape), repeat=repeat, number=2)
            theirs = None
            if torch is not None:
                theirs = best_of(_torch_step(torch, name, shape), repeat=repeat, number=2)
            label = "x".join(str(s) for s in shape)
            rows.append({
                "name": f"train {name} {label} b{BATCH} ({BATCH / ours:.0f} img/s)",
                "flambeau_s": ours / BATCH,
                "torch_s": None if theirs is None else theirs / BATCH,
            })
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
