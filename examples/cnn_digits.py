"""Train a CNN on the 8x8 digits (tutorial 4): augmentation, DataLoader workers, checkpoints.

    python examples/cnn_digits.py --epochs 10 --workers 2 --out runs/cnn
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

import flambeau
from flambeau import nn, optim
from flambeau.data import DataLoader, Subset
from flambeau.vision import datasets
from flambeau.vision import transforms as T


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--workers", type=int, default=2, help="DataLoader worker processes")
    p.add_argument("--limit", type=int, default=None, help="use only this many training images")
    p.add_argument("--out", default=None, help="folder for the checkpoint")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def build_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10),
    )


def evaluate(model, loader) -> float:
    model.eval()
    correct = 0
    with flambeau.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(dim=1) == labels).sum().item()
    return correct / len(loader.dataset)


def main(argv=None) -> float:
    args = parse_args(argv)
    flambeau.manual_seed(args.seed)
    normalize = T.Normalize((0.5,), (0.5,))
    train_set = datasets.Digits(train=True, transform=T.Compose(
        [T.RandomAffine(degrees=10, translate=(0.1, 0.1)), T.ToTensor(), normalize]))
    test_set = datasets.Digits(train=False, transform=T.Compose([T.ToTensor(), normalize]))
    if args.limit:
        train_set = Subset(train_set, range(min(args.limit, len(train_set))))
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              num_workers=args.workers)
    test_loader = DataLoader(test_set, batch_size=256)

    model = build_model()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    criterion = nn.CrossEntropyLoss()
    accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        model.train()
        bar = tqdm(train_loader, desc=f"epoch {epoch}/{args.epochs}")
        for images, labels in bar:
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
        accuracy = evaluate(model, test_loader)
        print(f"epoch {epoch}: test accuracy {accuracy:.3f}")

    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        flambeau.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                       "epoch": args.epochs}, out / "cnn_digits.pt")
        restored = build_model()
        restored.load_state_dict(flambeau.load(out / "cnn_digits.pt")["model"])
        print(f"saved {out / 'cnn_digits.pt'}; reloaded accuracy "
              f"{evaluate(restored, test_loader):.3f}")
    return accuracy


if __name__ == "__main__":
    main()
