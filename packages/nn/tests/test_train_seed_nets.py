"""The seed networks learn: a LeNet-style CNN, an LSTM classifier and a Transformer encoder.

Each trains a few dozen plain SGD steps on a small learnable synthetic task and must cut its
loss substantially.
"""

from __future__ import annotations

import numpy as np

import flambeau
import flambeau.nn.functional as F
from flambeau import nn


def _sgd(model, lr):
    with flambeau.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p -= lr * p.grad
                p.grad = None


def _train(model, batches, loss_fn, lr, steps):
    losses = []
    for step in range(steps):
        x, y = batches[step % len(batches)]
        loss = loss_fn(model(x), y)
        loss.backward()
        _sgd(model, lr)
        losses.append(loss.item())
    return losses


def test_lenet_cnn_learns():
    flambeau.manual_seed(0)
    rng = np.random.default_rng(0)
    # class = which quadrant holds a bright square
    n = 64
    labels = rng.integers(0, 4, n)
    images = rng.standard_normal((n, 1, 14, 14)).astype(np.float32) * 0.3
    for i, c in enumerate(labels):
        r, col = divmod(int(c), 2)
        images[i, 0, r * 7 + 1:r * 7 + 6, col * 7 + 1:col * 7 + 6] += 2.0
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 2 * 2, 32), nn.ReLU(), nn.Linear(32, 4),
    )  # fmt: skip
    x, y = flambeau.tensor(images), flambeau.tensor(labels)
    losses = _train(model, [(x, y)], lambda out, y: F.nll_loss(F.log_softmax(out, 1), y), 0.1,
                    40)
    assert losses[-1] < 0.3 * losses[0], losses


class _LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(2, 16, batch_first=True)
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.head(h[-1])


def test_lstm_classifier_learns():
    flambeau.manual_seed(0)
    rng = np.random.default_rng(1)
    # class = whether the first feature's running sum ends positive
    x = rng.standard_normal((64, 8, 2)).astype(np.float32)
    y = (x[:, :, 0].sum(1) > 0).astype(np.int64)
    model = _LSTMClassifier()
    batch = (flambeau.tensor(x), flambeau.tensor(y))
    # plain SGD on an LSTM oscillates at large rates: a moderate one, judged on the mean of
    # the last steps (the last step alone depends on rounding once the loss oscillates)
    losses = _train(model, [batch], F.cross_entropy, 0.3, 150)
    assert np.mean(losses[-10:]) < 0.5 * losses[0], losses


class _Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(1, 16)
        layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2)
        self.head = nn.Linear(16, 1)

    def forward(self, x):
        return self.head(self.encoder(self.embed(x.unsqueeze(-1)))).squeeze(-1)


def test_transformer_encoder_learns():
    flambeau.manual_seed(0)
    rng = np.random.default_rng(2)
    # every position must output the sequence mean: needs attention across positions
    x = rng.standard_normal((32, 6)).astype(np.float32)
    y = np.repeat(x.mean(1, keepdims=True), 6, 1)
    model = _Encoder()
    batch = (flambeau.tensor(x), flambeau.tensor(y))
    losses = _train(model, [batch], F.mse_loss, 0.05, 60)
    assert losses[-1] < 0.5 * losses[0], losses
