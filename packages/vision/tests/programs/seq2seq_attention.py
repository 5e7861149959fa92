"""Sequence to sequence with attention (the style of the translation tutorial): a GRU
encoder, a decoder with additive (Bahdanau) attention over the encoder outputs, masked_fill
on padding, teacher forcing on some batches, NLLLoss with ignore_index, and greedy decoding.
The task: reverse a sequence of tokens."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from _common import init_from_numpy
from torch import optim

PAD, SOS, EOS = 0, 1, 2


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size):
        super(EncoderRNN, self).__init__()
        self.embedding = nn.Embedding(input_size, hidden_size, padding_idx=PAD)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)

    def forward(self, input):
        output, hidden = self.gru(self.embedding(input))
        return output, hidden


class BahdanauAttention(nn.Module):
    def __init__(self, hidden_size):
        super(BahdanauAttention, self).__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        # no bias: it would shift every score alike, which softmax ignores (its gradient is
        # rounding noise, which Adam turns into steps of size lr)
        self.Va = nn.Linear(hidden_size, 1, bias=False)

    def forward(self, query, keys, mask):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys))).squeeze(2).unsqueeze(1)
        scores = scores.masked_fill(mask.unsqueeze(1), float("-inf"))
        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights, keys)
        return context, weights


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size):
        super(AttnDecoderRNN, self).__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)

    def forward_step(self, input, hidden, encoder_outputs, mask):
        embedded = self.embedding(input)
        query = hidden.permute(1, 0, 2)
        context, attn_weights = self.attention(query, encoder_outputs, mask)
        output, hidden = self.gru(torch.cat((embedded, context), dim=2), hidden)
        return self.out(output), hidden, attn_weights

    def forward(self, encoder_outputs, encoder_hidden, mask, max_len, target_tensor=None):
        batch_size = encoder_outputs.size(0)
        decoder_input = torch.empty(batch_size, 1, dtype=torch.long).fill_(SOS)
        decoder_hidden = encoder_hidden
        decoder_outputs, attentions = [], []
        for i in range(max_len):
            decoder_output, decoder_hidden, attn_weights = self.forward_step(
                decoder_input, decoder_hidden, encoder_outputs, mask)
            decoder_outputs.append(decoder_output)
            attentions.append(attn_weights)
            if target_tensor is not None:
                decoder_input = target_tensor[:, i].unsqueeze(1)  # Teacher forcing
            else:
                _, topi = decoder_output.topk(1)
                decoder_input = topi.squeeze(-1).detach()  # its own prediction as next input
        decoder_outputs = F.log_softmax(torch.cat(decoder_outputs, dim=1), dim=-1)
        return decoder_outputs, decoder_hidden, torch.cat(attentions, dim=1)


def make_pairs(rng, n, vocab=10, max_len=6):
    inputs = np.full((n, max_len), PAD, dtype=np.int64)
    targets = np.full((n, max_len + 1), PAD, dtype=np.int64)
    for i in range(n):
        length = rng.integers(2, max_len + 1)
        tokens = rng.integers(3, vocab, size=length)
        inputs[i, :length] = tokens
        targets[i, :length] = tokens[::-1]
        targets[i, length] = EOS
    return torch.from_numpy(inputs), torch.from_numpy(targets)


def main(steps=8, hidden_size=16, vocab=10):
    rng = np.random.default_rng(0)
    inputs, targets = make_pairs(rng, 8 * steps + 4, vocab)
    encoder = init_from_numpy(EncoderRNN(vocab, hidden_size), seed=0)
    decoder = init_from_numpy(AttnDecoderRNN(hidden_size, vocab), seed=1)
    encoder_optimizer = optim.Adam(encoder.parameters(), lr=0.01)
    decoder_optimizer = optim.Adam(decoder.parameters(), lr=0.01)
    criterion = nn.NLLLoss(ignore_index=PAD)
    losses = []
    for step in range(steps):
        input_tensor = inputs[step * 8:step * 8 + 8]
        target_tensor = targets[step * 8:step * 8 + 8]
        encoder_optimizer.zero_grad()
        decoder_optimizer.zero_grad()
        encoder_outputs, encoder_hidden = encoder(input_tensor)
        teacher = target_tensor if step % 2 == 0 else None
        decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden, input_tensor == PAD,
                                        target_tensor.size(1), teacher)
        loss = criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)),
                         target_tensor.view(-1))
        loss.backward()
        encoder_optimizer.step()
        decoder_optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        encoder_outputs, encoder_hidden = encoder(inputs[-4:])
        decoder_outputs, _, attentions = decoder(encoder_outputs, encoder_hidden,
                                                 inputs[-4:] == PAD, targets.size(1))
    return {"loss": losses, "decoded": decoder_outputs.argmax(-1), "attention": attentions,
            "encoder": encoder.state_dict(), "decoder": decoder.state_dict()}


if __name__ == "__main__":
    print(main())
