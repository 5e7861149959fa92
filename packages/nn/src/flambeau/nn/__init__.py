"""flambeau.nn: modules, layers, losses, functional and init, as torch.nn.

Examples
--------
>>> import flambeau
>>> from flambeau import nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> model(flambeau.randn(3, 4)).shape
flambeau.Size([3, 2])
"""

from flambeau.nn import functional, init, modules, parallel, utils  # noqa: F401
from flambeau.nn import parameter as _parameter
from flambeau.nn._factory import factory_kwargs
from flambeau.nn.modules import *  # noqa: F403
from flambeau.nn.parallel import DataParallel
from flambeau.nn.parameter import *  # noqa: F403

__all__ = sorted(set(modules.__all__ if hasattr(modules, "__all__") else []) | set(
    n for m in (modules.activation, modules.attention, modules.container, modules.conv,
                modules.adaptive, modules.distance,
                modules.dropout, modules.flatten, modules.fold, modules.lazy, modules.linear,
                modules.loss, modules.module, modules.normalization, modules.padding,
                modules.pixelshuffle, modules.pooling, modules.rnn, modules.sparse,
                modules.sync_batchnorm,
                modules.transformer,
                modules.upsampling, _parameter) for n in m.__all__)
                 | {"DataParallel", "factory_kwargs"})
