"""Flatten parameters into one vector and back."""

from __future__ import annotations

import flambeau
from flambeau import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_devices(tensors, op):
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        raise TypeError(f"{op}: found two parameters on different devices, this is currently "
                        f"not supported ({sorted(str(d) for d in devices)})")


def parameters_to_vector(parameters):
    """Concatenate the flattened parameters into one 1-D tensor (differentiable).

    Examples
    --------
    >>> from flambeau import nn
    >>> nn.utils.parameters_to_vector(nn.Linear(3, 2).parameters()).shape
    flambeau.Size([8])
    """
    params = list(parameters)
    _check_devices(params, "parameters_to_vector")
    return flambeau.cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D ``vec`` into the parameters (in place).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> m = nn.Linear(3, 2)
    >>> nn.utils.vector_to_parameters(flambeau.zeros(8), m.parameters())
    >>> m.bias
    Parameter containing:
    tensor([0., 0.], requires_grad=True)
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    _check_devices(params + [vec], "vector_to_parameters")
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise RuntimeError(f"vector_to_parameters: vec has shape {tuple(vec.shape)}, expected "
                           f"({total},) for parameters of total size {total}")
    offset = 0
    with flambeau.no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec[offset:offset + n].reshape(p.shape))
            offset += n
