"""``torch.nn.DataParallel``'s spelling, for scripts that wrap their model in it."""

from __future__ import annotations

import warnings

import flambeau
from flambeau.nn.modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


def _to_device(obj, device):
    """``obj`` with every tensor in it (nested tuples, lists, dicts) moved to ``device``."""
    if isinstance(obj, flambeau.Tensor):
        return obj.to(device)
    if isinstance(obj, (tuple, list)):
        return type(obj)(_to_device(o, device) for o in obj)
    if isinstance(obj, dict):
        return {k: _to_device(v, device) for k, v in obj.items()}
    return obj


def _index(device):
    if isinstance(device, int):
        return device
    return flambeau.device(device).index or 0


class DataParallel(Module):
    """Runs ``module`` on the inputs as ``torch.nn.DataParallel`` would on one device.

    Without a CUDA device it calls ``module`` directly (``device_ids`` is ``[]``), as PyTorch
    does. With CUDA devices, the module's parameters and buffers must be on
    ``device_ids[0]``; inputs are moved there and the output to ``output_device``.
    flambeau does not replicate the module over several GPUs in one process: with more than
    one device id the whole batch runs on ``device_ids[0]`` (a warning says so; the results
    are those of one large batch). Use :class:`flambeau.nn.parallel.DistributedDataParallel`
    (one process per device) to train on several devices.

    The wrapped module is the submodule ``module``, so state dict keys gain the prefix
    ``"module."``, as in PyTorch.

    Parameters
    ----------
    module : Module
        The module to run.
    device_ids : sequence of int or device, optional
        CUDA devices; all visible ones by default.
    output_device : int or device, optional
        Where the output goes; ``device_ids[0]`` by default.
    dim : int
        The batch dimension (kept for PyTorch's signature; no scattering happens).

    Raises
    ------
    RuntimeError
        When called with parameters or buffers on another device than ``device_ids[0]``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> model = nn.DataParallel(nn.Linear(2, 3))
    >>> model(flambeau.ones(4, 2)).shape
    flambeau.Size([4, 3])
    >>> list(model.state_dict())
    ['module.weight', 'module.bias']
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        if not flambeau.cuda.is_available():
            self.device_ids = []
            return
        if device_ids is None:
            device_ids = list(range(flambeau.cuda.device_count()))
        self.device_ids = [_index(d) for d in device_ids]
        if not self.device_ids:
            return
        self.output_device = _index(output_device if output_device is not None
                                    else self.device_ids[0])
        self.dim = dim
        self.src_device_obj = flambeau.device("cuda", self.device_ids[0])
        if len(self.device_ids) > 1:
            warnings.warn(
                f"DataParallel: flambeau runs the whole batch on {self.src_device_obj} and "
                f"does not replicate the module over devices {self.device_ids}; use "
                "DistributedDataParallel (one process per device) to use them all",
                stacklevel=2,
            )

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        for t in (*self.module.parameters(), *self.module.buffers()):
            if t.device != self.src_device_obj:
                raise RuntimeError(
                    f"DataParallel: module must have its parameters and buffers on device "
                    f"{self.src_device_obj} (device_ids[0]) but found one of them on device: "
                    f"{t.device}"
                )
        out = self.module(*_to_device(inputs, self.src_device_obj),
                          **_to_device(kwargs, self.src_device_obj))
        if self.output_device != self.device_ids[0]:
            out = _to_device(out, flambeau.device("cuda", self.output_device))
        return out


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0,
                  module_kwargs=None):
    """The functional form of :class:`DataParallel`: ``module(*inputs, **module_kwargs)``.

    ``inputs`` is a tuple of positional arguments (or one tensor). As in PyTorch, a device
    is required: without CUDA this raises ``RuntimeError``. With CUDA the call runs as
    :class:`DataParallel`'s forward (on ``device_ids[0]``, the output on ``output_device``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.nn.parallel import data_parallel
    >>> try:
    ...     out = data_parallel(nn.Linear(2, 3), flambeau.ones(4, 2))
    ... except RuntimeError as e:  # no CUDA device here
    ...     out = None
    """
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    if not flambeau.cuda.is_available():
        raise RuntimeError("data_parallel: device type could not be determined (no CUDA "
                           "device is available; call the module directly)")
    wrapper = DataParallel(module, device_ids, output_device, dim)
    return wrapper(*inputs, **(module_kwargs or {}))
