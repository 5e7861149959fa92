"""Variable-length sequence classification: padded batches from a collate_fn,
pack_padded_sequence into a bidirectional GRU, SGD with Nesterov momentum under OneCycleLR,
clip_grad_value_, and a checkpoint (model and optimizer state_dict) saved mid-training and
resumed into fresh objects."""

import io

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from _common import init_from_numpy
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.utils.data import DataLoader


class Classifier(nn.Module):
    def __init__(self, vocab, embed, hidden, classes):
        super(Classifier, self).__init__()
        self.embedding = nn.Embedding(vocab, embed, padding_idx=0)
        self.gru = nn.GRU(embed, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, classes)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(self.embedding(tokens), lengths, batch_first=True,
                                      enforce_sorted=False)
        output, hidden = self.gru(packed)
        output, _ = pad_packed_sequence(output, batch_first=True)
        # mean over the real time steps of each sequence
        mask = (tokens != 0).unsqueeze(-1).float()
        pooled = (output * mask).sum(1) / lengths.unsqueeze(1).float()
        return self.out(torch.cat([pooled[:, :hidden.size(-1)] + hidden[0],
                                   pooled[:, hidden.size(-1):] + hidden[1]], dim=1))


def make_data(n, rng):
    """Token sequences of lengths 3 to 9; the class is whether token 5 appears."""
    samples = []
    for _ in range(n):
        length = int(rng.integers(3, 10))
        tokens = rng.integers(1, 12, size=length)
        samples.append((torch.from_numpy(tokens), int((tokens == 5).any())))
    return samples


def collate(batch):
    sequences, labels = zip(*batch)
    lengths = torch.tensor([len(s) for s in sequences])
    return pad_sequence(sequences, batch_first=True), lengths, torch.tensor(labels)


def make_optimizer(model, steps):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.5, total_steps=steps)
    return optimizer, scheduler


def main(epochs=3):
    rng = np.random.default_rng(0)
    loader = DataLoader(make_data(40, rng), batch_size=8, collate_fn=collate)
    steps = epochs * len(loader)
    model = init_from_numpy(Classifier(12, 8, 10, 2))
    optimizer, scheduler = make_optimizer(model, steps)
    losses, lrs = [], []
    checkpoint = io.BytesIO()
    for epoch in range(epochs):
        if epoch == 2:  # resume from the checkpoint into fresh objects, as after a restart
            checkpoint.seek(0)
            state = torch.load(checkpoint)
            model = Classifier(12, 8, 10, 2)
            model.load_state_dict(state["model"])
            optimizer, scheduler = make_optimizer(model, steps)
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
        for tokens, lengths, labels in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(tokens, lengths), labels)
            loss.backward()
            nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            lrs.append(scheduler.get_last_lr()[0])
        if epoch == 1:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict()}, checkpoint)
    model.eval()
    with torch.no_grad():
        tokens, lengths, labels = next(iter(loader))
        logits = model(tokens, lengths)
    return {"loss": losses, "lr": lrs, "logits": logits, "params": model.state_dict()}


if __name__ == "__main__":
    print(main())
