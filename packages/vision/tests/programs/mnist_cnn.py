"""MNIST-style CNN: a DataLoader over a Dataset with torchvision transforms, Adadelta with
StepLR, nll_loss on log_softmax, and the classic test loop (reduction='sum',
argmax(1, keepdim=True), pred.eq(target.view_as(pred)))."""

import io

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from _common import init_from_numpy
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms


class Digits(Dataset):
    """28x28 uint8 images with a bright bar whose row depends on the label."""

    def __init__(self, n, seed, transform=None):
        rng = np.random.default_rng(seed)
        self.targets = rng.integers(0, 10, size=n)
        self.images = rng.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
        for image, target in zip(self.images, self.targets):
            image[2 + 2 * target: 4 + 2 * target, 4:24] = 255
        self.transform = transform

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.targets[index])


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.fc1 = nn.Linear(2304, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(model, device, train_loader, optimizer, losses):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    return test_loss, correct


def main(epochs=2):
    device = torch.device("cpu")
    transform = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize((0.1307,), (0.3081,)),
    ])
    train_loader = DataLoader(Digits(64, seed=0, transform=transform), batch_size=16)
    test_loader = DataLoader(Digits(32, seed=1, transform=transform), batch_size=16)

    model = init_from_numpy(Net()).to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
    losses, lrs, tests = [], [], []
    for epoch in range(1, epochs + 1):
        train(model, device, train_loader, optimizer, losses)
        tests.append(test(model, device, test_loader))
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    # save the weights and load them into a new model, as a later script would
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    restored = Net()
    restored.load_state_dict(torch.load(buffer))
    return {"loss": losses, "lr": lrs, "test": tests, "params": model.state_dict(),
            "restored_test": test(restored, device, test_loader)}


if __name__ == "__main__":
    print(main())
