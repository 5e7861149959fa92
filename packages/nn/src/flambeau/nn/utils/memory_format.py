"""Convert the weights of convolutions to a memory format (``torch.nn.utils``'s helpers).

flambeau keeps tensors in C order whatever their memory format (see
:data:`flambeau.channels_last`), so these conversions change no values and no layout; they
exist so that PyTorch code that calls them runs unchanged.
"""

from __future__ import annotations

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def _convert(module, kinds, memory_format):
    from flambeau import nn

    types = tuple(getattr(nn, kind) for kind in kinds)
    for sub in module.modules():
        if isinstance(sub, types):
            sub.weight.data = sub.weight.detach().clone().contiguous(memory_format=memory_format)
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    """Give the weights of every ``Conv2d``/``ConvTranspose2d`` in ``module`` (itself
    included) the memory format ``memory_format``; returns ``module``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
    >>> nn.utils.convert_conv2d_weight_memory_format(net, flambeau.channels_last) is net
    True
    """
    return _convert(module, ("Conv2d", "ConvTranspose2d"), memory_format)


def convert_conv3d_weight_memory_format(module, memory_format):
    """Give the weights of every ``Conv3d``/``ConvTranspose3d`` in ``module`` (itself
    included) the memory format ``memory_format``; returns ``module``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> conv = nn.Conv3d(1, 2, 3)
    >>> nn.utils.convert_conv3d_weight_memory_format(conv, flambeau.channels_last_3d) is conv
    True
    """
    return _convert(module, ("Conv3d", "ConvTranspose3d"), memory_format)
