"""Mixed precision on the CPU: the forward pass under torch.autocast("cpu", bfloat16), the
loss in float32, a GradScaler (disabled on the CPU, as scripts written for both devices
leave it), and SGD with momentum and weight decay; the model stays in float32."""

import numpy as np
import torch
import torch.nn as nn
from _common import init_from_numpy


class MLP(nn.Module):
    def __init__(self):
        super(MLP, self).__init__()
        self.net = nn.Sequential(nn.Linear(16, 64), nn.GELU(), nn.LayerNorm(64),
                                 nn.Linear(64, 64), nn.SiLU(), nn.Linear(64, 4))

    def forward(self, x):
        return self.net(x)


def main(steps=6):
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(steps, 32, 16)).astype(np.float32))
    w = torch.from_numpy(rng.normal(size=(16, 4)).astype(np.float32))
    device = "cpu"
    model = init_from_numpy(MLP()).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    scaler = torch.amp.GradScaler(device, enabled=(device == "cuda"))
    losses, dtypes = [], []
    for step in range(steps):
        inputs, targets = x[step], torch.tanh(x[step] @ w)
        optimizer.zero_grad()
        with torch.autocast(device_type=device, dtype=torch.bfloat16):
            output = model(inputs)
        dtypes.append(str(output.dtype).split(".")[-1])
        loss = nn.functional.mse_loss(output.float(), targets)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        losses.append(loss.item())
    return {"loss": losses, "output_dtype": dtypes, "params": model.state_dict()}


if __name__ == "__main__":
    print(main())
