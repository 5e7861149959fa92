"""The seed network: an MLP trained with MSELoss and manual SGD reduces its loss."""

import flambeau
import flambeau.nn.functional as F
from flambeau import nn


def _sgd(model, lr):
    with flambeau.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    model.zero_grad()


def test_mlp_mse_trains():
    flambeau.manual_seed(0)
    x = flambeau.randn(64, 4)
    target = (x[:, :1] * 2 - x[:, 1:2]).tanh() + 0.5 * x[:, 2:3]
    model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 1))
    loss_fn = nn.MSELoss()
    first = None
    for _ in range(200):
        loss = loss_fn(model(x), target)
        loss.backward()
        _sgd(model, 0.05)
        first = loss.item() if first is None else first
    assert loss.item() < 0.1 * first


def test_mlp_cross_entropy_with_batchnorm_and_dropout_trains():
    flambeau.manual_seed(1)
    x = flambeau.randn(128, 6)
    labels = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    model = nn.Sequential(nn.Linear(6, 32), nn.BatchNorm1d(32), nn.GELU(), nn.Dropout(0.1),
                          nn.Linear(32, 3))
    first = None
    for _ in range(100):
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        _sgd(model, 0.2)
        first = loss.item() if first is None else first
    model.eval()
    acc = (model(x).argmax(1) == labels).float().mean().item()
    assert loss.item() < 0.5 * first and acc > 0.85
