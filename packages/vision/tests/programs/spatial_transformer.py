"""Spatial transformer network: a localisation net regresses an affine theta (its last layer
starts at the identity transform), F.affine_grid + F.grid_sample warp the input, and a small
classifier reads the result; SGD, then the warped images of a test batch."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from _common import blobs, init_from_numpy


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=3)
        self.fc1 = nn.Linear(6 * 7 * 7, 10)

        # Spatial transformer localization-network
        self.localization = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=5),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
        )
        # Regressor for the 3 * 2 affine matrix
        self.fc_loc = nn.Sequential(
            nn.Linear(4 * 6 * 6, 16),
            nn.ReLU(True),
            nn.Linear(16, 3 * 2),
        )

    def init_identity(self):
        # Initialize the weights/bias with identity transformation
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    # Spatial transformer network forward function
    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 4 * 6 * 6)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        x = F.grid_sample(x, grid, align_corners=False)
        return x

    def forward(self, x):
        # transform the input
        x = self.stn(x)
        # Perform the usual forward pass
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = x.view(-1, 6 * 7 * 7)
        return F.log_softmax(self.fc1(x), dim=1)


def main(steps=6):
    images, labels = blobs(steps * 8 + 8, (1, 16, 16), classes=10, seed=0)
    images, labels = torch.from_numpy(images), torch.from_numpy(labels)
    model = init_from_numpy(Net())
    model.init_identity()
    optimizer = optim.SGD(model.parameters(), lr=0.05)
    losses = []
    for step in range(steps):
        data, target = images[step * 8:step * 8 + 8], labels[step * 8:step * 8 + 8]
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        warped = model.stn(images[-8:])
        # a fixed rotation by 30 degrees, bilinear and nearest, with border padding
        angle = np.pi / 6
        theta = torch.tensor([[[np.cos(angle), -np.sin(angle), 0.1],
                               [np.sin(angle), np.cos(angle), 0.0]]], dtype=torch.float)
        grid = F.affine_grid(theta.expand(2, 2, 3), (2, 1, 16, 16), align_corners=True)
        rotated = [F.grid_sample(images[:2], grid, mode=mode, padding_mode="border",
                                 align_corners=True) for mode in ("bilinear", "nearest")]
    return {"loss": losses, "warped": warped, "rotated": rotated, "params": model.state_dict()}


if __name__ == "__main__":
    print(main())
