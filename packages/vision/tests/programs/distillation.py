"""Knowledge distillation and metric learning on 1-d signals: a frozen teacher in eval mode
(BatchNorm1d running statistics), a student of dilated causal Conv1d blocks (F.pad on the
left) with weight normalisation, a loss of KL divergence at temperature T (batchmean, times
T^2) plus cross-entropy plus a triplet margin loss on normalised embeddings, a frozen first
layer (requires_grad_(False), filter), two parameter groups under MultiStepLR, and a
nearest-centroid evaluation through torch.cdist."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from _common import blobs, init_from_numpy
from torch.nn.utils.parametrizations import weight_norm


class Teacher(nn.Module):
    def __init__(self, classes):
        super(Teacher, self).__init__()
        self.features = nn.Sequential(nn.Conv1d(1, 16, 5, padding=2), nn.BatchNorm1d(16),
                                      nn.ReLU(), nn.AdaptiveMaxPool1d(1), nn.Flatten())
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        return self.fc(self.features(x))


class CausalBlock(nn.Module):
    def __init__(self, channels_in, channels_out, dilation):
        super(CausalBlock, self).__init__()
        self.pad = 2 * dilation
        self.conv = weight_norm(nn.Conv1d(channels_in, channels_out, 3, dilation=dilation))
        self.skip = nn.Conv1d(channels_in, channels_out, 1) if channels_in != channels_out \
            else nn.Identity()

    def forward(self, x):
        return F.relu(self.conv(F.pad(x, (self.pad, 0)))) + self.skip(x)


class Student(nn.Module):
    def __init__(self, classes):
        super(Student, self).__init__()
        self.blocks = nn.Sequential(CausalBlock(1, 8, 1), CausalBlock(8, 8, 2),
                                    CausalBlock(8, 8, 4))
        self.fc = nn.Linear(8, classes)

    def embed(self, x):
        return F.normalize(self.blocks(x).mean(-1), dim=1)

    def forward(self, x):
        embedding = self.embed(x)
        return self.fc(embedding), embedding


def main(steps=6, T=4.0, alpha=0.7, classes=4):
    signals, labels = blobs(steps * 12 + 16, (1, 24), classes=classes, seed=0)
    x, y = torch.from_numpy(signals), torch.from_numpy(labels)
    teacher = init_from_numpy(Teacher(classes), seed=1)
    with torch.no_grad():  # give the teacher's BatchNorm some running statistics
        teacher.train()
        teacher(x)
    teacher.eval()
    student = init_from_numpy(Student(classes), seed=2)
    student.blocks[0].requires_grad_(False)  # the first block stays as initialised
    trainable = filter(lambda p: p.requires_grad, student.parameters())
    head = set(student.fc.parameters())
    optimizer = torch.optim.SGD([
        {"params": [p for p in trainable if p not in head]},
        {"params": student.fc.parameters(), "lr": 0.2},
    ], lr=0.05, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[2, 4], gamma=0.5)
    triplet = nn.TripletMarginLoss(margin=0.5)
    losses = []
    for step in range(steps):
        data, target = x[step * 12:step * 12 + 12], y[step * 12:step * 12 + 12]
        with torch.no_grad():
            teacher_logits = teacher(data)
        logits, embedding = student(data)
        distill = F.kl_div(F.log_softmax(logits / T, dim=1), F.softmax(teacher_logits / T, dim=1),
                           reduction="batchmean") * T * T
        anchor, positive, negative = embedding[0:4], embedding[4:8], embedding[8:12]
        loss = alpha * distill + (1 - alpha) * F.cross_entropy(logits, target) \
            + triplet(anchor, positive, negative)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append([distill.item(), loss.item()])
    with torch.no_grad():
        train_embedding = student.embed(x[:-16])
        centroids = torch.stack([train_embedding[y[:-16] == c].mean(0) for c in range(classes)])
        distances = torch.cdist(student.embed(x[-16:]), centroids)
    return {"loss": losses, "distances": distances, "nearest": distances.argmin(1),
            "lr": [group["lr"] for group in optimizer.param_groups],
            "student": student.state_dict()}


if __name__ == "__main__":
    print(main())
