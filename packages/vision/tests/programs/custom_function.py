"""Extending autograd and peeking inside a model: a torch.autograd.Function with
ctx.save_for_backward, a forward hook recording activations, a tensor hook scaling a
gradient, activation checkpointing of one block, gradient accumulation over micro-batches,
and RMSprop with an exponential learning-rate decay."""

import numpy as np
import torch
import torch.nn as nn
from _common import init_from_numpy
from torch.utils.checkpoint import checkpoint


class SoftClamp(torch.autograd.Function):
    """x / (1 + |x|), with its derivative 1 / (1 + |x|)^2 written by hand."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input / (1 + input.abs())

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output / (1 + input.abs()) ** 2


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.block = nn.Sequential(nn.Linear(6, 24), nn.Tanh(), nn.Linear(24, 24))
        self.head = nn.Linear(24, 1)

    def forward(self, x):
        h = checkpoint(self.block, x, use_reentrant=False)
        h = SoftClamp.apply(h)
        if h.requires_grad:
            h.register_hook(lambda grad: grad * 0.5)  # damp the gradient into the block
        return self.head(h)


def main(steps=5, accumulation=3):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(steps * accumulation * 8, 6)).astype(np.float32)
    y = np.sin(x[:, :1]) + 0.5 * x[:, 1:2] * x[:, 2:3]
    x, y = torch.from_numpy(x), torch.from_numpy(y.astype(np.float32))

    model = init_from_numpy(Net())
    activations = []
    handle = model.block.register_forward_hook(
        lambda module, inputs, output: activations.append(output.detach().abs().mean().item()))
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-2, alpha=0.9)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    loss_fn = nn.MSELoss()
    losses = []
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        total = 0.0
        for micro in range(accumulation):
            start = (step * accumulation + micro) * 8
            loss = loss_fn(model(x[start:start + 8]), y[start:start + 8]) / accumulation
            loss.backward()
            total += loss.item()
        optimizer.step()
        scheduler.step()
        losses.append(total)
    handle.remove()

    # the hand-written backward against autograd's own derivative
    probe = torch.linspace(-3, 3, 7, requires_grad=True)
    (grad_custom,) = torch.autograd.grad(SoftClamp.apply(probe).sum(), probe)
    (grad_auto,) = torch.autograd.grad((probe / (1 + probe.abs())).sum(), probe)
    return {"loss": losses, "activations": activations, "grad_custom": grad_custom,
            "grad_auto": grad_auto, "params": model.state_dict()}


if __name__ == "__main__":
    print(main())
