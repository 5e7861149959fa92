"""The layer classes of flambeau.nn, one module per family."""
from flambeau.nn.modules.activation import *  # noqa: F403
from flambeau.nn.modules.adaptive import *  # noqa: F403
from flambeau.nn.modules.attention import *  # noqa: F403
from flambeau.nn.modules.container import *  # noqa: F403
from flambeau.nn.modules.conv import *  # noqa: F403
from flambeau.nn.modules.distance import *  # noqa: F403
from flambeau.nn.modules.dropout import *  # noqa: F403
from flambeau.nn.modules.flatten import *  # noqa: F403
from flambeau.nn.modules.fold import *  # noqa: F403
from flambeau.nn.modules.lazy import *  # noqa: F403
from flambeau.nn.modules.linear import *  # noqa: F403
from flambeau.nn.modules.loss import *  # noqa: F403
from flambeau.nn.modules.module import *  # noqa: F403
from flambeau.nn.modules.normalization import *  # noqa: F403
from flambeau.nn.modules.padding import *  # noqa: F403
from flambeau.nn.modules.pixelshuffle import *  # noqa: F403
from flambeau.nn.modules.pooling import *  # noqa: F403
from flambeau.nn.modules.rnn import *  # noqa: F403
from flambeau.nn.modules.sparse import *  # noqa: F403
from flambeau.nn.modules.sync_batchnorm import *  # noqa: F403
from flambeau.nn.modules.transformer import *  # noqa: F403
from flambeau.nn.modules.upsampling import *  # noqa: F403


def __getattr__(name):
    # flambeau.nn.modules.utils (torch.nn.modules.utils._pair...) is imported on first access:
    # imported above, flambeau.nn's `from flambeau.nn.modules import *` would take it for
    # flambeau.nn.utils
    if name == "utils":
        import importlib

        return importlib.import_module("flambeau.nn.modules.utils")
    raise AttributeError(f"module 'flambeau.nn.modules' has no attribute {name!r}")
