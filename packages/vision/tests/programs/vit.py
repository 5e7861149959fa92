"""A small Vision Transformer: patches by a strided Conv2d, a learned class token and
position embeddings, nn.TransformerEncoder (batch_first, pre-norm, GELU), cross-entropy with
label smoothing, AdamW with gradient clipping and a cosine learning-rate schedule."""

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from _common import blobs, init_from_numpy, without_key_bias
from torch.utils.data import DataLoader, TensorDataset


class PatchEmbedding(nn.Module):
    def __init__(self, image_size, patch_size, in_channels, embed_dim):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, embed_dim, kernel_size=patch_size, stride=patch_size)
        self.num_patches = (image_size // patch_size) ** 2

    def forward(self, x):
        x = self.proj(x)  # (B, E, H/P, W/P)
        return x.flatten(2).transpose(1, 2)  # (B, N, E)


class ViT(nn.Module):
    def __init__(self, image_size=16, patch_size=4, in_channels=3, num_classes=5,
                 embed_dim=32, depth=2, num_heads=4, mlp_dim=64):
        super().__init__()
        self.patch_embed = PatchEmbedding(image_size, patch_size, in_channels, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.patch_embed.num_patches + 1,
                                                  embed_dim))
        layer = nn.TransformerEncoderLayer(embed_dim, num_heads, mlp_dim, dropout=0.0,
                                           activation="gelu", batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=depth,
                                             enable_nested_tensor=False)
        self.norm = nn.LayerNorm(embed_dim)
        self.head = nn.Linear(embed_dim, num_classes)

    def forward(self, x):
        x = self.patch_embed(x)
        cls_tokens = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat((cls_tokens, x), dim=1) + self.pos_embed
        x = self.encoder(x)
        return self.head(self.norm(x[:, 0]))


def main(epochs=2):
    images, labels = blobs(48, (3, 16, 16), classes=5, seed=0)
    loader = DataLoader(TensorDataset(torch.from_numpy(images), torch.from_numpy(labels)),
                        batch_size=16)
    model = ViT()
    rng = np.random.default_rng(1)
    with torch.no_grad():  # zeros would stay equal across frameworks, but learn slowly
        model.pos_embed.copy_(torch.from_numpy(0.02 * rng.standard_normal((1, 17, 32))))
    init_from_numpy(model)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * len(loader))
    losses, accuracy = [], []
    for epoch in range(epochs):
        model.train()
        correct = 0
        for inputs, targets in loader:
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = criterion(outputs, targets)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            _, predicted = outputs.max(1)
            correct += predicted.eq(targets).sum().item()
        accuracy.append(100. * correct / len(loader.dataset))
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(images[:4]))
    return {"loss": losses, "accuracy": accuracy, "logits": logits,
            "params": without_key_bias(model.state_dict())}


if __name__ == "__main__":
    print(main())
