"""Siamese network: one convolutional tower applied to both images of a pair, the two
embeddings concatenated into a head with one logit, BCEWithLogitsLoss on same/different
labels, Adam with StepLR, and accuracy from torch.where(sigmoid(output) > 0.5, 1, 0)."""

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from _common import blobs, init_from_numpy
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, Dataset


class SiameseNetwork(nn.Module):
    def __init__(self):
        super(SiameseNetwork, self).__init__()
        self.tower = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3, padding=1, bias=False),  # BatchNorm follows
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((1, 1)),
        )
        self.fc = nn.Sequential(
            nn.Linear(32, 16),
            nn.ReLU(inplace=True),
            nn.Linear(16, 1),
        )
        self.sigmoid = nn.Sigmoid()

    def forward_once(self, x):
        output = self.tower(x)
        output = output.view(output.size()[0], -1)
        return output

    def forward(self, input1, input2):
        output1 = self.forward_once(input1)
        output2 = self.forward_once(input2)
        output = torch.cat((output1, output2), 1)
        return self.fc(output)


class Pairs(Dataset):
    """Pairs of images, the target 1.0 when both come from the same class."""

    def __init__(self, n, seed):
        self.images, labels = blobs(n, (1, 8, 8), classes=4, seed=seed)
        rng = np.random.default_rng(seed + 100)
        self.first = rng.integers(0, n, size=n)
        self.second = rng.integers(0, n, size=n)
        self.targets = (labels[self.first] == labels[self.second]).astype(np.float32)

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        image_1 = torch.from_numpy(self.images[self.first[index]])
        image_2 = torch.from_numpy(self.images[self.second[index]])
        return image_1, image_2, torch.tensor(self.targets[index])


def main(epochs=2):
    train_loader = DataLoader(Pairs(48, seed=0), batch_size=16)
    test_loader = DataLoader(Pairs(32, seed=1), batch_size=16)
    model = init_from_numpy(SiameseNetwork())
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
    criterion = nn.BCEWithLogitsLoss()
    losses, accuracies = [], []
    for epoch in range(epochs):
        model.train()
        for batch_idx, (images_1, images_2, targets) in enumerate(train_loader):
            optimizer.zero_grad()
            outputs = model(images_1, images_2).squeeze()
            loss = criterion(outputs, targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for (images_1, images_2, targets) in test_loader:
                outputs = model(images_1, images_2).squeeze()
                pred = torch.where(model.sigmoid(outputs) > 0.5, 1, 0)
                correct += pred.eq(targets.view_as(pred)).sum().item()
        accuracies.append(correct / len(test_loader.dataset))
    return {"loss": losses, "accuracy": accuracies, "params": model.state_dict()}


if __name__ == "__main__":
    print(main())
