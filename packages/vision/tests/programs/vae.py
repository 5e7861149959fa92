"""Variational autoencoder: fc encoder to mu/logvar, the reparameterisation trick, a sigmoid
decoder, binary_cross_entropy(reduction='sum') + KL divergence, Adam. The noise of the
reparameterisation is drawn from NumPy (torch.randn_like differs between frameworks)."""

import numpy as np
import torch
import torch.nn.functional as F
from _common import init_from_numpy
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset


class VAE(nn.Module):
    def __init__(self):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc21 = nn.Linear(32, 4)
        self.fc22 = nn.Linear(32, 4)
        self.fc3 = nn.Linear(4, 32)
        self.fc4 = nn.Linear(32, 64)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar, eps):
        std = torch.exp(0.5 * logvar)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x, eps):
        mu, logvar = self.encode(x.view(-1, 64))
        z = self.reparameterize(mu, logvar, eps)
        return self.decode(z), mu, logvar


# Reconstruction + KL divergence losses summed over all elements and batch
def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 64), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def main(epochs=3):
    rng = np.random.default_rng(0)
    images = (rng.random((48, 1, 8, 8)) < 0.3).astype(np.float32)
    images[::2, :, 2:6, 2:6] = 1.0  # two kinds of image
    loader = DataLoader(TensorDataset(torch.from_numpy(images)), batch_size=16)
    noise = rng.standard_normal((epochs, len(loader), 16, 4)).astype(np.float32)

    model = init_from_numpy(VAE())
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for epoch in range(epochs):
        model.train()
        train_loss = 0
        for batch_idx, (data,) in enumerate(loader):
            optimizer.zero_grad()
            eps = torch.from_numpy(noise[epoch, batch_idx])
            recon_batch, mu, logvar = model(data, eps)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
            losses.append(loss.item() / len(data))
    model.eval()
    with torch.no_grad():
        sample = model.decode(torch.from_numpy(rng.standard_normal((4, 4)).astype(np.float32)))
    return {"loss": losses, "sample": sample.view(4, 1, 8, 8), "params": model.state_dict()}


if __name__ == "__main__":
    print(main())
