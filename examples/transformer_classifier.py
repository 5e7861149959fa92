"""A one-layer Transformer encoder classifies token sequences (tutorial 6).

A sequence is positive when it has more "good" tokens (1-3) than "bad" ones (4-6).

    python examples/transformer_classifier.py --epochs 5
"""

from __future__ import annotations

import argparse

from tqdm import tqdm

import flambeau
import flambeau.nn.functional as F
from flambeau import nn, optim

VOCAB = 10


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--limit", type=int, default=2048, help="number of training sequences")
    p.add_argument("--length", type=int, default=12)
    p.add_argument("--d-model", type=int, default=32)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def make_data(n: int, length: int):
    x = flambeau.randint(0, VOCAB, (n, length))
    good = ((x >= 1) & (x <= 3)).sum(dim=1)
    bad = ((x >= 4) & (x <= 6)).sum(dim=1)
    return x, (good > bad).long()


class TransformerClassifier(nn.Module):
    def __init__(self, length, d_model, heads, layers, classes=2):
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, d_model)
        self.positions = nn.Parameter(0.1 * flambeau.randn(length, d_model))
        layer = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=2 * d_model,
                                           dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=layers)
        self.head = nn.Linear(d_model, classes)

    def forward(self, x):
        return self.head(self.encoder(self.tokens(x) + self.positions).mean(dim=1))


def main(argv=None) -> float:
    args = parse_args(argv)
    flambeau.manual_seed(args.seed)
    x, y = make_data(args.limit, args.length)
    x_test, y_test = make_data(max(args.limit // 4, 1), args.length)
    model = TransformerClassifier(args.length, args.d_model, args.heads, args.layers)
    optimizer = optim.AdamW(model.parameters(), lr=args.lr)
    accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        model.train()
        bar = tqdm(range(0, len(x), args.batch_size), desc=f"epoch {epoch}/{args.epochs}")
        for i in bar:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x[i:i + args.batch_size]), y[i:i + args.batch_size])
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
