"""Classify noisy waveforms (sine, square, sawtooth) with an LSTM (tutorial 5).

    python examples/lstm_classifier.py --epochs 20
"""

from __future__ import annotations

import argparse
import math

from tqdm import tqdm

import flambeau
from flambeau import nn, optim


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--limit", type=int, default=2000, help="number of training sequences")
    p.add_argument("--length", type=int, default=32)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=50)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def make_waves(n: int, length: int):
    """``n`` noisy waves of three kinds, shape (n, length, 1), and their kind (0, 1 or 2)."""
    t = flambeau.linspace(0, 1, length)
    labels = flambeau.randint(0, 3, (n,))
    position = ((1 + 2 * flambeau.rand(n, 1)) * t + flambeau.rand(n, 1)) % 1.0
    waves = flambeau.stack([flambeau.sin(2 * math.pi * position),
                            flambeau.where(position < 0.5, 1.0, -1.0),
                            2 * position - 1], dim=1)
    chosen = waves[flambeau.arange(n), labels]
    return (chosen + 0.2 * flambeau.randn(n, length)).unsqueeze(-1), labels


class WaveClassifier(nn.Module):
    def __init__(self, hidden: int, classes: int = 3):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.head(h[-1])


def main(argv=None) -> float:
    args = parse_args(argv)
    flambeau.manual_seed(args.seed)
    x, y = make_waves(args.limit, args.length)
    x_test, y_test = make_waves(max(args.limit // 4, 1), args.length)
    model = WaveClassifier(args.hidden)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    criterion = nn.CrossEntropyLoss()
    accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = flambeau.randperm(len(x))
        bar = tqdm(range(0, len(x), args.batch_size), desc=f"epoch {epoch}/{args.epochs}")
        for i in bar:
            idx = order[i:i + args.batch_size]
            optimizer.zero_grad()
            loss = criterion(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
        model.eval()
        with flambeau.no_grad():
            accuracy = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
        print(f"epoch {epoch}: test accuracy {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main()
