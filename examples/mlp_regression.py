"""Fit a small MLP to a noisy 1-D curve (tutorial 3): nn.Sequential, MSELoss, Adam.

    python examples/mlp_regression.py --epochs 200
"""

from __future__ import annotations

import argparse
import math

from tqdm import tqdm

import flambeau
from flambeau import nn, optim


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--limit", type=int, default=512, help="number of training points")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> float:
    args = parse_args(argv)
    flambeau.manual_seed(args.seed)
    x = flambeau.rand(args.limit, 1) * 4 * math.pi - 2 * math.pi
    y = flambeau.sin(x) + 0.1 * x + 0.05 * flambeau.randn(args.limit, 1)
    model = nn.Sequential(nn.Linear(1, args.hidden), nn.Tanh(),
                          nn.Linear(args.hidden, args.hidden), nn.Tanh(),
                          nn.Linear(args.hidden, 1))
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    criterion = nn.MSELoss()
    bar = tqdm(range(args.epochs), desc="training")
    for _ in bar:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        bar.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
    print(f"final training loss {loss.item():.4f}")
    return loss.item()


if __name__ == "__main__":
    main()
