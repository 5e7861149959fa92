"""Graph convolutional network (Kipf & Welling): symmetric normalisation D^-1/2 (A + I)
D^-1/2 of the adjacency, a GraphConv layer of our own with nn.Parameter weights that takes
the adjacency dense (torch.mm) or as a sparse COO tensor (torch.spmm), a dropout-free
two-layer model, nll_loss on a train mask, Adam with weight decay, accuracy on a test mask.
It trains once with each form of the adjacency."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from _common import init_from_numpy
from torch.optim import Adam


class GraphConv(nn.Module):
    def __init__(self, input_dim, output_dim, use_bias=True):
        super(GraphConv, self).__init__()
        self.kernel = nn.Parameter(torch.empty(input_dim, output_dim))
        nn.init.xavier_normal_(self.kernel)
        self.bias = nn.Parameter(torch.zeros(output_dim)) if use_bias else None

    def forward(self, input_tensor, adj_mat):
        support = torch.mm(input_tensor, self.kernel)
        if adj_mat.is_sparse:
            output = torch.spmm(adj_mat, support)
        else:
            output = torch.mm(adj_mat, support)
        if self.bias is not None:
            output = output + self.bias
        return output


class GCN(nn.Module):
    def __init__(self, input_dim, hidden_dim, output_dim):
        super(GCN, self).__init__()
        self.gc1 = GraphConv(input_dim, hidden_dim)
        self.gc2 = GraphConv(hidden_dim, output_dim)

    def forward(self, x, adj):
        x = F.relu(self.gc1(x, adj))
        x = self.gc2(x, adj)
        return F.log_softmax(x, dim=1)


def normalized_adjacency(edges, num_nodes):
    adj = torch.zeros(num_nodes, num_nodes)
    adj[edges[:, 0], edges[:, 1]] = 1.0
    adj = torch.max(adj, adj.t()) + torch.eye(num_nodes)
    deg_inv_sqrt = adj.sum(1).pow(-0.5)
    deg_inv_sqrt[torch.isinf(deg_inv_sqrt)] = 0.0
    return deg_inv_sqrt.unsqueeze(1) * adj * deg_inv_sqrt.unsqueeze(0)


def main(epochs=10):
    rng = np.random.default_rng(0)
    num_nodes, num_features, num_classes = 40, 12, 3
    labels = rng.integers(0, num_classes, num_nodes)
    # edges mostly within a class, so that the graph says something about the labels
    pairs = rng.integers(0, num_nodes, size=(300, 2))
    same = labels[pairs[:, 0]] == labels[pairs[:, 1]]
    edges = torch.from_numpy(pairs[same | (rng.random(300) < 0.1)])
    features = rng.normal(size=(num_nodes, num_features)) + np.eye(num_classes,
                                                                   num_features)[labels]
    features = torch.from_numpy(features.astype(np.float32))
    features = features / features.norm(dim=1, keepdim=True)
    labels = torch.from_numpy(labels)
    idx_train = torch.arange(0, 20)
    idx_test = torch.arange(20, 40)

    adj = normalized_adjacency(edges, num_nodes)
    records = {"adjacency": adj}
    # the same training with the adjacency dense, then as a sparse COO tensor
    for kind, adj_mat in (("dense", adj), ("sparse", adj.to_sparse())):
        model = init_from_numpy(GCN(num_features, 16, num_classes))
        optimizer = Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
        losses, test_acc = [], []
        for epoch in range(epochs):
            model.train()
            optimizer.zero_grad()
            output = model(features, adj_mat)
            loss = F.nll_loss(output[idx_train], labels[idx_train])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            model.eval()
            with torch.no_grad():
                output = model(features, adj_mat)
                pred = output[idx_test].max(1)[1]
                test_acc.append(pred.eq(labels[idx_test]).double().mean().item())
        records[kind] = {"is_sparse": adj_mat.is_sparse, "loss": losses,
                         "test_accuracy": test_acc, "params": model.state_dict()}
    records["sparse_nnz"] = adj.to_sparse()._nnz()
    return records


if __name__ == "__main__":
    print(main())
