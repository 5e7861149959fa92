"""Word-level LSTM language model: batchify a token stream, truncated BPTT with
repackage_hidden, clip_grad_norm_, and the manual SGD update of the classic example,
``p.data.add_(p.grad, alpha=-lr)``, with the deprecated ``p.data.add_(-lr, p.grad)`` on
every other step (the form a silently wrong flambeau once got past ~22000 unit tests)."""

import math

import numpy as np
import torch
import torch.nn as nn
from _common import init_from_numpy


class RNNModel(nn.Module):
    def __init__(self, ntoken, ninp, nhid, nlayers, tie_weights=False):
        super(RNNModel, self).__init__()
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            self.decoder.weight = self.encoder.weight
        self.nhid = nhid
        self.nlayers = nlayers

    def forward(self, input, hidden):
        emb = self.encoder(input)
        output, hidden = self.rnn(emb, hidden)
        decoded = self.decoder(output).view(-1, self.decoder.out_features)
        return torch.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                weight.new_zeros(self.nlayers, bsz, self.nhid))


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    return data.view(bsz, -1).t().contiguous()


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].view(-1)
    return data, target


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    else:
        return tuple(repackage_hidden(v) for v in h)


def evaluate(model, data_source, criterion, bptt, eval_batch_size):
    model.eval()
    total_loss = 0.
    ntokens = model.decoder.out_features
    hidden = model.init_hidden(eval_batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i, bptt)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output.view(-1, ntokens), targets).item()
    return total_loss / (len(data_source) - 1)


def main(epochs=2, lr=5.0, clip=0.25, bptt=7):
    rng = np.random.default_rng(0)
    ntokens = 30
    # a stream with structure: each token mostly predicts the next one
    stream = [0]
    for _ in range(400):
        stream.append((stream[-1] * 7 + 3) % ntokens if rng.random() < 0.8
                      else int(rng.integers(ntokens)))
    corpus = torch.tensor(stream, dtype=torch.long)
    train_data = batchify(corpus[:320], 4)
    val_data = batchify(corpus[320:], 2)

    model = init_from_numpy(RNNModel(ntokens, 16, 24, 2, tie_weights=False))
    criterion = nn.NLLLoss()
    losses, val_losses, norms = [], [], []
    step = 0
    for epoch in range(1, epochs + 1):
        model.train()
        hidden = model.init_hidden(4)
        for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
            data, targets = get_batch(train_data, i, bptt)
            hidden = repackage_hidden(hidden)
            model.zero_grad()
            output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), clip).item())
            for p in model.parameters():
                if step % 2 == 0:
                    p.data.add_(p.grad, alpha=-lr)
                else:
                    p.data.add_(-lr, p.grad)
            step += 1
            losses.append(loss.item())
        val_loss = evaluate(model, val_data, criterion, bptt, 2)
        val_losses.append(val_loss)
        lr /= 4.0
    return {"loss": losses, "grad_norm": norms, "val_loss": val_losses,
            "val_ppl": [math.exp(v) for v in val_losses], "params": model.state_dict()}


if __name__ == "__main__":
    print(main())
