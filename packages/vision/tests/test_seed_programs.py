"""The programs of the articles flambeau was created from (shared/seeds) run on flambeau.

Each program is kept as the article prints it, PyTorch imports and all;
``flambeau.testing.port_torch_program`` changes only the imports, which is the promise made
to PyTorch users. Where an article's snippet has
a gap (an undefined ``labels``, a missing ``import torch.nn.functional as F``, a 9216-feature
layer that does not fit 28x28 inputs after two poolings, PIL images handed to the
DataLoader without ``ToTensor``), the fix is the obvious one and is marked ``# gap:``.
MNIST is read from small IDX files written here, so nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from test_datasets_mnist import write_mnist

from flambeau.testing import port_torch_program


def run(program: str, **names) -> dict:
    scope = dict(names)
    exec(compile(port_torch_program(program), "<seed program>", "exec"), scope)  # noqa: S102
    return scope


def test_linear_regression_module():  # article 000
    scope = run("""
        import torch
        import torch.nn as nn

        class LinearRegression(nn.Module):
            def __init__(self, input_dim, output_dim):
                super(LinearRegression, self).__init__()
                self.linear = nn.Linear(input_dim, output_dim)

            def forward(self, x):
                return self.linear(x)

        model = LinearRegression(3, 1)  # gap: the article stops at the class
        out = model(torch.randn(4, 3))
    """)
    assert tuple(scope["out"].shape) == (4, 1)


def test_simple_nn_one_sgd_step():  # article 000
    scope = run("""
        import torch
        import torch.nn as nn
        import torch.optim as optim

        class SimpleNN(nn.Module):
            def __init__(self, input_dim, hidden_dim, output_dim):
                super(SimpleNN, self).__init__()
                self.fc1 = nn.Linear(input_dim, hidden_dim)
                self.fc2 = nn.Linear(hidden_dim, output_dim)

            def forward(self, x):
                x = torch.relu(self.fc1(x))
                x = self.fc2(x)
                return x

        model = SimpleNN(10, 5, 2)
        criterion = nn.MSELoss()
        optimizer = optim.SGD(model.parameters(), lr=0.01)
        inputs = torch.randn(10, 10)
        labels = torch.randn(10, 2)
        before = model.fc1.weight.detach().clone()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        after = model.fc1.weight.detach()
        expected = before - 0.01 * model.fc1.weight.grad
    """)
    np.testing.assert_allclose(scope["after"].cpu().numpy(), scope["expected"].cpu().numpy(),
                               rtol=1e-6)


def test_convnet_adam_step():  # article 000
    scope = run("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F  # gap: the article uses F without importing it
        import torch.optim as optim

        class ConvNet(nn.Module):
            def __init__(self):
                super(ConvNet, self).__init__()
                self.conv1 = nn.Conv2d(1, 32, 3, 1)
                self.conv2 = nn.Conv2d(32, 64, 3, 1)
                self.fc1 = nn.Linear(1600, 128)  # gap: 64*5*5 features, not 9216
                self.fc2 = nn.Linear(128, 10)

            def forward(self, x):
                x = F.relu(self.conv1(x))
                x = F.max_pool2d(x, 2, 2)
                x = F.relu(self.conv2(x))
                x = F.max_pool2d(x, 2, 2)
                x = x.view(-1, 1600)  # gap: as above
                x = F.relu(self.fc1(x))
                x = self.fc2(x)
                return x

        model = ConvNet()
        criterion = nn.CrossEntropyLoss()
        optimizer = optim.Adam(model.parameters(), lr=0.001)
        inputs = torch.randn(64, 1, 28, 28)
        labels = torch.randint(0, 10, (64,))  # gap: labels were never defined
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    """)
    assert tuple(scope["outputs"].shape) == (64, 10)
    assert np.isfinite(scope["loss"].item())


def test_scalar_linear_model():  # article 001
    scope = run("""
        import torch

        w = torch.tensor(1.0)
        b = torch.tensor(0.0)
        x = torch.tensor([1.0])
        y = torch.tensor([1.0])
        output = w * x + b
    """)
    assert scope["output"].tolist() == [1.0]


def test_mlp_sgd_loop():  # articles 001 and 002
    scope = run("""
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 128)
                self.fc2 = nn.Linear(128, 10)

            def forward(self, x):
                x = torch.flatten(x, 1)  # article 002's first line of forward
                x = torch.relu(self.fc1(x))
                x = self.fc2(x)
                return x

        net = Net()
        criterion = nn.CrossEntropyLoss()
        optimizer = torch.optim.SGD(net.parameters(), lr=0.001)
        input_data = torch.randn(16, 1, 28, 28)  # gap: no data in the article
        labels = torch.randint(0, 10, (16,))
        losses = []
        for epoch in range(2):
            optimizer.zero_grad()
            output = net(input_data)
            loss = criterion(output, labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    """)
    assert scope["losses"][1] < scope["losses"][0]


MNIST_LOADER = """
    import torch
    from torchvision import datasets, transforms

    transform = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize((0.5,), (0.5,))
    ])

    train_dataset = datasets.MNIST('data/', train=True, download=True, transform=transform)
    train_loader = torch.utils.data.DataLoader(train_dataset, batch_size=64, shuffle=True)
"""


def test_mnist_loader(tmp_path, monkeypatch):  # article 002
    write_mnist(tmp_path / "data" / "MNIST" / "raw", n_train=70)
    monkeypatch.chdir(tmp_path)
    scope = run(MNIST_LOADER)
    images, labels = next(iter(scope["train_loader"]))
    assert tuple(images.shape) == (64, 1, 28, 28) and tuple(labels.shape) == (64,)
    assert -1.0 <= images.min().item() and images.max().item() <= 1.0


# the program moves nothing to a device: the loader's CPU batches meet the model on the CPU
@pytest.mark.host_only
def test_mnist_cnn_training(tmp_path, monkeypatch):  # article 004
    write_mnist(tmp_path / "data" / "MNIST" / "raw", n_train=96)
    monkeypatch.chdir(tmp_path)
    scope = run("""
        import torch
        import torchvision
        import torch.nn as nn
        import torch.nn.functional as F  # gap: F was not imported
        import torch.optim as optim

        train_loader = torch.utils.data.DataLoader(
            torchvision.datasets.MNIST('data', train=True, download=True,
                                       transform=torchvision.transforms.ToTensor()),  # gap
            batch_size=64, shuffle=True)

        class Net(nn.Module):
            def __init__(self):
                super(Net, self).__init__()
                self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
                self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
                self.fc1 = nn.Linear(320, 50)
                self.fc2 = nn.Linear(50, 10)

            def forward(self, x):
                x = F.relu(self.conv1(x))
                x = F.max_pool2d(x, 2)
                x = F.relu(self.conv2(x))
                x = F.max_pool2d(x, 2)
                x = x.view(-1, 320)
                x = F.relu(self.fc1(x))
                x = self.fc2(x)
                return F.log_softmax(x, dim=1)

        net = Net()
        optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.5)
        losses = []
        for epoch in range(10):
            for batch_idx, (data, target) in enumerate(train_loader):
                optimizer.zero_grad()
                output = net(data)
                loss = F.nll_loss(output, target)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
    """)
    losses = scope["losses"]
    assert len(losses) == 20 and np.isfinite(losses).all()
    assert np.mean(losses[-4:]) < np.mean(losses[:4])  # it learns the random labels


@pytest.mark.skipif(importlib.util.find_spec("flambeau.distributed") is None
                    or importlib.util.find_spec("mpi4py") is None,
                    reason="needs flambeau-distributed (pip install flambeau-distributed)")
@pytest.mark.host_only  # the MPI backend moves CPU tensors (as torch's gloo)
def test_ddp_training_loop(tmp_path):  # article 002, as one rank
    write_mnist(tmp_path / "data" / "MNIST" / "raw", n_train=70)
    program = port_torch_program(textwrap.dedent(MNIST_LOADER) + textwrap.dedent("""
        import torch.nn as nn
        import torch.optim as optim
        import torch.distributed as dist
        from torch.nn.parallel import DistributedDataParallel as DDP

        dist.init_process_group("mpi")  # gap: DDP needs a process group
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
        net.to(device)

        ddp_net = DDP(net)  # gap: device_ids=[0, 1, 2, 3] names four GPUs

        optimizer = optim.SGD(ddp_net.parameters(), lr=0.01, momentum=0.9)

        for epoch in range(2):  # gap: 10 epochs in the article
            for i, data in enumerate(train_loader, 0):
                inputs, labels = data[0].to(device), data[1].to(device)
                optimizer.zero_grad()
                outputs = ddp_net(inputs)
                loss = nn.functional.cross_entropy(outputs, labels)
                loss.backward()
                optimizer.step()
        print("final loss", loss.item())
        dist.destroy_process_group()
    """))
    # in a process of its own: MPI is initialised once per process
    done = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("final loss ")
    assert np.isfinite(float(done.stdout.split()[-1]))
