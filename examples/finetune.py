"""Fine-tune a pretrained CNN (tutorial 8): freeze, replace the head, discriminative rates.

The "pretrained" model is trained here on the digits 0-4 (or loaded with --pretrained);
the new task is the digits 5-9 with only --shots labelled images.

    python examples/finetune.py --shots 20
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tqdm import tqdm

import flambeau
import flambeau.nn.functional as F
from flambeau import nn, optim
from flambeau.data import DataLoader, TensorDataset
from flambeau.vision import datasets


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pretrain-epochs", type=int, default=5)
    p.add_argument("--epochs", type=int, default=10, help="epochs for each fine-tuning stage")
    p.add_argument("--shots", type=int, default=20, help="labelled images of the new task")
    p.add_argument("--limit", type=int, default=None,
                   help="use only this many pretraining images")
    p.add_argument("--pretrained", default=None, help="weights to start from (skip pretraining)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


class SmallCNN(nn.Module):
    def __init__(self, classes: int):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        )
        self.classifier = nn.Linear(128, classes)

    def forward(self, x):
        return self.classifier(self.features(x))


def as_tensors(train: bool):
    d = datasets.Digits(train=train)
    return d.data.float().div(255).sub(0.5).div(0.5).unsqueeze(1), d.targets


def fit(model, x, y, optimizer, epochs, desc):
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    model.train()
    for _ in tqdm(range(epochs), desc=desc):
        for images, labels in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(images), labels).backward()
            optimizer.step()


def accuracy(model, x, y) -> float:
    model.eval()
    with flambeau.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


def main(argv=None) -> float:
    args = parse_args(argv)
    flambeau.manual_seed(args.seed)
    train_x, train_y = as_tensors(True)
    test_x, test_y = as_tensors(False)

    weights = args.pretrained
    if weights is None:
        low = train_y < 5
        x_low, y_low = train_x[low], train_y[low]
        if args.limit:
            x_low, y_low = x_low[:args.limit], y_low[:args.limit]
        pretrained = SmallCNN(classes=5)
        fit(pretrained, x_low, y_low, optim.Adam(pretrained.parameters(), lr=3e-3),
            args.pretrain_epochs, "pretraining on 0-4")
        print(f"pretrained on digits 0-4: test accuracy "
              f"{accuracy(pretrained, test_x[test_y < 5], test_y[test_y < 5]):.3f}")
        weights = Path(tempfile.mkdtemp()) / "small_cnn_0to4.pt"
        flambeau.save(pretrained.state_dict(), weights)

    high = train_y >= 5
    few_x, few_y = train_x[high][:args.shots], train_y[high][:args.shots] - 5
    new_x, new_y = test_x[test_y >= 5], test_y[test_y >= 5] - 5

    scratch = SmallCNN(classes=5)
    fit(scratch, few_x, few_y, optim.Adam(scratch.parameters(), lr=3e-3), args.epochs,
        "from scratch")
    print(f"from scratch: {accuracy(scratch, new_x, new_y):.3f}")

    model = SmallCNN(classes=5)
    model.load_state_dict(flambeau.load(weights))
    model.classifier = nn.Linear(128, 5)
    model.features.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    fit(model, few_x, few_y, optim.Adam(trainable, lr=1e-2), args.epochs, "new head")
    print(f"frozen backbone, new head: {accuracy(model, new_x, new_y):.3f}")

    model.features.requires_grad_(True)
    optimizer = optim.Adam([{"params": model.features.parameters(), "lr": 3e-4},
                            {"params": model.classifier.parameters()}], lr=3e-3)
    fit(model, few_x, few_y, optimizer, max(args.epochs // 2, 1), "end to end")
    final = accuracy(model, new_x, new_y)
    print(f"fine-tuned end to end: {final:.3f}")
    return final


if __name__ == "__main__":
    main()
