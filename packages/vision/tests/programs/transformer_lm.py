"""Transformer language model: a sin/cos positional encoding registered as a buffer, a causal
mask from nn.Transformer.generate_square_subsequent_mask, key padding, tied input/output
embeddings, parameter groups without weight decay for biases and norms, Adam under
ReduceLROnPlateau, and greedy generation with topk."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from _common import init_from_numpy, without_key_bias


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=64):
        super(PositionalEncoding, self).__init__()
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer('pe', pe.unsqueeze(0))

    def forward(self, x):
        return x + self.pe[:, :x.size(1)]


class TransformerLM(nn.Module):
    def __init__(self, ntoken, d_model=16, nhead=2, d_hid=32, nlayers=2):
        super(TransformerLM, self).__init__()
        self.embedding = nn.Embedding(ntoken, d_model, padding_idx=0)
        self.pos_encoder = PositionalEncoding(d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout=0.0, batch_first=True)
        self.transformer = nn.TransformerEncoder(layer, nlayers, enable_nested_tensor=False)
        self.decoder = nn.Linear(d_model, ntoken)
        self.decoder.weight = self.embedding.weight  # tied weights
        self.d_model = d_model

    def forward(self, src, padding_mask=None):
        mask = nn.Transformer.generate_square_subsequent_mask(src.size(1))
        x = self.pos_encoder(self.embedding(src) * math.sqrt(self.d_model))
        x = self.transformer(x, mask=mask, is_causal=True, src_key_padding_mask=padding_mask)
        return self.decoder(x)


def main(epochs=4, ntoken=16):
    rng = np.random.default_rng(0)
    # sequences counting up from a random start, right-padded with 0 to a common length
    lengths = rng.integers(5, 11, size=12)
    data = np.zeros((12, 10), dtype=np.int64)
    for row, length in zip(data, lengths):
        start = rng.integers(1, ntoken)
        row[:length] = (start + np.arange(length)) % (ntoken - 1) + 1
    data = torch.from_numpy(data)
    inputs, targets = data[:, :-1], data[:, 1:]
    padding = inputs == 0

    model = init_from_numpy(TransformerLM(ntoken))
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        (no_decay if name.endswith("bias") or "norm" in name else decay).append(param)
    optimizer = torch.optim.Adam([{"params": decay, "weight_decay": 1e-4},
                                  {"params": no_decay, "weight_decay": 0.0}], lr=3e-3)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=0)
    losses, lrs = [], []
    for epoch in range(epochs):
        model.train()
        for batch in range(0, 12, 4):
            optimizer.zero_grad()
            output = model(inputs[batch:batch + 4], padding[batch:batch + 4])
            loss = F.cross_entropy(output.reshape(-1, ntoken),
                                   targets[batch:batch + 4].reshape(-1), ignore_index=0)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step(losses[-1] if epoch != 2 else 10.0)  # one bad epoch: the lr halves
        lrs.append([group["lr"] for group in optimizer.param_groups])

    model.eval()
    generated = torch.tensor([[3, 4]])
    with torch.no_grad():
        for _ in range(4):
            logits = model(generated)[:, -1]
            top = torch.topk(F.softmax(logits, dim=-1), k=2)
            generated = torch.cat([generated, top.indices[:, :1]], dim=1)
    return {"loss": losses, "lr": lrs, "generated": generated, "top_probs": top.values,
            "params": without_key_bias(model.state_dict())}


if __name__ == "__main__":
    print(main())
