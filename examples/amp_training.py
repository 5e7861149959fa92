"""Mixed-precision training with autocast and GradScaler on the best available device (tutorial 9).

On a CUDA device (the flambeau-cuda plugin) autocast uses float16 and the scaler is on; on
the CPU autocast uses bfloat16 and the scaler passes everything through.

    python examples/amp_training.py --steps 300
    python examples/amp_training.py --device cuda --steps 300
"""

from __future__ import annotations

import argparse

from tqdm import tqdm

import flambeau
import flambeau.nn.functional as F
from flambeau import nn, optim


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--limit", type=int, default=1024, help="number of training samples")
    p.add_argument("--no-amp", action="store_true", help="train in float32")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> float:
    args = parse_args(argv)
    flambeau.manual_seed(args.seed)
    name = args.device or ("cuda" if flambeau.cuda.is_available() else "cpu")
    device = flambeau.device(name)
    use_amp = not args.no_amp
    x = flambeau.randn(args.limit, 64, device=device)
    y = x[:, :10].argmax(dim=1)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10)).to(device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scaler = flambeau.amp.GradScaler(device.type, enabled=use_amp and device.type == "cuda")
    dtype = flambeau.get_autocast_dtype(device.type) if use_amp else flambeau.float32
    print(f"device {device}, compute dtype {dtype}, loss scaling {scaler.is_enabled()}")

    bar = tqdm(range(args.steps), desc="training")
    for _ in bar:
        idx = flambeau.randint(0, args.limit, (128,), device=device)
        optimizer.zero_grad()
        with flambeau.autocast(device.type, enabled=use_amp):
            loss = F.cross_entropy(model(x[idx]), y[idx])
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    with flambeau.no_grad():
        accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
    print(f"training accuracy {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main()
