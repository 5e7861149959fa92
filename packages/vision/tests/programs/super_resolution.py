"""Super-resolution with sub-pixel convolution: conv layers then nn.PixelShuffle(upscale),
MSELoss on the Y channel, Adam, and PSNR (10 * log10(1 / mse)) on held-out images."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.init as init
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self, upscale_factor):
        super(Net, self).__init__()
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 16, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(16, 16, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(16, 8, (3, 3), (1, 1), (1, 1))
        self.conv4 = nn.Conv2d(8, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)
        self._initialize_weights()

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.relu(self.conv3(x))
        x = self.pixel_shuffle(self.conv4(x))
        return x

    def _initialize_weights(self):
        # orthogonal_ draws from the framework's generator: a NumPy orthogonal matrix instead
        rng = np.random.default_rng(0)
        for conv, gain in ((self.conv1, init.calculate_gain('relu')),
                           (self.conv2, init.calculate_gain('relu')),
                           (self.conv3, init.calculate_gain('relu')), (self.conv4, 1.0)):
            rows = conv.weight.shape[0]
            cols = conv.weight[0].numel()
            q, r = np.linalg.qr(rng.normal(size=(max(rows, cols), min(rows, cols))))
            q = q * np.sign(np.diag(r))
            q = q if rows >= cols else q.T
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(gain * q[:rows, :cols]).view_as(conv.weight))
                init.zeros_(conv.bias)


def make_images(rng, n, size):
    """Smooth random images: a sum of a few sinusoids."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    images = np.zeros((n, 1, size, size))
    for k in range(3):
        fx, fy, phase = rng.uniform(0.5, 3, size=(3, n, 1, 1))
        images[:, 0] += np.sin(2 * np.pi * (fx * xx + fy * yy) + phase) / 3
    return (0.5 + 0.5 * images).astype(np.float32)


def main(epochs=2, upscale_factor=2):
    rng = np.random.default_rng(0)
    target = torch.from_numpy(make_images(rng, 24, 16))
    inputs = F.avg_pool2d(target, upscale_factor)  # the low-resolution images
    train_loader = DataLoader(TensorDataset(inputs[:16], target[:16]), batch_size=8)
    test_loader = DataLoader(TensorDataset(inputs[16:], target[16:]), batch_size=8)

    model = Net(upscale_factor=upscale_factor)
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    losses, psnrs = [], []
    for epoch in range(1, epochs + 1):
        for iteration, batch in enumerate(train_loader, 1):
            input, target = batch[0], batch[1]
            optimizer.zero_grad()
            loss = criterion(model(input), target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        avg_psnr = 0
        with torch.no_grad():
            for batch in test_loader:
                input, target = batch[0], batch[1]
                prediction = model(input)
                mse = criterion(prediction, target)
                psnr = 10 * math.log10(1 / mse.item())
                avg_psnr += psnr
        psnrs.append(avg_psnr / len(test_loader))
    return {"loss": losses, "psnr": psnrs, "params": model.state_dict(),
            "upscaled": model(inputs[:2]).detach()}


if __name__ == "__main__":
    print(main())
