"""A DCGAN on the 8x8 digits (tutorial 7); saves a grid of generated digits per epoch.

    python examples/gan_digits.py --epochs 30 --out runs/gan
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

import flambeau
from flambeau import nn, optim
from flambeau.data import DataLoader, TensorDataset
from flambeau.vision import datasets
from flambeau.vision.utils import save_image


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--limit", type=int, default=None, help="use only this many images")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--noise", type=int, default=16, help="size of the noise vector")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--out", default=None, help="folder for samples_EPOCH.png")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def build_models(noise: int):
    generator = nn.Sequential(
        nn.Linear(noise, 64 * 2 * 2), nn.Unflatten(1, (64, 2, 2)), nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1), nn.Tanh(),
    )
    discriminator = nn.Sequential(
        nn.Conv2d(1, 32, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(64 * 2 * 2, 1),
    )
    return generator, discriminator


def main(argv=None) -> tuple[float, float]:
    args = parse_args(argv)
    flambeau.manual_seed(args.seed)
    images = datasets.Digits(train=True).data.float().div(255).mul(2).sub(1).unsqueeze(1)
    if args.limit:
        images = images[:args.limit]
    loader = DataLoader(TensorDataset(images), batch_size=min(args.batch_size, len(images)),
                        shuffle=True, drop_last=True)
    generator, discriminator = build_models(args.noise)
    criterion = nn.BCEWithLogitsLoss()
    opt_g = optim.Adam(generator.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = optim.Adam(discriminator.parameters(), lr=args.lr, betas=(0.5, 0.999))
    fixed_noise = flambeau.randn(64, args.noise)  # the same samples every epoch show progress
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    for epoch in range(1, args.epochs + 1):
        generator.train()
        bar = tqdm(loader, desc=f"epoch {epoch}/{args.epochs}")
        for (real,) in bar:
            n = real.shape[0]
            fake = generator(flambeau.randn(n, args.noise))
            loss_d = (criterion(discriminator(real), flambeau.ones(n, 1))
                      + criterion(discriminator(fake.detach()), flambeau.zeros(n, 1)))
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            loss_g = criterion(discriminator(fake), flambeau.ones(n, 1))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            bar.set_postfix(loss_d=f"{loss_d.item():.3f}", loss_g=f"{loss_g.item():.3f}",
                            refresh=False)
        print(f"epoch {epoch}: loss D {loss_d.item():.3f}, loss G {loss_g.item():.3f}")
        if out is not None:
            generator.eval()
            with flambeau.no_grad():
                samples = generator(fixed_noise)
            save_image(samples, out / f"samples_{epoch:03d}.png", nrow=8, normalize=True,
                       value_range=(-1, 1))
    return loss_d.item(), loss_g.item()


if __name__ == "__main__":
    main()
