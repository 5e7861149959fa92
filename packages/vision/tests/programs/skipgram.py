"""Word2vec skip-gram with negative sampling: two nn.Embedding tables with sparse=True
trained by SparseAdam, scores through torch.bmm, F.logsigmoid losses, negatives drawn from a
unigram^0.75 table (with NumPy), and nearest neighbours by cosine similarity. The context
windows are also counted into a sparse co-occurrence matrix (torch.sparse_coo_tensor from an
edge list, coalesce, torch.sparse.mm)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from _common import init_from_numpy


class SkipGramModel(nn.Module):
    def __init__(self, vocab_size, emb_dimension):
        super(SkipGramModel, self).__init__()
        self.u_embeddings = nn.Embedding(vocab_size, emb_dimension, sparse=True)
        self.v_embeddings = nn.Embedding(vocab_size, emb_dimension, sparse=True)

    def forward(self, pos_u, pos_v, neg_v):
        emb_u = self.u_embeddings(pos_u)
        emb_v = self.v_embeddings(pos_v)
        emb_neg_v = self.v_embeddings(neg_v)

        score = torch.sum(torch.mul(emb_u, emb_v), dim=1)
        score = torch.clamp(score, max=10, min=-10)
        score = -F.logsigmoid(score)

        neg_score = torch.bmm(emb_neg_v, emb_u.unsqueeze(2)).squeeze()
        neg_score = torch.clamp(neg_score, max=10, min=-10)
        neg_score = -torch.sum(F.logsigmoid(-neg_score), dim=1)
        return torch.mean(score + neg_score)


def corpus(rng, vocab_size, length):
    """Tokens in topics: each stretch of 8 tokens comes from one of four groups of words."""
    groups = np.arange(vocab_size).reshape(4, -1)
    topics = rng.integers(0, 4, size=length // 8)
    return np.concatenate([rng.choice(groups[t], size=8) for t in topics])


def main(steps=8, vocab_size=24, dim=8, window=2, negatives=3):
    rng = np.random.default_rng(0)
    tokens = corpus(rng, vocab_size, 400)
    pairs = np.array([(tokens[i], tokens[j]) for i in range(len(tokens))
                      for j in range(max(0, i - window), min(len(tokens), i + window + 1))
                      if i != j])
    counts = np.bincount(tokens, minlength=vocab_size) ** 0.75
    unigram = counts / counts.sum()

    edges = torch.from_numpy(pairs.T.copy())
    cooccurrence = torch.sparse_coo_tensor(edges, torch.ones(edges.size(1)),
                                           (vocab_size, vocab_size)).coalesce()
    topic_of = torch.from_numpy(np.eye(4, dtype=np.float32).repeat(vocab_size // 4, axis=0))
    topic_counts = torch.sparse.mm(cooccurrence, topic_of)

    model = init_from_numpy(SkipGramModel(vocab_size, dim))
    optimizer = torch.optim.SparseAdam(list(model.parameters()), lr=0.05)
    losses = []
    for step in range(steps):
        batch = pairs[rng.integers(0, len(pairs), size=32)]
        neg = rng.choice(vocab_size, size=(32, negatives), p=unigram)
        pos_u, pos_v = torch.from_numpy(batch[:, 0]), torch.from_numpy(batch[:, 1])
        optimizer.zero_grad()
        loss = model(pos_u, pos_v, torch.from_numpy(neg))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    with torch.no_grad():
        embeddings = F.normalize(model.u_embeddings.weight, dim=1)
        similarity = embeddings @ embeddings.t()
        similarity.fill_diagonal_(-1)
        nearest = similarity.argmax(dim=1)
    return {"loss": losses, "nearest": nearest, "similarity": similarity,
            "cooccurrence_nnz": cooccurrence._nnz(), "topic_counts": topic_counts,
            "grad_is_sparse": model.u_embeddings.weight.grad.is_sparse,
            "params": model.state_dict()}


if __name__ == "__main__":
    print(main())
